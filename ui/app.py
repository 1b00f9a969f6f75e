"""Start the window: QApplication, crash handling, the runtime, background model load."""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from copilot.paths import config_dir, resources_dir
from copilot.runtime import Runtime
from ui.errors import install_excepthook
from ui.window.main_window import MainWindow

log = logging.getLogger(__name__)
#: Set by ``agent-copilot bench``: print start-up figures as JSON, then quit.
READY_PROBE_ENV = "AGENT_COPILOT_READY_PROBE"


def window_state() -> QSettings:
    path = config_dir() / "window.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def create_window(runtime: Runtime | None = None) -> MainWindow:
    runtime = runtime or Runtime.create()
    window = MainWindow(runtime, window_state())
    icon = resources_dir() / "icons" / "copilot.svg"
    if icon.is_file():
        window.setWindowIcon(QIcon(str(icon)))
    return window


def _probe(window: MainWindow) -> None:
    """Print when the window became usable and when the model finished, then quit.

    Times are ``time.monotonic()`` (system-wide on Linux), so the bench can subtract
    the moment it launched this process.
    """
    figures = {"window_ready_at": time.monotonic()}

    def model_done(state: str) -> None:
        figures["model_ready_at"] = time.monotonic()
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures["model_state"] = state
        print(json.dumps(figures), flush=True)
        QApplication.instance().quit()

    if window.runtime.engine.state.value in ("ready", "failed"):
        model_done(window.runtime.engine.state.value)
    else:
        window.model_state_changed.connect(model_done)


def main(argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Agent Copilot")
    install_excepthook()
    window = create_window()
    window.show()
    window.start_model_load()
    if os.environ.get(READY_PROBE_ENV):
        QTimer.singleShot(0, lambda: _probe(window))
    else:
        open_services_after_model(window)
    return app.exec()


def open_services_after_model(window: MainWindow) -> None:
    """The history, approved replies, knowledge base and local API open once the model is in.

    All loading at once would slow the first paint and the first suggestion. The
    history goes first: it is what a new contact shows.
    """
    window.model_state_changed.connect(lambda _state: window.history.start_once())
    window.model_state_changed.connect(lambda _state: window.macros_start_once())
    window.model_state_changed.connect(lambda _state: window.knowledge.start_once())
    window.model_state_changed.connect(lambda _state: window.api.start_once())
