"""Models in the real window on the real bundled GGUF: add a copy under another name,
switch to it and get a suggestion from it, switch back; a file llama.cpp refuses gives
way to the model that was loaded before."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from copilot.contact import Role
from copilot.model.files import bundled_model_path
from copilot.model.store import add_model, models_dir
from copilot.runtime import Runtime
from copilot.settings import Settings, require_settings
from tests.e2e.conftest import shown_and_loaded
from ui.app import create_window
from ui.dialogs.models import ACTIVE_MARK, NOT_CHANGED, SUGGESTIONS_OFF

BUNDLED = bundled_model_path()
QUESTION = "Hi, my parcel is late. Can you check where it is?"


@pytest.fixture
def window(qtbot):
    """The real window on its own engine (the session's stays on the bundled model)."""
    runtime = Runtime.create(Settings(active_profile="friendly"))
    shown = shown_and_loaded(qtbot, create_window(runtime))
    assert runtime.engine.info is not None and runtime.engine.info.path == BUNDLED
    yield shown
    shown.close()
    runtime.engine.close()


def suggest(qtbot, window, text: str) -> str:
    window.add_message(Role.CUSTOMER, text)
    qtbot.waitUntil(lambda: len(window.suggestion.current_text) > 0, timeout=60_000)
    qtbot.waitUntil(lambda: not window.suggestion.busy, timeout=60_000)
    return window.suggestion.current_text


def use_row(qtbot, window, dialog, name: str) -> list[str]:
    """Select ``name`` and press Enter in the table; the states the window went through."""
    assert dialog.select(name)
    states: list[str] = []
    window.model_state_changed.connect(states.append)
    with qtbot.waitSignal(window.model_state_changed, timeout=60_000):
        qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    window.model_state_changed.disconnect(states.append)
    return states


@pytest.mark.timeout(240)
def test_add_a_copy_switch_to_it_suggest_and_switch_back(qtbot, window, tmp_path: Path):
    engine = window.runtime.engine
    source = tmp_path / "support-smol.Q4_1.gguf"
    source.symlink_to(BUNDLED)  # the same model under another name
    dialog = window.open_models()
    assert [e.name for e in dialog.entries] == [BUNDLED.stem]
    steps: list[int] = []
    with qtbot.waitSignal(dialog.added, timeout=60_000) as blocker:
        worker = dialog.add_file(source)
        worker.signals.item.connect(lambda _id, step: steps.append(step[0] * 1000 // step[1]))
    entry = blocker.args[0]
    assert steps and steps[-1] == 1000  # progress reached the end
    assert entry.file == models_dir(window.runtime.settings) / source.name
    assert not entry.file.is_symlink() and entry.file.stat().st_size == BUNDLED.stat().st_size
    assert entry.sha256 == hashlib.sha256(BUNDLED.read_bytes()).hexdigest()
    row = [e.name for e in dialog.entries].index("support-smol.Q4_1")
    cells = [dialog.table.item(row, c).text() for c in range(5)]
    assert cells == ["support-smol.Q4_1", "98 MB", "Q4_1", "llama", "added"]
    assert dialog.selected() is not None and dialog.selected().name == "support-smol.Q4_1"

    assert use_row(qtbot, window, dialog, "support-smol.Q4_1") == ["ready"]
    assert engine.info.path == entry.file and engine.info.quantisation == "Q4_1"
    assert window.model_label.text() == "support-smol.Q4_1"
    assert window.state_label.text() == "Ready"
    assert require_settings().model_path == entry.file
    assert dialog.table.item(row, 0).text() == f"{ACTIVE_MARK} support-smol.Q4_1"

    text = suggest(qtbot, window, QUESTION)
    assert text.strip() and engine.info.path == entry.file
    assert window.speed_label.text().endswith("tok/s")
    assert dialog.grab().save(str(tmp_path / "models_dialog.png"))

    assert use_row(qtbot, window, dialog, BUNDLED.stem) == ["ready"]
    assert engine.info.path == BUNDLED and require_settings().model_path is None
    assert window.model_label.text() == BUNDLED.stem
    assert dialog.table.item(0, 0).text() == f"{ACTIVE_MARK} {BUNDLED.stem}"
    assert suggest(qtbot, window, "And when will it arrive?").strip()


def not_really_gemma(path: Path) -> Path:
    """The bundled model labelled as another family: it passes the header checks, and
    llama.cpp then refuses it (the gemma hyper-parameters it looks for are not there)."""
    key = b"general.architecture"
    llama = struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, 5) + b"llama"
    data = BUNDLED.read_bytes()
    assert data.count(llama) == 1
    path.write_bytes(data.replace(llama, llama[:-5] + b"gemma"))
    return path


@pytest.mark.timeout(240)
def test_a_file_llama_cpp_refuses_gives_way_to_the_previous_model(qtbot, window, tmp_path: Path):
    engine = window.runtime.engine
    entry = add_model(require_settings(), not_really_gemma(tmp_path / "odd.gguf"), link=True)
    assert entry.architecture == "gemma" and entry.origin == "linked"
    before = suggest(qtbot, window, QUESTION)
    dialog = window.open_models()

    assert use_row(qtbot, window, dialog, "odd") == ["ready"]  # never "failed" on the way
    assert engine.info.path == BUNDLED and window.state_label.text() == "Ready"
    assert require_settings().model_path is None
    banner = window.banner.text()
    assert NOT_CHANGED in banner and "could not load the model file" in banner
    assert BUNDLED.stem in banner and SUGGESTIONS_OFF not in banner
    assert "could not load" in dialog.message.text()
    assert dialog.entries[0].active and not dialog.entries[1].active
    assert window.suggestion.current_text == before  # nothing the agent had is lost
    assert suggest(qtbot, window, "Is there any news?").strip()
