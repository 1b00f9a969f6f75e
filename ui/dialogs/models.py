"""Settings › Models: the GGUF models the copilot can use, with size and quantisation.

The agent or IT picks one and it loads in place of the current one without a restart,
or adds one (copied, or linked, in the background with a progress bar that can stop).

``ModelSwitcher`` swaps the window's model: the suggestion in flight stops, the old
model is unloaded and the new one loads with the window's usual status. A model that
fails to load gives way to the previous one again, and the choice is saved only once
the new model is in, so nothing is lost.
"""

from __future__ import annotations

import html
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from copilot.errors import Cancelled, CopilotError, ModelError
from copilot.model.engine import EngineState
from copilot.model.files import FIX_HINT
from copilot.model.store import ModelEntry, add_model, check_model, list_models
from copilot.settings import ENV_PREFIX, update_settings
from ui.controllers.suggestion import MODEL_OFF
from ui.errors import user_message
from ui.worker import Worker, WorkerPool

if TYPE_CHECKING:
    from copilot.runtime import Runtime
    from ui.window.main_window import MainWindow

log = logging.getLogger(__name__)

ENV_MODEL = ENV_PREFIX + "MODEL_PATH"
#: The banner line a failed switch leaves (until a later switch works).
NOT_CHANGED = "Model not changed:"
SUGGESTIONS_OFF = "Suggestions are off."
ACTIVE_MARK = "●"
COLUMNS = ("Model", "Size", "Quant.", "Arch.", "Source")
COLUMN_TIPS = (
    "The model's name (its file name)",
    "Size of the file on disk",
    "Quantisation: how much the weights are compressed (Q4 smaller and faster, Q8 closer "
    "to the original)",
    "Architecture (model family)",
    "Where it comes from",
)
_ERROR = "background:#fdecea; color:#7f1d1d; border:1px solid #f5c2c0; padding:4px"
_OK = "background:#ecfdf5; color:#065f46; border:1px solid #a7f3d0; padding:4px"
_GREY = "color:#6b7280"
_MISSING = QColor("#b91c1c")
ADD_HINT = "Choose a complete .gguf file of an instruct/chat model (one that loads in llama.cpp)."


def human_size(size: int) -> str:
    """Decimal units, as disks and downloads count: 98 MB, 4.1 GB."""
    if size <= 0:
        return "—"
    if size >= 10**9:
        return f"{size / 1e9:.1f} GB"
    if size >= 10**6:
        return f"{size / 1e6:.0f} MB"
    if size >= 10**3:
        return f"{size / 1e3:.0f} KB"
    return f"{size} bytes"


def origin_text(entry: ModelEntry) -> str:
    return "missing" if not entry.present else entry.origin


def origin_tip(entry: ModelEntry) -> str:
    if not entry.present:
        return missing_message(entry)
    tips = {
        "bundled": "Shipped with the copilot.",
        "added": f"Copied into {entry.file.parent}.",
        "linked": f"Linked: the file stays at {_link_target(entry.file)}.",
        "configured": f"Set as model_path in the settings (or {ENV_MODEL}).",
    }
    return tips.get(entry.origin, entry.origin)


def missing_message(entry: ModelEntry) -> str:
    where = _link_target(entry.file) if entry.origin == "linked" else entry.file
    return (
        f"The file of {entry.name} is missing ({where}), so it cannot be used. "
        "Put the file back, or add the model again with “Add model…”."
    )


def _link_target(path: Path) -> Path:
    try:
        return path.readlink() if path.is_symlink() else path
    except OSError:
        return path


def for_dialog(message: str) -> str:
    """A core message about adding a model, with the CLI's words swapped for the dialog's."""
    return (
        message.replace(FIX_HINT, ADD_HINT)
        .replace("add it with --link", "tick “Link to the file instead of copying it”")
        .replace("Add the model without --link", "Untick “Link to the file…”")
        .replace("Use it with 'agent-copilot model use', or", "Choose it in the list, or")
    )


# -- switching the running window's model -------------------------------------------------


