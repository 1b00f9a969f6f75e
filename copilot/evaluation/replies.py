"""``eval replies``: approved replies, the model, and both, scored against real agent replies.

Each case is ``{"dialogue": [{"role", "text"}], "gold_reply", "source", "dial_id"}``
(``conversation_id`` or the case ``id`` stand in for ``dial_id``). There is no
supervisor-written library for these conversations, so the approved replies are
mined from the cases file itself, leave-one-dialogue-out: for each case the
candidates are the real agent replies of every *other* dialogue, as a contact
centre would turn its frequent replies into macros. They are retrieved with the
product's own scoring (``MacroIndex``) and threshold. The model runs through the
product's suggestion pipeline with the default profile, cut to ``max_words``.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from copilot.assist.session import AssistSession, run_to_end
from copilot.contact import MAX_TURN_CHARS, Contact, Role, Turn, role_alias
from copilot.errors import CopilotError
from copilot.kb.turn_vectors import TurnVectors, embed
from copilot.macros.model import Macro
from copilot.macros.retrieve import (
    THRESHOLD,
    MacroIndex,
    conversation_query,
)

if TYPE_CHECKING:
    from copilot.runtime import Runtime

Progress = Callable[[str, int, int], None]
SYSTEMS = ("macro", "model", "macro_if_confident", "oracle")
LABELS = {
    "macro": "approved replies alone (best macro)",
    "model": "model alone",
    "macro_if_confident": "both: macro if confident, else model",
    "oracle": "both: oracle best of two (upper bound)",
}
METRICS = ("rougeL", "cosine")
_TURN_SUFFIX = re.compile(r"(?::t\d+|_\d+->reply)$")


@dataclass(frozen=True)
class ReplyCase:
    turns: tuple[Turn, ...]
    gold: str
    source: str
    dialogue: str

    def contact(self) -> Contact:
        return Contact(turns=list(self.turns))


def _dialogue_key(raw: dict[str, Any]) -> str:
    for key in ("dial_id", "conversation_id"):
        if raw.get(key):
            return f"{raw.get('source', '')}:{raw[key]}"
    return _TURN_SUFFIX.sub("", str(raw.get("id", "")))


def _case(raw: Any) -> ReplyCase | None:
    turns = []
    for item in raw["dialogue"]:
        text = str(item.get("text", "")).strip()[:MAX_TURN_CHARS]
        role = role_alias(item.get("role"))
        if text and role in {r.value for r in Role}:
            turns.append(Turn(role=Role(role), text=text))
    gold = str(raw["gold_reply"]).strip()
    if not turns or not gold:
        return None
    source = str(raw.get("source") or "unknown")
    return ReplyCase(tuple(turns), gold, source, _dialogue_key(raw) or f"line-{id(raw)}")


def load_cases(path: Path) -> list[ReplyCase]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CopilotError(f"Cannot read the cases file {path} ({exc}).") from None
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = _case(json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CopilotError(f"{path} line {number} is not a reply case ({exc}).") from None
        if case is not None:
            cases.append(case)
    if not cases:
        raise CopilotError(f"{path} holds no reply cases.")
    return cases


def sample_cases(cases: list[ReplyCase], limit: int | None, seed: int) -> list[ReplyCase]:
    """A deterministic sample with every source in proportion (each at least once)."""
    if not limit or limit >= len(cases):
        return list(cases)
    rng = random.Random(seed)
    groups: dict[str, list[ReplyCase]] = defaultdict(list)
    for case in cases:
        groups[case.source].append(case)
    names = sorted(groups)
    quota = {s: limit * len(groups[s]) / len(cases) for s in names}
    counts = {s: max(1, int(quota[s])) for s in names}
    by_remainder = sorted(names, key=lambda s: quota[s] - int(quota[s]), reverse=True)
    for name in by_remainder:
        if sum(counts.values()) >= limit:
            break
        counts[name] += 1
    while sum(counts.values()) > limit:
        largest = max(names, key=lambda s: counts[s])
        counts[largest] -= 1
    chosen = []
    for name in names:
        chosen += rng.sample(groups[name], min(counts[name], len(groups[name])))
    rng.shuffle(chosen)
    return chosen


class MinedLibrary:
    """Every distinct gold reply as a macro, remembering which dialogues it came from."""

    def __init__(self, cases: list[ReplyCase]) -> None:
        owners: dict[str, set[str]] = {}
        for case in cases:
            owners.setdefault(" ".join(case.gold.split()), set()).add(case.dialogue)
        self.texts = list(owners)
        self.single_owner = np.array(
            [next(iter(o)) if len(o) == 1 else "" for o in owners.values()], dtype=object
        )
        macros = [
            Macro(
                id=f"r{i}",
                title=" ".join(text.split()[:8])[:120],
                text=text.replace("{", "{{").replace("}", "}}")[:3900],
            )
            for i, text in enumerate(self.texts)
        ]
        self.index = MacroIndex.build(macros, views=[self.texts])

    def best(self, case: ReplyCase, turns: TurnVectors) -> tuple[str, float]:
        """The best macro from other dialogues: its text and score (any score)."""
        allowed = self.single_owner != case.dialogue
        top = self.index.top(
            conversation_query(case.contact()), 1, None, allowed=allowed, turns=turns
        )
        if not top:
            return "", float("-inf")
        return self.texts[top[0][0]], top[0][1]


def _scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def _scores(texts: list[str], golds: list[str], gold_vectors: np.ndarray) -> np.ndarray:
    """(N, 2) ROUGE-L F and embedding cosine of each text against its gold reply."""
    scorer = _scorer()
    rouge = [
        scorer.score(g, t)["rougeL"].fmeasure if t.strip() else 0.0
        for t, g in zip(texts, golds, strict=True)
    ]
    filled = [t if t.strip() else "-" for t in texts]
    cosine = np.sum(embed(filled) * gold_vectors, axis=1)
    cosine = np.where([bool(t.strip()) for t in texts], cosine, 0.0)
    return np.column_stack([np.asarray(rouge, dtype=np.float64), cosine.astype(np.float64)])


def _means(rows: np.ndarray) -> dict[str, float]:
    return {m: round(float(rows[:, i].mean()), 4) for i, m in enumerate(METRICS)}


def retrieve_all(library: MinedLibrary, cases: list[ReplyCase]) -> tuple[list[str], np.ndarray]:
    """Best macro text and score for every case, with the queries embedded in one batch."""
    turns = TurnVectors(size=None)
    turns.get([t for c in cases for t in conversation_query(c.contact()).texts])
    texts, scores = [], []
    for case in cases:
        text, score = library.best(case, turns)
        texts.append(text)
        scores.append(score)
    return texts, np.asarray(scores, dtype=np.float64)


def generate_all(
    runtime: Runtime,
    cases: list[ReplyCase],
    profile_name: str | None,
    max_words: int | None,
    progress: Progress | None,
) -> tuple[list[str], float, str]:
    """The model's suggestion for every case; seconds per case; the profile used."""
    profile = runtime.profile(profile_name)
    if max_words:
        profile = profile.model_copy(update={"max_words": max_words})
    assist = AssistSession(runtime)  # no knowledge base or library for these cases
    texts, seconds = [], 0.0
    for done, case in enumerate(cases, start=1):
        started = time.perf_counter()
        texts.append(run_to_end(assist.suggest(case.contact(), profile)).text)
        seconds += time.perf_counter() - started
        if progress:
            progress("model", done, len(cases))
    return texts, seconds / max(len(cases), 1), f"{profile.name} (max {profile.max_words} words)"


