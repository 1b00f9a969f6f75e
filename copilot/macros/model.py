"""An approved reply (macro): a supervisor's template whose placeholders the copilot fills.

Placeholders are checked when a macro is created or loaded, so a typo such as
``{ordernumber}`` is reported with the known names at import time instead of
reaching a customer as a raw brace.
"""

from __future__ import annotations

import difflib
import re
import string
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.errors import CopilotError

PLACEHOLDERS = frozenset(
    {
        "customer_name",
        "first_name",
        "agent_name",
        "company",
        "order_number",
        "date",
        "tracking_number",
    }
)
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


class MacroError(CopilotError):
    """The macro library or a macro file could not be read, written or understood."""


def placeholders(text: str) -> list[str]:
    """The ``{names}`` a text uses; raises ValueError for broken braces."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def placeholder_problem(text: str) -> str | None:
    """Why a template's placeholders are unusable, with the fix; None when they are fine."""
    try:
        names = placeholders(text)
    except ValueError as exc:
        return f"broken {{braces}} ({exc}); write {{{{ and }}}} for a literal brace"
    for name in names:
        if name not in PLACEHOLDERS:
            return unknown_placeholder_message(name)
    return None


def unknown_placeholder_message(name: str) -> str:
    known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
    close = difflib.get_close_matches(name.lower(), sorted(PLACEHOLDERS), n=1, cutoff=0.6)
    hint = f"did you mean {{{close[0]}}}? " if close else ""
    return f"unknown placeholder {{{name}}}; {hint}known placeholders: {known}"


def slugify(text: str, limit: int = 64) -> str:
    """A stable id from a title: lower-case ASCII words joined by hyphens."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:limit].rstrip("-")


class Macro(BaseModel):
    """One approved reply. Frozen: editing means replacing it in the library."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=4000)
    language: str = Field(default="any", pattern=r"^(any|[a-z]{2})$")
    tags: tuple[str, ...] = ()

    @field_validator("title", "text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        problem = placeholder_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.strip().lower() for t in value if t.strip()))


def plain_text(macro: Macro) -> str:
    """Title and text with placeholders dropped: what the reply says, for retrieval."""
    body = "".join(literal for literal, _, _, _ in string.Formatter().parse(macro.text))
    body = re.sub(r"[ \t]+", " ", body)
    return f"{macro.title}. {body}".strip()


def topic_text(macro: Macro) -> str:
    """Title and tags: what the reply is for, closer to how customers put it than the reply."""
    return ". ".join([macro.title, ", ".join(macro.tags)]) if macro.tags else macro.title


def field_errors(raw: dict[str, object]) -> dict[str, str]:
    """Field name -> message for a macro being edited (live validation in the editor)."""
    try:
        Macro.model_validate(raw)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "macro"
            errors.setdefault(name, str(error["msg"]).removeprefix("Value error, "))
        return errors
    return {}
