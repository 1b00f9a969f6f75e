"""Writing profiles as files: stable YAML, and field messages for an editor.

Kept apart from the library so the editor's live validation and the pack code can use
the same YAML and the same wording without pulling in folder management.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from annotated_types import Ge, Le
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from copilot.profiles.profile import Profile

#: The order fields are written in: what a supervisor reads first comes first.
FIELD_ORDER = tuple(Profile.model_fields)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class _ProfileDumper(yaml.SafeDumper):
    """Multi-line text as a ``|`` block, as a supervisor would write it by hand."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ProfileDumper.add_representer(str, _represent_str)


def profile_yaml(profile: Profile) -> str:
    """The profile as YAML in a stable field order; it reads back to the same profile."""
    data = profile.model_dump(mode="json")
    ordered = {name: data[name] for name in FIELD_ORDER}
    text = yaml.dump(
        ordered,
        Dumper=_ProfileDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    if Profile.model_validate(yaml.safe_load(text)) != profile:  # pragma: no cover - a guard
        raise ValueError(f"profile {profile.name} does not survive a YAML round trip")
    return text


def field_errors(raw: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> a message for the person editing, for live validation of a draft.

    Uses the same model as the files, so what the editor accepts also loads. Whether the
    name is already taken is the caller's check.
    """
    try:
        Profile.model_validate(dict(raw))
    except ValidationError as exc:
        messages: dict[str, str] = {}
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else "(profile)"
            messages.setdefault(where, _message(where, error))
        return messages
    return {}


def _bounds(name: str) -> tuple[Any, Any]:
    field = Profile.model_fields.get(name)
    low = high = None
    for item in field.metadata if field else []:
        if isinstance(item, Ge):
            low = item.ge
        elif isinstance(item, Le):
            high = item.le
    return low, high


_PATTERN_HELP = {
    "name": "Use lower-case letters, digits, '-' or '_' (at most 48), starting with a letter "
    "or digit, e.g. formal-de.",
    "reply_language": "Use 'customer' (answer in the customer's language) or a two-letter "
    "code such as 'de'.",
}


def _message(where: str, error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "Required."
    if kind == "extra_forbidden":
        return f"'{where}' is not a profile field (a misspelt name?)."
    if kind == "string_too_short":
        low = ctx.get("min_length", 1)
        return "Cannot be empty." if low == 1 else f"Write at least {low} characters."
    if kind == "string_too_long":
        return f"Keep it to {ctx.get('max_length')} characters at most."
    if kind == "string_pattern_mismatch":
        return _PATTERN_HELP.get(where, "Not in the expected form.")
    if kind in {"greater_than_equal", "less_than_equal"}:
        low, high = _bounds(where)
        return f"Use a number from {low} to {high}."
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "Enter a whole number."
    if kind in {"float_parsing", "float_type"}:
        return "Enter a number, e.g. 0.3."
    if kind == "literal_error":
        return f"Choose {ctx.get('expected')}."
    if kind in {"tuple_type", "list_type", "string_type"} and where == "avoid_phrases":
        return "Enter a list of phrases (text)."
    if kind == "value_error":
        text = str(error["msg"]).removeprefix("Value error, ")
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return str(error["msg"]) + "."
