"""Knowledge-base readers: every format's mapping onto Document, and every way a file can fail."""

import io
import json
import random
import re
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from copilot.kb.model import Document, Problem, ReadError, Section
from copilot.kb.readers import MAX_BYTES, SUPPORTED_SUFFIXES, iter_files, read_file

AUTO_ID = re.compile(r"^[0-9a-f]{16}$")


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read_one(path: Path) -> Document:
    documents = read_file(path)
    assert len(documents) == 1
    return documents[0]


def problem_of(path: Path, **kwargs: int) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read_file(path, **kwargs)
    assert caught.value.path == str(path)
    return caught.value


def sections(document: Document) -> dict[tuple[str, ...], str]:
    return {section.path: section.text for section in document.sections}


# --- a real PDF with a text layer, written by hand ----------------------------------------


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal valid PDF: Helvetica (WinAnsi), one text line per string, exact xref offsets."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    kids: list[int] = []
    number = 4
    for lines in pages:
        shown = b" ".join(b"(" + line.encode("cp1252") + b") Tj T*" for line in lines)
        content = b"BT /F1 12 Tf 72 720 Td 14 TL " + shown + b" ET"
        objects[number] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
        objects[number + 1] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % number
        )
        kids.append(number + 1)
        number += 2
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    info = b""
    if title is not None:
        objects[number] = b"<< /Title (" + title.encode("latin-1") + b") >>"
        info = b" /Info %d 0 R" % number
        number += 1
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for key in range(1, number):
        offsets[key] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (key, objects[key])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % number
    out += b"".join(b"%010d 00000 n \n" % offsets[key] for key in range(1, number))
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        number,
        info,
        xref,
    )
    return bytes(out)


# --- Markdown -------------------------------------------------------------------------------

MARKDOWN = """\
---
id: kb-refunds
title: Refund policy
url: https://help.example.com/refunds
locale: en-GB
owner: someone   # other keys are ignored
---
# Refunds

Intro with **bold**, _emphasis_ and a [link](https://example.com/x).
![diagram](img/diagram.png)
Second line of the intro.

## Card payments

Refunds go back to the card within *5 days*.

- first bullet
* second bullet

### Chargebacks

Call the bank.

```bash
# not a heading
refund --all
```

## Vouchers

Vouchers are not refunded; snake_case stays.

## Empty section

"""


def test_markdown_front_matter_headings_and_light_stripping(tmp_path: Path):
    document = read_one(write(tmp_path, "refunds.md", MARKDOWN))
    assert document.doc_id == "kb-refunds"
    assert document.title == "Refund policy"
    assert document.url == "https://help.example.com/refunds"
    assert document.locale == "en-GB"
    assert document.source == str(tmp_path / "refunds.md")
    text = sections(document)
    assert list(text) == [
        (),
        ("Card payments",),
        ("Card payments", "Chargebacks"),
        ("Vouchers",),
    ]
    assert text[()] == ("Intro with bold, emphasis and a link. Second line of the intro.")
    assert text[("Card payments",)] == (
        "Refunds go back to the card within 5 days.\n\n- first bullet\n- second bullet"
    )
    assert text[("Card payments", "Chargebacks")] == (
        "Call the bank.\n\n# not a heading\nrefund --all"
    )
    assert "snake_case" in text[("Vouchers",)]


def test_markdown_title_falls_back_to_heading_then_stem(tmp_path: Path):
    german = (
        "# Rückgabe & Umtausch\n\nDie Rückgabe ist 30 Tage möglich.\n\n## Größen\n\n"
        "Übergrößen gehen.\n"
    )
    document = read_one(write(tmp_path, "rueckgabe.md", german))
    assert document.title == "Rückgabe & Umtausch"
    assert document.locale == ""
    assert AUTO_ID.match(document.doc_id)
    assert document.sections == (
        Section((), "Die Rückgabe ist 30 Tage möglich."),
        Section(("Größen",), "Übergrößen gehen."),
    )
    stem = read_one(write(tmp_path, "shipping_times-eu.markdown", "Just text.\n"))
    assert stem.title == "Shipping times eu"
    assert stem.sections == (Section((), "Just text."),)


