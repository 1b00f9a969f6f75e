"""The Approved replies tab: the macro library as a table, edited, deleted and imported.

The library is opened off the GUI thread (a first start seeds it from the demo CSV);
a CSV import runs there too and its report (added, updated, rows skipped with line
numbers) stays visible under the table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from copilot.errors import CopilotError
from copilot.macros.model import Macro
from ui.errors import user_message
from ui.supervisor import ask
from ui.supervisor.macro_dialog import MacroDialog
from ui.worker import Worker, WorkerPool

COLUMNS = ("Title", "Language", "Tags", "Text")
PREVIEW_CHARS = 140


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[:PREVIEW_CHARS].rstrip() + "…"


class RepliesTab(QWidget):
    """``status(message)`` for the window's status bar; ``ready`` once the table is filled."""

    status = Signal(str)
    ready = Signal()

    def __init__(
        self,
        opener: Callable[[], Any],
        workers: WorkerPool,
        shared: Callable[[], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("repliesTab")
        self.opener = opener
        self.shared = shared
        self.workers = workers
        self.library: Any = None
        self._macros: list[Macro] = []
        self._build()
        self._set_busy(True, "Opening the approved replies…")

    # -- building ----------------------------------------------------------------------
    def _build(self) -> None:
        self.state = QLabel("")
        self.state.setObjectName("repliesState")
        self.state.setWordWrap(True)
        self.state.setStyleSheet("color:#6b7280")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("repliesTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(2, 150)
        self.table.doubleClicked.connect(self.edit_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("&Add…")
        self.add_button.setToolTip("Write a new approved reply")
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setToolTip("Edit the selected reply (Enter or double-click)")
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setToolTip("Delete the selected reply (Delete)")
        self.import_button = QPushButton("Import &CSV…")
        self.import_button.setToolTip(
            "Add or update replies from a CSV file with the columns id, title, text, language, tags"
        )
        for button, name, slot in (
            (self.add_button, "addMacro", self.add_macro),
            (self.edit_button, "editMacro", self.edit_selected),
            (self.delete_button, "deleteMacro", self.delete_selected),
            (self.import_button, "importMacros", self.import_csv),
        ):
            button.setObjectName(name)
            button.clicked.connect(slot)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)

        self.report = QPlainTextEdit()
        self.report.setObjectName("macroImportReport")
        self.report.setReadOnly(True)
        self.report.setTabChangesFocus(True)
        self.report.setMaximumHeight(110)
        self.report.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.report)
        layout.addLayout(buttons)
        for keys, slot in (
            (QKeySequence.StandardKey.Delete, self.delete_selected),
            (Qt.Key.Key_Return, self.edit_selected),
            (Qt.Key.Key_Enter, self.edit_selected),
        ):
            shortcut = QShortcut(QKeySequence(keys), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

    # -- opening -------------------------------------------------------------------------
    def start(self) -> None:
        """Open the library in the background (the first open seeds it from the demo list)."""
        opener = self.opener
        self._run("macros-open", lambda cancel: opener(), self._on_opened)

    def _on_opened(self, library: Any) -> None:
        self.library = library
        problems = list(getattr(library, "problems", []))
        self.refresh()
        if problems:
            self._show_report(["The approved replies had problems when opened:", *problems])
        self.ready.emit()

    def _run(
        self, name: str, job: Callable[[threading.Event], Any], done: Callable[[Any], None]
    ) -> None:
        worker = Worker(job, name)
        worker.signals.finished.connect(lambda _id, value: self._on_done(done, value))
        worker.signals.failed.connect(self._on_failed)
        self._set_busy(True, self.state.text() or "Working…")
        self.workers.start(worker)

    def _on_done(self, done: Callable[[Any], None], value: Any) -> None:
        self._set_busy(False, "")
        done(value)

    def _on_failed(self, _id: int, exc: BaseException) -> None:
        self._set_busy(False, user_message(exc))
        self.state.setStyleSheet("color:#b91c1c")
        self.ready.emit()

    def _set_busy(self, busy: bool, message: str) -> None:
        self._busy = busy
        self.state.setText(message)
        self.state.setStyleSheet("color:#6b7280")
        self._update_buttons()

    # -- the table -----------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        if self.library is None:
            return
        self._macros = sorted(self.library.macros, key=lambda m: m.title.lower())
        self.table.setRowCount(len(self._macros))
        for row, macro in enumerate(self._macros):
            values = (macro.title, macro.language, ", ".join(macro.tags), _preview(macro.text))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, macro.id)
                if column in (2, 3):
                    item.setToolTip(value if column == 2 else macro.text)
                self.table.setItem(row, column, item)
            if macro.id == select:
                self.table.selectRow(row)
        count = len(self._macros)
        self.state.setText(
            f"{count} approved repl{'y' if count == 1 else 'ies'}. Agents are offered the ones "
            "that fit the conversation, with the placeholders filled in."
        )
        self._update_buttons()

    def selected(self) -> Macro | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or not 0 <= rows[0].row() < len(self._macros):
            return None
        return self._macros[rows[0].row()]

    def _update_buttons(self) -> None:
        usable = self.library is not None and not getattr(self, "_busy", False)
        chosen = usable and self.selected() is not None
        self.add_button.setEnabled(usable)
        self.import_button.setEnabled(usable)
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _adopt_shared(self) -> None:
        """Edit the agent window's library once it is open, so its matches see every change."""
        shared = self.shared() if self.shared is not None else None
        if shared is not None and shared is not self.library and self.library is not None:
            self.library = shared
            self.refresh()

    # -- actions -------------------------------------------------------------------------
    def add_macro(self) -> None:
        self._edit(None)

    def edit_selected(self) -> None:
        macro = self.selected()
        if macro is not None:
            self._edit(macro)

    def _edit(self, macro: Macro | None) -> None:
        self._adopt_shared()
        if self.library is None:
            return
        dialog = MacroDialog(macro, {m.id for m in self.library.macros}, self)
        if not ask.run(dialog):
            return
        edited = dialog.macro()
        try:
            if macro is None:
                self.library.add(edited)
            else:
                self.library.replace(edited, previous_id=macro.id)
        except CopilotError as exc:
            ask.error(self, "Could not save the approved reply", exc)
            return
        self.refresh(select=edited.id)
        self.status.emit(f"Saved the approved reply “{edited.title}”.")

    def delete_selected(self) -> None:
        self._adopt_shared()
        macro = self.selected()
        if macro is None or self.library is None:
            return
        if not ask.confirm(
            self,
            "Delete approved reply",
            f"Delete the approved reply “{macro.title}”? Agents are no longer offered it.",
            ok="&Delete",
        ):
            return
        try:
            self.library.delete(macro.id)
        except CopilotError as exc:
            ask.error(self, "Could not delete the approved reply", exc)
            return
        self.refresh()
        self.status.emit(f"Deleted the approved reply “{macro.title}”.")

    def import_csv(self) -> None:
        self._adopt_shared()
        library = self.library
        if library is None:
            return
        path = ask.open_path(self, "Import approved replies", "CSV files (*.csv);;All files (*)")
        if path is None:
            return
        self.state.setText(f"Importing {path.name}…")
        self._run("macros-import", lambda cancel: library.import_csv(path), self._on_imported)

    def _on_imported(self, report: Any) -> None:
        self.refresh()
        self._show_report(report.lines())
        self.status.emit(report.lines()[0])
        self.ready.emit()

    def _show_report(self, lines: list[str]) -> None:
        self.report.setPlainText("\n".join(lines))
        self.report.show()
