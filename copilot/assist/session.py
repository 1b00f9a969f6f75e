"""One live contact's assist, for every front end: retrieval, grounding, the stream, the result.

The window, the loopback API and the command line all call ``AssistSession``; none of them
strings the steps together itself. For each customer message, ``retrieve`` looks up the
knowledge hits and the approved replies once, from one set of turn embeddings, and keeps
the answer until the conversation changes. ``suggest`` builds the grounded request and
streams it; the finished ``Suggestion``, with its stats, is the generator's return value.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from copilot.assist.grounding import sources as grounding_sources
from copilot.assist.prompt import Source
from copilot.assist.suggestion import (
    Chunk,
    Suggestion,
    SuggestionRequest,
    prefill,
    stream_suggestion,
)
from copilot.contact import Contact
from copilot.errors import Cancelled, CopilotError, FeatureOff
from copilot.kb.turn_vectors import TurnVectors
from copilot.profiles.profile import Profile

# Type names only: the knowledge base loads chromadb, which must not slow the window's start.
if TYPE_CHECKING:
    from copilot.kb.retrieval import Hit
    from copilot.macros.library import MacroMatch
    from copilot.runtime import Runtime

log = logging.getLogger(__name__)
ARTICLES = 5
APPROVED = 3


class Knowledge(Protocol):
    """What the session needs from the knowledge base (``copilot.kb.service.KnowledgeBase``)."""

    def for_contact(
        self, contact: Contact, k: int = ..., turns: TurnVectors | None = ...
    ) -> list[Hit]: ...


class ApprovedReplies(Protocol):
    """What the session needs from the approved replies (``copilot.macros.library``)."""

    company: str

    def match(
        self, contact: Contact, k: int = ..., *, language: str | None = ..., **kw: Any
    ) -> list[MacroMatch]: ...


@dataclass(frozen=True)
class Retrieval:
    """What one customer message found: articles (best first) and approved replies."""

    hits: list[Hit] = field(default_factory=list)
    approved: list[MacroMatch] = field(default_factory=list)
    #: Why articles or approved replies are missing ("" when they are not).
    problems: tuple[CopilotError, ...] = ()

    @property
    def sources(self) -> tuple[Source, ...]:
        """The passages the suggestion is grounded in, cited as [1], [2]."""
        return grounding_sources(self.hits)


def _key(contact: Contact, profile: str, company: str) -> tuple[object, ...]:
    last = contact.turns[-1] if contact.turns else None
    return (contact.id, len(contact.turns), last.text if last else "", profile, company)


class AssistSession:
    """The assist for the live contacts of one front end (the window, the API, a command).

    ``knowledge`` and ``macros`` may arrive later (they open in the background) or never;
    a suggestion is then grounded in nothing and no approved reply is offered.
    """

    def __init__(
        self,
        runtime: Runtime,
        knowledge: Knowledge | None = None,
        macros: ApprovedReplies | None = None,
        turns: TurnVectors | None = None,
    ) -> None:
        self.runtime = runtime
        self.knowledge = knowledge
        self.macros = macros
        self.turns = turns or TurnVectors()
        self._lock = threading.Lock()
        self._last: dict[str, tuple[tuple[object, ...], Retrieval]] = {}

    # -- what a message finds ------------------------------------------------------------
    def retrieve(
        self, contact: Contact, profile: str | Profile | None = None, company: str | None = None
    ) -> Retrieval:
        """Articles and approved replies for the conversation so far, once per message."""
        company = self._company(company)
        name = profile.model_dump_json() if isinstance(profile, Profile) else profile or ""
        key = (*_key(contact, name, company), id(self.knowledge), id(self.macros))
        with self._lock:
            cached = self._last.get(contact.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        problems: list[CopilotError] = []
        hits = self._hits(contact, problems)
        approved = self._approved(contact, profile, company, problems)
        found = Retrieval(hits, approved, tuple(problems))
        with self._lock:
            self._last[contact.id] = (key, found)
            while len(self._last) > 256:  # one entry per live contact is all that is needed
                self._last.pop(next(iter(self._last)))
        return found

    def forget(self, contact_id: str) -> None:
        """The contact ended: its cached retrieval goes."""
        with self._lock:
            self._last.pop(contact_id, None)

    def _hits(self, contact: Contact, problems: list[CopilotError]) -> list[Hit]:
        if self.knowledge is None or not contact.turns:
            return []
        try:
            return self.knowledge.for_contact(contact, k=ARTICLES, turns=self.turns)
        except CopilotError as exc:
            log.warning("knowledge unavailable: %s", exc.user_message)
            problems.append(exc)
            return []

    def _approved(
        self,
        contact: Contact,
        profile: str | Profile | None,
        company: str,
        problems: list[CopilotError],
    ) -> list[MacroMatch]:
        if self.macros is None or not contact.turns:
            return []
        try:
            self.macros.company = company  # the demo contact's company is not the settings'
            return self.macros.match(
                contact, APPROVED, language=self._fixed_language(profile), turns=self.turns
            )
        except CopilotError as exc:
            log.warning("approved replies unavailable: %s", exc.user_message)
            problems.append(FeatureOff(f"Approved replies are off. {exc.user_message}"))
            return []

    def _fixed_language(self, profile: str | Profile | None) -> str | None:
        """A profile with a fixed reply language gets replies in it; else the customer's."""
        try:
            fixed = self.profile(profile).reply_language
        except CopilotError:
            return None
        return None if fixed == "customer" else fixed

    # -- the suggestion ------------------------------------------------------------------
    def profile(self, profile: str | Profile | None = None) -> Profile:
        """A published profile by name (the default one for None), or a draft as it is."""
        return profile if isinstance(profile, Profile) else self.runtime.profile(profile)

    def request(
        self,
        contact: Contact,
        profile: str | Profile | None = None,
        company: str | None = None,
        sources: tuple[Source, ...] = (),
    ) -> SuggestionRequest:
        """The request for ``contact``'s next reply, in the profile's tone, for the company."""
        return SuggestionRequest(
            profile=self.profile(profile),
            contact=contact,
            company=self._company(company),
            agent_name=self.runtime.settings.agent_name,
            sources=sources,
        )

    def suggest(
        self,
        contact: Contact,
        profile: str | Profile | None = None,
        company: str | None = None,
        *,
        retrieval: Retrieval | None = None,
        cancel: threading.Event | None = None,
    ) -> Generator[Chunk, None, Suggestion]:
        """Stream the next reply, grounded in what the message found; returns the Suggestion.

        ``retrieval`` is what ``retrieve`` gave for this message (looked up here if not).
        """
        request = self.request(contact, profile, company)  # a bad profile fails before retrieval
        if retrieval is None:
            retrieval = self.retrieve(contact, profile, company)
        request.sources = retrieval.sources
        if cancel is not None and cancel.is_set():
            raise Cancelled
        yield from stream_suggestion(self.runtime.engine, request, cancel)
        result = request.result
        stats = getattr(self.runtime.engine, "last_stats", None)
        if stats is not None:
            result.tokens_per_s = stats.tokens_per_s
        return result

    def prefill(
        self,
        contact: Contact,
        profile: str | Profile | None = None,
        company: str | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """Evaluate the instructions ahead of time, while the agent waits for the customer."""
        return prefill(self.runtime.engine, self.request(contact, profile, company), cancel)

    def _company(self, company: str | None) -> str:
        return self.runtime.settings.company_name if company is None else company


def run_to_end(
    stream: Generator[Chunk, None, Suggestion], on_chunk: Callable[[Chunk], None] | None = None
) -> Suggestion:
    """Drain a suggestion stream (each chunk to ``on_chunk``) and return its Suggestion."""
    while True:
        try:
            chunk = next(stream)
        except StopIteration as stop:
            result: Suggestion = stop.value
            return result
        if on_chunk is not None:
            on_chunk(chunk)
