"""``eval summaries``: ROUGE of contact summaries against human reference summaries.

Each case is ``{"dialogue": [{"role", "text"}], "reference_summaries": [...]}``. For
every case the model path (grammar-constrained JSON with fallback, exactly as the
product runs it) and the extractive summary are scored in the same run, each as
the best F-measure over the references, then averaged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from copilot.errors import CopilotError
from copilot.history.extractive import summarise_extractive
from copilot.history.records import MessageRecord, SummaryMethod
from copilot.history.summarise import summarise

if TYPE_CHECKING:
    from copilot.runtime import Runtime

METRICS = ("rouge1", "rouge2", "rougeL")


def load_cases(path: Path, limit: int | None) -> list[tuple[list[MessageRecord], list[str]]]:
    cases = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CopilotError(f"Cannot read the cases file {path} ({exc}).") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            messages = [
                MessageRecord(role=t["role"], text=t["text"])
                for t in raw["dialogue"]
                if str(t.get("text", "")).strip()
            ]
            references = [str(r) for r in raw["reference_summaries"] if str(r).strip()]
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise CopilotError(f"{path} line {number} is not a summary case ({exc}).") from None
        if messages and references:
            cases.append((messages, references))
        if limit and len(cases) >= limit:
            break
    return cases


def _scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)


def _best(scorer: Any, text: str, references: list[str]) -> dict[str, float]:
    scores = [scorer.score(ref, text) for ref in references]
    return {m: max(s[m].fmeasure for s in scores) for m in METRICS}


def run_summary_eval(
    runtime: Runtime,
    cases_path: Path,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    cases = load_cases(cases_path, limit)
    if not cases:
        raise CopilotError(f"{cases_path} holds no summary cases.")
    info = runtime.engine.load()
    scorer = _scorer()
    totals = {name: dict.fromkeys(METRICS, 0.0) for name in ("model", "extractive")}
    methods: dict[str, int] = {}
    seconds = 0.0
    for done, (messages, references) in enumerate(cases, start=1):
        started = time.perf_counter()
        summary = summarise(runtime.engine, messages)
        seconds += time.perf_counter() - started
        methods[summary.method.value] = methods.get(summary.method.value, 0) + 1
        pairs = (("model", summary.text()), ("extractive", summarise_extractive(messages).text()))
        for name, text in pairs:
            for metric, value in _best(scorer, text, references).items():
                totals[name][metric] += value
        if progress:
            progress(done, len(cases))
    n = len(cases)
    return {
        "cases": n,
        "model": info.label,
        "scores": {k: {m: round(v / n, 4) for m, v in row.items()} for k, row in totals.items()},
        "model_path_methods": methods,
        "model_seconds_per_case": round(seconds / n, 2),
        "note": f"'{SummaryMethod.MIXED.value}' means the model's fields were kept where usable",
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"Summaries: {result['cases']} cases, model {result['model']}, ROUGE F (best reference)",
        f"{'method':<28}{'ROUGE-1':>9}{'ROUGE-2':>9}{'ROUGE-L':>9}",
    ]
    labels = {"model": "model (JSON grammar)", "extractive": "extractive baseline"}
    for key, label in labels.items():
        row = result["scores"][key]
        lines.append(f"{label:<28}" + "".join(f"{row[m]:>9.4f}" for m in METRICS))
    made = ", ".join(f"{k}: {v}" for k, v in sorted(result["model_path_methods"].items()))
    lines.append(f"model path summaries by method: {made}")
    lines.append(f"model time per case: {result['model_seconds_per_case']} s")
    return "\n".join(lines)
