"""The Models dialog and switching the window's model, on a fake engine."""

from __future__ import annotations

import os
import shutil
import threading
from collections import namedtuple
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from copilot.contact import Role
from copilot.errors import ModelError
from copilot.model import store as model_store
from copilot.model.engine import EngineState
from copilot.model.files import ModelInfo, bundled_model_path, inspect_model, resolve_model_path
from copilot.model.store import add_model, models_dir
from copilot.settings import require_settings
from tests.fakes import FakeEngine
from tests.gguf_fixtures import write_gguf
from ui.dialogs.models import ACTIVE_MARK, NOT_CHANGED, SUGGESTIONS_OFF, human_size
from ui.window.actions import SHORTCUTS

BUNDLED = bundled_model_path()


class SwitchingEngine(FakeEngine):
    """A fake engine that loads whichever file its settings name, and can fail on some."""

    def __init__(self, *args, broken: set[Path] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.settings = None
        self.broken = broken or set()
        self.use_calls: list[Path | None] = []

    def use_file(self, model_path: Path | None) -> None:
        with self.lock:
            self.use_calls.append(model_path)
            self.settings.model_path = model_path
            self.state, self.info, self.error = EngineState.NOT_LOADED, None, None

    def load(self) -> ModelInfo:
        if self.state is EngineState.READY and self.info is not None:
            return self.info
        self.state = EngineState.LOADING
        path = resolve_model_path(self.settings.model_path)
        if path in self.broken:
            self.error = ModelError(f"llama.cpp could not load the model file {path} (bad).")
            self.state = EngineState.FAILED
            raise self.error
        self.info = inspect_model(path)
        self.state = EngineState.READY
        return self.info


@pytest.fixture
def window_on(qtbot, make_window):
    def make(engine: SwitchingEngine | None = None):
        engine = engine or SwitchingEngine()
        window = make_window(engine, load=False)
        engine.settings = window.runtime.settings
        with qtbot.waitSignal(window.model_state_changed, timeout=5000) as blocker:
            window.start_model_load()
        assert blocker.args == ["ready"]
        return window

    return make


def texts(dialog, row: int) -> list[str]:
    return [dialog.table.item(row, c).text() for c in range(dialog.table.columnCount())]


def row_of(dialog, name: str) -> int:
    return next(i for i, e in enumerate(dialog.entries) if e.name == name)


def test_the_shortcut_is_listed_once(qtbot):
    keys = [k for k, _ in SHORTCUTS]
    assert "Ctrl+Shift+M" in keys and len(keys) == len(set(keys))


def test_the_table_shows_size_quantisation_source_and_the_active_model(
    qtbot, window_on, tmp_path: Path
):
    settings = require_settings()
    add_model(settings, write_gguf(tmp_path / "tiny-Q4_K_M.gguf"))
    linked = write_gguf(tmp_path / "shared-llama.gguf", architecture="llama", file_type=7)
    add_model(settings, linked, link=True)
    gone = add_model(settings, write_gguf(tmp_path / "gone.gguf"))
    gone.file.unlink()
    window = window_on()
    qtbot.keyClick(
        window,
        Qt.Key.Key_M,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = window.findChild(object, "modelsDialog")
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    assert dialog.table.hasFocus()
    assert [e.name for e in dialog.entries] == [BUNDLED.stem, "tiny-Q4_K_M", "shared-llama", "gone"]
    bundled = texts(dialog, 0)
    assert bundled == [
        f"{ACTIVE_MARK} {BUNDLED.stem}",
        human_size(BUNDLED.stat().st_size),
        "Q4_1",
        "llama",
        "bundled",
    ]
    assert bundled[1] == "98 MB" and dialog.table.item(0, 0).font().bold()
    assert "In use" in dialog.status.text() and BUNDLED.stem in dialog.status.text()
    assert texts(dialog, 1) == ["tiny-Q4_K_M", "4 KB", "Q4_K_M", "qwen2", "added"]
    assert texts(dialog, 2)[2:] == ["Q8_0", "llama", "linked"]
    assert str(linked) in dialog.table.item(2, 4).toolTip()
    missing = texts(dialog, 3)
    assert missing[4] == "missing" and dialog.table.item(3, 0).font().italic()
    # the active model is selected; it cannot be "used" again
    assert dialog.selected().name == BUNDLED.stem and not dialog.use_button.isEnabled()

    qtbot.keyClick(dialog.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)  # last
    assert dialog.selected().name == "gone"
    assert not dialog.use_button.isEnabled()
    assert "missing" in dialog.details.text() and "Add model" in dialog.details.text()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    assert "missing" in dialog.message.text() and dialog.message.isVisible()
    assert window.runtime.engine.use_calls == []
    qtbot.keyClick(dialog.table, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_bytes(os.urandom(4096)) and p, "is not a GGUF model"),
        (lambda p: p.write_bytes(write_gguf(p).read_bytes()[:120]) and p, "truncated"),
        (lambda p: write_gguf(p, architecture="bert"), "architecture 'bert'"),
        (lambda p: write_gguf(p, template=None), "no chat template"),
    ],
    ids=["garbage", "truncated", "unsupported-architecture", "no-chat-template"],
)
def test_a_bad_file_is_refused_with_what_to_do(qtbot, window_on, tmp_path: Path, make, expected):
    source = tmp_path / "candidate.gguf"
    make(source)
    window = window_on()
    dialog = window.open_models()
    rows = dialog.table.rowCount()
    dialog.add_file(source)
    qtbot.waitUntil(lambda: not dialog.adding, timeout=5000)
    text = dialog.message.text()
    assert dialog.message.isVisible() and expected in text and str(source) in text
    assert "Choose" in text  # says what to do
    assert "AGENT_COPILOT_MODEL_PATH" not in text  # the dialog's advice, not the settings'
    assert "fdecea" in dialog.message.styleSheet()  # shown as an error
    assert dialog.table.rowCount() == rows
    assert not models_dir(window.runtime.settings).exists()
    assert dialog.add_button.isEnabled() and not dialog.progress.isVisible()


