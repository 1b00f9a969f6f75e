"""The one assist pipeline: retrieval once per message, shared turn vectors, the returned result."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from copilot.assist.session import AssistSession, Retrieval, run_to_end
from copilot.assist.suggestion import Suggestion
from copilot.contact import Contact
from copilot.errors import Cancelled, KnowledgeError
from copilot.kb.retrieval import Hit
from copilot.kb.store import StoredPassage
from copilot.kb.turn_vectors import TurnVectors
from copilot.paths import bundled_prompts_dir
from copilot.profiles.profile import load_profiles
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.fakes import FakeEngine

PASSAGE = "Parcels without a tracking update for 5 working days are traced by the depot."


def _hit(text: str = PASSAGE) -> Hit:
    meta = {"doc_id": "tracking", "title": "Parcel tracking", "path": "When to contact us"}
    passage = StoredPassage("tracking#1", text, meta)
    return Hit(passage=passage, score=1.0, dense=1.0, lexical=1.0, highlight=(0, len(text)))


@dataclass
class CountingKnowledge:
    calls: list[int] = field(default_factory=list)
    turns_seen: list[TurnVectors | None] = field(default_factory=list)
    error: KnowledgeError | None = None

    def for_contact(
        self, contact: Contact, k: int = 5, turns: TurnVectors | None = None
    ) -> list[Hit]:
        self.calls.append(len(contact.turns))
        self.turns_seen.append(turns)
        if self.error is not None:
            raise self.error
        return [_hit()]


@dataclass
class CountingReplies:
    company: str = ""
    calls: list[tuple[int, str | None]] = field(default_factory=list)
    turns_seen: list[TurnVectors | None] = field(default_factory=list)

    def match(self, contact: Contact, k: int = 3, *, language: str | None = None, **kw: Any):
        self.calls.append((len(contact.turns), language))
        self.turns_seen.append(kw.get("turns"))
        return ["approved reply"]


def _runtime(engine: FakeEngine) -> Runtime:
    return Runtime(
        settings=Settings(company_name="Acme"),
        profiles=load_profiles(bundled_prompts_dir()),
        engine=engine,  # type: ignore[arg-type]
    )


def _contact(*texts: str) -> Contact:
    contact = Contact(customer_name="Ada")
    for text in texts:
        contact.add("customer", text)
    return contact


def _session(engine: FakeEngine | None = None) -> tuple[AssistSession, CountingKnowledge, Any]:
    knowledge, replies = CountingKnowledge(), CountingReplies()
    engine = engine or FakeEngine([["Sorry", " about", " that", "."]])
    engine.load()
    return AssistSession(_runtime(engine), knowledge, replies), knowledge, replies


def test_retrieval_runs_once_per_customer_message_with_one_set_of_turn_vectors():
    assist, knowledge, replies = _session()
    contact = _contact("My parcel has not moved in four days.")
    first = assist.retrieve(contact)
    again = assist.retrieve(contact.snapshot())
    assert again is first
    assert knowledge.calls == [1] and replies.calls == [(1, None)]
    contact.add("customer", "Order 48213, it was due on Monday.")
    assist.retrieve(contact)
    assert knowledge.calls == [1, 2] and [c[0] for c in replies.calls] == [1, 2]
    shared = {id(t) for t in knowledge.turns_seen + replies.turns_seen}
    assert shared == {id(assist.turns)}


def test_suggest_grounds_in_the_retrieval_and_returns_the_suggestion():
    engine = FakeEngine([["We", " trace", " it", " after", " 5", " working", " days", "."]])
    assist, knowledge, _replies = _session(engine)
    contact = _contact("My parcel has not moved in four days.")
    found = assist.retrieve(contact)
    chunks: list[str] = []
    result = run_to_end(assist.suggest(contact, "friendly", retrieval=found), chunks.append)
    assert isinstance(result, Suggestion)
    assert knowledge.calls == [1]  # the suggestion reused the message's retrieval
    assert "".join(c.text for c in chunks if not c.replace).startswith("We trace it")
    assert result.text.startswith("We trace it after 5 working days [1]")
    assert result.citations == [1] and result.profile == "friendly"
    prompt = " ".join(m.text for m in engine.prompts[-1])
    assert PASSAGE in prompt and "Parcel tracking" in prompt


def test_suggest_without_a_retrieval_looks_it_up_itself():
    assist, knowledge, replies = _session()
    result = run_to_end(assist.suggest(_contact("Where is my parcel?")))
    assert knowledge.calls == [1] and len(replies.calls) == 1
    assert result.text.startswith("Sorry about that")


def test_a_fixed_reply_language_reaches_the_approved_replies():
    assist, _knowledge, replies = _session()
    german = assist.profile("formal").model_copy(update={"reply_language": "de"})
    assist.retrieve(_contact("Where is my parcel?"), german)
    assist.retrieve(_contact("Where is my parcel?"), "formal")
    assert replies.calls == [(1, "de"), (1, None)]


def test_broken_knowledge_leaves_a_problem_and_an_ungrounded_suggestion():
    assist, knowledge, _replies = _session()
    knowledge.error = KnowledgeError("The knowledge store is locked.")
    found = assist.retrieve(_contact("Where is my parcel?"))
    assert found.hits == [] and found.approved == ["approved reply"]
    assert [p.user_message for p in found.problems] == ["The knowledge store is locked."]
    result = run_to_end(assist.suggest(_contact("Where is my parcel?"), retrieval=found))
    assert result.citations == [] and result.text


def test_a_cancelled_message_never_reaches_the_model():
    engine = FakeEngine([["never"]])
    assist, _knowledge, _replies = _session(engine)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        run_to_end(assist.suggest(_contact("Hello?"), retrieval=Retrieval(), cancel=cancel))
    assert engine.emitted == []


def test_forget_drops_the_cached_retrieval():
    assist, knowledge, _replies = _session()
    contact = _contact("Where is my parcel?")
    assist.retrieve(contact)
    assist.forget(contact.id)
    assist.retrieve(contact)
    assert knowledge.calls == [1, 1]


def test_a_draft_profile_is_used_as_it_is():
    engine = FakeEngine([["Hi", "."]])
    assist, _knowledge, _replies = _session(engine)
    draft = assist.profile("friendly").model_copy(update={"name": "draft", "max_words": 5})
    result = run_to_end(assist.suggest(_contact("Hello?"), draft))
    assert result.profile == "draft"
