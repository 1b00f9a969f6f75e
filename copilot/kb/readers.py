"""Knowledge-base readers: turn one exported file into Documents, or say exactly why not.

Teams export their help content in whatever their tools produce: Markdown notes, saved web
pages, PDF manuals, Word files, CSV or JSON help-centre dumps. Each reader maps its format onto
the same Document/Section model, so chunking and retrieval never see formats, and every bad
file becomes one ReadError with a Problem kind, so the import report can list it and carry on
instead of the whole import failing on the first odd file.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import docx
import yaml
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PasswordType, PdfReader

from copilot.kb.model import Document, Problem, ReadError, Section

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".txt", ".csv", ".json", ".jsonl"}
)
MAX_BYTES = 20 * 1024 * 1024

_SNIFF_CHARS = 64 * 1024  # how much text the binary check looks at
_CSV_SNIFF_CHARS = 8 * 1024  # csv.Sniffer's regexes grow quadratically with the sample
_BINARY_RATIO = 0.05  # control characters above this share mean "not text"
_TITLE_MAX = 120  # a first line at least this long is prose, not a title


# --- public API --------------------------------------------------------------------------


def read_file(path: Path, *, max_bytes: int = MAX_BYTES) -> list[Document]:
    """Read one file into its Documents; any problem with the file raises ReadError."""
    source = str(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        found = path.suffix or "no suffix"
        raise ReadError(Problem.UNSUPPORTED, source, f"{found}; supported: {_supported()}")
    data = _load(path, max_bytes)
    try:
        documents = reader(data, path)
    except ReadError:
        raise
    except OSError as exc:
        raise ReadError(Problem.UNREADABLE, source, _why(exc)) from exc
    except Exception as exc:  # a parser choking on a bad file, whatever it raises
        raise ReadError(Problem.CORRUPT, source, _why(exc)) from exc
    documents = [document for document in documents if document.sections]
    if not documents:
        raise ReadError(Problem.EMPTY, source, "no text found")
    return documents


def iter_files(paths: list[Path]) -> list[Path]:
    """Expand folders into their supported, non-hidden files; keep files named directly."""
    seen: set[Path] = set()
    found: list[Path] = []
    for given in paths:
        for path in _walk_folder(given) if _is_folder(given) else [given]:
            key = _identity(path)
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. no permission to look: read_file will report it
        return False


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def _walk_folder(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(folder) / name


def _supported() -> str:
    return ", ".join(sorted(SUPPORTED_SUFFIXES))


def _why(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:300]


def _load(path: Path, max_bytes: int) -> bytes:
    source = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(Problem.UNREADABLE, source, "not a regular file")
        if info.st_size > max_bytes:
            raise ReadError(Problem.TOO_LARGE, source, f"{info.st_size} bytes > {max_bytes}")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ReadError(Problem.UNREADABLE, source, exc.strerror or _why(exc)) from exc
    if len(data) > max_bytes:
        raise ReadError(Problem.TOO_LARGE, source, f"more than {max_bytes} bytes")
    if not data.strip():
        raise ReadError(Problem.EMPTY, source, "0 bytes" if not data else "only whitespace")
    return data


# --- shared helpers ----------------------------------------------------------------------


def _auto_id(source: str, index: int | None = None) -> str:
    """A stable id from the source path (and the record's position in a multi-record file)."""
    digest = _digest(source)
    return digest if index is None else f"{digest}-{index}"


@functools.lru_cache(maxsize=64)
def _digest(source: str) -> str:
    raw = source.encode("utf-8", "surrogateescape")
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:16]


