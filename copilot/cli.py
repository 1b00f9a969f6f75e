"""Command line: ``agent-copilot COMMAND``; no command opens the window."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TextIO

from copilot import __version__
from copilot.conversation import Contact, load_contact
from copilot.demo import DEMO_COMPANY, load_demo, play
from copilot.errors import CopilotError
from copilot.kb.grounding import heading
from copilot.kb.grounding import sources as grounding_sources
from copilot.privacy import install_log_redaction
from copilot.runtime import Runtime
from copilot.suggest import Chunk, Suggestion, stream_suggestion

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-copilot",
        description="Offline agent-assist copilot. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"agent-copilot {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log more (never customer text)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("suggest", help="stream a reply suggestion for a conversation file")
    p.add_argument("--conversation", required=True, type=Path, metavar="FILE.json")
    p.add_argument("--profile", help="profile name (default: the active profile)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")

    p = sub.add_parser("demo", help="play the scripted demo contact headless")
    p.add_argument("--profile", help="profile name (default: the active profile)")

    p = sub.add_parser("bench", help="measure latency, throughput, start-up time and memory")
    p.add_argument(
        "what",
        nargs="?",
        choices=["model", "kb", "history", "api", "macros"],
        default="model",
        help="model (default): suggestions; kb: knowledge-base import and queries; "
        "history: history import and the time to show a customer's timeline; "
        "api: from a message posted to the API to the first streamed token; "
        "macros: matching approved replies to a live contact",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable figures")
    p.add_argument("--sizes", default="10000,100000", help="kb: passage counts to query at")
    p.add_argument("--turns", type=int, default=20, help="turns of the scripted conversation")

    from copilot.profiles_cli import add_parsers as add_profiles_parsers

    add_profiles_parsers(sub)
    from copilot.history.cli import add_parsers as add_history_parsers
    from copilot.kb.cli import add_parsers
    from copilot.macros.cli import add_parsers as add_macros_parsers

    eval_sub = add_parsers(sub)
    add_history_parsers(sub, eval_sub)
    add_macros_parsers(sub, eval_sub)
    from copilot.api.cli import add_parsers as add_api_parsers

    add_api_parsers(sub)
    from copilot.analytics.cli import add_parsers as add_stats_parsers

    add_stats_parsers(sub)
    from copilot.models_cli import add_parsers as add_model_parsers

    add_model_parsers(sub)
    from copilot.doctor import add_parsers as add_doctor_parsers

    add_doctor_parsers(sub)
    from copilot.selftest import add_parsers as add_selftest_parsers

    add_selftest_parsers(sub)
    return parser


class StreamPrinter:
    """Print chunks as they come; a replacing chunk prints only what is new when it can."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out, self.shown = out, ""

    def feed(self, chunks: Iterable[Chunk]) -> None:
        for chunk in chunks:
            total = chunk.text if chunk.replace else self.shown + chunk.text
            if total.startswith(self.shown):
                self.out.write(total[len(self.shown) :])
            else:
                self.out.write("\n" + total)
            self.shown = total
            self.out.flush()
        self.out.write("\n")


def _load_engine(runtime: Runtime) -> None:
    print("Loading the model…", file=sys.stderr, flush=True)
    info = runtime.engine.load()
    print(f"Model: {info.label}", file=sys.stderr, flush=True)


def _summary(result: Suggestion, runtime: Runtime) -> dict[str, Any]:
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


