"""``agent-copilot bench history``: import speed and the time to show a customer's timeline.

The store is a throwaway one in a temporary folder, opened with a random key held
in memory only, so the bench never touches the user's history or their keyring.
"""

from __future__ import annotations

import json
import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copilot.history.digest import make_digest
from copilot.history.importer import import_history
from copilot.history.keys import StoreKey
from copilot.history.records import IdentifierKind
from copilot.history.store import HistoryStore

CHANNELS = ("phone", "chat", "email", "whatsapp", "social")
LINES = (
    ("customer", "Hello, my order BC-{n} has not arrived and the tracking has not moved."),
    ("agent", "I'm sorry about that. I have asked the carrier to check the parcel."),
    ("customer", "I need it by Friday, it is a present."),
    ("agent", "I will email you tomorrow with an update from the carrier."),
)


def _history_file(folder: Path, customers: int, per_customer: int) -> Path:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for c in range(customers):
        contacts = []
        for k in range(per_customer):
            at = start + timedelta(days=k * 7, hours=c % 24)
            contacts.append(
                {
                    "id": f"b{c}-{k}",
                    "channel": CHANNELS[(c + k) % len(CHANNELS)],
                    "started_at": at.isoformat(),
                    "ended_at": (at + timedelta(minutes=9)).isoformat(),
                    "agent": "Bench",
                    "disposition": "follow-up" if k == per_customer - 1 else "resolved",
                    "messages": [{"role": r, "text": t.format(n=c * 100 + k)} for r, t in LINES],
                }
            )
        rows.append(
            {
                "id": f"bench-{c}",
                "name": f"Customer {c}",
                "identifiers": {"email": [f"c{c}@example.com"], "phone": [f"+4930555{c:05d}"]},
                "contacts": contacts,
            }
        )
    path = folder / "bench-history.json"
    path.write_text(json.dumps({"format": 1, "customers": rows}), encoding="utf-8")
    return path


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_history_bench(
    customers: int = 2000, per_customer: int = 10, lookups: int = 300, as_json: bool = False
) -> int:
    key = StoreKey(secret=secrets.token_hex(32), kind="raw", source="bench (in memory)")
    with tempfile.TemporaryDirectory(prefix="copilot-history-bench-") as tmp:
        folder = Path(tmp)
        source = _history_file(folder, customers, per_customer)
        store = HistoryStore.open(folder / "history.db", key)
        started = time.perf_counter()
        report = import_history(store, source)
        import_s = time.perf_counter() - started
        rng = random.Random(7)
        times = []
        for _ in range(lookups):
            email = f"c{rng.randrange(customers)}@example.com"
            t0 = time.perf_counter()
            found = store.find(IdentifierKind.EMAIL, email)
            assert found is not None
            contacts = store.timeline(found.id)
            make_digest(contacts)
            times.append((time.perf_counter() - t0) * 1000)
        size_mb = (folder / "history.db").stat().st_size / 1e6
        store.close()
    figures: dict[str, Any] = {
        "customers": customers,
        "contacts": report.contacts_added,
        "messages": report.contacts_added * len(LINES),
        "import_contacts_per_s": round(report.contacts_added / import_s, 1),
        "timeline_ms_p50": round(statistics.median(times), 2),
        "timeline_ms_p95": round(_percentile(times, 0.95), 2),
        "timeline_ms_max": round(max(times), 2),
        "timeline_target_ms": 100,
        "store_mb": round(size_mb, 1),
    }
    if as_json:
        print(json.dumps(figures, indent=2))
    else:
        print(
            f"History bench: {figures['customers']} customers, {figures['contacts']} contacts, "
            f"{figures['messages']} messages, encrypted store {figures['store_mb']} MB"
        )
        print(
            f"  import (with extractive summaries): {figures['import_contacts_per_s']} contacts/s"
        )
        print(
            f"  recognise + timeline + digest: p50 {figures['timeline_ms_p50']} ms, "
            f"p95 {figures['timeline_ms_p95']} ms, max {figures['timeline_ms_max']} ms "
            f"(target 100 ms)"
        )
    return 0
