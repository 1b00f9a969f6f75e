"""The supervisor's modal questions in one place, so tests can answer them.

Every confirmation, file picker and error box the supervisor window raises goes
through these functions; a test replaces one with ``monkeypatch.setattr``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from ui.errors import user_message

Button = QMessageBox.StandardButton


class Leave(StrEnum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def confirm(parent: QWidget, title: str, text: str, ok: str = "OK") -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    yes = box.addButton(ok, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(Button.Cancel)
    box.setDefaultButton(Button.Cancel)
    box.exec()
    return box.clickedButton() is yes


def save_discard_cancel(parent: QWidget, text: str) -> Leave:
    box = QMessageBox(QMessageBox.Icon.Question, "Unpublished changes", text, parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setStandardButtons(Button.Save | Button.Discard | Button.Cancel)
    box.button(Button.Save).setText("&Publish")
    box.setDefaultButton(Button.Cancel)
    answer = box.exec()
    if answer == Button.Save:
        return Leave.SAVE
    if answer == Button.Discard:
        return Leave.DISCARD
    return Leave.CANCEL


def inform(parent: QWidget, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def error(parent: QWidget, title: str, exc: BaseException) -> None:
    """A failed action, said in the words of the error (``user_message``)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, user_message(exc), parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def save_path(parent: QWidget, title: str, suggested: str, pattern: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, pattern)
    return Path(path) if path else None


def open_path(parent: QWidget, title: str, pattern: str) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, "", pattern)
    return Path(path) if path else None


def run(dialog: QDialog) -> bool:
    """Show a dialog modally; True when accepted."""
    return dialog.exec() == QDialog.DialogCode.Accepted
