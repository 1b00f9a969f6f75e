"""What an engine takes and gives: chat messages whose segments are marked trusted or not.

The core's prompts, the history summaries and the fake engine of the unit tests all speak
this, so none of them depends on llama.cpp or on each other.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Segment:
    text: str
    trusted: bool


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


def sanitize(text: str) -> str:
    """Normalise line ends and drop control characters; the words stay as they are."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


def fits(n_ctx: int, prompt_tokens: int, max_tokens: int) -> bool:
    """Whether a prompt and the reply it may grow into fit the model's context window."""
    return prompt_tokens + max_tokens <= n_ctx


class TextEngine(Protocol):
    """What the pipeline needs from an engine (the real one, or a fake in unit tests)."""

    @property
    def n_ctx(self) -> int: ...

    def tokenize_messages(self, messages: tuple[ChatMessage, ...]) -> list[int]: ...

    def stream(
        self,
        tokens: list[int],
        *,
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None = None,
        reuse_cache: bool = True,
        grammar: Any = None,
    ) -> Generator[str, None, None]: ...

    def prefill(self, tokens: list[int], cancel: threading.Event | None = None) -> int: ...
