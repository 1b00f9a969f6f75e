"""The one pattern for work off the GUI thread: a QRunnable that reports through signals.

A job is a callable taking a ``threading.Event`` (cancel). If it returns an iterator,
each item is emitted as ``item`` until the iterator ends or cancel is set; the final
return value is emitted as ``finished``. ``copilot.errors.Cancelled`` is swallowed;
any other exception is emitted as ``failed`` so it never dies silently in a thread.
Every signal carries the worker's id, so the window can drop anything from a stale job.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from copilot.errors import Cancelled

log = logging.getLogger(__name__)
_ids = itertools.count(1)


class WorkerSignals(QObject):
    item = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, object)


class Worker(QRunnable):
    def __init__(self, job: Callable[[threading.Event], Any], name: str = "job") -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.id = next(_ids)
        self.name = name
        self.job = job
        self.cancel_event = threading.Event()
        self.signals = WorkerSignals()
        self.done = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def run(self) -> None:
        try:
            result = self.job(self.cancel_event)
            if isinstance(result, Iterator):
                result = self._drain(result)
            if not self.cancelled:
                self.signals.finished.emit(self.id, result)
        except Cancelled:
            log.debug("%s %d cancelled", self.name, self.id)
        except BaseException as exc:  # noqa: BLE001 - reported to the UI, never lost
            if not self.cancelled:
                self.signals.failed.emit(self.id, exc)
            else:
                log.debug("%s %d failed after cancel: %r", self.name, self.id, exc)
        finally:
            self.done.set()

    def _drain(self, items: Iterator[Any]) -> Any:
        """Emit each item; the generator's return value becomes the result."""
        try:
            while True:
                try:
                    item = next(items)
                except StopIteration as stop:
                    return stop.value
                if self.cancelled:
                    raise Cancelled
                self.signals.item.emit(self.id, item)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()


class WorkerPool:
    """Starts workers and keeps them alive until they finish."""

    def __init__(self, max_threads: int = 2) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._running: dict[int, Worker] = {}

    def start(self, worker: Worker) -> Worker:
        self._running = {k: w for k, w in self._running.items() if not w.done.is_set()}
        self._running[worker.id] = worker
        self.pool.start(worker)
        return worker

    def cancel_all(self) -> None:
        for worker in self._running.values():
            worker.cancel()

    def wait(self, msecs: int = 10_000) -> bool:
        return self.pool.waitForDone(msecs)
