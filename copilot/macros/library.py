"""The approved-reply library: a JSON file in the data folder, edited by supervisors.

Writes are atomic (temporary file, then ``os.replace``), so a crash never leaves
half a library. A file that cannot be read is moved aside as
``macros.broken-<time>.json`` and reported, never silently overwritten; single bad
entries are reported and the rest still load (a copy of the file is kept aside).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copilot.atomic_write import atomic_write
from copilot.contact import Contact
from copilot.kb.turn_vectors import TurnVectors
from copilot.macros.fill import Filled, fill
from copilot.macros.importer import COLUMNS, ImportReport, read_macros_csv
from copilot.macros.model import Macro, MacroError
from copilot.macros.retrieve import THRESHOLD, MacroIndex, VectorCache, conversation_query
from copilot.paths import resources_dir
from copilot.settings import Settings

log = logging.getLogger(__name__)
FILE_NAME = "macros.json"
FORMAT = "agent-copilot-macros"
FORMAT_VERSION = 1


def demo_csv() -> Path:
    return resources_dir() / "demo" / "macros.csv"


@dataclass(frozen=True)
class MacroMatch:
    macro: Macro
    score: float
    filled: Filled


class MacroLibrary:
    """Approved replies in memory, saved after every change; ``match`` finds them for a contact."""

    def __init__(
        self,
        macros: Sequence[Macro] = (),
        *,
        path: Path | None = None,
        company: str = "",
        agent_name: str = "",
        problems: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.company = company
        self.agent_name = agent_name
        self.threshold = THRESHOLD
        self.problems = list(problems)
        self.revision = 0
        self._macros = {m.id: m for m in macros}
        self._index: MacroIndex | None = None
        self._lock = threading.RLock()

    # -- opening and saving --------------------------------------------------

    @classmethod
    def open(cls, settings: Settings) -> MacroLibrary:
        """The library in the data folder, seeded from the bundled demo list the first time."""
        path = Path(settings.data_dir) / FILE_NAME
        company, agent = settings.company_name, settings.agent_name
        if not path.exists():
            library = cls(path=path, company=company, agent_name=agent)
            library._seed()
            return library
        macros, problems = _load(path)
        library = cls(macros, path=path, company=company, agent_name=agent, problems=problems)
        if not path.exists():
            library.save()  # moved aside: an empty library, not the demo list again
        return library

    def _seed(self) -> None:
        try:
            macros, bad, _ = read_macros_csv(demo_csv())
        except MacroError as exc:
            self.problems.append(f"The demo approved replies could not be read: {exc.user_message}")
            return
        self.problems += [f"demo macros.csv {p}" for p in bad]
        self._macros = {m.id: m for m in macros}
        self.save()

    def save(self) -> None:
        """Write the whole library atomically; without a path (evaluation) nothing is written."""
        if self.path is None:
            return
        data = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "macros": [m.model_dump(mode="json") for m in self.macros],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
        except OSError as exc:
            raise MacroError(
                f"The approved replies could not be saved to {self.path} ({exc.strerror}). "
                "Check free disk space and the folder's permissions; the file on disk is unchanged."
            ) from exc

    # -- reading and editing ---------------------------------------------------

    @property
    def macros(self) -> list[Macro]:
        with self._lock:
            return list(self._macros.values())

    def get(self, macro_id: str) -> Macro | None:
        with self._lock:
            return self._macros.get(macro_id)

    def add(self, macro: Macro) -> None:
        with self._lock:
            if macro.id in self._macros:
                raise MacroError(f"An approved reply with the id '{macro.id}' already exists.")
            self._change({**self._macros, macro.id: macro})

    def replace(self, macro: Macro, *, previous_id: str | None = None) -> None:
        """Add or update ``macro``; ``previous_id`` renames an existing one."""
        with self._lock:
            macros = dict(self._macros)
            if previous_id and previous_id != macro.id:
                if macro.id in macros:
                    raise MacroError(f"An approved reply with the id '{macro.id}' already exists.")
                macros = {(macro.id if k == previous_id else k): v for k, v in macros.items()}
            macros[macro.id] = macro
            self._change(macros)

    def delete(self, macro_id: str) -> bool:
        with self._lock:
            if macro_id not in self._macros:
                return False
            self._change({k: v for k, v in self._macros.items() if k != macro_id})
            return True

    def _change(self, macros: dict[str, Macro]) -> None:
        previous = self._macros
        self._macros = macros
        try:
            self.save()
        except MacroError:
            self._macros = previous
            raise
        self._index = None
        self.revision += 1

    def import_csv(self, path: Path) -> ImportReport:
        """Add new rows and update changed ones by id; bad rows are reported and skipped."""
        report = ImportReport(Path(path))
        macros, report.problems, report.warnings = read_macros_csv(Path(path))
        with self._lock:
            merged = dict(self._macros)
            for macro in macros:
                old = merged.get(macro.id)
                if old is None:
                    report.added += 1
                elif old == macro:
                    report.unchanged += 1
                else:
                    report.updated += 1
                merged[macro.id] = macro
            if report.added or report.updated:
                self._change(merged)
        log.info(
            "macro import: %d added, %d updated, %d unchanged, %d rows skipped",
            report.added,
            report.updated,
            report.unchanged,
            len(report.problems),
        )
        return report

    def export_csv(self, path: Path) -> int:
        """Write the library as CSV (UTF-8 with BOM, so spreadsheets show umlauts); rows written."""
        macros = self.macros
        try:
            with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(COLUMNS)
                for m in macros:
                    writer.writerow([m.id, m.title, m.text, m.language, ";".join(m.tags)])
        except OSError as exc:
            raise MacroError(f"Could not write {path} ({exc.strerror}).") from exc
        return len(macros)

    # -- matching -------------------------------------------------------------

    def index(self) -> MacroIndex:
        """Embed the macros once (and after every change); call early to keep ``match`` fast."""
        with self._lock:
            if self._index is None:
                cache = None
                if self.path is not None:
                    cache = VectorCache(self.path.with_name("macros.vectors.npz"))
                self._index = MacroIndex.build(list(self._macros.values()), cache=cache)
            return self._index

    def match(
        self,
        contact: Contact,
        k: int = 3,
        *,
        language: str | None = None,
        threshold: float | None = None,
        today: date | None = None,
        turns: TurnVectors | None = None,
    ) -> list[MacroMatch]:
        """Approved replies that fit the conversation, best first; none below the threshold.

        ``language`` forces the reply language (a profile with a fixed language);
        by default it is the customer's. ``turns`` shares the turn embeddings with the
        knowledge search of the same message.
        """
        index = self.index()
        query = conversation_query(contact, language)
        limit = self.threshold if threshold is None else threshold
        return [
            MacroMatch(
                index.macros[i],
                score,
                fill(
                    index.macros[i],
                    contact,
                    company=self.company,
                    agent_name=self.agent_name,
                    today=today,
                ),
            )
            for i, score in index.top(query, k, limit, turns=turns)
        ]


def _aside(path: Path, *, move: bool) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"macros.broken-{stamp}.json")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"macros.broken-{stamp}-{n}.json")
    if move:
        os.replace(path, target)
    else:
        shutil.copy2(path, target)
    return target


def _load(path: Path) -> tuple[list[Macro], list[str]]:
    """Macros from the file; an unreadable file is moved aside and reported."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [_broken(path, f"it is not readable JSON ({exc})")]
    if (
        not isinstance(raw, dict)
        or raw.get("format") != FORMAT
        or not isinstance(raw.get("macros"), list)
    ):
        return [], [_broken(path, f'it is not an approved-reply file (no "format": "{FORMAT}")')]
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise MacroError(
            f"{path} has format_version {version!r}, newer than this copilot reads "
            f"({FORMAT_VERSION}). Update the copilot; the file was left as it is."
        )
    macros, problems = [], []
    for number, item in enumerate(raw["macros"], start=1):
        try:
            macros.append(Macro.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            name = item.get("id", "?") if isinstance(item, dict) else "?"
            problems.append(f"approved reply {number} ('{name}'), {where}: {first['msg']}")
    if problems:
        kept = _aside(path, move=False)
        problems = [
            f"{len(problems)} approved replies in {path.name} are invalid and were left out; "
            f"the file as it was is kept at {kept}.",
            *problems,
        ]
    return macros, problems


def _broken(path: Path, why: str) -> str:
    target = _aside(path, move=True)
    log.warning("macro library unreadable; moved aside")
    return (
        f"The approved replies file could not be read: {why}. It was moved to {target}; "
        "the library starts empty. Restore it from a backup or import a CSV again."
    )
