"""The encrypted history store through real SQLCipher and a real (file) keyring backend."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest

from copilot.contact import Contact
from copilot.errors import PrivacyError, StoreError
from copilot.history.importer import import_history
from copilot.history.keys import KEY_ENTRY, PassphraseRequired
from copilot.history.records import ContactSummary, IdentifierKind, SummaryMethod
from copilot.history.schema import LATEST
from copilot.history.service import History, history_dir
from copilot.os_keyring import SERVICE, usable_backend
from copilot.settings import Settings
from tests.conftest import use_keyring_backend
from tests.history_fixtures import contact, customer, decrypted_pages, write_history


@pytest.fixture
def settings() -> Settings:
    return Settings(history_demo=False)


@pytest.fixture
def history(settings: Settings) -> History:
    opened = History.open(settings)
    yield opened
    opened.close()


def _two_customers(tmp_path: Path) -> Path:
    return write_history(
        tmp_path / "h.json",
        [
            customer(
                "c-ann",
                "Ann Example",
                "ann@example.com",
                "+44 20 7946 0001",
                [contact("a1", 1, "email"), contact("a2", 5, "phone", "follow-up")],
                handle="@ann.cooks",
            ),
            customer("c-bob", "Bob Example", "bob@example.com", contacts=[contact("b1", 3)]),
        ],
    )


def test_new_store_key_lives_in_keyring_and_file_is_encrypted(history: History, tmp_path: Path):
    secret = keyring.get_password(SERVICE, KEY_ENTRY)
    assert secret and len(secret) == 64
    import_history(history.store, _two_customers(tmp_path))
    history.store.compact()
    raw = history.store.path.read_bytes()
    assert b"SQLite format 3" not in raw and b"Ann Example" not in raw and b"blender" not in raw
    assert secret.encode() not in raw
    meta = (history_dir(history.settings) / "history.json").read_text()
    assert secret not in meta and '"raw"' in meta
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(history.store.path).execute("SELECT * FROM customers").fetchall()
    assert history.store._read("PRAGMA journal_mode")[0][0] == "wal"
    assert history.store._read("PRAGMA user_version")[0][0] == LATEST


def test_reopen_reads_back_and_wrong_key_is_a_clear_error(settings: Settings, tmp_path: Path):
    first = History.open(settings)
    import_history(first.store, _two_customers(tmp_path))
    first.close()
    again = History.open(settings)
    assert again.store.counts()["contacts"] == 3
    again.close()
    keyring.set_password(SERVICE, KEY_ENTRY, "ab" * 32)
    with pytest.raises(StoreError, match="key or passphrase is wrong"):
        History.open(settings)
    keyring.delete_password(SERVICE, KEY_ENTRY)
    with pytest.raises(StoreError, match="missing from the OS keyring"):
        History.open(settings)


def test_no_keyring_asks_for_a_passphrase(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    use_keyring_backend("keyring.backends.fail.Keyring", monkeypatch)
    with pytest.raises(PassphraseRequired) as info:
        History.open(settings)
    assert info.value.creating and "passphrase" in info.value.user_message
    with pytest.raises(PrivacyError, match="at least 8"):
        History.open(settings, passphrase="short")
    created = History.open(settings, passphrase="correct horse battery")
    created.store.new_customer("Dana", [(IdentifierKind.EMAIL, "dana@example.com")])
    created.close()
    with pytest.raises(PassphraseRequired) as info:
        History.open(settings)
    assert not info.value.creating
    with pytest.raises(StoreError, match="wrong"):
        History.open(settings, passphrase="wrong horse battery")
    reopened = History.open(settings, passphrase="correct horse battery")
    assert reopened.store.find(IdentifierKind.EMAIL, "DANA@example.com") is not None
    reopened.close()


def test_a_plaintext_keyring_is_not_used_unless_chosen(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    import keyring.core
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setattr(keyring.core, "load_config", lambda: None)
    keyring.set_keyring(PlaintextKeyring())
    backend, reason = usable_backend()
    assert backend is None and "does not protect secrets" in reason


def test_import_reports_bad_rows_and_resumes_without_duplicates(history: History, tmp_path: Path):
    good = _two_customers(tmp_path)
    data = json.loads(good.read_text())
    broken = contact("a3", 7)
    broken["channel"] = "fax"
    backwards = contact("a4", 8)
    backwards["ended_at"] = "2026-01-01T00:00:00+00:00"
    data["customers"][0]["contacts"] += [broken, backwards]
    data["customers"].append({"name": "no id"})
    good.write_text(json.dumps(data))
    report = import_history(history.store, good)
    assert report.contacts_added == 3
    text = "\n".join(report.lines())
    assert "contacts[2]" in text and "channel" in text
    assert "contacts[3]" in text and "ended_at is before started_at" in text
    assert "customers[2]" in text
    again = import_history(history.store, good)
    assert again.contacts_added == 0 and again.contacts_existing == 3
    assert history.store.counts()["contacts"] == 3


def test_csv_import_groups_rows_into_contacts(history: History, tmp_path: Path):
    path = tmp_path / "h.csv"
    path.write_text(
        "customer_id,customer_name,phone,email,handle,contact_id,channel,started_at,ended_at,"
        "agent,disposition,role,text,at\n"
        "k1,Kim,+49 30 5550 0001,kim@example.com,,x1,phone,2026-11-01T10:00:00Z,,Lea,resolved,"
        "customer,My toaster stopped working.,\n"
        "k1,Kim,+49 30 5550 0001,kim@example.com,,x1,phone,2026-11-01T10:00:00Z,,Lea,resolved,"
        "agent,I have booked a free repair.,\n"
        "k1,Kim,,,,x2,chat,not a date,,Lea,,customer,Hello?,\n"
        ",Kim,,,,x3,chat,2026-11-02T10:00:00Z,,Lea,,customer,Hi,\n",
        encoding="utf-8",
    )
    report = import_history(history.store, path)
    assert report.contacts_added == 1
    assert any("line 4" in p and "started_at" in p for p in report.problems)
    assert any("line 5" in p for p in report.problems)
    found = history.store.find(IdentifierKind.PHONE, "0049 30 55500001")
    assert found is not None and found.name == "Kim"
    assert [m.text for m in history.store.messages("x1")] == [
        "My toaster stopped working.",
        "I have booked a free repair.",
    ]


def test_unreadable_files_are_clear_errors(history: History, tmp_path: Path):
    with pytest.raises(StoreError, match="does not exist"):
        import_history(history.store, tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        import_history(history.store, bad)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(StoreError, match="UTF-8"):
        import_history(history.store, binary)
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(StoreError, match="lacks the columns"):
        import_history(history.store, odd)


def test_identifier_belonging_to_someone_else_is_not_merged(history: History, tmp_path: Path):
    import_history(history.store, _two_customers(tmp_path))
    clash = write_history(
        tmp_path / "clash.json",
        [customer("c-eve", "Eve", "ann@example.com", contacts=[contact("e1", 2)])],
    )
    report = import_history(history.store, clash)
    assert any("already belongs to customer c-ann" in w for w in report.warnings)
    found = history.store.find(IdentifierKind.EMAIL, "ann@example.com")
    assert found is not None and found.id == "c-ann"


def test_timeline_and_digest_across_channels(history: History, tmp_path: Path):
    import_history(history.store, _two_customers(tmp_path))
    live = Contact(customer_identifier="+44 (20) 7946-0001")
    found = history.recognise(live)
    assert found is not None and found.id == "c-ann"
    assert history.recognise(Contact(customer_identifier="@Ann.Cooks")) == found
    timeline = history.timeline("c-ann")
    assert timeline is not None
    assert [c.id for c in timeline.contacts] == ["a2", "a1"]
    assert all(c.summary is not None for c in timeline.contacts)
    assert "2 earlier contacts" in timeline.digest.headline
    assert "email" in timeline.digest.headline and "phone" in timeline.digest.headline
    assert timeline.digest.points and timeline.digest.points[0].startswith("Open (follow up")
    assert timeline.seconds < 1.0


def test_forget_leaves_nothing_in_any_page_of_the_file(history: History, tmp_path: Path):
    import_history(history.store, _two_customers(tmp_path))
    history.store.save_summary(
        "a1", ContactSummary(reason="Ann's jug QQ-UNIQUE-77", method=SummaryMethod.EDITED)
    )
    key = keyring.get_password(SERVICE, KEY_ENTRY)
    before = decrypted_pages(history.store.path, key)
    history.store.compact()
    before = decrypted_pages(history.store.path, key)
    assert b"Ann Example" in before and b"QQ-UNIQUE-77" in before  # the check can see text
    report = history.store.forget("c-ann")
    assert (report.contacts, report.identifiers) == (2, 3)
    after = decrypted_pages(history.store.path, key)
    for needle in (
        b"Ann Example",
        b"ann@example.com",
        b"ann.cooks",
        b"QQ-UNIQUE-77",
        b"ZX-00001",
        b"+442079460001",
        b"c-ann",
    ):
        assert needle not in after, needle
    wal = history.store.path.with_name("history.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert b"Bob Example" in after  # the other customer is untouched
    assert history.store.customer("c-ann") is None and history.store.messages("a1") == []


def test_retention_deletes_old_contacts_only(history: History, tmp_path: Path):
    import_history(history.store, _two_customers(tmp_path))
    removed = history.store.purge_older_than(30, now=datetime(2026, 11, 4, tzinfo=UTC))
    assert removed == 2  # cut-off 5 Oct: a1 (2 Oct) and b1 (4 Oct) go, a2 (6 Oct) stays
    assert history.store.contact("a1") is None and history.store.messages("a1") == []
    assert history.store.contact("b1") is None
    assert history.store.contact("a2") is not None


def test_retention_removes_customers_left_without_contacts(history: History, tmp_path: Path):
    import_history(history.store, _two_customers(tmp_path))
    history.store._require().execute(
        "UPDATE customers SET updated_at = '2026-10-01T00:00:00+00:00'"
    )
    history.store.purge_older_than(30, now=datetime(2026, 11, 4, tzinfo=UTC))
    assert history.store.customer("c-bob") is None  # b1 was his only contact
    assert history.store.find(IdentifierKind.EMAIL, "bob@example.com") is None
    assert history.store.customer("c-ann") is not None


def test_full_disk_is_a_clear_error_and_keeps_what_was_saved(history: History, tmp_path: Path):
    import_history(history.store, _two_customers(tmp_path))
    conn = history.store._require()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite now answers SQLITE_FULL
    many = write_history(
        tmp_path / "more.json",
        [
            customer(
                "c-cat",
                "Cat",
                "cat@example.com",
                contacts=[contact(f"m{i}", i) for i in range(200)],
            )
        ],
    )
    with pytest.raises(StoreError, match="disk is full") as info:
        import_history(history.store, many)
    assert "nothing already saved was lost" in info.value.user_message
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert history.store.counts()["contacts"] >= 3
    assert [m.role.value for m in history.store.messages("a1")] == ["customer", "agent", "customer"]
    saved = history.store.counts()["contacts"]
    assert history.store.counts()["messages"] == 3 * saved  # no half-written contact
    report = import_history(history.store, many)  # space again: the import carries on
    assert report.contacts_added + report.contacts_existing == 200


def test_newer_schema_is_refused(history: History, settings: Settings):
    history.store._require().execute(f"PRAGMA user_version = {LATEST + 1}")
    history.close()
    with pytest.raises(StoreError, match="newer copilot"):
        History.open(settings)


def test_demo_customers_seed_once_with_recent_dates(tmp_path: Path):
    opened = History.open(Settings(history_demo=True))
    report = opened.ensure_demo()
    assert report is not None and report.ok and report.contacts_added >= 10
    jana = opened.recognise(Contact(customer_identifier="jana.weber@example.com"))
    assert jana is not None
    timeline = opened.timeline(jana.id)
    assert timeline is not None and len({c.channel for c in timeline.contacts}) >= 3
    assert (datetime.now(UTC) - timeline.contacts[0].started_at).days <= 3
    opened.store.forget(jana.id)
    assert opened.ensure_demo() is None  # forgetting the demo customer does not bring her back
    opened.close()


def test_save_live_contact_creates_customer_from_identifier(history: History):
    live = Contact(channel="whatsapp", customer_name="Noor", customer_identifier="+31 20 555 0199")
    live.add("customer", "Where is my parcel ZX-99?")
    live.add("agent", "It arrives tomorrow before noon.")
    summary = ContactSummary(reason="Asked where parcel ZX-99 is.", method=SummaryMethod.EDITED)
    customer_id = history.save_live(live, summary, None, agent="Mia")
    timeline = history.timeline(customer_id)
    assert timeline is not None and timeline.contacts[0].summary == summary
    assert history.recognise(Contact(customer_identifier="0031205550199")) is not None