def _stem_title(path: Path) -> str:
    words = " ".join(re.sub(r"[-_]+", " ", path.stem).split())
    return words[:1].upper() + words[1:] if words else path.name


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _plain_text(text: str) -> str:
    """Unify newlines, trim line ends and keep at most one blank line between paragraphs."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _first_line(text: str, limit: int = 80) -> str:
    line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# --- decoding ----------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else what charset-normalizer is sure about."""
    text = _decode_bom(data, path)
    if text is None:
        if b"\x00" in data:
            raise ReadError(Problem.BINARY, str(path), "contains NUL bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_guess(data, path)
    if _looks_binary(text):
        raise ReadError(Problem.BINARY, str(path), "mostly control characters")
    return text


def _decode_bom(data: bytes, path: Path) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ReadError(Problem.ENCODING, str(path), f"{codec}: {exc.reason}") from exc
    return None


def _decode_guess(data: bytes, path: Path) -> str:
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise ReadError(Problem.ENCODING, str(path), "not UTF-8 and no other encoding fits")
    best = matches[0]
    # Western Windows text is the common case here; charset-normalizer often names a sibling
    # code page (cp1250) that reads accents differently, so take cp1252 when it fits as well.
    for match in matches:
        if "cp1252" in match.could_be_from_charset and match.chaos <= best.chaos + 0.05:
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                break
    return str(best)


def _looks_binary(text: str) -> bool:
    sample = text[:_SNIFF_CHARS]
    if "\x00" in sample:
        return True
    controls = sum(
        1 for ch in sample if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc"
    )
    return controls > len(sample) * _BINARY_RATIO


# --- headings to sections ----------------------------------------------------------------


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str


@dataclass(frozen=True)
class _Block:
    """A paragraph; tight blocks (list items, table rows) join their tight neighbours by "\n"."""

    text: str
    tight: bool = False


_Event = _Heading | _Block


def _build(events: Iterable[_Event]) -> tuple[str, tuple[Section, ...]]:
    """Group blocks under their heading path; a level-1 heading seen first is the title."""
    title = ""
    stack: list[_Heading] = []
    seen_heading = False
    parts: list[tuple[tuple[str, ...], list[str]]] = []
    blocks: list[_Block] = []
    for event in events:
        if isinstance(event, _Block):
            blocks.append(event)
            continue
        _flush(parts, tuple(heading.text for heading in stack), blocks)
        if event.level == 1 and not seen_heading:
            title = event.text
        else:
            while stack and stack[-1].level >= event.level:
                stack.pop()
            stack.append(event)
        seen_heading = True
    _flush(parts, tuple(heading.text for heading in stack), blocks)
    return title, tuple(Section(path, "\n\n".join(texts)) for path, texts in parts)


def _flush(
    parts: list[tuple[tuple[str, ...], list[str]]], path: tuple[str, ...], blocks: list[_Block]
) -> None:
    """Close the blocks under one heading; text under a repeated path joins the previous part."""
    text = _join(blocks).strip()
    blocks.clear()
    if not text:
        return
    if parts and parts[-1][0] == path:
        parts[-1][1].append(text)
    else:
        parts.append((path, [text]))


def _join(blocks: list[_Block]) -> str:
    parts: list[str] = []
    previous: _Block | None = None
    for block in blocks:
        if not block.text.strip():
            continue
        if previous is not None:
            parts.append("\n" if previous.tight and block.tight else "\n\n")
        parts.append(block.text)
        previous = block
    return "".join(parts)


# --- Markdown ----------------------------------------------------------------------------

_META_KEYS = ("id", "title", "url", "locale")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^([-*_])([ \t]*\1){2,}[ \t]*$")
_REF_DEF = re.compile(r"^\[[^\]]+\]:\s*\S+")
_QUOTE = re.compile(r"^(>[ \t]?)+")
_BULLET = re.compile(r"^[*+-][ \t]+")
_LIST_ITEM = re.compile(r"^(- |\d+[.)] )")
_IMAGE = re.compile(r"!\[[^\]]*\](\([^)]*\)|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]*)\](\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_STARS = re.compile(r"\*+(?=\S)|(?<=\S)\*+")
_UNDERSCORES = re.compile(r"(?<!\w)_+(?=\S)|(?<=\S)_+(?!\w)")


def _read_markdown(data: bytes, path: Path) -> list[Document]:
    meta, body = _front_matter(_plain_text(_decode(data, path)), path)
    heading, sections = _build(_markdown_events(body))
    document = Document(
        doc_id=meta.get("id") or _auto_id(str(path)),
        title=meta.get("title") or heading or _stem_title(path),
        sections=sections,
        source=str(path),
        url=meta.get("url", ""),
        locale=meta.get("locale", ""),
    )
    return [document]


def _front_matter(text: str, path: Path) -> tuple[dict[str, str], str]:
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), 0)
    if not end:
        raise ReadError(Problem.CORRUPT, str(path), "front matter has no closing '---'")
    try:
        meta: Any = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise ReadError(Problem.CORRUPT, str(path), f"front matter: {_why(exc)}") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ReadError(Problem.CORRUPT, str(path), "front matter is not a key: value mapping")
    values = {key: str(meta[key]).strip() for key in _META_KEYS if meta.get(key) is not None}
    return values, "\n".join(lines[end + 1 :])


