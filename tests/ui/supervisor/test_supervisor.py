"""Supervisor mode in the window: passphrase, profile editor, preview, packs, replies, dashboard.

Real ProfileLibrary, SupervisorLock (on the explicit test keyring), packs and MacroLibrary;
the engine is the fake one. Modal questions go through ``ui.supervisor.ask``, which each
test answers (an unexpected one fails the test instead of hanging it).
"""

from __future__ import annotations

import pytest
import yaml
from PySide6.QtCore import Qt

import copilot.profiles.passphrase as supervisor_core
import ui.supervisor as supervisor_ui
from copilot.contact import Role
from copilot.profiles.library import ProfileLibrary
from copilot.profiles.packs import read_pack
from copilot.profiles.passphrase import NO_KEYRING, Backoff, SupervisorLock
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.conftest import use_keyring_backend
from tests.fakes import FakeEngine
from ui.supervisor import ask, pack_flow
from ui.supervisor.dashboard import Dashboard
from ui.supervisor.lock_dialog import SupervisorPassphraseDialog
from ui.supervisor.preview import CURRENT, DRAFT
from ui.supervisor.profiles_tab import ProfilesTab
from ui.supervisor.window import SupervisorWindow
from ui.worker import WorkerPool

PASSPHRASE = "correct horse"


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    """No open supervisor window or back-off carried between tests; no unanswered question."""
    monkeypatch.setattr(supervisor_core, "_PROCESS_BACKOFF", Backoff())

    def unexpected(*args, **kwargs):
        raise AssertionError(f"unexpected modal question: {args[1:3]}")

    for name in ("confirm", "inform", "error", "save_path", "open_path"):
        monkeypatch.setattr(ask, name, unexpected)
    # pytest-qt closes the agent window before this fixture ends, and closing it asks about
    # an unpublished draft a test left behind: that draft is discarded. Tests about leaving
    # a draft answer the question themselves.
    monkeypatch.setattr(ask, "save_discard_cancel", lambda *args: ask.Leave.DISCARD)
    monkeypatch.setattr(ask, "run", lambda dialog: unexpected(None, type(dialog).__name__))
    yield
    monkeypatch.setattr(ask, "save_discard_cancel", lambda *args: ask.Leave.DISCARD)
    for key in ("window", "dialog", "notice"):
        shown = supervisor_ui._state[key]
        if shown is not None and key == "window":
            shown.profiles.preview.cancel()
            shown.workers.wait(5000)
        if shown is not None:
            shown.close()
        supervisor_ui._state[key] = None


def unlock(qtbot, window) -> SupervisorWindow:
    """The public way in: set the passphrase once, then type it into the unlock dialog."""
    lock = SupervisorLock()
    if not lock.is_set():
        lock.set_passphrase(PASSPHRASE)
    dialog = supervisor_ui.open_supervisor(window)
    assert isinstance(dialog, SupervisorPassphraseDialog)
    assert not dialog.creating
    dialog.entry.setText(PASSPHRASE)
    dialog.ok_button.click()
    supervisor = supervisor_ui.current()
    assert isinstance(supervisor, SupervisorWindow)
    qtbot.waitUntil(lambda: supervisor.replies.library is not None, timeout=10_000)
    return supervisor


def select(tab: ProfilesTab, name: str) -> None:
    rows = [tab.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(tab.list.count())]
    tab.list.setCurrentRow(rows.index(name))


# -- passphrase --------------------------------------------------------------------------


