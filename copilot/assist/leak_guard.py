"""Check a suggestion as it streams: withhold it if it repeats the instructions.

Asking the model not to reveal its instructions is not enough for a small model,
so every streamed chunk is checked against the protected instruction text: a run
of ``SPAN`` consecutive words taken from it means the suggestion is leaking it.
"""

from __future__ import annotations

import re

SPAN = 6
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


class LeakGuard:
    def __init__(self, protected_text: str, allowed: str = "", span: int = SPAN) -> None:
        self.span = span
        words = _words(protected_text)
        allowed_grams = self._grams(_words(allowed))
        self._grams_protected = self._grams(words) - allowed_grams

    def _grams(self, words: list[str]) -> set[tuple[str, ...]]:
        return {tuple(words[i : i + self.span]) for i in range(len(words) - self.span + 1)}

    def leaks(self, text: str) -> bool:
        """True when ``text`` repeats ``span`` consecutive words of the protected text."""
        return bool(self._grams(_words(text)) & self._grams_protected)
