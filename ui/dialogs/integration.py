"""Settings › Integration: the local API's address, state and bearer token."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.clipboard_capture import copy_text

if TYPE_CHECKING:
    from ui.controllers.api_bridge import ApiBridge

GREY = "#6b7280"


def _selectable(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class IntegrationDialog(QDialog):
    def __init__(self, bridge: ApiBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.setObjectName("integrationDialog")
        self.setWindowTitle("Integration")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Phone systems, chat tools and speech-to-text engines on this computer can "
            "feed live contacts to the copilot through its local API, and read its "
            "suggestions. They need the address and the token below."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        self.state = _selectable("apiState")
        self.url = _selectable("apiUrl")
        self.where = _selectable("apiTokenWhere")
        form.addRow("Status", self.state)
        form.addRow("Address", self.url)
        form.addRow("Token", self._token_row())
        form.addRow("Kept in", self.where)
        layout.addLayout(form)
        self.hint = QLabel("")
        self.hint.setObjectName("apiHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color:{GREY}")
        layout.addWidget(self.hint)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._reset_copy = QTimer(self)
        self._reset_copy.setSingleShot(True)
        self._reset_copy.timeout.connect(lambda: self.copy_button.setText("Copy"))
        bridge.changed.connect(self.refresh)

    def _token_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.token = QLineEdit()
        self.token.setObjectName("apiToken")
        self.token.setReadOnly(True)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("API token")
        self.token.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # room for the whole token (43 characters) when shown
        self.token.setMinimumWidth(self.token.fontMetrics().horizontalAdvance("M" * 44))
        self.show_button = QPushButton("Show")
        self.show_button.setObjectName("showTokenButton")
        self.show_button.setCheckable(True)
        self.show_button.toggled.connect(self._on_show_toggled)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copyTokenButton")
        self.copy_button.setToolTip("Copy the token to the clipboard")
        self.copy_button.clicked.connect(self._on_copy)
        row.addWidget(self.token, 1)
        row.addWidget(self.show_button)
        row.addWidget(self.copy_button)
        return row

    def refresh(self) -> None:
        bridge = self.bridge
        if bridge.running is not None:
            self.state.setText("<span style='color:#15803d'>●</span> Running (this computer only)")
            self.url.setText(bridge.url)
            self.hint.setText(
                f"Send <code>Authorization: Bearer &lt;token&gt;</code> with every request. "
                f"The routes are described at {html.escape(bridge.url)}/openapi.json."
            )
        else:
            self.url.setText("—")
            self.hint.setText("")
            if bridge.starting:
                self.state.setText("Starting…")
            elif bridge.problem:
                dot = "<span style='color:#b91c1c'>●</span>"
                self.state.setText(f"{dot} {html.escape(bridge.problem)}")
            else:
                self.state.setText("Off: it starts once the model has loaded.")
        self.token.setText(bridge.token)
        self.token.setCursorPosition(0)
        self.token.setPlaceholderText("" if bridge.token else "not created yet")
        self.where.setText(bridge.where or "—")
        self.copy_button.setEnabled(bool(bridge.token))
        self.show_button.setEnabled(bool(bridge.token))

    def _on_show_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.token.setEchoMode(mode)
        self.show_button.setText("Hide" if shown else "Show")

    def _on_copy(self) -> None:
        copy_text(self.bridge.token)
        self.copy_button.setText("Copied")
        self._reset_copy.start(2000)