def _markdown_events(body: str) -> Iterator[_Event]:
    paragraph: list[str] = []
    lines = iter(body.split("\n"))
    for line in lines:
        fence = _FENCE.match(line)
        heading = _ATX.match(line)
        setext = _SETEXT.match(line)
        if fence or heading or not line.strip():
            yield _Block(_markdown_paragraph(paragraph))
            paragraph = []
        if fence:
            yield _Block(_code_block(lines, fence.group(1)))
        elif heading:
            text = _markdown_inline(heading.group(2) or "").strip()
            if text:
                yield _Heading(len(heading.group(1)), text)
        elif setext and len(paragraph) == 1 and not _is_list_line(paragraph[0]):
            text = _markdown_inline(paragraph.pop().strip())
            yield _Heading(1 if "=" in line else 2, text)
        elif line.strip():
            paragraph.append(line)
    yield _Block(_markdown_paragraph(paragraph))


def _is_list_line(line: str) -> bool:
    text = line.strip()
    return bool(_BULLET.match(text) or _LIST_ITEM.match(text))


def _code_block(lines: Iterator[str], fence: str) -> str:
    """The code up to the closing fence, verbatim (a '# comment' in it is no heading)."""
    code: list[str] = []
    for line in lines:
        if line.strip().startswith(fence[0] * len(fence)):
            break
        code.append(line)
    return "\n".join(code).strip("\n")


def _markdown_paragraph(lines: list[str]) -> str:
    """Clean the lines; prose lines are joined with spaces, list items and rows keep theirs."""
    out: list[str] = []
    for raw in lines:
        line = _markdown_line(raw)
        if not line:
            continue
        if out and not _LIST_ITEM.match(line) and " | " not in line:
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def _markdown_line(line: str) -> str:
    text = _QUOTE.sub("", line.strip()).strip()
    if _RULE.match(text) or _REF_DEF.match(text) or _is_table_rule(text):
        return ""
    text = _BULLET.sub("- ", text)
    if text.startswith("|") or text.endswith("|"):
        text = " | ".join(cell.strip() for cell in text.strip("|").split("|"))
    return _markdown_inline(text).strip()


def _is_table_rule(text: str) -> bool:
    return "|" in text and "-" in text and set(text) <= set("|:- \t")


def _markdown_inline(text: str) -> str:
    if "[" in text:  # the checks spare the regexes on plain lines; big files are mostly those
        text = _LINK.sub(r"\1", _IMAGE.sub("", text))
    if "<" in text:
        text = _HTML_TAG.sub("", _AUTOLINK.sub(r"\1", text))
    if "*" in text:
        text = _STARS.sub("", text)
    if "_" in text:
        text = _UNDERSCORES.sub("", text)
    return text.replace("`", "")


# --- HTML --------------------------------------------------------------------------------

_DROP = {
    "script", "style", "nav", "footer", "header", "head", "title", "noscript", "template",
    "svg", "canvas", "iframe", "select",
}  # fmt: skip
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "form", "hgroup", "html", "li", "main",
    "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul", *_HEADINGS,
}  # fmt: skip
_CELLS = ("td", "th")
_BR = "\u2028"  # stands for <br> and block edges inside inline text until lines are split


def _read_html(data: bytes, path: Path) -> list[Document]:
    soup = BeautifulSoup(_decode(data, path), "html.parser")
    head_title, url = _head_facts(soup)
    locale = _attr(soup.html, "lang") if soup.html else ""
    heading, sections = _soup_sections(soup)
    title = head_title or heading or _stem_title(path)
    return [Document(_auto_id(str(path)), title, sections, str(path), url, locale)]


