"""The published profiles: one folder, with a manifest that says what a supervisor published.

Agents may not change profiles outside supervisor mode, so ``pack.json`` keeps the sha256
of every published file; a file edited by hand no longer matches and is refused (the rest
still load). A folder without ``pack.json`` (e.g. one IT manages) is trusted as it is.
Every change is written so a crash leaves the old state or the new one, never half a file.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot.atomic_write import atomic_write, fsync_dir, write_synced
from copilot.errors import ProfileError
from copilot.paths import bundled_prompts_dir
from copilot.profiles.files import field_errors, profile_yaml, remove_tree, sha256_bytes
from copilot.profiles.profile import (
    PROFILE_SUFFIXES,
    Profile,
    ProfileSet,
    load_profile,
    load_profiles,
)
from copilot.settings import Settings

log = logging.getLogger(__name__)

MANIFEST = "pack.json"
PUBLISHED_FORMAT = "agent-copilot-published-profiles"
_STALE_AFTER_S = 3600
_CHANGED = (
    "Profile file {path} was changed outside supervisor mode, so it is not used. A supervisor "
    "must publish it again (Supervisor… > Profiles) or import a profile pack."
)

__all__ = ["MANIFEST", "Manifest", "ProfileLibrary", "field_errors"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Manifest:
    """What ``pack.json`` says: the published version and each file's sha256."""

    pack_version: int = 0
    published_at: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data = {
            "format": PUBLISHED_FORMAT,
            "pack_version": self.pack_version,
            "published_at": self.published_at,
            "files": dict(sorted(self.files.items())),
        }
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def next(self, files: dict[str, str], version: int | None = None) -> Manifest:
        number = self.pack_version + 1 if version is None else version
        return Manifest(pack_version=number, published_at=_now(), files=files)