def test_the_first_open_creates_a_passphrase_then_unlocks_with_it(qtbot, make_window):
    window = make_window()
    dialog = supervisor_ui.open_supervisor(window)
    assert isinstance(dialog, SupervisorPassphraseDialog) and dialog.creating
    assert (
        "agent-copilot profiles passphrase"
        in dialog.findChild(type(dialog.hint), "supervisorNote").text()
    )
    dialog.entry.setText("short")
    assert not dialog.ok_button.isEnabled()
    assert "At least 8 characters" in dialog.hint.text()
    dialog.entry.setText(PASSPHRASE)
    dialog.confirm.setText(PASSPHRASE + "x")
    assert not dialog.ok_button.isEnabled()
    dialog.confirm.setText(PASSPHRASE)
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    supervisor = supervisor_ui.current()
    assert isinstance(supervisor, SupervisorWindow) and supervisor.isVisible()
    assert SupervisorLock().verify(PASSPHRASE)
    # only one at a time: opening again shows the same window
    assert supervisor_ui.open_supervisor(window) is supervisor
    assert [supervisor.tabs.tabText(i) for i in range(3)] == [
        "&Profiles",
        "Approved &replies",
        "Dash&board",
    ]
    qtbot.waitUntil(lambda: supervisor.replies.library is not None, timeout=10_000)

    supervisor.close()
    assert supervisor_ui.current() is None  # locked again
    again = supervisor_ui.open_supervisor(window)
    assert isinstance(again, SupervisorPassphraseDialog) and not again.creating
    again.entry.setText("wrong passphrase")
    again.ok_button.click()
    assert again.isVisible() and again.error.isVisible()
    assert "not right" in again.error.text()
    assert supervisor_ui.current() is None
    again.entry.setText(PASSPHRASE)
    again.ok_button.click()
    assert isinstance(supervisor_ui.current(), SupervisorWindow)


def test_repeated_wrong_passphrases_show_the_back_off(qtbot, make_window):
    window = make_window()
    SupervisorLock().set_passphrase(PASSPHRASE)
    dialog = supervisor_ui.open_supervisor(window)
    for _ in range(supervisor_core.FREE_TRIES + 1):
        dialog.entry.setText("wrong passphrase")
        dialog.ok_button.click()
    assert "Try again in" in dialog.error.text()
    assert supervisor_ui.current() is None


def test_without_a_keyring_supervisor_mode_is_refused_and_the_app_runs_on(
    qtbot, make_window, monkeypatch
):
    window = make_window()
    use_keyring_backend("keyring.backends.fail.Keyring", monkeypatch)
    box = supervisor_ui.open_supervisor(window)
    assert box.objectName() == "supervisorUnavailable" and box.isVisible()
    assert NO_KEYRING in box.informativeText()
    assert supervisor_ui.current() is None
    box.close()
    assert window.isVisible()
    assert window.add_text(Role.CUSTOMER, "Hello, where is my parcel?")


# -- the profile editor ----------------------------------------------------------------


def test_a_field_error_shows_live_and_blocks_publish_until_fixed(qtbot, make_window):
    supervisor = unlock(qtbot, make_window())
    tab = supervisor.profiles
    assert tab.previous_name == "concise"  # the first published profile
    assert tab.publish_button.isEnabled()
    assert tab.dirty_label.text().startswith("Published")

    tab.form.name.setText("Concise Profile!")
    error = tab.form.error_labels["name"]
    assert error.isVisible() and "lower-case" in error.text()
    assert not tab.publish_button.isEnabled()
    assert "unpublished changes" in tab.dirty_label.text()

    tab.form.system_prompt.setPlainText("short")
    assert "at least 10" in tab.form.error_labels["system_prompt"].text()
    tab.form.system_prompt.setPlainText("Mention {order_id} please, it helps.")
    assert "{order_id}" in tab.form.error_labels["system_prompt"].text()
    tab.form.system_prompt.setPlainText("Answer briefly and never invent order details.")
    assert not tab.form.error_labels["system_prompt"].isVisible()

    tab.form.name.setText("friendly")  # taken by another profile
    assert "already exists" in tab.form.error_labels["name"].text()
    tab.form.name.setText("concise-short")
    assert not error.isVisible()
    assert tab.publish_button.isEnabled()

    tab.form.language_mode.setCurrentIndex(1)
    tab.form.language_code.setText("german")
    assert "two-letter" in tab.form.error_labels["reply_language"].text()
    assert not tab.publish_button.isEnabled()
    tab.form.language_code.setText("de")
    assert tab.publish_button.isEnabled()


