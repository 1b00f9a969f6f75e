"""Customer history in the window: recognition, timeline, live summary, wrap-up, unlock.

A real encrypted store in the test's folder (keyring: the explicit file backend the
shared conftest sets), the fake engine wherever a model would write.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from copilot.contact import Role
from copilot.errors import PrivacyError, StoreError
from copilot.history.records import SummaryMethod
from copilot.history.store import _translate
from tests.conftest import use_keyring_backend
from tests.fakes import FakeEngine

JANA = "jana.weber@example.com"
# The offscreen platform cannot raise the completer's popup or let it grab the keyboard.
offscreen_popup = pytest.mark.qt_log_ignore(
    "This plugin does not support (raise|grabbing the keyboard)", extend=True
)
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


class SummaryEngine(FakeEngine):
    """Suggestions as FakeEngine; a grammar-constrained call answers with a JSON summary."""

    def __init__(self, summary: dict, piece_delay: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summary = summary
        self.piece_delay = piece_delay
        self.summaries_started = 0

    def stream(self, tokens, *, grammar=None, **kwargs):
        if grammar is None:
            return super().stream(tokens, grammar=grammar, **kwargs)
        return self._summary(kwargs.get("cancel") or threading.Event())

    def _summary(self, cancel: threading.Event):
        self.summaries_started += 1
        text = json.dumps(self.summary)
        for start in range(0, len(text), 8):
            if cancel.wait(self.piece_delay) or cancel.is_set():
                from copilot.errors import Cancelled

                raise Cancelled
            yield text[start : start + 8]


MODEL_SUMMARY = {
    "reason": "The coffee grinder ordered last Monday still hasn't arrived",
    "actions": ["Asked the carrier to prioritise the parcel stuck at the regional depot"],
    "resolution": "The parcel is stuck at the regional depot and the carrier will prioritise it",
    "open_items": [],
    "sentiment": "negative",
    "disposition": "follow-up",
}


def open_history(qtbot, window):
    with qtbot.waitSignal(window.history.ready, timeout=10_000):
        window.history.start()
    return window.history


def view_text(window) -> str:
    return window.history_panel.view.toPlainText()


def start_demo(qtbot, window) -> None:
    window.demo_step()
    qtbot.waitUntil(lambda: not window.suggestion.busy, timeout=5000)


def wrapup_dialog(qtbot, window):
    qtbot.waitUntil(
        lambda: (
            window.history.wrapup_dialog is not None and window.history.wrapup_dialog.isVisible()
        ),
        timeout=5000,
    )
    return window.history.wrapup_dialog


# -- recognition and timeline -------------------------------------------------------------
def test_demo_contact_shows_janas_digest_and_timeline(qtbot, make_window):
    window = make_window(FakeEngine([["Suggested"]]))
    open_history(qtbot, window)
    with qtbot.waitSignal(window.history.shown, timeout=2000, check_params_cb=bool) as shown:
        start_demo(qtbot, window)
    timeline = shown.args[0]
    assert timeline is not None and timeline.customer.name == "Jana Weber"
    panel = window.history_panel
    assert panel.isVisible() and panel.view.isVisible()
    assert "Jana Weber" in panel.title.text() and "recognised by email" in panel.title.text()
    text = view_text(window)
    assert "What you need to know" in text and timeline.digest.headline in text
    assert "4 earlier contacts" in text and "Open (" in text
    assert len(panel.rows) == 4
    starts = [c.started_at for c in panel.rows]
    assert starts == sorted(starts, reverse=True)
    # every row shows its date, channel, disposition and the summary's reason
    for contact in panel.rows:
        assert contact.summary.reason[:40] in " ".join(text.split())
    assert window.history.last_shown_s is not None and window.history.last_shown_s < 0.1
    assert panel.status.text().endswith("ms")


def test_a_timeline_row_opens_the_full_summary(qtbot, make_window):
    window = make_window()
    open_history(qtbot, window)
    start_demo(qtbot, window)
    panel = window.history_panel
    newest = panel.rows[0]
    assert "Summary: extractive" not in view_text(window)
    panel.view.anchorClicked.emit(f"contact:{newest.id}")
    text = view_text(window)
    assert "Resolution:" in text and "Sentiment:" in text and "Disposition:" in text
    assert "Open items:" in text and "Summary: extractive" in text
    panel.toggle(newest.id)
    assert "Summary: extractive" not in view_text(window)


@offscreen_popup
def test_picking_a_customer_in_the_search_box(qtbot, make_window):
    window = make_window()
    open_history(qtbot, window)
    box = window.customer_box
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert box.hasFocus()
    qtbot.keyClicks(box, "katrin")
    popup = box.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert box.model.stringList() == [
        "Katrin Albrecht · katrin.albrecht@example.de · +493055507788"
    ]
    seen = []
    window.history.shown.connect(seen.append)
    with qtbot.waitSignal(window.history.shown, timeout=2000) as shown:
        qtbot.keyClick(popup, Qt.Key.Key_Down)
        qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert shown.args[0].customer.name == "Katrin Albrecht"
    assert "picked by you" in window.history_panel.title.text()
    assert len(window.history_panel.rows) == 3
    assert window.contact.customer_identifier == "katrin.albrecht@example.de"
    qtbot.waitUntil(lambda: box.text() == "katrin.albrecht@example.de", timeout=1000)
    assert len(seen) == 1  # the Enter that picked the row does not look it up again


@offscreen_popup
def test_typing_a_phone_number_recognises_the_customer(qtbot, make_window):
    window = make_window()
    open_history(qtbot, window)
    window.customer_box.setFocus()
    qtbot.keyClicks(window.customer_box, "+49 30 555-01234")
    window.customer_box.completer().popup().hide()
    with qtbot.waitSignal(window.history.shown, timeout=2000) as shown:
        qtbot.keyClick(window.customer_box, Qt.Key.Key_Return)
    assert shown.args[0].customer.name == "Jana Weber"
    assert "recognised by phone" in window.history_panel.title.text()


@offscreen_popup
def test_unknown_identifier_is_a_new_customer(qtbot, make_window):
    window = make_window()
    open_history(qtbot, window)
    window.customer_box.setFocus()
    qtbot.keyClicks(window.customer_box, "someone.new@example.org")
    with qtbot.waitSignal(window.history.shown, timeout=2000) as shown:
        qtbot.keyClick(window.customer_box, Qt.Key.Key_Return)
    assert shown.args == [None]
    assert "New customer" in window.history_panel.title.text()
    assert "No earlier contacts" in view_text(window)
    assert window.history_panel.rows == []


def test_new_contact_forgets_the_customer(qtbot, make_window):
    window = make_window()
    open_history(qtbot, window)
    start_demo(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_N, CTRL)
    assert window.customer_box.text() == "" and window.history_panel.rows == []
    assert "phone number, email or handle" in view_text(window)
    assert not window.history_panel.live_view.isVisible()


def test_a_contact_started_before_the_store_opens_is_recognised_once_it_does(qtbot, make_window):
    window = make_window()
    start_demo(qtbot, window)
    assert "opening" in view_text(window)
    with qtbot.waitSignal(window.history.shown, timeout=10_000, check_params_cb=bool):
        window.history.start()
    assert len(window.history_panel.rows) == 4


# -- live summary -----------------------------------------------------------------------
def test_rolling_summary_updates_after_each_message(qtbot, make_window):
    window = make_window(FakeEngine([["Let me check."]]))
    open_history(qtbot, window)
    live = window.history_panel.live_view
    assert not live.isVisible()
    window.add_message(Role.CUSTOMER, "My blender arrived with a cracked jar. What can I do?")
    assert live.isVisible()
    assert "cracked jar" in live.toPlainText()
    assert "extractive" in window.history_panel.live_meta.text()
    window.add_message(Role.AGENT, "I have sent you a free replacement jar by express today.")
    assert "replacement jar" in live.toPlainText()


def test_summarise_now_asks_the_model(qtbot, make_window):
    window = make_window(SummaryEngine(MODEL_SUMMARY))
    open_history(qtbot, window)
    start_demo(qtbot, window)
    window.add_agent_message()  # the scripted answer
    with qtbot.waitSignal(window.history.live_changed, timeout=5000) as changed:
        qtbot.keyClick(window, Qt.Key.Key_S, CTRL | SHIFT)
    summary = changed.args[0]
    assert summary.method in (SummaryMethod.MODEL, SummaryMethod.MIXED)
    assert "model" in window.history_panel.live_meta.text()
    assert "coffee grinder ordered last Monday" in window.history_panel.live_view.toPlainText()
    assert window.history_panel.summarise_button.isEnabled()


def test_a_new_message_cancels_the_model_summary(qtbot, make_window):
    engine = SummaryEngine(MODEL_SUMMARY, piece_delay=0.05)
    window = make_window(engine)
    open_history(qtbot, window)
    window.add_message(Role.CUSTOMER, "My parcel BC-48213 is stuck at the regional depot.")
    qtbot.waitUntil(lambda: not window.suggestion.busy, timeout=5000)
    window.history_panel.summarise_button.click()
    qtbot.waitUntil(lambda: engine.summaries_started == 1, timeout=5000)
    assert not window.history_panel.summarise_button.isEnabled()
    window.add_message(Role.AGENT, "I have asked the carrier to prioritise it.")
    assert window.history_panel.summarise_button.isEnabled()
    assert "extractive" in window.history_panel.live_meta.text()
    worker = window.history._live_worker
    assert worker is None
    window.history.workers.wait(5000)
    assert "extractive" in window.history_panel.live_meta.text()


# -- wrap-up -------------------------------------------------------------------------------
def test_wrapup_edit_and_save_appears_in_the_timeline(qtbot, make_window):
    window = make_window(FakeEngine([["Suggested"]]))
    open_history(qtbot, window)
    start_demo(qtbot, window)
    window.add_agent_message()
    contact_id = window.contact.id
    qtbot.keyClick(window, Qt.Key.Key_E, CTRL)
    dialog = wrapup_dialog(qtbot, window)
    assert "Jana Weber" in dialog.target.text()
    assert "Draft:" in dialog.method.text()
    dialog.reason_edit.setPlainText("Grinder BC-48213 late; needed by Friday for a birthday.")
    dialog.open_items_edit.setPlainText("Call back Thursday if it has not moved")
    dialog.disposition.setCurrentText("callback")
    with qtbot.waitSignal(window.history.saved, timeout=2000):
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_S, CTRL)
    assert not dialog.isVisible()
    assert window.contact.id != contact_id and window.contact.turns == []
    assert "Saved to Jana Weber" in view_text(window)
    window.customer_box.show_identifier(JANA)
    window.customer_box.returnPressed.emit()
    rows = window.history_panel.rows
    assert len(rows) == 5 and rows[0].id == contact_id
    assert rows[0].summary.method is SummaryMethod.EDITED
    assert rows[0].summary.reason.startswith("Grinder BC-48213 late")
    assert rows[0].disposition == "callback"
    window.history_panel.toggle(contact_id)
    assert "Summary: edited by agent" in view_text(window)


def test_an_unedited_model_draft_keeps_its_method(qtbot, make_window):
    window = make_window(SummaryEngine(MODEL_SUMMARY, piece_delay=0.01))
    open_history(qtbot, window)
    start_demo(qtbot, window)
    window.add_agent_message()
    window.end_contact()
    qtbot.waitUntil(
        lambda: window.history.progress is not None and window.history.progress.isVisible(),
        timeout=2000,
    )
    dialog = wrapup_dialog(qtbot, window)
    assert window.history.progress is None
    assert "model" in dialog.method.text()
    assert not dialog.edited
    contact_id = window.contact.id
    dialog.save_button.click()
    stored = window.history.history.store.contact(contact_id)
    assert stored.summary.method in (SummaryMethod.MODEL, SummaryMethod.MIXED)


def test_quick_draft_skips_the_model(qtbot, make_window):
    window = make_window(SummaryEngine(MODEL_SUMMARY, piece_delay=0.2))
    open_history(qtbot, window)
    start_demo(qtbot, window)
    window.end_contact()
    qtbot.waitUntil(
        lambda: window.history.progress is not None and window.history.progress.isVisible(),
        timeout=2000,
    )
    window.history.progress.findChild(QPushButton).click()
    dialog = wrapup_dialog(qtbot, window)
    assert "extractive" in dialog.method.text()


def test_cancel_returns_to_the_contact(qtbot, make_window):
    window = make_window()
    open_history(qtbot, window)
    start_demo(qtbot, window)
    window.input.setPlainText("half-typed reply")
    contact_id, turns = window.contact.id, list(window.contact.turns)
    window.end_contact()
    dialog = wrapup_dialog(qtbot, window)
    dialog.reason_edit.setPlainText("changed")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert window.contact.id == contact_id and window.contact.turns == turns
    assert window.input.toPlainText() == "half-typed reply"
    assert window.history.history.store.contact(contact_id) is None
    assert len(window.history_panel.rows) == 4
    window.end_contact()
    assert wrapup_dialog(qtbot, window) is not dialog


def test_a_failed_save_keeps_the_dialog_and_the_draft(qtbot, make_window, monkeypatch):
    window = make_window()
    store = open_history(qtbot, window).history.store
    start_demo(qtbot, window)
    contact_id = window.contact.id
    full = _translate(sqlite3.OperationalError("database or disk is full"), "saving the contact")
    real_save = store.save_contact

    def failing(*args, **kwargs):
        raise full

    monkeypatch.setattr(store, "save_contact", failing)
    window.end_contact()
    dialog = wrapup_dialog(qtbot, window)
    dialog.reason_edit.setPlainText("My careful note")
    dialog.save_button.click()
    assert dialog.isVisible()
    assert dialog.error.isVisible() and "disk is full" in dialog.error.text()
    assert window.banner.isVisible() and "disk is full" in window.banner.text()
    assert dialog.reason_edit.toPlainText() == "My careful note"
    assert window.contact.id == contact_id
    monkeypatch.setattr(store, "save_contact", real_save)
    with qtbot.waitSignal(window.history.saved, timeout=2000):
        dialog.save_button.click()
    assert store.contact(contact_id).summary.reason == "My careful note"
    assert "disk is full" not in window.banner.text() and not window.banner.isVisible()


def test_end_contact_with_nothing_said(qtbot, make_window):
    window = make_window()
    open_history(qtbot, window)
    window.end_contact()
    assert window.history.wrapup_dialog is None
    assert "nothing to wrap up" in window.statusBar().currentMessage()


def test_a_new_customer_is_saved_with_their_identifier(qtbot, make_window):
    window = make_window()
    history = open_history(qtbot, window).history
    window.customer_box.show_identifier("@new.handle")
    window.customer_box.returnPressed.emit()
    window.add_message(Role.CUSTOMER, "Do you ship to Austria?")
    window.end_contact()
    dialog = wrapup_dialog(qtbot, window)
    assert "new customer" in dialog.target.text()
    with qtbot.waitSignal(window.history.saved, timeout=2000):
        dialog.save_button.click()
    customer = history.store.search("new.handle")[0]
    assert ("handle", "new.handle") in customer.identifiers


# -- errors and unlocking ------------------------------------------------------------------
def test_store_and_privacy_errors_reach_the_banner(make_window):
    window = make_window()
    window.report(StoreError("The customer history store is closed."))
    window.report(PrivacyError("A phone number would have left the machine."))
    text = window.banner.text()
    assert window.banner.isVisible()
    assert "Customer history: The customer history store is closed." in text
    assert "A phone number would have left the machine." in text


@pytest.fixture
def no_keyring(monkeypatch):
    """No OS keyring at all: the store has to be protected by a passphrase."""
    use_keyring_backend("keyring.backends.fail.Keyring", monkeypatch)


def passphrase_dialog(qtbot, window):
    qtbot.waitUntil(
        lambda: (
            window.history.passphrase_dialog is not None
            and window.history.passphrase_dialog.isVisible()
        ),
        timeout=10_000,
    )
    dialog = window.history.passphrase_dialog
    window.history.passphrase_dialog = None
    return dialog


def test_passphrase_is_asked_for_without_a_keyring(qtbot, make_window, no_keyring):
    window = make_window()
    window.history.start()
    dialog = passphrase_dialog(qtbot, window)
    assert dialog.creating and dialog.confirm.isVisible()
    assert "cannot be recovered" in dialog.findChild(object, "passphraseNote").text()
    assert "No OS keyring" in dialog.findChild(object, "passphraseReason").text()
    qtbot.keyClicks(dialog.entry, "short")
    assert not dialog.ok_button.isEnabled() and "At least 8" in dialog.hint.text()
    qtbot.keyClicks(dialog.entry, "-but-long")
    assert not dialog.ok_button.isEnabled() and "same passphrase" in dialog.hint.text()
    qtbot.keyClicks(dialog.confirm, "short-but-long")
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(window.history.ready, timeout=10_000):
        dialog.ok_button.click()
    assert dialog.entry.text() == ""
    assert window.history.history.key_source == "passphrase"
    start_demo(qtbot, window)
    assert len(window.history_panel.rows) == 4
    window.close()

    # reopening asks once, without a confirmation; a wrong passphrase may be retried
    again = make_window()
    again.history.start()
    dialog = passphrase_dialog(qtbot, again)
    assert not dialog.creating and not dialog.confirm.isVisible()
    qtbot.keyClicks(dialog.entry, "wrong-passphrase")
    dialog.ok_button.click()
    retry = passphrase_dialog(qtbot, again)
    assert retry.error.isVisible() and "wrong" in retry.error.text()
    qtbot.keyClicks(retry.entry, "short-but-long")
    with qtbot.waitSignal(again.history.ready, timeout=10_000):
        retry.ok_button.click()
    start_demo(qtbot, again)
    assert len(again.history_panel.rows) == 4


def test_refusing_the_passphrase_keeps_the_app_running(qtbot, make_window, no_keyring):
    window = make_window(FakeEngine([["Still here"]]))
    window.history.start()
    dialog = passphrase_dialog(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert window.banner.isVisible() and "Customer history is off" in window.banner.text()
    assert "history is off" in window.history_panel.title.text()
    start_demo(qtbot, window)
    assert window.suggestion.current_text == "Still here"
    window.end_contact()
    wrapup = wrapup_dialog(qtbot, window)
    assert not wrapup.save_button.isEnabled() and "cannot be saved" in wrapup.target.text()
    wrapup.reject()
    # Unlock… in the panel asks again, and a good passphrase clears the banner
    window.history_panel.status.linkActivated.emit("unlock")
    dialog = passphrase_dialog(qtbot, window)
    qtbot.keyClicks(dialog.entry, "a-good-passphrase")
    qtbot.keyClicks(dialog.confirm, "a-good-passphrase")
    with qtbot.waitSignal(window.history.shown, timeout=10_000, check_params_cb=bool):
        dialog.accept()
    assert not window.banner.isVisible()
    assert len(window.history_panel.rows) == 4


def test_f1_lists_the_history_shortcuts(qtbot, make_window):
    window = make_window()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(object, "shortcutsDialog")
    for keys in ("Ctrl+E", "Ctrl+Shift+S", "Ctrl+F", "Ctrl+S"):
        assert f"<b>{keys}</b>" in dialog.text()
    dialog.close()
    QApplication.processEvents()


def test_customer_and_knowledge_share_the_top_of_the_window(qtbot, make_window):
    from tests.ui.widgets.test_knowledge_panel import FakeKnowledge

    window = make_window(FakeEngine([["Suggested"]]), knowledge=FakeKnowledge())
    with qtbot.waitSignal(window.knowledge.ready, timeout=5000):
        window.knowledge.start()
    open_history(qtbot, window)
    tabs = window.side_tabs
    # no customer known: the articles for the conversation come to the front
    window.add_message(Role.CUSTOMER, "Can I get a refund?")
    qtbot.waitUntil(lambda: tabs.currentWidget() is window.knowledge_panel, timeout=5000)
    assert tabs.tabText(1) == "Knowledge (2)"
    # a known customer's history comes to the front, and stays there as articles arrive
    start_demo(qtbot, window)
    assert tabs.currentWidget() is window.history_panel
    window.add_message(Role.CUSTOMER, "And the refund for the express shipping?")
    qtbot.waitUntil(lambda: not window.suggestion.busy, timeout=5000)
    assert tabs.currentWidget() is window.history_panel
    qtbot.keyClick(window, Qt.Key.Key_K, CTRL)
    assert tabs.currentWidget() is window.knowledge_panel
    assert window.knowledge_panel.search_box.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert tabs.currentWidget() is window.history_panel and window.customer_box.hasFocus()
