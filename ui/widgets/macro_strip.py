"""Approved replies next to the suggestion: supervisor-written text, filled for this contact.

Matching takes a few milliseconds (one embedding), so the cards show right after the
customer's message, long before the model has finished; that is their point: the
agent has usable text even when the model is slow or weak. The library opens off the
GUI thread after the model, and each match runs in a worker too.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from copilot.analytics.events import Reason, Source
from copilot.contact import Contact
from copilot.errors import CopilotError, FeatureOff
from ui.clipboard_capture import copy_text
from ui.widgets.feedback import FeedbackButtons, Offer, Recorder
from ui.worker import Worker, WorkerPool

if TYPE_CHECKING:
    from copilot.macros.library import MacroLibrary, MacroMatch
    from ui.window.main_window import MainWindow

log = logging.getLogger(__name__)
MAX_CARDS = 3
_GAP = re.compile(r"\[[^\[\]\n]{1,40}\]")
_MISSING_STYLE = "background:#fde68a; color:#78350f"


def preview_html(text: str, missing: list[str]) -> str:
    """The filled text on one line, with each gap the agent must fill highlighted."""
    gaps = {name.replace("_", " ") for name in missing}
    parts: list[str] = []
    last = 0
    for found in _GAP.finditer(text):
        parts.append(html.escape(text[last : found.start()]))
        gap = html.escape(found.group())
        inner = found.group()[1:-1]
        parts.append(f'<span style="{_MISSING_STYLE}">{gap}</span>' if inner in gaps else gap)
        last = found.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


class PreviewLine(QLabel):
    """One line of a reply's text, cut with … to the width it is given."""

    def __init__(self, text: str, missing: list[str]) -> None:
        super().__init__()
        self.full = " ".join(text.split())
        self.missing = missing
        self.setObjectName("macroPreview")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setStyleSheet("color:#374151")
        self._elide(200)

    def _elide(self, width: int) -> None:
        short = QFontMetrics(self.font()).elidedText(
            self.full, Qt.TextElideMode.ElideRight, max(40, width)
        )
        self.setText(preview_html(short, self.missing))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        self._elide(event.size().width())
        super().resizeEvent(event)


