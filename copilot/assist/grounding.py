"""Turn knowledge hits into the short passages a suggestion is grounded in.

Kept free of chromadb and the embedder, so the window can import it at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot.assist.prompt import Source

if TYPE_CHECKING:
    from copilot.kb.retrieval import Hit

GROUNDING_PASSAGES = 2
GROUNDING_WORDS = 60


def heading(hit: Hit) -> str:
    return " › ".join((hit.passage.title, *hit.passage.path))


def to_source(hit: Hit) -> Source:
    """A short passage for the prompt: the highlighted sentence first, then its context."""
    lead = hit.highlighted_text.strip()
    text = lead + " " + hit.passage.text.replace(hit.highlighted_text, " ")
    return Source(heading(hit), " ".join(text.split()[:GROUNDING_WORDS]), hit.passage.doc_id)


def sources(hits: list[Hit], count: int = GROUNDING_PASSAGES) -> tuple[Source, ...]:
    return tuple(to_source(h) for h in hits[:count])
