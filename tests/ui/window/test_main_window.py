from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from copilot.contact import Role
from copilot.errors import ModelError
from tests.fakes import FakeEngine


def type_and_send(qtbot, window, text: str, agent: bool = False) -> None:
    window.input.setFocus()
    qtbot.keyClicks(window.input, text)
    modifiers = Qt.KeyboardModifier.ControlModifier
    if agent:
        modifiers |= Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.input, Qt.Key.Key_Return, modifiers)


def test_suggestion_streams_into_the_panel(qtbot, make_window):
    window = make_window(FakeEngine([["Sorry", " for", " the", " delay", "."]], delay=0.01))
    type_and_send(qtbot, window, "Where is my parcel?")
    assert [t.role for t in window.contact.turns] == [Role.CUSTOMER]
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Sorry for the delay.", timeout=5000)
    qtbot.waitUntil(lambda: not window.suggestion.busy, timeout=5000)
    assert "friendly" in window.suggestion.meta.text()
    assert window.model_label.text() == "fake · Q0"
    assert window.state_label.text() == "Ready"


def test_new_customer_message_cancels_the_stale_suggestion(qtbot, make_window):
    engine = FakeEngine([[f" old{i}" for i in range(200)], ["Fresh", " answer"]], delay=0.02)
    window = make_window(engine)
    type_and_send(qtbot, window, "First question")
    qtbot.waitUntil(lambda: "old3" in window.suggestion.current_text, timeout=5000)
    type_and_send(qtbot, window, "Actually, another question")
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Fresh answer", timeout=5000)
    old_tokens = sum(1 for piece in engine.emitted if piece.startswith(" old"))
    assert old_tokens < 200
    qtbot.wait(150)
    assert window.suggestion.current_text == "Fresh answer"


def test_no_token_arrives_after_dismiss(qtbot, make_window):
    engine = FakeEngine([[f" w{i}" for i in range(300)]], delay=0.01)
    window = make_window(engine)
    type_and_send(qtbot, window, "Hello")
    qtbot.waitUntil(lambda: "w2" in window.suggestion.current_text, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.suggestion.current_text == ""
    emitted = len(engine.emitted)
    qtbot.wait(300)
    assert window.suggestion.current_text == ""
    assert len(engine.emitted) <= emitted + 1


def test_insert_copies_to_the_clipboard(qtbot, make_window):
    window = make_window(FakeEngine([["Your refund is on its way."]]))
    type_and_send(qtbot, window, "Refund?")
    qtbot.waitUntil(
        lambda: not window.suggestion.busy and bool(window.suggestion.current_text), timeout=5000
    )
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "Your refund is on its way."


def test_agent_reply_is_recorded_and_clears_the_suggestion(qtbot, make_window):
    window = make_window(FakeEngine([["Let me check."]]))
    type_and_send(qtbot, window, "Hi")
    qtbot.waitUntil(
        lambda: not window.suggestion.busy and bool(window.suggestion.current_text), timeout=5000
    )
    type_and_send(qtbot, window, "Checking now", agent=True)
    assert [t.role for t in window.contact.turns] == [Role.CUSTOMER, Role.AGENT]
    assert window.suggestion.current_text == ""


def test_regenerate_shortcut_makes_a_new_suggestion(qtbot, make_window):
    window = make_window(FakeEngine([["First"], ["Second"]]))
    type_and_send(qtbot, window, "Hi")
    qtbot.waitUntil(lambda: window.suggestion.current_text == "First", timeout=5000)
    qtbot.waitUntil(lambda: not window.suggestion.busy, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Second", timeout=5000)


def test_empty_input_is_refused_politely(qtbot, make_window):
    window = make_window()
    type_and_send(qtbot, window, "   ")
    assert window.contact.turns == []
    assert "Type or paste" in window.statusBar().currentMessage()


def test_broken_model_shows_a_banner_and_the_window_keeps_working(qtbot, make_window):
    error = ModelError(
        "The model file /x.gguf is truncated. Point the copilot at a valid .gguf file."
    )
    window = make_window(FakeEngine(load_error=error))
    assert window.banner.isVisible()
    assert "/x.gguf" in window.banner.text() and "Suggestions are off" in window.banner.text()
    assert window.state_label.text() == "Model unavailable"
    type_and_send(qtbot, window, "Hello?")
    assert len(window.contact.turns) == 1
    assert "Suggestions are off" in window.suggestion.text.placeholderText()


def test_suggestion_waits_for_the_model_to_load(qtbot, make_window):
    engine = FakeEngine([["Ready now"]], load_delay=0.3)
    window = make_window(engine, load=False)
    window.start_model_load()
    type_and_send(qtbot, window, "Quick question")
    assert window.contact.turns and window._pending_suggestion, window.runtime.engine.state
    assert "still loading" in window.suggestion.text.placeholderText()
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Ready now", timeout=5000)


def test_profile_choice_is_saved_and_used(qtbot, make_window):
    from copilot.settings import load_settings

    engine = FakeEngine([["ok"]])
    window = make_window(engine)
    window.profile_box.setCurrentText("formal")
    assert load_settings()[0].active_profile == "formal"
    type_and_send(qtbot, window, "Hello")
    qtbot.waitUntil(
        lambda: not window.suggestion.busy and bool(window.suggestion.current_text), timeout=5000
    )
    assert "Kind regards" in window.suggestion.current_text


def test_unexpected_errors_reach_a_crash_dialog(qtbot, make_window):
    class Exploding(FakeEngine):
        def stream(self, *args, **kwargs):
            raise ZeroDivisionError("boom")

    window = make_window(Exploding())
    type_and_send(qtbot, window, "Hello")
    qtbot.waitUntil(lambda: window.findChild(object, "crashDialog") is not None, timeout=5000)
    dialog = window.findChild(object, "crashDialog")
    assert "ZeroDivisionError" in dialog.informativeText()
    dialog.close()
    assert window.isVisible()


def test_geometry_and_pin_are_remembered(qtbot, make_window):
    window = make_window()
    window.resize(380, 640)
    window.pin_action.setChecked(True)
    window.splitter.setSizes([100, 300, 150])
    sizes = window.splitter.sizes()
    window.close()
    again = make_window()
    assert again.size().width() == 380 and again.size().height() == 640
    assert again.splitter.sizes() == sizes
    assert again.pin_action.isChecked()
    assert again.windowFlags() & Qt.WindowType.WindowStaysOnTopHint


def test_demo_plays_the_scripted_contact(qtbot, make_window):
    window = make_window(FakeEngine([["Suggested"]]))
    window.demo_step()
    assert window.contact.customer_name == "Jana Weber"
    assert window.contact.turns[-1].role is Role.CUSTOMER
    assert window.input.toPlainText()
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Suggested", timeout=5000)


def test_instructions_are_prefilled_while_waiting(qtbot, make_window):
    engine = FakeEngine()
    window = make_window(engine)
    qtbot.waitUntil(lambda: len(engine.prefilled) == 1, timeout=5000)
    window.new_contact()
    qtbot.waitUntil(lambda: len(engine.prefilled) == 2, timeout=5000)


def test_f1_lists_the_shortcuts(qtbot, make_window):
    window = make_window()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(object, "shortcutsDialog")
    assert dialog is not None and "Ctrl+Shift+Enter" in dialog.text()
    dialog.close()
