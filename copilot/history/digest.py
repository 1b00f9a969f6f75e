"""The "what you need to know" digest across a customer's earlier contacts.

The second level of the hierarchy: each contact is summarised once (model or
extractive, stored), and the digest is composed from those stored summaries in
microseconds, so it appears the moment a contact starts. It leads with what is
still open, then how the customer has been feeling and the last contact.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from copilot.history.store import StoredContact

OPEN = {"follow-up", "callback", "escalated", "unresolved"}
_REFERENCE = re.compile(r"\b[A-Z]{2,4}-\d{3,}\b")
CHANNEL_NAMES = {
    "phone": "phone",
    "chat": "chat",
    "email": "email",
    "whatsapp": "WhatsApp",
    "social": "social",
}


@dataclass(frozen=True)
class Digest:
    headline: str
    points: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.points


def ago(when: datetime, now: datetime) -> str:
    days = (now.date() - when.astimezone(UTC).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    return when.strftime("%-d %b")


def _open_points(contacts: Sequence[StoredContact], now: datetime) -> list[str]:
    points = []
    for contact in contacts:
        summary = contact.summary
        if contact.disposition not in OPEN and not (summary and summary.open_items):
            continue
        if contact is not contacts[0] and contact.disposition not in OPEN:
            continue
        what = (summary.open_items[0] if summary and summary.open_items else "") or (
            summary.reason if summary else ""
        )
        label = (contact.disposition or "open").replace("-", " ")
        points.append(
            f"Open ({label}, {CHANNEL_NAMES.get(contact.channel, contact.channel)} "
            f"{ago(contact.started_at, now)}): {what}".rstrip(": ")
        )
        if len(points) == 2:
            break
    return points


def _repeats(contacts: Sequence[StoredContact]) -> str:
    seen: Counter[str] = Counter()
    for contact in contacts:
        summary = contact.summary
        text = " ".join([summary.reason, *summary.actions, summary.resolution]) if summary else ""
        seen.update(set(_REFERENCE.findall(text)))
    repeated = [ref for ref, n in seen.most_common(2) if n >= 2]
    if not repeated:
        return ""
    return f"Mentioned in {seen[repeated[0]]} contacts: {', '.join(repeated)}"


def _mood(contacts: Sequence[StoredContact]) -> str:
    recent = [c.summary.sentiment.value for c in contacts[:3] if c.summary]
    negative = sum(s in {"negative", "mixed"} for s in recent)
    if negative >= 2:
        return f"Frustrated in {negative} of the last {len(recent)} contacts: acknowledge it early"
    if recent and recent[0] == "negative":
        return "Was unhappy last time"
    return ""


def make_digest(contacts: Sequence[StoredContact], now: datetime | None = None) -> Digest:
    """Compose the digest from stored per-contact summaries (newest first)."""
    now = now or datetime.now(UTC)
    if not contacts:
        return Digest("No earlier contacts")
    channels = sorted({CHANNEL_NAMES.get(c.channel, c.channel) for c in contacts})
    first = contacts[-1].started_at
    headline = (
        f"{len(contacts)} earlier contact{'s' if len(contacts) != 1 else ''} since "
        f"{first.strftime('%-d %b %Y')} · {', '.join(channels)}"
    )
    points = _open_points(contacts, now)
    points += [p for p in (_mood(contacts), _repeats(contacts)) if p]
    last = contacts[0]
    if last.summary and last.summary.reason and not any("Open" in p for p in points[:1]):
        points.append(
            f"Last contact ({CHANNEL_NAMES.get(last.channel, last.channel)}, "
            f"{ago(last.started_at, now)}): {last.summary.reason}"
        )
    return Digest(headline, points[:4])
