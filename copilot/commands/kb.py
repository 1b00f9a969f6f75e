"""``agent-copilot kb ...``: the knowledge base headless."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# Heavy imports (chromadb, the embedding model, file parsers) wait until a kb
# command runs, so that opening the window does not pay for them.
if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.kb.importer import ImportProgress, ImportReport
    from copilot.kb.retrieval import Hit
    from copilot.kb.service import KnowledgeBase
    from copilot.runtime import Runtime


def register(sub: Subcommands) -> None:
    kb = sub.add_parser("kb", help="the knowledge base: import, search, stats, remove")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    p = kb_sub.add_parser("import", help="import files and folders (incremental, resumable)")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p = kb_sub.add_parser("search", help="search the knowledge base")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=5, help="how many articles")
    p.add_argument("--json", action="store_true")
    p = kb_sub.add_parser("stats", help="what the knowledge base holds")
    p.add_argument("--json", action="store_true")
    p = kb_sub.add_parser("remove", help="remove imported files (a folder removes all under it)")
    p.add_argument("paths", nargs="+")
    kb.set_defaults(run=run_kb)


class ProgressBar:
    """A one-line progress bar on stderr with counts and an ETA."""

    def __init__(self, out: TextIO = sys.stderr) -> None:
        self.out = out
        self.last = 0.0

    def __call__(self, p: ImportProgress) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and p.files_done < p.files_total:
            return
        self.last = now
        width = 24
        filled = int(width * p.files_done / max(p.files_total, 1))
        eta = f"ETA {int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d}" if p.eta_s is not None else ""
        self.out.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {p.files_done}/{p.files_total} files, "
            f"{p.chunks} passages, {p.failed} failed {eta}   "
        )
        if p.files_done == p.files_total:
            self.out.write("\n")
        self.out.flush()


def _report_dict(report: ImportReport) -> dict[str, Any]:
    from copilot.kb.importer import Status

    return {
        "imported": report.count(Status.IMPORTED),
        "unchanged": report.count(Status.UNCHANGED),
        "removed": report.count(Status.REMOVED),
        "failed": report.count(Status.FAILED),
        "passages": report.chunks,
        "seconds": round(report.elapsed_s, 2),
        "passages_per_s": round(report.chunks_per_s, 1),
        "failures": [
            {"file": o.source, "problem": o.problem, "why": o.message} for o in report.failures
        ],
    }


def cmd_import(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    report = kb.import_paths(args.paths, progress=None if args.json else ProgressBar())
    summary = _report_dict(report)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(
            f"{summary['imported']} imported, {summary['unchanged']} unchanged, "
            f"{summary['removed']} removed, {summary['failed']} failed; "
            f"{summary['passages']} passages in {summary['seconds']} s"
        )
        for failure in summary["failures"]:
            print(f"  failed: {failure['file']}: {failure['problem']} ({failure['why']})")
    return 1 if report.failures else 0


def hit_dict(rank: int, hit: Hit) -> dict[str, Any]:
    p = hit.passage
    return {
        "rank": rank,
        "title": p.title,
        "section": " › ".join(p.path),
        "url": p.meta.get("url", ""),
        "source": p.meta.get("source", ""),
        "doc_id": p.doc_id,
        "score": round(hit.score, 4),
        "passage": p.text,
        "highlight": hit.highlighted_text,
    }


def cmd_search(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    hits = kb.search(args.text, k=args.k)
    if args.json:
        print(
            json.dumps(
                [hit_dict(i, h) for i, h in enumerate(hits, 1)], indent=2, ensure_ascii=False
            )
        )
        return 0
    if not hits:
        print("No matching articles.")
    for i, hit in enumerate(hits, 1):
        d = hit_dict(i, hit)
        where = f" › {d['section']}" if d["section"] else ""
        print(f"[{i}] {d['title']}{where}  ({d['score']:.2f})")
        print(f"    » {d['highlight'].strip()}")
        if d["url"]:
            print(f"    {d['url']}")
    return 0


def cmd_stats(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    stats = kb.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key:12} {value}")
    return 0


def cmd_remove(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    removed = kb.remove(args.paths)
    for source in removed:
        print(f"removed {source}")
    if not removed:
        print("Nothing imported matches those paths.", file=sys.stderr)
        return 1
    return 0


def run_kb(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.kb.service import KnowledgeBase

    kb = KnowledgeBase(runtime.settings)
    handlers = {
        "import": cmd_import,
        "search": cmd_search,
        "stats": cmd_stats,
        "remove": cmd_remove,
    }
    if args.kb_command == "search":
        kb.ensure_demo()
    return handlers[args.kb_command](args, kb)