def run_reply_eval(
    runtime: Runtime,
    cases_path: Path,
    limit: int | None = None,
    *,
    seed: int = 0,
    profile: str | None = None,
    max_words: int | None = 40,
    progress: Progress | None = None,
) -> dict[str, Any]:
    everything = load_cases(cases_path)
    cases = sample_cases(everything, limit, seed)
    if progress:
        progress("approved replies", 0, len(everything))
    library = MinedLibrary(everything)
    macro_texts, macro_scores = retrieve_all(library, cases)
    if progress:
        progress("approved replies", len(everything), len(everything))
    info = runtime.engine.load()
    model_texts, seconds, profile_used = generate_all(runtime, cases, profile, max_words, progress)
    golds = [c.gold for c in cases]
    gold_vectors = embed(golds)
    macro = _scores(macro_texts, golds, gold_vectors)
    model = _scores(model_texts, golds, gold_vectors)
    confident = macro_scores >= THRESHOLD
    per_system = {
        "macro": macro,
        "model": model,
        "macro_if_confident": np.where(confident[:, None], macro, model),
        "oracle": np.maximum(macro, model),
    }
    sources = sorted({c.source for c in cases})
    of_source = np.array([c.source for c in cases], dtype=object)
    return {
        "cases": len(cases),
        "seed": seed,
        "cases_by_source": {s: int((of_source == s).sum()) for s in sources},
        "model": info.label,
        "profile": profile_used,
        "model_seconds_per_case": round(seconds, 2),
        "threshold": THRESHOLD,
        "macro_offered_share": round(float(confident.mean()), 4),
        "when_offered": {
            "cases": int(confident.sum()),
            "macro": _means(macro[confident]) if confident.any() else None,
            "model": _means(model[confident]) if confident.any() else None,
        },
        "library": {
            "candidates": len(library.texts),
            "mined_from": str(cases_path),
            "note": (
                "approved replies mined from the cases file's own gold replies, "
                "leave-one-dialogue-out: each case sees only other dialogues' real agent "
                "replies as candidates"
            ),
        },
        "scores": {name: _means(rows) for name, rows in per_system.items()},
        "by_source": {
            s: {name: _means(rows[of_source == s]) for name, rows in per_system.items()}
            for s in sources
        },
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"Replies: {result['cases']} cases (seed {result['seed']}: "
        + ", ".join(f"{s} {n}" for s, n in result["cases_by_source"].items())
        + f"), model {result['model']}, profile {result['profile']}",
        f"{'system':<44}{'ROUGE-L F':>10}{'cosine':>9}",
    ]
    for name in SYSTEMS:
        label = LABELS[name]
        if name == "macro_if_confident":
            label = f"both: macro if score >= {result['threshold']}, else model"
        row = result["scores"][name]
        lines.append(f"{label:<44}{row['rougeL']:>10.4f}{row['cosine']:>9.4f}")
    offered = result["when_offered"]
    lines.append(
        f"macro offered (score >= {result['threshold']}) in "
        f"{result['macro_offered_share']:.1%} of cases"
        + (
            f"; there macro {offered['macro']['rougeL']:.4f} vs model "
            f"{offered['model']['rougeL']:.4f} ROUGE-L"
            if offered["macro"]
            else ""
        )
    )
    short = {"macro": "macro", "model": "model", "macro_if_confident": "both", "oracle": "oracle"}
    lines.append(
        f"{'ROUGE-L F per source (cases)':<34}" + "".join(f"{short[s]:>10}" for s in SYSTEMS)
    )
    for source, rows in result["by_source"].items():
        name = f"  {source} ({result['cases_by_source'][source]})"
        lines.append(f"{name:<34}" + "".join(f"{rows[s]['rougeL']:>10.4f}" for s in SYSTEMS))
    notes = (
        f"Approved replies: {result['library']['candidates']} distinct real agent replies "
        "mined from the cases file, leave-one-dialogue-out (each case sees only other "
        "dialogues' replies, as if the centre had turned its frequent replies into macros), "
        "retrieved with the product's macro scoring and threshold.",
        "The oracle picks the better of the two per case by looking at the gold reply: "
        "an upper bound, not something the product can do.",
    )
    lines += [textwrap.fill(note, 100, break_on_hyphens=False) for note in notes]
    lines.append(f"Model time per case: {result['model_seconds_per_case']} s")
    return "\n".join(lines)
