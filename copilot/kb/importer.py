"""Import files into the knowledge store: incremental, resumable, with progress.

* unchanged files (same content hash) are skipped, changed ones replaced, and files
  deleted from an imported folder are removed;
* each file is one unit of work: its passages are replaced and only then is it
  marked imported, so a killed import resumes where it stopped;
* a broken file is reported (what is wrong and why) and the rest carry on; if an
  earlier good version was imported, it stays until a readable version arrives.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import numpy as np

from copilot.errors import Cancelled
from copilot.kb.chunking import Chunk, chunk_document
from copilot.kb.embedding import embed, exit_with_parent
from copilot.kb.model import Document, Problem, ReadError
from copilot.kb.readers import MAX_BYTES, iter_files, read_file
from copilot.kb.store import KnowledgeStore

log = logging.getLogger(__name__)


class Status(StrEnum):
    IMPORTED = "imported"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    FAILED = "failed"


@dataclass(frozen=True)
class FileOutcome:
    source: str
    status: Status
    chunks: int = 0
    problem: str = ""
    message: str = ""


@dataclass
class ImportProgress:
    files_done: int
    files_total: int
    chunks: int
    failed: int
    current: str
    elapsed_s: float
    eta_s: float | None


@dataclass
class ImportReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    elapsed_s: float = 0.0
    embed_s: float = 0.0
    """Time spent embedding, or waiting for the embedding helper process."""

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def count_imported(self) -> int:
        return self.count(Status.IMPORTED)

    @property
    def count_unchanged(self) -> int:
        return self.count(Status.UNCHANGED)

    @property
    def count_removed(self) -> int:
        return self.count(Status.REMOVED)

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status is Status.IMPORTED)

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status is Status.FAILED]

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.elapsed_s if self.elapsed_s > 0 else 0.0


ProgressFn = Callable[[ImportProgress], None]


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


BATCH_CHUNKS = 512
#: Imports this large embed in a helper process; smaller ones are over before it starts.
PARALLEL_BYTES = 1_000_000


@dataclass
class _Prepared:
    source: str
    digest: str
    chunks: list[Chunk]


def _unique_ids(documents: list[Document]) -> list[Document]:
    """An export that repeats an article id keeps both articles (the second gets a suffix)."""
    seen: dict[str, int] = {}
    unique = []
    for document in documents:
        count = seen.get(document.doc_id, 0)
        seen[document.doc_id] = count + 1
        unique.append(
            replace(document, doc_id=f"{document.doc_id}~{count + 1}") if count else document
        )
    return unique


def _prepare(path: Path, known: dict[str, str]) -> _Prepared | FileOutcome:
    """Read and chunk one file, or say why not (or that it is unchanged)."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            why = f"{size / 1e6:.1f} MB, limit {MAX_BYTES / 1e6:.0f} MB"
            raise ReadError(Problem.TOO_LARGE, source, why)
        digest = content_hash(path)
        if known.get(source) == digest:
            return FileOutcome(source, Status.UNCHANGED)
        chunks: list[Chunk] = [c for d in _unique_ids(read_file(path)) for c in chunk_document(d)]
    except ReadError as exc:
        return FileOutcome(source, Status.FAILED, problem=exc.problem.value, message=exc.why)
    except OSError as exc:
        return FileOutcome(
            source, Status.FAILED, problem=Problem.UNREADABLE.value, message=str(exc)
        )
    if not chunks:
        return FileOutcome(source, Status.FAILED, problem=Problem.EMPTY.value, message="no text")
    return _Prepared(source, digest, chunks)


