"""The side panel: conversation, message box, streamed suggestion, profile picker."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from copilot.conversation import Channel, Contact, Role
from copilot.demo import DEMO_COMPANY, load_demo, play
from copilot.engine import EngineState
from copilot.errors import (
    CopilotError,
    KnowledgeError,
    ModelError,
    PrivacyError,
    ProfileError,
    SettingsError,
    StoreError,
)
from copilot.kb.grounding import heading
from copilot.model_file import ModelInfo
from copilot.runtime import Runtime
from copilot.settings import update_settings
from copilot.suggest import Chunk, prefill, stream_suggestion, strip_citations
from ui.api_bridge import ApiBridge, IntegrationError
from ui.clipboard_capture import ClipboardCapture, clipboard_text, copy_text
from ui.conversation_view import ConversationView
from ui.customer_box import CustomerBox
from ui.errors import show_crash, user_message
from ui.history_controller import HistoryController
from ui.history_panel import HistoryPanel
from ui.knowledge_controller import KnowledgeController, KnowledgeFactory
from ui.knowledge_panel import KnowledgePanel
from ui.suggestion_panel import SuggestionPanel
from ui.worker import Worker, WorkerPool

# Type names only: the knowledge base loads chromadb, which must not slow the start.
if TYPE_CHECKING:
    from copilot.kb.retrieval import Hit


log = logging.getLogger(__name__)


def _open_knowledge(runtime: Runtime) -> object:
    """Opened off the GUI thread: chromadb and the embedding model take a few seconds."""
    from copilot.kb.service import KnowledgeBase

    return KnowledgeBase(runtime.settings)


DEFAULT_SIZE = (440, 880)
#: Shares of the height: customer/knowledge tabs, conversation, suggestion.
SPLIT_SHARES = (56, 18, 26)
SHORTCUTS = [
    ("Ctrl+Enter", "add the text as the customer's message and suggest a reply"),
    ("Ctrl+Shift+Enter", "add the text as the reply you sent"),
    ("Ctrl+I", "insert: copy the suggestion to the clipboard"),
    ("Ctrl+R", "regenerate the suggestion"),
    ("Esc", "stop or dismiss the suggestion"),
    ("Ctrl+P", "choose the profile"),
    ("Ctrl+L", "go to the message box"),
    ("Ctrl+K", "search the knowledge base"),
    ("Ctrl+O", "import a folder of articles into the knowledge base"),
    ("Ctrl+F", "find the customer: phone, email, handle or name (Enter shows their history)"),
    ("Ctrl+Shift+S", "summarise the live contact with the model (for a handover)"),
    ("Ctrl+E", "end the contact: check and save the wrap-up note"),
    ("Ctrl+S", "in the wrap-up note: save it"),
    ("Ctrl+N", "start a new contact"),
    ("Ctrl+T", "keep the panel on top of other windows"),
    ("Ctrl+Shift+V", "paste the clipboard as the customer's message"),
    ("Ctrl+Shift+C", "capture: each text you copy becomes the customer's message (on/off)"),
    ("Ctrl+Shift+I", "integration: the local API's address and token"),
    ("Ctrl+Shift+D", "demo: play the next customer message"),
    ("F1", "this list"),
]


class MainWindow(QMainWindow):
    #: "ready" or "failed" once the background model load ends.
    model_state_changed = Signal(str)
    #: The window's suggestion, for the API to mirror: profile; each Chunk; the Suggestion.
    suggestion_began = Signal(str)
    suggestion_chunk = Signal(object)
    suggestion_done = Signal(object)

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
        self.contact = Contact()
        self._suggestion: Worker | None = None
        self._pending_suggestion = False
        self._demo = None
        self._company = runtime.settings.company_name
        self._grounding: list[Hit] = []
        self.setWindowTitle("Agent Copilot")
        self.setObjectName("mainWindow")
        self.setMinimumWidth(320)
        self._build()
        self._build_actions()
        self._restore_geometry()
        for problem in runtime.problems:
            self.report(problem)

    # -- layout --------------------------------------------------------------------
    def _build(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        toolbar.addWidget(QLabel(" Profile "))
        self.profile_box = QComboBox()
        self.profile_box.setObjectName("profileBox")
        self.profile_box.addItems(self.runtime.profiles.names())
        self.profile_box.setCurrentText(self.runtime.default_profile_name)
        self.profile_box.setToolTip("Tone profile for suggestions (Ctrl+P)")
        # Long profile names must not push the toolbar's actions out of a narrow window.
        self.profile_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.profile_box.setMinimumContentsLength(9)
        self.profile_box.currentTextChanged.connect(self._on_profile_changed)
        toolbar.addWidget(self.profile_box)
        self._toolbar = toolbar

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 6)
        contact_row = QHBoxLayout()
        contact_row.addWidget(QLabel("Channel"))
        self.channel_box = QComboBox()
        self.channel_box.setObjectName("channelBox")
        self.channel_box.addItems([c.value for c in Channel])
        self.channel_box.setCurrentText(self.contact.channel.value)
        self.channel_box.currentTextChanged.connect(self._on_channel_changed)
        contact_row.addWidget(self.channel_box)
        self.customer_box = CustomerBox()
        self.customer_box.entered.connect(self._on_customer_entered)
        self.customer_box.picked.connect(self._on_customer_picked)
        contact_row.addWidget(self.customer_box, 1)
        layout.addLayout(contact_row)
        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setStyleSheet(
            "background:#fdecea; color:#7f1d1d; border:1px solid #f5c2c0;"
            "padding:6px; border-radius:4px"
        )
        self.banner.hide()
        layout.addWidget(self.banner)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("mainSplitter")
        self.history_panel = HistoryPanel()
        self.conversation = ConversationView()
        self.knowledge_panel = KnowledgePanel()
        self.suggestion = SuggestionPanel()
        # The customer's history and the articles share the top: a narrow window has no
        # room for both to be readable. The history shows when a known customer's
        # contact starts; the articles when there is no history to show.
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("sideTabs")
        self.side_tabs.setDocumentMode(True)
        self.side_tabs.addTab(self.history_panel, "Customer")
        self.side_tabs.addTab(self.knowledge_panel, "Knowledge")
        self.side_tabs.setTabToolTip(0, "Customer history and the live summary (Ctrl+F)")
        self.side_tabs.setTabToolTip(1, "Knowledge articles for the conversation (Ctrl+K)")
        panes = (self.side_tabs, self.conversation, self.suggestion)
        for index, (pane, share) in enumerate(zip(panes, SPLIT_SHARES, strict=True)):
            splitter.addWidget(pane)
            splitter.setStretchFactor(index, share)
            splitter.setCollapsible(index, False)
        splitter.setSizes([share * 10 for share in SPLIT_SHARES])
        self.splitter = splitter
        self.knowledge = KnowledgeController(self.knowledge_panel, self._knowledge_factory, self)
        self.knowledge.failed.connect(lambda exc: self.report(exc))
        self.history = HistoryController(self.history_panel, self.runtime, self)
        self.history.failed.connect(lambda exc: self.report(exc))
        self.history.ready.connect(self._on_history_ready)
        self.history.saved.connect(self._on_contact_saved)
        self.history.shown.connect(self._on_history_shown)
        self.knowledge_panel.hits_shown.connect(self._on_hits_shown)
        self.customer_box.set_search(self.history.search)
        self.api = ApiBridge(self)
        self.capture = ClipboardCapture(self)
        self.capture.captured.connect(self._on_clipboard_captured)
        self.capture.skipped.connect(lambda why: self.statusBar().showMessage(why, 6000))
        self.suggestion.source_clicked.connect(self._on_source_clicked)
        layout.addWidget(splitter, 1)

        self.input = QPlainTextEdit()
        self.input.setObjectName("messageInput")
        self.input.setPlaceholderText(
            "Type or paste a message. Ctrl+Enter: the customer said it. "
            "Ctrl+Shift+Enter: you sent it."
        )
        self.input.setMaximumHeight(72)
        layout.addWidget(self.input)
        row = QHBoxLayout()
        self.customer_button = QPushButton("Customer said")
        self.customer_button.setToolTip(
            "Add as the customer's message and suggest a reply (Ctrl+Enter)"
        )
        self.agent_button = QPushButton("I sent")
        self.agent_button.setToolTip("Add as the reply you sent (Ctrl+Shift+Enter)")
        row.addWidget(self.customer_button, 1)
        row.addWidget(self.agent_button, 1)
        layout.addLayout(row)
        self.setCentralWidget(central)

        self.customer_button.clicked.connect(self.add_customer_message)
        self.agent_button.clicked.connect(self.add_agent_message)
        self.suggestion.insert_requested.connect(self.insert_suggestion)
        self.suggestion.regenerate_requested.connect(self.regenerate)
        self.suggestion.dismiss_requested.connect(self.dismiss)

        status = self.statusBar()
        status.addPermanentWidget(self.capture.indicator)
        self.model_label = QLabel("")
        self.state_label = QLabel("")
        self.speed_label = QLabel("")
        for label, name in (
            (self.model_label, "modelLabel"),
            (self.state_label, "stateLabel"),
            (self.speed_label, "speedLabel"),
        ):
            label.setObjectName(name)
            status.addPermanentWidget(label)
        self.resize(*DEFAULT_SIZE)

    def _build_actions(self) -> None:
        def action(text: str, keys: list[str], slot, checkable: bool = False) -> QAction:
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.setCheckable(checkable)
            (act.toggled if checkable else act.triggered).connect(slot)
            self.addAction(act)
            return act

        action("Customer said", ["Ctrl+Return", "Ctrl+Enter"], self.add_customer_message)
        action("I sent", ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"], self.add_agent_message)
        action("Insert", ["Ctrl+I"], self.insert_suggestion)
        action("Regenerate", ["Ctrl+R"], self.regenerate)
        action("Dismiss", ["Escape"], self.dismiss)
        action(
            "Profile",
            ["Ctrl+P"],
            lambda: (self.profile_box.setFocus(), self.profile_box.showPopup()),
        )
        action("Message box", ["Ctrl+L"], lambda: self.input.setFocus())
        action("Search knowledge", ["Ctrl+K"], self._focus_knowledge_search)
        self.import_action = action(
            "Import articles…", ["Ctrl+O"], self.knowledge.choose_and_import
        )
        self.new_action = action("New contact", ["Ctrl+N"], self.new_contact)
        self.end_action = action("End contact", ["Ctrl+E"], self.end_contact)
        self.summarise_action = action(
            "Summarise the live contact", ["Ctrl+Shift+S"], self.history.summarise_now
        )
        action("Find customer", ["Ctrl+F"], self._focus_customer_box)
        self.demo_action = action("Demo: next customer message", ["Ctrl+Shift+D"], self.demo_step)
        action("Keyboard shortcuts", ["F1"], self.show_shortcuts)
        action("Paste as the customer's message", ["Ctrl+Shift+V"], self.paste_as_customer)
        self.capture_action = action(
            "Capture", ["Ctrl+Shift+C"], self.capture.set_enabled, checkable=True
        )
        self.capture_action.setToolTip(
            "Capture the clipboard: each text you copy becomes the customer's message "
            "(Ctrl+Shift+C)"
        )
        self.integration_action = action("Integration…", ["Ctrl+Shift+I"], self.api.show_dialog)
        self.integration_action.setToolTip("The local API's address and token (Ctrl+Shift+I)")
        self.pin_action = action("Always on top", ["Ctrl+T"], self._on_pin_toggled, checkable=True)
        self.pin_action.setToolTip("Keep this panel above other windows (Ctrl+T)")
        self.pin_action.setText("Pin")
        self.new_action.setText("New")
        self.new_action.setToolTip("Start a new contact (Ctrl+N)")
        self._toolbar.addSeparator()
        self._toolbar.addAction(self.pin_action)
        self._toolbar.addAction(self.new_action)
        self.end_action.setText("End")
        self.end_action.setToolTip("End the contact: check and save the wrap-up note (Ctrl+E)")
        self._toolbar.addAction(self.end_action)
        self._toolbar.addAction(self.demo_action)
        self.import_action.setText("Import")
        self.import_action.setToolTip(
            "Import a folder of articles into the knowledge base (Ctrl+O)"
        )
        self._toolbar.addAction(self.import_action)
        self._toolbar.addAction(self.capture_action)
        self._toolbar.addAction(self.integration_action)
        self.demo_action.setText("Demo")
        self.demo_action.setToolTip(
            "Play the next customer message of the demo contact (Ctrl+Shift+D)"
        )

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS
        )
        box = QMessageBox(self)
        box.setObjectName("shortcutsDialog")
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<table>{rows}</table>")
        box.open()

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

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.window_state.setValue("geometry", self.saveGeometry())
        self.window_state.setValue("always_on_top", self.pin_action.isChecked())
        self.window_state.setValue("clipboard_capture", self.capture_action.isChecked())
        self.window_state.setValue("splitter", self.splitter.saveState())
        self.window_state.sync()
        self.api.stop()
        self._cancel_suggestion()
        pools = (self.workers, self.knowledge.workers, self.knowledge.import_workers)
        for pool in pools:
            pool.cancel_all()
        for pool in pools:
            pool.wait(10_000)
        self.history.close()
        super().closeEvent(event)

    def _on_pin_toggled(self, on: bool) -> None:
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:
            self.show()

    # -- model ---------------------------------------------------------------------------
    def start_model_load(self) -> None:
        self.state_label.setText("Loading model…")
        worker = Worker(lambda cancel: self.runtime.engine.load(), name="model-load")
        worker.signals.finished.connect(self._on_model_loaded)
        worker.signals.failed.connect(self._on_model_failed)
        self.workers.start(worker)

    def _on_model_loaded(self, _id: int, info: ModelInfo) -> None:
        self.model_label.setText(info.label)
        self.model_label.setToolTip(str(info.path))
        self.state_label.setText("Ready")
        self.model_state_changed.emit("ready")
        if self._pending_suggestion:
            self._pending_suggestion = False
            self.request_suggestion()
        else:
            self.start_prefill()

    def start_prefill(self) -> None:
        """While the agent waits for the customer, evaluate the instructions ahead of time."""
        if self.runtime.engine.state is not EngineState.READY or self.contact.turns:
            return
        try:
            request = self.runtime.request(self.contact.snapshot(), self.profile_box.currentText())
        except CopilotError:
            return  # the same problem is reported when a suggestion is asked for
        request.company = self._company
        worker = Worker(lambda cancel: prefill(self.runtime.engine, request, cancel), "prefill")
        worker.signals.failed.connect(self._on_prefill_failed)
        self.workers.start(worker)

    def _on_prefill_failed(self, _id: int, exc: BaseException) -> None:
        # Only a head start failed; a real suggestion will report any lasting problem.
        log.warning("prefill failed: %s", type(exc).__name__)

    def _on_model_failed(self, _id: int, exc: BaseException) -> None:
        self.state_label.setText("Model unavailable")
        self._pending_suggestion = False
        self.suggestion.clear("Suggestions are off until the model problem above is fixed.")
        self.report(exc)
        self.model_state_changed.emit("failed")

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
        if self.contact.turns and self.contact.turns[-1].role is Role.CUSTOMER:
            self._suggest_grounded()
        else:
            self._cancel_suggestion()
            self.suggestion.clear("A new suggestion appears when the customer writes again.")

    def _suggest_grounded(self) -> None:
        """Refresh the articles for the whole conversation, then suggest a grounded reply."""
        self._cancel_suggestion()
        self.suggestion.start(self.profile_box.currentText())
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
        self._cancel_suggestion()
        self._demo = None
        self._company = self.runtime.settings.company_name
        self.contact = contact
        self.channel_box.setCurrentText(contact.channel.value)
        self.customer_box.show_identifier(contact.customer_identifier or "")
        self.conversation.show_contact(contact)
        self.history.contact_changed(contact)
        self.history.show_for(contact)
        self.suggestion.clear()
        self.start_prefill()

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
    def _focus_customer_box(self) -> None:
        self.side_tabs.setCurrentWidget(self.history_panel)
        self.customer_box.setFocus()
        self.customer_box.selectAll()

    def _focus_knowledge_search(self) -> None:
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
        self._remove_banner_lines("Customer history")
        self.statusBar().showMessage("Customer history is ready.", 3000)

    def end_contact(self) -> None:
        """Wrap up: the note is drafted, the agent checks it, saving starts the next contact."""
        if not self.contact.turns:
            self.statusBar().showMessage("There is nothing to wrap up yet.", 4000)
            return
        self._cancel_suggestion()
        self.history.end_contact(self.contact)

    def _on_contact_saved(self, label: str) -> None:
        self._remove_banner_lines("Customer history")
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
            self.start_prefill()

    # -- suggestions -------------------------------------------------------------------
    def request_suggestion(self, hits: list[Hit] | None = None) -> None:
        """Cancel whatever is streaming and start a fresh suggestion for the contact."""
        self._cancel_suggestion()
        self._grounding = list(hits if hits is not None else self.knowledge.last_hits)
        if not self.contact.turns:
            self.statusBar().showMessage("There is no customer message to reply to yet.", 4000)
            return
        engine = self.runtime.engine
        if engine.state is EngineState.FAILED:
            self.suggestion.clear("Suggestions are off until the model problem above is fixed.")
            return
        profile = self.profile_box.currentText()
        if engine.state is not EngineState.READY:
            self._pending_suggestion = True
            self.suggestion.start(
                profile, "The model is still loading; the suggestion starts when it is ready…"
            )
            return
        try:
            request = self.runtime.request(self.contact.snapshot(), profile)
        except CopilotError as exc:
            self.report(exc)
            return
        request.company = self._company
        request.sources = self.knowledge.sources(self._grounding)

        def job(cancel: threading.Event):
            return stream_suggestion(engine, request, cancel)

        worker = Worker(job, name="suggestion")
        worker.request = request  # type: ignore[attr-defined]
        worker.signals.item.connect(self._on_suggestion_item)
        worker.signals.finished.connect(self._on_suggestion_finished)
        worker.signals.failed.connect(self._on_suggestion_failed)
        self._suggestion = worker
        self.suggestion.start(profile)
        self.suggestion_began.emit(profile)
        self.workers.start(worker)

    def _is_current(self, worker_id: int) -> bool:
        return (
            self._suggestion is not None
            and self._suggestion.id == worker_id
            and not self._suggestion.cancelled
        )

    def _on_suggestion_item(self, worker_id: int, chunk: Chunk) -> None:
        if self._is_current(worker_id):
            self.suggestion.add(chunk)
            self.suggestion_chunk.emit(chunk)

    def _on_suggestion_finished(self, worker_id: int, _result: object) -> None:
        if not self._is_current(worker_id):
            return
        result = self._suggestion.request.result  # type: ignore[union-attr]
        stats = self.runtime.engine.last_stats
        self.suggestion.finish(result, stats.tokens_per_s)
        self.suggestion.show_sources(
            [
                (n, heading(self._grounding[n - 1]))
                for n in result.citations
                if n <= len(self._grounding)
            ]
        )
        self.speed_label.setText(f"{stats.tokens_per_s:.0f} tok/s")
        self._suggestion = None
        self.suggestion_done.emit(result)

    def _on_suggestion_failed(self, worker_id: int, exc: BaseException) -> None:
        if not self._is_current(worker_id):
            return
        self._suggestion = None
        self.suggestion.set_busy(False)
        self.report(exc)

    def _cancel_suggestion(self) -> None:
        self._pending_suggestion = False
        if self._suggestion is not None:
            self._suggestion.cancel()
            self._suggestion = None
            self.suggestion.set_busy(False)

    def regenerate(self) -> None:
        self.request_suggestion()

    def dismiss(self) -> None:
        self._cancel_suggestion()
        self.suggestion.clear()

    def insert_suggestion(self) -> None:
        text = self.suggestion.current_text
        if not text:
            self.statusBar().showMessage("There is no suggestion to insert yet.", 4000)
            return
        self._cancel_suggestion()
        copy_text(strip_citations(text))
        self.statusBar().showMessage(
            "Copied. Paste it into your chat or email tool (Ctrl+V).", 5000
        )

    def _on_source_clicked(self, number: int) -> None:
        if 1 <= number <= len(self._grounding):
            self.knowledge.open_article(self._grounding[number - 1])

    def _add_banner_line(self, text: str) -> None:
        lines = [line for line in self.banner.text().split("\n") if line]
        if text not in lines:
            lines.append(text)
        self.banner.setText("\n".join(lines))
        self.banner.show()

    def _remove_banner_lines(self, prefix: str) -> None:
        """A problem that is over (the history unlocked, a save went through) leaves the banner."""
        lines = [line for line in self.banner.text().split("\n") if line]
        kept = [line for line in lines if not line.startswith(prefix)]
        if kept != lines:
            self.banner.setText("\n".join(kept))
            self.banner.setVisible(bool(kept))

    # -- errors --------------------------------------------------------------------------
    def report(self, exc: BaseException) -> None:
        """The one place errors reach the user: banner for model problems, status otherwise."""
        if not isinstance(exc, CopilotError):
            show_crash(exc, self)
            return
        log.warning("%s: %s", type(exc).__name__, exc.user_message)
        if isinstance(exc, ModelError):
            self._add_banner_line("Suggestions are off. " + exc.user_message)
        elif isinstance(exc, (ProfileError, SettingsError, IntegrationError)):
            self._add_banner_line(exc.user_message)
        elif isinstance(exc, KnowledgeError):
            self._add_banner_line("Knowledge articles are off. " + exc.user_message)
        elif isinstance(exc, (StoreError, PrivacyError)):
            message = exc.user_message
            if not message.startswith("Customer history"):
                message = "Customer history: " + message
            self._add_banner_line(message)
        else:
            self.suggestion.show_notice(user_message(exc))
            self.statusBar().showMessage(user_message(exc), 10000)
