"""A profile's rules, checked on the finished suggestion instead of only asked for in the prompt.

A small model does not reliably follow "never say X" or "end with this disclaimer",
so the rules are applied to what it wrote: length is cut, phrases to avoid are
flagged or removed, the closing line and disclaimer are added when missing, and the
language and (for German) the form of address are checked. Every change or doubt
becomes a flag the agent sees next to the suggestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.language import detect_language, language_name
from copilot.profiles.profile import Profile

#: Fewer words than this say too little for a language or address check.
MIN_WORDS_TO_CHECK = 5

_SENTENCE_END = re.compile(r"[.!?]\s*$")
_INFORMAL = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|euch|euer)\b", re.I)
_FORMAL = re.compile(r"\b(Sie|Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres)\b")


@dataclass
class RuleResult:
    text: str
    flags: list[str] = field(default_factory=list)


def trim_to_words(text: str, max_words: int) -> str:
    """Cut to ``max_words``, then back to the last full sentence if one ends in the second half."""
    words = text.split()
    if len(words) <= max_words:
        return text
    cut = " ".join(words[:max_words])
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind(".\n"))
    if cut[-1:] in ".!?":
        return cut
    return cut[: end + 1] if end >= len(cut) // 2 else cut + "…"


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def remove_phrase(text: str, phrase: str) -> str:
    """Cut a phrase out and tidy what is left: spaces, stray commas, a capital to start."""
    pattern = re.compile(r"\s*" + r"\s+".join(map(re.escape, phrase.split())) + r"\b", re.I)
    text = pattern.sub("", text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r"([.!?])\s*,\s*", r"\1 ", text)
    text = re.sub(r"^\s*[,;:]\s*", "", text)
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    return _capitalise_sentences(text)


def _capitalise_sentences(text: str) -> str:
    def upper(match: re.Match[str]) -> str:
        return match.group(1) + match.group(2).upper()

    return re.sub(r"(^|[.!?]\s+)([a-zäöü])", upper, text)


def _avoid(text: str, profile: Profile, flags: list[str]) -> str:
    for phrase in profile.avoid_phrases:
        if _normalised(phrase) not in _normalised(text):
            continue
        if profile.avoid_action == "remove":
            text = remove_phrase(text, phrase)
            flags.append(f"removed a phrase to avoid: “{phrase}”")
        else:
            flags.append(f"contains a phrase to avoid: “{phrase}”")
    return text


def _append(text: str, ending: str) -> str:
    """Add a mandatory ending unless the reply already carries it."""
    if not ending or _normalised(ending) in _normalised(text):
        return text
    return text.rstrip() + ("\n\n" if text.strip() else "") + ending


def check_language(text: str, expected: str) -> str | None:
    """A flag when the reply is plainly in another language than the one asked for."""
    if len(text.split()) < MIN_WORDS_TO_CHECK or not expected:
        return None
    found = detect_language(text, default=expected)
    if found == expected:
        return None
    return f"the reply looks {language_name(found)}, but it should be in {language_name(expected)}"


def _inside_sentence(text: str, at: int) -> bool:
    """ "Sie" or "Ihr" is formal address only inside a sentence: at its start it may
    just as well mean "she", "they" or "her"."""
    before = text[:at].rstrip()
    return bool(before) and before[-1] not in '.!?:\n"„“'


def check_german_address(text: str, wanted: str) -> str | None:
    """For German replies: formal (Sie) or informal (du) address, as the profile asks."""
    if wanted == "any":
        return None
    informal = bool(_INFORMAL.search(text))
    formal = any(_inside_sentence(text, m.start()) for m in _FORMAL.finditer(text))
    if wanted == "formal" and informal:
        return "the reply says “du”, but this profile addresses customers formally (“Sie”)"
    if wanted == "informal" and formal and not informal:
        return "the reply says “Sie”, but this profile addresses customers informally (“du”)"
    return None


def add_endings(text: str, closing: str = "", disclaimer: str = "") -> str:
    """The mandatory closing line, then the disclaimer, each added once."""
    return _append(_append(text, closing), disclaimer)


def apply_rules(text: str, profile: Profile, *, language: str) -> RuleResult:
    """The reply's body as the agent should see it, with a flag for every rule that acted.

    The closing line and disclaimer are added afterwards (``add_endings``), so that
    they never count against the length or get cut.
    """
    flags: list[str] = []
    body = trim_to_words(text.strip(), profile.max_words)
    body = _avoid(body, profile, flags)
    if not body.strip():
        flags.append("the model returned no text")
    for problem in (
        check_language(body, language),
        check_german_address(body, profile.german_address) if language == "de" else None,
    ):
        if problem:
            flags.append(problem)
    return RuleResult(body, flags)
