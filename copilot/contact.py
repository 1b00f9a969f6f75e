"""A live contact: channel, customer and agent turns with timestamps."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.errors import ConversationError

MAX_TURN_CHARS = 20_000
_ROLE_ALIASES = {"user": "customer", "client": "customer", "assistant": "agent"}


class Channel(StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    SOCIAL = "social"


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


def _now() -> datetime:
    return datetime.now(UTC)


def role_alias(value: Any) -> Any:
    """Exported transcripts say user/client/assistant; the copilot says customer/agent."""
    if not isinstance(value, str):
        return value
    value = value.strip().lower()
    return _ROLE_ALIASES.get(value, value)


def non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("a message cannot be blank")
    return value.strip()


class Turn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    text: str = Field(min_length=1, max_length=MAX_TURN_CHARS)
    at: datetime = Field(default_factory=_now)

    @field_validator("role", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        return role_alias(value)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return non_blank(value)


class Contact(BaseModel):
    """One contact with one customer. Turns only grow; earlier turns never change."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    channel: Channel = Channel.CHAT
    customer_name: str | None = Field(default=None, max_length=120)
    customer_identifier: str | None = Field(
        default=None,
        max_length=200,
        description="Phone number, email or handle the contact came from (recognition).",
    )
    started_at: datetime = Field(default_factory=_now)
    turns: list[Turn] = Field(default_factory=list)

    def add(self, role: Role | str, text: str, at: datetime | None = None) -> Turn:
        try:
            turn = Turn(role=role, text=text, at=at or _now())  # type: ignore[arg-type]
        except ValidationError as exc:
            raise ConversationError(_explain(exc, "The message")) from exc
        self.turns.append(turn)
        return turn

    def snapshot(self) -> Contact:
        """A copy that a worker thread can read while the UI keeps adding turns."""
        return self.model_copy(update={"turns": list(self.turns)})

    @property
    def last_customer_text(self) -> str:
        for turn in reversed(self.turns):
            if turn.role is Role.CUSTOMER:
                return turn.text
        return ""


def _explain(exc: ValidationError, what: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{what} is invalid at '{where}': {first['msg']}."


def load_contact(path: Path) -> Contact:
    """Read a conversation file: ``{"channel", "customer_name", "turns": [{"role", "text"}]}``.

    ``dialogue`` is accepted as another name for ``turns``, and the roles ``user`` and
    ``assistant`` as ``customer`` and ``agent``, so exported transcripts load as they are.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConversationError(f"The conversation file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConversationError(
            f"The conversation file {path} is not readable JSON ({exc}). "
            'Expected {"channel": "chat", "turns": [{"role": "customer", "text": "..."}]}.'
        ) from None
    if isinstance(raw, dict) and "dialogue" in raw and "turns" not in raw:
        raw = {
            **{k: v for k, v in raw.items() if k in Contact.model_fields},
            "turns": raw["dialogue"],
        }
    try:
        contact = Contact.model_validate(raw)
    except ValidationError as exc:
        raise ConversationError(_explain(exc, f"The conversation file {path}")) from None
    if not contact.turns:
        raise ConversationError(f"The conversation file {path} has no turns.")
    return contact
