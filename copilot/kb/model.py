"""What a knowledge-base reader produces, whatever the file format."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from copilot.errors import KnowledgeError


@dataclass(frozen=True)
class Section:
    """One part of an article under its headings (the title itself is not repeated)."""

    path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Document:
    """One article. ``doc_id`` is stable across re-imports of the same source."""

    doc_id: str
    title: str
    sections: tuple[Section, ...]
    source: str
    url: str = ""
    locale: str = ""


class Problem(StrEnum):
    EMPTY = "empty file"
    BINARY = "binary file"
    ENCODING = "unknown encoding"
    TOO_LARGE = "oversized file"
    CORRUPT = "corrupt file"
    UNSUPPORTED = "unsupported format"
    UNREADABLE = "cannot be read"


class ReadError(KnowledgeError):
    """A file that cannot be imported; ``problem`` says which kind for the report."""

    def __init__(self, problem: Problem, path: str, why: str) -> None:
        super().__init__(f"{path}: {problem.value} ({why})")
        self.problem = problem
        self.path = path
        self.why = why
