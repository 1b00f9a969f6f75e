"""Small knowledge bases written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

ARTICLES = {
    "returns.md": """---
id: returns
url: https://help.example/returns
locale: en
---
# Returns and refunds

Everything about sending items back.

## Return window

You can return unused items within 30 days of delivery. The returns label is free.

## Refunds

### Card payments

The refund reaches your card 5 to 7 working days after the parcel arrives at our warehouse.
""",
    "delivery.md": """# Delivery

## Delivery times

Standard delivery takes 2 to 4 working days. Express delivery arrives the next working day
when you order before 14:00.

## Shipping costs

Shipping costs 4.95 EUR and is free from 49 EUR.
""",
    "password.md": """# Account and password

## Resetting your password

Request a reset link on the login page. The link is valid for 30 minutes.
""",
}


def write_kb(folder: Path, articles: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (articles or ARTICLES).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
