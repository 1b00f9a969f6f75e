"""Try a draft before publishing: the draft and the published profile answer one sample.

One engine, so the two run one after the other in a single worker (draft first); a
new preview or closing the window cancels it, and anything a stale worker still
emits is dropped by its id.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from copilot.assist.session import AssistSession
from copilot.assist.suggestion import Chunk, Suggestion
from copilot.contact import Contact, Role
from copilot.model.engine import EngineState
from copilot.profiles.profile import Profile
from ui.errors import user_message
from ui.widgets.suggestion_panel import show_chunk
from ui.worker import Worker, WorkerPool

DRAFT, CURRENT = "draft", "current"
_MUTED = "color:#6b7280"
_FLAG = "color:#92400e"


class PreviewColumn(QWidget):
    """One side of the comparison: the streamed text, the rule notices and the timing."""

    def __init__(self, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"preview_{side}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        header = QHBoxLayout()
        self.title = QLabel("")
        self.title.setObjectName(f"previewTitle_{side}")
        self.timing = QLabel("")
        self.timing.setObjectName(f"previewTiming_{side}")
        self.timing.setStyleSheet(_MUTED)
        header.addWidget(self.title, 1)
        header.addWidget(self.timing)
        layout.addLayout(header)
        self.text = QPlainTextEdit()
        self.text.setObjectName(f"previewText_{side}")
        self.text.setReadOnly(True)
        self.text.setTabChangesFocus(True)
        self.text.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # read-only: Tab skips it
        self.text.setMinimumHeight(60)
        layout.addWidget(self.text, 1)
        self.flags = QLabel("")
        self.flags.setObjectName(f"previewFlags_{side}")
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet(_FLAG)
        self.flags.hide()
        layout.addWidget(self.flags)

    def set_title(self, text: str) -> None:
        self.title.setText(f"<b>{text}</b>")

    def show_message(self, text: str) -> None:
        self.text.clear()
        self.text.setPlaceholderText(text)
        self.timing.setText("")
        self.flags.hide()

    def start(self) -> None:
        self.show_message("Waiting for the model…")

    def add(self, chunk: Chunk) -> None:
        show_chunk(self.text, chunk)

    def finish(self, result: Suggestion) -> None:
        self.text.setPlainText(result.text)
        first = result.first_token_s
        words = len(result.text.split())
        timing = f"{first * 1000:,.0f} ms to first token" if first is not None else "no tokens"
        self.timing.setText(f"{timing} · {words} words")
        self.flags.setText("\n".join(f"⚠ {flag}" for flag in result.flags))
        self.flags.setVisible(bool(result.flags))

    @property
    def plain_text(self) -> str:
        return self.text.toPlainText()


class PreviewPane(QWidget):
    """Sample picker, Preview button and the two columns; ``done`` when both finished."""

    preview_requested = Signal()
    done = Signal()

    def __init__(self, runtime: Any, workers: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewPane")
        self.runtime = runtime
        self.workers = workers
        self._worker: Worker | None = None
        self._samples: list[tuple[str, Contact]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        caption = QLabel("Sample con&versation")
        self.sample_box = QComboBox()
        self.sample_box.setObjectName("previewSample")
        self.sample_box.setMinimumContentsLength(24)
        self.sample_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        caption.setBuddy(self.sample_box)
        self.sample_box.currentIndexChanged.connect(self._on_sample_changed)
        self.button = QPushButton("Preview")
        self.button.setObjectName("previewButton")
        self.button.setToolTip(
            "Answer the sample with the draft and with the published profile (Ctrl+Return)"
        )
        self.button.clicked.connect(self.preview_requested)
        row.addWidget(caption)
        row.addWidget(self.sample_box, 1)
        row.addWidget(self.button)
        layout.addLayout(row)
        self.last_message = QLabel("")
        self.last_message.setObjectName("previewLastMessage")
        self.last_message.setWordWrap(True)
        self.last_message.setStyleSheet(_MUTED)
        layout.addWidget(self.last_message)
        columns = QHBoxLayout()
        self.columns = {DRAFT: PreviewColumn(DRAFT), CURRENT: PreviewColumn(CURRENT)}
        for column in self.columns.values():
            columns.addWidget(column, 1)
        layout.addLayout(columns, 1)
        self.columns[DRAFT].set_title("Draft")
        self.columns[CURRENT].set_title("Published")
        for column in self.columns.values():
            column.show_message("Press Preview (Ctrl+Return) to try the draft on the sample.")

    # -- samples -------------------------------------------------------------------------
    def set_samples(self, samples: list[tuple[str, Contact]]) -> None:
        self._samples = list(samples)
        self.sample_box.clear()
        for label, _contact in self._samples:
            self.sample_box.addItem(label)
        self._on_sample_changed()

    def sample(self) -> Contact | None:
        index = self.sample_box.currentIndex()
        return self._samples[index][1] if 0 <= index < len(self._samples) else None

    def _on_sample_changed(self) -> None:
        contact = self.sample()
        customer = [t.text for t in contact.turns if t.role is Role.CUSTOMER] if contact else []
        last = " ".join(customer[-1].split()) if customer else ""
        if len(last) > 220:
            last = last[:220].rstrip() + "…"
        self.last_message.setText(f"Customer: “{last}”" if last else "")

    # -- running -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def preview(self, draft: Profile, current: Profile | None) -> bool:
        """Start both answers; False (with the reason shown) when nothing can run."""
        self.cancel()
        self.columns[DRAFT].set_title(f"Draft: {draft.name}")
        self.columns[CURRENT].set_title(
            f"Published: {current.name}" if current else "Published: (not published yet)"
        )
        contact = self.sample()
        problem = self._engine_problem() or ("" if contact else "There is no sample to try.")
        if problem:
            for column in self.columns.values():
                column.show_message(problem)
            return False
        assert contact is not None
        runs = [(DRAFT, draft)] + ([(CURRENT, current)] if current else [])
        if current is None:
            self.columns[CURRENT].show_message("This profile is new: nothing to compare with.")
        worker = Worker(self._job(runs, contact), name="supervisor-preview")
        worker.signals.item.connect(self._on_item)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.failed.connect(self._on_failed)
        self._worker = worker
        for side, _profile in runs:
            self.columns[side].show_message("Waiting for the draft to finish…")
        self.workers.start(worker)
        return True

    def _engine_problem(self) -> str:
        engine = self.runtime.engine
        if engine.state is EngineState.READY:
            return ""
        if engine.state is EngineState.FAILED:
            reason = user_message(engine.error) if engine.error else ""
            return f"The model could not be loaded, so there is no preview. {reason}".strip()
        return "The model is not loaded yet. Try Preview again once the main window says ready."

    def _job(self, runs: list[tuple[str, Profile]], contact: Contact) -> Any:
        assist = AssistSession(self.runtime)  # a sample has no knowledge hits to ground in

        def job(cancel: threading.Event) -> Iterator[tuple[str, object]]:
            for side, profile in runs:
                yield side, None
                result = yield from _tagged(side, assist.suggest(contact, profile, cancel=cancel))
                yield side, result

        return job

    def _current(self, worker_id: int) -> bool:
        return self._worker is not None and self._worker.id == worker_id

    def _on_item(self, worker_id: int, item: tuple[str, object]) -> None:
        if not self._current(worker_id):
            return
        side, payload = item
        column = self.columns[side]
        if payload is None:
            column.show_message("Writing…")
        elif isinstance(payload, Chunk):
            column.add(payload)
        elif isinstance(payload, Suggestion):
            column.finish(payload)

    def _on_finished(self, worker_id: int, _result: object) -> None:
        if self._current(worker_id):
            self._worker = None
            self.done.emit()

    def _on_failed(self, worker_id: int, exc: BaseException) -> None:
        if not self._current(worker_id):
            return
        self._worker = None
        for column in self.columns.values():
            if not column.plain_text:
                column.show_message(user_message(exc))
        self.done.emit()


def _tagged(
    side: str, stream: Generator[Chunk, None, Suggestion]
) -> Generator[tuple[str, object], None, Suggestion]:
    """The stream's chunks marked with their column; returns the finished Suggestion."""
    while True:
        try:
            chunk = next(stream)
        except StopIteration as stop:
            result: Suggestion = stop.value
            return result
        yield side, chunk
