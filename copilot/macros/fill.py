"""Fill a macro's placeholders from the live conversation.

Values the conversation does not give are never guessed: they become a visible
``[order number]`` the agent completes before sending, and are listed in
``missing`` so the window can point at them.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import date as Date

from copilot.contact import Contact, Role
from copilot.language import customer_language
from copilot.macros.model import Macro

_LABELS = {
    "en": {
        "customer_name": "customer name",
        "first_name": "first name",
        "agent_name": "your name",
        "company": "company",
        "order_number": "order number",
        "date": "date",
        "tracking_number": "tracking number",
    },
    "de": {
        "customer_name": "Name",
        "first_name": "Vorname",
        "agent_name": "Ihr Name",
        "company": "Firma",
        "order_number": "Bestellnummer",
        "date": "Datum",
        "tracking_number": "Sendungsnummer",
    },
}
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
_TITLES = frozenset(["mr", "mrs", "ms", "miss", "dr", "prof", "herr", "frau", "mx", "sir", "madam"])
# An id: letters, digits and hyphens; it counts with at least 4 characters and one digit.
_ID = r"([A-Za-z0-9][A-Za-z0-9-]{2,24})"
_ORDER = re.compile(
    r"(?:\border|\bbestellung|\bbestell-?(?:nummer|nr\.?)|\bauftrags?(?:nummer|nr\.?)?)"
    r"(?:\s*(?:number|no\.?|nr\.?|num|id|ref(?:erence)?))?"
    r"(?:\s*(?:is|was|lautet|ist|:|=|-))?\s*#?\s*" + _ID,
    re.IGNORECASE,
)
_HASH_ID = re.compile(r"(?<![\w#])#\s?([A-Za-z]{0,4}-?\d[A-Za-z0-9-]{2,20})\b")
_TRACKING = re.compile(
    r"(?:\btracking(?:\s*(?:number|no\.?|code|id))?|\bsendungs(?:verfolgungs)?(?:nummer|nr\.?)"
    r"|\btrackingnummer|\bpaketnummer|\bparcel\s*(?:number|no\.?))"
    r"(?:\s*(?:is|lautet|ist|:|#))?\s*([A-Za-z0-9]{8,34})\b",
    re.IGNORECASE,
)
_UPS = re.compile(r"\b(1Z[0-9A-Z]{16})\b")
# Shapes that are ids on their own ("BC-48213"), and any id-like token once the agent asked.
_SHAPED = re.compile(r"\b([A-Z]{1,4}-\d{3,12})\b")
_TOKEN = re.compile(r"(?<![\w.,/:])([A-Za-z]{0,4}-?\d[A-Za-z0-9-]{2,20})(?![\w.,/:]\d)")
_ASKS_ORDER = re.compile(r"order\s*(?:number|no\b|id\b)|bestell(?:nummer|-?nr)", re.IGNORECASE)


@dataclass(frozen=True)
class Filled:
    text: str
    missing: list[str] = field(default_factory=list)


def first_name(full_name: str | None) -> str:
    """The given name from "Anna Schmidt", "Dr. Anna Schmidt" or "Schmidt, Anna"."""
    if not full_name or not full_name.strip():
        return ""
    name = full_name.strip()
    if "," in name:
        after = name.split(",", 1)[1].strip()
        name = after or name.split(",", 1)[0]
    words = [w for w in name.split() if w.rstrip(".").lower() not in _TITLES]
    return words[0] if words else ""


def _has_digit(value: str) -> bool:
    return any(ch.isdigit() for ch in value)


def _first_id(pattern: re.Pattern[str], text: str, minimum: int) -> str:
    for match in pattern.finditer(text):
        value = match.group(1).strip("-")
        if len(value) >= minimum and _has_digit(value):
            return value
    return ""


def _turns_newest_first(contact: Contact) -> list[str]:
    customer = [t.text for t in reversed(contact.turns) if t.role is Role.CUSTOMER]
    agent = [t.text for t in reversed(contact.turns) if t.role is Role.AGENT]
    return customer + agent


def _asked_for_order(contact: Contact, index: int) -> bool:
    """Whether the agent's turn just before turn ``index`` asked for the order number."""
    for turn in reversed(contact.turns[:index]):
        if turn.role is Role.AGENT:
            return bool(_ASKS_ORDER.search(turn.text))
    return False


def find_tracking_number(contact: Contact) -> str:
    for text in _turns_newest_first(contact):
        found = _first_id(_TRACKING, text, 8) or _first_id(_UPS, text, 18)
        if found:
            return found
    return ""


def find_order_number(contact: Contact) -> str:
    """The newest order number the customer gave (the agent's turns only as a fallback)."""
    tracking = find_tracking_number(contact)
    for index in range(len(contact.turns) - 1, -1, -1):
        turn = contact.turns[index]
        if turn.role is not Role.CUSTOMER:
            continue
        patterns = [_ORDER, _HASH_ID, _SHAPED]
        if _asked_for_order(contact, index):
            patterns.append(_TOKEN)
        for pattern in patterns:
            found = _first_id(pattern, turn.text, 4)
            if found and found != tracking:
                return found
    for turn in reversed(contact.turns):
        if turn.role is Role.AGENT:
            found = _first_id(_ORDER, turn.text, 4) or _first_id(_HASH_ID, turn.text, 4)
            if found and found != tracking:
                return found
    return ""


def format_date(day: Date, language: str) -> str:
    """ "22 November 2026" in English, "22. November 2026" in German, ISO otherwise."""
    if language not in _MONTHS:
        return day.isoformat() if language != "any" else format_date(day, "en")
    month = _MONTHS[language].split()[day.month - 1]
    separator = ". " if language == "de" else " "
    return f"{day.day}{separator}{month} {day.year}"


def reply_language(macro: Macro, contact: Contact) -> str:
    if macro.language != "any":
        return macro.language
    return customer_language(contact)


def fill(
    macro: Macro,
    contact: Contact,
    *,
    company: str = "",
    agent_name: str = "",
    today: Date | None = None,
) -> Filled:
    """The macro's text for this contact; unknown values stay visible as ``[label]``."""
    language = reply_language(macro, contact)
    labels = _LABELS.get(language, _LABELS["en"])
    values = {
        "customer_name": (contact.customer_name or "").strip(),
        "first_name": first_name(contact.customer_name),
        "agent_name": agent_name.strip(),
        "company": company.strip(),
        "order_number": find_order_number(contact),
        "tracking_number": find_tracking_number(contact),
        "date": format_date(today or Date.today(), language),
    }
    pieces: list[str] = []
    missing: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(macro.text):
        pieces.append(literal)
        if name is None:
            continue
        value = values.get(name, "")
        if not value:
            value = f"[{labels.get(name, name.replace('_', ' '))}]"
            if name not in missing:
                missing.append(name)
        pieces.append(value)
    return Filled("".join(pieces), missing)
