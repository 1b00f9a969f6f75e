"""``agent-copilot eval retrieval|summaries|replies``: measure the copilot on evaluation sets.

The three evaluations share one command so that ``eval --help`` lists them together; each
loads its heavy parts (chromadb, the model, ROUGE) only when it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime


def register(sub: Subcommands) -> None:
    ev = sub.add_parser("eval", help="measure retrieval on an evaluation set")
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND", required=True)
    _add_retrieval(ev_sub)
    _add_summaries(ev_sub)
    _add_replies(ev_sub)


def _add_retrieval(ev_sub: Subcommands) -> None:
    p = ev_sub.add_parser("retrieval", help="recall@k and MRR: lexical, dense, hybrid")
    p.add_argument("--kb", required=True, type=Path, help="articles: JSON lines id/title/text")
    p.add_argument("--cases", required=True, type=Path, help="cases: JSON lines dialogue/gold_*")
    p.add_argument(
        "--sections",
        type=Path,
        help="paragraphs: JSON lines id/doc_id/text "
        "(default: kb_sections.jsonl beside --kb, if present)",
    )
    p.add_argument("--limit", type=int, help="only the first N cases")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_retrieval)


def _add_summaries(ev_sub: Subcommands) -> None:
    p = ev_sub.add_parser("summaries", help="ROUGE-1/2/L: model summaries against extractive")
    p.add_argument("--cases", required=True, type=Path, help="JSON lines dialogue/references")
    p.add_argument("--limit", type=int, help="only the first N cases")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_summaries)


def _add_replies(ev_sub: Subcommands) -> None:
    p = ev_sub.add_parser(
        "replies", help="ROUGE-L and cosine to real agent replies: macros, model, both"
    )
    p.add_argument("--cases", required=True, type=Path, help="JSON lines dialogue/gold_reply")
    p.add_argument("--limit", type=int, help="a sample of N cases, spread over the sources")
    p.add_argument("--seed", type=int, default=0, help="which sample (default 0)")
    p.add_argument("--profile", help="profile for the model (default: the active profile)")
    p.add_argument("--max-words", type=int, default=40, help="cut the model's replies (default 40)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_replies)


def run_retrieval(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.evaluation.retrieval import as_json, format_table, run_retrieval_eval

    sections = args.sections
    if sections is None and (args.kb.parent / "kb_sections.jsonl").is_file():
        sections = args.kb.parent / "kb_sections.jsonl"
    result = run_retrieval_eval(args.kb, args.cases, sections, args.limit)
    print(as_json(result) if args.json else format_table(result))
    return 0


def run_summaries(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.evaluation.summaries import format_table, run_summary_eval

    result = run_summary_eval(runtime, args.cases, args.limit, progress=_count)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def run_replies(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.evaluation.replies import format_table, run_reply_eval

    print("Loading the model and the approved-reply candidates…", file=sys.stderr, flush=True)
    result = run_reply_eval(
        runtime,
        args.cases,
        args.limit,
        seed=args.seed,
        profile=args.profile,
        max_words=args.max_words,
        progress=_stage,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_table(result))
    return 0


def _count(done: int, total: int) -> None:
    sys.stderr.write(f"\r{done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _stage(stage: str, done: int, total: int) -> None:
    sys.stderr.write(f"\r{stage}: {done}/{total}   ")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