def test_markdown_setext_tables_quotes_and_rules(tmp_path: Path):
    text = (
        "Handbook\n========\n\nIntro\n\nLimits\n------\n\n> quoted *text*\n\n"
        "| plan | days |\n|---|---|\n| basic | 14 |\n\n***\n\nSee <https://x.example/y>.\n"
    )
    document = read_one(write(tmp_path, "h.md", text))
    assert document.title == "Handbook"
    assert document.sections == (
        Section((), "Intro"),
        Section(("Limits",), "quoted text\n\nplan | days\nbasic | 14\n\nSee https://x.example/y."),
    )


def test_markdown_broken_front_matter_is_corrupt(tmp_path: Path):
    broken = write(tmp_path, "broken.md", "---\ntitle: [unclosed\n---\n\nText\n")
    assert problem_of(broken).problem is Problem.CORRUPT
    unclosed = write(tmp_path, "unclosed.md", "---\ntitle: x\n\nText\n")
    assert problem_of(unclosed).problem is Problem.CORRUPT
    not_mapping = write(tmp_path, "list.md", "---\n- a\n- b\n---\nText\n")
    assert problem_of(not_mapping).problem is Problem.CORRUPT


def test_markdown_with_only_a_title_is_empty(tmp_path: Path):
    assert problem_of(write(tmp_path, "t.md", "# Only a title\n")).problem is Problem.EMPTY


# --- HTML -----------------------------------------------------------------------------------

HTML = """\
<!DOCTYPE html>
<html lang="de-DE">
<head>
  <title>Versand &amp; Lieferung</title>
  <link rel="canonical" href="https://hilfe.example.de/versand">
  <style>body { color: red }</style>
</head>
<body>
<header>Site header</header>
<nav><a href="/">Home</a></nav>
<h1>Versand</h1>
<p>Wir liefern <b>deutschlandweit</b>.</p>
<h2>Lieferzeiten</h2>
<p>In der Regel 2–3 Werktage.<br>Express: 1 Tag.</p>
<ul><li>Standard</li><li>Express <ul><li>nur werktags</li></ul></li></ul>
<h3>Inseln</h3>
<table><tr><th>Region</th><th>Tage</th></tr><tr><td>Sylt</td><td>4</td></tr></table>
<h2>Kosten</h2>
<div>Ab 50 € versandkostenfrei.</div>
<script>var tracking = "nope";</script>
<footer>Impressum</footer>
</body>
</html>
"""


def test_html_title_url_locale_and_sections(tmp_path: Path):
    document = read_one(write(tmp_path, "versand.html", HTML))
    assert document.title == "Versand & Lieferung"
    assert document.url == "https://hilfe.example.de/versand"
    assert document.locale == "de-DE"
    assert AUTO_ID.match(document.doc_id)
    assert sections(document) == {
        (): "Wir liefern deutschlandweit.",
        ("Lieferzeiten",): (
            "In der Regel 2–3 Werktage.\nExpress: 1 Tag.\n\n- Standard\n- Express\n- nur werktags"
        ),
        ("Lieferzeiten", "Inseln"): "Region | Tage\nSylt | 4",
        ("Kosten",): "Ab 50 € versandkostenfrei.",
    }
    everything = " ".join(section.text for section in document.sections)
    for dropped in ("Site header", "Home", "tracking", "Impressum", "color"):
        assert dropped not in everything