def _parse_manifest(raw: Any) -> Manifest:
    files = raw.get("files") if isinstance(raw, dict) else None
    version = raw.get("pack_version") if isinstance(raw, dict) else None
    if (
        not isinstance(raw, dict)
        or raw.get("format") != PUBLISHED_FORMAT
        or not isinstance(version, int)
        or version < 0
        or not isinstance(files, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
    ):
        raise ValueError("not a list of published profiles")
    return Manifest(version, str(raw.get("published_at", "")), dict(files))


def _is_profile_file(path: Path) -> bool:
    return path.suffix in PROFILE_SUFFIXES and not path.name.startswith(".") and path.is_file()


class ProfileLibrary:
    """The folder agents' profiles come from, and the only way supervisors change it."""

    field_errors = staticmethod(field_errors)

    def __init__(
        self, folder: Path, *, read_only: bool | None = None, read_only_reason: str = ""
    ) -> None:
        self.folder = Path(folder)
        self._read_only = read_only
        self._read_only_reason = read_only_reason

    @classmethod
    def open(cls, settings: Settings) -> ProfileLibrary:
        """``settings.profiles_dir``, or the data folder's copy of the shipped profiles.

        Raises ProfileError when the copy cannot be made the first time.
        """
        if settings.profiles_dir:
            library = cls(Path(settings.profiles_dir))
            library._recover()
            return library
        library = cls(Path(settings.data_dir) / "profiles")
        library._recover()
        if not library.folder.exists():
            library._seed(bundled_prompts_dir())
        return library

    # reading ------------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def manifest(self) -> Manifest | None:
        """The manifest, None when there is none; ProfileError when it is damaged."""
        path = self.manifest_path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(
                f"The list of published profiles {path} cannot be read ({exc})."
            ) from None
        try:
            return _parse_manifest(json.loads(text))
        except ValueError as exc:
            raise ProfileError(
                f"The list of published profiles {path} is damaged ({exc}), so no profile "
                "file can be trusted. A supervisor must import a profile pack (or publish "
                "each profile again)."
            ) from None

    @property
    def pack_version(self) -> int:
        try:
            manifest = self.manifest()
        except ProfileError:
            return 0
        return manifest.pack_version if manifest else 0

    @property
    def published_at(self) -> str:
        try:
            manifest = self.manifest()
        except ProfileError:
            return ""
        return manifest.published_at if manifest else ""

    @property
    def read_only(self) -> bool:
        if self._read_only is not None:
            return self._read_only
        target = self.folder if self.folder.exists() else self.folder.parent
        return not os.access(target, os.W_OK)

    def profile_files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if _is_profile_file(p))

    def load(self) -> ProfileSet:
        """The published profiles; files changed by hand are refused, the rest still load."""
        try:
            manifest = self.manifest()
        except ProfileError as exc:
            return ProfileSet(errors=[exc])
        if manifest is None:
            return load_profiles(self.folder)
        result = ProfileSet()
        present = self.profile_files()
        for path in present:
            self._load_checked(path, manifest, result)
        for name in sorted(set(manifest.files) - {p.name for p in present}):
            result.errors.append(
                ProfileError(
                    f"Profile file {self.folder / name} was published but is missing. A "
                    "supervisor must publish it again or import a profile pack."
                )
            )
        if not result.profiles:
            result.errors.append(ProfileError(f"No usable profile was found in {self.folder}."))
        return result

    def _load_checked(self, path: Path, manifest: Manifest, into: ProfileSet) -> None:
        try:
            digest = sha256_bytes(path.read_bytes())
        except OSError as exc:
            into.errors.append(ProfileError(f"Profile file {path} cannot be read ({exc})."))
            return
        if manifest.files.get(path.name) != digest:
            log.warning("profile file refused, it differs from %s: %s", MANIFEST, path.name)
            into.errors.append(ProfileError(_CHANGED.format(path=path)))
            return
        try:
            profile = load_profile(path)
        except ProfileError as exc:
            into.errors.append(exc)
            return
        into.profiles[profile.name] = profile

    # changing -----------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.read_only:
            raise ProfileError(
                self._read_only_reason
                or f"The profiles folder {self.folder} is managed by IT: this account cannot "
                "change it. Ask IT to update the profiles there."
            )

    def _files_for(self, name: str) -> list[Path]:
        return [p for p in self.profile_files() if p.stem == name]

    def _current_manifest(self) -> Manifest:
        """The manifest to change; a folder without one starts from its files as they are."""
        try:
            manifest = self.manifest()
        except ProfileError:
            return Manifest()  # damaged: trust nothing that is not published again
        if manifest is not None:
            return manifest
        files: dict[str, str] = {}
        for path in self.profile_files():
            try:
                files[path.name] = sha256_bytes(path.read_bytes())
            except OSError:
                continue  # unreadable: not trusted
        return Manifest(files=files)

    def publish(self, profile: Profile, *, previous_name: str | None = None) -> None:
        """Write one profile (renamed from ``previous_name``) and bump the pack version."""
        self._require_writable()
        profile = Profile.model_validate(profile.model_dump())
        renamed = previous_name is not None and previous_name != profile.name
        if renamed and self._files_for(profile.name):
            raise ProfileError(
                f"A profile named '{profile.name}' already exists. Choose another name."
            )
        target = self.folder / f"{profile.name}.yaml"
        stale = [p for p in self._files_for(profile.name) if p != target]
        if renamed and previous_name:
            stale += self._files_for(previous_name)
        data = profile_yaml(profile).encode("utf-8")
        before = self._current_manifest()
        files = {k: v for k, v in before.files.items() if k not in {p.name for p in stale}}
        files[target.name] = sha256_bytes(data)
        old = target.read_bytes() if target.is_file() else None
        what = f"The profile '{profile.name}' could not be published to {self.folder}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
        except OSError as exc:
            raise self._write_error(what, exc) from exc
        try:
            atomic_write(self.manifest_path, before.next(files).to_bytes())
        except OSError as exc:
            restored = self._restore(target, old)
            raise self._write_error(what, exc, restored=restored) from exc
        for path in stale:
            self._unlink_quietly(path)
        log.info("published profile %s (pack version %d)", profile.name, before.pack_version + 1)

    def delete(self, name: str) -> None:
        """Remove a published profile; the last usable one stays, agents need one."""
        self._require_writable()
        paths = self._files_for(name)
        if not paths:
            raise ProfileError(f"There is no published profile named '{name}'.")
        if not [n for n in self.load().profiles if n != name]:
            raise ProfileError(
                f"'{name}' is the last usable profile and agents need one. Publish another "
                "profile before deleting it."
            )
        before = self._current_manifest()
        files = {k: v for k, v in before.files.items() if k not in {p.name for p in paths}}
        old = self.manifest_path.read_bytes() if self.manifest_path.is_file() else None
        what = f"The profile '{name}' could not be deleted from {self.folder}"
        try:
            atomic_write(self.manifest_path, before.next(files).to_bytes())
        except OSError as exc:
            raise self._write_error(what, exc) from exc
        try:
            for path in paths:
                path.unlink()
        except OSError as exc:
            restored = self._restore(self.manifest_path, old)
            raise self._write_error(what, exc, restored=restored) from exc
        log.info("deleted profile %s", name)

    def duplicate(self, name: str, new_name: str) -> Profile:
        """Publish a copy of ``name`` as ``new_name`` and return it, ready to edit."""
        source = self.load().get(name)
        if self._files_for(new_name):
            raise ProfileError(f"A profile named '{new_name}' already exists. Choose another name.")
        raw = {**source.model_dump(), "name": new_name}
        problems = field_errors(raw)
        if problems:
            field_name, message = next(iter(problems.items()))
            raise ProfileError(f"The new profile's {field_name} is not valid: {message}")
        copy = Profile.model_validate(raw)
        self.publish(copy)
        return copy

    def replace_all(self, profiles: Sequence[Profile], *, pack_version: int) -> None:
        """Make ``profiles`` the whole published set at once (a pack import).

        The new folder is written beside the old one and swapped in, so a failure at any
        point leaves the previous profiles in place.
        """
        self._require_writable()
        names = [p.name for p in profiles]
        if not names or len(set(names)) != len(names):
            raise ProfileError("A profile pack must hold at least one profile, each name once.")
        staging = self._sibling("staging")
        try:
            staging.mkdir(parents=True)
            self._copy_other_files(staging)
            files: dict[str, str] = {}
            for profile in profiles:
                data = profile_yaml(profile).encode("utf-8")
                write_synced(staging / f"{profile.name}.yaml", data)
                files[f"{profile.name}.yaml"] = sha256_bytes(data)
            manifest = Manifest().next(files, version=pack_version)
            write_synced(staging / MANIFEST, manifest.to_bytes())
            fsync_dir(staging)
        except OSError as exc:
            remove_tree(staging)
            raise self._write_error("The profiles could not be imported", exc) from exc
        self._swap_in(staging)

    # plumbing -----------------------------------------------------------------------------

    def _sibling(self, kind: str) -> Path:
        return self.folder.parent / f".{self.folder.name}.{kind}-{secrets.token_hex(4)}"

    def _copy_other_files(self, staging: Path) -> None:
        """Keep what else lives in the folder (e.g. IT's README); never old profiles."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            keep = path.is_file() and not path.name.startswith(".")
            if keep and not _is_profile_file(path) and path.name != MANIFEST:
                shutil.copy2(path, staging / path.name)

    def _swap_in(self, staging: Path) -> None:
        previous = self._sibling("previous")
        had_folder = self.folder.exists()
        try:
            if had_folder:
                os.rename(self.folder, previous)
            os.rename(staging, self.folder)
        except OSError as exc:
            restored = True
            if had_folder and not self.folder.exists():
                try:
                    os.rename(previous, self.folder)
                except OSError:
                    restored = False
            remove_tree(staging)
            raise self._write_error(
                "The profiles could not be imported", exc, restored=restored
            ) from exc
        fsync_dir(self.folder.parent)
        remove_tree(previous)

    def _recover(self) -> None:
        """Finish what a crash interrupted: bring back the old folder if a swap stopped halfway."""
        parent = self.folder.parent
        if not parent.is_dir():
            return
        previous = sorted(
            parent.glob(f".{self.folder.name}.previous-*"), key=lambda p: p.stat().st_mtime
        )
        if previous and not self.folder.exists():
            try:
                os.rename(previous.pop(), self.folder)
                log.warning("restored the profiles folder after an interrupted import")
            except OSError as exc:
                log.warning("could not restore the profiles folder: %s", exc)
        leftovers = previous + list(parent.glob(f".{self.folder.name}.staging-*"))
        for path in leftovers:
            try:
                if time.time() - path.stat().st_mtime > _STALE_AFTER_S:
                    remove_tree(path)
            except OSError:
                continue

    def _seed(self, source: Path) -> None:
        """The first start: copy the shipped profiles as published, pack version 1."""
        staging = self._sibling("staging")
        try:
            staging.mkdir(parents=True)
            files: dict[str, str] = {}
            for path in sorted(p for p in source.iterdir() if _is_profile_file(p)):
                data = path.read_bytes()
                write_synced(staging / path.name, data)
                files[path.name] = sha256_bytes(data)
            write_synced(staging / MANIFEST, Manifest().next(files, version=1).to_bytes())
            fsync_dir(staging)
            os.rename(staging, self.folder)
        except OSError as exc:
            remove_tree(staging)
            if self.folder.is_dir():  # made by another process meanwhile
                return
            raise ProfileError(
                f"The profiles folder {self.folder} cannot be created ({exc}). The shipped "
                "profiles are used, read-only, until it can."
            ) from exc
        log.info("copied the shipped profiles to %s", self.folder)

    def _restore(self, path: Path, old: bytes | None) -> bool:
        try:
            if old is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, old)
        except OSError:
            log.error("could not restore %s after a failed write", path.name)
            return False
        return True

    def _unlink_quietly(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove the old profile file %s: %s", path.name, exc)

    def _write_error(self, what: str, exc: OSError, *, restored: bool = True) -> ProfileError:
        if isinstance(exc, PermissionError):
            return ProfileError(
                f"{what}: the folder is managed by IT (no permission to write). "
                "Ask IT to update the profiles there."
            )
        reason = exc.strerror or str(exc)
        if restored:
            return ProfileError(
                f"{what} ({reason}). Free some disk space or check the folder's permissions; "
                "the published profiles are unchanged."
            )
        return ProfileError(
            f"{what} ({reason}), and the previous state could not be put back. Free some disk "
            "space, then import a profile pack or publish the profiles again."
        )
