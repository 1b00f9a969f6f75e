"""Where the copilot keeps its files and finds what ships with it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "agent-copilot"
_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    """Settings live here; ``AGENT_COPILOT_CONFIG_DIR`` moves them (tests, portable installs)."""
    override = os.environ.get("AGENT_COPILOT_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def _shipped(name: str) -> Path:
    """A folder shipped with the product: inside the wheel, or at the repository root."""
    bundled = _PACKAGE_DIR / "_bundled" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / name


def bundled_prompts_dir() -> Path:
    return _shipped("prompts")


def resources_dir() -> Path:
    return _shipped("resources")
