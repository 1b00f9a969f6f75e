from copilot.kb.chunking import MAX_WORDS, chunk_document
from copilot.kb.model import Document, Section


def doc(*sections: Section) -> Document:
    return Document("d1", "Returns", tuple(sections), "/kb/returns.md")


def test_chunks_keep_their_heading_path():
    chunks = chunk_document(
        doc(Section((), "Intro text."), Section(("Refunds", "Cards"), "Card refunds."))
    )
    assert [c.path for c in chunks] == [(), ("Refunds", "Cards")]
    assert chunks[1].heading == "Returns › Refunds › Cards"
    assert chunks[1].indexed_text.startswith("Returns › Refunds › Cards\n")


def test_long_sections_split_at_sentences_within_the_limit():
    sentence = "This sentence has exactly eight words in it. "
    chunks = chunk_document(doc(Section(("Long",), sentence * 100)))
    assert len(chunks) > 1
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    assert all(c.path == ("Long",) for c in chunks)


def test_ids_are_stable_and_unique():
    first = chunk_document(doc(Section((), "a " * 400), Section(("B",), "b")))
    second = chunk_document(doc(Section((), "a " * 400), Section(("B",), "b")))
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)


def test_a_tiny_tail_joins_the_previous_passage():
    text = ("word " * 150).strip() + ".\n\nShort tail."
    chunks = chunk_document(doc(Section((), text)))
    assert len(chunks) == 1 or all(len(c.text.split()) >= 3 for c in chunks)
