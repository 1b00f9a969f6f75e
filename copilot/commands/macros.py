"""``agent-copilot macros ...``: approved replies headless."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.macros.library import MacroLibrary
    from copilot.runtime import Runtime


def register(sub: Subcommands) -> None:
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
    m.set_defaults(run=run_macros)


def run_macros(args: argparse.Namespace, runtime: Runtime) -> int:
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
    from copilot.contact import load_contact

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
