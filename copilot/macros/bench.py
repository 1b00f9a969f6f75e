"""``agent-copilot bench macros``: how fast approved replies are matched to a live contact.

Approved replies are offered the moment a customer message arrives, before the model
has written anything, so matching must cost a few milliseconds. The library here is
the demo one grown to ``size`` replies with varied copies; it lives in memory only and
never touches the user's library.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from copilot.contact import Contact
from copilot.macros.importer import read_macros_csv
from copilot.macros.library import MacroLibrary, demo_csv
from copilot.macros.model import Macro

TARGET_MS = 30.0
PRODUCTS = ("lamp", "kettle", "grinder", "jacket", "vase", "mug", "blender", "rug")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def _library(size: int) -> MacroLibrary:
    demo, _, _ = read_macros_csv(demo_csv())
    macros: list[Macro] = []
    n = 0
    while len(macros) < size:
        base = demo[n % len(demo)]
        variant = PRODUCTS[n % len(PRODUCTS)]
        macros.append(
            base.model_copy(
                update={
                    "id": f"{base.id}-{n}",
                    "title": f"{base.title} ({variant})",
                    "tags": (*base.tags, variant),
                }
            )
        )
        n += 1
    return MacroLibrary(macros, company="Brightcart")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(_percentile(values, 0.95), 2),
        "max_ms": round(max(values), 2),
    }


def measure(size: int = 500, rounds: int = 40) -> dict[str, Any]:
    """Index build time, then match times with a new customer turn and with a repeated one."""
    library = _library(size)
    started = time.perf_counter()
    library.index()
    index_s = time.perf_counter() - started
    base = Contact(customer_name="Jana Weber")
    base.add("customer", "I ordered a coffee grinder last Monday and it still hasn't arrived.")
    base.add("agent", "I'm sorry to hear that. Could you give me your order number?")
    library.match(base)  # the embedding model's first call is not what an agent waits for
    new_turn: list[float] = []
    repeat: list[float] = []
    for n in range(rounds):
        live = base.snapshot()
        product, day = PRODUCTS[n % len(PRODUCTS)], DAYS[n % len(DAYS)]
        live.add("customer", f"It's BC-{48213 + n}. Will the {product} arrive before {day}? ({n})")
        for timings in (new_turn, repeat):
            started = time.perf_counter()
            library.match(live)
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "replies": size,
        "index_build_s": round(index_s, 2),
        "match_new_turn": _figures(new_turn),
        "match_repeat": _figures(repeat),
        "target_ms": TARGET_MS,
        "met": _percentile(new_turn, 0.95) <= TARGET_MS,
    }


def run_macros_bench(*, as_json: bool = False, size: int = 500) -> int:
    figures = measure(size)
    if as_json:
        print(json.dumps(figures, indent=2))
        return 0
    new, repeat = figures["match_new_turn"], figures["match_repeat"]
    verdict = "met" if figures["met"] else "NOT met"
    print(f"Approved replies: {size} in the library, index built in {figures['index_build_s']} s")
    print(
        f"match, new customer turn (embeds it): p50 {new['p50_ms']} ms, p95 {new['p95_ms']} ms, "
        f"max {new['max_ms']} ms (target p95 <= {TARGET_MS:.0f} ms: {verdict})"
    )
    print(
        f"match, same turn again (cached):      p50 {repeat['p50_ms']} ms, "
        f"p95 {repeat['p95_ms']} ms, max {repeat['max_ms']} ms"
    )
    return 0
