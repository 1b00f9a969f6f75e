"""Serves the loopback API beside the window, and lets its events drive the window.

The server runs in its own thread and calls its listeners there, so every event is
re-emitted as a queued signal and handled on the GUI thread. While an API contact is
the window's contact, the window's suggestion and articles are mirrored back to the
API: an integration reads the same text the agent sees.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal

from copilot.api.live import (
    LiveContact,
    LiveContacts,
    UnknownContact,
    approved_out,
    article_out,
)
from copilot.api.models import DEFAULT_PORT
from copilot.assist.suggestion import Chunk, Suggestion
from copilot.contact import Role
from copilot.errors import Cancelled, CopilotError, IntegrationError
from ui.worker import Worker

if TYPE_CHECKING:
    from copilot.api.serve import RunningApi
    from copilot.kb.retrieval import Hit
    from copilot.runtime import Runtime
    from ui.dialogs.integration import IntegrationDialog
    from ui.window.main_window import MainWindow

log = logging.getLogger(__name__)
PORT_ENV = "AGENT_COPILOT_API_PORT"
HOST = "127.0.0.1"


def api_port() -> int:
    """The port from AGENT_COPILOT_API_PORT (0: any free one), else the default."""
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or int(raw) > 65535:
        raise IntegrationError(
            f"The local API is off: {PORT_ENV}={raw!r} is not a port number (0 to 65535)."
        )
    return int(raw)


@dataclass
class Served:
    """What starting the API gave: the server, or the problem that stopped it."""

    live: LiveContacts
    running: RunningApi | None
    token: str
    where: str
    problem: str = ""


def _token() -> tuple[str, str]:
    from copilot.api.server import api_token

    try:
        return api_token()
    except CopilotError:
        raise
    except Exception as exc:  # noqa: BLE001 - a keyring backend failing, e.g. locked
        raise IntegrationError(
            f"The local API is off: the OS keyring did not give its token ({type(exc).__name__})."
        ) from exc


class ApiBridge(QObject):
    #: Starting, started, failed or stopped: the Integration dialog redraws.
    changed = Signal()
    #: (event name, contact id) from the server thread; queued to the GUI thread.
    _arrived = Signal(str, str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.live: LiveContacts | None = None
        self.running: RunningApi | None = None
        self.token = ""
        self.where = ""
        self.problem = ""
        self.starting = False
        self.dialog: IntegrationDialog | None = None
        self._started = False
        self._stopped = False
        self._worker: Worker | None = None
        self._launched: list[RunningApi] = []
        self._mirror: tuple[str, int] | None = None
        self._segments: dict[str, str] = {}
        self._arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)
        window.suggestion_began.connect(self._on_suggestion_began)
        window.suggestion_chunk.connect(self._on_suggestion_chunk)
        window.suggestion_done.connect(self._on_suggestion_done)
        window.knowledge.conversation_hits.connect(self._on_conversation_hits)
        window.macros.matched.connect(self._on_macros_matched)
        window.history.ready.connect(self._on_history_ready)

    # -- serving ---------------------------------------------------------------------
    def start_once(self) -> None:
        if not self._started:
            self.start()

    def start(self) -> None:
        """Start serving in the background: uvicorn and the keyring take a moment."""
        self._started = True
        try:
            port = api_port()
        except IntegrationError as exc:
            self._fail(exc)
            return
        runtime, history = self.window.runtime, self.window.history.history
        worker = Worker(lambda cancel: self._serve(runtime, history, port, cancel), "api-start")
        worker.signals.finished.connect(self._on_served)
        worker.signals.failed.connect(lambda _id, exc: self._fail(exc))
        self.starting, self._worker = True, worker
        self.changed.emit()
        # The history's one thread: the store's key and the API token both come from the
        # keyring, and a keyring backend is not safe to use from two threads at once.
        self.window.history.workers.start(worker)

    def _serve(self, runtime: Runtime, history: Any, port: int, cancel: threading.Event) -> Served:
        from copilot.api.serve import start_in_thread

        if cancel.is_set():
            raise Cancelled
        token, where = _token()
        live = LiveContacts(runtime, knowledge=None, history=history, generate=False)
        live.listeners.append(self._listen)
        # Set before the first request can arrive: an event may reach the GUI thread
        # before this worker's result does.
        self.live = live
        try:
            running = start_in_thread(live, token, HOST, port)
        except CopilotError as exc:
            self.live = None
            return Served(live, None, token, where, exc.user_message)
        self._launched.append(running)
        if cancel.is_set():
            running.stop()
            raise Cancelled
        return Served(live, running, token, where)

    def _listen(self, name: str, contact_id: str) -> None:
        """Called on the server thread: hand the event to the GUI thread."""
        try:
            self._arrived.emit(name, contact_id)
        except RuntimeError:  # the window is gone and the server is stopping
            log.debug("API event %s after the window closed", name)

    def _on_served(self, _id: int, served: Served) -> None:
        self.starting = False
        if self._stopped:
            return
        self.token, self.where = served.token, served.where
        if served.running is None:
            # The core's advice names the CLI's option; the window reads an environment variable.
            problem = served.problem.replace("with --port", f"with {PORT_ENV}")
            self._fail(IntegrationError(f"The local API is off. {problem}"))
            return
        self.running = served.running
        served.live.history = self.window.history.history
        log.info("local API listening on %s (token: %s)", served.running.url, served.where)
        self.changed.emit()

    def _fail(self, exc: BaseException) -> None:
        self.starting = False
        self.problem = exc.user_message if isinstance(exc, CopilotError) else "It failed."
        self.changed.emit()
        self.window.report(exc)

    def _on_history_ready(self) -> None:
        if self.live is not None:
            self.live.history = self.window.history.history

    def stop(self) -> None:
        """Stop serving (the window closes): no more events reach the window."""
        self._stopped = True
        if self._worker is not None:
            self._worker.cancel()  # a server it starts after this stops itself
        if self.live is not None:
            self.live.listeners.clear()
            self.live.history = None
        for running in self._launched:
            running.stop(timeout=2.0)
        self._launched.clear()
        self.running = None
        self.changed.emit()

    @property
    def url(self) -> str:
        return self.running.url if self.running is not None else ""

    def show_dialog(self) -> None:
        from ui.dialogs.integration import IntegrationDialog

        if self.dialog is None:
            self.dialog = IntegrationDialog(self, self.window)
        self.dialog.refresh()
        if self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
        self.dialog.show()

    # -- events from the API ---------------------------------------------------------------
    def _on_arrived(self, name: str, contact_id: str) -> None:
        if self.live is None or self._stopped:
            return
        try:
            entry = self.live.get(contact_id)
        except UnknownContact:
            return
        if name == "ended":
            self._on_ended(entry)
            return
        if entry.ended:
            return
        if name == "started" or entry.contact is not self.window.contact:
            self._follow(entry)  # the panel follows the live contact
        if name == "message":
            self._on_message(entry)
        elif name == "partial":
            self._show_segments(entry, latest=True)

    def _follow(self, entry: LiveContact) -> None:
        self._segments = {}
        self.window.start_contact(entry.contact)
        self.window.statusBar().showMessage("A contact came in through the API.", 4000)

    def _on_message(self, entry: LiveContact) -> None:
        self._show_segments(entry, latest=False)
        self.window.contact_updated()
        turns = entry.contact.turns
        if turns and turns[-1].role is Role.AGENT:
            self.window.knowledge.refresh_for(entry.contact.snapshot())

    def _show_segments(self, entry: LiveContact, latest: bool) -> None:
        """The speech segment that changed last; after a final message, any still open."""
        segments = dict(entry.partial)
        changed = [text for key, text in segments.items() if self._segments.get(key) != text]
        self._segments = segments
        shown = list(segments.values())
        text = changed[-1] if latest and changed else (shown[-1] if shown else "")
        self.window.conversation.show_speaking(text)

    def _on_ended(self, entry: LiveContact) -> None:
        if entry.contact is not self.window.contact:
            return
        self._segments = {}
        self.window.conversation.show_speaking("")
        self.window.end_contact()

    # -- the window's suggestion, mirrored to the API ---------------------------------------
    def _current_id(self) -> str | None:
        """The window's contact id when it is an API contact."""
        contact = self.window.contact
        if self.live is None:
            return None
        try:
            return contact.id if self.live.get(contact.id).contact is contact else None
        except UnknownContact:
            return None

    def _on_suggestion_began(self, profile: str) -> None:
        self._mirror = None
        contact_id = self._current_id()
        if contact_id is not None and self.live is not None:
            self._mirror = (contact_id, self.live.begin_suggestion(contact_id, profile))

    def _on_suggestion_chunk(self, chunk: Chunk) -> None:
        if self._mirror is not None and self.live is not None:
            contact_id, sequence = self._mirror
            self._mirrored(
                lambda live: live.push_chunk(contact_id, sequence, chunk.text, chunk.replace)
            )

    def _on_suggestion_done(self, result: Suggestion) -> None:
        if self._mirror is not None:
            contact_id, sequence = self._mirror
            self._mirror = None
            self._mirrored(
                lambda live: live.finish_suggestion(
                    contact_id, sequence, result.text, result.withheld
                )
            )

    def _on_conversation_hits(self, contact_id: str, hits: list[Hit]) -> None:
        if self._current_id() == contact_id:
            articles = [article_out(h) for h in hits]
            self._mirrored(lambda live: live.set_articles(contact_id, articles))

    def _on_macros_matched(self, contact_id: str, matches: list[Any]) -> None:
        if self._current_id() == contact_id:
            replies = [approved_out(m) for m in matches]
            self._mirrored(lambda live: live.set_approved_replies(contact_id, replies))

    def _mirrored(self, call: Any) -> None:
        if self.live is None:
            return
        try:
            call(self.live)
        except UnknownContact:  # dropped from the API meanwhile: only the window has it
            self._mirror = None
