"""``agent-copilot bench [model]``: the figures the foundation is held to, measured in one run.

* time to first suggestion token at turn 1 and turn N, with and without KV reuse;
* generation tokens/s through the whole pipeline against bare llama-cpp-python on
  the same model, threads and prompt;
* launch to a usable window, and peak resident memory with the model loaded.

Every suggestion goes through the assist session, as the window's do, so the figures are
the ones an agent gets.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copilot.assist.session import AssistSession, run_to_end
from copilot.assist.suggestion import Suggestion
from copilot.contact import Contact
from copilot.demo import DEMO_COMPANY, load_demo
from copilot.errors import CopilotError
from copilot.profiles.profile import Profile
from copilot.runtime import Runtime

TARGET_TTFT_RATIO = 1.3
TARGET_SPEED_RATIO = 0.95
TARGET_LAUNCH_S = 1.5
BENCH_MAX_WORDS = 24
SPEED_WORDS = 120
SPEED_QUESTION = (
    "Could you explain step by step how returns, refunds and exchanges work, "
    "what I need to send back, and how long each step takes?"
)
REPEATS = 3
SPEED_REPEATS = 7


@dataclass
class TurnTiming:
    turn: int
    first_token_s: float
    prompt_tokens: int
    reused_tokens: int


def _contact_at(script: Contact, customer_turns: int) -> Contact:
    """The contact as it stood when the customer sent message number ``customer_turns``."""
    seen, cut = 0, 0
    for index, turn in enumerate(script.turns):
        if turn.role.value == "customer":
            seen += 1
            if seen == customer_turns:
                cut = index + 1
                break
    return Contact(
        channel=script.channel, customer_name=script.customer_name, turns=script.turns[:cut]
    )


def _profile(runtime: Runtime, temperature: float | None = None) -> Profile:
    """The active profile, cut short (or, for the speed runs, long and deterministic)."""
    update: dict[str, Any] = {"max_words": BENCH_MAX_WORDS}
    if temperature is not None:
        update = {"max_words": 80, "temperature": temperature, "closing_line": ""}
    return runtime.profile().model_copy(update=update)


def _suggest(assist: AssistSession, contact: Contact, profile: Profile, reuse: bool) -> Suggestion:
    """One suggestion through the assist pipeline; without ``reuse`` from an empty KV cache."""
    if not reuse:
        assist.runtime.engine.reset_cache()
    return run_to_end(assist.suggest(contact, profile, DEMO_COMPANY))


def measure_turns(
    assist: AssistSession, script: Contact, turns: int, reuse: bool
) -> list[TurnTiming]:
    engine = assist.runtime.engine
    engine.reset_cache()
    profile, timings = _profile(assist.runtime), []
    for turn in range(1, turns + 1):
        result = _suggest(assist, _contact_at(script, turn), profile, reuse)
        stats = engine.last_stats
        timings.append(
            TurnTiming(turn, result.first_token_s or 0.0, stats.prompt_tokens, stats.reused_tokens)
        )
    return timings


def measure_prefilled_turn1(assist: AssistSession, script: Contact) -> float:
    """Turn 1 when the instructions were evaluated while waiting for the customer."""
    contact, profile = _contact_at(script, 1), _profile(assist.runtime)
    times = []
    for _ in range(REPEATS):
        assist.runtime.engine.reset_cache()
        assist.prefill(contact, profile, DEMO_COMPANY)
        times.append(_suggest(assist, contact, profile, reuse=True).first_token_s or 0.0)
    return statistics.median(times)


def _bare_tokens_per_s(runtime: Runtime, tokens: list[int], max_tokens: int) -> tuple[float, int]:
    llm = runtime.engine.llama
    llm.reset()
    count, first, last = 0, None, None
    for _chunk in llm.create_completion(
        prompt=tokens,
        max_tokens=max_tokens,
        temperature=0.0,
        top_p=0.9,
        repeat_penalty=1.15,
        stop=runtime.engine.stop_strings,
        stream=True,
    ):
        now = time.perf_counter()
        first = first or now
        last = now
        count += 1
    rate = (count - 1) / (last - first) if count > 1 and last and first and last > first else 0.0
    return rate, count


def _pipeline_tokens_per_s(assist: AssistSession, contact: Contact) -> tuple[float, list[int], int]:
    profile = _profile(assist.runtime, temperature=0.0)
    profile = profile.model_copy(update={"max_words": SPEED_WORDS})
    _suggest(assist, contact, profile, reuse=False)
    engine = assist.runtime.engine
    # The engine's clock runs while the consumer handles each chunk (the generator is
    # suspended then), so this rate includes the pipeline's own per-token work.
    stats = engine.last_stats
    return stats.tokens_per_s, engine.last_tokens, stats.generated_tokens


def measure_speed(assist: AssistSession, contact: Contact) -> dict[str, Any]:
    """Pairs of runs on the same prompt, alternating which goes first to cancel drift.

    The ratio is the median of the per-pair ratios, which shrugs off a noisy neighbour
    better than a ratio of medians.
    """
    runtime = assist.runtime
    rate, tokens, _count = _pipeline_tokens_per_s(assist, contact)  # warm-up, and the prompt
    max_tokens = runtime.engine.last_stats.max_tokens
    bare, pipe, ratios, counts = [], [], [], set()
    for repeat in range(SPEED_REPEATS):
        if repeat % 2:
            bare_rate, bare_count = _bare_tokens_per_s(runtime, tokens, max_tokens)
            rate, _tokens, pipe_count = _pipeline_tokens_per_s(assist, contact)
        else:
            rate, _tokens, pipe_count = _pipeline_tokens_per_s(assist, contact)
            bare_rate, bare_count = _bare_tokens_per_s(runtime, tokens, max_tokens)
        pipe.append(rate)
        bare.append(bare_rate)
        ratios.append(rate / bare_rate if bare_rate else 0.0)
        counts.add((pipe_count, bare_count))
    return {
        "bare_tokens_per_s": statistics.median(bare),
        "pipeline_tokens_per_s": statistics.median(pipe),
        "ratio": statistics.median(ratios),
        "ratios": [round(r, 3) for r in ratios],
        "generated_tokens_pipeline_bare": sorted(counts),
        "prompt_tokens": len(tokens),
    }


def measure_launch(repeats: int = REPEATS) -> dict[str, Any]:
    env = dict(os.environ)
    env["AGENT_COPILOT_READY_PROBE"] = "1"
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        env["AGENT_COPILOT_CONFIG_DIR"] = tmp
        for _ in range(repeats):
            started = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "copilot"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                raise CopilotError(f"The window did not start for the bench: {proc.stderr[-500:]}")
            figures = json.loads(lines[-1])
            runs.append(
                {
                    "window_ready_s": figures["window_ready_at"] - started,
                    "model_ready_s": figures["model_ready_at"] - started,
                    "peak_rss_mb": figures["peak_rss_mb"],
                    "model_state": figures["model_state"],
                }
            )
    return {
        "window_ready_s": statistics.median(r["window_ready_s"] for r in runs),
        "model_ready_s": statistics.median(r["model_ready_s"] for r in runs),
        "window_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "model_state": runs[-1]["model_state"],
    }


def _ttft_block(timings: list[TurnTiming]) -> dict[str, Any]:
    first, last = timings[0], timings[-1]
    return {
        "turn1_s": first.first_token_s,
        f"turn{last.turn}_s": last.first_token_s,
        "ratio": last.first_token_s / first.first_token_s if first.first_token_s else 0.0,
        "last_prompt_tokens": last.prompt_tokens,
        "last_reused_tokens": last.reused_tokens,
        "per_turn_s": [round(t.first_token_s, 4) for t in timings],
    }


def run_bench(runtime: Runtime, *, as_json: bool = False, turns: int = 20) -> int:
    """Measure every model figure, then print them as a table or as JSON (``--json``)."""
    script = load_demo("long_contact")
    available = sum(1 for t in script.turns if t.role.value == "customer")
    turns = max(2, min(turns, available))
    info = runtime.engine.load()
    log = _progress(quiet=as_json)
    log(f"Model {info.label}, {runtime.engine.threads} threads.")
    figures: dict[str, Any] = {"model": info.label, "threads": runtime.engine.threads}
    figures["turns"] = turns
    figures |= _measure(AssistSession(runtime), script, turns, log)
    figures["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["targets"] = {
        "ttft_ratio_with_reuse_max": TARGET_TTFT_RATIO,
        "speed_ratio_min": TARGET_SPEED_RATIO,
        "window_ready_s_max": TARGET_LAUNCH_S,
    }
    figures["met"] = {
        "ttft_ratio": figures["ttft_with_reuse"]["ratio"] <= TARGET_TTFT_RATIO,
        "speed_ratio": figures["speed"]["ratio"] >= TARGET_SPEED_RATIO,
        "launch": figures["launch"]["window_ready_s"] <= TARGET_LAUNCH_S,
    }
    print(json.dumps(figures, indent=2) if as_json else _table(figures))
    return 0


def _progress(quiet: bool) -> Callable[[str], None]:
    """What the bench is doing, on stderr: each step takes a while."""

    def log(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    return log


def _measure(
    assist: AssistSession, script: Contact, turns: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """Time to first token, generation speed and launch, in the order they are printed."""
    log(f"Time to first token over {turns} turns with KV reuse…")
    with_reuse = _ttft_block(measure_turns(assist, script, turns, reuse=True))
    log("…and without KV reuse…")
    without = _ttft_block(measure_turns(assist, script, turns, reuse=False))
    log("Turn 1 after prefilling the instructions…")
    with_reuse["turn1_prefilled_s"] = measure_prefilled_turn1(assist, script)
    log("Generation speed: pipeline against bare llama-cpp-python…")
    speed_contact = _contact_at(script, 3)
    speed_contact.add("customer", SPEED_QUESTION)
    speed = measure_speed(assist, speed_contact)
    log("Launch to a usable window…")
    return {
        "ttft_with_reuse": with_reuse,
        "ttft_without_reuse": without,
        "speed": speed,
        "launch": measure_launch(),
    }


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _row(label: str, value: str, target: str = "") -> str:
    return f"{label:46} {value:>14}  {target}".rstrip()


def _table(f: dict[str, Any]) -> str:
    n, met = f["turns"], f["met"]
    w, wo, s, la = f["ttft_with_reuse"], f["ttft_without_reuse"], f["speed"], f["launch"]
    rows = [
        f"Model: {f['model']}  threads: {f['threads']}",
        "",
        _row("figure", "value", "target"),
        _row("first token, turn 1, KV reuse", ms(w["turn1_s"])),
        _row(f"first token, turn {n}, KV reuse", ms(w[f"turn{n}_s"])),
        _row(
            f"  ratio turn {n} / turn 1",
            f"{w['ratio']:.2f}",
            f"<= {TARGET_TTFT_RATIO} {_mark(met['ttft_ratio'])}",
        ),
        _row(
            f"  prompt tokens at turn {n} (from cache)",
            f"{w['last_prompt_tokens']} ({w['last_reused_tokens']})",
        ),
        _row("first token, turn 1, instructions prefilled", ms(w["turn1_prefilled_s"])),
        _row("first token, turn 1, no reuse", ms(wo["turn1_s"])),
        _row(f"first token, turn {n}, no reuse", ms(wo[f"turn{n}_s"])),
        _row(f"  ratio turn {n} / turn 1", f"{wo['ratio']:.2f}"),
        _row("generation, bare llama-cpp-python", f"{s['bare_tokens_per_s']:.1f} tok/s"),
        _row("generation, whole pipeline", f"{s['pipeline_tokens_per_s']:.1f} tok/s"),
        _row(
            "  ratio pipeline / bare",
            f"{s['ratio']:.3f}",
            f">= {TARGET_SPEED_RATIO} {_mark(met['speed_ratio'])}",
        ),
        _row(
            f"launch to usable window (median of {REPEATS})",
            f"{la['window_ready_s']:.2f} s",
            f"<= {TARGET_LAUNCH_S} s {_mark(met['launch'])}",
        ),
        _row("launch to model ready in the window", f"{la['model_ready_s']:.2f} s"),
        _row("peak RSS, window with bundled model", f"{la['window_peak_rss_mb']:.0f} MB"),
        _row("peak RSS, this bench process", f"{f['bench_peak_rss_mb']:.0f} MB"),
    ]
    return "\n".join(rows)
