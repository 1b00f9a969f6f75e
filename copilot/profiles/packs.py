"""Profile packs: the published profiles as one versioned file that travels between workstations.

A pack carries a sha256 over a canonical JSON of its profiles, so a pack edited by hand
after export is refused instead of quietly changing what agents' suggestions sound like.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot.atomic_write import atomic_write
from copilot.errors import ProfileError
from copilot.profiles.files import field_errors
from copilot.profiles.library import ProfileLibrary
from copilot.profiles.profile import Profile

PACK_FORMAT = "agent-copilot-profile-pack"
FORMAT_VERSION = 1
_EXPORT_AGAIN = "Export it again on the supervisor's workstation; do not edit pack files by hand."


def canonical_hash(profiles: list[dict[str, Any]]) -> str:
    """sha256 of the profiles sorted by name, as compact JSON with sorted keys."""
    ordered = sorted(profiles, key=lambda item: str(item.get("name", "")))
    text = json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ProfilePack:
    pack_version: int
    created_at: str
    author: str
    profiles: tuple[Profile, ...]
    sha256: str
    format_version: int = FORMAT_VERSION

    def names(self) -> list[str]:
        return sorted(p.name for p in self.profiles)


@dataclass
class PackReport:
    """What an import adds, changes and removes, in words a supervisor can check."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    from_version: int = 0
    to_version: int = 0

    @property
    def older(self) -> bool:
        return self.to_version < self.from_version

    def lines(self) -> list[str]:
        lines = [f"Added: {name}" for name in self.added]
        lines += [f"Changed: {name} ({', '.join(f)})" for name, f in self.changed.items()]
        lines += [f"Removed: {name}" for name in self.removed]
        if self.unchanged:
            count = len(self.unchanged)
            lines.append(f"Unchanged: {count} profile{'s' if count != 1 else ''}")
        if not (self.added or self.changed or self.removed):
            lines.append("No profile changes.")
        version = f"Pack version {self.from_version} -> {self.to_version}"
        if self.older:
            version += " (older than the installed pack)"
        lines.append(version)
        return lines


def export_pack(library: ProfileLibrary, path: Path, *, author: str = "") -> Path:
    """Write the published profiles as a pack; refused while any profile file is unusable."""
    loaded = library.load()
    if loaded.errors:
        raise ProfileError(
            f"{loaded.errors[0].user_message} Fix or publish it before exporting, so the pack "
            "holds every profile."
        )
    items = [loaded.profiles[name].model_dump(mode="json") for name in loaded.names()]
    pack = {
        "format": PACK_FORMAT,
        "format_version": FORMAT_VERSION,
        "pack_version": max(library.pack_version, 1),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "author": author,
        "profiles": items,
        "sha256": canonical_hash(items),
    }
    data = (json.dumps(pack, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        atomic_write(Path(path), data)
    except OSError as exc:
        raise ProfileError(
            f"The profile pack could not be written to {path} ({exc.strerror or exc})."
        ) from exc
    return Path(path)


def read_pack(path: Path) -> ProfilePack:
    """Read and check a pack; anything wrong is a ProfileError that says how to fix it."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"The profile pack {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"The profile pack {path} cannot be read ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{path} is not a profile pack (not JSON: {exc}). Export one with "
            "`agent-copilot profiles export FILE` or Supervisor… > Profiles > Export."
        ) from None
    _check_envelope(path, raw)
    items: list[dict[str, Any]] = raw["profiles"]
    if canonical_hash(items) != raw.get("sha256"):
        raise ProfileError(
            f"The profile pack {path} does not match its content hash: the file was changed "
            f"after export. {_EXPORT_AGAIN}"
        )
    profiles = tuple(_profile(path, index, item) for index, item in enumerate(items))
    names = [p.name for p in profiles]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ProfileError(
            f"The profile pack {path} holds '{duplicates[0]}' twice. {_EXPORT_AGAIN}"
        )
    return ProfilePack(
        pack_version=raw["pack_version"],
        created_at=str(raw.get("created_at", "")),
        author=str(raw.get("author", "")),
        profiles=profiles,
        sha256=raw["sha256"],
        format_version=raw["format_version"],
    )


def _check_envelope(path: Path, raw: Any) -> None:
    if not isinstance(raw, dict) or raw.get("format") != PACK_FORMAT:
        raise ProfileError(
            f"{path} is not an agent-copilot profile pack. Export one with "
            "`agent-copilot profiles export FILE` or Supervisor… > Profiles > Export."
        )
    version = raw.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ProfileError(f"The profile pack {path} has no valid format_version. {_EXPORT_AGAIN}")
    if version > FORMAT_VERSION:
        raise ProfileError(
            f"The profile pack {path} was made by a newer copilot (pack format {version}; this "
            f"one reads format {FORMAT_VERSION}). Update the copilot on this workstation first."
        )
    number = raw.get("pack_version")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ProfileError(f"The profile pack {path} has no valid pack_version. {_EXPORT_AGAIN}")
    items = raw.get("profiles")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ProfileError(f"The profile pack {path} holds no profiles. {_EXPORT_AGAIN}")
    if not isinstance(raw.get("sha256"), str):
        raise ProfileError(f"The profile pack {path} has no content hash. {_EXPORT_AGAIN}")


def _profile(path: Path, index: int, item: dict[str, Any]) -> Profile:
    problems = field_errors(item)
    if problems:
        name = item.get("name")
        who = f"'{name}'" if isinstance(name, str) and name else f"number {index + 1}"
        where, message = next(iter(problems.items()))
        raise ProfileError(
            f"The profile pack {path}: profile {who}, field '{where}': {message} Correct it in "
            "supervisor mode on the workstation that exported it, and export again."
        )
    return Profile.model_validate(item)


def _differences(old: Profile, new: Profile) -> list[str]:
    return [name for name in Profile.model_fields if getattr(old, name) != getattr(new, name)]


def plan_import(library: ProfileLibrary, pack: ProfilePack) -> PackReport:
    """What importing ``pack`` would do to the published profiles; changes nothing."""
    current = library.load().profiles
    on_disk = {path.stem for path in library.profile_files()} | set(current)
    report = PackReport(from_version=library.pack_version, to_version=pack.pack_version)
    for profile in sorted(pack.profiles, key=lambda p: p.name):
        old = current.get(profile.name)
        if profile.name not in on_disk:
            report.added.append(profile.name)
        elif old is None:
            report.changed[profile.name] = ["replaces a file that was not usable"]
        elif fields := _differences(old, profile):
            report.changed[profile.name] = fields
        else:
            report.unchanged.append(profile.name)
    report.removed = sorted(on_disk - set(pack.names()))
    return report


def apply_import(
    library: ProfileLibrary, pack: ProfilePack, *, allow_older: bool = False
) -> PackReport:
    """Make the pack's profiles the published set, all at once; an older pack needs consent."""
    report = plan_import(library, pack)
    if report.older and not allow_older:
        raise ProfileError(
            f"This profile pack is version {pack.pack_version}, older than the installed version "
            f"{report.from_version}; nothing was imported. Import it with --allow-older (or "
            "'Allow an older pack' in Supervisor…) if you mean to go back."
        )
    library.replace_all(pack.profiles, pack_version=pack.pack_version)
    return report
