from copilot.kb.chunking import MAX_WORDS, MIN_WORDS, chunk_document
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


def _words(prefix: str, count: int) -> str:
    """A paragraph of ``count`` distinct words, so a misplaced or lost piece shows."""
    return " ".join(f"{prefix}{i}" for i in range(count))


def test_a_tiny_tail_joins_the_previous_passage():
    first, second = _words("a", 150), _words("b", 150)
    tail = _words("t", MIN_WORDS - 1)
    # 150 + 150 and 150 + 24 words are both over MAX_WORDS: packing alone gives 3 pieces
    assert 150 + MIN_WORDS - 1 > MAX_WORDS
    chunks = chunk_document(doc(Section(("Refunds",), f"{first}\n\n{second}\n\n{tail}")))
    # the 24-word tail is merged into the passage before it, not left on its own
    assert [c.text for c in chunks] == [first, f"{second}\n\n{tail}"]
    assert [c.position for c in chunks] == [0, 1]
    assert all(c.path == ("Refunds",) for c in chunks)


def test_a_tail_of_min_words_stays_its_own_passage():
    first, tail = _words("a", 150), _words("t", MIN_WORDS)
    chunks = chunk_document(doc(Section((), f"{first}\n\n{tail}")))
    assert [c.text for c in chunks] == [first, tail]


def test_a_short_section_is_never_joined_to_the_section_before():
    long_text = _words("a", 150)
    chunks = chunk_document(doc(Section(("A",), long_text), Section(("B",), "Short tail.")))
    assert [(c.path, c.text) for c in chunks] == [(("A",), long_text), (("B",), "Short tail.")]
