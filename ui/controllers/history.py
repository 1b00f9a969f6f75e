"""Runs the customer history for the window: unlock, recognise, live summary, wrap-up.

The store opens in the background once the model is in (asking for a passphrase when
no keyring can hold its key). Reading a timeline takes a few milliseconds, so it is
done on the GUI thread and shows the moment a customer is known. Model summaries run
in a worker and are dropped as soon as the conversation moves on.
"""

from __future__ import annotations

import html
import logging
import threading
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from copilot.assist.suggestion import TextEngine
from copilot.contact import Contact
from copilot.errors import Cancelled, CopilotError, PrivacyError, StoreError
from copilot.history.extractive import summarise_extractive
from copilot.history.keys import PassphraseRequired
from copilot.history.records import ContactSummary, guess_identifier_kind
from copilot.history.service import History, Timeline, messages_of
from copilot.history.store import Customer
from copilot.history.summarise import summarise
from copilot.model.engine import EngineState
from copilot.runtime import Runtime
from ui.dialogs.passphrase import PassphraseDialog
from ui.dialogs.wrapup import WrapupDialog
from ui.widgets.history_panel import HistoryPanel
from ui.worker import Worker, WorkerPool

log = logging.getLogger(__name__)
HISTORY_OFF = "Customer history is off"
#: A draft that takes longer than this shows a progress dialog (a quick one just opens).
PROGRESS_AFTER_MS = 250


def _waiting_text(seconds: float) -> str:
    waited = f" ({seconds:.0f} s)" if seconds >= 1 else ""
    return (
        f"The model is writing the wrap-up draft…{waited}\n"
        "Or take the quick draft (sentences from the conversation) now."
    )