class _Writer:
    """Embeds prepared files in batches and stores them, the two overlapping.

    For a large import the embedding runs in a helper process (the model uses one
    core; chromadb's inserts and the file readers use the other), one batch ahead
    of the store. Batches are stored strictly in order: forget the files' manifest
    entries, delete whatever passages an earlier version (or a killed run) left, store
    the new passages, then record the files as imported. A crash anywhere leaves a
    file without an entry (so it is imported again), never half-new and recorded.
    """

    def __init__(
        self,
        store: KnowledgeStore,
        manifest: dict[str, dict[str, object]],
        report: ImportReport,
        parallel: bool,
    ) -> None:
        self.store, self.manifest, self.report = store, manifest, report
        self.batch: list[_Prepared] = []
        self.inflight: tuple[list[_Prepared], Future[np.ndarray]] | None = None
        self.pool: ProcessPoolExecutor | None = None
        if parallel:
            self.pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=exit_with_parent,
                initargs=(os.getpid(),),
            )
            self.pool.submit(embed, ["load the model while the first files are read"])

    def add(self, prepared: _Prepared) -> None:
        self.batch.append(prepared)
        if sum(len(p.chunks) for p in self.batch) >= BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        texts = [c.embedding_text for p in batch for c in p.chunks]
        future: Future[np.ndarray]
        if self.pool is not None:
            future = self.pool.submit(embed, texts)
        else:
            future = Future()
            started = time.perf_counter()
            future.set_result(embed(texts))
            self.report.embed_s += time.perf_counter() - started
        self._store_inflight()
        self.inflight = (batch, future)

    def close(self, store_pending: bool = True) -> None:
        try:
            if store_pending:
                self._store_inflight()
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)

    def _store_inflight(self) -> None:
        if self.inflight is None:
            return
        batch, future = self.inflight
        self.inflight = None
        waited = time.perf_counter()
        vectors = future.result()
        if self.pool is not None:
            self.report.embed_s += time.perf_counter() - waited
        self.store.forget_sources([p.source for p in batch if p.source in self.manifest])
        self.store.remove_passages([p.source for p in batch])
        self.store.add([c for p in batch for c in p.chunks], vectors)
        self.store.mark_imported([(p.source, p.digest, len(p.chunks)) for p in batch])
        for p in batch:
            self.report.outcomes.append(
                FileOutcome(p.source, Status.IMPORTED, chunks=len(p.chunks))
            )


def _removed_sources(roots: list[Path], manifest: dict[str, dict[str, object]]) -> list[str]:
    """Imported files under the given folders (or given directly) that no longer exist."""
    gone = []
    for source, meta in manifest.items():
        if meta.get("kind") != "file" or Path(source).exists():
            continue
        if any(Path(source) == r or Path(source).is_relative_to(r) for r in roots):
            gone.append(source)
    return gone


def import_paths(
    store: KnowledgeStore,
    paths: list[Path],
    *,
    cancel: threading.Event | None = None,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Import files and folders; raises Cancelled between files when ``cancel`` is set."""
    roots = [p.expanduser().resolve() for p in paths]
    files = iter_files(roots)
    manifest = store.manifest()
    known = {s: str(m.get("hash")) for s, m in manifest.items()}
    report = ImportReport()
    sizes = [_size(f) for f in files]
    writer = _Writer(store, manifest, report, parallel=sum(sizes) >= PARALLEL_BYTES)
    started = time.perf_counter()
    try:
        _prepare_all(files, sizes, known, writer, report, cancel, progress, started)
        writer.flush()
        writer.close()
    except BaseException:
        writer.close(store_pending=False)
        raise
    for source in _removed_sources(roots, manifest):
        store.remove_source(source)
        report.outcomes.append(FileOutcome(source, Status.REMOVED))
    report.elapsed_s = time.perf_counter() - started
    return report


def _prepare_all(
    files: list[Path],
    sizes: list[int],
    known: dict[str, str],
    writer: _Writer,
    report: ImportReport,
    cancel: threading.Event | None,
    progress: ProgressFn | None,
    started: float,
) -> None:
    total_bytes, done_bytes, prepared_chunks = max(1, sum(sizes)), 0, 0
    for index, (path, size) in enumerate(zip(files, sizes, strict=True)):
        if cancel is not None and cancel.is_set():
            raise Cancelled
        outcome = _prepare(path, known)
        if isinstance(outcome, _Prepared):
            prepared_chunks += len(outcome.chunks)
            writer.add(outcome)
        else:
            report.outcomes.append(outcome)
            if outcome.status is Status.FAILED:
                log.warning("import failed: %s: %s", outcome.problem, outcome.message)
        done_bytes += size
        if progress is not None:
            elapsed = time.perf_counter() - started
            rate = done_bytes / elapsed if elapsed > 0 else 0.0
            progress(
                ImportProgress(
                    files_done=index + 1,
                    files_total=len(files),
                    chunks=prepared_chunks,
                    failed=report.count(Status.FAILED),
                    current=str(path),
                    elapsed_s=elapsed,
                    eta_s=(total_bytes - done_bytes) / rate if rate > 0 else None,
                )
            )


def remove_paths(store: KnowledgeStore, paths: list[str]) -> list[str]:
    """Remove imported sources by path (a folder removes everything imported under it)."""
    manifest = store.manifest()
    removed = []
    for raw in paths:
        target = Path(raw).expanduser().resolve()
        for source in manifest:
            if Path(source) == target or Path(source).is_relative_to(target) or source == raw:
                store.remove_source(source)
                removed.append(source)
    return sorted(set(removed))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
