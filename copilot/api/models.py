"""Request and response bodies of the loopback API; every field is validated."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.contact import MAX_TURN_CHARS, Channel, Role

MAX_BODY_BYTES = 64 * 1024
DEFAULT_PORT = 8765


class CustomerRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    handle: str | None = Field(default=None, max_length=200)

    def identifier(self) -> str | None:
        return self.phone or self.email or self.handle


class StartContact(BaseModel):
    """Start a live contact; the customer is recognised from any identifier given."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel = Channel.CHAT
    customer: CustomerRef = Field(default_factory=CustomerRef)


class MessageEvent(BaseModel):
    """One message, or one speech-to-text segment of a phone call.

    A phone integration may post ``final: false`` segments while the caller is still
    speaking, each with the same ``segment_id``: the latest one is shown, and only the
    final one becomes a turn of the conversation and asks for a suggestion.
    """

    model_config = ConfigDict(extra="forbid")

    role: Role
    text: str = Field(min_length=1, max_length=MAX_TURN_CHARS)
    at: datetime | None = None
    final: bool = True
    segment_id: str | None = Field(default=None, min_length=1, max_length=80)


class Started(BaseModel):
    id: str
    channel: Channel
    customer_id: str | None
    customer_name: str | None


class TurnOut(BaseModel):
    role: Role
    text: str
    at: datetime


class SuggestionOut(BaseModel):
    sequence: int = Field(description="Increases with every new suggestion of this contact.")
    text: str
    done: bool
    profile: str
    withheld: bool = False


class ArticleOut(BaseModel):
    doc_id: str
    title: str
    heading: str
    passage: str
    highlight: str
    score: float


class ApprovedReplyOut(BaseModel):
    """A supervisor-approved reply offered for the conversation, placeholders filled."""

    id: str
    title: str
    text: str
    missing: list[str] = Field(description="Placeholders the conversation did not fill.")
    score: float


class SummaryOut(BaseModel):
    reason: str
    actions: list[str]
    resolution: str
    open_items: list[str]
    sentiment: str
    disposition: str
    method: str


class ContactState(BaseModel):
    id: str
    channel: Channel
    customer_id: str | None
    customer_name: str | None
    ended: bool
    turns: list[TurnOut]
    partial: dict[str, str] = Field(description="Speech segments not final yet, by segment id.")
    suggestion: SuggestionOut | None
    articles: list[ArticleOut]
    approved_replies: list[ApprovedReplyOut] = Field(default_factory=list)
    summary: SummaryOut | None
    history_digest: list[str]


class Problem(BaseModel):
    """Every error answer: what went wrong, for the integrator to read."""

    error: str
    detail: list[str] = Field(default_factory=list)


class StreamEvent(BaseModel):
    type: Literal["token", "replace", "done", "failed", "ended"]
    sequence: int
    text: str = ""
