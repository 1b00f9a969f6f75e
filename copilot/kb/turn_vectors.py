"""Embeddings of conversation turns, computed once per text and shared by every consumer.

The knowledge hits and the approved replies of a live contact ask for the same turns;
with one ``TurnVectors`` between them, a new customer message costs one short embedding.
Imported without loading the embedder, so the window can create one at start.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np


def content_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed(texts: list[str]) -> np.ndarray:
    from copilot.kb.embedding import embed as embed_texts

    return embed_texts(texts)


class TurnVectors:
    """Embeddings of conversation turns, kept so each turn is embedded once per contact.

    A new customer message then costs one short embedding, and the window of recent
    turns is the mean of vectors already known. Keys are hashes: no customer text is
    kept here.
    """

    def __init__(self, size: int | None = 4096) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {text: content_key(text) for text in texts}
        with self._lock:
            found = {t: self._vectors[k] for t, k in keys.items() if k in self._vectors}
        todo = [t for t in keys if t not in found]
        if todo:
            found.update(zip(todo, embed(todo), strict=True))
        with self._lock:
            for text, key in keys.items():
                self._vectors[key] = found[text]
                self._vectors.move_to_end(key)
            while self.size is not None and len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return found

    def rows(self, texts: Sequence[str]) -> np.ndarray:
        """One embedding row per text, in order (a text seen before is not embedded again)."""
        known = self.get(texts)
        return np.asarray([known[t] for t in texts], dtype=np.float32)