def test_html_title_from_h1_without_title_tag(tmp_path: Path):
    page = "<html><body><h1>Passwort vergessen</h1><p>Klicken Sie auf den Link.</p></body></html>"
    document = read_one(write(tmp_path, "pw.htm", page))
    assert document.title == "Passwort vergessen"
    assert document.url == ""
    assert document.locale == ""
    assert document.sections == (Section((), "Klicken Sie auf den Link."),)


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_pages_become_sections_and_metadata_gives_title(tmp_path: Path):
    pages = [["Rückerstattung", "Geld zurück in 5 Tagen."], [], ["Second page text"]]
    document = read_one(write(tmp_path, "manual.pdf", make_pdf(pages, title="Handbuch")))
    assert document.title == "Handbuch"
    assert AUTO_ID.match(document.doc_id)
    assert [section.path for section in document.sections] == [("Page 1",), ("Page 3",)]
    assert document.sections[0].text == "Rückerstattung\nGeld zurück in 5 Tagen."
    assert document.sections[1].text == "Second page text"


def test_pdf_title_falls_back_to_first_line(tmp_path: Path):
    document = read_one(write(tmp_path, "m.pdf", make_pdf([["Opening hours", "9 to 5"]])))
    assert document.title == "Opening hours"


def test_pdf_without_text_layer_is_empty(tmp_path: Path):
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    error = problem_of(write(tmp_path, "scan.pdf", buffer.getvalue()))
    assert error.problem is Problem.EMPTY
    assert "scanned" in error.why


def test_pdf_encrypted_or_broken_is_corrupt(tmp_path: Path):
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    error = problem_of(write(tmp_path, "locked.pdf", buffer.getvalue()))
    assert error.problem is Problem.CORRUPT
    assert "password" in error.why
    noise = random.Random(7).randbytes(2000)
    error = problem_of(write(tmp_path, "noise.pdf", noise))
    assert error.problem is Problem.CORRUPT
    assert error.why  # pypdf's own message
    truncated = make_pdf([["Some text"]])[:60]
    assert problem_of(write(tmp_path, "cut.pdf", truncated)).problem is Problem.CORRUPT


# --- DOCX -----------------------------------------------------------------------------------