class HistoryController(QObject):
    ready = Signal()
    failed = Signal(object)
    #: A customer's timeline was drawn (None: no customer, or a new one).
    shown = Signal(object)
    #: The live summary changed: (summary, method text).
    live_changed = Signal(object, str)
    #: The wrap-up was saved for this customer (label); the window starts a new contact.
    saved = Signal(str)

    def __init__(self, panel: HistoryPanel, runtime: Runtime, parent: QWidget) -> None:
        super().__init__(parent)
        self.panel = panel
        self.runtime = runtime
        self.window = parent
        self.history: History | None = None
        self.customer: Customer | None = None
        self.workers = WorkerPool(max_threads=1)
        self.passphrase_dialog: PassphraseDialog | None = None
        self.wrapup_dialog: WrapupDialog | None = None
        self.progress: QProgressDialog | None = None
        self.last_shown_s: float | None = None
        self._contact: Contact | None = None
        self._started = False
        self._off_reason = ""
        self._request: PassphraseRequired | None = None
        self._tried_passphrase = False
        self._live_worker: Worker | None = None
        self._wrapup_worker: Worker | None = None
        self._model_summary: tuple[str, int, ContactSummary] | None = None
        panel.summarise_requested.connect(self.summarise_now)
        panel.unlock_requested.connect(self.unlock)

    # -- opening -----------------------------------------------------------------------
    def start_once(self) -> None:
        if not self._started:
            self.start()

    def start(self, passphrase: str | None = None) -> None:
        self._started = True
        self._tried_passphrase = passphrase is not None
        self.panel.set_status("opening…")
        settings = self.runtime.settings

        def job(cancel: threading.Event) -> History:
            history = History.open(settings, passphrase=passphrase)
            if cancel.is_set():
                history.close()
                raise Cancelled
            history.ensure_demo()
            history.apply_retention()
            return history

        worker = Worker(job, "history-open")
        worker.signals.finished.connect(self._on_opened)
        worker.signals.failed.connect(self._on_open_failed)
        self.workers.start(worker)

    def _on_opened(self, _id: int, history: History) -> None:
        self.history, self._off_reason, self._request = history, "", None
        self.panel.set_status("")
        log.info("customer history open (key from %s)", history.key_source)
        self.ready.emit()
        if self._contact is not None:
            self.show_for(self._contact)
        else:
            self.panel.show_no_customer()

    def _on_open_failed(self, _id: int, exc: BaseException) -> None:
        if isinstance(exc, PassphraseRequired):
            self._request = exc
            self.ask_passphrase("")
        elif isinstance(exc, (StoreError, PrivacyError)) and self._tried_passphrase:
            self.ask_passphrase(exc.user_message)  # most likely a wrong passphrase
        else:
            reason = exc.user_message if isinstance(exc, CopilotError) else "It failed to open."
            self._turn_off(reason)
            self.failed.emit(exc)

    def ask_passphrase(self, error: str) -> None:
        if self._request is None:
            return
        dialog = PassphraseDialog(self._request, error, self.window)
        dialog.accepted.connect(lambda: self.start(dialog.passphrase()))
        dialog.rejected.connect(self._on_passphrase_refused)
        self.passphrase_dialog = dialog
        dialog.open()

    def _on_passphrase_refused(self) -> None:
        reason = "No passphrase was given, so earlier contacts cannot be shown or saved."
        self._turn_off(reason)
        self.failed.emit(
            PrivacyError(f"{HISTORY_OFF}: {reason} Use Unlock… in the customer panel to open it.")
        )

    def _turn_off(self, reason: str) -> None:
        self._off_reason = reason
        self.panel.show_off(reason)

    def unlock(self) -> None:
        if self._request is not None:
            self.ask_passphrase("")
        elif self.history is None:
            self.start()

    @property
    def is_off(self) -> bool:
        return self.history is None and bool(self._off_reason)

    # -- recognition --------------------------------------------------------------------
    def search(self, text: str) -> list[Customer]:
        """Customers for the picker; nothing while the store is closed."""
        if self.history is None:
            return []
        try:
            return self.history.store.search(text)
        except StoreError as exc:
            self.failed.emit(exc)
            return []

    def show_for(self, contact: Contact) -> None:
        """Find the contact's customer by phone, email or handle and draw their history."""
        self._contact = contact
        self.customer = None
        ref = (contact.customer_identifier or "").strip()
        if self.history is None:
            if not self.is_off:
                self.panel.show_no_customer("Customer history is opening…")
            return
        if not ref:
            self.panel.show_no_customer()
            self.shown.emit(None)
            return
        started = time.perf_counter()
        try:
            customer, how = (
                self.history.recognise(contact),
                f"recognised by {guess_identifier_kind(ref)}",
            )
            if customer is None:
                customer, how = self._by_name(ref), "found by name"
        except StoreError as exc:
            self.failed.emit(exc)
            return
        if customer is None:
            self.panel.show_new_customer(ref, contact.customer_name or "")
            self.panel.set_status("")
            self.shown.emit(None)
            return
        self._show(customer, how, started)

    def show_customer(self, customer_id: str, how: str = "picked by you") -> None:
        if self.history is None:
            return
        started = time.perf_counter()
        try:
            customer = self.history.store.customer(customer_id)
        except StoreError as exc:
            self.failed.emit(exc)
            return
        if customer is not None:
            self._show(customer, how, started)

    def _by_name(self, text: str) -> Customer | None:
        assert self.history is not None
        named = [c for c in self.history.store.search(text) if c.name.casefold() == text.casefold()]
        return named[0] if len(named) == 1 else None

    def _show(self, customer: Customer, how: str, started: float) -> None:
        assert self.history is not None
        try:
            timeline = self.history.timeline(customer.id)
        except StoreError as exc:
            self.failed.emit(exc)
            return
        if timeline is None:
            return
        self.customer = customer
        self.panel.show_timeline(timeline, how)
        self.last_shown_s = time.perf_counter() - started
        self.panel.set_status(f"{self.last_shown_s * 1000:.0f} ms")
        self.panel.status.setToolTip(
            f"Looked up and drawn in {self.last_shown_s * 1000:.1f} ms "
            f"(store read {timeline.seconds * 1000:.1f} ms)"
        )
        log.info(
            "customer history shown in %.1f ms (store read %.1f ms, %d contacts)",
            self.last_shown_s * 1000,
            timeline.seconds * 1000,
            len(timeline.contacts),
        )
        self.shown.emit(timeline)

    @property
    def timeline(self) -> Timeline | None:
        return self.panel.timeline

    # -- live summary ---------------------------------------------------------------------
    def contact_changed(self, contact: Contact) -> None:
        """A message was added: a stale model summary is dropped, the quick one redrawn."""
        self._contact = contact
        self._cancel(self._live_worker)
        self._live_worker = None
        self.panel.set_summarising(False)
        if not contact.turns:
            self._show_live(None, "")
            return
        self._show_live(
            summarise_extractive(messages_of(contact)), "extractive, after each message"
        )

    def _show_live(self, summary: ContactSummary | None, meta: str) -> None:
        self.panel.show_live(summary, meta)
        self.live_changed.emit(summary, meta)

    def _engine(self) -> TextEngine | None:
        """The model when it can write now; None means the extractive summary."""
        engine = self.runtime.engine
        return engine if engine.state is EngineState.READY else None

    def summarise_now(self) -> None:
        contact = self._contact
        if contact is None or not contact.turns:
            self.panel.live_meta.setText("nothing to summarise yet")
            return
        if self._engine() is None:
            self.panel.live_meta.setText("the model is not ready; this is the quick summary")
            return
        self._cancel(self._live_worker)
        snapshot = contact.snapshot()
        worker = self._summary_worker(snapshot, "live-summary")
        worker.signals.finished.connect(
            lambda worker_id, summary: self._on_live_summary(worker_id, snapshot, summary)
        )
        worker.signals.failed.connect(self._on_live_failed)
        self._live_worker = worker
        self.panel.set_summarising(True)
        self.workers.start(worker)

    def _summary_worker(self, contact: Contact, name: str) -> Worker:
        engine, messages = self._engine(), messages_of(contact)
        return Worker(lambda cancel: summarise(engine, messages, cancel), name)

    def _on_live_summary(self, worker_id: int, contact: Contact, summary: ContactSummary) -> None:
        if self._live_worker is None or self._live_worker.id != worker_id:
            return
        self._live_worker = None
        self._model_summary = (contact.id, len(contact.turns), summary)
        self.panel.set_summarising(False)
        self._show_live(summary, f"summary: {summary.method.value}")

    def _on_live_failed(self, worker_id: int, exc: BaseException) -> None:
        if self._live_worker is not None and self._live_worker.id == worker_id:
            self._live_worker = None
            self.panel.set_summarising(False)
            self.failed.emit(exc)

    @staticmethod
    def _cancel(worker: Worker | None) -> None:
        if worker is not None:
            worker.cancel()

    # -- wrap-up ------------------------------------------------------------------------
    def end_contact(self, contact: Contact) -> None:
        """Draft the wrap-up note (the model's when it is ready), then let the agent edit it."""
        if self._wrapup_worker is not None or (
            self.wrapup_dialog is not None and self.wrapup_dialog.isVisible()
        ):
            return
        self._cancel(self._live_worker)
        self._live_worker = None
        self.panel.set_summarising(False)
        cached = self._model_summary
        if cached is not None and cached[:2] == (contact.id, len(contact.turns)):
            self.open_wrapup(contact, cached[2])
            return
        if self._engine() is None:
            self.open_wrapup(contact, summarise_extractive(messages_of(contact)))
            return
        worker = self._summary_worker(contact.snapshot(), "wrapup-summary")
        progress = QProgressDialog(_waiting_text(0), "Quick draft instead", 0, 0, self.window)
        progress.setObjectName("wrapupProgress")
        progress.setWindowTitle("Wrap-up")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(PROGRESS_AFTER_MS)
        progress.canceled.connect(lambda: self._on_wrapup_quick(worker.id, contact))
        worker.signals.finished.connect(
            lambda worker_id, summary: self._on_wrapup_draft(worker_id, contact, summary)
        )
        worker.signals.failed.connect(
            lambda worker_id, exc: self._on_wrapup_failed(worker_id, contact, exc)
        )
        self._wrapup_worker, self.progress = worker, progress
        progress.setValue(0)
        started = time.monotonic()
        ticker = QTimer(progress)
        ticker.timeout.connect(
            lambda: progress.setLabelText(_waiting_text(time.monotonic() - started))
        )
        ticker.start(1000)
        self.workers.start(worker)

    def _take_wrapup(self, worker_id: int) -> bool:
        """True once for the current draft job; it also closes the progress dialog."""
        if self._wrapup_worker is None or self._wrapup_worker.id != worker_id:
            return False
        self._wrapup_worker = None
        if self.progress is not None:
            progress, self.progress = self.progress, None
            progress.canceled.disconnect()
            progress.close()
            progress.deleteLater()
        return True

    def _on_wrapup_draft(self, worker_id: int, contact: Contact, summary: ContactSummary) -> None:
        if self._take_wrapup(worker_id):
            self._model_summary = (contact.id, len(contact.turns), summary)
            self.open_wrapup(contact, summary)

    def _on_wrapup_quick(self, worker_id: int, contact: Contact) -> None:
        worker = self._wrapup_worker
        if self._take_wrapup(worker_id):
            self._cancel(worker)
            self.open_wrapup(contact, summarise_extractive(messages_of(contact)))

    def _on_wrapup_failed(self, worker_id: int, contact: Contact, exc: BaseException) -> None:
        if self._take_wrapup(worker_id):
            self.failed.emit(exc)
            self.open_wrapup(contact, summarise_extractive(messages_of(contact)))

    def open_wrapup(self, contact: Contact, draft: ContactSummary) -> WrapupDialog:
        dialog = WrapupDialog(draft, self._target(contact), self.history is not None, self.window)
        dialog.save_requested.connect(lambda summary: self._save(dialog, contact, summary))
        self.wrapup_dialog = dialog
        dialog.open()
        return dialog

    def _target(self, contact: Contact) -> str:
        """Where Save puts the note, in words (rich text: names are escaped)."""
        if self.history is None:
            state = HISTORY_OFF if self.is_off else "Customer history is still opening"
            return (
                f"<b>{state}</b>, so this note cannot be saved here. "
                "Copy it into your CRM, or Cancel and end the contact again once it is open."
            )
        if self.customer is not None:
            return f"Saves to <b>{html.escape(self.customer.label)}</b>'s history."
        ref = contact.customer_identifier or ""
        if ref:
            return f"Saves as a <b>new customer</b>: {html.escape(ref)}."
        return "No customer identified: saves as a <b>new customer</b> without phone or email."

    def _save(self, dialog: WrapupDialog, contact: Contact, summary: ContactSummary) -> None:
        if self.history is None:
            dialog.show_error(f"{HISTORY_OFF}; the note was not saved.")
            return
        customer_id = self.customer.id if self.customer is not None else None
        try:
            self.history.save_live(
                contact, summary, customer_id, agent=self.runtime.settings.agent_name
            )
        except StoreError as exc:
            dialog.show_error(exc.user_message + " Your note is still here: try Save again.")
            self.failed.emit(exc)
            return
        label = self.customer.label if self.customer is not None else ""
        self._model_summary = None
        dialog.accept()
        self.saved.emit(label or contact.customer_name or contact.customer_identifier or "")

    # -- closing ------------------------------------------------------------------------
    def close(self) -> None:
        self.workers.cancel_all()
        self.workers.wait(10_000)
        if self.history is not None:
            self.history.close()
            self.history = None
