"""Where passages live: chromadb, embedded in the data folder or on a Chroma server.

Two collections: the passages (with their embeddings and metadata) and a manifest
of imported sources (content hash, passage count). A source's manifest entry is
removed before its passages change and written only after all of them are stored,
so an import killed midway leaves the source "not imported": the next run deletes
its partial passages and redoes it.
The manifest lives beside the passages, so a team-wide server has one truth.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from copilot.errors import KnowledgeError
from copilot.kb.chunking import Chunk
from copilot.kb.embedding import UsemEmbeddingFunction
from copilot.settings import Settings

log = logging.getLogger(__name__)
WRITE_BATCH = 512
READ_PAGE = 5000
FINGERPRINT_TTL_S = 30.0
_MANIFEST_VECTOR = [1.0, 0.0]


@dataclass(frozen=True)
class StoredPassage:
    chunk_id: str
    text: str
    meta: dict[str, Any]

    @property
    def doc_id(self) -> str:
        return str(self.meta.get("doc_id", ""))

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))

    @property
    def path(self) -> tuple[str, ...]:
        raw = str(self.meta.get("path", ""))
        return tuple(raw.split("\x1f")) if raw else ()


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.kb_server:
        url = urlparse(settings.kb_server)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises several types for "not reachable"
            raise KnowledgeError(
                f"The knowledge server {settings.kb_server} cannot be reached ({exc}). "
                "Check that it runs, or clear the kb_server setting to use the local store."
            ) from exc
    folder = Path(settings.data_dir) / "knowledge" / "chroma"
    folder.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)


class KnowledgeStore:
    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self._fingerprint: str | None = None
        self._fingerprint_at = 0.0
        self.client = client if client is not None else _client(settings)
        name = settings.kb_collection
        try:
            self.passages = self.client.get_or_create_collection(
                name,
                embedding_function=UsemEmbeddingFunction(),
                configuration={"hnsw": {"space": "cosine"}},
            )
            self.sources = self.client.get_or_create_collection(
                f"{name}-sources", embedding_function=None
            )
        except Exception as exc:
            raise KnowledgeError(f"The knowledge store cannot be opened ({exc}).") from exc

    @property
    def mode(self) -> str:
        return f"server {self.settings.kb_server}" if self.settings.kb_server else "embedded"

    @property
    def cache_dir(self) -> Path:
        key = hashlib.sha1(f"{self.settings.kb_server}|{self.settings.kb_collection}".encode())
        return Path(self.settings.data_dir) / "knowledge" / "cache" / key.hexdigest()[:12]

    # -- manifest -------------------------------------------------------------------
    def manifest(self) -> dict[str, dict[str, Any]]:
        """Every fully imported source with its content hash and passage count."""
        result: dict[str, dict[str, Any]] = {}
        for ids, metas, _docs in self._pages(self.sources, include=["metadatas"]):
            for source, meta in zip(ids, metas, strict=True):
                result[source] = dict(meta or {})
        return result

    def fingerprint(self) -> str:
        """Changes whenever any source is added, changed or removed.

        Cached: re-read after this process writes, and at most every
        ``FINGERPRINT_TTL_S`` seconds otherwise (another workstation may have imported
        into a shared server).
        """
        now = time.monotonic()
        if self._fingerprint is None or now - self._fingerprint_at > FINGERPRINT_TTL_S:
            items = sorted((s, str(m.get("hash"))) for s, m in self.manifest().items())
            self._fingerprint = hashlib.sha1(repr(items).encode()).hexdigest()
            self._fingerprint_at = now
        return self._fingerprint

    def forget_sources(self, sources: list[str]) -> None:
        """Before a source's passages change: a crash now means "import it again"."""
        if sources:
            self.sources.delete(ids=sources)
            self._fingerprint = None

    def mark_imported(self, entries: list[tuple[str, str, int]], kind: str = "file") -> None:
        """After all passages of these sources are stored: (source, content hash, passages)."""
        self._mark([(s, {"hash": h, "chunks": n, "kind": kind}) for s, h, n in entries])

    def _mark(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        if entries:
            self.sources.upsert(
                ids=[s for s, _ in entries],
                embeddings=[_MANIFEST_VECTOR] * len(entries),
                documents=[s for s, _ in entries],
                metadatas=[m for _, m in entries],
            )
        self._fingerprint = None

    # -- passages -------------------------------------------------------------------
    def add(self, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        """Store new passages. Callers delete a source's passages first, so ids are new
        (``add`` is a fifth faster than ``upsert``, which looks each id up)."""
        for start in range(0, len(chunks), WRITE_BATCH):
            part = chunks[start : start + WRITE_BATCH]
            self.passages.add(
                ids=[c.chunk_id for c in part],
                embeddings=embeddings[start : start + WRITE_BATCH],
                documents=[c.text for c in part],
                metadatas=[_metadata(c) for c in part],
            )

    def remove_source(self, source: str) -> None:
        """Passages first, then the manifest entry: a crash in between just redoes it."""
        self.remove_passages([source])
        self.sources.delete(ids=[source])
        self._fingerprint = None

    def remove_passages(self, sources: list[str]) -> None:
        if sources:
            self.passages.delete(where={"source": {"$in": sources}})

    def count(self) -> int:
        return int(self.passages.count())

    def all_passages(self) -> Iterator[StoredPassage]:
        for ids, metas, docs in self._pages(self.passages, include=["metadatas", "documents"]):
            for chunk_id, meta, text in zip(ids, metas, docs, strict=True):
                yield StoredPassage(chunk_id, text or "", dict(meta or {}))

    def get(self, chunk_ids: list[str]) -> list[StoredPassage]:
        if not chunk_ids:
            return []
        found = self.passages.get(ids=chunk_ids, include=["metadatas", "documents"])
        by_id = {
            i: StoredPassage(i, d or "", dict(m or {}))
            for i, m, d in zip(found["ids"], found["metadatas"], found["documents"], strict=True)
        }
        return [by_id[i] for i in chunk_ids if i in by_id]

    def document(self, doc_id: str) -> list[StoredPassage]:
        """All passages of one article, in order (for the article view)."""
        found = self.passages.get(where={"doc_id": doc_id}, include=["metadatas", "documents"])
        passages = [
            StoredPassage(i, d or "", dict(m or {}))
            for i, m, d in zip(found["ids"], found["metadatas"], found["documents"], strict=True)
        ]
        return sorted(passages, key=lambda p: int(p.meta.get("position", 0)))

    def dense(
        self, vector: np.ndarray, k: int, total: int | None = None
    ) -> list[tuple[str, float]]:
        """Nearest passages by cosine similarity (ids only: metadata would triple the cost)."""
        total = self.count() if total is None else total
        if total == 0:
            return []
        found = self.passages.query(
            query_embeddings=[vector], n_results=min(k, total), include=["distances"]
        )
        return [
            (i, 1.0 - float(d)) for i, d in zip(found["ids"][0], found["distances"][0], strict=True)
        ]

    def _pages(
        self, collection: Any, include: list[str]
    ) -> Iterator[tuple[list[str], list[Any], list[Any]]]:
        offset = 0
        while True:
            page = collection.get(include=include, limit=READ_PAGE, offset=offset)
            ids = page["ids"]
            if not ids:
                return
            metas = page.get("metadatas") or [None] * len(ids)
            docs = page.get("documents") or [None] * len(ids)
            yield ids, metas, docs
            offset += len(ids)


def _metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "path": "\x1f".join(chunk.path),
        "source": chunk.source,
        "url": chunk.url,
        "locale": chunk.locale,
        "position": chunk.position,
    }
