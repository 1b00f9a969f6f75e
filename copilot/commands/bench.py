"""``agent-copilot bench [model|kb|history|api|macros]``: which figures to measure.

Each bench lives beside what it measures and is imported only when it runs: the model
bench loads llama.cpp, the knowledge-base bench chromadb.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime


def register(sub: Subcommands) -> None:
    p = sub.add_parser("bench", help="measure latency, throughput, start-up time and memory")
    p.add_argument(
        "what",
        nargs="?",
        choices=list(BENCHES),
        default="model",
        help="model (default): suggestions; kb: knowledge-base import and queries; "
        "history: history import and the time to show a customer's timeline; "
        "api: from a message posted to the API to the first streamed token; "
        "macros: matching approved replies to a live contact",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable figures")
    p.add_argument("--sizes", default="10000,100000", help="kb: passage counts to query at")
    p.add_argument("--turns", type=int, default=20, help="turns of the scripted conversation")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    return BENCHES[args.what](args, runtime)


def _model(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.commands.model_bench import run_bench

    return run_bench(runtime, as_json=args.json, turns=args.turns)


def _kb(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.kb.bench import run_kb_bench

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return run_kb_bench(runtime.settings, as_json=args.json, sizes=sizes)


def _history(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.history.bench import run_history_bench

    return run_history_bench(as_json=args.json)


def _api(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.api.bench import run_api_bench

    return run_api_bench(runtime, as_json=args.json, turns=args.turns)


def _macros(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.macros.bench import run_macros_bench

    return run_macros_bench(as_json=args.json)


#: In the order ``bench --help`` lists them.
BENCHES: dict[str, Callable[[argparse.Namespace, Runtime], int]] = {
    "model": _model,
    "kb": _kb,
    "history": _history,
    "api": _api,
    "macros": _macros,
}
