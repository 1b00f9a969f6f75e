"""Citation markers: which knowledge passages a suggestion relies on, marked [n] for the agent.

The markers are for the agent only; ``strip_citations`` gives the text the customer gets.
"""

from __future__ import annotations

import re

from copilot.assist.prompt import Source

_CITATION = re.compile(r"\[(\d{1,2})\]")
_SENT = re.compile(r"[^.!?\n]+[.!?]*")
_CONTENT = re.compile(r"[^\W_]{5,}|\d+", re.UNICODE)


def strip_citations(text: str) -> str:
    """The text the customer gets: citation markers are for the agent only."""
    return re.sub(r" ?\[\d{1,2}\]", "", text)


def cite(text: str, sources: tuple[Source, ...]) -> tuple[str, list[int]]:
    """Mark which passages a reply relies on, whether or not the model cited them.

    A sentence that shares a number, or at least three longer words, with passage n
    gets "[n]" before its final punctuation; citations the model wrote itself are kept
    when they point at a passage.
    """
    if not sources:
        return _CITATION.sub("", text).replace("  ", " ") if _CITATION.search(text) else text, []
    vocab = [{w.lower() for w in _CONTENT.findall(s.text)} for s in sources]
    used = {int(n) for n in _CITATION.findall(text) if 1 <= int(n) <= len(sources)}
    pieces = []
    for match in _SENT.finditer(text):
        sentence = match.group()
        words = {w.lower() for w in _CONTENT.findall(sentence)}
        numbers = {w for w in words if w.isdigit()}
        for n, passage_words in enumerate(vocab, start=1):
            shared = words & passage_words
            if f"[{n}]" not in sentence and (shared & numbers or len(shared) >= 3):
                body = sentence.rstrip()
                tail = sentence[len(body) :]
                end = len(body.rstrip(".!?"))
                sentence = f"{body[:end]} [{n}]{body[end:]}{tail}"
                used.add(n)
        pieces.append((match.start(), match.end(), sentence))
    out, last = [], 0
    for start, end, sentence in pieces:
        out.append(text[last:start] + sentence)
        last = end
    out.append(text[last:])
    return "".join(out), sorted(used)