def test_docx_headings_paragraphs_and_tables(tmp_path: Path):
    word = docx.Document()
    word.add_paragraph("Kündigung", style="Heading 1")
    word.add_paragraph("Verträge können monatlich gekündigt werden.")
    word.add_paragraph("Fristen", style="Heading 2")
    word.add_paragraph("Ein Monat zum Monatsende.")
    word.add_paragraph("Sonderkündigung", style="Heading 3")
    word.add_paragraph("Bei Umzug ins Ausland.")
    word.add_paragraph("Tarife", style="Heading 2")
    table = word.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [("Tarif", "Frist"), ("Basis", "1 Monat")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    path = tmp_path / "kuendigung.docx"
    word.save(str(path))
    document = read_one(path)
    assert document.title == "Kündigung"
    assert AUTO_ID.match(document.doc_id)
    assert document.sections == (
        Section((), "Verträge können monatlich gekündigt werden."),
        Section(("Fristen",), "Ein Monat zum Monatsende."),
        Section(("Fristen", "Sonderkündigung"), "Bei Umzug ins Ausland."),
        Section(("Tarife",), "Tarif | Frist\nBasis | 1 Monat"),
    )


def test_docx_title_style_makes_heading_1_a_section(tmp_path: Path):
    word = docx.Document()
    word.add_paragraph("Handbook", style="Title")
    word.add_paragraph("Returns", style="Heading 1")
    word.add_paragraph("Within 30 days.")
    word.add_paragraph("Exceptions", style="Heading 2")
    word.add_paragraph("Sale items.")
    path = tmp_path / "handbook.docx"
    word.save(str(path))
    document = read_one(path)
    assert document.title == "Handbook"
    assert sections(document) == {
        ("Returns",): "Within 30 days.",
        ("Returns", "Exceptions"): "Sale items.",
    }


def test_docx_broken_is_corrupt(tmp_path: Path):
    noise = write(tmp_path, "noise.docx", random.Random(3).randbytes(500))
    error = problem_of(noise)
    assert error.problem is Problem.CORRUPT
    assert error.why
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    assert problem_of(write(tmp_path, "zip.docx", buffer.getvalue())).problem is Problem.CORRUPT


# --- TXT and encodings ----------------------------------------------------------------------


def test_txt_first_short_line_is_title(tmp_path: Path):
    text = "Öffnungszeiten\n\nMontag bis Freitag 8–18 Uhr.\n\nSamstag geschlossen.\n"
    document = read_one(write(tmp_path, "zeiten.txt", text))
    assert document.title == "Öffnungszeiten"
    assert document.sections == (
        Section((), "Montag bis Freitag 8–18 Uhr.\n\nSamstag geschlossen."),
    )


def test_txt_long_first_line_gives_stem_title(tmp_path: Path):
    text = "word " * 40 + "\nmore\n"
    document = read_one(write(tmp_path, "long-notes.txt", text))
    assert document.title == "Long notes"
    assert document.sections[0].text.startswith("word word")
    assert document.sections[0].text.endswith("more")


def test_encodings_cp1252_bom_and_utf16(tmp_path: Path):
    french = "Remboursement\nLe remboursement est effectué après réception du colis."
    document = read_one(write(tmp_path, "fr.txt", french.encode("cp1252")))
    assert document.sections[0].text == "Le remboursement est effectué après réception du colis."
    german = "Größe\nDie Maße der Straße – „genau“."
    document = read_one(write(tmp_path, "de.txt", german.encode("cp1252")))
    assert document.title == "Größe"
    assert document.sections[0].text == "Die Maße der Straße – „genau“."
    bom = read_one(write(tmp_path, "bom.txt", "\ufeffTitel\nÄrger".encode()))
    assert bom.title == "Titel"
    utf16 = read_one(write(tmp_path, "wide.txt", "Titel\r\nÜbermorgen".encode("utf-16")))
    assert (utf16.title, utf16.sections[0].text) == ("Titel", "Übermorgen")


def test_undecodable_text_is_an_encoding_problem(tmp_path: Path):
    generator = random.Random(1)
    noise = bytes(generator.randrange(0x80, 0x100) for _ in range(400))
    with pytest.raises(UnicodeDecodeError):
        noise.decode("utf-8")
    for suffix in (".txt", ".md", ".csv"):
        assert problem_of(write(tmp_path, "noise" + suffix, noise)).problem is Problem.ENCODING


def test_binary_text_files(tmp_path: Path):
    with_nul = write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    assert problem_of(with_nul).problem is Problem.BINARY
    controls = write(tmp_path, "ctl.md", bytes([1, 2, 3, 4, 5, 6, 7, 8, 65]) * 50)
    assert problem_of(controls).problem is Problem.BINARY


# --- CSV ------------------------------------------------------------------------------------


def test_csv_question_answer(tmp_path: Path):
    text = (
        "question,answer,url\n"
        '"How long do refunds take?","Five days, usually.",https://h.example/r\n'
        ",,\n"
        "Where is my parcel?,Use the tracking link.,\n"
    )
    path = write(tmp_path, "faq.csv", text)
    documents = read_file(path)
    assert [d.title for d in documents] == ["How long do refunds take?", "Where is my parcel?"]
    assert documents[0].sections == (Section((), "Five days, usually."),)
    assert documents[0].url == "https://h.example/r"
    assert AUTO_ID.match(documents[0].doc_id.rsplit("-", 1)[0])
    assert [d.doc_id.rsplit("-", 1)[1] for d in documents] == ["0", "2"]
    assert [d.doc_id for d in read_file(path)] == [d.doc_id for d in documents]


def test_csv_german_semicolon_with_ids_and_cp1252(tmp_path: Path):
    text = (
        "ID;Frage;Antwort;Locale\n"
        "faq-1;Wie ändere ich meine Adresse?;Im Kundenkonto unter „Daten“.;de-DE\n"
        "faq-2;Gibt es Gutscheine?;Ja, ab 10 €.;de-AT\n"
    )
    documents = read_file(write(tmp_path, "faq_de.csv", text.encode("cp1252")))
    assert [(d.doc_id, d.locale) for d in documents] == [("faq-1", "de-DE"), ("faq-2", "de-AT")]
    assert documents[0].title == "Wie ändere ich meine Adresse?"
    assert documents[0].sections[0].text == "Im Kundenkonto unter „Daten“."
    assert documents[1].sections[0].text == "Ja, ab 10 €."


def test_csv_title_html_body(tmp_path: Path):
    text = (
        "Title,Content\n"
        '"Reset password","<h2>Steps</h2><p>Open <b>Settings</b>.</p><ul><li>Tap reset</li></ul>"\n'
    )
    document = read_one(write(tmp_path, "articles.csv", text))
    assert document.title == "Reset password"
    assert document.sections == (Section((), "Steps\n\nOpen Settings.\n\n- Tap reset"),)


def test_csv_wrong_columns_and_no_rows(tmp_path: Path):
    error = problem_of(write(tmp_path, "wrong.csv", "name,price\nTea,3\n"))
    assert error.problem is Problem.CORRUPT
    assert "name, price" in error.why
    assert "question" in error.why
    header_only = write(tmp_path, "header.csv", "question,answer\n")
    assert problem_of(header_only).problem is Problem.EMPTY
    blank_rows = write(tmp_path, "blank.csv", "question,answer\n,\n , \n")
    assert problem_of(blank_rows).problem is Problem.EMPTY


# --- JSON / JSONL ---------------------------------------------------------------------------

ZENDESK = {
    "articles": [
        {
            "id": 360001,
            "url": "https://acme.zendesk.com/api/v2/help_center/articles/360001.json",
            "html_url": "https://help.acme.com/hc/de/articles/360001",
            "title": "Rücksendung",
            "locale": "de",
            "body": "<p>Kostenlos innerhalb von 30 Tagen.</p><h2>Etikett</h2><p>Im Konto.</p>"
            "<h3>Drucker</h3><p>Ohne Drucker: QR-Code.</p>",
        },
        {"id": 360002, "title": "Draft without body", "body": ""},
        "not an article",
        {"name": "Plain", "text": "Just words.\n\nTwo paragraphs."},
    ],
    "count": 4,
}


def test_json_zendesk_export(tmp_path: Path):
    path = write(tmp_path, "export.json", json.dumps(ZENDESK, ensure_ascii=False))
    first, plain = read_file(path)
    assert first.doc_id == "360001"
    assert first.title == "Rücksendung"
    assert first.url == "https://help.acme.com/hc/de/articles/360001"
    assert first.locale == "de"
    assert first.sections == (
        Section((), "Kostenlos innerhalb von 30 Tagen."),
        Section(("Etikett",), "Im Konto."),
        Section(("Etikett", "Drucker"), "Ohne Drucker: QR-Code."),
    )
    assert plain.title == "Plain"
    assert re.fullmatch(r"[0-9a-f]{16}-3", plain.doc_id)
    assert plain.sections == (Section((), "Just words.\n\nTwo paragraphs."),)


@pytest.mark.parametrize("key", ["data", "items", None])
def test_json_other_shapes(tmp_path: Path, key: str | None):
    articles = [{"title": "A", "body_html": "<p>alpha</p>"}]
    value = {key: articles} if key else articles
    document = read_one(write(tmp_path, "x.json", json.dumps(value)))
    assert (document.title, document.sections) == ("A", (Section((), "alpha"),))
    assert re.fullmatch(r"[0-9a-f]{16}-0", document.doc_id)


def test_json_errors(tmp_path: Path):
    error = problem_of(write(tmp_path, "bad.json", '{"articles": [ {"title": "x",}'))
    assert error.problem is Problem.CORRUPT
    assert "line 1" in error.why
    assert problem_of(write(tmp_path, "odd.json", '{"foo": 1}')).problem is Problem.CORRUPT
    assert problem_of(write(tmp_path, "none.json", '[{"title": "no body"}]')).problem is (
        Problem.EMPTY
    )


def test_jsonl_records_and_bad_line(tmp_path: Path):
    lines = [
        {"id": "a1", "title": "Eins", "html": "<p>erste</p>", "locale": "de"},
        {"title": "Zwei", "content": "zweite\u2028Zeile", "url": "https://x/2"},
    ]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n"
    first, second = read_file(write(tmp_path, "a.jsonl", text))
    assert (first.doc_id, first.title, first.locale) == ("a1", "Eins", "de")
    assert (second.title, second.url) == ("Zwei", "https://x/2")
    assert second.sections == (Section((), "zweite\u2028Zeile"),)
    assert second.doc_id.endswith("-1")
    bad = write(tmp_path, "bad.jsonl", json.dumps(lines[0]) + "\n{not json\n")
    error = problem_of(bad)
    assert error.problem is Problem.CORRUPT
    assert "line 2" in error.why


# --- generic failures -----------------------------------------------------------------------


def test_empty_and_whitespace_files(tmp_path: Path):
    for name in ("empty.md", "empty.pdf", "empty.json"):
        assert problem_of(write(tmp_path, name, b"")).problem is Problem.EMPTY
    assert problem_of(write(tmp_path, "blank.txt", " \n\t\n")).problem is Problem.EMPTY


def test_oversized_file(tmp_path: Path):
    path = write(tmp_path, "big.txt", "x" * 200)
    error = problem_of(path, max_bytes=100)
    assert error.problem is Problem.TOO_LARGE
    assert read_one(path).title == "Big"  # the default limit is far above 200 bytes
    assert MAX_BYTES == 20 * 1024 * 1024


def test_unsupported_and_unreadable(tmp_path: Path):
    error = problem_of(write(tmp_path, "slides.pptx", b"PK\x03\x04"))
    assert error.problem is Problem.UNSUPPORTED
    assert ".pptx" in error.why
    assert problem_of(tmp_path / "missing.md").problem is Problem.UNREADABLE
    folder = tmp_path / "folder.md"
    folder.mkdir()
    assert problem_of(folder).problem is Problem.UNREADABLE


def test_suffix_is_case_insensitive(tmp_path: Path):
    assert read_one(write(tmp_path, "NOTE.TXT", "Hello\nworld")).title == "Hello"


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_random_bytes_only_ever_raise_read_error(tmp_path: Path, suffix: str):
    generator = random.Random(suffix)
    for attempt in range(5):
        data = generator.randbytes(generator.randrange(1, 3000))
        path = write(tmp_path, f"r{attempt}{suffix}", data)
        try:
            documents = read_file(path)
        except ReadError as error:
            assert isinstance(error.problem, Problem)
        else:
            assert all(document.sections for document in documents)


# --- iter_files -----------------------------------------------------------------------------


def test_iter_files_walks_folders_in_stable_order(tmp_path: Path):
    for name in (
        "kb/b.md",
        "kb/a.txt",
        "kb/sub/c.PDF",
        "kb/sub/deeper/d.json",
        "kb/notes.pptx",
        "kb/.hidden.md",
        "kb/.git/e.md",
        "kb/z.csv",
    ):
        write(tmp_path, name, "x")
    direct = write(tmp_path, "slides.pptx", b"x")
    kb = tmp_path / "kb"
    found = iter_files([kb, kb / "b.md", direct, kb / "sub"])
    assert found == [
        kb / "a.txt",
        kb / "b.md",
        kb / "z.csv",
        kb / "sub" / "c.PDF",
        kb / "sub" / "deeper" / "d.json",
        direct,
    ]
    assert iter_files([]) == []
    missing = tmp_path / "missing.md"
    assert iter_files([missing, missing]) == [missing]
