"""``agent-copilot macros ...`` and ``eval replies``: approved replies headless."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.macros.library import MacroLibrary
    from copilot.runtime import Runtime


def add_parsers(sub: Any, eval_sub: Any) -> None:
    """Adds ``macros`` to the commands and ``replies`` to the evaluations."""
    m = sub.add_parser("macros", help="approved replies: list, import, export, match, delete")
    m_sub = m.add_subparsers(dest="macros_command", metavar="MACROS_COMMAND", required=True)
    p = m_sub.add_parser("list", help="the approved replies in the library")
    p.add_argument("--json", action="store_true")
    p = m_sub.add_parser("import", help="add or update approved replies from a CSV file")
    p.add_argument("path", type=Path, metavar="FILE.csv")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p = m_sub.add_parser("export", help="write the library as a CSV file")
    p.add_argument("path", type=Path, metavar="FILE.csv")
    p = m_sub.add_parser("delete", help="remove approved replies by id")
    p.add_argument("ids", nargs="+", metavar="ID")
    p = m_sub.add_parser("match", help="the approved replies offered for a conversation file")
    p.add_argument("--conversation", required=True, type=Path, metavar="FILE.json")
    p.add_argument("-k", type=int, default=3, help="at most this many")
    p.add_argument("--json", action="store_true")

    p = eval_sub.add_parser(
        "replies", help="ROUGE-L and cosine to real agent replies: macros, model, both"
    )
    p.add_argument("--cases", required=True, type=Path, help="JSON lines dialogue/gold_reply")
    p.add_argument("--limit", type=int, help="a sample of N cases, spread over the sources")
    p.add_argument("--seed", type=int, default=0, help="which sample (default 0)")
    p.add_argument("--profile", help="profile for the model (default: the active profile)")
    p.add_argument("--max-words", type=int, default=40, help="cut the model's replies (default 40)")
    p.add_argument("--json", action="store_true")


def run_macros(args: argparse.Namespace, runtime: Runtime) -> int:
    if args.command == "eval":
        return _eval(args, runtime)
    from copilot.macros.library import MacroLibrary

    library = MacroLibrary.open(runtime.settings)
    for problem in library.problems:
        print(f"warning: {problem}", file=sys.stderr)
    handler = {
        "list": _list,
        "import": _import,
        "export": _export,
        "delete": _delete,
        "match": _match,
    }[args.macros_command]
    return handler(args, library)


def _progress(stage: str, done: int, total: int) -> None:
    sys.stderr.write(f"\r{stage}: {done}/{total}   ")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _eval(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.macros.evaluate import format_table, run_reply_eval

    print("Loading the model and the approved-reply candidates…", file=sys.stderr, flush=True)
    result = run_reply_eval(
        runtime,
        args.cases,
        args.limit,
        seed=args.seed,
        profile=args.profile,
        max_words=args.max_words,
        progress=_progress,
    )
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_table(result))
    return 0


def _list(args: argparse.Namespace, library: MacroLibrary) -> int:
    macros = library.macros
    if args.json:
        print(json.dumps([m.model_dump(mode="json") for m in macros], indent=2, ensure_ascii=False))
        return 0
    for m in macros:
        tags = f"  [{', '.join(m.tags)}]" if m.tags else ""
        print(f"{m.id:28} {m.language:3} {m.title}{tags}")
    print(f"{len(macros)} approved replies in {library.path}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace, library: MacroLibrary) -> int:
    report = library.import_csv(args.path)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1


def _export(args: argparse.Namespace, library: MacroLibrary) -> int:
    count = library.export_csv(args.path)
    print(f"wrote {count} approved replies to {args.path}", file=sys.stderr)
    return 0


def _delete(args: argparse.Namespace, library: MacroLibrary) -> int:
    missing = [i for i in args.ids if not library.delete(i)]
    for macro_id in missing:
        print(f"error: no approved reply has the id '{macro_id}'", file=sys.stderr)
    return 1 if missing else 0


def _match(args: argparse.Namespace, library: MacroLibrary) -> int:
    from copilot.conversation import load_contact

    matches = library.match(load_contact(args.conversation), k=args.k)
    if args.json:
        rows = [
            {
                "id": m.macro.id,
                "title": m.macro.title,
                "score": round(m.score, 4),
                "text": m.filled.text,
                "missing": m.filled.missing,
            }
            for m in matches
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not matches:
        print("No approved reply fits this conversation.")
    for m in matches:
        print(f"[{m.score:.2f}] {m.macro.title} ({m.macro.id})")
        print("    " + m.filled.text.replace("\n", "\n    "))
        if m.filled.missing:
            print(f"    to fill in: {', '.join(m.filled.missing)}")
    return 0