def _head_facts(soup: BeautifulSoup) -> tuple[str, str]:
    """<title> and the canonical URL, in one pass that stops at <body> (find() is slow)."""
    title, url = "", ""
    for node in soup.descendants:
        if not isinstance(node, Tag):
            continue
        if node.name == "body":
            break
        if node.name == "title" and not title:
            title = _collapse(node.get_text())
        elif node.name == "link" and not url and "canonical" in _attr(node, "rel").split():
            url = _attr(node, "href")
    return title, url


def _html_sections(html: str) -> tuple[str, tuple[Section, ...]]:
    """Title heading and sections of an HTML fragment (a help-centre article body)."""
    return _soup_sections(BeautifulSoup(html, "html.parser"))


def _html_text(html: str) -> str:
    """All the text of an HTML fragment, headings included, as paragraphs."""
    soup = BeautifulSoup(html, "html.parser")
    _drop_chrome(soup)
    blocks = [_Block(e.text) if isinstance(e, _Heading) else e for e in _html_events(soup)]
    return _join(blocks)


def _soup_sections(soup: BeautifulSoup) -> tuple[str, tuple[Section, ...]]:
    _drop_chrome(soup)
    return _build(_html_events(soup))


def _drop_chrome(soup: BeautifulSoup) -> None:
    doomed = [node for node in soup.descendants if isinstance(node, Tag) and node.name in _DROP]
    for element in doomed:
        if not element.decomposed:  # already gone with an enclosing one
            element.decompose()


def _attr(tag: Tag, name: str) -> str:
    value = tag.get(name)
    if isinstance(value, str):
        return value.strip()
    return " ".join(value).strip() if value else ""


def _is_text(node: Any) -> bool:
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


def _html_events(node: Tag) -> Iterator[_Event]:
    """Headings and paragraphs of an element in reading order; inline runs form paragraphs."""
    inline: list[str] = []
    for child in node.children:
        if isinstance(child, Tag) and _is_block(child):
            yield _inline_block(inline)
            inline = []
            yield from _block_events(child)
        elif isinstance(child, Tag):
            inline.append(_inline_text(child))
        elif _is_text(child):
            inline.append(str(child))
    yield _inline_block(inline)


def _is_block(tag: Tag) -> bool:
    """A block element, or an inline one wrapping blocks (<a><div>…</div></a>)."""
    if tag.name in _BLOCKS:
        return True
    return any(isinstance(node, Tag) and node.name in _BLOCKS for node in tag.descendants)


def _block_events(tag: Tag) -> Iterator[_Event]:
    if tag.name in _HEADINGS:
        text = _collapse(_inline_text(tag).replace(_BR, " "))
        if text:
            yield _Heading(_HEADINGS[tag.name], text)
    elif tag.name == "pre":
        yield _Block(tag.get_text().strip("\n").rstrip())
    elif tag.name == "tr":
        cells = [cell for cell in tag.children if isinstance(cell, Tag) and cell.name in _CELLS]
        texts = [_collapse(_inline_text(cell).replace(_BR, " ")) for cell in cells]
        yield _Block(" | ".join(text for text in texts if text), tight=True)
    elif tag.name == "li":
        yield from _list_item_events(tag)
    else:
        yield from _html_events(tag)


def _list_item_events(item: Tag) -> Iterator[_Event]:
    own: list[str] = []
    nested: list[Tag] = []
    for child in item.children:
        if isinstance(child, Tag) and child.name in ("ul", "ol"):
            nested.append(child)
        elif isinstance(child, Tag):
            own.append(_inline_text(child))
        elif _is_text(child):
            own.append(str(child))
    text = _collapse("".join(own).replace(_BR, " "))
    if text:
        yield _Block("- " + text, tight=True)
    for sublist in nested:
        yield from _html_events(sublist)


def _inline_text(tag: Tag) -> str:
    """The text under an element; <br> and block edges become _BR so lines are not glued."""
    if tag.name == "br":
        return _BR
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag) and (node.name == "br" or node.name in _BLOCKS):
            parts.append(_BR)
        elif _is_text(node):
            parts.append(str(node))
    return "".join(parts)


