"""The clipboard: what the copilot copies, and the opt-in capture of what the agent copies.

Everything the copilot puts on the clipboard (an inserted suggestion, a link, a wrap-up
note, the API token) goes through ``copy_text``, which remembers it, so capture never
feeds the copilot's own text back to it as a customer message. (A private mime format
would say the same, but PySide6 6.12 crashes at exit when the clipboard holds a QMimeData
made in Python.)
"""

from __future__ import annotations

import logging
from collections import deque

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget

from copilot.contact import MAX_TURN_CHARS

log = logging.getLogger(__name__)
#: The last texts the copilot copied, trimmed as capture compares them.
_copied: deque[str] = deque(maxlen=8)


def copy_text(text: str) -> None:
    """Put ``text`` on the clipboard as the copilot's own: capture leaves it out."""
    _copied.append(text.strip())
    QGuiApplication.clipboard().setText(text)


def clipboard_text() -> str:
    return QGuiApplication.clipboard().text()


class ClipboardCapture(QObject):
    """While on, each new text the agent copies becomes the customer's message."""

    #: A new clipboard text to add as the customer's message (trimmed).
    captured = Signal(str)
    #: A text was left out, and why (for the status bar).
    skipped = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.enabled = False
        self._last = ""
        self.indicator = QLabel("● Capture on")
        self.indicator.setObjectName("captureIndicator")
        self.indicator.setStyleSheet("color:#b45309; font-weight:600")
        self.indicator.setToolTip(
            "Each text you copy is added as the customer's message (Ctrl+Shift+C turns it off)"
        )
        self.indicator.hide()
        QGuiApplication.clipboard().dataChanged.connect(self._on_data_changed)

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        # What is on the clipboard already was copied before: only new texts count.
        self._last = clipboard_text().strip() if on else ""
        self.indicator.setVisible(on)

    def _on_data_changed(self) -> None:
        if not self.enabled:
            return
        text = clipboard_text().strip()
        if not text or text == self._last or text in _copied:
            return
        self._last = text
        if len(text) > MAX_TURN_CHARS:
            self.skipped.emit(
                f"The copied text is longer than {MAX_TURN_CHARS:,} characters, "
                "so it was not added."
            )
            return
        log.debug("clipboard text captured (%d chars)", len(text))
        self.captured.emit(text)
