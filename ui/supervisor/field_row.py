"""An editor with its validation message underneath, shared by the supervisor's forms."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

ERROR_STYLE = "color:#b91c1c"


def error_label(name: str) -> QLabel:
    """Red, wrapped, plain text (a message may quote what was typed), hidden until needed."""
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


def with_error(editor: QWidget, name: str) -> tuple[QWidget, QLabel]:
    """The editor and its (hidden) error label stacked in one cell of a form."""
    cell = QWidget()
    box = QVBoxLayout(cell)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(1)
    box.addWidget(editor)
    error = error_label(name)
    box.addWidget(error)
    return cell, error
