"""Redact personal data from text before it reaches logs, analytics or exports.

Agents paste customer messages into the copilot, so anything written out may carry
e-mail addresses, phone numbers, card numbers, IBANs or postal addresses. Detection is
rule based and tuned for precision: order numbers, dates, times, prices and quantities
stay readable, because a log with those blacked out is useless for support.

Numbers are found in two steps: a loose pattern finds a run of digit groups, then the
best-covering runs of whole groups that pass a strict check (Luhn, mod 97, phone shape)
are kept. That way a stray quantity next to a phone number neither hides it nor is
swallowed by it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class PiiKind(StrEnum):
    """What was found; the value is the placeholder's name, e.g. ``[email]``."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"
    ADDRESS = "address"


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data; ``text`` is the original ``[start:end]`` slice."""

    kind: PiiKind
    start: int
    end: int
    text: str


Span = tuple[int, int]
Check = Callable[[str, int, int], bool]

# --- e-mail -----------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w-])")

# --- numbers: shared machinery ------------------------------------------------------

_MAX_GROUPS = 15  # no phone, card or IBAN is written in more groups than this


def _best_cover(text: str, groups: list[Span], check: Check) -> list[Span]:
    """Valid runs of whole groups covering the most text, preferring fewer runs."""
    n = len(groups)
    score = [(0, 0)] * (n + 1)  # (characters covered, -runs) over groups[i:]
    last: list[int | None] = [None] * (n + 1)  # last group of the run chosen at i
    for i in range(n - 1, -1, -1):
        score[i] = score[i + 1]
        for j in range(i, min(n, i + _MAX_GROUPS)):
            start, end = groups[i][0], groups[j][1]
            option = (score[j + 1][0] + end - start, score[j + 1][1] - 1)
            if option > score[i] and check(text, start, end):
                score[i], last[i] = option, j
    spans: list[Span] = []
    i = 0
    while i < n:
        stop = last[i]
        if stop is not None:
            spans.append((groups[i][0], groups[stop][1]))
        i = i + 1 if stop is None else stop + 1
    return spans


def _scan(text: str, run: re.Pattern[str], group: re.Pattern[str], check: Check) -> Iterator[Span]:
    """Spans inside each ``run`` match made of whole ``group`` matches that pass ``check``."""
    for found in run.finditer(text):
        groups = [g.span() for g in group.finditer(text, found.start(), found.end())]
        yield from _best_cover(text, groups, check)


# --- IBAN -------------------------------------------------------------------------

_IBAN = re.compile(
    r"(?<!\w)[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?!\w)",
    re.IGNORECASE,
)
_ALNUM = re.compile(r"[A-Za-z0-9]+")


def _is_iban(text: str, start: int, end: int) -> bool:
    """ISO 13616 shape and the ISO 7064 mod-97 check, which random strings fail."""
    if not _IBAN.fullmatch(text, start, end):
        return False
    compact = text[start:end].replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return 15 <= len(compact) <= 34 and int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


# --- payment cards ----------------------------------------------------------------

_CARD_RUN = re.compile(r"(?<![\w+-])(?<!\d[.,])\d+(?:[ -]\d+)*(?!\w|[.,]\d)")
_CARD_LAYOUT = re.compile(
    r"\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5}"
)
_DIGITS = re.compile(r"\d+")
# IMEIs and some article numbers carry a Luhn digit too, but are not cards.
_NOT_CARD_BEFORE = re.compile(r"\b(?:IMEI|ISBN|EAN|GTIN|UPC)\b[\s:#.-]*$", re.IGNORECASE)


def _luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number) if d.isdigit()]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def _is_card(text: str, start: int, end: int) -> bool:
    """A printed card layout (plain, 4-4-4-4[-3], 4-6-5) that passes Luhn."""
    span = text[start:end]
    if not _CARD_LAYOUT.fullmatch(span) or span.startswith("0"):
        return False
    return not _NOT_CARD_BEFORE.search(text, max(0, start - 16), start) and _luhn(span)


# --- phone numbers ----------------------------------------------------------------

_PHONE_GROUP = r"(?:\(\d{1,5}\)|\d{1,15})"
_PHONE_SEP = r"(?: ?[/-] ?|[ .]|(?<=\))|(?=\())"
_PHONE_RUN = re.compile(
    rf"(?<![\w+/-])(?<!\d[.,])\+?{_PHONE_GROUP}(?:{_PHONE_SEP}{_PHONE_GROUP})*"
    r"(?![\w:]|[.,/-]\d)"
)
_PHONE_PART = re.compile(r"\S*\d\S*")
_NANP = re.compile(r"(?:\+?1[ .-]?)?(?:\([2-9]\d\d\) ?|[2-9]\d\d[ .-]?)\d{3}[ .-]\d{4}")
_REFERENCE_BEFORE = re.compile(
    r"(?:\b(?:order|ticket|case|invoice|ref|reference|tracking|sku|bestellung|bestellnummer"
    r"|auftrag|rechnung)\b\.?(?:\s*(?:no|nr|number|id|#)\.?)?\s*[:#]?\s*|#\s*)$",
    re.IGNORECASE,
)

# Number-like things that must never be read as phone numbers; blanked out first.
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_DATE = re.compile(
    rf"(?<!\d)(?:\d{{4}}([-./]){_DAY}\1{_DAY}|{_DAY}([-./]){_DAY}\2\d{{4}}"
    rf"|{_DAY}([./]){_DAY}\3\d{{2}})(?!\d)"
)
_TIME = re.compile(r"(?<!\d)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?!\d)")
_AMOUNT = r"\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    rf"(?:[€$£¥]|\b(?:EUR|USD|GBP|CHF)\b)\s?[+-]?(?:{_AMOUNT})"
    rf"|(?<![\d.,])(?:{_AMOUNT})\s?(?:[€$£¥]|(?:EUR|USD|GBP|CHF|euros?|dollars?|pounds?)\b)",
    re.IGNORECASE,
)
_CARD_GROUPS = re.compile(r"(?<![\w-])\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?!\w)")
_NOT_PHONES = (_DATE, _TIME, _MONEY, _CARD_GROUPS, _IBAN)


def _blank_non_phones(text: str) -> str:
    """``text`` with dates, times, prices, card-like and IBAN-like runs turned to x."""
    chars = list(text)
    for pattern in _NOT_PHONES:
        for found in pattern.finditer(text):
            chars[found.start() : found.end()] = "x" * (found.end() - found.start())
    return "".join(chars)


def _is_phone(text: str, start: int, end: int) -> bool:
    """7-15 digits that start like a dialled number: +, 0, (0 or a US 3-3-4 layout."""
    span = text[start:end]
    if not (span.startswith(("+", "0", "(0")) or _NANP.fullmatch(span)) or span.startswith("0."):
        return False
    dialled = sum(c.isdigit() for c in span.replace("(0)", ""))  # (0) is not dialled
    return 7 <= dialled <= 15 and not _REFERENCE_BEFORE.search(text, max(0, start - 30), start)


# --- postal addresses ---------------------------------------------------------------

_UP = "A-ZÄÖÜ"
_CAP = rf"[{_UP}][^\W\d_]*"
_EN_NAME = r"(?:[A-Z][\w'.-]*|\d+(?:st|nd|rd|th))"
_EN_TYPE = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct"
    r"|Place|Pl|Close|Crescent)"
)
_EN_STREET = (
    rf"\d{{1,5}}[A-Za-z]?(?: {_EN_NAME}){{1,4}} {_EN_TYPE}\b"
    r"(?: (?:NE|NW|SE|SW|N|S|E|W)(?![\w-]))?"
)
_DE_SUFFIX = r"(?:stra(?:ß|ss)e|str\.?|weg|platz|allee|gasse|(?<![aeiouy])ring|damm|ufer)"
_DE_TYPE = r"(?:Stra(?:ß|ss)e|Str\.?|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer)"
_NOT_NAME = (
    r"(?:Der|Die|Das|Den|Dem|Des|Ein|Eine|Einen|Einem|Auf|Im|In|Am|An|Zum|Zur|Vom|Von"
    r"|Mit|Nach|Bei|The|A|On|At|By|To)\b"
)
_DE_NAMED = (
    rf"(?!{_NOT_NAME})(?:(?:{_CAP}-){{0,3}}[{_UP}][^\W\d_]{{3,}}?{_DE_SUFFIX}"
    rf"|(?:{_CAP}[ -]){{1,2}}{_DE_TYPE})"
)
_NOT_PLACE = (
    r"(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Januar|Februar|März"
    r"|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Ende|Anfang|Tag"
    r"|Abend|Morgen|Mittag|Wochenende|Telefon|Beispiel|Zeit|Stück|Schluss|Jahr|Monat"
    r"|Woche|Seite|Besten|Meisten)\b"
)
_DE_PLACE = rf"(?:Am|An der|An den|Auf dem|Auf der|Zum|Zur|Unter den) (?!{_NOT_PLACE}){_CAP}"
_HOUSE = r" ?\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?)?(?![\w%]|[.,]\d)"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}(?!\w)"
_TOWN = rf"[{_UP}][^\W\d_]+(?: [{_UP}][^\W\d_]+){{0,2}}"
_DE_TOWN = rf"(?:Bad )?{_CAP}(?:-{_CAP})*(?: (?:am|an der|im|in der|ob der) {_CAP})?"
_TAIL = (
    rf"(?:\.?,?\s+(?:\d{{5}} {_DE_TOWN}|(?:{_TOWN},?\s+)?{_UK_POSTCODE}"
    rf"|{_TOWN}, [A-Z]{{2}} \d{{5}}(?:-\d{{4}})?))?"
)
_ADDRESS = re.compile(rf"(?<![\w.,/-])(?:{_EN_STREET}|(?:{_DE_NAMED}|{_DE_PLACE}){_HOUSE}){_TAIL}")
# Storage sizes such as "PS5 2TB" have the shape of a UK postcode.
_POSTCODE_ALONE = re.compile(
    r"(?<![\w-])(?!\w+ \d(?:GB|TB)\b)[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}(?!\w)"
)


# --- detection --------------------------------------------------------------------


def _emails(text: str) -> Iterable[Span]:
    return [m.span() for m in _EMAIL.finditer(text)]


def _ibans(text: str) -> Iterable[Span]:
    return _scan(text, _IBAN, _ALNUM, _is_iban)


def _cards(text: str) -> Iterable[Span]:
    return _scan(text, _CARD_RUN, _DIGITS, _is_card)


def _phones(text: str) -> Iterable[Span]:
    return _scan(_blank_non_phones(text), _PHONE_RUN, _PHONE_PART, _is_phone)


def _addresses(text: str) -> Iterable[Span]:
    return [m.span() for p in (_ADDRESS, _POSTCODE_ALONE) for m in p.finditer(text)]


_DETECTORS: tuple[tuple[PiiKind, Callable[[str], Iterable[Span]]], ...] = (
    (PiiKind.EMAIL, _emails),
    (PiiKind.IBAN, _ibans),
    (PiiKind.CARD, _cards),
    (PiiKind.ADDRESS, _addresses),
    (PiiKind.PHONE, _phones),
)
_CHECKED = {PiiKind.EMAIL, PiiKind.IBAN, PiiKind.CARD}


def _preference(match: PiiMatch) -> tuple[int, int, int]:
    """Checksummed and unambiguous kinds first, then the longer match."""
    return (match.kind not in _CHECKED, match.start - match.end, match.start)


def find_pii(text: str) -> list[PiiMatch]:
    """Personal data in ``text``: non-overlapping, in reading order."""
    found = [PiiMatch(kind, s, e, text[s:e]) for kind, find in _DETECTORS for s, e in find(text)]
    chosen: list[PiiMatch] = []
    for match in sorted(found, key=_preference):
        if all(match.end <= c.start or c.end <= match.start for c in chosen):
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)


def redact(text: str) -> str:
    """``text`` with each piece of personal data replaced by its kind, e.g. ``[email]``."""
    parts: list[str] = []
    last = 0
    for match in find_pii(text):
        parts += [text[last : match.start], f"[{match.kind}]"]
        last = match.end
    parts.append(text[last:])
    return "".join(parts)


def contains_pii(text: str) -> bool:
    """Whether ``text`` would change under :func:`redact`, e.g. to refuse an export."""
    return bool(find_pii(text))


# --- logging ----------------------------------------------------------------------

_DONE = "_pii_redacted"


def _message(record: logging.LogRecord) -> str:
    """The formatted message, or its raw parts when the arguments do not fit."""
    try:
        return record.getMessage()
    except Exception:
        return f"{record.msg} {record.args!r}"


def _redact_traceback(record: logging.LogRecord) -> None:
    """Exception messages quote customer input too, so tracebacks are redacted as well."""
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """Redact each record's message before any handler formats it; never raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.__dict__.get(_DONE):
            return True
        try:
            record.msg = redact(_message(record))
            _redact_traceback(record)
        except Exception:  # a log call must never fail because of redaction
            record.msg = "[log message withheld: it could not be redacted]"
        record.args = None
        record.__dict__[_DONE] = True
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Redact what the root handlers write and what ``logger`` (default: root) logs.

    Handlers added afterwards are not covered, so call this once logging is set up.
    Calling it again adds nothing.
    """
    root = logging.getLogger()
    target = root if logger is None else logger
    filterers: list[logging.Filterer] = [*root.handlers, target, *target.handlers]
    for filterer in filterers:
        if not any(isinstance(f, RedactingFilter) for f in filterer.filters):
            filterer.addFilter(RedactingFilter())
