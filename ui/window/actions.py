"""The window's keyboard shortcuts and toolbar actions, and the F1 list that explains them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

if TYPE_CHECKING:
    from ui.window.main_window import MainWindow

SHORTCUTS = [
    ("Ctrl+Enter", "add the text as the customer's message and suggest a reply"),
    ("Ctrl+Shift+Enter", "add the text as the reply you sent"),
    ("Ctrl+I", "insert: copy the suggestion to the clipboard"),
    ("Alt+1, Alt+2, Alt+3", "insert approved reply 1, 2 or 3"),
    ("Ctrl+R", "regenerate the suggestion"),
    ("Esc", "stop or dismiss the suggestion"),
    ("Alt+Up / Alt+Down", "rate the suggestion good / bad (with a reason)"),
    ("Ctrl+P", "choose the profile"),
    ("Ctrl+L", "go to the message box"),
    ("Ctrl+K", "search the knowledge base"),
    ("Ctrl+O", "import a folder of articles into the knowledge base"),
    ("Ctrl+F", "find the customer: phone, email, handle or name (Enter shows their history)"),
    ("Ctrl+Shift+S", "summarise the live contact with the model (for a handover)"),
    ("Ctrl+E", "end the contact: check and save the wrap-up note"),
    ("Ctrl+S", "in the wrap-up note: save it"),
    ("Ctrl+N", "start a new contact"),
    ("Ctrl+T", "keep the panel on top of other windows"),
    ("Ctrl+Shift+V", "paste the clipboard as the customer's message"),
    ("Ctrl+Shift+C", "capture: each text you copy becomes the customer's message (on/off)"),
    ("Ctrl+Shift+I", "integration: the local API's address and token"),
    ("Ctrl+Shift+U", "supervisor mode: profiles, approved replies, dashboard (passphrase)"),
    ("Ctrl+Shift+M", "models: see them with size and quantisation, switch, add a GGUF file"),
    ("Ctrl+Shift+D", "demo: play the next customer message"),
    ("F1", "this list"),
]


def _action(
    window: MainWindow,
    text: str,
    keys: list[str],
    slot: Callable[..., object],
    checkable: bool = False,
) -> QAction:
    act = QAction(text, window)
    act.setShortcuts([QKeySequence(k) for k in keys])
    act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    act.setCheckable(checkable)
    (act.toggled if checkable else act.triggered).connect(slot)
    window.addAction(act)
    return act


def _tip(act: QAction, text: str, tip: str) -> QAction:
    act.setText(text)
    act.setToolTip(tip)
    return act


def build_actions(w: MainWindow) -> None:
    """Every shortcut works from anywhere in the window; the toolbar shows the common ones."""
    _action(w, "Customer said", ["Ctrl+Return", "Ctrl+Enter"], w.add_customer_message)
    _action(w, "I sent", ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"], w.add_agent_message)
    _action(w, "Insert", ["Ctrl+I"], w.insert_suggestion)
    for n in range(3):
        _action(
            w,
            f"Insert approved reply {n + 1}",
            [f"Alt+{n + 1}"],
            lambda _on=False, i=n: w.macros.insert(i),
        )
    _action(w, "Regenerate", ["Ctrl+R"], w.regenerate)
    _action(w, "Dismiss", ["Escape"], w.dismiss)
    _action(w, "Good suggestion", ["Alt+Up"], w.suggestion.feedback.give_up)
    _action(w, "Bad suggestion", ["Alt+Down"], w.suggestion.feedback.ask_reason)
    _action(w, "Profile", ["Ctrl+P"], w.choose_profile)
    _action(w, "Message box", ["Ctrl+L"], lambda: w.input.setFocus())
    _action(w, "Search knowledge", ["Ctrl+K"], w.focus_knowledge_search)
    _action(w, "Find customer", ["Ctrl+F"], w.focus_customer_box)
    _action(w, "Keyboard shortcuts", ["F1"], lambda: show_shortcuts(w))
    _action(w, "Paste as the customer's message", ["Ctrl+Shift+V"], w.paste_as_customer)
    _action(w, "Summarise the live contact", ["Ctrl+Shift+S"], w.history.summarise_now)
    w.pin_action = _tip(
        _action(w, "Always on top", ["Ctrl+T"], w.on_pin_toggled, checkable=True),
        "Pin",
        "Keep this panel above other windows (Ctrl+T)",
    )
    w.new_action = _tip(
        _action(w, "New contact", ["Ctrl+N"], w.new_contact), "New", "Start a new contact (Ctrl+N)"
    )
    w.end_action = _tip(
        _action(w, "End contact", ["Ctrl+E"], w.end_contact),
        "End",
        "End the contact: check and save the wrap-up note (Ctrl+E)",
    )
    w.demo_action = _tip(
        _action(w, "Demo: next customer message", ["Ctrl+Shift+D"], w.demo_step),
        "Demo",
        "Play the next customer message of the demo contact (Ctrl+Shift+D)",
    )
    w.import_action = _tip(
        _action(w, "Import articles…", ["Ctrl+O"], w.knowledge.choose_and_import),
        "Import",
        "Import a folder of articles into the knowledge base (Ctrl+O)",
    )
    w.capture_action = _tip(
        _action(w, "Capture", ["Ctrl+Shift+C"], w.capture.set_enabled, checkable=True),
        "Capture",
        "Capture the clipboard: each text you copy becomes the customer's message (Ctrl+Shift+C)",
    )
    w.integration_action = _tip(
        _action(w, "Integration…", ["Ctrl+Shift+I"], w.api.show_dialog),
        "Integration…",
        "The local API's address and token (Ctrl+Shift+I)",
    )
    w.supervisor_action = _tip(
        _action(w, "Supervisor…", ["Ctrl+Shift+U"], w.open_supervisor),
        "Supervisor…",
        "Supervisor mode: profiles, approved replies and the dashboard (Ctrl+Shift+U)",
    )
    w.models_action = _tip(
        _action(w, "Models…", ["Ctrl+Shift+M"], w.open_models),
        "Models…",
        "The models: size and quantisation, switch to another, add a GGUF file (Ctrl+Shift+M)",
    )
    toolbar = w.toolbar
    toolbar.addSeparator()
    for act in (
        w.pin_action,
        w.new_action,
        w.end_action,
        w.demo_action,
        w.import_action,
        w.capture_action,
        w.integration_action,
        w.supervisor_action,
        w.models_action,
    ):
        toolbar.addAction(act)


def show_shortcuts(parent: QWidget) -> QMessageBox:
    rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    box = QMessageBox(parent)
    box.setObjectName("shortcutsDialog")
    box.setWindowTitle("Keyboard shortcuts")
    box.setText(f"<table>{rows}</table>")
    box.open()
    return box