def cmd_suggest(args: argparse.Namespace, runtime: Runtime) -> int:
    contact = load_contact(args.conversation)
    request = runtime.request(contact, args.profile)
    _load_engine(runtime)
    if args.json:
        for _ in stream_suggestion(runtime.engine, request):
            pass
        print(json.dumps(_summary(request.result, runtime), ensure_ascii=False, indent=2))
    else:
        StreamPrinter().feed(stream_suggestion(runtime.engine, request))
        for flag in request.result.flags:
            print(f"note: {flag}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace, runtime: Runtime) -> int:
    script = load_demo()
    profile = runtime.profile(args.profile)
    _load_engine(runtime)
    who, channel = script.customer_name, script.channel.value
    print(f"Demo contact with {who} over {channel}, profile {profile.name}\n")
    knowledge = _demo_knowledge(runtime)
    _demo_history(runtime, script)
    for live, answer in play(script):
        print(f"Customer: {live.turns[-1].text}")
        request = runtime.request(live.snapshot(), profile.name)
        request.company = DEMO_COMPANY
        if knowledge is not None:
            hits = knowledge.for_contact(live.snapshot(), k=3)
            for number, hit in enumerate(hits, start=1):
                print(f"  Article [{number}] {heading(hit)}: » {hit.highlighted_text.strip()}")
            request.sources = grounding_sources(hits)
        print("Suggestion: ", end="", flush=True)
        StreamPrinter().feed(stream_suggestion(runtime.engine, request))
        first = request.result.first_token_s or 0.0
        print(
            f"  ({first * 1000:.0f} ms to first token, "
            f"{runtime.engine.last_stats.tokens_per_s:.0f} tokens/s)"
        )
        if answer is not None:
            print(f"Agent sent: {answer.text}")
        print()
    _demo_wrap_up(runtime, live)
    return 0


def _demo_history(runtime: Runtime, contact: Contact) -> None:
    """What the agent sees the moment the demo contact starts: the customer's history."""
    from copilot.history.service import History

    try:
        history = History.open(runtime.settings)
    except CopilotError as exc:
        print(f"warning: {exc.user_message} The demo runs without history.", file=sys.stderr)
        return
    try:
        history.ensure_demo()
        customer = history.recognise(contact)
        timeline = history.timeline(customer.id) if customer else None
        if timeline is None:
            print("New customer: no earlier contacts.\n")
            return
        print(f"{timeline.customer.label} · {timeline.digest.headline}")
        for point in timeline.digest.points:
            print(f"  • {point}")
        for earlier in timeline.contacts:
            reason = earlier.summary.reason if earlier.summary else ""
            print(f"  {earlier.started_at:%d %b}  {earlier.channel:<9} {reason}")
        print(f"  (history shown in {timeline.seconds * 1000:.1f} ms)\n")
    finally:
        history.close()


def _demo_wrap_up(runtime: Runtime, contact: Contact) -> None:
    from copilot.history.service import messages_of
    from copilot.history.summarise import summarise

    summary = summarise(runtime.engine, messages_of(contact))
    print(f"Wrap-up draft ({summary.method.value}):")
    print(f"  Reason: {summary.reason}")
    for action in summary.actions:
        print(f"  Done: {action}")
    if summary.resolution:
        print(f"  Outcome: {summary.resolution}")
    for item in summary.open_items:
        print(f"  Open: {item}")
    print(
        f"  Customer sentiment: {summary.sentiment.value}; disposition: {summary.disposition.value}"
    )


def _demo_knowledge(runtime: Runtime) -> Any:
    """The knowledge base for the demo, or None (with a warning) when it cannot open."""
    from copilot.kb.service import KnowledgeBase

    try:
        knowledge = KnowledgeBase(runtime.settings)
        knowledge.ensure_demo()
        return knowledge
    except CopilotError as exc:
        print(f"warning: {exc.user_message} The demo runs without articles.", file=sys.stderr)
        return None


def frontend(name: str) -> Any:
    """A part of the window (``window``, ``selftest``), found through its entry point so the
    core never imports the UI; None, after saying so, when the window is not installed."""
    frontends = entry_points(group="agent_copilot.frontends", name=name)
    if not frontends:
        print("error: the window is not installed; run installers/setup.sh", file=sys.stderr)
        return None
    return next(iter(frontends)).load()


def _open_window(argv: list[str]) -> int:
    window = frontend("window")
    return 2 if window is None else int(window(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    install_log_redaction()
    if args.command is None:
        return _open_window(argv)
    if args.command == "selftest" and args.window:
        from copilot.selftest import run_selftest

        # The window builds its own runtime, as it does for an agent.
        return run_selftest(args, None)
    try:
        runtime = Runtime.create()
        for problem in runtime.problems:
            print(f"warning: {problem.user_message}", file=sys.stderr)
        if args.command == "bench" and args.what == "kb":
            from copilot.kb.bench import run_kb_bench

            sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
            return run_kb_bench(runtime.settings, as_json=args.json, sizes=sizes)
        if args.command == "bench" and args.what == "api":
            from copilot.api.bench import run_api_bench

            return run_api_bench(runtime, as_json=args.json, turns=args.turns)
        if args.command == "bench" and args.what == "macros":
            from copilot.macros.bench import run_macros_bench

            return run_macros_bench(as_json=args.json)
        if args.command == "bench" and args.what == "history":
            from copilot.history.bench import run_history_bench

            return run_history_bench(as_json=args.json)
        if args.command == "bench":
            from copilot.bench import run_bench

            return run_bench(runtime, as_json=args.json, turns=args.turns)
        if args.command == "kb":
            from copilot.kb.cli import run_kb

            return run_kb(args, runtime.settings)
        if args.command == "history" or (
            args.command == "eval" and args.eval_command == "summaries"
        ):
            from copilot.history.cli import run_history

            return run_history(args, runtime)
        if args.command in {"serve", "api", "feed"}:
            from copilot.api.cli import run_api

            return run_api(args, runtime)
        if args.command == "macros" or (args.command == "eval" and args.eval_command == "replies"):
            from copilot.macros.cli import run_macros

            return run_macros(args, runtime)
        if args.command == "stats":
            from copilot.analytics.cli import run_stats

            return run_stats(args, runtime)
        if args.command == "eval":
            from copilot.kb.cli import run_eval

            return run_eval(args)
        if args.command == "profiles":
            from copilot.profiles_cli import run_profiles

            return run_profiles(args, runtime)
        if args.command == "model":
            from copilot.models_cli import run_model

            return run_model(args, runtime.settings)
        if args.command == "doctor":
            from copilot.doctor import run_doctor

            problems = [p.user_message for p in runtime.problems]
            return run_doctor(args, runtime.settings, problems)
        if args.command == "selftest":
            from copilot.selftest import run_selftest

            return run_selftest(args, runtime)
        handler = {"suggest": cmd_suggest, "demo": cmd_demo}[args.command]
        return handler(args, runtime)
    except CopilotError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The output went to a pipe that closed early (``| head``): not an error to show.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
