"""The OS keyring: which backend may keep the copilot's secrets, or why none can.

The history store's key, the supervisor passphrase hash and the API token all live
there. A backend that itself stores secrets in plain text (priority below 1, e.g.
keyrings.alt's PlaintextKeyring) is only used when IT chose it explicitly
(PYTHON_KEYRING_BACKEND or keyringrc.cfg), never because it happened to be installed.
"""

from __future__ import annotations

import os
from typing import Any

SERVICE = "agent-copilot"


def _explicitly_chosen() -> bool:
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        import keyring.core

        return keyring.core.load_config() is not None
    except Exception:  # pragma: no cover - a broken keyringrc counts as not chosen
        return False


def usable_backend() -> tuple[Any | None, str]:
    """The keyring backend to use, or None and why not (written for the user)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # pragma: no cover - declared dependency
        return None, "The keyring package is not installed."
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - any backend failure means no keyring
        return None, f"The OS keyring could not be loaded ({exc})."
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        return None, "No OS keyring is available on this machine."
    priority = float(getattr(backend, "priority", 0) or 0)
    if priority < 1 and not _explicitly_chosen():
        return None, f"The only keyring found ({name}) does not protect secrets."
    try:
        backend.get_password(SERVICE, "probe")
    except Exception as exc:  # noqa: BLE001 - e.g. Secret Service with no D-Bus session
        return None, f"The OS keyring ({name}) is not reachable ({exc})."
    return backend, name


def backend_description() -> str:
    backend, text = usable_backend()
    return text if backend is not None else f"none ({text})"