def _inline_block(parts: list[str]) -> _Block:
    lines = (_collapse(line) for line in "".join(parts).split(_BR))
    return _Block("\n".join(line for line in lines if line))


# --- PDF ---------------------------------------------------------------------------------


def _read_pdf(data: bytes, path: Path) -> list[Document]:
    reader = _open_pdf(data, path)
    pages = [_plain_text(page.extract_text() or "") for page in reader.pages]
    sections = tuple(
        Section((f"Page {number}",), text) for number, text in enumerate(pages, 1) if text
    )
    if not sections:
        raise ReadError(Problem.EMPTY, str(path), "no text layer; scanned?")
    metadata = reader.metadata
    meta_title = _collapse(metadata.title or "") if metadata is not None else ""
    title = meta_title or _first_line(sections[0].text, _TITLE_MAX) or _stem_title(path)
    return [Document(_auto_id(str(path)), title, sections, str(path))]


def _open_pdf(data: bytes, path: Path) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ReadError(Problem.CORRUPT, str(path), "encrypted; needs a password")
    except ReadError:
        raise
    except Exception as exc:  # pypdf raises many kinds for broken files
        raise ReadError(Problem.CORRUPT, str(path), _why(exc)) from exc
    return reader


# --- DOCX --------------------------------------------------------------------------------


def _read_docx(data: bytes, path: Path) -> list[Document]:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # not a zip, or a zip without a Word document in it
        raise ReadError(Problem.CORRUPT, str(path), _why(exc)) from exc
    heading, sections = _build(_docx_events(document.iter_inner_content()))
    title = heading or _collapse(document.core_properties.title or "") or _stem_title(path)
    return [Document(_auto_id(str(path)), title, sections, str(path))]


def _docx_events(items: Iterable[Paragraph | Table]) -> Iterator[_Event]:
    for item in items:
        if isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = _collapse(cell.text)
                    if text and (not cells or cells[-1] != text):  # merged cells repeat
                        cells.append(text)
                yield _Block(" | ".join(cells), tight=True)
        else:
            yield from _docx_paragraph(item)


def _docx_paragraph(paragraph: Paragraph) -> Iterator[_Event]:
    text = paragraph.text.strip()
    style = (paragraph.style.name if paragraph.style is not None else None) or ""
    if not text:
        return
    if style == "Title":
        yield _Heading(1, _collapse(text))
    elif style.startswith("Heading"):
        digits = re.sub(r"\D", "", style)
        yield _Heading(int(digits) if digits else 1, _collapse(text))
    elif style.startswith("List"):
        yield _Block("- " + text, tight=True)
    else:
        yield _Block(text)


# --- plain text --------------------------------------------------------------------------


def _read_txt(data: bytes, path: Path) -> list[Document]:
    text = _plain_text(_decode(data, path))
    first, _, rest = text.partition("\n")
    if len(first.strip()) < _TITLE_MAX:
        title, body = first.strip(), rest.strip() or first.strip()
    else:
        title, body = _stem_title(path), text
    sections = (Section((), body),) if body else ()
    return [Document(_auto_id(str(path)), title, sections, str(path))]


# --- CSV ---------------------------------------------------------------------------------

_CSV_ROLES = {
    "title": ("question", "frage", "title", "titel"),
    "body": ("answer", "antwort", "body", "content", "text"),
    "id": ("id",),
    "url": ("url",),
    "locale": ("locale",),
}
_CSV_EXPECTED = "question+answer, frage+antwort, title+body/content, titel+text"


def _read_csv(data: bytes, path: Path) -> list[Document]:
    rows = _csv_rows(_decode(data, path))
    columns = _csv_columns(rows[0] if rows else [], path)
    documents: list[Document] = []
    for index, row in enumerate(rows[1:]):
        document = _csv_document(row, columns, path, index)
        if document is not None:
            documents.append(document)
    if not documents:
        raise ReadError(Problem.EMPTY, str(path), "no row with an answer or body")
    return documents


