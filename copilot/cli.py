"""Command line: ``agent-copilot COMMAND``; no command opens the window.

Each module in ``copilot.commands`` adds its own parsers and the function that runs them;
this one only builds the runtime they share and turns what goes wrong into an exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from copilot import __version__
from copilot.commands import (
    bench,
    demo,
    doctor,
    evaluate,
    history,
    kb,
    macros,
    model,
    profiles,
    selftest,
    serve,
    stats,
    suggest,
)
from copilot.commands.common import frontend
from copilot.errors import CopilotError
from copilot.privacy import install_log_redaction
from copilot.runtime import Runtime

#: In the order ``--help`` lists them.
COMMANDS = (
    suggest,
    demo,
    bench,
    profiles,
    kb,
    evaluate,
    history,
    macros,
    serve,
    stats,
    model,
    doctor,
    selftest,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-copilot",
        description="Offline agent-assist copilot. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"agent-copilot {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log more (never customer text)"
    )
    # own_runtime: the command builds its runtime itself (selftest --window, in the window).
    parser.set_defaults(own_runtime=lambda _args: False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    install_log_redaction()
    if args.command is None:
        return _open_window(argv)
    if args.own_runtime(args):
        return int(args.run(args, None))
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the command with a fresh runtime; a CopilotError is a message and exit code 2."""
    try:
        runtime = Runtime.create()
        for problem in runtime.problems:
            print(f"warning: {problem.user_message}", file=sys.stderr)
        return int(args.run(args, runtime))
    except CopilotError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The output went to a pipe that closed early (``| head``): not an error to show.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _open_window(argv: list[str]) -> int:
    window = frontend("window")
    return 2 if window is None else int(window(argv) or 0)
