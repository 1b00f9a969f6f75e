"""Guess the customer's language from common words, so the reply rule can name it.

A small model follows "Reply in German." far better than "reply in the customer's
language", so the prompt states the language explicitly when we can tell.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copilot.contact import Contact

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "you",
            "my",
            "i",
            "it",
            "to",
            "of",
            "for",
            "not",
            "have",
            "was",
            "this",
            "that",
            "with",
            "can",
            "my",
            "please",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "ich",
            "nicht",
            "mein",
            "meine",
            "sie",
            "ein",
            "eine",
            "mit",
            "bitte",
            "habe",
            "noch",
            "wurde",
            "kann",
            "zu",
            "auf",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "est",
            "je",
            "ne",
            "pas",
            "mon",
            "ma",
            "vous",
            "une",
            "un",
            "avec",
            "pour",
            "merci",
            "colis",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "es",
            "yo",
            "no",
            "mi",
            "usted",
            "una",
            "un",
            "con",
            "para",
            "por",
            "gracias",
            "pedido",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "e",
            "non",
            "mio",
            "mia",
            "lei",
            "una",
            "un",
            "con",
            "per",
            "grazie",
            "ordine",
            "sono",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "is",
            "ik",
            "niet",
            "mijn",
            "u",
            "met",
            "voor",
            "bedankt",
            "bestelling",
            "nog",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "e",
            "é",
            "eu",
            "não",
            "meu",
            "minha",
            "você",
            "uma",
            "um",
            "com",
            "para",
            "obrigado",
            "pedido",
        ]
    ),
}
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str, default: str = "en") -> str:
    """Best guess of an ISO 639-1 code; ``default`` when the text gives too little to go on."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return default
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    if scores[best] == 0:
        return default
    if any(ch in text for ch in "äöüß") and scores["de"] >= scores[best] - 1:
        return "de"
    return best


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


#: Fewer words than this tell nothing about a language: "no" would make a customer Spanish.
MIN_LANGUAGE_WORDS = 3
RECENT_TURNS = 8


def customer_language(contact: Contact, default: str = "en") -> str:
    """The language of the customer's recent messages, for the reply and the approved replies.

    When the customer wrote too few words to tell, the recent turns of both sides decide;
    when they do not tell either, ``default``.
    """
    from copilot.contact import Role

    recent = contact.turns[-RECENT_TURNS:]
    for texts in (
        [t.text for t in recent if t.role is Role.CUSTOMER],
        [t.text for t in recent],
    ):
        joined = " ".join(texts)
        if len(_WORD.findall(joined)) >= MIN_LANGUAGE_WORDS:
            return detect_language(joined, default=default)
    return default
