"""``agent-copilot demo``: the scripted demo contact headless, with history, articles, wrap-up.

It goes through the same assist session as the window, so what it prints is what an agent
would see for the demo customer.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copilot.assist.grounding import heading
from copilot.commands.common import StreamPrinter, load_engine
from copilot.demo import DEMO_COMPANY, load_demo, play
from copilot.errors import CopilotError

if TYPE_CHECKING:
    from copilot.assist.session import AssistSession
    from copilot.commands.common import Subcommands
    from copilot.contact import Contact, Turn
    from copilot.history.service import Timeline
    from copilot.kb.service import KnowledgeBase
    from copilot.runtime import Runtime

#: Articles printed for each customer message (the session finds more; these lead).
SHOWN_ARTICLES = 3


def register(sub: Subcommands) -> None:
    p = sub.add_parser("demo", help="play the scripted demo contact headless")
    p.add_argument("--profile", help="profile name (default: the active profile)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.assist.session import AssistSession

    script = load_demo()
    profile = runtime.profile(args.profile)
    load_engine(runtime)
    who, channel = script.customer_name, script.channel.value
    print(f"Demo contact with {who} over {channel}, profile {profile.name}\n")
    assist = AssistSession(runtime, knowledge=_knowledge(runtime))
    _history(runtime, script)
    for live, answer in play(script):
        _message(assist, live.snapshot(), profile.name, answer)
    _wrap_up(runtime, live)
    return 0


def _message(assist: AssistSession, contact: Contact, profile: str, answer: Turn | None) -> None:
    """One customer message: its articles, the streamed suggestion, what the agent sent."""
    print(f"Customer: {contact.turns[-1].text}")
    retrieval = assist.retrieve(contact, profile, DEMO_COMPANY)
    for number, hit in enumerate(retrieval.hits[:SHOWN_ARTICLES], start=1):
        print(f"  Article [{number}] {heading(hit)}: » {hit.highlighted_text.strip()}")
    print("Suggestion: ", end="", flush=True)
    stream = assist.suggest(contact, profile, DEMO_COMPANY, retrieval=retrieval)
    result = StreamPrinter().play(stream)
    first = result.first_token_s or 0.0
    print(f"  ({first * 1000:.0f} ms to first token, {result.tokens_per_s:.0f} tokens/s)")
    if answer is not None:
        print(f"Agent sent: {answer.text}")
    print()


def _knowledge(runtime: Runtime) -> KnowledgeBase | None:
    """The knowledge base for the demo, or None (with a warning) when it cannot open."""
    from copilot.kb.service import KnowledgeBase

    try:
        knowledge = KnowledgeBase(runtime.settings)
        knowledge.ensure_demo()
        return knowledge
    except CopilotError as exc:
        print(f"warning: {exc.user_message} The demo runs without articles.", file=sys.stderr)
        return None


def _history(runtime: Runtime, contact: Contact) -> None:
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
        _timeline(timeline)
    finally:
        history.close()


def _timeline(timeline: Timeline) -> None:
    print(f"{timeline.customer.label} · {timeline.digest.headline}")
    for point in timeline.digest.points:
        print(f"  • {point}")
    for earlier in timeline.contacts:
        reason = earlier.summary.reason if earlier.summary else ""
        print(f"  {earlier.started_at:%d %b}  {earlier.channel:<9} {reason}")
    print(f"  (history shown in {timeline.seconds * 1000:.1f} ms)\n")


def _wrap_up(runtime: Runtime, contact: Contact) -> None:
    """The summary the agent would file after the last message, drafted by the model."""
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
