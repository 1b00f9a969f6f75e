"""Figures per day and profile, computed from the stored events.

The store hands over plain event rows for a period; everything a supervisor sees
(acceptance rate, edits, time to first suggestion, thumbs) is computed here, so the
CLI, the JSON output, the CSV export and the dashboard all show the same numbers.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from copilot.analytics.events import Kind, Source


@dataclass(frozen=True)
class EventRow:
    """One stored event, as the store reads it back (numbers, enums and ids only)."""

    id: int
    day: date
    kind: str
    profile: str
    source: str | None = None
    ref: str = ""
    first_token_ms: float | None = None
    edit_distance: int | None = None
    edit_ratio: float | None = None
    similarity: float | None = None
    up: int | None = None


@dataclass(frozen=True)
class Thumbs:
    up: int = 0
    down: int = 0


@dataclass(frozen=True, kw_only=True)
class Figures:
    """What happened in one group of events (a day and profile, a profile, or all).

    Suggestions count once each, by id: inserting the same suggestion twice is one
    insertion, so the acceptance rate stays a share of the suggestions shown. Shown,
    inserted, edited, dismissed and the acceptance rate are about the model's
    suggestions; approved replies are counted apart (up to three are offered per
    message, so mixing them in would say little about either).
    """

    shown: int = 0
    inserted: int = 0
    edited: int = 0
    dismissed: int = 0
    acceptance_rate: float | None = None  # inserted / shown, 0..1
    edited_share: float | None = None  # edited / inserted, 0..1
    median_first_token_ms: float | None = None
    p90_first_token_ms: float | None = None
    kb_opened: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    mean_edit_ratio: float | None = None  # normalised edit distance of insertions, 0..1
    sent: int = 0
    mean_similarity: float | None = None  # sent reply vs last suggestion, 0..1
    macro_shown: int = 0  # approved replies offered
    macro_inserted: int = 0  # approved replies inserted
    thumbs: Mapping[str, Thumbs] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DayRow(Figures):
    day: date
    profile: str


def _percentile(values: list[float], share: float) -> float | None:
    """Linear interpolation between the closest ranks (the usual spreadsheet definition)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


class _Tally:
    """Accumulates events of one group; ``figures()`` turns them into numbers."""

    def __init__(self) -> None:
        self.shown: set[str] = set()
        self.inserted: set[str] = set()
        self.edited: set[str] = set()
        self.dismissed: set[str] = set()
        self.macro_shown: set[str] = set()
        self.macro_inserted: set[str] = set()
        self.first_token: list[float] = []
        self.edit_ratios: list[float] = []
        self.similarities: list[float] = []
        self.sent = 0
        self.kb_opened = 0
        self.thumbs: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, row: EventRow) -> None:
        key = row.ref or f"#{row.id}"
        if row.source == Source.MACRO and row.kind in (Kind.SHOWN, Kind.INSERTED):
            (self.macro_shown if row.kind == Kind.SHOWN else self.macro_inserted).add(key)
        elif row.kind == Kind.SHOWN:
            self.shown.add(key)
            if row.first_token_ms is not None:
                self.first_token.append(row.first_token_ms)
        elif row.kind == Kind.INSERTED:
            self.inserted.add(key)
            if row.edit_distance:
                self.edited.add(key)
            if row.edit_ratio is not None:
                self.edit_ratios.append(row.edit_ratio)
        elif row.kind == Kind.DISMISSED:
            self.dismissed.add(key)
        elif row.kind == Kind.SENT:
            self.sent += 1
            if row.similarity is not None:
                self.similarities.append(row.similarity)
        elif row.kind == Kind.KB_OPENED:
            self.kb_opened += 1
        elif row.kind == Kind.FEEDBACK and row.source is not None:
            self.thumbs[row.source][0 if row.up else 1] += 1

    def figures(self) -> dict[str, Any]:
        shown, inserted, edited = len(self.shown), len(self.inserted), len(self.edited)
        thumbs = {source.value: Thumbs(*self.thumbs[source.value]) for source in Source}
        return {
            "shown": shown,
            "inserted": inserted,
            "edited": edited,
            "dismissed": len(self.dismissed),
            "acceptance_rate": min(inserted / shown, 1.0) if shown else None,
            "edited_share": edited / inserted if inserted else None,
            "median_first_token_ms": _percentile(self.first_token, 0.5),
            "p90_first_token_ms": _percentile(self.first_token, 0.9),
            "kb_opened": self.kb_opened,
            "thumbs_up": sum(t.up for t in thumbs.values()),
            "thumbs_down": sum(t.down for t in thumbs.values()),
            "mean_edit_ratio": _mean(self.edit_ratios),
            "sent": self.sent,
            "mean_similarity": _mean(self.similarities),
            "macro_shown": len(self.macro_shown),
            "macro_inserted": len(self.macro_inserted),
            "thumbs": thumbs,
        }


