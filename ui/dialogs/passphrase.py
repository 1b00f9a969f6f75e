"""Asks for the history passphrase when no OS keyring can keep the store's key.

Creating a store asks twice and says plainly that a lost passphrase cannot be
recovered. The OK button only enables once the entry is long enough (and matches).
"""

from __future__ import annotations

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

from copilot.history.keys import MIN_PASSPHRASE, PassphraseRequired

_WARN = "color:#92400e"
_ERROR = "background:#fdecea; color:#7f1d1d; border:1px solid #f5c2c0; padding:4px"


class PassphraseDialog(QDialog):
    def __init__(
        self, request: PassphraseRequired, error: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("passphraseDialog")
        self.creating = request.creating
        self.setWindowTitle(
            "Protect the customer history" if self.creating else "Unlock the customer history"
        )
        self.setModal(True)
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        reason = QLabel(request.user_message)
        reason.setObjectName("passphraseReason")
        reason.setWordWrap(True)
        reason.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(reason)
        self.error = QLabel(error)
        self.error.setObjectName("passphraseError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet(_ERROR)
        self.error.setVisible(bool(error))
        layout.addWidget(self.error)

        form = QFormLayout()
        self.entry = QLineEdit()
        self.entry.setObjectName("passphraseEntry")
        self.entry.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Passphrase", self.entry)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("passphraseConfirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        if self.creating:
            form.addRow("Again", self.confirm)
        layout.addLayout(form)
        self.hint = QLabel("")
        self.hint.setObjectName("passphraseHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(_WARN)
        layout.addWidget(self.hint)
        if self.creating:
            note = QLabel(
                "Write it down somewhere safe: it cannot be recovered, and without it "
                "nobody (not even IT) can read the history."
            )
            note.setWordWrap(True)
            note.setObjectName("passphraseNote")
            layout.addWidget(note)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Create" if self.creating else "Unlock")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(
            "Continue without history"
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.entry.textChanged.connect(self._validate)
        self.confirm.textChanged.connect(self._validate)
        self._validate()
        self.entry.setFocus()

    def problem(self) -> str:
        """What keeps the entry from being usable, or "" when it is."""
        text = self.entry.text()
        if len(text) < MIN_PASSPHRASE:
            return f"At least {MIN_PASSPHRASE} characters ({len(text)} so far)."
        if self.creating and self.confirm.text() != text:
            return "Type the same passphrase again below."
        return ""

    def _validate(self) -> None:
        problem = self.problem()
        self.hint.setText(problem)
        self.ok_button.setEnabled(not problem)

    def accept(self) -> None:
        if not self.problem():
            super().accept()

    def passphrase(self) -> str:
        return self.entry.text()

    def done(self, result: int) -> None:
        super().done(result)
        # ``accepted`` has been handled (the passphrase read) by now: keep no copy around.
        self.entry.clear()
        self.confirm.clear()