def test_publish_writes_the_file_and_the_window_reloads_it(qtbot, make_window):
    window = make_window()
    supervisor = unlock(qtbot, window)
    tab = supervisor.profiles
    select(tab, "friendly")
    tab.form.description.setText("Warm replies for the spring campaign.")
    tab.form.disclaimer.setPlainText("This reply was checked by a person.")
    qtbot.keyClick(
        tab.form.name,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    library = window.runtime.library
    written = yaml.safe_load((library.folder / "friendly.yaml").read_text(encoding="utf-8"))
    assert written["description"] == "Warm replies for the spring campaign."
    assert written["disclaimer"] == "This reply was checked by a person."
    assert library.load().get("friendly").description == written["description"]
    assert window.runtime.profile("friendly").disclaimer == written["disclaimer"]
    assert "Published friendly; agents see it" in supervisor.statusBar().currentMessage()
    assert tab.dirty_label.text().startswith("Published")

    # renaming publishes under the new name and removes the old file
    tab.form.name.setText("friendly-spring")
    tab.publish_button.click()
    assert (library.folder / "friendly-spring.yaml").is_file()
    assert not (library.folder / "friendly.yaml").exists()
    assert "friendly-spring" in [
        window.profile_box.itemText(i) for i in range(window.profile_box.count())
    ]


def test_leaving_a_changed_draft_asks_first(qtbot, make_window, monkeypatch):
    supervisor = unlock(qtbot, make_window())
    tab = supervisor.profiles
    tab.form.tone.setText("very brief")
    answers = [ask.Leave.CANCEL, ask.Leave.DISCARD]
    monkeypatch.setattr(ask, "save_discard_cancel", lambda parent, text: answers.pop(0))
    select(tab, "formal")
    assert tab.previous_name == "concise" and tab.list.currentItem().text() == "concise"
    assert tab.form.tone.text() == "very brief"
    select(tab, "formal")
    assert tab.previous_name == "formal" and not answers
    assert tab.runtime.library.load().get("concise").tone != "very brief"

    # closing with changes asks too; Cancel keeps the window (and supervisor mode) open
    tab.form.tone.setText("stiff")
    monkeypatch.setattr(ask, "save_discard_cancel", lambda parent, text: ask.Leave.CANCEL)
    supervisor.close()
    assert supervisor.isVisible() and supervisor_ui.current() is supervisor


def test_new_duplicate_and_delete_with_the_last_profile_kept(qtbot, make_window, monkeypatch):
    window = make_window()
    supervisor = unlock(qtbot, window)
    tab = supervisor.profiles
    library = window.runtime.library

    qtbot.keyClick(tab.list, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert tab.previous_name is None and "(new)" in tab.list.currentItem().text()
    tab.form.name.setText("returns")
    tab.publish_button.click()
    assert (library.folder / "returns.yaml").is_file()

    select(tab, "friendly")
    tab.duplicate_button.click()
    assert tab.previous_name == "friendly-copy"
    assert (library.folder / "friendly-copy.yaml").is_file()

    monkeypatch.setattr(ask, "confirm", lambda parent, title, text, ok="OK": True)
    informed: list[str] = []
    monkeypatch.setattr(ask, "inform", lambda parent, title, text: informed.append(text))
    while len(tab.profiles) > 1:
        tab.list.setFocus()
        qtbot.keyClick(tab.list, Qt.Key.Key_Delete)
    assert len(list(library.folder.glob("*.yaml"))) == 1
    last = tab.previous_name
    tab.delete_button.click()
    assert informed and "only profile left" in informed[0]
    assert (library.folder / f"{last}.yaml").is_file()
    assert window.runtime.profiles.names() == [last]


def test_a_read_only_library_can_be_previewed_but_not_edited(qtbot, make_window):
    window = make_window()
    runtime = window.runtime
    library = ProfileLibrary(runtime.library.folder, read_only=True)
    tab = ProfilesTab(runtime, library, WorkerPool())
    qtbot.addWidget(tab)
    assert not tab.banner.isHidden() and "managed by IT" in tab.banner.text()
    assert tab.form.name.isReadOnly()
    assert not tab.publish_button.isEnabled() and not tab.new_button.isEnabled()
    assert not tab.delete_button.isEnabled() and not tab.import_button.isEnabled()
    assert tab.export_button.isEnabled()


# -- preview -------------------------------------------------------------------------------


def test_preview_streams_the_draft_and_the_published_profile_side_by_side(qtbot, make_window):
    engine = FakeEngine(
        replies=[["Thanks", " for", " waiting", "."], ["Hello", " from", " the", " old", " one."]]
    )
    supervisor = unlock(qtbot, make_window(engine))
    tab = supervisor.profiles
    select(tab, "friendly")
    tab.form.disclaimer.setPlainText("Offers are subject to availability.")
    streamed: list[str] = []
    columns = tab.preview.columns
    original_add = columns[DRAFT].add
    columns[DRAFT].add = lambda chunk: (streamed.append(chunk.text), original_add(chunk))[1]
    with qtbot.waitSignal(tab.preview.done, timeout=10_000):
        qtbot.keyClick(tab.form.tone, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert streamed[:4] == ["Thanks", " for", " waiting", "."]  # token by token
    draft_text = columns[DRAFT].plain_text
    assert draft_text.startswith("Thanks for waiting.")
    assert draft_text.rstrip().endswith("Offers are subject to availability.")
    current_text = columns[CURRENT].plain_text
    assert current_text.startswith("Hello from the old one.")
    assert "Offers are subject" not in current_text
    assert "ms to first token" in columns[DRAFT].timing.text()
    assert "ms to first token" in columns[CURRENT].timing.text()
    assert "Draft: friendly" in columns[DRAFT].title.text()
    assert "Published: friendly" in columns[CURRENT].title.text()


def test_preview_flags_a_phrase_to_avoid_in_the_draft(qtbot, make_window):
    engine = FakeEngine(replies=[["Please", " calm", " down", "."], ["Fine", "."]])
    supervisor = unlock(qtbot, make_window(engine))
    tab = supervisor.profiles
    select(tab, "friendly")
    tab.form.tone.setText("friendly and calm")
    with qtbot.waitSignal(tab.preview.done, timeout=10_000):
        tab.preview.button.click()
    flags = tab.preview.columns[DRAFT].flags
    assert flags.isVisible() and "calm down" in flags.text()


def test_preview_without_a_loaded_model_says_so(qtbot, make_window):
    supervisor = unlock(qtbot, make_window(load=False))
    tab = supervisor.profiles
    tab.run_preview()
    assert "not loaded" in tab.preview.columns[DRAFT].text.placeholderText()
    assert not tab.preview.running


def test_an_invalid_draft_is_not_previewed(qtbot, make_window):
    supervisor = unlock(qtbot, make_window())
    tab = supervisor.profiles
    tab.form.name.setText("")
    tab.run_preview()
    assert "Fix the fields" in tab.preview.columns[DRAFT].text.placeholderText()
    assert not tab.preview.running


# -- packs -----------------------------------------------------------------------------------


def test_a_pack_exported_here_imports_elsewhere_with_a_report(
    qtbot, make_window, tmp_path, monkeypatch
):
    window = make_window()
    supervisor = unlock(qtbot, window)
    tab = supervisor.profiles
    select(tab, "formal")
    tab.form.max_words.setValue(60)
    tab.publish_button.click()
    pack_path = tmp_path / "team-pack.json"
    monkeypatch.setattr(ask, "save_path", lambda *args: pack_path)
    tab.export_button.click()
    pack = read_pack(pack_path)
    assert pack.pack_version == window.runtime.library.pack_version == 2
    assert "Exported" in supervisor.statusBar().currentMessage()

    other_settings = Settings(data_dir=tmp_path / "workstation-2")
    other = Runtime(
        settings=other_settings,
        profiles=ProfileLibrary.open(other_settings).load(),
        engine=FakeEngine(),  # type: ignore[arg-type]
    )
    other_tab = ProfilesTab(other, other.library, WorkerPool())
    qtbot.addWidget(other_tab)
    shown: list[tuple[list[str], bool]] = []

    def confirm_plan(parent, lines, older):
        shown.append((lines, older))
        return True

    monkeypatch.setattr(ask, "open_path", lambda *args: pack_path)
    monkeypatch.setattr(pack_flow, "confirm_plan", confirm_plan)
    with qtbot.waitSignal(other_tab.published) as published:
        other_tab.import_button.click()
    lines, older = shown[0]
    assert "Changed: formal (max_words)" in lines and not older
    assert "Pack version 1 -> 2" in lines
    assert "1 changed" in published.args[0]
    assert other.library.load().get("formal").max_words == 60
    assert other_tab.profiles["formal"].max_words == 60

    # the other workstation moves on; the same pack is now older and needs consent
    select(other_tab, "concise")
    for words in (50, 55):
        other_tab.form.max_words.setValue(words)
        other_tab.publish_button.click()
    other_tab.import_button.click()
    lines, older = shown[1]
    assert older and "older than the installed pack" in lines[-1]
    assert other.library.pack_version == 2


def test_a_damaged_pack_is_reported_in_its_own_words(qtbot, make_window, tmp_path, monkeypatch):
    supervisor = unlock(qtbot, make_window())
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "something else"}', encoding="utf-8")
    errors: list[str] = []
    monkeypatch.setattr(ask, "open_path", lambda *args: broken)
    monkeypatch.setattr(ask, "error", lambda parent, title, exc: errors.append(exc.user_message))
    supervisor.profiles.import_button.click()
    assert errors and "broken.json" in errors[0]


# -- approved replies and dashboard ---------------------------------------------------------


def test_approved_replies_are_listed_imported_edited_and_deleted(
    qtbot, make_window, tmp_path, monkeypatch
):
    supervisor = unlock(qtbot, make_window())
    replies = supervisor.replies
    qtbot.keyClick(supervisor.tabs, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert supervisor.tabs.currentWidget() is replies
    library = replies.library
    assert replies.table.rowCount() == len(library.macros) > 0

    csv_path = tmp_path / "replies.csv"
    csv_path.write_text(
        "id,title,text,language,tags\n"
        'gift-wrap,Gift wrapping,"Hi {first_name}, we gift-wrap for free.",en,gift\n'
        'broken,Broken,"Hi {ordernumber}",en,\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(ask, "open_path", lambda *args: csv_path)
    with qtbot.waitSignal(replies.ready, timeout=10_000):
        replies.import_button.click()
    report = replies.report.toPlainText()
    assert "1 added" in report and "line 3" in report and "ordernumber" in report
    assert library.get("gift-wrap") is not None

    row = [m.id for m in replies._macros].index("gift-wrap")
    replies.table.selectRow(row)

    def edit(dialog):
        dialog.text.setPlainText("Hi {first_name}, gift wrapping is {price}.")
        assert not dialog.ok_button.isEnabled()
        assert "price" in dialog.errors["text"].text()
        dialog.text.setPlainText("Hi {first_name}, gift wrapping is free for order {order_number}.")
        dialog.tags.setText("gift, wrapping")
        assert dialog.ok_button.isEnabled()
        return True

    monkeypatch.setattr(ask, "run", edit)
    replies.edit_button.click()
    assert library.get("gift-wrap").tags == ("gift", "wrapping")
    assert "Saved" in supervisor.statusBar().currentMessage()

    monkeypatch.setattr(ask, "confirm", lambda parent, title, text, ok="OK": True)
    row = [m.id for m in replies._macros].index("gift-wrap")
    replies.table.selectRow(row)
    replies.table.setFocus()
    qtbot.keyClick(replies.table, Qt.Key.Key_Delete)
    assert library.get("gift-wrap") is None
    assert replies.table.rowCount() == len(library.macros)


def test_the_dashboard_tab_shows_the_window_analytics(qtbot, make_window):
    window = make_window()
    supervisor = unlock(qtbot, window)
    assert isinstance(supervisor.dashboard, Dashboard)
    qtbot.keyClick(supervisor.tabs, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert supervisor.tabs.currentWidget() is supervisor.dashboard
    assert supervisor.dashboard.report is not None
    assert supervisor.dashboard.report.empty


def test_closing_cancels_a_running_preview(qtbot, make_window):
    engine = FakeEngine(replies=[["slow"] * 50], delay=0.02)
    window = make_window(engine)
    supervisor = unlock(qtbot, window)
    tab = supervisor.profiles
    tab.run_preview()
    assert tab.preview.running
    qtbot.waitUntil(lambda: bool(engine.emitted), timeout=5000)
    supervisor.close()
    assert supervisor_ui.current() is None
    emitted = len(engine.emitted)
    qtbot.wait(200)
    assert len(engine.emitted) <= emitted + 1
    assert window.isVisible()


def test_replies_edited_here_reach_the_agent_window_library(qtbot, make_window, monkeypatch):
    window = make_window()
    supervisor = unlock(qtbot, window)
    with qtbot.waitSignal(window.macros.ready, timeout=10_000):
        window.macros_start_once()
    replies = supervisor.replies

    def write(dialog):
        dialog.title.setText("Opening hours")
        dialog.text.setPlainText("Hi {first_name}, we are open from 9 to 5.")
        return True

    monkeypatch.setattr(ask, "run", write)
    replies.add_button.click()
    assert replies.library is window.macros.library
    assert window.macros.library.get("opening-hours") is not None


def test_close_supervisor_closes_it_for_the_agent_window(qtbot, make_window):
    window = make_window()
    assert supervisor_ui.close_supervisor()
    unlock(qtbot, window)
    assert supervisor_ui.close_supervisor()
    assert supervisor_ui.current() is None


def test_a_new_draft_can_be_discarded_by_picking_another_profile(qtbot, make_window, monkeypatch):
    supervisor = unlock(qtbot, make_window())
    tab = supervisor.profiles
    tab.new_button.click()
    assert tab.is_new and tab.list.count() == 5
    assert "unpublished changes" in tab.dirty_label.text()
    monkeypatch.setattr(ask, "save_discard_cancel", lambda parent, text: ask.Leave.DISCARD)
    select(tab, "formal")
    assert not tab.is_new and tab.previous_name == "formal"
    assert [tab.list.item(i).text() for i in range(tab.list.count())] == sorted(tab.profiles)
    assert tab.form.name.text() == "formal"


def test_a_profile_file_edited_by_hand_is_reported_in_the_editor(qtbot, make_window):
    window = make_window()
    library = window.runtime.library
    path = library.folder / "formal.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    supervisor = unlock(qtbot, window)
    tab = supervisor.profiles
    assert "changed outside supervisor mode" in tab.banner.text()
    assert "formal" not in tab.profiles and "formal" in tab.unverified
    select(tab, "formal")
    assert "not in use" in tab.list.currentItem().text()
    assert "not in use" in tab.dirty_label.text()
    tab.publish_button.click()  # the supervisor checked it: publishing trusts it again
    assert "formal" in library.load().profiles
    assert not tab.banner.text() and "formal" in tab.profiles
    assert "formal" in window.runtime.profiles.names()


def next_tab_stop(widget):
    """Where Tab goes from ``widget``: the next enabled widget that takes Tab focus."""
    candidate = widget.nextInFocusChain()
    while candidate is not widget:
        takes_tab = candidate.focusPolicy() & Qt.FocusPolicy.TabFocus
        if takes_tab and candidate.isEnabled() and not widget.isAncestorOf(candidate):
            return candidate
        candidate = candidate.nextInFocusChain()
    return None


def test_tab_order_follows_the_layout(qtbot, make_window):
    supervisor = unlock(qtbot, make_window())
    tab = supervisor.profiles
    form = tab.form
    form.tone.setText("a changed tone")  # Revert is only a stop when there is something to drop
    pairs = [
        (tab.list, tab.new_button),
        (tab.import_button, form.name),
        (form.name, form.description),
        (form.avoid_action, form.system_prompt),
        (form.disclaimer, tab.preview.sample_box),
        (tab.preview.button, tab.revert_button),
        (tab.revert_button, tab.publish_button),
    ]
    for before, after in pairs:
        assert next_tab_stop(before) is after, (before.objectName(), after.objectName())
