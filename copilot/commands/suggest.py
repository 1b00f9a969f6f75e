"""``agent-copilot suggest``: one reply suggestion for a conversation file, streamed or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.commands.common import StreamPrinter, load_engine
from copilot.contact import load_contact

if TYPE_CHECKING:
    from copilot.assist.suggestion import Suggestion
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime


def register(sub: Subcommands) -> None:
    p = sub.add_parser("suggest", help="stream a reply suggestion for a conversation file")
    p.add_argument("--conversation", required=True, type=Path, metavar="FILE.json")
    p.add_argument("--profile", help="profile name (default: the active profile)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.assist.session import AssistSession, run_to_end

    contact = load_contact(args.conversation)
    assist = AssistSession(runtime)
    assist.profile(args.profile)  # an unknown profile fails before the model loads
    load_engine(runtime)
    stream = assist.suggest(contact, args.profile)
    if args.json:
        result = run_to_end(stream)
        print(json.dumps(summary(result, runtime), ensure_ascii=False, indent=2))
        return 0
    result = StreamPrinter().play(stream)
    for flag in result.flags:
        print(f"note: {flag}", file=sys.stderr)
    return 0


def summary(result: Suggestion, runtime: Runtime) -> dict[str, Any]:
    """The ``--json`` object: the reply, and the figures a script checks it by."""
    stats = runtime.engine.last_stats
    return {
        "text": result.text,
        "profile": result.profile,
        "language": result.language,
        "withheld": result.withheld,
        "flags": result.flags,
        "model": runtime.engine.info.label if runtime.engine.info else None,
        "first_token_s": round(result.first_token_s or 0.0, 4),
        "tokens_per_s": round(stats.tokens_per_s, 1),
        "prompt_tokens": stats.prompt_tokens,
        "reused_tokens": stats.reused_tokens,
        "omitted_turns": result.omitted_turns,
    }
