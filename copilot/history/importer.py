"""Import earlier contacts from JSON or CSV, with a report line for every bad row.

Each contact is written in its own transaction together with its customer and an
instant extractive summary, so an import killed at any point leaves whole contacts
only; running it again skips what is already stored and carries on.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copilot.errors import StoreError
from copilot.history.extractive import summarise_extractive
from copilot.history.records import (
    CSV_COLUMNS,
    FORMAT_VERSION,
    ContactRecord,
    CustomerRecord,
    Identifiers,
)
from copilot.history.store import HistoryStore

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 200 * 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    path: Path
    contacts_added: int = 0
    contacts_existing: int = 0
    customers: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        head = (
            f"{self.path.name}: {self.contacts_added} contacts imported, "
            f"{self.contacts_existing} already stored, {self.customers} customers, "
            f"{len(self.problems)} problems"
        )
        return [head, *(f"  error: {p}" for p in self.problems)] + [
            f"  warning: {w}" for w in self.warnings
        ]


@dataclass
class _Batch:
    customer: CustomerRecord
    contacts: list[ContactRecord]


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "value"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise StoreError(f"The file {path} does not exist.") from None
    except OSError as exc:
        raise StoreError(f"The file {path} cannot be read ({exc}).") from None
    if size > MAX_FILE_BYTES:
        raise StoreError(f"The file {path} is larger than 200 MB; split it and import the parts.")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StoreError(
            f"The file {path} is not UTF-8 text. Save it as UTF-8 and retry."
        ) from None
    except OSError as exc:
        raise StoreError(f"The file {path} cannot be read ({exc}).") from None


def parse_json(text: str, path: Path, report: ImportReport) -> list[_Batch]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path.name} is not valid JSON ({exc}).") from None
    if isinstance(raw, list):
        raw = {"format": FORMAT_VERSION, "customers": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("customers"), list):
        raise StoreError(
            f'{path.name} is not a history file: expected {{"format": 1, "customers": [...]}}.'
        )
    if raw.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        raise StoreError(f"{path.name} has format {raw.get('format')}; this copilot reads 1.")
    batches = []
    for index, item in enumerate(raw["customers"]):
        where = f"customers[{index}]"
        batch = _parse_customer(item, where, report)
        if batch is not None:
            batches.append(batch)
    return batches


def _parse_customer(item: Any, where: str, report: ImportReport) -> _Batch | None:
    if not isinstance(item, dict):
        report.problems.append(f"{where}: not an object; skipped")
        return None
    head = {k: v for k, v in item.items() if k != "contacts"}
    try:
        customer = CustomerRecord.model_validate(head)
    except ValidationError as exc:
        report.problems.append(f"{where}: {_explain(exc)}; customer skipped")
        return None
    where = f"{where} ({customer.id})"
    contacts = []
    raw_contacts = item.get("contacts", [])
    if not isinstance(raw_contacts, list):
        report.problems.append(f"{where}.contacts: not a list; skipped")
        raw_contacts = []
    for index, raw_contact in enumerate(raw_contacts):
        try:
            contacts.append(ContactRecord.model_validate(raw_contact))
        except ValidationError as exc:
            report.problems.append(f"{where}.contacts[{index}]: {_explain(exc)}; contact skipped")
    return _Batch(customer, contacts)


def parse_csv(text: str, path: Path, report: ImportReport) -> list[_Batch]:
    """One message per row; rows of a contact share customer_id and contact_id."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"customer_id", "contact_id", "channel", "started_at", "role", "text"} - set(
        reader.fieldnames or []
    )
    if missing:
        raise StoreError(
            f"{path.name} lacks the columns {', '.join(sorted(missing))}. "
            f"Expected columns: {', '.join(CSV_COLUMNS)}."
        )
    groups: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = {}
    for line, row in enumerate(reader, start=2):
        key = ((row.get("customer_id") or "").strip(), (row.get("contact_id") or "").strip())
        if not all(key):
            report.problems.append(f"line {line}: customer_id and contact_id are required")
            continue
        groups.setdefault(key, []).append((line, row))
    batches: dict[str, _Batch] = {}
    for (customer_id, _), rows in groups.items():
        batch = _csv_contact(customer_id, rows, report)
        if batch is None:
            continue
        if customer_id in batches:
            batches[customer_id].contacts += batch.contacts
        else:
            batches[customer_id] = batch
    return list(batches.values())


def _csv_contact(
    customer_id: str, rows: list[tuple[int, dict[str, str]]], report: ImportReport
) -> _Batch | None:
    first_line, first = rows[0]
    try:
        identifiers = Identifiers.model_validate(
            {k: first.get(k) or "" for k in ("phone", "email", "handle")}
        )
        customer = CustomerRecord(
            id=customer_id, name=(first.get("customer_name") or "").strip(), identifiers=identifiers
        )
        contact = ContactRecord.model_validate(
            {
                "id": first["contact_id"].strip(),
                "channel": first.get("channel"),
                "started_at": first.get("started_at"),
                "ended_at": first.get("ended_at") or None,
                "agent": first.get("agent") or "",
                "disposition": first.get("disposition") or None,
                "messages": [
                    {"role": r.get("role"), "text": r.get("text") or "", "at": r.get("at") or None}
                    for _, r in rows
                ],
            }
        )
    except ValidationError as exc:
        lines = f"lines {first_line}-{rows[-1][0]}" if len(rows) > 1 else f"line {first_line}"
        report.problems.append(f"{lines} (contact {first.get('contact_id')}): {_explain(exc)}")
        return None
    return _Batch(customer, [contact])


def read_history_file(path: Path, report: ImportReport) -> list[_Batch]:
    text = _read_text(path)
    if path.suffix.lower() == ".csv":
        return parse_csv(text, path, report)
    return parse_json(text, path, report)


def import_history(
    store: HistoryStore,
    path: Path,
    progress: Progress | None = None,
    shift: Callable[[ContactRecord], ContactRecord] | None = None,
) -> ImportReport:
    """Import a file into the store; skips contacts already there (so it resumes)."""
    path = Path(path)
    report = ImportReport(path)
    batches = read_history_file(path, report)
    total = sum(len(b.contacts) for b in batches)
    done = 0
    for batch in batches:
        report.customers += 1
        if not batch.contacts:
            with store.transaction("importing the customer") as conn:
                report.warnings += store.upsert_customer(
                    conn, batch.customer.id, batch.customer.name, batch.customer.identifiers.pairs()
                )
        for contact in batch.contacts:
            _import_contact(store, batch.customer, shift(contact) if shift else contact, report)
            done += 1
            if progress:
                progress(done, total)
    log.info(
        "history import: %d added, %d existing", report.contacts_added, report.contacts_existing
    )
    return report


def _import_contact(
    store: HistoryStore, customer: CustomerRecord, contact: ContactRecord, report: ImportReport
) -> None:
    owner = store.has_contact(contact.id)
    if owner is not None:
        if owner == customer.id:
            report.contacts_existing += 1
        else:
            report.problems.append(
                f"contact {contact.id} is already stored for customer {owner}; skipped"
            )
        return
    if contact.summary is None:
        contact = contact.model_copy(update={"summary": summarise_extractive(contact.messages)})
    with store.transaction("importing the contact") as conn:
        warnings = store.upsert_customer(
            conn, customer.id, customer.name, customer.identifiers.pairs()
        )
        store.add_contact(conn, customer.id, contact)
    report.warnings += [w for w in warnings if w not in report.warnings]
    report.contacts_added += 1
