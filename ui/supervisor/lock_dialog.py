"""Asks for the supervisor passphrase: created once (typed twice), then typed to unlock.

The dialog checks the passphrase itself, so a wrong one (or the lock's back-off after
repeated failures) is said inline and the dialog stays open for another try.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from copilot.errors import CopilotError

MIN_PASSPHRASE = 8
_WARN = "color:#92400e"
_ERROR = "background:#fdecea; color:#7f1d1d; border:1px solid #f5c2c0; padding:4px"
CREATE_TEXT = (
    "Choose a supervisor passphrase. It protects profile editing, approved replies and "
    "profile packs on this workstation, so agents cannot change how suggestions sound."
)
CREATE_NOTE = (
    "Keep it somewhere safe. If it is lost, only IT can reset it, with the command "
    "“agent-copilot profiles passphrase”."
)
UNLOCK_TEXT = "Enter the supervisor passphrase to edit profiles, approved replies and packs."


class Lock(Protocol):
    def set_passphrase(self, new: str, current: str | None = None) -> None: ...

    def verify(self, passphrase: str) -> bool: ...


def _label(text: str, name: str, style: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if style:
        label.setStyleSheet(style)
    return label


def _secret(name: str) -> QLineEdit:
    entry = QLineEdit()
    entry.setObjectName(name)
    entry.setEchoMode(QLineEdit.EchoMode.Password)
    return entry


class SupervisorPassphraseDialog(QDialog):
    """Create (``creating=True``) or check the passphrase; ``accepted`` means unlocked."""

    def __init__(self, lock: Lock, *, creating: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lock = lock
        self.creating = creating
        self.setObjectName("supervisorPassphraseDialog")
        self.setWindowTitle("Create supervisor passphrase" if creating else "Supervisor mode")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.addWidget(_label(CREATE_TEXT if creating else UNLOCK_TEXT, "supervisorReason"))
        self.error = _label("", "supervisorError", _ERROR)
        self.error.hide()
        layout.addWidget(self.error)
        form = QFormLayout()
        self.entry = _secret("supervisorPassphrase")
        self.confirm = _secret("supervisorConfirm")
        form.addRow("&Passphrase", self.entry)
        if creating:
            form.addRow("&Again", self.confirm)
        layout.addLayout(form)
        self.hint = _label("", "supervisorHint", _WARN)
        layout.addWidget(self.hint)
        if creating:
            layout.addWidget(_label(CREATE_NOTE, "supervisorNote"))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Create" if creating else "&Unlock")
        self.ok_button.setObjectName("supervisorOk")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.entry.textChanged.connect(self._on_text_changed)
        self.confirm.textChanged.connect(self._on_text_changed)
        self._on_text_changed()
        self.entry.setFocus()

    def problem(self) -> str:
        """What keeps the entry from being usable, or "" when it is."""
        text = self.entry.text()
        if not self.creating:
            return "" if text else "Type the passphrase."
        if len(text) < MIN_PASSPHRASE:
            return f"At least {MIN_PASSPHRASE} characters ({len(text)} so far)."
        if self.confirm.text() != text:
            return "Type the same passphrase again below."
        return ""

    def _on_text_changed(self) -> None:
        problem = self.problem()
        self.hint.setText(problem if self.creating else "")
        self.hint.setVisible(bool(self.hint.text()))
        self.ok_button.setEnabled(not problem)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.adjustSize()  # grow to fit the message instead of squeezing the text above

    def accept(self) -> None:
        if self.problem():
            return
        try:
            if self.creating:
                self.lock.set_passphrase(self.entry.text())
            elif not self.lock.verify(self.entry.text()):
                self.show_error("That passphrase is not right. Try again.")
                self.entry.selectAll()
                self.entry.setFocus()
                return
        except CopilotError as exc:
            self.show_error(exc.user_message)
            return
        super().accept()

    def done(self, result: int) -> None:
        super().done(result)
        # The passphrase has been used by now: keep no copy in the widgets.
        self.entry.clear()
        self.confirm.clear()
