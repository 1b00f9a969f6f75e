"""From a live contact to a streamed reply suggestion, with the profile's rules applied.

The generator yields ``Chunk`` objects. Usually a chunk appends text; a chunk with
``replace=True`` replaces everything shown so far (used when the guard withholds a
suggestion that started to repeat the instructions).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from copilot.conversation import Contact
from copilot.errors import ConversationError
from copilot.guard import LeakGuard
from copilot.profiles import Profile
from copilot.prompt import ChatMessage, Prompt, Source, build_prompt, template_values
from copilot.rules import add_endings, apply_rules

WITHHELD = (
    "[Suggestion withheld: it started to repeat the copilot's internal instructions. "
    "Reply in your own words or press Regenerate.]"
)
TOKENS_PER_WORD = 1.8


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


@dataclass(frozen=True)
class Chunk:
    text: str
    replace: bool = False


@dataclass
class Suggestion:
    text: str = ""
    profile: str = ""
    language: str = ""
    withheld: bool = False
    flags: list[str] = field(default_factory=list)
    first_token_s: float | None = None
    total_s: float = 0.0
    chunks: int = 0
    omitted_turns: int = 0
    citations: list[int] = field(default_factory=list)


@dataclass
class SuggestionRequest:
    profile: Profile
    contact: Contact
    company: str = ""
    agent_name: str = ""
    reuse_cache: bool = True
    sources: tuple[Source, ...] = ()
    result: Suggestion = field(default_factory=Suggestion)


def _fit(
    engine: TextEngine, request: SuggestionRequest, max_tokens: int
) -> tuple[Prompt, list[int]]:
    """Build the prompt, dropping the oldest turns in large steps until it fits the context.

    Large steps keep the cut stable for several turns, so the KV cache keeps paying off.
    """
    turns = len(request.contact.turns)
    skip = 0
    while True:
        prompt = build_prompt(
            request.profile,
            request.contact,
            company=request.company,
            agent_name=request.agent_name,
            skip_turns=skip,
            sources=request.sources,
        )
        tokens = engine.tokenize_messages(prompt.messages)
        if len(tokens) + max_tokens <= engine.n_ctx or skip >= turns - 1:
            return prompt, tokens
        skip = min(turns - 1, skip + max(1, turns // 3))


def stream_suggestion(
    engine: TextEngine, request: SuggestionRequest, cancel: threading.Event | None = None
) -> Iterator[Chunk]:
    """Stream the agent's next reply for ``request.contact``; ``request.result`` fills in."""
    if not request.contact.turns:
        raise ConversationError("There is no message yet to suggest a reply to.")
    profile, result = request.profile, request.result
    result.profile = profile.name
    max_tokens = int(profile.max_words * TOKENS_PER_WORD) + 16
    prompt, tokens = _fit(engine, request, max_tokens)
    result.language, result.omitted_turns = prompt.language, prompt.omitted_turns
    values = template_values(request.contact, request.company, request.agent_name)
    closing = profile.render(profile.closing_line, values).strip()
    disclaimer = profile.render(profile.disclaimer, values).strip()
    guard = LeakGuard(prompt.protected_text, allowed=closing + "\n" + disclaimer)
    started = time.perf_counter()
    pieces = engine.stream(
        tokens,
        max_tokens=max_tokens,
        temperature=profile.temperature,
        cancel=cancel,
        reuse_cache=request.reuse_cache,
    )
    try:
        for piece in pieces:
            if result.first_token_s is None:
                result.first_token_s = time.perf_counter() - started
            result.text += piece
            result.chunks += 1
            if guard.leaks(result.text):
                result.text, result.withheld = WITHHELD, True
                result.flags.append("withheld: repeated the instructions")
                yield Chunk(WITHHELD, replace=True)
                return
            yield Chunk(piece)
    finally:
        pieces.close()
        result.total_s = time.perf_counter() - started
    yield from _finish(result, profile, (closing, disclaimer), request.sources)


def _finish(
    result: Suggestion, profile: Profile, endings: tuple[str, str], sources: tuple[Source, ...] = ()
) -> Iterator[Chunk]:
    """The profile's rules, checked after generation and not only asked for (rules.py)."""
    ruled = apply_rules(result.text, profile, language=result.language)
    result.flags += ruled.flags
    cited, result.citations = cite(ruled.text, sources)
    final = add_endings(cited, *endings)
    changed = final != result.text
    result.text = final
    if changed:
        yield Chunk(result.text, replace=True)


def prefill(
    engine: TextEngine, request: SuggestionRequest, cancel: threading.Event | None = None
) -> int:
    """Warm the KV cache with the instructions for this contact before the customer writes."""
    empty = request.contact.model_copy(update={"turns": []})
    prompt = build_prompt(
        request.profile, empty, company=request.company, agent_name=request.agent_name
    )
    return engine.prefill(engine.tokenize_messages(prompt.messages[:1]), cancel)


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


def suggest(engine: TextEngine, request: SuggestionRequest) -> Suggestion:
    """Run a suggestion to the end (CLI, tests)."""
    for _ in stream_suggestion(engine, request):
        pass
    return request.result
