"""The side panel: wires the conversation, suggestion, approved replies, history and articles.

The widgets are built in ``ui.window.layout`` and the shortcuts in ``ui.window.actions``;
the suggestion's lifecycle lives in ``ui.controllers.suggestion``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent

from copilot.analytics.events import Reason, Source
from copilot.assist.session import AssistSession
from copilot.contact import Channel, Contact, Role, Turn
from copilot.demo import DEMO_COMPANY, load_demo, play
from copilot.errors import (
    CopilotError,
)
from copilot.model.store import ModelEntry
from copilot.runtime import Runtime
from copilot.settings import update_settings
from ui.clipboard_capture import ClipboardCapture, clipboard_text
from ui.controllers.api_bridge import ApiBridge
from ui.controllers.history import HistoryController
from ui.controllers.knowledge import KnowledgeController, KnowledgeFactory
from ui.controllers.suggestion import SuggestionController
from ui.dialogs.models import ModelsDialog, ModelSwitcher
from ui.errors import show_crash
from ui.widgets.feedback import Recorder, open_analytics
from ui.widgets.macro_strip import MacroController
from ui.window.actions import build_actions
from ui.window.layout import WindowLayout
from ui.worker import Worker, WorkerPool

# Type names only: the knowledge base loads chromadb, which must not slow the start.
if TYPE_CHECKING:
    from copilot.kb.retrieval import Hit

log = logging.getLogger(__name__)


def _open_knowledge(runtime: Runtime) -> object:
    """Opened off the GUI thread: chromadb and the embedding model take a few seconds."""
    from copilot.kb.service import KnowledgeBase

    return KnowledgeBase(runtime.settings)


class MainWindow(WindowLayout):
    #: "ready" or "failed" once the background model load ends.
    model_state_changed = Signal(str)
    #: The window's suggestion, for the API to mirror: profile; each Chunk; the Suggestion.
    suggestion_began = Signal(str)
    suggestion_chunk = Signal(object)
    suggestion_done = Signal(object)
    models_action: QAction

    def __init__(
        self,
        runtime: Runtime,
        window_state: QSettings,
        knowledge_factory: KnowledgeFactory | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self._knowledge_factory = knowledge_factory or (lambda: _open_knowledge(runtime))
        self.window_state = window_state
        self.workers = WorkerPool()
        # the one assist pipeline; the window's knowledge and approved replies feed it
        self.assist = AssistSession(runtime)
        self.contact = Contact()
        self._demo: Iterator[tuple[Contact, Turn | None]] | None = None
        self._company = runtime.settings.company_name
        self.recorder = Recorder(None, self.report)
        self.setWindowTitle("Agent Copilot")
        self.setObjectName("mainWindow")
        self.setMinimumWidth(320)
        self._build()
        build_actions(self)
        self._restore_geometry()
        self.analytics = open_analytics(runtime.settings, self.report)
        self.recorder.analytics = self.analytics
        for problem in runtime.problems:
            self.report(problem)

    # -- wiring ----------------------------------------------------------------------
    def _build(self) -> None:
        self.capture = ClipboardCapture(self)
        self.build_widgets()
        self.profile_box.currentTextChanged.connect(self._on_profile_changed)
        self.channel_box.currentTextChanged.connect(self._on_channel_changed)
        self.customer_box.entered.connect(self._on_customer_entered)
        self.customer_box.picked.connect(self._on_customer_picked)
        self.customer_button.clicked.connect(self.add_customer_message)
        self.agent_button.clicked.connect(self.add_agent_message)
        self.knowledge = KnowledgeController(self.knowledge_panel, self._knowledge_factory, self)
        self.knowledge.failed.connect(self.report)
        self.knowledge_panel.hits_shown.connect(self._on_hits_shown)
        self.knowledge_panel.open_requested.connect(self._on_article_opened)
        self.knowledge_panel.feedback_given.connect(self._on_hit_feedback)
        self.history = HistoryController(self.history_panel, self.runtime, self)
        self.history.failed.connect(self.report)
        self.history.ready.connect(self._on_history_ready)
        self.history.saved.connect(self._on_contact_saved)
        self.history.shown.connect(self._on_history_shown)
        self.customer_box.set_search(self.history.search)
        self.suggestions = SuggestionController(self.suggestion, self, self.recorder)
        self.suggestions.began.connect(self.suggestion_began)
        self.suggestions.chunk.connect(self.suggestion_chunk)
        self.suggestions.done.connect(self.suggestion_done)
        self.suggestions.model_state.connect(self.model_state_changed)
        self.macros = MacroController(self.macro_strip, self, self.recorder)
        self.macros.failed.connect(self.report)
        self.api = ApiBridge(self)
        self.model_switcher = ModelSwitcher(self)
        self._models_dialog: ModelsDialog | None = None
        self.capture.captured.connect(self._on_clipboard_captured)
        self.capture.skipped.connect(lambda why: self.statusBar().showMessage(why, 6000))

    # -- geometry --------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self.window_state.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        splitter = self.window_state.value("splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        pinned = self.window_state.value("always_on_top", False)
        self.pin_action.setChecked(pinned in (True, "true"))
        capture = self.window_state.value("clipboard_capture", False)
        self.capture_action.setChecked(capture in (True, "true"))
        replies = self.window_state.value("approved_replies_open", True)
        self.macro_strip.toggle.setChecked(replies in (True, "true"))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        from ui.supervisor import close_supervisor

        # An unpublished profile draft asks first; a running preview stops before the engine.
        if not close_supervisor():
            event.ignore()
            return
        self.window_state.setValue("geometry", self.saveGeometry())
        self.window_state.setValue("always_on_top", self.pin_action.isChecked())
        self.window_state.setValue("clipboard_capture", self.capture_action.isChecked())
        self.window_state.setValue("splitter", self.splitter.saveState())
        self.window_state.setValue("approved_replies_open", self.macro_strip.toggle.isChecked())
        self.window_state.sync()
        self.api.stop()
        if self._models_dialog is not None:
            self._models_dialog.shutdown()  # a model being copied stops, leaving nothing
        self.suggestions.cancel()
        self.macros.close()
        pools = (self.workers, self.knowledge.workers, self.knowledge.import_workers)
        for pool in pools:
            pool.cancel_all()
        for pool in pools:
            pool.wait(10_000)
        self.history.close()
        if self.analytics is not None:
            self.analytics.close()
        super().closeEvent(event)

    def on_pin_toggled(self, on: bool) -> None:
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:
            self.show()

    # -- model ---------------------------------------------------------------------------
    def start_model_load(self) -> None:
        self.suggestions.load_model()

    def open_models(self) -> ModelsDialog:
        """The models dialog: see them with size and quantisation, use one, add one."""
        if self._models_dialog is None:
            self._models_dialog = ModelsDialog(self.runtime, self.model_switcher, self)
        dialog = self._models_dialog
        dialog.refresh()
        dialog.show()
        dialog.activateWindow()
        dialog.table.setFocus()
        return dialog

    def switch_model(self, entry: ModelEntry) -> None:
        """Load ``entry`` in place of the current model; a failure goes back to it."""
        self.model_switcher.switch(entry)

    # -- conversation ----------------------------------------------------------------
    def add_customer_message(self) -> None:
        self._add_typed(Role.CUSTOMER)

    def add_agent_message(self) -> None:
        self._add_typed(Role.AGENT)

    def _add_typed(self, role: Role) -> None:
        if self.add_text(role, self.input.toPlainText()):
            self.input.clear()
        else:
            self.input.setFocus()

    def add_text(self, role: Role, text: str) -> bool:
        """Add a message without touching the message box (typed, pasted, captured)."""
        if not text.strip():
            self.statusBar().showMessage("Type or paste a message first.", 4000)
            return False
        try:
            self.contact.add(role, text)
        except CopilotError as exc:
            self.report(exc)
            return False
        self.contact_updated()
        return True

    def contact_updated(self) -> None:
        """A turn was added (here or through the API): show it, then react as to a typed one."""
        self.conversation.show_contact(self.contact)
        self.history.contact_changed(self.contact)
        last = self.contact.turns[-1] if self.contact.turns else None
        if last is not None and last.role is Role.CUSTOMER:
            self.macros.match_for(self.contact.snapshot())
            self._suggest_grounded()
            return
        if last is not None:
            self.recorder.reply_sent(self.contact.id, self.profile_box.currentText(), last.text)
        self.suggestions.drop("A new suggestion appears when the customer writes again.")
        self.macros.clear()

    def _suggest_grounded(self) -> None:
        """Refresh the articles for the whole conversation, then suggest a grounded reply."""
        self.suggestions.begin(self.profile_box.currentText())
        contact_id, turns = self.contact.id, len(self.contact.turns)

        def grounded(hits: list[Hit]) -> None:
            if self.contact.id == contact_id and len(self.contact.turns) == turns:
                self.request_suggestion(hits)

        self.knowledge.refresh_for(self.contact.snapshot(), then=grounded)

    def paste_as_customer(self) -> None:
        text = clipboard_text().strip()
        if not text:
            self.statusBar().showMessage("The clipboard has no text to paste.", 4000)
        elif self.add_text(Role.CUSTOMER, text):
            self.statusBar().showMessage("Pasted as the customer's message.", 3000)

    def _on_clipboard_captured(self, text: str) -> None:
        if self.add_text(Role.CUSTOMER, text):
            self.statusBar().showMessage("Copied text added as the customer's message.", 3000)

    def add_message_as_customer(self, text: str) -> None:
        self.add_message(Role.CUSTOMER, text)

    def add_message(self, role: Role, text: str) -> None:
        """Add a message as if typed (used by the demo and by integrations)."""
        self.input.setPlainText(text)
        (self.add_customer_message if role is Role.CUSTOMER else self.add_agent_message)()

    def new_contact(self) -> None:
        self.start_contact(Contact(channel=Channel(self.channel_box.currentText())))
        self.statusBar().showMessage("New contact started.", 3000)

    def start_contact(self, contact: Contact) -> None:
        """Make ``contact`` the window's: a new one, or one an integration started."""
        self.suggestions.drop()
        self.macros.clear()
        self.knowledge_panel.rated.clear()  # ratings belong to one contact's articles
        self._demo = None
        self._company = self.runtime.settings.company_name
        self.contact = contact
        self.channel_box.setCurrentText(contact.channel.value)
        self.customer_box.show_identifier(contact.customer_identifier or "")
        self.conversation.show_contact(contact)
        self.history.contact_changed(contact)
        self.history.show_for(contact)
        self.suggestions.start_prefill()

    def demo_step(self) -> None:
        """Play the demo contact one customer message at a time."""
        if self._demo is None:
            script = load_demo()
            self.new_contact()
            self._company = DEMO_COMPANY
            self.contact.customer_name = script.customer_name
            self.contact.customer_identifier = script.customer_identifier
            self.customer_box.show_identifier(script.customer_identifier or "")
            self.channel_box.setCurrentText(script.channel.value)
            self.history.show_for(self.contact)
            self._demo = play(script)
        step = next(self._demo, None)
        if step is None:
            self._demo = None
            self.statusBar().showMessage(
                "End of the demo contact. Press Demo again to restart.", 5000
            )
            return
        live, answer = step
        self.add_message(Role.CUSTOMER, live.turns[-1].text)
        if answer is not None:
            self.input.setPlainText(answer.text)

    # -- customer and wrap-up -----------------------------------------------------------
    def focus_customer_box(self) -> None:
        self.side_tabs.setCurrentWidget(self.history_panel)
        self.customer_box.setFocus()
        self.customer_box.selectAll()

    def choose_profile(self) -> None:
        self.profile_box.setFocus()
        self.profile_box.showPopup()

    def focus_knowledge_search(self) -> None:
        self.side_tabs.setCurrentWidget(self.knowledge_panel)
        self.knowledge_panel.search_box.setFocus()

    def _on_history_shown(self, timeline: object) -> None:
        if timeline is not None:
            self.side_tabs.setCurrentWidget(self.history_panel)

    def _on_hits_shown(self, count: int, origin: str) -> None:
        self.side_tabs.setTabText(1, f"Knowledge ({count})" if count else "Knowledge")
        if origin == "conversation" and count and self.history.customer is None:
            self.side_tabs.setCurrentWidget(self.knowledge_panel)

    def _on_customer_entered(self, text: str) -> None:
        self.contact.customer_identifier = text or None
        self.history.show_for(self.contact)

    def _on_customer_picked(self, customer_id: str, identifier: str) -> None:
        self.contact.customer_identifier = identifier or None
        self.history.show_customer(customer_id)

    def _on_history_ready(self) -> None:
        self.banner.remove_lines("Customer history")
        self.statusBar().showMessage("Customer history is ready.", 3000)

    def end_contact(self) -> None:
        """Wrap up: the note is drafted, the agent checks it, saving starts the next contact."""
        if not self.contact.turns:
            self.statusBar().showMessage("There is nothing to wrap up yet.", 4000)
            return
        self.suggestions.cancel()
        self.history.end_contact(self.contact)

    def _on_contact_saved(self, label: str) -> None:
        self.banner.remove_lines("Customer history")
        self.new_contact()
        saved = f"Saved to {label}'s history." if label else "Saved to the history."
        self.history_panel.show_no_customer(
            f"{saved} Type the next customer's phone number, email or handle above (Ctrl+F)."
        )
        self.statusBar().showMessage(f"{saved} New contact started.", 5000)

    def _on_channel_changed(self, value: str) -> None:
        self.contact.channel = Channel(value)

    def _on_profile_changed(self, name: str) -> None:
        if not name:
            return
        try:
            update_settings(active_profile=name)
        except CopilotError as exc:
            self.report(exc)
        if self.contact.turns and self.contact.turns[-1].role is Role.CUSTOMER:
            self.request_suggestion()
        else:
            self.suggestions.start_prefill()

    # -- suggestions (the controller does the work; these keep the window's API) -----
    @property
    def company(self) -> str:
        return self._company

    @property
    def _suggestion(self) -> Worker | None:
        return self.suggestions.worker

    @property
    def _pending_suggestion(self) -> bool:
        return self.suggestions.pending

    @property
    def _grounding(self) -> list[Hit]:
        return self.suggestions.grounding

    def request_suggestion(self, hits: list[Hit] | None = None) -> None:
        self.suggestions.request(hits)

    def regenerate(self) -> None:
        self.suggestions.request()

    def dismiss(self) -> None:
        self.suggestions.dismiss()

    def insert_suggestion(self) -> None:
        self.suggestions.insert()

    def macros_start_once(self) -> None:
        """Open the approved replies (after the model: an embedding model loads with them)."""
        self.macros.start_once()

    # -- knowledge, feedback, analytics ------------------------------------------------
    def open_article(self, hit: Hit) -> None:
        self._on_article_opened(hit)
        self.knowledge.open_article(hit)

    def _on_article_opened(self, hit: Hit) -> None:
        self.recorder.kb_opened(self.profile_box.currentText(), hit.passage.doc_id)

    def _on_hit_feedback(self, hit: Hit, up: bool, reason: Reason | None) -> None:
        profile = self.profile_box.currentText()
        self.recorder.feedback(Source.KB, profile, up, reason, hit.passage.doc_id)

    # -- supervisor --------------------------------------------------------------------
    def open_supervisor(self) -> None:
        try:
            from ui.supervisor import open_supervisor
        except ImportError as exc:
            log.warning("supervisor mode unavailable: %s", exc)
            self.statusBar().showMessage("Supervisor mode is not part of this installation.", 6000)
            return
        open_supervisor(self)

    def profiles_changed(self) -> None:
        """A supervisor published profiles: re-read them and keep the agent's choice if it stays."""
        try:
            problems = self.runtime.reload_profiles()
        except CopilotError as exc:
            self.report(exc)
            return
        for problem in problems:
            self.report(problem)
        current, names = self.profile_box.currentText(), self.runtime.profiles.names()
        chosen = current if current in names else self.runtime.default_profile_name
        self.profile_box.blockSignals(True)
        self.profile_box.clear()
        self.profile_box.addItems(names)
        self.profile_box.setCurrentText(chosen)
        self.profile_box.blockSignals(False)
        if chosen != current:
            self._on_profile_changed(chosen)

    # -- errors --------------------------------------------------------------------------
    def report(self, exc: BaseException) -> None:
        """The one place errors reach the user: banner for model problems, status otherwise."""
        if not isinstance(exc, CopilotError):
            show_crash(exc, self)
            return
        log.warning("%s: %s", type(exc).__name__, exc.user_message)
        if exc.shown_as == "banner":
            self.banner.add_line(exc.shown_text())
        else:
            self.suggestion.show_notice(exc.shown_text())
            self.statusBar().showMessage(exc.shown_text(), 10000)
