"""Runs the knowledge base for the window: opening, live refresh, search, import."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from copilot.contact import Contact
from copilot.errors import CopilotError
from ui.widgets.knowledge_panel import ArticleView, KnowledgePanel
from ui.worker import Worker, WorkerPool

# Type names only: the knowledge base loads chromadb, which must not slow the start.
if TYPE_CHECKING:
    from copilot.kb.retrieval import Hit


log = logging.getLogger(__name__)
KnowledgeFactory = Callable[[], Any]


class KnowledgeController(QObject):
    ready = Signal()
    failed = Signal(object)
    #: Articles found for a contact's conversation: (contact id, hits).
    conversation_hits = Signal(str, object)

    def __init__(self, panel: KnowledgePanel, factory: KnowledgeFactory, parent: QWidget) -> None:
        super().__init__(parent)
        self.panel = panel
        self.factory = factory
        self.window = parent
        self.kb: Any = None
        self.workers = WorkerPool(max_threads=1)
        # Imports get their own thread: a long import must not hold up live articles.
        self.import_workers = WorkerPool(max_threads=1)
        self._latest: dict[str, int] = {}
        self.last_hits: list[Hit] = []
        self._dialogs: list[QWidget] = []
        self._started = False
        panel.search_requested.connect(self.search)
        panel.open_requested.connect(self.open_article)

    # -- opening ---------------------------------------------------------------------------
    def start_once(self) -> None:
        if not self._started:
            self.start()

    def start(self) -> None:
        self._started = True
        self.panel.set_status("opening…")

        def job(cancel: threading.Event) -> Any:
            kb = self.factory()
            kb.ensure_demo(cancel=cancel)
            kb.search("warm up")
            return kb

        worker = Worker(job, "kb-open")
        worker.signals.finished.connect(self._on_opened)
        worker.signals.failed.connect(self._on_open_failed)
        self.workers.start(worker)

    def _on_opened(self, _id: int, kb: Any) -> None:
        self.kb = kb
        self.panel.set_status("ready")
        self.ready.emit()

    def _on_open_failed(self, _id: int, exc: BaseException) -> None:
        self.panel.set_status("unavailable")
        self.failed.emit(exc)

    # -- searching ---------------------------------------------------------------------
    def refresh_for(
        self, contact: Contact, then: Callable[[list[Hit]], None] | None = None
    ) -> None:
        """Articles for the conversation so far; ``then`` gets the hits (or [] on failure)."""
        if self.kb is None:
            if then is not None:
                then([])
            return
        kb = self.kb
        self._run(lambda cancel: kb.for_contact(contact), "conversation", then, contact.id)

    def search(self, text: str) -> None:
        if self.kb is None:
            self.panel.set_status("still opening…")
            return
        kb = self.kb
        self._run(lambda cancel: kb.search(text), "search", None)

    def _run(
        self, job: Callable[[threading.Event], Any], origin: str, then: Any, contact_id: str = ""
    ) -> None:
        worker = Worker(job, f"kb-{origin}")
        # Only the newest request of each kind counts: a search typed meanwhile must not
        # swallow the conversation refresh that a suggestion is waiting for.
        self._latest[origin] = worker.id

        def done(worker_id: int, hits: list[Hit]) -> None:
            if worker_id != self._latest.get(origin):
                return
            self.panel.show_hits(hits, origin)
            if origin == "conversation":
                self.last_hits = hits
                self.conversation_hits.emit(contact_id, hits)
            if then is not None:
                then(hits)

        def failed(worker_id: int, exc: BaseException) -> None:
            if worker_id != self._latest.get(origin):
                return
            log.warning("knowledge search failed: %s", type(exc).__name__)
            self.panel.set_status("search failed")
            if isinstance(exc, CopilotError):
                self.panel.set_status(exc.user_message[:80])
            if then is not None:
                then([])

        worker.signals.finished.connect(done)
        worker.signals.failed.connect(failed)
        self.workers.start(worker)

    # -- article view ------------------------------------------------------------------
    def open_article(self, hit: Hit) -> None:
        passages = self.kb.article(hit.passage.doc_id) if self.kb is not None else [hit.passage]
        view = ArticleView(hit, passages or [hit.passage], self.window)
        self._dialogs = [d for d in self._dialogs if d.isVisible()] + [view]
        view.show()

    # -- import --------------------------------------------------------------------------
    def choose_and_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Import a folder of articles")
        if folder:
            self.import_paths([Path(folder)])

    def import_paths(self, paths: list[Path]) -> Worker | None:
        """Import with a progress dialog that shows counts and an ETA and can cancel."""
        if self.kb is None:
            self.panel.set_status("still opening…")
            return None
        kb = self.kb
        dialog = QProgressDialog("Importing…", "Cancel", 0, 100, self.window)
        dialog.setObjectName("importProgress")
        dialog.setWindowTitle("Import into the knowledge base")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        worker = Worker(
            lambda cancel: kb.import_paths(paths, cancel=cancel, progress=emit), "kb-import"
        )

        def emit(progress: Any) -> None:
            worker.signals.item.emit(worker.id, progress)

        def on_progress(_id: int, p: Any) -> None:
            eta = f", about {int(p.eta_s)} s left" if p.eta_s is not None else ""
            dialog.setLabelText(
                f"{p.files_done} of {p.files_total} files, {p.chunks} passages, "
                f"{p.failed} failed{eta}"
            )
            # One step more than there are files: the last batch is stored after the last
            # file is read, and the dialog must not vanish before that.
            dialog.setMaximum(p.files_total + 1)
            dialog.setValue(p.files_done)

        dialog.canceled.connect(worker.cancel)
        worker.signals.item.connect(on_progress)
        worker.signals.finished.connect(lambda _id, report: self._on_imported(dialog, report))
        worker.signals.failed.connect(lambda _id, exc: self._on_import_failed(dialog, exc))
        self.import_workers.start(worker)
        self._import_dialog = dialog
        return worker

    def _on_imported(self, dialog: QProgressDialog, report: Any) -> None:
        dialog.close()
        failures = "\n".join(
            f"• {Path(o.source).name}: {o.problem} ({o.message})" for o in report.failures[:20]
        )
        text = (
            f"{report.count_imported} imported, {report.count_unchanged} unchanged, "
            f"{report.count_removed} removed, {len(report.failures)} failed; "
            f"{report.chunks} passages."
        )
        box = QMessageBox(self.window)
        box.setObjectName("importReport")
        box.setWindowTitle("Import finished")
        box.setText(text)
        if failures:
            box.setInformativeText("These files were not imported:\n" + failures)
        box.open()
        self._dialogs.append(box)
        self.panel.set_status(f"{report.chunks} new passages")

    def _on_import_failed(self, dialog: QProgressDialog, exc: BaseException) -> None:
        dialog.close()
        self.failed.emit(exc)