def _csv_rows(text: str) -> list[list[str]]:
    header = text.split("\n", 1)[0]
    sample = text[:_CSV_SNIFF_CHARS]
    sample = sample[: sample.rfind("\n")] if "\n" in sample else sample  # whole lines only
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    if delimiter not in header:  # the sniffer guessed from quoted text: trust the header
        delimiter = max(",;\t|", key=header.count)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))  # long HTML bodies
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _csv_columns(header: list[str], path: Path) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    columns: dict[str, int] = {}
    for role, aliases in _CSV_ROLES.items():
        index = next((names.index(alias) for alias in aliases if alias in names), None)
        if index is not None:
            columns[role] = index
    if "title" not in columns or "body" not in columns:
        found = ", ".join(name for name in names if name) or "none"
        why = f"columns found: {found}; expected {_CSV_EXPECTED}"
        raise ReadError(Problem.CORRUPT, str(path), why)
    return columns


def _csv_document(
    row: list[str], columns: dict[str, int], path: Path, index: int
) -> Document | None:
    def cell(role: str) -> str:
        position = columns.get(role)
        return row[position].strip() if position is not None and position < len(row) else ""

    raw_body = cell("body")
    body = _html_text(raw_body) if "<" in raw_body else _plain_text(raw_body)
    if not body:
        return None
    return Document(
        doc_id=cell("id") or _auto_id(str(path), index),
        title=_collapse(cell("title")) or _first_line(body),
        sections=(Section((), body),),
        source=str(path),
        url=cell("url"),
        locale=cell("locale"),
    )


# --- JSON / JSONL ------------------------------------------------------------------------

_JSON_LISTS = ("articles", "data", "items")
_JSON_TITLES = ("title", "name")
_JSON_BODIES = ("body", "body_html", "html", "content", "text")


def _read_json(data: bytes, path: Path) -> list[Document]:
    try:
        value: Any = json.loads(_decode(data, path))
    except json.JSONDecodeError as exc:
        raise ReadError(Problem.CORRUPT, str(path), f"invalid JSON: {exc}") from exc
    return _articles(_json_records(value, path), path)


def _read_jsonl(data: bytes, path: Path) -> list[Document]:
    records: list[Any] = []
    # split on "\n" only: str.splitlines() would also cut at U+2028 inside JSON strings
    for number, line in enumerate(_decode(data, path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            why = f"invalid JSON on line {number}: {exc.msg} (column {exc.colno})"
            raise ReadError(Problem.CORRUPT, str(path), why) from exc
    return _articles(records, path)


def _json_records(value: Any, path: Path) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in _JSON_LISTS:
            if isinstance(value.get(key), list):
                return list(value[key])
        if any(key in value for key in _JSON_TITLES + _JSON_BODIES):
            return [value]  # a single article
    kind = type(value).__name__
    why = f"expected a list of articles or an object with 'articles', 'data' or 'items'; got {kind}"
    raise ReadError(Problem.CORRUPT, str(path), why)


def _articles(records: list[Any], path: Path) -> list[Document]:
    documents = [_article(record, path, index) for index, record in enumerate(records)]
    found = [document for document in documents if document is not None]
    if not found:
        raise ReadError(Problem.EMPTY, str(path), "no article with a title and a body")
    return found


def _article(record: Any, path: Path, index: int) -> Document | None:
    if not isinstance(record, dict):
        return None
    body = _json_text(record, _JSON_BODIES)
    if not body:
        return None
    heading, sections = _html_sections(body) if "<" in body else ("", _text_sections(body))
    return Document(
        doc_id=_json_id(record) or _auto_id(str(path), index),
        title=_json_text(record, _JSON_TITLES) or heading or _first_line(body),
        sections=sections,
        source=str(path),
        url=_json_text(record, ("html_url", "url")),
        locale=_json_text(record, ("locale",)),
    )


def _json_id(record: dict[str, Any]) -> str:
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _json_text(record: dict[str, Any], keys: Iterable[str]) -> str:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _text_sections(text: str) -> tuple[Section, ...]:
    body = _plain_text(text)
    return (Section((), body),) if body else ()


_READERS: dict[str, Callable[[bytes, Path], list[Document]]] = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
    ".txt": _read_txt,
    ".csv": _read_csv,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
}
