"""The live conversation, newest at the bottom, customer and agent told apart at a glance."""

from __future__ import annotations

import html

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from copilot.contact import Contact, Role

_STYLE = {
    Role.CUSTOMER: ("Customer", "#1f3b57", "#e8f0fa", 0),
    Role.AGENT: ("You", "#22543d", "#e9f6ee", 28),
}


class ConversationView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversation")
        self.setOpenLinks(False)
        self.setPlaceholderText(
            "No messages yet. Paste or type what the customer said below and press Ctrl+Enter."
        )
        self.contact: Contact | None = None
        #: The caller's words not final yet (speech-to-text through the API); "" for none.
        self.speaking = ""

    def show_contact(self, contact: Contact) -> None:
        if self.contact is None or self.contact.id != contact.id:
            self.speaking = ""
        self.contact = contact
        self._render()

    def show_speaking(self, text: str) -> None:
        """A subtle line under the turns with the latest speech segment; '' removes it."""
        self.speaking = text
        self._render()

    def _render(self) -> None:
        rows = []
        for turn in self.contact.turns if self.contact is not None else []:
            label, fg, bg, indent = _STYLE[turn.role]
            when = turn.at.astimezone().strftime("%H:%M")
            body = html.escape(turn.text).replace("\n", "<br>")
            rows.append(
                f'<table width="100%" cellspacing="0" cellpadding="6" '
                f'style="margin-bottom:6px; margin-left:{indent}px">'
                f'<tr><td style="background:{bg}">'
                f'<span style="color:{fg};font-weight:600">{label}</span>'
                f' <span style="color:#6b7280;font-size:small">{when}</span><br>{body}'
                f"</td></tr></table>"
            )
        if self.speaking:
            rows.append(
                '<p style="color:#6b7280; font-style:italic">'
                f"Caller is speaking: {html.escape(self.speaking)}…</p>"
            )
        self.setHtml("".join(rows))
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.ensureCursorVisible()
