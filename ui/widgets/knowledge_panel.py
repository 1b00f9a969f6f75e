"""Knowledge articles for the live contact: title, section, the passage that matters.

Hits are drawn as HTML in a text browser; the links under each hit open the
article, copy its link, pin it (pinned hits stay on top across refreshes) or rate
it (Helpful / Not helpful, the latter with a reason).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from copilot.analytics.events import Reason
from ui.clipboard_capture import copy_text
from ui.widgets.feedback import reason_menu

# Type names only: the knowledge base loads chromadb, which must not slow the start.
if TYPE_CHECKING:
    from copilot.kb.retrieval import Hit
    from copilot.kb.store import StoredPassage


_MARK = "background:#fff3a3"


def passage_html(hit: Hit) -> str:
    text = hit.passage.text
    start, end = hit.highlight
    body = (
        html.escape(text[:start])
        + f'<span style="{_MARK}">{html.escape(text[start:end])}</span>'
        + html.escape(text[end:])
    )
    return body.replace("\n", "<br>")


def _section_line(hit: Hit) -> str:
    if not hit.passage.path:
        return ""
    return f'<br><span style="color:#6b7280">{html.escape(" › ".join(hit.passage.path))}</span>'


class KnowledgePanel(QWidget):
    search_requested = Signal(str)
    open_requested = Signal(object)
    #: Hits were drawn: (how many, "conversation" or "search").
    hits_shown = Signal(int, str)
    #: The agent rated a hit: (hit, up, reason or None).
    feedback_given = Signal(object, bool, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("knowledgePanel")
        self.hits: list[Hit] = []
        self.pinned: list[Hit] = []
        #: Rated hits by chunk id (a rating holds across refreshes of the same passage).
        self.rated: dict[str, bool] = {}
        self.menu: QMenu | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Knowledge</b>"))
        self.status = QLabel("")
        self.status.setObjectName("knowledgeStatus")
        self.status.setStyleSheet("color:#6b7280")
        header.addStretch(1)
        header.addWidget(self.status)
        layout.addLayout(header)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("knowledgeSearch")
        self.search_box.setPlaceholderText("Search the knowledge base (Ctrl+K)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.returnPressed.connect(self._on_search)
        layout.addWidget(self.search_box)
        self.view = QTextBrowser()
        self.view.setObjectName("knowledgeView")
        self.view.setOpenLinks(False)
        self.view.anchorClicked.connect(self._on_anchor)
        self.view.setPlaceholderText("Articles that fit the conversation appear here.")
        layout.addWidget(self.view, 1)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def show_hits(self, hits: list[Hit], origin: str = "conversation") -> None:
        pinned_ids = {h.passage.chunk_id for h in self.pinned}
        self.hits = self.pinned + [h for h in hits if h.passage.chunk_id not in pinned_ids]
        self.set_status(
            f"{len(hits)} for the {origin}" if hits else f"nothing found for the {origin}"
        )
        self._render()
        self.hits_shown.emit(len(hits), origin)

    def _render(self) -> None:
        pinned_ids = {h.passage.chunk_id for h in self.pinned}
        blocks = []
        for index, hit in enumerate(self.hits):
            pin = "Unpin" if hit.passage.chunk_id in pinned_ids else "Pin"
            link = str(hit.passage.meta.get("url", ""))
            links = [f'<a href="open:{index}">Open</a>', f'<a href="pin:{index}">{pin}</a>']
            if link:
                links.insert(1, f'<a href="copy:{index}">Copy link</a>')
            links.append(self._rating(index, hit))
            marker = "📌 " if pin == "Unpin" else ""
            blocks.append(
                f'<p style="margin-bottom:2px"><b>[{index + 1}] {marker}'
                f"{html.escape(hit.passage.title)}</b>"
                + _section_line(hit)
                + f'</p><p style="margin-top:0">{passage_html(hit)}<br>'
                + " · ".join(links)
                + "</p>"
            )
        self.view.setHtml("".join(blocks))

    def _rating(self, index: int, hit: Hit) -> str:
        rated = self.rated.get(hit.passage.chunk_id)
        if rated is not None:
            verdict = "helpful" if rated else "not helpful"
            return f'<span style="color:#6b7280">Thanks ({verdict})</span>'
        return (
            f'<a href="up:{index}" style="color:#15803d">Helpful</a> · '
            f'<a href="down:{index}" style="color:#b91c1c">Not helpful</a>'
        )

    def rate(self, hit: Hit, up: bool, reason: Reason | None = None) -> None:
        """Record a rating once per passage and show it as thanks."""
        if hit.passage.chunk_id in self.rated:
            return
        self.rated[hit.passage.chunk_id] = up
        self._render()
        self.feedback_given.emit(hit, up, reason)

    def _ask_reason(self, hit: Hit) -> None:
        self.menu = reason_menu(self, lambda reason: self.rate(hit, False, reason))
        self.menu.popup(QCursor.pos(), self.menu.activeAction())

    def _on_search(self) -> None:
        text = self.search_box.text().strip()
        if text:
            self.search_requested.emit(text)

    def _on_anchor(self, url: QUrl) -> None:
        action, _, raw = url.toString().partition(":")
        if not raw.isdigit() or int(raw) >= len(self.hits):
            return
        hit = self.hits[int(raw)]
        if action == "open":
            self.open_requested.emit(hit)
        elif action == "copy":
            copy_text(str(hit.passage.meta.get("url", "")))
            self.set_status("Link copied")
        elif action == "pin":
            self.toggle_pin(hit)
        elif action == "up":
            self.rate(hit, True)
        elif action == "down":
            self._ask_reason(hit)

    def toggle_pin(self, hit: Hit) -> None:
        ids = [h.passage.chunk_id for h in self.pinned]
        if hit.passage.chunk_id in ids:
            self.pinned = [h for h in self.pinned if h.passage.chunk_id != hit.passage.chunk_id]
        else:
            self.pinned.append(hit)
        self._render()


class ArticleView(QDialog):
    """The whole article, scrolled to the passage the agent came from."""

    def __init__(
        self, hit: Hit, passages: list[StoredPassage], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("articleView")
        self.setWindowTitle(hit.passage.title)
        self.resize(560, 640)
        layout = QVBoxLayout(self)
        browser = QTextBrowser()
        browser.setObjectName("articleText")
        browser.setOpenExternalLinks(False)
        parts = [f"<h2>{html.escape(hit.passage.title)}</h2>"]
        url = str(hit.passage.meta.get("url", ""))
        if url:
            parts.append(f'<p style="color:#6b7280">{html.escape(url)}</p>')
        last_path: tuple[str, ...] = ()
        for passage in passages:
            if passage.path and passage.path != last_path:
                parts.append(f"<h3>{html.escape(' › '.join(passage.path))}</h3>")
                last_path = passage.path
            if passage.chunk_id == hit.passage.chunk_id:
                parts.append(f'<a name="hit"></a><p>{passage_html(hit)}</p>')
            else:
                parts.append(f"<p>{html.escape(passage.text).replace(chr(10), '<br>')}</p>")
        browser.setHtml("".join(parts))
        # Scroll once the dialog is laid out; before that there is nothing to scroll.
        QTimer.singleShot(0, lambda: browser.scrollToAnchor("hit"))
        layout.addWidget(browser)
        self.browser = browser
