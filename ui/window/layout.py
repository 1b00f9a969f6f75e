"""The window's widgets and where they sit; ``MainWindow`` wires them to behaviour.

A narrow side panel (440 px by default) has room for one thing at a time in each
band: the customer's history or the articles on top, the conversation, then the
reply area (the model's suggestion with the approved replies under it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from copilot.contact import Channel, Contact
from copilot.runtime import Runtime
from ui.clipboard_capture import ClipboardCapture
from ui.widgets.conversation_view import ConversationView
from ui.widgets.customer_box import CustomerBox
from ui.widgets.history_panel import HistoryPanel
from ui.widgets.knowledge_panel import KnowledgePanel
from ui.widgets.macro_strip import MacroStrip
from ui.widgets.suggestion_panel import SuggestionPanel

DEFAULT_SIZE = (440, 880)
#: Shares of the height: customer/knowledge tabs, conversation, suggestion and replies.
SPLIT_SHARES = (52, 15, 33)


class Banner(QLabel):
    """Lasting problems, one line each, until they are over."""

    def __init__(self) -> None:
        super().__init__("")
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet(
            "background:#fdecea; color:#7f1d1d; border:1px solid #f5c2c0;"
            "padding:6px; border-radius:4px"
        )
        self.hide()

    def lines(self) -> list[str]:
        return [line for line in self.text().split("\n") if line]

    def add_line(self, text: str) -> None:
        lines = self.lines()
        if text not in lines:
            lines.append(text)
        self.setText("\n".join(lines))
        self.show()

    def remove_lines(self, prefix: str) -> None:
        """A problem that is over (the history unlocked, a save went through) leaves."""
        lines = self.lines()
        kept = [line for line in lines if not line.startswith(prefix)]
        if kept != lines:
            self.setText("\n".join(kept))
            self.setVisible(bool(kept))


class WindowLayout(QMainWindow):
    """The widgets, named; a subclass sets ``runtime``, ``contact`` and ``capture`` first."""

    runtime: Runtime
    contact: Contact
    capture: ClipboardCapture
    toolbar: QToolBar
    profile_box: QComboBox
    channel_box: QComboBox
    customer_box: CustomerBox
    banner: Banner
    side_tabs: QTabWidget
    history_panel: HistoryPanel
    knowledge_panel: KnowledgePanel
    conversation: ConversationView
    reply_area: QWidget
    suggestion: SuggestionPanel
    macro_strip: MacroStrip
    splitter: QSplitter
    input: QPlainTextEdit
    customer_button: QPushButton
    agent_button: QPushButton
    model_label: QLabel
    state_label: QLabel
    speed_label: QLabel
    #: Set by ``ui.window.actions.build_actions``.
    pin_action: QAction
    new_action: QAction
    end_action: QAction
    demo_action: QAction
    import_action: QAction
    capture_action: QAction
    integration_action: QAction
    supervisor_action: QAction

    def build_widgets(self) -> None:
        """Create the widgets (no behaviour is connected here)."""
        self._toolbar()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(self._contact_row())
        self.banner = Banner()
        layout.addWidget(self.banner)
        layout.addWidget(self._splitter(), 1)
        self._message_box(layout)
        self.setCentralWidget(central)
        self._status_bar()
        self.resize(*DEFAULT_SIZE)

    def _toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        toolbar.addWidget(QLabel(" Profile "))
        box = QComboBox()
        box.setObjectName("profileBox")
        box.addItems(self.runtime.profiles.names())
        box.setCurrentText(self.runtime.default_profile_name)
        box.setToolTip("Tone profile for suggestions (Ctrl+P)")
        # Long profile names must not push the toolbar's actions out of a narrow window.
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(9)
        toolbar.addWidget(box)
        self.toolbar, self.profile_box = toolbar, box

    def _contact_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Channel"))
        self.channel_box = QComboBox()
        self.channel_box.setObjectName("channelBox")
        self.channel_box.addItems([c.value for c in Channel])
        self.channel_box.setCurrentText(self.contact.channel.value)
        row.addWidget(self.channel_box)
        self.customer_box = CustomerBox()
        row.addWidget(self.customer_box, 1)
        return row

    def _splitter(self) -> QSplitter:
        self.history_panel = HistoryPanel()
        self.conversation = ConversationView()
        self.knowledge_panel = KnowledgePanel()
        self.suggestion = SuggestionPanel()
        self.macro_strip = MacroStrip()
        # The customer's history and the articles share the top: a narrow window has no
        # room for both to be readable. The history shows when a known customer's
        # contact starts; the articles when there is no history to show.
        tabs = QTabWidget()
        tabs.setObjectName("sideTabs")
        tabs.setDocumentMode(True)
        tabs.addTab(self.history_panel, "Customer")
        tabs.addTab(self.knowledge_panel, "Knowledge")
        tabs.setTabToolTip(0, "Customer history and the live summary (Ctrl+F)")
        tabs.setTabToolTip(1, "Knowledge articles for the conversation (Ctrl+K)")
        self.side_tabs = tabs
        # Approved replies sit under the suggestion: both are text to insert.
        self.reply_area = QWidget()
        self.reply_area.setObjectName("replyArea")
        replies = QVBoxLayout(self.reply_area)
        replies.setContentsMargins(0, 0, 0, 0)
        replies.setSpacing(0)
        replies.addWidget(self.suggestion, 1)
        replies.addWidget(self.macro_strip)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("mainSplitter")
        panes = (tabs, self.conversation, self.reply_area)
        for index, (pane, share) in enumerate(zip(panes, SPLIT_SHARES, strict=True)):
            splitter.addWidget(pane)
            splitter.setStretchFactor(index, share)
            splitter.setCollapsible(index, False)
        splitter.setSizes([share * 10 for share in SPLIT_SHARES])
        self.splitter = splitter
        return splitter

    def _message_box(self, layout: QVBoxLayout) -> None:
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

    def _status_bar(self) -> None:
        status = self.statusBar()
        status.addPermanentWidget(self.capture.indicator)
        self.model_label, self.state_label, self.speed_label = QLabel(""), QLabel(""), QLabel("")
        for label, name in (
            (self.model_label, "modelLabel"),
            (self.state_label, "stateLabel"),
            (self.speed_label, "speedLabel"),
        ):
            label.setObjectName(name)
            status.addPermanentWidget(label)
