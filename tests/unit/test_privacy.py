"""Personal data is redacted from logs and exports; order numbers, dates and prices are not."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from copilot.privacy import (
    PiiKind,
    PiiMatch,
    RedactingFilter,
    contains_pii,
    find_pii,
    install_log_redaction,
    redact,
)

POSITIVES = [
    # e-mail
    ("Mail me at john.doe+shop@example.co.uk.", "Mail me at [email]."),
    ("Jürgen: jürgen_m@mail-server.de, ok?", "Jürgen: [email], ok?"),
    ("(a.b@c.io)", "([email])"),
    # cards (Visa, Mastercard, Amex, Discover test numbers)
    ("Card 4111 1111 1111 1111 exp 12/26", "Card [card] exp 12/26"),
    ("Card 4111-1111-1111-1111, thanks", "Card [card], thanks"),
    ("4111111111111111", "[card]"),
    ("MC 5555 5555 5555 4444 and Discover 6011 1111 1111 1117", "MC [card] and Discover [card]"),
    ("Amex 3782 822463 10005 please", "Amex [card] please"),
    ("I have 2 4111 1111 1111 1111 cards", "I have 2 [card] cards"),
    # IBAN
    ("IBAN DE89 3704 0044 0532 0130 00 thanks", "IBAN [iban] thanks"),
    ("DE89370400440532013000", "[iban]"),
    ("pay to GB82WEST12345698765432.", "pay to [iban]."),
    ("gb82 west 1234 5698 7654 32", "[iban]"),
    ("FR14 2004 1010 0505 0001 3M02 606", "[iban]"),
    ("BE68 5390 0754 7034 and more", "[iban] and more"),
    # phone
    ("Call +49 30 1234567 now", "Call [phone] now"),
    ("Call +1 (555) 010-4477 now", "Call [phone] now"),
    ("UK: 0044 20 7946 0958", "UK: [phone]"),
    ("London +44 (0)20 7946 0958.", "London [phone]."),
    ("Berlin 030 1234567, or 030 / 7654321", "Berlin [phone], or [phone]"),
    ("US (555) 010-4477 or 555-010-4477 or 555.010.4477", "US [phone] or [phone] or [phone]"),
    ("mobile 07700 900123 or 07700900123", "mobile [phone] or [phone]"),
    ("Tel:0171-1234567", "Tel:[phone]"),
    ("I ordered 3 030 1234567", "I ordered 3 [phone]"),
    ("two 030 1234567 030 7654321", "two [phone] [phone]"),
    # address
    ("221B Baker Street, London NW1 6XE is famous", "[address] is famous"),
    ("Ship to 12 Elm Rd., Springfield, IL 62704 today", "Ship to [address] today"),
    ("Send to 1600 Pennsylvania Avenue NW please", "Send to [address] please"),
    ("I live at 42 Wallaby Way, Sydney", "I live at [address], Sydney"),
    ("Hauptstraße 5, 10115 Berlin", "[address]"),
    ("Neu: Berliner Str. 12a", "Neu: [address]"),
    ("Am Markt 3 und Lindenweg 7 und Goetheplatz 2.", "[address] und [address] und [address]."),
    ("Schillerallee 10 oder Karl-Marx-Straße 5 12043 Berlin", "[address] oder [address]"),
    ("postcode SW1A 1AA or EC1A 1BB", "postcode [address] or [address]"),
]

NEGATIVES = [
    "Order BC-48213 was shipped",
    "order 4821377 and order #0301234567",
    "Delivered on 2026-11-20, 20.11.2026 or 11/20/2026",
    "Between 14:30 and 17:00:05",
    "It costs €49.99, 1.234.567,00 EUR or $1,299.00",
    "In 2026, from 2019-2026",
    "5 items",
    "I waited 3 days",
    "12 345 678 users",
    "Version 0.123456789 on 192.168.100.200",
    "4111 1111 1111 1112",  # fails Luhn
    "0123 4567 8901 2345",
    "DE88 3704 0044 0532 0130 00",  # wrong check digits
    "GB83WEST12345698765432",
    "IMEI 490154203237518",
    "Am Montag 3 Pakete, zum Beispiel. Spring 2026, Der Weg 5 Minuten",
    "PS5 2TB",
    "x@y.z",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_personal_data_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert contains_pii(text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == text
    assert find_pii(text) == []
    assert not contains_pii(text)


def test_mixed_sentence_is_redacted_in_one_pass() -> None:
    text = (
        "Hi, I'm at Hauptstraße 5, 10115 Berlin (order BC-48213, €49.99 on 20.11.2026). "
        "Mail anna@example.com or call +49 30 1234567; card 4111 1111 1111 1111, "
        "IBAN DE89 3704 0044 0532 0130 00."
    )
    assert redact(text) == (
        "Hi, I'm at [address] (order BC-48213, €49.99 on 20.11.2026). "
        "Mail [email] or call [phone]; card [card], IBAN [iban]."
    )


def test_matches_are_sorted_non_overlapping_and_point_into_the_text() -> None:
    text = "a@b.de 4111111111111111 +49 30 1234567 DE89370400440532013000 12 Elm Rd"
    matches = find_pii(text)
    assert [m.kind for m in matches] == [
        PiiKind.EMAIL,
        PiiKind.CARD,
        PiiKind.PHONE,
        PiiKind.IBAN,
        PiiKind.ADDRESS,
    ]
    assert all(text[m.start : m.end] == m.text for m in matches)
    assert all(a.end <= b.start for a, b in zip(matches, matches[1:], strict=False))
    assert matches[0] == PiiMatch(PiiKind.EMAIL, 0, 6, "a@b.de")


def test_the_checksummed_kind_wins_an_overlap() -> None:
    # The digits of an IBAN also look like a phone number starting with 0.
    assert [m.kind for m in find_pii("DE89 3704 0044 0532 0130 00")] == [PiiKind.IBAN]


@pytest.mark.parametrize("text", [t for t, _ in POSITIVES] + NEGATIVES)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_whitespace_and_punctuation_survive() -> None:
    text = "  Line one:\n\tcall 030 1234567!\r\n  (done) "
    assert redact(text) == "  Line one:\n\tcall [phone]!\r\n  (done) "


# --- logging ----------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """install_log_redaction touches the root logger; undo that after each test."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    yield
    for filterer in [root, *handlers, *root.handlers]:
        for f in list(filterer.filters):
            if isinstance(f, RedactingFilter):
                filterer.removeFilter(f)


