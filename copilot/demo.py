"""The scripted demo contact: customer turns are played one by one, as if live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from copilot.contact import Contact, Role, Turn, load_contact
from copilot.paths import resources_dir

DEMO_COMPANY = "Brightcart"


def demo_contact_path(name: str = "contact") -> Path:
    return resources_dir() / "demo" / f"{name}.json"


def play(script: Contact) -> Iterator[tuple[Contact, Turn | None]]:
    """Yield the live contact after each customer turn, with the agent's scripted answer.

    The agent's scripted answer is what the real agent sent next (``None`` at the end);
    the caller adds it after showing the suggestion, just as the agent would send it.
    """
    live = Contact(
        channel=script.channel,
        customer_name=script.customer_name,
        customer_identifier=script.customer_identifier,
    )
    turns = script.turns
    for index, turn in enumerate(turns):
        if turn.role is not Role.CUSTOMER:
            continue
        live.turns.append(turn)
        following = turns[index + 1] if index + 1 < len(turns) else None
        answer = following if following is not None and following.role is Role.AGENT else None
        yield live, answer
        if answer is not None:
            live.turns.append(answer)


def load_demo(name: str = "contact") -> Contact:
    return load_contact(demo_contact_path(name))
