"""One object for the rest of the product: open the store, import, search."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from copilot.contact import Contact
from copilot.kb.importer import ImportReport, ProgressFn, import_paths, remove_paths
from copilot.kb.retrieval import Hit, Retriever
from copilot.kb.store import KnowledgeStore, StoredPassage
from copilot.kb.turn_vectors import TurnVectors
from copilot.paths import resources_dir
from copilot.settings import Settings

log = logging.getLogger(__name__)


def demo_kb_dir() -> Path:
    return resources_dir() / "kb"


class KnowledgeBase:
    def __init__(self, settings: Settings, store: KnowledgeStore | None = None) -> None:
        self.settings = settings
        self.store = store or KnowledgeStore(settings)
        self.retriever = Retriever(self.store)
        self._write_lock = threading.Lock()

    def import_paths(
        self,
        paths: list[Path],
        *,
        cancel: threading.Event | None = None,
        progress: ProgressFn | None = None,
    ) -> ImportReport:
        with self._write_lock:
            return import_paths(self.store, paths, cancel=cancel, progress=progress)

    def ensure_demo(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> ImportReport | None:
        """Import the bundled demo articles into an empty store (the embedded default)."""
        if not self.settings.kb_demo or self.store.count() > 0:
            return None
        return self.import_paths([demo_kb_dir()], progress=progress, cancel=cancel)

    def remove(self, paths: list[str]) -> list[str]:
        with self._write_lock:
            return remove_paths(self.store, paths)

    def for_contact(
        self, contact: Contact, k: int = 5, turns: TurnVectors | None = None
    ) -> list[Hit]:
        return self.retriever.for_contact(contact, k=k, turns=turns)

    def search(self, text: str, k: int = 5) -> list[Hit]:
        return self.retriever.search_text(text, k=k)

    def article(self, doc_id: str) -> list[StoredPassage]:
        return self.store.document(doc_id)

    def stats(self) -> dict[str, object]:
        manifest = self.store.manifest()
        return {
            "mode": self.store.mode,
            "collection": self.settings.kb_collection,
            "sources": len(manifest),
            "passages": self.store.count(),
            "articles": len({p.doc_id for p in self.store.all_passages()}),
        }
