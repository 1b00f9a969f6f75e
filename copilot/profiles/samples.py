"""Sample conversations a supervisor tries a draft profile on before publishing it.

They cover the cases profiles differ on (German formal and informal address, an upset
customer, a refund email) besides the demo contacts; all ship with the product.
"""

from __future__ import annotations

import logging
from pathlib import Path

from copilot.contact import Contact, Role, load_contact
from copilot.demo import demo_contact_path
from copilot.errors import ConversationError
from copilot.paths import resources_dir

log = logging.getLogger(__name__)

_SNIPPET_CHARS = 60


def samples_dir() -> Path:
    return resources_dir() / "demo" / "samples"


def sample_paths() -> list[Path]:
    folder = samples_dir()
    written = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [demo_contact_path("contact"), demo_contact_path("long_contact"), *written]


def label(contact: Contact) -> str:
    """A line to pick a sample by: who, which channel, and how the customer opened."""
    first = next((t.text for t in contact.turns if t.role is Role.CUSTOMER), "")
    first = " ".join(first.split())
    if len(first) > _SNIPPET_CHARS:
        first = first[:_SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
    who = contact.customer_name or "Customer"
    return f"{who} ({contact.channel.value}): {first}"


def sample_contacts() -> list[tuple[str, Contact]]:
    """(label, contact) for every shipped sample; fresh copies, so callers may add turns."""
    samples: list[tuple[str, Contact]] = []
    for path in sample_paths():
        try:
            contact = load_contact(path)
        except ConversationError as exc:
            log.warning("sample conversation skipped: %s", exc.user_message)
            continue
        samples.append((label(contact), contact))
    return samples
