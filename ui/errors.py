"""One way to tell the user about errors, and a crash dialog for the unexpected."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from copilot.errors import CopilotError

log = logging.getLogger(__name__)
_open_dialogs: list[QMessageBox] = []


def user_message(exc: BaseException) -> str:
    if isinstance(exc, CopilotError):
        return exc.user_message
    return f"Unexpected error: {type(exc).__name__}. Details are in the log."


def show_crash(exc: BaseException, parent: QWidget | None = None) -> QMessageBox:
    """Non-blocking dialog with the traceback; the app keeps running."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("unexpected error: %s", details)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Agent Copilot – unexpected error")
    box.setText(
        "Something went wrong inside the copilot. Your conversation is kept and you can carry on."
    )
    box.setInformativeText(f"{type(exc).__name__}: {exc}")
    box.setDetailedText(details)
    box.setObjectName("crashDialog")
    box.finished.connect(
        lambda _result, b=box: _open_dialogs.remove(b) if b in _open_dialogs else None
    )
    _open_dialogs.append(box)
    box.show()
    return box


def install_excepthook() -> None:
    """Uncaught exceptions on the GUI thread become a crash dialog instead of a silent death."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        exc.__traceback__ = tb
        show_crash(exc)

    sys.excepthook = hook