class ModelSwitcher(QObject):
    """Loads another model in the running window; if it fails, the previous one again."""

    #: What happens, for the dialog: ("loading" | "ready" | "restored" | "failed", message).
    changed = Signal(str, str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.target: ModelEntry | None = None
        self._phase = ""  # "" idle, "loading" (own worker), "settling" (window's load)
        self._previous: Path | None = None
        self._previous_name = ""
        self._failure: BaseException | None = None
        self._retry = False
        window.model_state_changed.connect(self._on_model_state)

    @property
    def busy(self) -> bool:
        return bool(self._phase)

    def switch(self, entry: ModelEntry) -> None:
        """Check ``entry`` and start loading it; ModelError says why it cannot be used."""
        runtime = self.window.runtime
        if self.busy:
            raise ModelError("Another model is loading. Wait until it is ready, then choose again.")
        if runtime.engine.state is EngineState.LOADING:
            raise ModelError("The model is still loading. Choose again once it is ready.")
        if not entry.present:
            raise ModelError(missing_message(entry))
        check_model(entry.file)
        target = None if entry.origin == "bundled" else entry.file
        self.target, self._failure = entry, None
        self._previous = runtime.settings.model_path
        self._retry = self._previous == target
        self._previous_name = self.window.model_label.text() or "the previous model"
        self._phase = "loading"
        w = self.window
        resuggest = w.suggestions.worker is not None or w.suggestions.pending
        w.suggestions.cancel()  # the suggestion in flight stops; the model's lock frees
        w.suggestions.pending = resuggest  # it starts again with the new model
        runtime.settings.model_path = target
        w.state_label.setText("Loading model…")
        w.statusBar().showMessage(f"Loading {entry.name}…", 5000)
        engine, previous = runtime.engine, self._previous

        def job(_cancel: threading.Event) -> BaseException | None:
            engine.use_file(target)
            try:
                engine.load()
            except Exception as exc:  # noqa: BLE001 - any failure goes back to the previous
                engine.use_file(previous)  # which the window's usual load brings back next
                return exc
            return None

        worker = Worker(job, name="model-switch")
        worker.signals.finished.connect(self._on_loaded)
        worker.signals.failed.connect(self._on_loaded)
        w.workers.start(worker)
        self.changed.emit("loading", f"Loading {entry.name}… Suggestions wait until it is ready.")

    def _on_loaded(self, _id: int, failure: BaseException | None) -> None:
        """Either model is in (or the previous one is due): the window's usual load ends it."""
        self._failure = failure
        if failure is not None:
            log.warning("model switch to %s failed: %s", self.target, user_message(failure))
            self.window.runtime.settings.model_path = self._previous
            name = self.target.name if self.target else "the model"
            self.changed.emit("loading", f"{name} could not be loaded; going back…")
        self._phase = "settling"
        self.window.start_model_load()  # instant when loaded; else loads the previous one

    def _on_model_state(self, state: str) -> None:
        if self._phase != "settling" or self.target is None:
            return
        self._phase = ""
        w, entry, failure = self.window, self.target, self._failure
        if state == "ready" and failure is None:
            w.banner.remove_lines(NOT_CHANGED)
            w.banner.remove_lines(SUGGESTIONS_OFF)  # a model that failed before is replaced
            if w.suggestion.text.placeholderText() == MODEL_OFF and not w.suggestions.worker:
                w.suggestion.clear()
            message = f"{entry.name} is in use now."
            try:  # saved only now that it loaded: a failed switch leaves the setting alone
                update_settings(model_path=self.window.runtime.settings.model_path)
            except CopilotError as exc:
                w.report(exc)
                message += " It could not be saved as your choice, so it lasts until you quit."
            if os.environ.get(ENV_MODEL):
                message += (
                    f" IT set {ENV_MODEL}, so the copilot starts with that model again next time."
                )
            w.statusBar().showMessage(message, 8000)
            self.changed.emit("ready", message)
            return
        # the core's advice names the settings; here the fix is choosing another file
        reason = for_dialog(user_message(failure)) if failure is not None else ""
        if state == "ready":
            message = (
                f"{NOT_CHANGED} {entry.name} could not be loaded, so the copilot went back to "
                f"{self._previous_name}. {reason}"
            )
            w.banner.add_line(message)
            self.changed.emit("restored", message)
            return
        if self._retry:  # it was the model already chosen: there was nothing to go back to
            message = f"{entry.name} could not be loaded. {reason}"
        else:
            message = (
                f"{entry.name} could not be loaded, and neither could {self._previous_name}. "
                f"Choose another model. {reason}"
            )
        self.changed.emit("failed", message)


# -- the dialog -----------------------------------------------------------------------------


class ModelsDialog(QDialog):
    """The table of models; Enter (or a double-click) uses the selected one."""

    #: A model was added (its ModelEntry).
    added = Signal(object)

    def __init__(self, runtime: Runtime, switcher: ModelSwitcher, parent: QWidget) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.switcher = switcher
        self.entries: list[ModelEntry] = []
        self.add_workers = WorkerPool(max_threads=1)
        self._adding: tuple[Worker, threading.Event, Path, bool] | None = None
        self.setObjectName("modelsDialog")
        self.setWindowTitle("Models")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "The model writes the suggestions. A bigger one writes better replies but needs "
            "more memory and time per word."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(_GREY)
        layout.addWidget(intro)
        self.status = QLabel("")
        self.status.setObjectName("modelsStatus")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addWidget(self._table(), 1)
        self.details = QLabel("")
        self.details.setObjectName("modelDetails")
        self.details.setWordWrap(True)
        self.details.setStyleSheet(_GREY)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)
        self.message = QLabel("")
        self.message.setObjectName("modelsMessage")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        layout.addWidget(self.message)
        layout.addLayout(self._progress_row())
        self.link_box = QCheckBox("Link to the file instead of copying it")
        self.link_box.setObjectName("linkModelBox")
        self.link_box.setToolTip("Saves disk space and time; the file must then stay where it is.")
        layout.addWidget(self.link_box)
        layout.addLayout(self._buttons())
        switcher.changed.connect(self._on_switch)
        # as wide as the side panel it opens over (440 px by default), a little wider at most
        self.resize(min(max(420, parent.width()), 560), 440)
        self.refresh()

    def _table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setObjectName("modelsTable")
        table.setAccessibleName("Models")
        table.setHorizontalHeaderLabels(list(COLUMNS))
        for column, tip in enumerate(COLUMN_TIPS):
            header_item = table.horizontalHeaderItem(column)
            if header_item is not None:
                header_item.setToolTip(tip)
        table.verticalHeader().hide()
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        table.itemSelectionChanged.connect(self._on_selection)
        table.doubleClicked.connect(lambda _index: self.use_selected())
        table.installEventFilter(self)  # Enter uses the row, and says why when it cannot
        self.table = table
        return table

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.use_selected()
            return True
        return super().eventFilter(watched, event)

    def _progress_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("addProgressLabel")
        self.progress_label.setWordWrap(True)  # a long file name must not widen the dialog
        self.progress = QProgressBar()
        self.progress.setObjectName("addProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopAddButton")
        self.stop_button.setAutoDefault(False)
        self.stop_button.setToolTip("Stop adding the model; nothing is left behind")
        self.stop_button.clicked.connect(self.stop_adding)
        column = QVBoxLayout()
        column.addWidget(self.progress_label)
        column.addWidget(self.progress)
        row.addLayout(column, 1)
        row.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignBottom)
        for widget in (self.progress_label, self.progress, self.stop_button):
            widget.hide()
        return row

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton("Add model…")
        self.add_button.setObjectName("addModelButton")
        self.add_button.setToolTip("Add a .gguf model file from this computer or a share")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.choose_file)
        self.use_button = QPushButton("Use this model")
        self.use_button.setObjectName("useModelButton")
        self.use_button.setToolTip("Load the selected model in place of the current one (Enter)")
        self.use_button.setDefault(True)
        self.use_button.clicked.connect(self.use_selected)
        close = QPushButton("Close")
        close.setObjectName("closeModelsButton")
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        row.addWidget(self.add_button)
        row.addStretch(1)
        row.addWidget(self.use_button)
        row.addWidget(close)
        return row

    # -- the list --------------------------------------------------------------------------
    def refresh(self, select: Path | None = None) -> None:
        """Re-read the models; keeps the selection (or selects ``select``, else the active)."""
        current = self.selected()
        wanted = select or (current.file if current is not None else None)
        try:
            self.entries = list_models(self.runtime.settings)
        except CopilotError as exc:
            self.entries = []
            self.show_message(user_message(exc), error=True)
        table = self.table
        table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            self._fill_row(row, entry)
        rows = [i for i, e in enumerate(self.entries) if e.file == wanted]
        rows += [i for i, e in enumerate(self.entries) if e.active] + [0]
        if self.entries:
            table.selectRow(rows[0])
        self._show_status()
        self._on_selection()

    def _fill_row(self, row: int, entry: ModelEntry) -> None:
        name = f"{ACTIVE_MARK} {entry.name}" if entry.active else entry.name
        cells = (
            name,
            human_size(entry.size_bytes),
            entry.quantisation,
            entry.architecture,
            origin_text(entry),
        )
        spoken = f"{entry.name}{', in use' if entry.active else ''}"
        spoken += "" if entry.present else ", file missing"
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(origin_tip(entry) if column == 4 else f"{entry.name}\n{entry.file}")
            if column == 0:
                item.setData(Qt.ItemDataRole.AccessibleTextRole, spoken)
            if column == 1:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            font = QFont(item.font())
            font.setBold(entry.active and column == 0)  # the other cells keep their room
            font.setItalic(not entry.present)
            item.setFont(font)
            if not entry.present:
                item.setForeground(_MISSING if column == 4 else QColor("#9ca3af"))
            self.table.setItem(row, column, item)

    def selected(self) -> ModelEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.entries):
            return None
        return self.entries[rows[0].row()]

    def select(self, name: str) -> bool:
        for row, entry in enumerate(self.entries):
            if entry.name == name:
                self.table.selectRow(row)
                return True
        return False

    def _on_selection(self) -> None:
        entry = self.selected()
        engine = self.runtime.engine
        usable = (
            entry is not None
            and entry.present
            and not self.switcher.busy
            and (not entry.active or engine.state is EngineState.FAILED)
        )
        self.use_button.setEnabled(usable)
        if entry is not None and entry.active and engine.state is EngineState.FAILED:
            self.use_button.setText("Try again")
        else:
            self.use_button.setText("Use this model")
        self.details.setText(self._details(entry) if entry is not None else "")

    def _details(self, entry: ModelEntry) -> str:
        if not entry.present:
            return missing_message(entry)
        facts = [str(entry.file)]
        if entry.origin == "linked":
            facts.append(f"links to {_link_target(entry.file)}")
        if entry.sha256:
            facts.append(f"sha256 {entry.sha256[:16]}…")
        if entry.added_at:
            facts.append("added " + entry.added_at.replace("T", " ")[:16])
        return " · ".join(facts)

    def _show_status(self) -> None:
        engine = self.runtime.engine
        active = next((e for e in self.entries if e.active), None)
        name = html.escape(active.name) if active is not None else "no model"
        if self.switcher.busy:
            target = self.switcher.target
            text = f"Loading <b>{html.escape(target.name if target else name)}</b>…"
        elif engine.state is EngineState.READY:
            text = f"In use: <b>{name}</b> (ready)"
        elif engine.state is EngineState.FAILED:
            text = f"<b>{name}</b> could not be loaded. Choose another model, or fix its file."
        else:
            text = f"In use: <b>{name}</b> (loading…)"
        self.status.setText(text)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(_ERROR if error else _OK)
        self.message.setVisible(bool(text))

    # -- using a model ---------------------------------------------------------------------
    def use_selected(self) -> bool:
        """Load the selected model in the window; False (with the reason shown) if it cannot."""
        entry = self.selected()
        if entry is None:
            self.show_message("Select a model in the list first.", error=True)
            return False
        engine = self.runtime.engine
        if entry.active and engine.state is not EngineState.FAILED:
            self.show_message(f"{entry.name} is already in use.")
            return False
        try:
            self.switcher.switch(entry)
        except CopilotError as exc:
            self.show_message(for_dialog(user_message(exc)), error=True)
            return False
        return True

    def _on_switch(self, phase: str, text: str) -> None:
        target = self.switcher.target
        self.refresh(select=target.file if target is not None and phase == "ready" else None)
        self.show_message(text, error=phase in ("restored", "failed"))

    # -- adding a model --------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Add a GGUF model", str(Path.home()), "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self.add_file(Path(path), link=self.link_box.isChecked())

    @property
    def adding(self) -> bool:
        return self._adding is not None

    def add_file(self, source: Path, *, link: bool = False) -> Worker | None:
        """Check, then copy (or link) ``source`` into the models folder in the background."""
        if self._adding is not None:
            self.show_message("A model is being added already. Wait, or press Stop.", error=True)
            return None
        settings, stop = self.runtime.settings, threading.Event()
        shown = [-1]

        def progress(done: int, total: int) -> None:
            if stop.is_set():
                raise Cancelled
            step = done * 1000 // max(total, 1)
            if step != shown[0]:  # at most 1000 updates, however big the file
                shown[0] = step
                worker.signals.item.emit(worker.id, (done, total))

        def job(_cancel: threading.Event) -> ModelEntry | None:
            try:
                return add_model(settings, source, link=link, progress=progress)
            except Cancelled:
                return None  # add_model left nothing behind

        worker = Worker(job, name="model-add")
        worker.signals.item.connect(self._on_add_progress)
        worker.signals.finished.connect(self._on_added)
        worker.signals.failed.connect(self._on_add_failed)
        self._adding = (worker, stop, source, link)
        self.show_message("")
        verb = "Linking" if link else "Copying"
        self.progress_label.setText(f"{verb} {source.name}…")
        self.progress.setRange(0, 0)  # busy until the file is checked
        for widget in (self.progress_label, self.progress, self.stop_button):
            widget.show()
        self.stop_button.setEnabled(True)
        self.add_button.setEnabled(False)
        self.add_workers.start(worker)
        return worker

    def _on_add_progress(self, _id: int, step: tuple[int, int]) -> None:
        done, total = step
        if self._adding is None:
            return
        _worker, _stop, source, link = self._adding
        what = "reading it to record its checksum" if link else "copying"
        self.progress_label.setText(
            f"{source.name}: {what}, {human_size(done)} of {human_size(total)}"
        )
        self.progress.setRange(0, 1000)
        self.progress.setValue(done * 1000 // max(total, 1))

    def stop_adding(self) -> None:
        if self._adding is not None:
            self._adding[1].set()
            self.stop_button.setEnabled(False)
            self.progress_label.setText("Stopping…")

    def _end_adding(self) -> Path | None:
        source = self._adding[2] if self._adding is not None else None
        self._adding = None
        for widget in (self.progress_label, self.progress, self.stop_button):
            widget.hide()
        self.add_button.setEnabled(True)
        return source

    def _on_added(self, _id: int, entry: ModelEntry | None) -> None:
        source = self._end_adding()
        name = source.name if source is not None else "the model"
        if entry is None:
            self.show_message(f"Adding {name} was stopped; nothing was left behind.")
            return
        self.refresh(select=entry.file)
        facts = f"{human_size(entry.size_bytes)}, {entry.quantisation}, {entry.architecture}"
        verb = "Linked" if entry.origin == "linked" else "Added"
        self.show_message(
            f"{verb} {entry.name} ({facts}). Press Enter or “Use this model” to switch to it."
        )
        if not self.isVisible():
            self._window_status(
                f"{verb} the model “{entry.name}”. Choose it in Models (Ctrl+Shift+M)."
            )
        self.added.emit(entry)

    def _on_add_failed(self, _id: int, exc: BaseException) -> None:
        source = self._end_adding()
        if not isinstance(exc, CopilotError):
            log.error("adding %s failed", source, exc_info=exc)
        text = for_dialog(user_message(exc))
        self.show_message(text, error=True)
        if not self.isVisible():
            self._window_status(text)

    def _window_status(self, text: str) -> None:
        parent = self.parentWidget()
        status = getattr(parent, "statusBar", None)
        if status is not None:
            status().showMessage(text, 10000)

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """The window closes: stop a copy in progress (nothing is left behind) and wait."""
        if self._adding is not None:
            self._adding[1].set()
        self.add_workers.wait(wait_ms)
