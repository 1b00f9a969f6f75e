"""Supervisor mode: passphrase-protected editing of profiles, approved replies and packs.

``open_supervisor(window)`` is the one way in: it asks for (or creates) the passphrase,
then shows the Supervisor window. One window at a time; closing it locks again.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from copilot.errors import CopilotError

log = logging.getLogger(__name__)
_state: dict[str, Any] = {"window": None, "dialog": None, "notice": None}
UNAVAILABLE_TITLE = "Supervisor mode is unavailable"


def current() -> Any:
    """The open Supervisor window, or None (locked)."""
    return _state["window"]


def open_supervisor(window: Any, lock: Any = None) -> QWidget:
    """Unlock supervisor mode and show its window; returns the dialog or window shown."""
    for key in ("window", "dialog"):
        shown = _state[key]
        if shown is not None:
            shown.show()
            shown.activateWindow()
            return shown  # type: ignore[no-any-return]
    from copilot.profiles.passphrase import SupervisorLock
    from ui.supervisor.lock_dialog import SupervisorPassphraseDialog

    lock = lock if lock is not None else SupervisorLock()
    try:
        creating = not lock.is_set()
    except CopilotError as exc:
        return _unavailable(window, exc)
    dialog = SupervisorPassphraseDialog(lock, creating=creating, parent=window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.accepted.connect(lambda: _show_window(window))
    dialog.finished.connect(lambda _result: _state.update(dialog=None))
    _state["dialog"] = dialog
    dialog.open()
    return dialog


def close_supervisor() -> bool:
    """Close the Supervisor window (asking about unpublished changes); False if it stayed open.

    For the agent window's closeEvent: the supervisor's preview is cancelled and its
    workers finish before the engine goes away.
    """
    supervisor = _state["window"]
    return True if supervisor is None else bool(supervisor.close())


def _unavailable(window: Any, exc: CopilotError) -> QMessageBox:
    """No usable keyring (or a damaged entry): say so plainly; the app keeps running."""
    log.warning("supervisor mode unavailable: %s", exc.user_message)
    box = QMessageBox(window)
    box.setObjectName("supervisorUnavailable")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(UNAVAILABLE_TITLE)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(UNAVAILABLE_TITLE + ".")
    box.setInformativeText(f"{exc.user_message}\n\nEverything else in the copilot works as usual.")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.finished.connect(lambda _result: _state.update(notice=None))
    _state["notice"] = box
    box.open()
    return box


def _show_window(host: Any) -> None:
    from ui.supervisor.window import SupervisorWindow

    supervisor = SupervisorWindow(host, parent=host)
    supervisor.closed.connect(lambda: _state.update(window=None))
    _state["window"] = supervisor
    supervisor.show()
    supervisor.activateWindow()
    log.info("supervisor mode unlocked")
