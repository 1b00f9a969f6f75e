"""``agent-copilot bench api``: from a message posted to the API to the first suggestion
token seen on its event stream, over a replayed 20-turn conversation.

Everything is real: uvicorn on loopback, HTTP and server-sent events through httpx,
the bundled model. Agent turns are posted too (as the agent would send them), so
every customer turn is measured on a growing conversation.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from typing import TYPE_CHECKING, Any

from copilot.api.events import read_events
from copilot.api.live import LiveContacts
from copilot.api.serve import start_in_thread
from copilot.demo import load_demo

if TYPE_CHECKING:
    from copilot.runtime import Runtime


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_api_bench(runtime: Runtime, as_json: bool = False, turns: int = 20) -> int:
    import secrets

    import httpx

    runtime.engine.load()
    token = secrets.token_urlsafe(16)
    live = LiveContacts(runtime)
    running = start_in_thread(live, token)
    client = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {token}"})
    try:
        latencies, totals = _replay(client, load_demo("long_contact").turns, turns)
    finally:
        client.close()
        running.stop()
    figures: dict[str, Any] = {
        "customer_turns": len(latencies),
        "post_to_first_token_ms_p50": round(statistics.median(latencies), 1),
        "post_to_first_token_ms_p95": round(_percentile(latencies, 0.95), 1),
        "post_to_first_token_ms_max": round(max(latencies), 1),
        "post_to_done_ms_p50": round(statistics.median(totals), 1),
        "model": runtime.engine.info.label if runtime.engine.info else "",
    }
    if as_json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"API bench: {figures['customer_turns']} customer turns, model {figures['model']}")
        p50, p95 = figures["post_to_first_token_ms_p50"], figures["post_to_first_token_ms_p95"]
        worst = figures["post_to_first_token_ms_max"]
        print(
            f"  posted message -> first suggestion token on the stream: p50 {p50} ms, "
            f"p95 {p95} ms, max {worst} ms"
        )
        print(f"  posted message -> suggestion done: p50 {figures['post_to_done_ms_p50']} ms")
    return 0


def _replay(client: Any, script: list[Any], turns: int) -> tuple[list[float], list[float]]:
    contact_id = client.post("/v1/contacts", json={"channel": "chat"}).json()["id"]
    marks: dict[str, float] = {}
    first: threading.Event = threading.Event()
    finished: threading.Event = threading.Event()
    ready = threading.Event()

    def listen() -> None:
        with client.stream("GET", f"/v1/contacts/{contact_id}/stream", timeout=None) as stream:
            for name, _data in read_events(stream.iter_lines()):
                if name == "connected":
                    ready.set()
                elif name == "token" and not first.is_set():
                    marks["first"] = time.perf_counter()
                    first.set()
                elif name in {"done", "failed"}:
                    marks["done"] = time.perf_counter()
                    finished.set()
                elif name == "ended":
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(10)
    latencies, totals = [], []
    customer_turns = 0
    for turn in script:
        body = {"role": turn.role.value, "text": turn.text}
        if turn.role.value != "customer":
            client.post(f"/v1/contacts/{contact_id}/messages", json=body)
            continue
        if customer_turns >= turns:
            break
        customer_turns += 1
        first.clear()
        finished.clear()
        posted = time.perf_counter()
        client.post(f"/v1/contacts/{contact_id}/messages", json=body)
        if first.wait(120):
            latencies.append((marks["first"] - posted) * 1000)
        finished.wait(120)
        totals.append((marks.get("done", posted) - posted) * 1000)
    client.post(f"/v1/contacts/{contact_id}/end")
    thread.join(5)
    return latencies, totals