def test_adding_copies_with_progress_and_lists_the_model(
    qtbot, window_on, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(model_store, "CHUNK_BYTES", 1024)
    source = write_gguf(tmp_path / "helper-7b.Q5_K_M.gguf", file_type=17, data_bytes=64 * 1024)
    window = window_on()
    dialog = window.open_models()
    steps: list[int] = []
    with qtbot.waitSignal(dialog.added, timeout=5000) as blocker:
        worker = dialog.add_file(source)
        worker.signals.item.connect(lambda _id, step: steps.append(step[0] * 1000 // step[1]))
    entry = blocker.args[0]
    assert entry.file.read_bytes() == source.read_bytes() and entry.origin == "added"
    assert steps == sorted(steps) and steps[-1] == 1000 and len(steps) > 10
    assert dialog.selected().name == "helper-7b.Q5_K_M"
    assert texts(dialog, row_of(dialog, "helper-7b.Q5_K_M"))[1:] == [
        "66 KB",
        "Q5_K_M",
        "qwen2",
        "added",
    ]
    assert "Added helper-7b.Q5_K_M" in dialog.message.text()
    assert dialog.use_button.isEnabled() and not dialog.progress.isVisible()


def test_adding_can_be_stopped_and_leaves_nothing(qtbot, window_on, tmp_path: Path, monkeypatch):
    source = write_gguf(tmp_path / "big.gguf", data_bytes=256 * 1024)
    monkeypatch.setattr(model_store, "CHUNK_BYTES", 1024)
    gate = threading.Event()
    real_check = model_store._check_free_space

    def held(folder: Path, size: int) -> None:
        assert gate.wait(5)
        real_check(folder, size)

    monkeypatch.setattr(model_store, "_check_free_space", held)
    window = window_on()
    dialog = window.open_models()
    dialog.add_file(source)
    assert dialog.progress.isVisible() and dialog.stop_button.isVisible()
    assert not dialog.add_button.isEnabled()
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    gate.set()
    qtbot.waitUntil(lambda: not dialog.adding, timeout=5000)
    assert "stopped; nothing was left behind" in dialog.message.text()
    assert list(models_dir(window.runtime.settings).iterdir()) == []
    assert [e.name for e in dialog.entries] == [BUNDLED.stem]


def test_a_full_disk_is_explained_with_the_link_choice(
    qtbot, window_on, tmp_path: Path, monkeypatch
):
    source = write_gguf(tmp_path / "roomy.gguf")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 100, 100))
    window = window_on()
    dialog = window.open_models()
    dialog.add_file(source)
    qtbot.waitUntil(lambda: not dialog.adding, timeout=5000)
    text = dialog.message.text()
    assert "are free" in text and "Link to the file instead of copying it" in text
    assert "--link" not in text


def test_use_loads_the_model_in_the_running_window_and_saves_the_choice(
    qtbot, window_on, tmp_path: Path
):
    entry = add_model(require_settings(), write_gguf(tmp_path / "tiny-Q4_K_M.gguf"))
    window = window_on(SwitchingEngine([["Hi", " from", " tiny"]]))
    engine = window.runtime.engine
    dialog = window.open_models()
    dialog.select("tiny-Q4_K_M")
    assert dialog.use_button.isEnabled() and dialog.use_button.isDefault()
    with qtbot.waitSignal(window.model_state_changed, timeout=5000) as blocker:
        qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
        assert "Loading tiny-Q4_K_M" in dialog.message.text()
        assert not dialog.use_button.isEnabled()  # one switch at a time
    assert blocker.args == ["ready"]
    assert engine.use_calls == [entry.file]
    assert engine.info.path == entry.file
    assert window.model_label.text() == "tiny-Q4_K_M" and window.state_label.text() == "Ready"
    assert require_settings().model_path == entry.file  # saved once it loaded
    assert dialog.table.item(row_of(dialog, "tiny-Q4_K_M"), 0).text().startswith(ACTIVE_MARK)
    assert not dialog.table.item(0, 0).text().startswith(ACTIVE_MARK)
    assert "tiny-Q4_K_M is in use now" in dialog.message.text()

    window.add_message(Role.CUSTOMER, "Is my order on its way?")
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Hi from tiny", timeout=5000)

    rect = dialog.table.visualRect(dialog.table.model().index(0, 0))
    with qtbot.waitSignal(window.model_state_changed, timeout=5000):
        qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert engine.use_calls == [entry.file, None]
    assert engine.info.path == BUNDLED and require_settings().model_path is None
    assert dialog.selected().active and dialog.selected().origin == "bundled"


def test_the_suggestion_in_flight_stops_and_restarts_with_the_new_model(
    qtbot, window_on, tmp_path: Path
):
    add_model(require_settings(), write_gguf(tmp_path / "fresh.gguf"))
    engine = SwitchingEngine([[f" old{i}" for i in range(300)], ["New", " model"]], delay=0.01)
    window = window_on(engine)
    window.add_message(Role.CUSTOMER, "Where is my refund?")
    qtbot.waitUntil(lambda: "old3" in window.suggestion.current_text, timeout=5000)
    dialog = window.open_models()
    dialog.select("fresh")
    assert dialog.use_selected()
    qtbot.waitUntil(lambda: window.suggestion.current_text == "New model", timeout=5000)
    assert sum(1 for p in engine.emitted if p.startswith(" old")) < 300
    assert engine.info.path.name == "fresh.gguf"


def test_a_model_that_fails_to_load_gives_way_to_the_previous_one(qtbot, window_on, tmp_path: Path):
    entry = add_model(require_settings(), write_gguf(tmp_path / "broken-inside.gguf"))
    engine = SwitchingEngine([["Still", " here"]], broken={entry.file})
    window = window_on(engine)
    window.add_message(Role.CUSTOMER, "Hello?")
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Still here", timeout=5000)
    dialog = window.open_models()
    dialog.select("broken-inside")
    states: list[str] = []
    window.model_state_changed.connect(states.append)
    with qtbot.waitSignal(window.model_state_changed, timeout=5000):
        assert dialog.use_selected()
    assert states == ["ready"]  # the previous model, back; no "failed" in between
    assert engine.use_calls == [entry.file, None]
    assert engine.info.path == BUNDLED and window.runtime.settings.model_path is None
    assert require_settings().model_path is None  # the saved choice never changed
    banner = window.banner.text()
    assert NOT_CHANGED in banner and "broken-inside" in banner and "(bad)" in banner
    assert BUNDLED.stem in banner and SUGGESTIONS_OFF not in banner
    assert window.state_label.text() == "Ready"
    assert "(bad)" in dialog.message.text() and "fdecea" in dialog.message.styleSheet()
    assert dialog.entries[0].active and dialog.table.item(0, 0).text().startswith(ACTIVE_MARK)
    # the suggestion the agent had is still there, and the next one uses the old model
    assert window.suggestion.current_text == "Still here"
    window.add_message(Role.CUSTOMER, "Anyone?")
    qtbot.waitUntil(
        lambda: not window.suggestion.busy and window.suggestion.current_text == "Still here",
        timeout=5000,
    )


def test_a_model_that_stopped_loading_at_start_can_be_replaced(qtbot, make_window, tmp_path):
    """The configured file broke: the agent picks another one from the window."""
    good = add_model(require_settings(), write_gguf(tmp_path / "good.gguf"))
    engine = SwitchingEngine(broken={BUNDLED})
    window = make_window(engine, load=False)
    engine.settings = window.runtime.settings
    with qtbot.waitSignal(window.model_state_changed, timeout=5000) as blocker:
        window.start_model_load()
    assert blocker.args == ["failed"] and SUGGESTIONS_OFF in window.banner.text()
    dialog = window.open_models()
    assert "could not be loaded" in dialog.status.text()
    assert dialog.use_button.text() == "Try again" and dialog.use_button.isEnabled()
    dialog.select("good")
    with qtbot.waitSignal(window.model_state_changed, timeout=5000) as blocker:
        assert dialog.use_selected()
    assert blocker.args == ["ready"] and engine.info.path == good.file
    assert window.state_label.text() == "Ready"
    assert SUGGESTIONS_OFF not in window.banner.text()
    assert "Suggestions are off" not in window.suggestion.text.placeholderText()


def test_when_neither_model_loads_the_window_says_suggestions_are_off(
    qtbot, window_on, tmp_path: Path
):
    entry = add_model(require_settings(), write_gguf(tmp_path / "bad-too.gguf"))
    engine = SwitchingEngine()
    window = window_on(engine)
    engine.broken = {entry.file, BUNDLED}  # the bundled file broke after it was loaded
    dialog = window.open_models()
    dialog.select("bad-too")
    with qtbot.waitSignal(window.model_state_changed, timeout=5000) as blocker:
        assert dialog.use_selected()
    assert blocker.args == ["failed"]
    assert "neither could" in dialog.message.text() and "(bad)" in dialog.message.text()
    assert SUGGESTIONS_OFF in window.banner.text()
    assert window.state_label.text() == "Model unavailable"
    assert require_settings().model_path is None


def test_enter_on_the_model_in_use_says_so(qtbot, window_on):
    window = window_on()
    assert window.models_action in window.toolbar.actions()
    dialog = window.open_models()
    assert dialog.selected().active
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    assert "already in use" in dialog.message.text()
    assert window.runtime.engine.use_calls == []


def test_a_copy_goes_on_when_the_dialog_closes(qtbot, window_on, tmp_path: Path):
    source = write_gguf(tmp_path / "later.gguf", data_bytes=32 * 1024)
    window = window_on()
    dialog = window.open_models()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    with qtbot.waitSignal(dialog.added, timeout=5000):
        dialog.add_file(source)
        qtbot.keyClick(dialog.table, Qt.Key.Key_Escape)
        assert not dialog.isVisible()
    assert "Added the model “later”" in window.statusBar().currentMessage()
    assert window.open_models().selected().name == "later"
