"""Helpers for history tests: made-up contacts, and reading the encrypted file's pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PAGE = 4096
RESERVE = 80  # SQLCipher 4: 16-byte IV + 64-byte HMAC-SHA512 at the end of each page


def contact(
    cid: str,
    day: int,
    channel: str = "chat",
    disposition: str | None = "resolved",
    texts: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    start = datetime(2026, 10, 1, 9, tzinfo=UTC) + timedelta(days=day)
    texts = texts or (
        f"Hello, my blender from order ZX-{day:05d} arrived with a cracked jug.",
        "I'm sorry about that. I've sent a replacement jug, it arrives on Thursday.",
        "Great, thanks for the quick help!",
    )
    roles = ["customer", "agent"] * len(texts)
    return {
        "id": cid,
        "channel": channel,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=12)).isoformat(),
        "agent": "Mia",
        "disposition": disposition,
        "messages": [{"role": r, "text": t} for r, t in zip(roles, texts, strict=False)],
    }


def customer(
    cid: str,
    name: str,
    email: str,
    phone: str = "",
    contacts: list[Any] | None = None,
    handle: str = "",
) -> dict[str, Any]:
    ids: dict[str, list[str]] = {"email": [email]}
    if phone:
        ids["phone"] = [phone]
    if handle:
        ids["handle"] = [handle]
    return {"id": cid, "name": name, "identifiers": ids, "contacts": contacts or []}


def write_history(path: Path, customers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"format": 1, "customers": customers}), encoding="utf-8")
    return path


def decrypted_pages(db: Path, key_hex: str) -> bytes:
    """Every page of the file decrypted with the raw key, free pages included."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex(key_hex)
    data = db.read_bytes()
    out = []
    for index in range(len(data) // PAGE):
        page = data[index * PAGE : (index + 1) * PAGE]
        iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        body = page[16 if index == 0 else 0 : PAGE - RESERVE]
        out.append(decryptor.update(body) + decryptor.finalize())
    return b"".join(out)
