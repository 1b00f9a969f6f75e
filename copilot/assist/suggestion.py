"""From a live contact to a streamed reply suggestion, with the profile's rules applied.

The generator yields ``Chunk`` objects. Usually a chunk appends text; a chunk with
``replace=True`` replaces everything shown so far (used when the guard withholds a
suggestion that started to repeat the instructions).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from copilot.assist.citations import cite
from copilot.assist.leak_guard import LeakGuard
from copilot.assist.output_rules import add_endings, apply_rules
from copilot.assist.prompt import Prompt, Source, build_prompt, template_values
from copilot.contact import Contact
from copilot.errors import Cancelled, ConversationError
from copilot.model.chat import TextEngine, fits
from copilot.profiles.profile import Profile

WITHHELD = (
    "[Suggestion withheld: it started to repeat the copilot's internal instructions. "
    "Reply in your own words or press Regenerate.]"
)
TOKENS_PER_WORD = 1.8


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
    tokens_per_s: float = 0.0
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
        if fits(engine.n_ctx, len(tokens), max_tokens) or skip >= turns - 1:
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
            if cancel is not None and cancel.is_set():
                raise Cancelled  # whatever the engine does, nothing more reaches the agent
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


def suggest(engine: TextEngine, request: SuggestionRequest) -> Suggestion:
    """Run a suggestion to the end (CLI, tests)."""
    for _ in stream_suggestion(engine, request):
        pass
    return request.result
