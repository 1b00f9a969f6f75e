"""Customer history beside the live contact: who it is, what to know, what came before.

The digest and the timeline are drawn as HTML in a text browser (it wraps well in a
narrow window); a contact row's header is a link that opens its full summary. Below
it, the live contact's rolling summary and the button that asks the model for one.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from copilot.history.digest import CHANNEL_NAMES, Digest, ago
from copilot.history.records import ContactSummary
from copilot.history.service import Timeline
from copilot.history.store import StoredContact

GREY = "#6b7280"
INK = "#1f2937"
AMBER_INK = "#92400e"
_DISPOSITION_COLOURS = {
    "resolved": "#166534",
    "information": "#374151",
    "follow-up": AMBER_INK,
    "callback": AMBER_INK,
    "escalated": "#991b1b",
    "unresolved": "#991b1b",
}
_STYLE = "a { text-decoration: none; color: #1f3b57; }"


def _e(text: str) -> str:
    return html.escape(text)


def _channel(value: str) -> str:
    name = CHANNEL_NAMES.get(value, value)
    return name[:1].upper() + name[1:]


def _disposition(value: str | None) -> str:
    if not value:
        return ""
    colour = _DISPOSITION_COLOURS.get(value, INK)
    return f'<span style="color:{colour}">{_e(value)}</span>'


def _bullets(items: list[str]) -> str:
    """Compact bullets: a <ul> spends a blank line above and below in a narrow panel."""
    lines = "<br>".join(f"• {_e(item)}" for item in items)
    return f'<div style="margin-left:10px">{lines}</div>'


def summary_html(summary: ContactSummary | None) -> str:
    """The full structured summary, field by field (used for an opened timeline row)."""
    if summary is None:
        return f'<span style="color:{GREY}">No summary stored for this contact.</span>'
    parts = []
    if summary.reason:
        parts.append(f"<b>Reason:</b> {_e(summary.reason)}")
    if summary.actions:
        parts.append(f"<b>Actions:</b>{_bullets(summary.actions)}")
    if summary.resolution:
        parts.append(f"<b>Resolution:</b> {_e(summary.resolution)}")
    if summary.open_items:
        parts.append(f'<b style="color:{AMBER_INK}">Open items:</b>{_bullets(summary.open_items)}')
    parts.append(
        f"<b>Sentiment:</b> {_e(summary.sentiment.value)} · "
        f"<b>Disposition:</b> {_disposition(summary.disposition.value)}"
    )
    parts.append(f'<span style="color:{GREY}">Summary: {_e(summary.method.value)}</span>')
    # a bullet block ends its own line; anything else needs a line break before the next
    breaks = ["" if p.endswith("</div>") else "<br>" for p in parts[:-1]] + [""]
    return "".join(p + b for p, b in zip(parts, breaks, strict=True))


def digest_html(digest: Digest) -> str:
    """The "what you need to know" box: open items first and in colour, then the rest."""
    rows = [f'<span style="color:{GREY}">{_e(digest.headline)}</span>']
    for point in digest.points:
        if point.startswith("Open"):
            label, _, rest = point.partition(":")
            rows.append(
                f'<b style="color:{AMBER_INK}">● {_e(label)}:</b> '
                f'<span style="color:{INK}">{_e(rest.strip())}</span>'
            )
        else:
            rows.append(f'<span style="color:{INK}">● {_e(point)}</span>')
    body = "<br>".join(rows)
    return (
        '<table width="100%" cellspacing="0" cellpadding="6" style="margin-bottom:4px">'
        f'<tr><td style="background:#fff7e6; border:1px solid #f3d19c">'
        f'<b style="color:{INK}">What you need to know</b><br>{body}</td></tr></table>'
    )


def row_html(contact: StoredContact, opened: bool, now: datetime) -> str:
    summary = contact.summary
    when = contact.started_at.astimezone()
    date = f"{when:%-d %b}" if when.year == now.year else f"{when:%-d %b %Y}"
    marker = "▾" if opened else "▸"
    head = (
        f'<a href="contact:{_e(contact.id)}"><b>{marker} {date}</b> · '
        f"{_e(_channel(contact.channel))} · {_disposition(contact.disposition)}"
        f' <span style="color:{GREY}">· {_e(ago(contact.started_at, now))}'
        f"{' · ' + _e(contact.agent) if contact.agent else ''}</span></a>"
    )
    if opened:
        body = (
            '<table width="100%" cellspacing="0" cellpadding="4"><tr>'
            f'<td style="background:#f3f4f6">{summary_html(summary)}</td></tr></table>'
        )
    else:
        body = _e(summary.reason) if summary and summary.reason else "(no summary)"
    return f'<p style="margin-top:6px; margin-bottom:0">{head}<br>{body}</p>'


def live_html(summary: ContactSummary | None) -> str:
    """The live contact in one flowing paragraph: every line of the small box is used."""
    if summary is None:
        return ""
    parts = []
    if summary.reason:
        parts.append(f"<b>Why:</b> {_e(summary.reason)}")
    done = [*summary.actions, summary.resolution] if summary.resolution else summary.actions
    if done:
        parts.append("<b>Done:</b> " + _e(" ".join(done)))
    if summary.open_items:
        parts.append(f'<b style="color:{AMBER_INK}">Open:</b> ' + _e(" ".join(summary.open_items)))
    parts.append(
        f'<span style="color:{GREY}">({_e(summary.sentiment.value)}, '
        f"{_e(summary.disposition.value)})</span>"
    )
    return " ".join(parts)


class HistoryPanel(QWidget):
    summarise_requested = Signal()
    unlock_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.timeline: Timeline | None = None
        self.opened: set[str] = set()
        self.live: ContactSummary | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        header = QHBoxLayout()
        self.title = QLabel("<b>Customer</b>")
        self.title.setObjectName("historyTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("historyStatus")
        self.status.setStyleSheet(f"color:{GREY}")
        self.status.linkActivated.connect(self._on_status_link)
        header.addWidget(self.title, 1)
        header.addWidget(self.status)
        layout.addLayout(header)
        self.view = QTextBrowser()
        self.view.setObjectName("historyView")
        self.view.setAccessibleName("Customer history")
        self.view.setOpenLinks(False)
        self.view.document().setDefaultStyleSheet(_STYLE)
        self.view.anchorClicked.connect(self._on_anchor)
        layout.addWidget(self.view, 1)
        layout.addLayout(self._build_live())
        self.live_view = QTextBrowser()
        self.live_view.setObjectName("liveSummary")
        self.live_view.setAccessibleName("Live contact summary")
        lines = self.live_view.fontMetrics().lineSpacing()
        self.live_view.setMaximumHeight(lines * 3 + 10)
        self.live_view.hide()
        layout.addWidget(self.live_view)
        self.show_no_customer()
        self.show_live(None)

    def _build_live(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Live contact</b>"))
        self.live_meta = QLabel("")
        self.live_meta.setObjectName("liveMeta")
        self.live_meta.setStyleSheet(f"color:{GREY}")
        row.addWidget(self.live_meta, 1)
        self.summarise_button = QPushButton("Summarise now")
        self.summarise_button.setObjectName("summariseButton")
        self.summarise_button.setToolTip(
            "Ask the model for a handover summary of the live contact (Ctrl+Shift+S)"
        )
        self.summarise_button.clicked.connect(self.summarise_requested)
        row.addWidget(self.summarise_button)
        return row

    # -- customer and timeline -------------------------------------------------------
    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def show_no_customer(self, note: str = "") -> None:
        self.timeline = None
        self.title.setText("<b>Customer</b>")
        self.view.setHtml(
            f'<p style="color:{GREY}">'
            + _e(
                note
                or "Type the customer's phone number, email or handle in the box above "
                "(Ctrl+F) to see their earlier contacts."
            )
            + "</p>"
        )

    def show_new_customer(self, identifier: str, name: str = "") -> None:
        self.timeline = None
        who = f"{_e(name)} · " if name else ""
        self.title.setText(
            f"<b>New customer</b> <span style='color:{GREY}'>{who}{_e(identifier)}</span>"
        )
        self.view.setHtml(
            f'<p style="color:{GREY}">No earlier contacts for {_e(identifier)}. '
            "When you end this contact, it is saved as a new customer.</p>"
        )

    def show_off(self, reason: str) -> None:
        """History could not be opened: say why and offer to unlock it again."""
        self.timeline = None
        self.title.setText("<b>Customer history is off</b>")
        self.set_status('<a href="unlock">Unlock…</a>')
        self.view.setHtml(
            f'<p style="color:{AMBER_INK}">{_e(reason)}</p>'
            f'<p style="color:{GREY}">Suggestions, articles and the live summary still work. '
            "Click Unlock… (top right) to try again.</p>"
        )

    def show_timeline(self, timeline: Timeline, how: str) -> None:
        """Draw the customer, the digest and the earlier contacts (newest first)."""
        if self.timeline is None or self.timeline.customer.id != timeline.customer.id:
            self.opened = set()
        self.timeline = timeline
        customer = timeline.customer
        self.title.setText(
            f"<b>{_e(customer.name or customer.label)}</b>"
            f" <span style='color:{GREY}'>· {_e(how)}</span>"
        )
        self._render()

    def _render(self) -> None:
        timeline = self.timeline
        if timeline is None:
            return
        now = datetime.now(UTC)
        parts = [digest_html(timeline.digest)]
        if timeline.contacts:
            parts.append(
                f'<p style="margin-bottom:0"><b>Earlier contacts</b> '
                f'<span style="color:{GREY}">· click one for its full summary</span></p>'
            )
        parts += [row_html(c, c.id in self.opened, now) for c in timeline.contacts]
        scroll = self.view.verticalScrollBar().value()
        self.view.setHtml("".join(parts))
        self.view.verticalScrollBar().setValue(scroll)

    @property
    def rows(self) -> list[StoredContact]:
        return list(self.timeline.contacts) if self.timeline else []

    def toggle(self, contact_id: str) -> None:
        self.opened ^= {contact_id}
        self._render()

    # -- live contact ------------------------------------------------------------------
    def show_live(self, summary: ContactSummary | None, meta: str = "") -> None:
        self.live = summary
        self.live_view.setHtml(live_html(summary))
        self.live_view.setVisible(summary is not None)
        self.live_meta.setText(meta or "builds up as the conversation goes on")

    def set_summarising(self, busy: bool) -> None:
        self.summarise_button.setEnabled(not busy)
        if busy:
            self.live_meta.setText("the model is summarising…")

    def _on_anchor(self, url: QUrl) -> None:
        kind, _, value = url.toString().partition(":")
        if kind == "contact":
            self.toggle(value)

    def _on_status_link(self, link: str) -> None:
        if link == "unlock":
            self.unlock_requested.emit()
