"""What the CLI and the window share: settings, profiles and the one engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from copilot.errors import CopilotError, ProfileError
from copilot.model.engine import Engine
from copilot.paths import bundled_prompts_dir
from copilot.profiles.library import ProfileLibrary
from copilot.profiles.profile import Profile, ProfileSet
from copilot.settings import Settings, load_settings

log = logging.getLogger(__name__)


def open_library(settings: Settings) -> tuple[ProfileLibrary, list[ProfileError]]:
    """The published profiles; the shipped ones, read-only, when their folder cannot be made."""
    try:
        return ProfileLibrary.open(settings), []
    except ProfileError as exc:
        fallback = ProfileLibrary(
            bundled_prompts_dir(), read_only=True, read_only_reason=exc.user_message
        )
        return fallback, [exc]


@dataclass
class Runtime:
    settings: Settings
    profiles: ProfileSet
    engine: Engine
    problems: list[CopilotError] = field(default_factory=list)
    _library: ProfileLibrary | None = field(default=None, init=False, repr=False)

    @classmethod
    def create(cls, settings: Settings | None = None) -> Runtime:
        """Never fails: what is wrong is collected in ``problems`` for the user to see."""
        problems: list[CopilotError] = []
        if settings is None:
            settings, messages = load_settings()
            problems += [CopilotError(m) for m in messages]
        library, errors = open_library(settings)
        problems += errors
        profiles = library.load()
        problems += profiles.errors
        runtime = cls(settings=settings, profiles=profiles, engine=Engine(settings))
        runtime.problems = problems
        runtime._library = library
        return runtime

    @property
    def library(self) -> ProfileLibrary:
        """Where profiles are published; opened on first use for a hand-made Runtime."""
        if self._library is None:
            self._library, errors = open_library(self.settings)
            self.problems += errors
        return self._library

    def reload_profiles(self) -> list[ProfileError]:
        """Re-read the published profiles (after a publish or an import); returns what is wrong."""
        self.profiles = self.library.load()
        return list(self.profiles.errors)

    @property
    def default_profile_name(self) -> str:
        names = self.profiles.names()
        if self.settings.active_profile in self.profiles.profiles:
            return self.settings.active_profile
        return names[0] if names else ""

    def profile(self, name: str | None = None) -> Profile:
        return self.profiles.get(name or self.default_profile_name)
