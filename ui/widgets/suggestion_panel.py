"""The suggestion area: streams text in, and offers Insert, Regenerate and Dismiss."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from copilot.assist.suggestion import Chunk, Suggestion
from copilot.language import language_name
from ui.widgets.feedback import FeedbackButtons


def show_chunk(editor: QPlainTextEdit, chunk: Chunk) -> None:
    """A streamed piece appended, or the whole text replaced (rules, citations, withheld)."""
    if chunk.replace:
        editor.setPlainText(chunk.text)
    else:
        cursor = editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(chunk.text)


class SuggestionPanel(QWidget):
    insert_requested = Signal()
    regenerate_requested = Signal()
    dismiss_requested = Signal()
    source_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("suggestionPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        title = QLabel("<b>Suggested reply</b>")
        self.meta = QLabel("")
        self.meta.setObjectName("suggestionMeta")
        self.meta.setStyleSheet("color:#6b7280")
        self.feedback = FeedbackButtons("suggestion", ("Alt+Up", "Alt+Down"))
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.meta)
        header.addWidget(self.feedback)
        layout.addLayout(header)

        self.text = QPlainTextEdit()
        self.text.setObjectName("suggestionText")
        self.text.setPlaceholderText("A suggestion appears here when the customer writes.")
        # Low enough that wrapped sources or a notice take room from the text, never overlap it.
        self.text.setMinimumHeight(64)
        layout.addWidget(self.text, 1)

        self.notice = QLabel("")
        self.notice.setObjectName("suggestionNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color:#92400e")
        self.notice.hide()
        layout.addWidget(self.notice)

        self.sources = QLabel("")
        self.sources.setObjectName("suggestionSources")
        self.sources.setWordWrap(True)
        self.sources.linkActivated.connect(lambda link: self.source_clicked.emit(int(link)))
        self.sources.hide()
        layout.addWidget(self.sources)

        buttons = QHBoxLayout()
        self.insert_button = QPushButton("&Insert")
        self.insert_button.setToolTip("Copy the suggestion to the clipboard (Ctrl+I)")
        self.regenerate_button = QPushButton("&Regenerate")
        self.regenerate_button.setToolTip("Write a new suggestion (Ctrl+R)")
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Stop and clear the suggestion (Esc)")
        for button in (self.insert_button, self.regenerate_button, self.dismiss_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.insert_button.clicked.connect(self.insert_requested)
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.dismiss_button.clicked.connect(self.dismiss_requested)
        self.set_busy(False)

    # -- state changes driven by the window ------------------------------------------
    def start(self, profile: str, waiting: str = "Writing…") -> None:
        self.text.clear()
        self.text.setPlaceholderText(waiting)
        self.meta.setText(profile)
        self.notice.hide()
        self.sources.hide()
        self.feedback.reset(enabled=False)
        self.set_busy(True)

    def add(self, chunk: Chunk) -> None:
        show_chunk(self.text, chunk)
        self.text.moveCursor(QTextCursor.MoveOperation.End)

    def finish(self, result: Suggestion, tokens_per_s: float) -> None:
        self.set_busy(False)
        self.feedback.reset(enabled=True)
        parts = [result.profile, language_name(result.language)]
        if result.first_token_s is not None:
            parts.append(f"{result.first_token_s * 1000:.0f} ms")
        self.meta.setText(" · ".join(p for p in parts if p))
        if result.flags:
            self.show_notice("; ".join(result.flags))

    def show_sources(self, sources: list[tuple[int, str]]) -> None:
        """Clickable citations: [n] opens the article the suggestion relied on."""
        if not sources:
            self.sources.hide()
            return
        links = " ".join(f'<a href="{n}">[{n}]</a> {html.escape(title)}' for n, title in sources)
        self.sources.setText("Sources: " + links)
        self.sources.show()

    def show_notice(self, message: str) -> None:
        self.notice.setText(message)
        self.notice.show()

    def clear(
        self, placeholder: str = "A suggestion appears here when the customer writes."
    ) -> None:
        self.text.clear()
        self.text.setPlaceholderText(placeholder)
        self.meta.setText("")
        self.notice.hide()
        self.sources.hide()
        self.feedback.reset(enabled=False)
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.dismiss_button.setText("Stop" if busy else "Dismiss")

    @property
    def current_text(self) -> str:
        return self.text.toPlainText().strip()
