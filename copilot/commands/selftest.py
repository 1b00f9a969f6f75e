"""``agent-copilot selftest``: prove an installation works by streaming one real suggestion.

``doctor`` reads the machine's state without loading anything; the self-test does the
work an agent's first contact would: it loads the configured model and streams a reply
to the demo customer's first message, headless or through the real window
(``--window``, offscreen when there is no screen). IT runs it after an install; the
offline-bundle and frozen-build tests run it on what they installed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.commands.common import StreamPrinter, frontend
from copilot.contact import Contact
from copilot.demo import DEMO_COMPANY, load_demo, play
from copilot.errors import Cancelled, CopilotError

if TYPE_CHECKING:
    from copilot.assist.session import AssistSession
    from copilot.assist.suggestion import Suggestion
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime

DEFAULT_TIMEOUT_S = 180.0
#: A reply the leak guard withholds is asked for again, as an agent presses Regenerate.
ATTEMPTS = 3


@dataclass
class SelfTestResult:
    """What one self-test saw; ``ok`` only when a suggestion really streamed."""

    ok: bool = False
    window: bool = False
    qt_platform: str = ""
    model: str = ""
    load_s: float = 0.0
    chunks: int = 0
    articles: int | None = None
    text: str = ""
    withheld: bool = False
    attempts: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0
    error: str = ""
    steps: list[str] = field(default_factory=list)

    def finish(self) -> SelfTestResult:
        # A withheld reply still proves the installation: the model streamed it and the
        # guard did its job. It is reported (``withheld``) but is not a failure.
        if not self.error and (self.chunks == 0 or not self.text.strip()):
            self.error = "The model loaded but streamed no suggestion."
        self.ok = not self.error
        return self

    def took(self, suggestion: Suggestion) -> bool:
        """Keep this attempt's figures; True when another attempt should follow."""
        self.attempts += 1
        self.chunks, self.text = suggestion.chunks, suggestion.text
        self.withheld = suggestion.withheld
        if self.first_token_s is None:  # what the agent waited for: the first attempt's
            self.first_token_s = suggestion.first_token_s
        if suggestion.withheld:
            self.steps.append(f"Attempt {self.attempts}: withheld by the leak guard")
        return suggestion.withheld and self.attempts < ATTEMPTS

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if data["first_token_s"] is not None:
            data["first_token_s"] = round(data["first_token_s"], 4)
        data["load_s"], data["total_s"] = round(self.load_s, 3), round(self.total_s, 3)
        return data


def first_customer_message() -> Contact:
    """The demo contact as it stands after the customer's first message."""
    live, _answer = next(play(load_demo()))
    return live.snapshot()


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "selftest",
        help="load the model and stream one real suggestion (after installing, for IT)",
    )
    p.add_argument(
        "--window",
        action="store_true",
        help="through the real window (offscreen when there is no screen)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up after this long (default {DEFAULT_TIMEOUT_S:.0f})",
    )
    p.add_argument("--json", action="store_true", help="print only one JSON object")
    # The window builds its own runtime, as it does for an agent.
    p.set_defaults(run=run_selftest, own_runtime=lambda args: args.window)


def run_selftest(args: argparse.Namespace, runtime: Runtime | None) -> int:
    if args.window:
        window_selftest = frontend("selftest")
        if window_selftest is None:
            return 2
        result = window_selftest(args.timeout, not args.json)
    else:
        assert runtime is not None
        result = headless(runtime, args.timeout, echo=not args.json)
    return report(result, as_json=args.json)


def report(result: SelfTestResult, as_json: bool) -> int:
    if not as_json:
        for step in result.steps:
            print(step, file=sys.stderr)
    print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
    if not result.ok:
        print(f"error: self-test failed: {result.error}", file=sys.stderr)
        return 1
    if not as_json:
        where = "in the window" if result.window else "headless"
        print(
            f"Self-test passed {where}: {result.chunks} chunks, first token after "
            f"{(result.first_token_s or 0) * 1000:.0f} ms.",
            file=sys.stderr,
        )
    return 0


def headless(runtime: Runtime, timeout_s: float, echo: bool) -> SelfTestResult:
    """Load the model and stream one suggestion in this process, without Qt."""
    from copilot.assist.session import AssistSession

    result = SelfTestResult()
    started = time.perf_counter()
    cancel = threading.Event()
    timer = threading.Timer(timeout_s, cancel.set)
    timer.daemon = True
    timer.start()
    try:
        info = runtime.engine.load()
        result.model, result.load_s = info.label, time.perf_counter() - started
        result.steps.append(f"Model loaded in {result.load_s:.1f} s: {info.label}")
        assist, contact = AssistSession(runtime), first_customer_message()
        while result.took(_attempt(assist, contact, cancel, echo)):
            pass
    except Cancelled:
        result.error = f"No complete suggestion within {timeout_s:g} s."
    except CopilotError as exc:
        result.error = exc.user_message
    finally:
        timer.cancel()
        result.total_s = time.perf_counter() - started
    return result.finish()


def _attempt(
    assist: AssistSession, contact: Contact, cancel: threading.Event, echo: bool
) -> Suggestion:
    """One suggestion for the demo customer, printed as it streams when ``echo``."""
    from copilot.assist.session import run_to_end

    stream = assist.suggest(contact, None, DEMO_COMPANY, cancel=cancel)
    return StreamPrinter().play(stream) if echo else run_to_end(stream)
