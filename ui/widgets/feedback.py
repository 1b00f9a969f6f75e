"""Thumbs up/down with an optional reason, and the one place the window records analytics.

Analytics keep only numbers, enums and ids; the text of a suggestion is handed to the
store just long enough to measure an edit distance. Recording must never get in the
agent's way: a broken store is reported once and the window carries on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap, QTransform
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from copilot.analytics.events import Reason, Source
from copilot.errors import CopilotError, FeatureOff

if TYPE_CHECKING:
    from copilot.analytics.store import Analytics
    from copilot.settings import Settings

log = logging.getLogger(__name__)
#: Reasons offered after a thumb down (``helpful`` belongs to a thumb up).
DOWN_REASONS = [r for r in Reason if r is not Reason.HELPFUL]
NO_REASON = "No reason"


def open_analytics(settings: Settings, report: Callable[[BaseException], None]) -> Analytics | None:
    """Cheap enough for the GUI thread; when it fails the agent is told once, unrecorded."""
    try:
        from copilot.analytics.store import Analytics

        return Analytics.open(settings)
    except Exception as exc:  # noqa: BLE001 - analytics never stop the window
        log.warning("analytics unavailable: %s", type(exc).__name__)
        message = exc.user_message if isinstance(exc, CopilotError) else type(exc).__name__
        report(FeatureOff(f"Analytics are off: {message}"))
        return None


@dataclass
class Offer:
    """One suggestion or approved reply shown to the agent, as analytics know it."""

    source: Source
    profile: str
    contact_id: str
    text: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    shown: bool = False
    inserted: bool = False
    dismissed: bool = False


class Recorder:
    """Writes analytics events; without a store (it failed to open) it does nothing."""

    def __init__(self, analytics: Analytics | None, report: Callable[[BaseException], None]):
        self.analytics = analytics
        self._report = report
        self._reported = False
        #: (contact id, text) the agent was last offered or inserted, for reply_sent; in
        #: memory only, and only for the live contact.
        self._offered: tuple[str, str] | None = None

    def _call(self, name: str, **values: Any) -> None:
        if self.analytics is None:
            return
        try:
            getattr(self.analytics, name)(**values)
        except Exception as exc:  # noqa: BLE001 - analytics never stop the agent's work
            log.warning("analytics %s failed: %s", name, type(exc).__name__)
            self._problem(f"{type(exc).__name__} while recording.")
            return
        error = self.analytics.take_error()
        if error:
            self._problem(str(error))

    def _problem(self, message: str) -> None:
        if not self._reported:
            self._reported = True
            self._report(FeatureOff(f"Analytics are not being recorded: {message}"))

    def shown(self, offer: Offer, first_token_ms: float | None = None, language: str = "") -> None:
        if offer.shown:
            return
        offer.shown = True
        if offer.source is not Source.MACRO:
            self._offered = (offer.contact_id, offer.text)
        self._call(
            "suggestion_shown",
            suggestion_id=offer.id,
            profile=offer.profile,
            source=offer.source,
            first_token_ms=first_token_ms,
            language=language,
        )

    def inserted(self, offer: Offer, inserted: str) -> None:
        """Counted once per offer: a second Insert is the same acceptance."""
        self._offered = (offer.contact_id, inserted)
        if offer.inserted:
            return
        offer.inserted = True
        self._call(
            "suggestion_inserted",
            suggestion_id=offer.id,
            profile=offer.profile,
            source=offer.source,
            original=offer.text,
            inserted=inserted,
        )

    def dismissed(self, offer: Offer | None) -> None:
        """A shown offer the agent did not use: Dismiss, or replaced by a newer one."""
        if offer is None or not offer.shown or offer.inserted or offer.dismissed:
            return
        offer.dismissed = True
        self._call(
            "suggestion_dismissed",
            suggestion_id=offer.id,
            profile=offer.profile,
            source=offer.source,
        )

    def reply_sent(self, contact_id: str, profile: str, sent: str) -> None:
        last, self._offered = self._offered, None
        suggested = last[1] if last is not None and last[0] == contact_id else None
        self._call("reply_sent", profile=profile, suggested=suggested, sent=sent)

    def kb_opened(self, profile: str, doc_id: str) -> None:
        self._call("kb_opened", profile=profile, doc_id=doc_id)

    def feedback(
        self, target: Source, profile: str, up: bool, reason: Reason | None, ref: str
    ) -> None:
        self._call("feedback", target=target, profile=profile, up=up, reason=reason, ref=ref)


# -- the thumbs ------------------------------------------------------------------------
def thumb_icon(up: bool, colour: str) -> QIcon:
    """A painted thumb: emoji need a colour-emoji font that many desktops lack."""
    size = 32
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if not up:
        painter.setTransform(QTransform(1, 0, 0, -1, 0, size))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawRoundedRect(QRectF(3, 14, 6, 15), 1.5, 1.5)  # the cuff
    hand = QPainterPath()
    hand.moveTo(11, 14)
    hand.lineTo(15, 13)
    hand.lineTo(17, 4)
    hand.quadTo(21, 3, 21, 7)
    hand.lineTo(20, 12)
    hand.lineTo(27, 12)
    hand.quadTo(30, 13, 29, 16)
    hand.lineTo(26, 27)
    hand.quadTo(25, 29, 23, 29)
    hand.lineTo(11, 29)
    hand.closeSubpath()
    painter.drawPath(hand)
    painter.end()
    return QIcon(pixmap)


def reason_menu(parent: QWidget, chosen: Callable[[Reason | None], None]) -> QMenu:
    """The reasons for a thumb down; 'No reason' is first and active, so Enter takes it."""
    menu = QMenu(parent)
    menu.setObjectName("feedbackReasons")
    plain = menu.addAction(NO_REASON)
    plain.triggered.connect(lambda: chosen(None))
    menu.addSeparator()
    for reason in DOWN_REASONS:
        act = menu.addAction(reason.value.capitalize())
        act.triggered.connect(lambda _checked=False, r=reason: chosen(r))
    menu.setActiveAction(plain)
    return menu


class FeedbackButtons(QWidget):
    """👍 / 👎 for one suggestion, hit or reply; a thumb down asks for a reason."""

    #: (up, reason or None)
    given = Signal(bool, object)

    def __init__(
        self, what: str, keys: tuple[str, str] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("feedback")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        up_keys = f" ({keys[0]})" if keys else ""
        down_keys = f" ({keys[1]})" if keys else ""
        self.up_button = self._button("Good", thumb_icon(True, "#15803d"))
        self.up_button.setToolTip(f"Good {what}{up_keys}")
        self.down_button = self._button("Bad", thumb_icon(False, "#b91c1c"))
        self.down_button.setToolTip(f"Bad {what}: choose a reason{down_keys}")
        self.thanks = QLabel("Thanks")
        self.thanks.setObjectName("feedbackThanks")
        self.thanks.setStyleSheet("color:#6b7280")
        for widget in (self.up_button, self.down_button, self.thanks):
            layout.addWidget(widget)
        self.up_button.clicked.connect(self.give_up)
        self.down_button.clicked.connect(self.ask_reason)
        self.menu: QMenu | None = None
        self.reset(enabled=False)

    def _button(self, name: str, icon: QIcon) -> QToolButton:
        button = QToolButton()
        button.setObjectName(f"feedback{name}")
        button.setIcon(icon)
        button.setIconSize(QSize(16, 16))
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    def reset(self, enabled: bool = True) -> None:
        """Ready for a new target (enabled) or nothing to rate yet."""
        self.done = False
        self.thanks.hide()
        for button in (self.up_button, self.down_button):
            button.show()
            button.setEnabled(enabled)

    def give_up(self) -> None:
        if self.up_button.isEnabled() and not self.done:
            self._give(True, None)

    def ask_reason(self) -> None:
        """Pop the reasons up under 👎 without blocking (a choice records, Esc does not)."""
        if not self.down_button.isEnabled() or self.done:
            return
        self.menu = reason_menu(self, lambda reason: self._give(False, reason))
        point = self.down_button.mapToGlobal(QPointF(0, self.down_button.height()).toPoint())
        self.menu.popup(point, self.menu.activeAction())

    def _give(self, up: bool, reason: Reason | None) -> None:
        if self.done:
            return
        self.done = True
        self.up_button.hide()
        self.down_button.hide()
        self.thanks.setToolTip(
            f"Recorded: {'good' if up else 'bad'}" + (f", {reason}" if reason else "")
        )
        self.thanks.show()
        self.given.emit(up, reason)