@dataclass(frozen=True)
class Report:
    """The figures of a period, optionally for one profile.

    ``days`` has a row per day and profile that saw events (days without events are
    absent; ``all_days`` lists the whole period for charts that show gaps).
    ``profiles`` lists every profile with events in the period, whatever the filter,
    so a picker can offer them all.
    """

    start: date
    end: date
    profile: str | None
    days: list[DayRow]
    totals: Figures
    by_profile: dict[str, Figures]
    first_token_ms: list[float]
    profiles: list[str]

    @property
    def all_days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]

    @property
    def empty(self) -> bool:
        """True when nothing at all was recorded for this period and filter."""
        return not self.days

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days_in_period": len(self.all_days),
            "profile": self.profile,
            "profiles": self.profiles,
            "totals": _figures_json(self.totals),
            "by_profile": {name: _figures_json(f) for name, f in self.by_profile.items()},
            "days": [_figures_json(row) for row in self.days],
            "first_token_samples": len(self.first_token_ms),
        }

    def to_csv(self) -> tuple[str, int]:
        """The per-day rows as CSV text and the number of data rows."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.days:
            values = _figures_json(row, flat=True)
            writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
        return buffer.getvalue(), len(self.days)


CSV_COLUMNS: tuple[str, ...] = (
    "day",
    "profile",
    *(f.name for f in fields(Figures) if f.name != "thumbs"),
    *(f"thumbs_{s.value}_{d}" for s in Source for d in ("up", "down")),
)


def _round(name: str, value: Any) -> Any:
    if not isinstance(value, float):
        return value
    return round(value, 1 if name.endswith("_ms") else 4)


def _figures_json(figures: Figures, *, flat: bool = False) -> dict[str, Any]:
    """Figures as JSON values; ``flat`` spreads the thumbs per source into columns (CSV)."""
    values = {k: _round(k, v) for k, v in asdict(figures).items() if k != "thumbs"}
    if isinstance(figures, DayRow):
        values["day"] = figures.day.isoformat()
    thumbs = {source: asdict(t) for source, t in figures.thumbs.items()}
    if not flat:
        values["thumbs"] = thumbs
        return values
    for source, counts in thumbs.items():
        values[f"thumbs_{source}_up"] = counts["up"]
        values[f"thumbs_{source}_down"] = counts["down"]
    return values


def build_report(
    rows: Iterable[EventRow], *, start: date, end: date, profile: str | None = None
) -> Report:
    """Group the period's events by day and profile; ``profile`` narrows everything but
    the list of profiles."""
    per_day: dict[tuple[date, str], _Tally] = defaultdict(_Tally)
    per_profile: dict[str, _Tally] = defaultdict(_Tally)
    total = _Tally()
    names: set[str] = set()
    for row in rows:
        if not start <= row.day <= end:
            continue
        names.add(row.profile)
        if profile is not None and row.profile != profile:
            continue
        for tally in (per_day[(row.day, row.profile)], per_profile[row.profile], total):
            tally.add(row)
    return Report(
        start=start,
        end=end,
        profile=profile,
        days=[DayRow(day=d, profile=p, **per_day[(d, p)].figures()) for d, p in sorted(per_day)],
        totals=Figures(**total.figures()),
        by_profile={name: Figures(**per_profile[name].figures()) for name in sorted(per_profile)},
        first_token_ms=list(total.first_token),
        profiles=sorted(names),
    )
