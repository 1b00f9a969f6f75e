"""Live contacts fed through the API: turns in, suggestions, articles and summaries out.

HTTP-free, so the server and the tests share it. A final customer message cancels
the suggestion still being written and starts a new one in a worker thread; its
tokens go to every subscriber's queue as they are produced (the SSE stream).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from copilot.api.models import (
    ApprovedReplyOut,
    ArticleOut,
    ContactState,
    MessageEvent,
    StartContact,
    Started,
    StreamEvent,
    SuggestionOut,
    SummaryOut,
    TurnOut,
)
from copilot.assist.grounding import heading
from copilot.assist.session import AssistSession, run_to_end
from copilot.assist.suggestion import Chunk
from copilot.contact import Contact, Role
from copilot.errors import Cancelled, CopilotError

if TYPE_CHECKING:
    from copilot.assist.session import ApprovedReplies, Knowledge
    from copilot.history.service import History
    from copilot.kb.retrieval import Hit
    from copilot.macros.library import MacroMatch
    from copilot.runtime import Runtime

log = logging.getLogger(__name__)
MAX_LIVE = 200


def article_out(hit: Hit) -> ArticleOut:
    """A knowledge hit as the API reports it: the article, the passage and its highlight."""
    return ArticleOut(
        doc_id=hit.passage.doc_id,
        title=hit.passage.title,
        heading=heading(hit),
        passage=hit.passage.text,
        highlight=hit.highlighted_text,
        score=round(hit.score, 4),
    )


def approved_out(match: MacroMatch) -> ApprovedReplyOut:
    """An approved reply as the API reports it: filled text and what is still missing."""
    return ApprovedReplyOut(
        id=match.macro.id,
        title=match.macro.title,
        text=match.filled.text,
        missing=list(match.filled.missing),
        score=round(match.score, 4),
    )


class UnknownContact(CopilotError):  # noqa: N818 - reads as the answer it becomes (404)
    pass


@dataclass
class LiveContact:
    contact: Contact
    customer_id: str | None = None
    digest: list[str] = field(default_factory=list)
    partial: dict[str, str] = field(default_factory=dict)
    suggestion: SuggestionOut | None = None
    articles: list[ArticleOut] = field(default_factory=list)
    approved_replies: list[ApprovedReplyOut] = field(default_factory=list)
    ended: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    subscribers: list[queue.Queue[StreamEvent]] = field(default_factory=list)


class LiveContacts:
    def __init__(
        self,
        runtime: Runtime,
        knowledge: Knowledge | None = None,
        history: History | None = None,
        generate: bool = True,
        macros: ApprovedReplies | None = None,
    ) -> None:
        self.runtime = runtime
        self.history = history
        # the one assist pipeline, as the window and the commands use it
        self.assist = AssistSession(runtime, knowledge, macros)
        # False when the window generates (it shows the tokens and mirrors them here)
        self.generate = generate
        self._contacts: dict[str, LiveContact] = {}
        self._lock = threading.RLock()
        self.listeners: list[Any] = []  # callables(event_name, contact_id): the window

    # -- contacts ------------------------------------------------------------------
    def start(self, body: StartContact) -> Started:
        contact = Contact(
            channel=body.channel,
            customer_name=body.customer.name,
            customer_identifier=body.customer.identifier(),
        )
        live = LiveContact(contact)
        if self.history is not None:
            customer = self.history.recognise(contact)
            if customer is not None:
                live.customer_id = customer.id
                contact.customer_name = contact.customer_name or customer.name
                timeline = self.history.timeline(customer.id)
                live.digest = (
                    [timeline.digest.headline, *timeline.digest.points] if timeline else []
                )
        with self._lock:
            if len(self._contacts) >= MAX_LIVE:
                oldest = next(iter(self._contacts))
                self._drop(oldest)
            self._contacts[contact.id] = live
        self._notify("started", contact.id)
        return Started(
            id=contact.id,
            channel=contact.channel,
            customer_id=live.customer_id,
            customer_name=contact.customer_name,
        )

    def get(self, contact_id: str) -> LiveContact:
        with self._lock:
            live = self._contacts.get(contact_id)
        if live is None:
            raise UnknownContact(f"There is no live contact '{contact_id}'. Start one first.")
        return live

    def end(self, contact_id: str) -> LiveContact:
        live = self.get(contact_id)
        live.cancel.set()
        live.ended = True
        self.assist.forget(contact_id)
        self._publish(live, StreamEvent(type="ended", sequence=self._sequence(live)))
        self._notify("ended", contact_id)
        return live

    def _drop(self, contact_id: str) -> None:
        live = self._contacts.pop(contact_id)
        self.assist.forget(contact_id)
        live.cancel.set()
        live.ended = True

    # -- messages --------------------------------------------------------------------
    def post(self, contact_id: str, event: MessageEvent) -> LiveContact:
        live = self.get(contact_id)
        if live.ended:
            raise CopilotError(f"The contact '{contact_id}' has ended; start a new one.")
        if not event.final:
            live.partial[event.segment_id or "default"] = event.text
            self._notify("partial", contact_id)
            return live
        live.partial.pop(event.segment_id or "default", None)
        live.contact.add(event.role, event.text, event.at)
        if event.role is Role.CUSTOMER and self.generate:
            self._suggest(live)
        self._notify("message", contact_id)
        return live

    def _sequence(self, live: LiveContact) -> int:
        return live.suggestion.sequence if live.suggestion else 0

    # -- suggestions made elsewhere (the window) ------------------------------------------
    def begin_suggestion(self, contact_id: str, profile: str) -> int:
        """A new suggestion starts for this contact; returns its sequence number."""
        live = self.get(contact_id)
        with self._lock:
            sequence = self._sequence(live) + 1
            live.suggestion = SuggestionOut(sequence=sequence, text="", done=False, profile=profile)
        return sequence

    def push_chunk(self, contact_id: str, sequence: int, text: str, replace: bool) -> None:
        self._relay(self.get(contact_id), sequence, Chunk(text, replace))

    def finish_suggestion(
        self, contact_id: str, sequence: int, text: str, withheld: bool = False
    ) -> None:
        live = self.get(contact_id)
        self._update(live, sequence, text, True, withheld)
        self._publish(live, StreamEvent(type="done", sequence=sequence, text=text))

    def set_articles(self, contact_id: str, articles: list[ArticleOut]) -> None:
        self.get(contact_id).articles = list(articles)

    def set_approved_replies(self, contact_id: str, replies: list[ApprovedReplyOut]) -> None:
        self.get(contact_id).approved_replies = list(replies)

    # -- suggestions made here (headless) ---------------------------------------------------
    def _suggest(self, live: LiveContact) -> None:
        with self._lock:  # two messages posted at once still get distinct sequences
            live.cancel.set()
            live.cancel = cancel = threading.Event()
            sequence = self._sequence(live) + 1
            profile = self.runtime.profile()
            live.suggestion = SuggestionOut(
                sequence=sequence, text="", done=False, profile=profile.name
            )
            snapshot = live.contact.snapshot()
        thread = threading.Thread(
            target=self._generate, args=(live, snapshot, sequence, cancel), daemon=True
        )
        thread.start()

    def _generate(
        self, live: LiveContact, contact: Contact, sequence: int, cancel: threading.Event
    ) -> None:
        profile = live.suggestion.profile if live.suggestion else None
        try:
            found = self.assist.retrieve(contact, profile)
            # approved replies first: they are ready in milliseconds, long before the model
            live.approved_replies = [approved_out(m) for m in found.approved]
            live.articles = [article_out(h) for h in found.hits]
            if cancel.is_set():
                return
            stream = self.assist.suggest(contact, profile, retrieval=found, cancel=cancel)
            result = run_to_end(stream, lambda chunk: self._relay(live, sequence, chunk))
            self._update(live, sequence, result.text, True, result.withheld)
            self._publish(live, StreamEvent(type="done", sequence=sequence, text=result.text))
        except Cancelled:
            return
        except CopilotError as exc:
            self._publish(
                live, StreamEvent(type="failed", sequence=sequence, text=exc.user_message)
            )
        except Exception:  # noqa: BLE001 - a worker thread must report, never die silently
            log.exception("suggestion for an API contact failed")
            self._publish(
                live, StreamEvent(type="failed", sequence=sequence, text="internal error")
            )

    def _relay(self, live: LiveContact, sequence: int, chunk: Chunk) -> None:
        """One streamed chunk: into the contact's state and out to every subscriber."""
        current = live.suggestion.text if live.suggestion else ""
        self._update(live, sequence, chunk.text if chunk.replace else current + chunk.text, False)
        kind: Literal["token", "replace"] = "replace" if chunk.replace else "token"
        self._publish(live, StreamEvent(type=kind, sequence=sequence, text=chunk.text))

    def _update(
        self, live: LiveContact, sequence: int, text: str, done: bool, withheld: bool = False
    ) -> None:
        current = live.suggestion
        if current is not None and current.sequence == sequence:
            live.suggestion = current.model_copy(
                update={"text": text, "done": done, "withheld": withheld}
            )

    # -- streaming ---------------------------------------------------------------------
    def subscribe(self, contact_id: str) -> queue.Queue[StreamEvent]:
        live = self.get(contact_id)
        box: queue.Queue[StreamEvent] = queue.Queue(maxsize=10_000)
        with self._lock:
            live.subscribers.append(box)
        return box

    def unsubscribe(self, contact_id: str, box: queue.Queue[StreamEvent]) -> None:
        with self._lock:
            live = self._contacts.get(contact_id)
            if live is not None and box in live.subscribers:
                live.subscribers.remove(box)

    def _publish(self, live: LiveContact, event: StreamEvent) -> None:
        with self._lock:
            boxes = list(live.subscribers)
        for box in boxes:
            # a subscriber that stopped reading loses events; the contact goes on
            with contextlib.suppress(queue.Full):
                box.put_nowait(event)

    def _notify(self, name: str, contact_id: str) -> None:
        for listener in list(self.listeners):
            listener(name, contact_id)

    # -- reading -------------------------------------------------------------------------
    def state(self, contact_id: str) -> ContactState:
        from copilot.history.extractive import summarise_extractive
        from copilot.history.service import messages_of

        live = self.get(contact_id)
        contact = live.contact.snapshot()
        summary = summarise_extractive(messages_of(contact)) if contact.turns else None
        return ContactState(
            id=contact.id,
            channel=contact.channel,
            customer_id=live.customer_id,
            customer_name=contact.customer_name,
            ended=live.ended,
            turns=[TurnOut(role=t.role, text=t.text, at=t.at) for t in contact.turns],
            partial=dict(live.partial),
            suggestion=live.suggestion,
            articles=list(live.articles),
            approved_replies=list(live.approved_replies),
            summary=SummaryOut(**summary.model_dump(mode="json")) if summary else None,
            history_digest=list(live.digest),
        )
