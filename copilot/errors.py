"""Typed errors whose message is written for the person using the copilot.

Every error the core raises on purpose is a ``CopilotError``: the UI and the CLI
show ``user_message`` as it is, and anything else is treated as a crash. Each class
also says how the window shows it (``shown_as``): a lasting line in the banner for a
part of the copilot that is off until something is fixed, or a passing notice.
"""

from __future__ import annotations

from typing import ClassVar, Literal

Shown = Literal["banner", "notice"]


class CopilotError(Exception):
    """An error the user can understand and act on."""

    #: Where the window shows it: "banner" stays until fixed, "notice" passes.
    shown_as: ClassVar[Shown] = "notice"
    #: What the banner line starts with, naming the part of the copilot that is off.
    prefix: ClassVar[str] = ""

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail

    def shown_text(self) -> str:
        """The message as the window shows it, with the prefix unless it says so already."""
        subject = self.prefix.rstrip(" :.")
        if not subject or self.user_message.startswith(subject):
            return self.user_message
        return self.prefix + self.user_message


class ModelError(CopilotError):
    """The language model is missing, broken or failed while generating."""

    shown_as = "banner"
    prefix = "Suggestions are off. "


class ProfileError(CopilotError):
    """A prompt/tone profile file is invalid."""

    shown_as = "banner"


class SettingsError(CopilotError):
    """The settings file or an environment override is invalid."""

    shown_as = "banner"


class ConversationError(CopilotError):
    """A conversation file or message is invalid."""


class KnowledgeError(CopilotError):
    """The knowledge base could not be read or searched."""

    shown_as = "banner"
    prefix = "Knowledge articles are off. "


class StoreError(CopilotError):
    """The encrypted local store could not be read or written."""

    shown_as = "banner"
    prefix = "Customer history: "


class PrivacyError(CopilotError):
    """Something would break the privacy rules (redaction, network, keys)."""

    shown_as = "banner"
    prefix = "Customer history: "


class FeatureOff(CopilotError):  # noqa: N818 - reads as the state it reports
    """A side feature (analytics, approved replies) is off; the copilot works without it."""

    shown_as = "banner"


class IntegrationError(CopilotError):
    """The local API could not start; the window works on without it."""

    shown_as = "banner"


class Cancelled(Exception):  # noqa: N818 - a signal, not a failure
    """Work was cancelled on purpose; callers ignore it quietly."""
