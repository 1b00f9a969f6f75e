"""The model and its suggestion for the live contact: load, stream, cancel, insert, dismiss.

One suggestion streams at a time; a newer customer message cancels the one in
flight the moment it arrives, and anything a cancelled worker still emits is
dropped by its id. Each suggestion shown is an ``Offer`` for the analytics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from copilot.analytics.events import Reason, Source
from copilot.assist.citations import strip_citations
from copilot.assist.grounding import heading
from copilot.assist.session import AssistSession, Retrieval
from copilot.assist.suggestion import WITHHELD, Chunk, Suggestion
from copilot.errors import CopilotError
from copilot.model.engine import EngineState
from copilot.model.files import ModelInfo
from ui.clipboard_capture import copy_text
from ui.widgets.feedback import Offer, Recorder
from ui.widgets.suggestion_panel import SuggestionPanel
from ui.worker import Worker

# Type names only: the knowledge base loads chromadb, which must not slow the start.
if TYPE_CHECKING:
    from copilot.kb.retrieval import Hit
    from copilot.runtime import Runtime
    from ui.window.main_window import MainWindow

log = logging.getLogger(__name__)
MODEL_OFF = "Suggestions are off until the model problem above is fixed."


class SuggestionController(QObject):
    """Owns the suggestion panel's behaviour for the window (its ``host``)."""

    #: The profile a suggestion starts with; each Chunk; the finished Suggestion.
    began = Signal(str)
    chunk = Signal(object)
    done = Signal(object)
    #: "ready" or "failed" once the background model load ends.
    model_state = Signal(str)

    def __init__(self, panel: SuggestionPanel, host: MainWindow, recorder: Recorder) -> None:
        super().__init__(host)
        self.panel = panel
        self.host = host
        self.recorder = recorder
        self.worker: Worker | None = None
        self.pending = False
        self.grounding: list[Hit] = []
        self.offer: Offer | None = None
        #: What the model has streamed into the panel so far (before any edit by the agent).
        self.streamed = ""
        panel.insert_requested.connect(self.insert)
        panel.regenerate_requested.connect(self.request)
        panel.dismiss_requested.connect(self.dismiss)
        panel.source_clicked.connect(self._on_source_clicked)
        panel.feedback.given.connect(self._on_feedback)

    @property
    def runtime(self) -> Runtime:
        return self.host.runtime

    @property
    def assist(self) -> AssistSession:
        return self.host.assist

    def _status(self, text: str, ms: int = 4000) -> None:
        self.host.statusBar().showMessage(text, ms)

    # -- starting ----------------------------------------------------------------------
    def _retire(self) -> None:
        """Stop the current suggestion; shown and unused, it counts as dismissed."""
        self.cancel()
        self.recorder.dismissed(self.offer)
        self.offer = None

    def begin(self, profile: str) -> None:
        """A new suggestion is on its way (the articles are looked up first)."""
        self._retire()
        self.panel.start(profile)

    def request(self, hits: list[Hit] | None = None) -> None:
        """Cancel whatever is streaming and start a fresh suggestion for the contact."""
        self._retire()
        host = self.host
        self.grounding = list(hits if hits is not None else host.knowledge.last_hits)
        if not host.contact.turns:
            self._status("There is no customer message to reply to yet.")
            return
        engine = self.runtime.engine
        if engine.state is EngineState.FAILED:
            self.panel.clear(MODEL_OFF)
            return
        profile = host.profile_box.currentText()
        if engine.state is not EngineState.READY:
            self.pending = True
            self.panel.start(
                profile, "The model is still loading; the suggestion starts when it is ready…"
            )
            return
        assist, contact, company = self.assist, host.contact.snapshot(), host.company
        found = Retrieval(hits=list(self.grounding))

        def job(cancel: threading.Event) -> Iterator[Chunk]:
            return assist.suggest(contact, profile, company, retrieval=found, cancel=cancel)

        worker = Worker(job, name="suggestion")
        worker.signals.item.connect(self._on_item)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.failed.connect(self._on_failed)
        self.worker, self.streamed = worker, ""
        self.offer = Offer(Source.MODEL, profile, host.contact.id)
        self.panel.start(profile)
        self.began.emit(profile)
        host.workers.start(worker)

    # -- the model -----------------------------------------------------------------------
    def load_model(self) -> None:
        """Load in the background; the window is usable (and suggestions wait) meanwhile."""
        self.host.state_label.setText("Loading model…")
        engine = self.runtime.engine
        worker = Worker(lambda cancel: engine.load(), name="model-load")
        worker.signals.finished.connect(self._on_model_loaded)
        worker.signals.failed.connect(self._on_model_failed)
        self.host.workers.start(worker)

    def _on_model_loaded(self, _id: int, info: ModelInfo) -> None:
        host = self.host
        host.model_label.setText(info.label)
        host.model_label.setToolTip(str(info.path))
        host.state_label.setText("Ready")
        self.model_state.emit("ready")
        if self.pending:  # a suggestion asked for meanwhile starts now
            self.pending = False
            self.request()
        else:
            self.start_prefill()

    def _on_model_failed(self, _id: int, exc: BaseException) -> None:
        self.host.state_label.setText("Model unavailable")
        self.pending = False
        self.panel.clear(MODEL_OFF)
        self.host.report(exc)
        self.model_state.emit("failed")

    # -- streaming ---------------------------------------------------------------------
    def is_current(self, worker_id: int) -> bool:
        return self.worker is not None and self.worker.id == worker_id and not self.worker.cancelled

    def _on_item(self, worker_id: int, chunk: Chunk) -> None:
        if self.is_current(worker_id):
            self.streamed = chunk.text if chunk.replace else self.streamed + chunk.text
            self.panel.add(chunk)
            self.chunk.emit(chunk)

    def _on_finished(self, worker_id: int, result: Suggestion) -> None:
        if not self.is_current(worker_id):
            return
        stats = self.runtime.engine.last_stats
        self.panel.finish(result, stats.tokens_per_s)
        self.panel.show_sources(
            [
                (n, heading(self.grounding[n - 1]))
                for n in result.citations
                if n <= len(self.grounding)
            ]
        )
        self.host.speed_label.setText(f"{stats.tokens_per_s:.0f} tok/s")
        self.worker = None
        self._record_shown(result)
        self.done.emit(result)

    def _record_shown(self, result: Suggestion) -> None:
        if self.offer is None:
            return
        self.offer.text = strip_citations(result.text)
        first = result.first_token_s
        self.recorder.shown(
            self.offer, first * 1000 if first is not None else None, result.language
        )

    def _on_failed(self, worker_id: int, exc: BaseException) -> None:
        if not self.is_current(worker_id):
            return
        self.worker = None
        self.offer = None
        self.panel.set_busy(False)
        self.host.report(exc)

    def cancel(self) -> None:
        """Stop the stream now: nothing it still yields reaches the panel."""
        self.pending = False
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None
            self.panel.set_busy(False)

    def drop(self, placeholder: str | None = None) -> None:
        """The contact moved on (the agent replied, a new contact): no dismissal recorded."""
        self.cancel()
        self.offer = None
        if placeholder is None:
            self.panel.clear()
        else:
            self.panel.clear(placeholder)

    # -- the agent's choices ---------------------------------------------------------------
    def dismiss(self) -> None:
        self._retire()
        self.panel.clear()

    def insert(self) -> None:
        """Copy what the panel shows (the agent may have edited it) to the clipboard."""
        text = self.panel.current_text
        if not text:
            self._status("There is no suggestion to insert yet.")
            return
        if text == WITHHELD:
            self._status("This suggestion was withheld. Press Regenerate or write your own reply.")
            return
        self.cancel()
        inserted = strip_citations(text)
        copy_text(inserted)
        self._status("Copied. Paste it into your chat or email tool (Ctrl+V).", 5000)
        offer = self.offer
        if offer is None:
            return
        if not offer.shown:  # inserted while it was still streaming: what it showed so far
            offer.text = strip_citations(self.streamed.strip())
            self.recorder.shown(offer)
        self.recorder.inserted(offer, inserted)

    def _on_feedback(self, up: bool, reason: Reason | None) -> None:
        if self.offer is not None:
            self.recorder.feedback(Source.MODEL, self.offer.profile, up, reason, self.offer.id)

    def _on_source_clicked(self, number: int) -> None:
        if 1 <= number <= len(self.grounding):
            self.host.open_article(self.grounding[number - 1])

    # -- the instructions' head start ------------------------------------------------------
    def start_prefill(self) -> None:
        """While the agent waits for the customer, evaluate the instructions ahead of time."""
        host = self.host
        if self.runtime.engine.state is not EngineState.READY or host.contact.turns:
            return
        assist, contact = self.assist, host.contact.snapshot()
        profile, company = host.profile_box.currentText(), host.company

        def job(cancel: threading.Event) -> int:
            try:
                return assist.prefill(contact, profile, company, cancel)
            except CopilotError:
                return 0  # the same problem is reported when a suggestion is asked for

        worker = Worker(job, "prefill")
        worker.signals.failed.connect(self._on_prefill_failed)
        host.workers.start(worker)

    def _on_prefill_failed(self, _id: int, exc: BaseException) -> None:
        # Only a head start failed; a real suggestion will report any lasting problem.
        log.warning("prefill failed: %s", type(exc).__name__)
