"""What the CLI and the window share: settings, profiles and the one engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from copilot.conversation import Contact
from copilot.engine import Engine
from copilot.errors import CopilotError
from copilot.paths import bundled_prompts_dir
from copilot.profiles import Profile, ProfileSet, load_profiles
from copilot.settings import Settings, load_settings
from copilot.suggest import SuggestionRequest

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    profiles: ProfileSet
    engine: Engine
    problems: list[CopilotError] = field(default_factory=list)

    @classmethod
    def create(cls, settings: Settings | None = None) -> Runtime:
        """Never fails: what is wrong is collected in ``problems`` for the user to see."""
        problems: list[CopilotError] = []
        if settings is None:
            settings, messages = load_settings()
            problems += [CopilotError(m) for m in messages]
        folder = Path(settings.profiles_dir) if settings.profiles_dir else bundled_prompts_dir()
        profiles = load_profiles(folder)
        problems += profiles.errors
        return cls(settings=settings, profiles=profiles, engine=Engine(settings), problems=problems)

    @property
    def default_profile_name(self) -> str:
        names = self.profiles.names()
        if self.settings.active_profile in self.profiles.profiles:
            return self.settings.active_profile
        return names[0] if names else ""

    def profile(self, name: str | None = None) -> Profile:
        return self.profiles.get(name or self.default_profile_name)

    def request(self, contact: Contact, profile: str | None = None) -> SuggestionRequest:
        return SuggestionRequest(
            profile=self.profile(profile),
            contact=contact,
            company=self.settings.company_name,
            agent_name=self.settings.agent_name,
        )
