"""Analytics test data shared by the core and the dashboard tests: a settable clock and
realistic generated activity."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from copilot.analytics import Analytics, Reason, Source

TODAY = date(2026, 3, 14)


class Clock:
    """A settable local clock, so events land on the days a test wants."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def on(self, day: date, hour: int = 10, minute: int = 0) -> None:
        self.moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def record_activity(
    store: Analytics,
    clock: Clock,
    *,
    end: date = TODAY,
    days: int = 14,
    profiles: tuple[str, ...] = ("friendly", "formal", "empathetic-de-escalation"),
    per_day: int = 30,
    seed: int = 7,
) -> int:
    """Realistic fake activity: quieter weekends, macros, edits, thumbs, KB hits opened.

    Returns the number of model suggestions shown. Shared with the dashboard's UI tests.
    """
    rng = random.Random(seed)
    accept = {name: 0.45 + 0.12 * n for n, name in enumerate(profiles)}
    shown = 0
    for offset in range(days - 1, -1, -1):
        day = end - timedelta(days=offset)
        if offset == 5:
            continue  # a day off: the chart shows a gap
        count = per_day // 3 if day.weekday() >= 5 else per_day + rng.randint(-6, 6)
        for n in range(count):
            clock.on(day, 8 + n * 9 // max(count, 1), rng.randint(0, 59))
            profile = rng.choice(profiles)
            macro = rng.random() < 0.15
            source = Source.MACRO if macro else Source.MODEL
            sid = f"s-{day:%m%d}-{n}"
            first = None if macro else rng.lognormvariate(6.05, 0.35)
            store.suggestion_shown(
                suggestion_id=sid, profile=profile, source=source, first_token_ms=first
            )
            shown += not macro
            trend = (days - offset) / days * 0.15
            roll = rng.random()
            text = "Thanks for waiting, your parcel left our warehouse this morning."
            if roll < accept[profile] + trend:
                final = text if rng.random() < 0.55 else text.replace("this morning", "today")
                store.suggestion_inserted(
                    suggestion_id=sid, profile=profile, source=source, original=text, inserted=final
                )
                store.reply_sent(profile=profile, suggested=text, sent=final)
            elif roll < 0.9:
                store.suggestion_dismissed(suggestion_id=sid, profile=profile, source=source)
                store.reply_sent(profile=profile, suggested=None, sent="Something else")
            if rng.random() < 0.2:
                store.feedback(
                    target=source,
                    profile=profile,
                    up=rng.random() < 0.7,
                    reason=rng.choice(list(Reason)),
                    ref=sid,
                )
            if rng.random() < 0.25:
                store.kb_opened(profile=profile, doc_id=f"returns-policy#{rng.randint(1, 4)}")
                if rng.random() < 0.3:
                    store.feedback(target=Source.KB, profile=profile, up=rng.random() < 0.8)
    return shown
