"""The customer history as the rest of the product sees it: unlock, recognise, show, save.

Opening decides where the key comes from. A new store uses the OS keyring when one
is usable and a passphrase otherwise; an existing store keeps the way it was
created (recorded, without any secret, in ``history.json`` beside it).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from copilot.atomic_write import atomic_write
from copilot.contact import Contact
from copilot.errors import StoreError
from copilot.history.digest import Digest, make_digest
from copilot.history.importer import ImportReport, Progress, import_history
from copilot.history.keys import (
    PassphraseRequired,
    StoreKey,
    key_from_keyring,
    key_from_passphrase,
)
from copilot.history.records import (
    ContactRecord,
    ContactSummary,
    MessageRecord,
    guess_identifier_kind,
)
from copilot.history.store import Customer, HistoryStore, StoredContact
from copilot.os_keyring import usable_backend
from copilot.paths import resources_dir
from copilot.settings import Settings

log = logging.getLogger(__name__)

PASSPHRASE_ENV = "AGENT_COPILOT_HISTORY_PASSPHRASE"


def history_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "history"


def demo_customers_file() -> Path:
    return resources_dir() / "demo" / "customers.json"


@dataclass(frozen=True)
class Timeline:
    customer: Customer
    contacts: list[StoredContact]
    digest: Digest
    seconds: float = 0.0


@dataclass
class History:
    settings: Settings
    store: HistoryStore
    meta: dict[str, object] = field(default_factory=dict)

    # -- opening -------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, passphrase: str | None = None) -> History:
        """Unlock the store. Raises PassphraseRequired when the user must type one."""
        folder = history_dir(settings)
        db, meta = folder / "history.db", _read_meta(folder / "history.json")
        exists = db.exists() and db.stat().st_size > 0
        mode = str(meta.get("key", "")) if exists else ""
        passphrase = passphrase or os.environ.get(PASSPHRASE_ENV) or None
        key = _key(mode, exists, passphrase)
        store = HistoryStore.open(db, key)
        if not exists or not mode:
            meta["key"] = key.kind
            meta.setdefault("created", datetime.now(UTC).isoformat())
            _write_meta(folder / "history.json", meta)
        return cls(settings=settings, store=store, meta=meta)

    def close(self) -> None:
        self.store.close()

    @property
    def key_source(self) -> str:
        return self.store.key_source

    # -- demo and retention ----------------------------------------------------------
    def ensure_demo(self, progress: Progress | None = None) -> ImportReport | None:
        """Add the bundled demo customers once, to a new store (the embedded default)."""
        if not self.settings.history_demo or self.meta.get("demo_seeded"):
            return None
        if self.store.counts()["customers"]:
            return None
        source = demo_customers_file()
        latest = _latest_end(source)
        offset = (datetime.now(UTC) - timedelta(days=2)) - latest if latest else timedelta(0)
        report = import_history(self.store, source, progress, shift=lambda c: _shift(c, offset))
        self.meta["demo_seeded"] = True
        _write_meta(history_dir(self.settings) / "history.json", self.meta)
        return report

    def apply_retention(self) -> int:
        days = self.settings.history_retention_days
        return self.store.purge_older_than(days) if days else 0

    # -- reading ---------------------------------------------------------------------
    def recognise(self, contact: Contact) -> Customer | None:
        """The stored customer this contact comes from, by phone, email or handle."""
        ref = (contact.customer_identifier or "").strip()
        if not ref:
            return None
        return self.store.find(guess_identifier_kind(ref), ref)

    def timeline(self, customer_id: str) -> Timeline | None:
        started = time.perf_counter()
        customer = self.store.customer(customer_id)
        if customer is None:
            return None
        contacts = self.store.timeline(customer_id)
        digest = make_digest(contacts)
        return Timeline(customer, contacts, digest, time.perf_counter() - started)

    # -- writing ---------------------------------------------------------------------
    def save_live(
        self,
        contact: Contact,
        summary: ContactSummary,
        customer_id: str | None,
        agent: str = "",
    ) -> str:
        """Store the finished live contact with its (agent-approved) summary."""
        if customer_id is None:
            ids = []
            if contact.customer_identifier:
                ref = contact.customer_identifier
                ids = [(guess_identifier_kind(ref), ref)]
            customer_id = self.store.new_customer(contact.customer_name or "", ids).id
        record = ContactRecord(
            id=contact.id,
            channel=contact.channel,
            started_at=contact.started_at,
            ended_at=datetime.now(UTC),
            agent=agent,
            disposition=summary.disposition,
            messages=[MessageRecord(role=t.role, text=t.text, at=t.at) for t in contact.turns],
            summary=summary,
        )
        self.store.save_contact(customer_id, record, source="live")
        return customer_id


def messages_of(contact: Contact) -> list[MessageRecord]:
    return [MessageRecord(role=t.role, text=t.text, at=t.at) for t in contact.turns]


def _key(mode: str, exists: bool, passphrase: str | None) -> StoreKey:
    if mode == "passphrase" or (passphrase and not exists):
        if not passphrase:
            raise PassphraseRequired(
                "The history store is protected by a passphrase.", creating=False
            )
        return key_from_passphrase(passphrase)
    if mode == "raw" or not exists:
        backend, reason = usable_backend()
        if backend is None:
            if passphrase and not exists:
                return key_from_passphrase(passphrase)
            raise PassphraseRequired(reason, creating=not exists)
        return key_from_keyring(create=not exists)
    # an existing store without a note of its key: try the keyring, then a passphrase
    if passphrase:
        return key_from_passphrase(passphrase)
    return key_from_keyring(create=False)


def _read_meta(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_meta(path: Path, meta: dict[str, object]) -> None:
    try:
        atomic_write(path, json.dumps(meta, indent=1).encode("utf-8"))
    except OSError as exc:
        raise StoreError(
            f"Could not write {path} ({exc}). Free some disk space and retry."
        ) from exc


def _latest_end(path: Path) -> datetime | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        stamps = [
            datetime.fromisoformat(c.get("ended_at") or c["started_at"])
            for customer in raw["customers"]
            for c in customer.get("contacts", [])
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return max(stamps) if stamps else None


def _shift(contact: ContactRecord, offset: timedelta) -> ContactRecord:
    """Move a demo contact in time so the demo history always looks recent."""
    messages = [
        m.model_copy(update={"at": m.at + offset if m.at else None}) for m in contact.messages
    ]
    return contact.model_copy(
        update={
            "started_at": contact.started_at + offset,
            "ended_at": contact.ended_at + offset if contact.ended_at else None,
            "messages": messages,
        }
    )
