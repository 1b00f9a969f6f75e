"""Typed errors whose message is written for the person using the copilot.

Every error the core raises on purpose is a ``CopilotError``: the UI and the CLI
show ``user_message`` as it is, and anything else is treated as a crash.
"""

from __future__ import annotations


class CopilotError(Exception):
    """An error the user can understand and act on."""

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail


class ModelError(CopilotError):
    """The language model is missing, broken or failed while generating."""


class ProfileError(CopilotError):
    """A prompt/tone profile file is invalid."""


class SettingsError(CopilotError):
    """The settings file or an environment override is invalid."""


class ConversationError(CopilotError):
    """A conversation file or message is invalid."""


class KnowledgeError(CopilotError):
    """The knowledge base could not be read or searched."""


class StoreError(CopilotError):
    """The encrypted local store could not be read or written."""


class PrivacyError(CopilotError):
    """Something would break the privacy rules (redaction, network, keys)."""


class Cancelled(Exception):  # noqa: N818 - a signal, not a failure
    """Work was cancelled on purpose; callers ignore it quietly."""
