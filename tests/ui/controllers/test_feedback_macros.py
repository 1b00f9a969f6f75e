"""Feedback, analytics and approved replies in the window (real Analytics and MacroLibrary)."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from copilot.analytics.events import Reason
from copilot.errors import StoreError
from tests.fakes import FakeEngine
from tests.ui.window.test_main_window import type_and_send

#: A popup menu asks the offscreen platform for things it cannot do (raise, grab the keyboard).
POPUP_LIMITS = pytest.mark.qt_log_ignore(
    "This plugin does not support raise", "This plugin does not support grabbing"
)
DELIVERY = "Hi, my order BC-48213 still hasn't arrived. Where is my parcel?"
ALT = Qt.KeyboardModifier.AltModifier


def finished(qtbot, window) -> None:
    qtbot.waitUntil(
        lambda: not window.suggestion.busy and bool(window.suggestion.current_text), timeout=5000
    )


def totals(window):
    return window.analytics.report(days=1).totals


def events(window, kind: str) -> list[sqlite3.Row]:
    """Rows as stored: numbers, enums and ids only."""
    with sqlite3.connect(window.analytics.path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM events WHERE kind = ?", (kind,)).fetchall()


def test_a_thumb_up_is_recorded_once_and_says_thanks(qtbot, make_window):
    window = make_window(FakeEngine([["Your parcel is on its way."]]))
    feedback = window.suggestion.feedback
    assert not feedback.up_button.isEnabled()
    type_and_send(qtbot, window, "Where is my parcel?")
    finished(qtbot, window)
    qtbot.mouseClick(feedback.up_button, Qt.MouseButton.LeftButton)
    assert feedback.thanks.isVisible() and not feedback.up_button.isVisible()
    feedback.give_up()  # a second press does not count twice
    assert totals(window).thumbs["model"].up == 1
    (row,) = events(window, "feedback")
    assert row["ref"] == window.suggestions.offer.id and row["up"] == 1


@POPUP_LIMITS
def test_alt_down_asks_for_a_reason(qtbot, make_window):
    window = make_window(FakeEngine([["Your parcel is on its way."]]))
    type_and_send(qtbot, window, "Where is my parcel?")
    finished(qtbot, window)
    window.input.setFocus()  # the shortcut works while the agent types
    qtbot.keyClick(window.input, Qt.Key.Key_Down, ALT)
    menu = window.suggestion.feedback.menu
    assert isinstance(menu, QMenu) and menu.isVisible()
    labels = [a.text() for a in menu.actions() if a.text()]
    assert labels[0] == "No reason" and "Too long" in labels
    assert menu.activeAction().text() == "No reason"
    next(a for a in menu.actions() if a.text() == "Too long").trigger()
    menu.close()
    assert totals(window).thumbs["model"].down == 1
    (row,) = events(window, "feedback")
    assert row["reason"] == Reason.TOO_LONG.value


def test_insert_after_an_edit_records_the_edit_distance(qtbot, make_window):
    window = make_window(FakeEngine([["Your refund is on its way."]]))
    type_and_send(qtbot, window, "Refund?")
    finished(qtbot, window)
    shown = events(window, "shown")
    assert len(shown) == 1 and shown[0]["source"] == "model"
    assert shown[0]["first_token_ms"] is not None and shown[0]["profile"] == "friendly"
    window.suggestion.text.moveCursor(window.suggestion.text.textCursor().MoveOperation.End)
    qtbot.keyClicks(window.suggestion.text, " Thanks!")
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "Your refund is on its way. Thanks!"
    (row,) = events(window, "inserted")
    assert row["edit_distance"] == len(" Thanks!") and row["ref"] == shown[0]["ref"]
    figures = totals(window)
    assert (figures.shown, figures.inserted, figures.edited) == (1, 1, 1)
    # What the agent then sends is compared with what they inserted.
    type_and_send(qtbot, window, "Your refund is on its way. Thanks!", agent=True)
    assert totals(window).sent == 1 and totals(window).mean_similarity == 1.0


def test_an_unedited_insert_is_not_an_edit(qtbot, make_window):
    window = make_window(FakeEngine([["Sure, done."]]))
    type_and_send(qtbot, window, "Cancel it please")
    finished(qtbot, window)
    window.insert_suggestion()
    window.insert_suggestion()  # the same acceptance twice is one
    figures = totals(window)
    assert (figures.inserted, figures.edited) == (1, 0)
    assert events(window, "inserted")[0]["edit_distance"] == 0


def test_dismiss_and_a_replaced_suggestion_are_recorded(qtbot, make_window):
    window = make_window(FakeEngine([["First"], ["Second"], ["Third"]]))
    type_and_send(qtbot, window, "One")
    finished(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert totals(window).dismissed == 1
    type_and_send(qtbot, window, "Two")
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Second", timeout=5000)
    finished(qtbot, window)
    type_and_send(qtbot, window, "Three")  # replaces a suggestion that was shown, unused
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Third", timeout=5000)
    finished(qtbot, window)
    window.insert_suggestion()
    window.dismiss()  # inserted already: not a dismissal
    figures = totals(window)
    assert (figures.shown, figures.dismissed, figures.inserted) == (3, 2, 1)


def test_insert_while_streaming_cancels_and_no_token_follows(qtbot, make_window):
    engine = FakeEngine([[f" w{i}" for i in range(300)]], delay=0.01)
    window = make_window(engine)
    type_and_send(qtbot, window, "Hello")
    qtbot.waitUntil(lambda: "w3" in window.suggestion.current_text, timeout=5000)
    window.insert_suggestion()
    text, emitted = window.suggestion.current_text, len(engine.emitted)
    qtbot.wait(300)
    assert window.suggestion.current_text == text and len(engine.emitted) <= emitted + 1
    assert not window.suggestion.busy and window._suggestion is None
    figures = totals(window)
    assert (figures.shown, figures.inserted, figures.edited) == (1, 1, 0)


def open_macros(qtbot, window) -> None:
    with qtbot.waitSignal(window.macros.ready, timeout=60_000):
        window.macros_start_once()


def test_approved_replies_show_before_the_model_finishes(qtbot, make_window):
    engine = FakeEngine([[f" slow{i}" for i in range(400)]], delay=0.02)
    window = make_window(engine)
    open_macros(qtbot, window)
    with qtbot.waitSignal(window.macros.shown, timeout=10_000) as shown:
        window.add_message_as_customer(DELIVERY)
    assert shown.args[0] == window.contact.id and shown.args[1] > 0
    assert window.suggestion.busy, "the cards must not wait for the model"
    cards = window.macro_strip.cards
    assert 1 <= len(cards) <= 3 and cards[0].isVisible()
    assert "Approved replies (" in window.macro_strip.toggle.text()
    QGuiApplication.clipboard().clear()
    window.input.setFocus()
    qtbot.keyClick(window.input, Qt.Key.Key_1, ALT)
    assert window.input.toPlainText() == ""
    assert QGuiApplication.clipboard().text() == cards[0].filled_text
    assert "{" not in cards[0].filled_text
    assert "approved reply 1 copied" in window.statusBar().currentMessage().lower()
    rows = events(window, "inserted")
    assert [r["source"] for r in rows] == ["macro"] and rows[0]["edit_distance"] == 0
    assert {r["source"] for r in events(window, "shown")} == {"macro"}
    window.dismiss()


def test_a_reply_card_takes_feedback_and_collapses(qtbot, make_window):
    window = make_window(FakeEngine([["ok"]]))
    open_macros(qtbot, window)
    with qtbot.waitSignal(window.macros.shown, timeout=10_000):
        window.add_message_as_customer(DELIVERY)
    card = window.macro_strip.cards[0]
    qtbot.mouseClick(card.feedback.up_button, Qt.MouseButton.LeftButton)
    (row,) = events(window, "feedback")
    assert row["source"] == "macro" and row["up"] == 1
    window.macro_strip.toggle.click()
    assert not card.isVisible() and window.macro_strip.isVisible()
    window.macro_strip.toggle.click()
    assert card.isVisible()
    type_and_send(qtbot, window, "Sent my own reply", agent=True)
    assert window.macro_strip.cards == []


def test_alt_number_without_a_card_says_so(qtbot, make_window):
    window = make_window()
    qtbot.keyClick(window, Qt.Key.Key_3, ALT)
    assert "no approved reply 3" in window.statusBar().currentMessage()


def test_broken_analytics_are_reported_once_and_the_window_works(qtbot, make_window, monkeypatch):
    from copilot.analytics.store import Analytics

    def broken(settings, **kwargs):
        raise StoreError("The analytics file cannot be created.")

    monkeypatch.setattr(Analytics, "open", classmethod(lambda cls, s, **k: broken(s)))
    window = make_window(FakeEngine([["Still here"]]))
    assert "Analytics are off" in window.banner.text()
    type_and_send(qtbot, window, "Hello")
    finished(qtbot, window)
    window.insert_suggestion()
    assert window.banner.text().count("Analytics") == 1


def test_a_failing_store_is_shown_once(qtbot, make_window):
    window = make_window(FakeEngine([["One"], ["Two"]]))
    window.analytics.last_error = "The analytics file is read-only."
    type_and_send(qtbot, window, "Hi")
    finished(qtbot, window)
    assert "Analytics are not being recorded" in window.banner.text()
    window.analytics.last_error = "again"
    window.insert_suggestion()
    assert window.banner.text().count("Analytics") == 1


def test_supervisor_action_and_shortcuts_list(qtbot, make_window, monkeypatch):
    import ui.supervisor

    opened = []
    monkeypatch.setattr(ui.supervisor, "open_supervisor", lambda w: opened.append(w))
    window = make_window()
    qtbot.keyClick(
        window,
        Qt.Key.Key_U,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert opened == [window]
    assert window.supervisor_action.text() == "Supervisor…"
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(object, "shortcutsDialog")
    for keys in ("Ctrl+Shift+U", "Alt+1", "Alt+Up / Alt+Down"):
        assert keys in dialog.text()
    dialog.close()


def test_profiles_changed_keeps_the_choice_while_it_exists(qtbot, make_window, monkeypatch):
    from copilot.profiles.profile import ProfileSet

    window = make_window()
    window.profile_box.setCurrentText("formal")
    window.profiles_changed()
    assert window.profile_box.currentText() == "formal"
    assert [window.profile_box.itemText(i) for i in range(window.profile_box.count())] == (
        window.runtime.profiles.names()
    )
    kept = {n: p for n, p in window.runtime.profiles.profiles.items() if n != "formal"}

    def without_formal():
        window.runtime.profiles = ProfileSet(profiles=kept)
        return []

    monkeypatch.setattr(window.runtime, "reload_profiles", without_formal)
    window.profiles_changed()
    assert window.profile_box.currentText() in kept
    assert window.profile_box.findText("formal") == -1


def test_collapsed_approved_replies_stay_collapsed(qtbot, make_window):
    window = make_window()
    window.macro_strip.toggle.click()
    assert not window.macro_strip.body.isVisible()
    window.close()
    again = make_window()
    assert not again.macro_strip.toggle.isChecked() and not again.macro_strip.body.isVisible()
    assert "Approved replies" in again.macro_strip.toggle.text()
