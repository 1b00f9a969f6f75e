"""Prompt and tone profiles: files in prompts/ parsed into frozen, validated models.

Template variables are checked when a profile loads, so a typo in a supervisor's
file is reported at start-up (file, field, fix) instead of breaking a live contact.
"""

from __future__ import annotations

import logging
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.errors import ProfileError

log = logging.getLogger(__name__)

#: Values a profile's text may refer to as {name}; filled from settings and the contact.
TEMPLATE_VARIABLES = frozenset({"company", "agent_name", "customer_name", "channel"})
PROFILE_SUFFIXES = (".yaml", ".yml", ".toml")


def template_fields(text: str) -> list[str]:
    """The ``{names}`` used in a text; raises ValueError on broken braces."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


class Profile(BaseModel):
    """How suggestions sound. Frozen: nothing in a conversation can change it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")
    description: str = Field(min_length=1, max_length=300)
    system_prompt: str = Field(min_length=10, max_length=6000)
    tone: str = Field(min_length=1, max_length=300)
    reply_language: str = Field(
        default="customer",
        pattern=r"^(customer|[a-z]{2})$",
        description="'customer' answers in the customer's language; or a fixed code like 'de'.",
    )
    max_words: int = Field(default=80, ge=5, le=400)
    temperature: float = Field(default=0.3, ge=0.0, le=2.0)
    avoid_phrases: tuple[str, ...] = ()
    avoid_action: Literal["flag", "remove"] = Field(
        default="flag",
        description="'flag' warns the agent about a phrase to avoid; 'remove' cuts it out.",
    )
    closing_line: str = Field(default="", max_length=300)
    disclaimer: str = Field(
        default="",
        max_length=600,
        description="Mandatory text every reply ends with (added when the model left it out).",
    )
    german_address: Literal["any", "formal", "informal"] = Field(
        default="any",
        description="For German replies: 'formal' (Sie) or 'informal' (du) address is checked.",
    )

    @field_validator("system_prompt", "closing_line", "disclaimer", "tone")
    @classmethod
    def _known_variables(cls, value: str) -> str:
        try:
            names = template_fields(value)
        except ValueError as exc:
            raise ValueError(
                f"broken {{braces}} ({exc}); write {{{{ and }}}} for a literal brace"
            ) from None
        unknown = sorted({n for n in names if n not in TEMPLATE_VARIABLES})
        if unknown:
            allowed = ", ".join("{" + v + "}" for v in sorted(TEMPLATE_VARIABLES))
            raise ValueError(f"unknown template variable {{{unknown[0]}}}; use one of {allowed}")
        return value

    def render(self, text: str, values: dict[str, str]) -> str:
        return text.format(**{k: values.get(k, "") for k in TEMPLATE_VARIABLES})


@dataclass
class ProfileSet:
    profiles: dict[str, Profile] = field(default_factory=dict)
    errors: list[ProfileError] = field(default_factory=list)

    def get(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ProfileError(
                f"There is no profile named '{name}'. Available profiles: {known}."
            ) from None

    def names(self) -> list[str]:
        return sorted(self.profiles)


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    return yaml.safe_load(text)


def load_profile(path: Path) -> Profile:
    try:
        raw = _read(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"Profile file {path} cannot be read ({exc}).") from None
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(
            f"Profile file {path} is not valid {path.suffix.lstrip('.').upper()}: {exc}"
        ) from None
    if not isinstance(raw, dict):
        raise ProfileError(f"Profile file {path} must contain a mapping of fields.")
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        fix = _fix_for(first["type"], where)
        raise ProfileError(f"Profile file {path}, field '{where}': {first['msg']}. {fix}") from None
    if profile.name != path.stem:
        raise ProfileError(
            f"Profile file {path}, field 'name': '{profile.name}' does not match the file name. "
            f"Rename the file to {profile.name}{path.suffix} or set name: {path.stem}."
        )
    return profile


def _fix_for(error_type: str, where: str) -> str:
    if error_type == "extra_forbidden":
        return f"Remove '{where}' (a misspelt field name?)."
    if error_type == "missing":
        return f"Add '{where}'."
    return f"Correct '{where}'."


def load_profiles(folder: Path) -> ProfileSet:
    """Load every profile in a folder; a broken file is reported and the rest still load."""
    result = ProfileSet()
    if not folder.is_dir():
        result.errors.append(ProfileError(f"The profiles folder {folder} does not exist."))
        return result
    for path in sorted(folder.iterdir()):
        if path.suffix not in PROFILE_SUFFIXES or path.name.startswith("."):
            continue
        try:
            profile = load_profile(path)
        except ProfileError as exc:
            log.warning("profile skipped: %s", exc.user_message)
            result.errors.append(exc)
            continue
        result.profiles[profile.name] = profile
    if not result.profiles:
        result.errors.append(ProfileError(f"No usable profile was found in {folder}."))
    return result
