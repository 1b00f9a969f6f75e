"""Read approved replies from a supervisor's CSV, with a report line for every bad row.

Spreadsheets save CSV in many ways: with or without a byte-order mark, with ``;``
(German Excel) or ``,`` between fields, with line breaks inside quoted texts. All
of these are read; a bad row is reported with its line, field and the fix, and
every good row is kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from copilot.language import detect_language
from copilot.macros.model import Macro, MacroError, placeholder_problem, slugify

COLUMNS = ("id", "title", "text", "language", "tags")
MAX_FILE_BYTES = 20 * 1024 * 1024
_LANGUAGE_NAMES = {
    "english": "en",
    "englisch": "en",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "dutch": "nl",
    "portuguese": "pt",
    "all": "any",
    "*": "any",
}


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.reason}"


@dataclass
class ImportReport:
    path: Path
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        head = (
            f"{self.path.name}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.problems)} rows skipped"
        )
        return [head, *(f"  error: {p}; row skipped" for p in self.problems)] + [
            f"  warning: {w}" for w in self.warnings
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems": [
                {"line": p.line, "field": p.field, "reason": p.reason} for p in self.problems
            ],
            "warnings": self.warnings,
        }


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise MacroError(f"{path} is larger than 20 MB; is it really a macro list?")
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise MacroError(f"The file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise MacroError(
            f"{path} is not UTF-8 text. In your spreadsheet, save it as 'CSV UTF-8' and retry."
        ) from None
    except OSError as exc:
        raise MacroError(f"The file {path} cannot be read ({exc.strerror}).") from None


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """``;`` or ``,``: the sniffer decides, the header line settles a doubt."""
    header = text.split("\n", 1)[0]
    try:
        sniffed = csv.Sniffer().sniff(text[:8192], delimiters=";,\t")
        if sniffed.delimiter in header:
            return sniffed
    except csv.Error:
        pass
    counts = {d: header.count(d) for d in ";,\t"}
    best = max(counts, key=lambda d: counts[d])

    class Header(csv.excel):
        delimiter = best if counts[best] else ","

    return Header


def _rows(text: str, path: Path) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = next(reader)
    except StopIteration:
        raise MacroError(f"{path.name} is empty.") from None
    except csv.Error as exc:
        raise MacroError(f"{path.name} is not a readable CSV file ({exc}).") from None
    names = [h.strip().lower() for h in header]
    if "text" not in names:
        raise MacroError(
            f"{path.name} has no 'text' column. The first line must name the columns: "
            f"{', '.join(COLUMNS)} (only text is required)."
        )
    rows: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num + 1
    try:
        for values in reader:
            if any(v.strip() for v in values):
                row = {n: v for n, v in zip(names, values, strict=False) if n}
                if len(values) > len(names):
                    row["\x00extra"] = "x"
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise MacroError(f"{path.name}, line {reader.line_num}: {exc}.") from None
    return rows


def _language(raw: str, text: str) -> str:
    value = raw.strip().lower()
    value = _LANGUAGE_NAMES.get(value, value)
    if not value:
        body = re.sub(r"\{[^{}]*\}", " ", text)
        return detect_language(body, default="any")
    if not re.fullmatch(r"any|[a-z]{2}", value):
        raise ValueError(
            f"'{raw}' is not a language; use a two-letter code such as en or de, or any"
        )
    return value


def _title(row: dict[str, str], text: str) -> str:
    title = (row.get("title") or "").strip()
    if title:
        return title[:120]
    words = re.sub(r"\{[^{}]*\}", "", text).split()
    return " ".join(words[:8])[:120] or "Untitled"


def _macro(line: int, row: dict[str, str], seen: dict[str, int]) -> Macro | RowProblem:
    text = (row.get("text") or "").strip()
    if not text:
        return RowProblem(line, "text", "empty; every approved reply needs its text")
    problem = placeholder_problem(text)
    if problem:
        return RowProblem(line, "text", problem)
    try:
        language = _language(row.get("language") or "", text)
    except ValueError as exc:
        return RowProblem(line, "language", str(exc))
    title = _title(row, text)
    given = (row.get("id") or "").strip()
    macro_id = given.lower() if given else slugify(title)
    where = "id" if given else "title"
    if not macro_id:
        return RowProblem(line, where, "gives no usable id; add an id of letters and digits")
    if macro_id in seen:
        return RowProblem(
            line, where, f"id '{macro_id}' is already used on line {seen[macro_id]} of this file"
        )
    tags = tuple(t for t in re.split(r"[;,|]", row.get("tags") or "") if t.strip())
    try:
        macro = Macro(id=macro_id, title=title, text=text, language=language, tags=tags)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "row"
        return RowProblem(line, name, str(first["msg"]).removeprefix("Value error, "))
    seen[macro_id] = line
    return macro


def read_macros_csv(path: Path) -> tuple[list[Macro], list[RowProblem], list[str]]:
    """Good macros, the bad rows and warnings; a file that is not a macro CSV raises."""
    path = Path(path)
    text = _read_text(path)
    macros: list[Macro] = []
    problems: list[RowProblem] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for line, row in _rows(text, path):
        result = _macro(line, row, seen)
        if isinstance(result, RowProblem):
            problems.append(result)
            continue
        if "\x00extra" in row:
            warnings.append(f"line {line}: more fields than columns; extra fields ignored")
        macros.append(result)
    return macros, problems, warnings
