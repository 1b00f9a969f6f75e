"""Local analytics in SQLite: counts, times, edit distances; never any text.

The window records what agents do with suggestions (shown, inserted, edited,
dismissed, sent) and with knowledge hits, and supervisors read figures per day and
profile. Text that passes through (a suggestion, what the agent inserted or sent) is
reduced to numbers in ``events.py`` before anything is written, and the table has no
column that could hold it.

Recording never raises: analytics must not break a contact. A storage failure is
logged (without text) and kept in ``last_error`` for the window to show once.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec

from copilot.analytics.events import (
    Kind,
    Reason,
    Source,
    measure_edit,
    safe_language,
    safe_profile,
    safe_ref,
    similarity,
)
from copilot.analytics.report import EventRow, Report, build_report
from copilot.atomic_write import atomic_write
from copilot.errors import StoreError
from copilot.settings import Settings

log = logging.getLogger(__name__)

FILE_NAME = "analytics.sqlite3"
UNKNOWN_PROFILE = "unknown"


def _in(values: Any) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


MIGRATIONS: tuple[str, ...] = (
    # 1: one table of events; typed columns only, checked by the database too
    f"""
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        day TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        kind TEXT NOT NULL CHECK (kind IN ({_in(Kind)})),
        profile TEXT NOT NULL CHECK (length(profile) BETWEEN 1 AND 48),
        source TEXT CHECK (source IN ({_in(Source)})),
        ref TEXT NOT NULL DEFAULT '' CHECK (length(ref) <= 80),
        language TEXT NOT NULL DEFAULT '' CHECK (length(language) <= 12),
        first_token_ms REAL CHECK (first_token_ms >= 0),
        edit_distance INTEGER CHECK (edit_distance >= 0),
        edit_ratio REAL CHECK (edit_ratio BETWEEN 0 AND 1),
        similarity REAL CHECK (similarity BETWEEN 0 AND 1),
        up INTEGER CHECK (up IN (0, 1)),
        reason TEXT CHECK (reason IN ({_in(Reason)}))
    );
    CREATE INDEX events_day ON events(day, profile);
    """,
)
LATEST = len(MIGRATIONS)

_COLUMNS = (
    "id, day, kind, profile, source, ref, first_token_ms, edit_distance, edit_ratio, similarity, up"
)


def _check_version(conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > LATEST:
        raise StoreError(
            f"The analytics file was written by a newer copilot (schema {version}, this one "
            f"understands {LATEST}). Update the copilot; analytics are not recorded until then."
        )
    return version


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the file up to date; each step is one transaction, never half-applied."""
    version = _check_version(conn)
    for number in range(version, LATEST):
        conn.executescript(
            f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;"
        )


def _damaged(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text
    )


def _describe(exc: BaseException, doing: str) -> str:
    if isinstance(exc, StoreError):
        return exc.user_message
    text = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    if "full" in text.lower():
        return f"Analytics stopped recording: the disk is full ({doing}). Free some space."
    return (
        f"Analytics could not be saved ({doing}: {text}). Suggestions work as before; "
        "check that the data folder is writable."
    )


def _milliseconds(value: float | None) -> float | None:
    return max(float(value), 0.0) if value is not None and math.isfinite(value) else None


P = ParamSpec("P")


