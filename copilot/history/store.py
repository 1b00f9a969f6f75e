"""The encrypted customer history store: SQLCipher (AES-256) over SQLite, in WAL mode.

One connection, one lock: the window reads the timeline on the GUI thread (a few
milliseconds) while workers save contacts and summaries. Every write is one
transaction, so a process killed mid-import leaves whole contacts or none.
``secure_delete`` zeroes freed pages, so a forgotten customer's text does not linger
in free space of the (encrypted) file.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copilot.errors import StoreError
from copilot.history.keys import StoreKey
from copilot.history.records import (
    ContactRecord,
    ContactSummary,
    IdentifierKind,
    MessageRecord,
    normalise_identifier,
)
from copilot.history.schema import migrate

log = logging.getLogger(__name__)

DISK_FULL_HINT = "Free some disk space and try again; nothing already saved was lost."


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    identifiers: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        first = self.identifiers[0][1] if self.identifiers else self.id
        return self.name or first


@dataclass(frozen=True)
class StoredContact:
    id: str
    customer_id: str
    channel: str
    started_at: datetime
    ended_at: datetime | None
    agent: str
    disposition: str | None
    summary: ContactSummary | None = None
    summary_model: str = ""


@dataclass
class ForgetReport:
    customer_id: str
    contacts: int = 0
    messages: int = 0
    summaries: int = 0
    identifiers: int = 0


def _translate(exc: Exception, doing: str) -> StoreError:
    text = str(exc)
    if "full" in text.lower():
        return StoreError(f"The disk is full, so {doing} failed. {DISK_FULL_HINT}", detail=text)
    if "not a database" in text.lower():
        return StoreError(
            "The customer history store could not be opened: the key or passphrase is wrong, "
            "or the file is damaged.",
            detail=text,
        )
    return StoreError(f"The customer history store failed while {doing} ({text}).", detail=text)


@dataclass
class HistoryStore:
    path: Path
    key_source: str
    _conn: Any
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- opening -----------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, key: StoreKey) -> HistoryStore:
        """Open (or create) the store; a wrong key is a StoreError, never a new empty file."""
        from sqlcipher3 import dbapi2 as sqlcipher

        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600, exist_ok=True)
            conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None)
        except (OSError, sqlcipher.Error) as exc:
            raise _translate(exc, "opening it") from exc
        try:
            conn.execute(f"PRAGMA key = {key.pragma()}")
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")
            migrate(conn)
        except StoreError:
            conn.close()
            raise
        except sqlcipher.Error as exc:
            conn.close()
            raise _translate(exc, "opening it") from exc
        return cls(path=path, key_source=key.source, _conn=conn)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def transaction(self, doing: str = "saving") -> Iterator[Any]:
        """One atomic write: everything inside commits together or not at all."""
        from sqlcipher3 import dbapi2 as sqlcipher

        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlcipher.Error as exc:
                raise _translate(exc, doing) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                # SQLite has already rolled back after some errors (a full disk, for one)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlcipher.Error):
                    raise _translate(exc, doing) from exc
                raise

    def _require(self) -> Any:
        if self._conn is None:
            raise StoreError("The customer history store is closed.")
        return self._conn

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        from sqlcipher3 import dbapi2 as sqlcipher

        with self._lock:
            try:
                return list(self._require().execute(sql, params).fetchall())
            except sqlcipher.Error as exc:
                raise _translate(exc, "reading") from exc

    # -- customers -----------------------------------------------------------------
    def find(self, kind: IdentifierKind, value: str) -> Customer | None:
        rows = self._read(
            "SELECT customer_id FROM identifiers WHERE kind = ? AND value = ?",
            (kind.value, normalise_identifier(kind, value)),
        )
        return self.customer(rows[0][0]) if rows else None

    def customer(self, customer_id: str) -> Customer | None:
        rows = self._read("SELECT id, name FROM customers WHERE id = ?", (customer_id,))
        if not rows:
            return None
        ids = self._read(
            "SELECT kind, value FROM identifiers WHERE customer_id = ? ORDER BY kind, value",
            (customer_id,),
        )
        return Customer(id=rows[0][0], name=rows[0][1], identifiers=tuple(map(tuple, ids)))

    def search(self, text: str, limit: int = 8) -> list[Customer]:
        """Customers whose name or any identifier contains ``text`` (the picker's completer)."""
        needle = f"%{text.strip().casefold().lstrip('@')}%"
        digits = "".join(c for c in text if c.isdigit())
        rows = self._read(
            "SELECT DISTINCT c.id FROM customers c LEFT JOIN identifiers i ON i.customer_id = c.id "
            "WHERE lower(c.name) LIKE ? OR i.value LIKE ? OR (? != '' AND i.kind = 'phone' "
            "AND i.value LIKE ?) ORDER BY c.name LIMIT ?",
            (needle, needle, digits, f"%{digits}%", limit),
        )
        return [c for c in (self.customer(r[0]) for r in rows) if c is not None]

    def customers(self) -> list[Customer]:
        rows = self._read("SELECT id FROM customers ORDER BY name, id")
        return [c for c in (self.customer(r[0]) for r in rows) if c is not None]

    def upsert_customer(
        self,
        conn: Any,
        customer_id: str,
        name: str,
        identifiers: list[tuple[IdentifierKind, str]],
    ) -> list[str]:
        """Create or update a customer inside a transaction; returns warnings, never merges."""
        now = _now()
        conn.execute(
            "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = CASE WHEN excluded.name != '' "
            "THEN excluded.name ELSE customers.name END, updated_at = excluded.updated_at",
            (customer_id, name, now, now),
        )
        warnings = []
        for kind, value in identifiers:
            value = normalise_identifier(kind, value)
            row = conn.execute(
                "SELECT customer_id FROM identifiers WHERE kind = ? AND value = ?",
                (kind.value, value),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO identifiers (kind, value, customer_id) VALUES (?, ?, ?)",
                    (kind.value, value, customer_id),
                )
            elif row[0] != customer_id:
                warnings.append(
                    f"{kind.value} {value} already belongs to customer {row[0]}; not linked"
                )
        return warnings

    def new_customer(self, name: str, identifiers: list[tuple[IdentifierKind, str]]) -> Customer:
        customer_id = "cust-" + uuid.uuid4().hex[:12]
        with self.transaction("creating the customer") as conn:
            self.upsert_customer(conn, customer_id, name, identifiers)
        found = self.customer(customer_id)
        assert found is not None
        return found

    # -- contacts ------------------------------------------------------------------
    def has_contact(self, contact_id: str) -> str | None:
        rows = self._read("SELECT customer_id FROM contacts WHERE id = ?", (contact_id,))
        return rows[0][0] if rows else None

    def add_contact(
        self, conn: Any, customer_id: str, record: ContactRecord, source: str = "import"
    ) -> None:
        """Insert a contact with its messages (and summary) inside the caller's transaction."""
        conn.execute(
            "INSERT INTO contacts (id, customer_id, channel, started_at, ended_at, agent, "
            "disposition, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                customer_id,
                record.channel.value,
                _iso(record.started_at),
                _iso(record.ended_at),
                record.agent,
                record.disposition.value if record.disposition else None,
                source,
            ),
        )
        conn.executemany(
            "INSERT INTO messages (contact_id, seq, role, text, at) VALUES (?, ?, ?, ?, ?)",
            [
                (record.id, seq, m.role.value, m.text, _iso(m.at))
                for seq, m in enumerate(record.messages)
            ],
        )
        if record.summary is not None:
            self._put_summary(conn, record.id, record.summary, "")

    def save_contact(self, customer_id: str, record: ContactRecord, source: str = "live") -> None:
        with self.transaction("saving the contact") as conn:
            self.add_contact(conn, customer_id, record, source)

    def messages(self, contact_id: str) -> list[MessageRecord]:
        rows = self._read(
            "SELECT role, text, at FROM messages WHERE contact_id = ? ORDER BY seq", (contact_id,)
        )
        return [MessageRecord(role=r[0], text=r[1], at=_dt(r[2])) for r in rows]

    def timeline(self, customer_id: str, limit: int = 50) -> list[StoredContact]:
        """Earlier contacts, newest first, with their stored summaries."""
        rows = self._read(
            "SELECT c.id, c.customer_id, c.channel, c.started_at, c.ended_at, c.agent, "
            "c.disposition, s.body, s.model FROM contacts c LEFT JOIN summaries s "
            "ON s.contact_id = c.id WHERE c.customer_id = ? ORDER BY c.started_at DESC LIMIT ?",
            (customer_id, limit),
        )
        return [self._contact(r) for r in rows]

    def contact(self, contact_id: str) -> StoredContact | None:
        rows = self._read(
            "SELECT c.id, c.customer_id, c.channel, c.started_at, c.ended_at, c.agent, "
            "c.disposition, s.body, s.model FROM contacts c LEFT JOIN summaries s "
            "ON s.contact_id = c.id WHERE c.id = ?",
            (contact_id,),
        )
        return self._contact(rows[0]) if rows else None

    @staticmethod
    def _contact(row: Any) -> StoredContact:
        summary = ContactSummary.model_validate_json(row[7]) if row[7] else None
        started = _dt(row[3])
        assert started is not None
        return StoredContact(
            id=row[0],
            customer_id=row[1],
            channel=row[2],
            started_at=started,
            ended_at=_dt(row[4]),
            agent=row[5],
            disposition=row[6],
            summary=summary,
            summary_model=row[8] or "",
        )

    # -- summaries -----------------------------------------------------------------
    def _put_summary(self, conn: Any, contact_id: str, summary: ContactSummary, model: str) -> None:
        conn.execute(
            "INSERT INTO summaries (contact_id, body, method, model, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(contact_id) DO UPDATE SET body = excluded.body, "
            "method = excluded.method, model = excluded.model, created_at = excluded.created_at",
            (contact_id, summary.model_dump_json(), summary.method.value, model, _now()),
        )

    def save_summary(self, contact_id: str, summary: ContactSummary, model: str = "") -> None:
        with self.transaction("saving the summary") as conn:
            self._put_summary(conn, contact_id, summary, model)

    def contacts_needing_summary(self, methods: tuple[str, ...] = ()) -> list[str]:
        """Contacts with no summary, or one made by a method in ``methods`` (to upgrade)."""
        marks = ",".join("?" for _ in methods) or "''"
        rows = self._read(
            "SELECT c.id FROM contacts c LEFT JOIN summaries s ON s.contact_id = c.id "
            f"WHERE s.contact_id IS NULL OR s.method IN ({marks}) ORDER BY c.started_at DESC",
            tuple(methods),
        )
        return [r[0] for r in rows]

    # -- privacy -------------------------------------------------------------------
    def forget(self, customer_id: str) -> ForgetReport:
        """Erase a customer and everything derived from them, then rewrite the file."""
        report = ForgetReport(customer_id)
        with self.transaction("erasing the customer") as conn:
            contact_ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM contacts WHERE customer_id = ?", (customer_id,)
                ).fetchall()
            ]
            for cid in contact_ids:
                report.messages += conn.execute(
                    "DELETE FROM messages WHERE contact_id = ?", (cid,)
                ).rowcount
                report.summaries += conn.execute(
                    "DELETE FROM summaries WHERE contact_id = ?", (cid,)
                ).rowcount
            report.contacts = conn.execute(
                "DELETE FROM contacts WHERE customer_id = ?", (customer_id,)
            ).rowcount
            report.identifiers = conn.execute(
                "DELETE FROM identifiers WHERE customer_id = ?", (customer_id,)
            ).rowcount
            conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
        self.compact()
        return report

    def compact(self) -> None:
        """Fold the WAL into the file and rebuild it, leaving no freed pages behind."""
        from sqlcipher3 import dbapi2 as sqlcipher

        with self._lock:
            conn = self._require()
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlcipher.Error as exc:
                raise _translate(exc, "compacting") from exc

    def purge_older_than(self, days: int, now: datetime | None = None) -> int:
        """Retention: delete contacts that started more than ``days`` days ago."""
        cutoff = _iso((now or datetime.now(UTC)) - timedelta(days=days))
        with self.transaction("applying the retention period") as conn:
            removed = conn.execute("DELETE FROM contacts WHERE started_at < ?", (cutoff,)).rowcount
            # a customer left with no contacts is only personal data: it goes too
            conn.execute(
                "DELETE FROM customers WHERE updated_at < ? AND id NOT IN "
                "(SELECT DISTINCT customer_id FROM contacts)",
                (cutoff,),
            )
        if removed:
            self.compact()
        return int(removed)

    def counts(self) -> dict[str, int]:
        tables = ("customers", "identifiers", "contacts", "messages", "summaries")
        return {t: int(self._read(f"SELECT count(*) FROM {t}")[0][0]) for t in tables}

    def export_customer(self, customer_id: str) -> dict[str, Any]:
        """Everything stored about one customer, in the import format (right of access)."""
        customer = self.customer(customer_id)
        if customer is None:
            raise StoreError(f"There is no customer '{customer_id}' in the history store.")
        identifiers: dict[str, list[str]] = {"phone": [], "email": [], "handle": []}
        for kind, value in customer.identifiers:
            identifiers[kind].append(value)
        contacts = []
        for stored in reversed(self.timeline(customer_id, limit=1_000_000)):
            contacts.append(
                {
                    "id": stored.id,
                    "channel": stored.channel,
                    "started_at": _iso(stored.started_at),
                    "ended_at": _iso(stored.ended_at),
                    "agent": stored.agent,
                    "disposition": stored.disposition,
                    "messages": [
                        json.loads(m.model_dump_json(exclude_none=True))
                        for m in self.messages(stored.id)
                    ],
                    "summary": json.loads(stored.summary.model_dump_json())
                    if stored.summary
                    else None,
                }
            )
        return {
            "format": 1,
            "customers": [
                {
                    "id": customer.id,
                    "name": customer.name,
                    "identifiers": identifiers,
                    "contacts": contacts,
                }
            ],
        }
