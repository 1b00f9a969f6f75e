"""``agent-copilot selftest --window``: one real suggestion through the real window.

The window opens as it does for an agent (offscreen when there is no screen), loads the
model, opens the knowledge base, history, approved replies and local API after it, then
plays the demo customer's first message and waits for the suggestion to finish
streaming. It proves a frozen build or an offline install can do the whole job, Qt
plugins and all, not only import.
"""

from __future__ import annotations

import os
import sys
import time

from copilot.assist.suggestion import Chunk, Suggestion
from copilot.commands.selftest import SelfTestResult
from copilot.errors import CopilotError


def _screenless() -> bool:
    env = os.environ
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def _qt_message(_kind: object, _context: object, message: str) -> None:
    # The offscreen platform says at every window that it cannot apply size hints.
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


def main(timeout_s: float, echo: bool) -> SelfTestResult:
    if sys.platform.startswith("linux") and _screenless():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QEventLoop, QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_qt_message)

    from ui.app import create_window, open_services_after_model

    _app = QApplication.instance() or QApplication(["agent-copilot"])
    # A loop of its own, not the application's: quitting it leaves the application running.
    loop = QEventLoop()
    result = SelfTestResult(window=True, qt_platform=QApplication.platformName())
    started = time.perf_counter()
    try:
        window = create_window()
    except CopilotError as exc:
        result.error = exc.user_message
        return result.finish()
    state = {"asked": False, "stopped": False}

    def stop(error: str = "") -> None:
        state["stopped"] = True
        if error and not result.error:
            result.error = error
        result.total_s = time.perf_counter() - started
        watchdog.stop()
        loop.quit()

    def on_model(model_state: str) -> None:
        engine = window.runtime.engine
        if model_state != "ready" or engine.info is None:
            failure = engine.error.user_message if engine.error else "The model did not load."
            stop(failure)
            return
        result.model = engine.info.label
        result.load_s = time.perf_counter() - started
        result.steps.append(f"Model loaded in the window in {result.load_s:.1f} s: {result.model}")
        # The knowledge base, history, approved replies and API open after the model (as
        # for an agent); the suggestion is grounded in the articles, so it waits for them.

    def knowledge_settled(opened: bool) -> None:
        if state["asked"]:
            return
        result.steps.append(
            "Knowledge base open" if opened else "Knowledge base unavailable: no articles"
        )
        state["asked"] = True
        window.demo_step()

    def on_chunk(chunk: Chunk) -> None:
        if echo:
            sys.stdout.write(chunk.text if not chunk.replace else "\n" + chunk.text)
            sys.stdout.flush()

    def on_done(suggestion: Suggestion) -> None:
        if echo:
            sys.stdout.write("\n")
        result.articles = len(window.knowledge.last_hits)
        if result.took(suggestion):
            window.regenerate()
            return
        stop()

    def timed_out() -> None:
        what = "suggestion" if state["asked"] else "model and knowledge base"
        stop(f"The {what} did not finish within {timeout_s:g} s.")

    watchdog = QTimer(singleShot=True, interval=int(timeout_s * 1000), timeout=timed_out)
    window.model_state_changed.connect(on_model)
    window.knowledge.ready.connect(lambda: knowledge_settled(True))
    window.knowledge.failed.connect(lambda _exc: knowledge_settled(False))
    window.suggestion_chunk.connect(on_chunk)
    window.suggestion_done.connect(on_done)
    window.show()
    window.start_model_load()
    open_services_after_model(window)
    watchdog.start()
    if not state["stopped"]:  # quit() before exec() would be lost
        loop.exec()
    window.close()
    return result.finish()