def _never_raises(
    method: Callable[Concatenate[Analytics, P], None],
) -> Callable[Concatenate[Analytics, P], None]:
    """Recording must not break a contact: a bad value is logged by type, never by text."""

    @functools.wraps(method)
    def record(self: Analytics, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(self, *args, **kwargs)
        except Exception as exc:  # its message may quote text: only the type is kept
            self._fail(method.__name__, exc, quiet=True)

    return record


def _local_now() -> datetime:
    return datetime.now().astimezone()


class Analytics:
    """The analytics file; opened lazily, so a workstation that never records has none.

    A damaged file (not a database, or a malformed image) is moved aside as
    ``analytics.broken-<time>.sqlite3`` and a new file is started: recording goes on,
    and the old figures are kept for IT to inspect or recover instead of being
    overwritten. A file from a newer copilot is left alone and nothing is recorded.
    """

    def __init__(self, path: Path, *, now: Callable[[], datetime] = _local_now) -> None:
        self.path = Path(path)
        self.last_error: str | None = None
        self._now = now
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    @classmethod
    def open(cls, settings: Settings, *, now: Callable[[], datetime] = _local_now) -> Analytics:
        """``now`` returns the local time (aware); tests pass a fixed clock."""
        return cls(Path(settings.data_dir) / FILE_NAME, now=now)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Analytics:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def take_error(self) -> str | None:
        """The last storage problem, cleared, so the window shows it once."""
        with self._lock:
            error, self.last_error = self.last_error, None
            return error

    # -- recording ---------------------------------------------------------------------
    @_never_raises
    def suggestion_shown(
        self,
        *,
        suggestion_id: str,
        profile: str,
        source: Source,
        first_token_ms: float | None,
        language: str = "",
    ) -> None:
        self._record(
            Kind.SHOWN,
            profile,
            source=Source(source),
            ref=safe_ref(suggestion_id),
            first_token_ms=_milliseconds(first_token_ms),
            language=safe_language(language),
        )

    @_never_raises
    def suggestion_inserted(
        self, *, suggestion_id: str, profile: str, source: Source, original: str, inserted: str
    ) -> None:
        """Only the edit distance and its ratio are kept; edited means distance > 0."""
        edit = measure_edit(original, inserted)
        self._record(
            Kind.INSERTED,
            profile,
            source=Source(source),
            ref=safe_ref(suggestion_id),
            edit_distance=edit.distance,
            edit_ratio=edit.ratio,
        )

    @_never_raises
    def suggestion_dismissed(self, *, suggestion_id: str, profile: str, source: Source) -> None:
        self._record(Kind.DISMISSED, profile, source=Source(source), ref=safe_ref(suggestion_id))

    @_never_raises
    def reply_sent(self, *, profile: str, suggested: str | None, sent: str) -> None:
        """Similarity of the sent reply to the last suggestion; none when there was none."""
        value = similarity(suggested, sent) if suggested is not None else None
        self._record(Kind.SENT, profile, similarity=value)

    @_never_raises
    def kb_opened(self, *, profile: str, doc_id: str) -> None:
        self._record(Kind.KB_OPENED, profile, source=Source.KB, ref=safe_ref(doc_id))

    @_never_raises
    def feedback(
        self,
        *,
        target: Source,
        profile: str,
        up: bool,
        reason: Reason | None = None,
        ref: str = "",
    ) -> None:
        self._record(
            Kind.FEEDBACK,
            profile,
            source=Source(target),
            up=int(bool(up)),
            reason=Reason(reason) if reason is not None else None,
            ref=safe_ref(ref),
        )

    def _record(self, kind: Kind, profile: str, **values: Any) -> None:
        moment = self._now()
        row: dict[str, Any] = {
            "at": moment.astimezone(UTC).isoformat(timespec="milliseconds"),
            "day": moment.date().isoformat(),
            "kind": kind.value,
            "profile": safe_profile(profile) if profile else UNKNOWN_PROFILE,
            **{k: (v.value if isinstance(v, Source | Reason) else v) for k, v in values.items()},
        }
        sql = f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        with self._lock:
            for attempt in (1, 2):
                try:
                    conn = self._connection(create=True)
                    if conn is not None:
                        conn.execute(sql, tuple(row.values()))
                    return
                except (sqlite3.Error, OSError, StoreError) as exc:
                    if attempt == 1 and _damaged(exc):
                        self._set_aside()
                        continue
                    self._fail("saving an event", exc)
                    return

    def _fail(self, doing: str, exc: BaseException, *, quiet: bool = False) -> None:
        """Keep and log a problem once; ``quiet`` names only the error's type (a bad
        value's message may quote the value)."""
        if quiet:
            message = f"Analytics ignored an event ({doing}: {type(exc).__name__})."
        else:
            message = _describe(exc, doing)
        if message != self.last_error:
            log.warning("analytics: %s", message)
        self.last_error = message

    # -- reading -------------------------------------------------------------------------
    def report(
        self, days: int = 30, profile: str | None = None, today: date | None = None
    ) -> Report:
        """Figures for the last ``days`` days up to ``today`` (local dates, inclusive)."""
        end = today or self._now().date()
        start = end - timedelta(days=max(days, 1) - 1)
        rows: list[EventRow] = []
        with self._lock:
            try:
                conn = self._connection(create=False)
                if conn is not None:
                    cursor = conn.execute(
                        f"SELECT {_COLUMNS} FROM events WHERE day BETWEEN ? AND ? ORDER BY id",
                        (start.isoformat(), end.isoformat()),
                    )
                    rows = [_event(values) for values in cursor]
            except (sqlite3.Error, OSError) as exc:
                if _damaged(exc):
                    self._set_aside()
                    return build_report([], start=start, end=end, profile=profile)
                raise StoreError(_describe(exc, "reading the figures"), detail=str(exc)) from exc
        return build_report(rows, start=start, end=end, profile=profile)

    def export_csv(self, path: Path, days: int = 30) -> int:
        """Per-day and per-profile figures as CSV, written atomically; rows written."""
        text, count = self.report(days).to_csv()
        path = Path(path)
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as exc:
            raise StoreError(
                f"The CSV file {path} could not be written ({exc.strerror or exc}). "
                "Pick another folder or file name.",
                detail=str(exc),
            ) from exc
        return count

    # -- the file --------------------------------------------------------------------------
    def _connection(self, *, create: bool) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if not create and not self.path.exists():
            return None
        self._create_file()
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise
            self._set_aside()
            self._create_file()
            self._conn = self._connect()
        return self._conn

    def _create_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=5.0
        )
        try:
            _check_version(conn)  # before WAL, which rewrites the header of a newer file
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            _migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_aside(self) -> None:
        kept = self._quarantine()
        self.last_error = (
            f"The analytics file was damaged; it was kept as {kept.name} and a new one "
            "was started. The earlier figures are in the kept file."
        )
        log.warning("analytics: damaged file moved aside as %s", kept.name)

    def _quarantine(self) -> Path:
        """Move a damaged file (and its WAL) aside, keeping it; returns the new name."""
        self.close()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"analytics.broken-{stamp}.sqlite3")
        number = 1
        while kept.exists():
            number += 1
            kept = self.path.with_name(f"analytics.broken-{stamp}-{number}.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                source.replace(Path(f"{kept}{suffix}"))
        return kept


def _event(values: tuple[Any, ...]) -> EventRow:
    row_id, day, kind, profile, source, ref, first_ms, distance, ratio, sim, up = values
    return EventRow(
        id=row_id,
        day=date.fromisoformat(day),
        kind=kind,
        profile=profile,
        source=source,
        ref=ref,
        first_token_ms=first_ms,
        edit_distance=distance,
        edit_ratio=ratio,
        similarity=sim,
        up=up,
    )
