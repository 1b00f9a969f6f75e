"""What an analytics event may hold: enums, safe names and ids, and the edit numbers.

Analytics must never carry conversation or suggestion text, so every value that is
not a number or an enum goes through a check here before it reaches the store: a
profile name or a reference that does not look like an id is replaced by a short hash,
which still counts distinct things without keeping what they said.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import Levenshtein

PROFILE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
#: Suggestion ids and knowledge doc ids: short, no whitespace, id-like characters only.
REF_PATTERN = re.compile(r"^[A-Za-z0-9._:/#@+=~-]{1,80}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
HASH_CHARS = 16


class Source(StrEnum):
    """Where a suggestion or hit came from."""

    MODEL = "model"
    MACRO = "macro"
    KB = "kb"


class Reason(StrEnum):
    """Why an agent gave a thumb; the only free choice they have, and it is an enum."""

    WRONG_FACTS = "wrong facts"
    WRONG_TONE = "wrong tone"
    TOO_LONG = "too long"
    WRONG_LANGUAGE = "wrong language"
    NOT_RELEVANT = "not relevant"
    HELPFUL = "helpful"
    OTHER = "other"


class Kind(StrEnum):
    """The kinds of rows in the events table."""

    SHOWN = "shown"
    INSERTED = "inserted"
    DISMISSED = "dismissed"
    SENT = "sent"
    KB_OPENED = "kb_opened"
    FEEDBACK = "feedback"


def short_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]


def safe_profile(name: str) -> str:
    """A profile name as stored: valid names as they are, anything else hashed.

    Profile names are validated by the profile model with the same pattern, so a
    mismatch means a caller passed something else (perhaps text); it is not kept.
    """
    return name if PROFILE_PATTERN.match(name) else short_hash(name)


def safe_ref(ref: str) -> str:
    """A suggestion id or doc id as stored; long or text-like values become a hash."""
    if ref == "" or REF_PATTERN.match(ref):
        return ref
    return short_hash(ref)


def safe_language(code: str) -> str:
    """A language code such as ``en`` or ``de-CH``; anything else is dropped."""
    return code if LANGUAGE_PATTERN.match(code) else ""


@dataclass(frozen=True)
class Edit:
    """How much an agent changed a suggestion before inserting or sending it."""

    distance: int
    ratio: float  # 0 = unchanged, 1 = nothing in common

    @property
    def edited(self) -> bool:
        return self.distance > 0


def measure_edit(original: str, final: str) -> Edit:
    """Character-level Levenshtein distance and its length-normalised ratio."""
    return Edit(
        distance=int(Levenshtein.distance(original, final)),
        ratio=float(Levenshtein.normalized_distance(original, final)),
    )


def similarity(suggested: str, sent: str) -> float:
    """1.0 when the agent sent the suggestion unchanged, towards 0 the more they rewrote."""
    return float(Levenshtein.normalized_similarity(suggested, sent))