class MacroCard(QFrame):
    """Title, filled text, Insert, thumbs: one approved reply."""

    insert_requested = Signal()

    def __init__(self, number: int, match: MacroMatch) -> None:
        super().__init__()
        self.setObjectName("macroCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.filled_text = match.filled.text
        self.setToolTip(self._tooltip(match))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 1, 4, 1)
        layout.setSpacing(0)
        top = QHBoxLayout()
        top.setSpacing(4)
        self.title = QLabel(f"<b>{number}</b>&nbsp; {html.escape(match.macro.title)}")
        self.title.setObjectName("macroTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # A tool button: a push button's frame would make three cards too tall.
        self.insert_button = QToolButton()
        self.insert_button.setText("Insert")
        self.insert_button.setObjectName("macroInsert")
        self.insert_button.setToolTip(f"Copy this approved reply to the clipboard (Alt+{number})")
        self.insert_button.clicked.connect(self.insert_requested)
        self.feedback = FeedbackButtons("approved reply")
        self.feedback.reset(enabled=True)
        top.addWidget(self.title, 1)
        top.addWidget(self.insert_button)
        top.addWidget(self.feedback)
        layout.addLayout(top)
        self.preview = PreviewLine(match.filled.text, list(match.filled.missing))
        layout.addWidget(self.preview)

    @staticmethod
    def _tooltip(match: MacroMatch) -> str:
        text = html.escape(match.filled.text).replace("\n", "<br>")
        missing = ", ".join(m.replace("_", " ") for m in match.filled.missing)
        fill = f"<br><i>Fill in: {html.escape(missing)}</i>" if missing else ""
        return f"<p>{text}</p>{fill}"


class MacroStrip(QWidget):
    """The collapsible strip of up to three approved replies."""

    #: The card's index (0-based).
    insert_requested = Signal(int)
    #: (index, up, reason)
    feedback_given = Signal(int, bool, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("macroStrip")
        self.cards: list[MacroCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        header = QHBoxLayout()
        self.toggle = QToolButton()
        self.toggle.setObjectName("macroToggle")
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setStyleSheet("QToolButton { border: none; font-weight: 600; padding: 1px; }")
        self.toggle.setToolTip("Show or hide the approved replies (Alt+1, Alt+2, Alt+3 insert)")
        self.toggle.toggled.connect(self.set_expanded)
        self.status = QLabel("")
        self.status.setObjectName("macroStatus")
        self.status.setStyleSheet("color:#6b7280")
        header.addWidget(self.toggle)
        header.addStretch(1)
        header.addWidget(self.status)
        layout.addLayout(header)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.body_layout.setSpacing(2)
        layout.addWidget(self.body)
        self.set_expanded(True)

    def set_expanded(self, on: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.body.setVisible(on)
        self._title()

    def _title(self) -> None:
        count = f" ({len(self.cards)})" if self.cards else ""
        self.toggle.setText(f"Approved replies{count}")

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def show_matches(self, matches: list[MacroMatch]) -> None:
        self._remove_cards()
        for index, match in enumerate(matches[:MAX_CARDS]):
            card = MacroCard(index + 1, match)
            card.insert_requested.connect(lambda i=index: self.insert_requested.emit(i))
            card.feedback.given.connect(
                lambda up, reason, i=index: self.feedback_given.emit(i, up, reason)
            )
            self.body_layout.addWidget(card)
            card.show()  # now, not after the next event loop turn
            self.cards.append(card)
        self.set_status("" if matches else "none fit this conversation")
        self._title()

    def clear(self, status: str = "") -> None:
        self._remove_cards()
        self.set_status(status)
        self._title()

    def _remove_cards(self) -> None:
        for card in self.cards:
            self.body_layout.removeWidget(card)
            card.hide()  # gone now; the object itself goes when control returns to Qt
            card.deleteLater()
        self.cards = []


class MacroController(QObject):
    """Opens the library, matches it to each customer message, records what the agent uses."""

    ready = Signal()
    failed = Signal(object)
    #: The cards for a contact were drawn: (contact id, count).
    shown = Signal(str, int)
    #: The matches behind the cards, for the local API to mirror: (contact id, matches).
    matched = Signal(str, object)

    def __init__(self, strip: MacroStrip, host: MainWindow, recorder: Recorder) -> None:
        super().__init__(host)
        self.strip = strip
        self.host = host
        self.recorder = recorder
        self.library: MacroLibrary | None = None
        self.offers: list[Offer] = []
        self.missing: list[list[str]] = []
        self.workers = WorkerPool(max_threads=1)
        self._started = False
        self._latest = 0
        self._waiting: Contact | None = None
        strip.insert_requested.connect(self.insert)
        strip.feedback_given.connect(self._on_feedback)

    # -- opening -----------------------------------------------------------------------
    def start_once(self) -> None:
        if self._started:
            return
        self._started = True
        self.strip.set_status("opening…")
        settings = self.host.runtime.settings

        def job(cancel: threading.Event) -> MacroLibrary:
            from copilot.macros.library import MacroLibrary

            library = MacroLibrary.open(settings)
            library.index()  # embeds the replies now, so each match takes milliseconds
            return library

        worker = Worker(job, "macros-open")
        worker.signals.finished.connect(self._on_opened)
        worker.signals.failed.connect(self._on_open_failed)
        self.workers.start(worker)

    def _on_opened(self, _id: int, library: MacroLibrary) -> None:
        self.library = library
        self.strip.set_status("")
        self.ready.emit()
        if self._waiting is not None:
            contact, self._waiting = self._waiting, None
            self.match_for(contact)

    def _on_open_failed(self, _id: int, exc: BaseException) -> None:
        self.strip.set_status("unavailable")
        if isinstance(exc, CopilotError):
            exc = FeatureOff(f"Approved replies are off. {exc.user_message}")
        self.failed.emit(exc)

    # -- matching ------------------------------------------------------------------------
    def match_for(self, contact: Contact) -> None:
        """Replies for the conversation so far (a snapshot); older requests are dropped."""
        self.offers = []
        if self.library is None:
            self._waiting = contact if self._started else None
            self.strip.clear("opening…" if self._started else "")
            return
        library, language = self.library, self._language()
        library.company = self.host.company  # the demo contact's company is not the settings'
        worker = Worker(lambda cancel: library.match(contact, language=language), "macros-match")
        self._latest = worker.id
        worker.signals.finished.connect(
            lambda worker_id, matches: self._on_matched(worker_id, contact.id, matches)
        )
        worker.signals.failed.connect(self._on_match_failed)
        self.strip.clear("matching…")
        self.workers.start(worker)

    def _language(self) -> str | None:
        """A profile with a fixed reply language gets replies in it; else the customer's."""
        try:
            fixed = self.host.runtime.profile(self.host.profile_box.currentText()).reply_language
        except CopilotError:
            return None
        return None if fixed == "customer" else fixed

    def _on_matched(self, worker_id: int, contact_id: str, matches: list[Any]) -> None:
        if worker_id != self._latest or contact_id != self.host.contact.id:
            return
        shown = matches[:MAX_CARDS]
        self.strip.show_matches(shown)
        profile = self.host.profile_box.currentText()
        self.offers = [Offer(Source.MACRO, profile, contact_id, m.filled.text) for m in shown]
        self.missing = [list(m.filled.missing) for m in shown]
        for offer in self.offers:
            self.recorder.shown(offer)
        self.shown.emit(contact_id, len(shown))
        self.matched.emit(contact_id, shown)

    def _on_match_failed(self, worker_id: int, exc: BaseException) -> None:
        if worker_id == self._latest:
            log.warning("approved replies: matching failed: %s", type(exc).__name__)
            self.strip.clear("matching failed")

    def clear(self) -> None:
        """The customer has not written (again) yet: nothing to offer."""
        self._latest, self._waiting, self.offers = 0, None, []
        self.strip.clear()

    # -- the agent's choices ---------------------------------------------------------------
    def insert(self, index: int) -> None:
        if not 0 <= index < len(self.offers):
            self.host.statusBar().showMessage(f"There is no approved reply {index + 1}.", 4000)
            return
        offer = self.offers[index]
        copy_text(offer.text)
        self.recorder.inserted(offer, offer.text)
        hint = " Fill in the highlighted gaps before sending." if self.missing[index] else ""
        self.host.statusBar().showMessage(
            f"Approved reply {index + 1} copied. Paste it (Ctrl+V).{hint}", 6000
        )

    def _on_feedback(self, index: int, up: bool, reason: Reason | None) -> None:
        if 0 <= index < len(self.offers):
            offer = self.offers[index]
            self.recorder.feedback(Source.MACRO, offer.profile, up, reason, offer.id)

    def close(self) -> None:
        self.workers.cancel_all()
        self.workers.wait(10_000)
