"""The history file format: what `history import` reads and `history export` writes.

One JSON document holds customers, each with identifiers per channel and earlier
contacts with their messages. CSV carries the same data flat, one message per row
(see ``CSV_COLUMNS``). Every field is validated; a bad row is reported, never guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from copilot.contact import MAX_TURN_CHARS, Channel, Role, non_blank, role_alias

FORMAT_VERSION = 1
CSV_COLUMNS = (
    "customer_id",
    "customer_name",
    "phone",
    "email",
    "handle",
    "contact_id",
    "channel",
    "started_at",
    "ended_at",
    "agent",
    "disposition",
    "role",
    "text",
    "at",
)


class IdentifierKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    HANDLE = "handle"


def normalise_identifier(kind: IdentifierKind, value: str) -> str:
    """One spelling per identifier, so '+49 30 123-4567' and '+4930 1234567' match."""
    value = value.strip()
    if kind is IdentifierKind.PHONE:
        digits = re.sub(r"\D", "", value)
        if value.startswith("+"):
            return "+" + digits
        if digits.startswith("00"):
            return "+" + digits[2:]
        return digits
    if kind is IdentifierKind.HANDLE:
        return value.lstrip("@").casefold()
    return value.casefold()


def guess_identifier_kind(value: str) -> IdentifierKind:
    """What an agent typed into the customer box: an email, a phone number or a handle."""
    value = value.strip()
    if "@" in value and not value.startswith("@"):
        return IdentifierKind.EMAIL
    if re.fullmatch(r"[+\d][\d\s().\-/]{5,}", value) and sum(c.isdigit() for c in value) >= 6:
        return IdentifierKind.PHONE
    return IdentifierKind.HANDLE


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Disposition(StrEnum):
    RESOLVED = "resolved"
    FOLLOW_UP = "follow-up"
    ESCALATED = "escalated"
    CALLBACK = "callback"
    UNRESOLVED = "unresolved"
    INFORMATION = "information"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    MIXED = "mixed"


class SummaryMethod(StrEnum):
    MODEL = "model"
    EXTRACTIVE = "extractive"
    MIXED = "model+extractive"
    EDITED = "edited by agent"
    IMPORTED = "imported"


class ContactSummary(BaseModel):
    """The structured summary of one contact; ``method`` says what produced it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(default="", max_length=600)
    actions: list[str] = Field(default_factory=list, max_length=8)
    resolution: str = Field(default="", max_length=600)
    open_items: list[str] = Field(default_factory=list, max_length=8)
    sentiment: Sentiment = Sentiment.NEUTRAL
    disposition: Disposition = Disposition.INFORMATION
    method: SummaryMethod = SummaryMethod.EXTRACTIVE

    def text(self) -> str:
        """One-glance prose (also what the summary evaluation scores): why, and the outcome."""
        outcome = self.resolution or (self.actions[0] if self.actions else "")
        parts = [
            f"Customer: {self.reason}" if self.reason else "",
            f"Agent: {outcome}" if outcome else "",
        ]
        return " ".join(p for p in parts if p)


class MessageRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Annotated[Role, BeforeValidator(role_alias)]
    text: Annotated[str, AfterValidator(non_blank)] = Field(min_length=1, max_length=MAX_TURN_CHARS)
    at: datetime | None = None

    @field_validator("at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _aware(value) if value else None


class ContactRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200, description="Unique id in the source system.")
    channel: Channel
    started_at: datetime
    ended_at: datetime | None = None
    agent: str = Field(default="", max_length=120)
    disposition: Disposition | None = None
    messages: list[MessageRecord] = Field(min_length=1)
    summary: ContactSummary | None = None

    @field_validator("started_at", "ended_at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _aware(value) if value else None

    @field_validator("channel", "disposition", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("disposition", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _order(self) -> ContactRecord:
        if self.ended_at and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self


class Identifiers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    phone: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list)
    handle: list[str] = Field(default_factory=list)

    @field_validator("phone", "email", "handle", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v for v in (p.strip() for p in value.split(";")) if v]
        return value

    @field_validator("email")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
                raise ValueError(f"'{value}' is not an email address")
        return values

    @field_validator("phone")
    @classmethod
    def _phones(cls, values: list[str]) -> list[str]:
        for value in values:
            digits = sum(c.isdigit() for c in value)
            if not re.fullmatch(r"\+?[\d\s().\-/]+", value) or not 6 <= digits <= 15:
                raise ValueError(f"'{value}' is not a phone number")
        return values

    def pairs(self) -> list[tuple[IdentifierKind, str]]:
        out = []
        for kind in IdentifierKind:
            for value in getattr(self, kind.value):
                out.append((kind, normalise_identifier(kind, value)))
        return out


class CustomerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200, description="Unique id in the source system.")
    name: str = Field(default="", max_length=200)
    identifiers: Identifiers = Field(default_factory=Identifiers)
    contacts: list[ContactRecord] = Field(default_factory=list)


class HistoryFile(BaseModel):
    """The whole JSON document."""

    model_config = ConfigDict(extra="forbid")

    format: int = FORMAT_VERSION
    customers: list[CustomerRecord]

    @field_validator("format")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(
                f"format {value} is not supported (this copilot reads {FORMAT_VERSION})"
            )
        return value