def captured_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(name)
    logger.handlers = [logging.StreamHandler(stream)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.filters = []
    return logger, stream


def test_filter_redacts_a_message_after_formatting_it_with_its_args() -> None:
    logger, stream = captured_logger("test_privacy.args")
    logger.addFilter(RedactingFilter())
    logger.info("customer %s paid with %s (%d items)", "ann@example.com", "4111111111111111", 2)
    assert stream.getvalue() == "customer [email] paid with [card] (2 items)\n"


def test_filter_redacts_tracebacks() -> None:
    logger, stream = captured_logger("test_privacy.traceback")
    logger.addFilter(RedactingFilter())
    try:
        raise ValueError("no account for ann@example.com")
    except ValueError:
        logger.exception("lookup failed")
    assert "ValueError: no account for [email]" in stream.getvalue()
    assert "ann@example.com" not in stream.getvalue()


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("msg", "args"),
    [("%d items for ann@example.com", ("many",)), ("%s %s", ("one",)), (Unprintable(), ())],
    ids=["wrong-type", "too-few-args", "unprintable-msg"],
)
def test_filter_never_raises_on_a_broken_record(msg: object, args: tuple[object, ...]) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, msg, args, None)
    assert RedactingFilter().filter(record) is True
    assert record.args is None
    assert "ann@example.com" not in record.getMessage()


def test_install_redacts_the_logger_and_root_handlers(restore_logging: None) -> None:
    root_stream = io.StringIO()
    root_handler = logging.StreamHandler(root_stream)
    logging.getLogger().addHandler(root_handler)
    try:
        logger, stream = captured_logger("test_privacy.install")
        install_log_redaction(logger)
        logger.warning("call %s", "+49 30 1234567")
        child = logging.getLogger("test_privacy.elsewhere")
        child.warning("write to %s", "ann@example.com")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert stream.getvalue() == "call [phone]\n"
    assert root_stream.getvalue() == "write to [email]\n"


def count_filters(filterer: logging.Filterer) -> int:
    return sum(isinstance(f, RedactingFilter) for f in filterer.filters)


def test_install_is_idempotent(restore_logging: None) -> None:
    logger, _ = captured_logger("test_privacy.idempotent")
    install_log_redaction(logger)
    install_log_redaction(logger)
    install_log_redaction()
    install_log_redaction()
    root = logging.getLogger()
    assert count_filters(logger) == 1
    assert count_filters(root) == 1
    assert all(count_filters(h) == 1 for h in root.handlers)
