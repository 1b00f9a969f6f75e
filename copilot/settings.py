"""Settings: one validated model, stored as JSON, overridable by environment variables.

Environment variables win over the file (``AGENT_COPILOT_<FIELD>``), so IT can pin a
model or thread count without touching a user's file.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from copilot.atomic_write import atomic_write
from copilot.errors import SettingsError
from copilot.paths import config_dir, default_data_dir

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
ENV_PREFIX = "AGENT_COPILOT_"


def settings_file() -> Path:
    return config_dir() / "settings.json"


class Settings(BaseSettings):
    """Everything a user or IT may set. Unknown keys are an error, not silently kept."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    schema_version: int = SCHEMA_VERSION
    model_path: Path | None = Field(
        default=None, description="GGUF model file; empty means the bundled SmolLM2-135M."
    )
    n_threads: int | None = Field(
        default=None, ge=1, le=256, description="CPU threads; empty means one per core."
    )
    n_ctx: int = Field(default=4096, ge=512, le=131072, description="Context size in tokens.")
    n_gpu_layers: int | Literal["auto"] = Field(
        default="auto",
        description="Layers offloaded to a GPU: 'auto' offloads all when the build supports it.",
    )
    active_profile: str = Field(default="friendly", min_length=1)
    profiles_dir: Path | None = Field(
        default=None, description="Folder of profile files; empty means the shipped prompts/."
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    agent_name: str = Field(default="", max_length=80)
    kb_server: str = Field(
        default="",
        pattern=r"^(|https?://[^\s/]+(:\d+)?/?)$",
        description="Chroma server for a shared knowledge base, e.g. http://kb-host:8000; "
        "empty keeps the knowledge base in the data folder.",
    )
    kb_collection: str = Field(
        default="knowledge", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}[a-zA-Z0-9]$"
    )
    kb_demo: bool = Field(
        default=True, description="Import the bundled demo knowledge base when the store is empty."
    )
    company_name: str = Field(default="our company", max_length=80)
    history_retention_days: int = Field(
        default=0,
        ge=0,
        le=36500,
        description="Delete contacts older than this many days; 0 keeps them until forgotten.",
    )
    history_demo: bool = Field(
        default=True, description="Add the bundled demo customers when the history store is new."
    )

    @field_validator("n_gpu_layers", mode="before")
    @classmethod
    def _gpu_layers(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        return value

    @field_validator("n_gpu_layers")
    @classmethod
    def _gpu_layers_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < -1:
            raise ValueError("use 'auto', -1 (all layers), 0 (CPU only) or a positive count")
        return value

    @field_validator("model_path", "profiles_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if _FILE_ENABLED.get("on", True) and settings_file().is_file():
            sources.append(JsonConfigSettingsSource(settings_cls, json_file=settings_file()))
        return tuple(sources)


_FILE_ENABLED: dict[str, bool] = {}


def _describe(error: ValidationError, origin: str) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(file)"
    env_name = ENV_PREFIX + field.upper()
    return (
        f"Setting '{field}' is invalid ({first['msg']}). It came from {origin}. "
        f"Fix it there (the environment variable is {env_name}) or remove it to use the default."
    )


def _check_file(path: Path) -> None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(
            f"The settings file {path} cannot be read ({exc}). "
            "Fix or delete it; the copilot runs on defaults until then."
        ) from exc
    if not isinstance(raw, dict):
        raise SettingsError(f"The settings file {path} must hold a JSON object. Fix or delete it.")
    version = raw.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise SettingsError(
            f"The settings file {path} has schema_version {version!r}, newer than this copilot "
            f"understands ({SCHEMA_VERSION}). Update the copilot or delete the file."
        )


def load_settings() -> tuple[Settings, list[str]]:
    """Load settings, never failing: problems come back as messages for the user.

    A broken file is ignored (not overwritten) and a broken environment variable
    falls back to the file and defaults, so the window still opens.
    """
    problems: list[str] = []
    path = settings_file()
    use_file = path.is_file()
    if use_file:
        try:
            _check_file(path)
        except SettingsError as exc:
            problems.append(exc.user_message)
            use_file = False
    _FILE_ENABLED["on"] = use_file
    try:
        return Settings(), problems
    except ValidationError as exc:
        problems.append(_describe(exc, f"{path} or the environment"))
    env_backup = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    try:
        for key in env_backup:
            if key != ENV_PREFIX + "CONFIG_DIR":
                del os.environ[key]
        try:
            return Settings(), problems
        except ValidationError as exc:
            problems.append(_describe(exc, str(path)))
            _FILE_ENABLED["on"] = False
            return Settings(), problems
    finally:
        os.environ.update(env_backup)
        _FILE_ENABLED["on"] = True


def require_settings() -> Settings:
    """Strict variant for the CLI: any problem is an error."""
    settings, problems = load_settings()
    if problems:
        raise SettingsError(problems[0])
    return settings


def update_settings(**changes: Any) -> Path:
    """Write only the changed keys into the file, atomically.

    Environment overrides are not copied into the file, and a file we could not
    parse is kept aside as ``settings.broken-<time>.json``, never silently lost.
    """
    path = settings_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"The settings folder {path.parent} cannot be created ({exc})."
        ) from exc
    current: dict[str, Any] = {}
    if path.is_file():
        try:
            _check_file(path)
            current = json.loads(path.read_text(encoding="utf-8"))
        except SettingsError:
            path.replace(path.with_name(f"settings.broken-{int(time.time())}.json"))
    current.update({k: (str(v) if isinstance(v, Path) else v) for k, v in changes.items()})
    current["schema_version"] = SCHEMA_VERSION
    try:
        Settings.model_validate(current)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, "the requested change")) from exc
    try:
        atomic_write(path, json.dumps(current, indent=2, sort_keys=True).encode("utf-8"))
    except OSError as exc:
        raise SettingsError(
            f"The settings could not be saved to {path} ({exc.strerror}). "
            "Free some disk space or check the folder's permissions; "
            "the previous settings are kept."
        ) from exc
    return path
