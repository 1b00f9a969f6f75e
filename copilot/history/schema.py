"""The history store's tables, and the migrations that bring an older file up to date.

``PRAGMA user_version`` holds the schema version. Each migration runs in one
transaction, so a store is never left half-migrated.
"""

from __future__ import annotations

from typing import Any

from copilot.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    # 1: customers, identifiers per channel, contacts, messages, summaries
    """
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE identifiers (
        kind TEXT NOT NULL CHECK (kind IN ('phone', 'email', 'handle')),
        value TEXT NOT NULL,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        PRIMARY KEY (kind, value)
    );
    CREATE INDEX identifiers_customer ON identifiers(customer_id);
    CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        agent TEXT NOT NULL DEFAULT '',
        disposition TEXT,
        source TEXT NOT NULL DEFAULT 'live'
    );
    CREATE INDEX contacts_customer ON contacts(customer_id, started_at);
    CREATE INDEX contacts_started ON contacts(started_at);
    CREATE TABLE messages (
        contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        text TEXT NOT NULL,
        at TEXT,
        PRIMARY KEY (contact_id, seq)
    );
    CREATE TABLE summaries (
        contact_id TEXT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        method TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    """,
)
LATEST = len(MIGRATIONS)


def migrate(conn: Any) -> int:
    """Apply what is missing; returns the version the store is at now."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > LATEST:
        raise StoreError(
            f"The history store was written by a newer copilot (schema {version}, this one "
            f"knows {LATEST}). Update the copilot to open it."
        )
    for number in range(version + 1, LATEST + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except Exception:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return LATEST
