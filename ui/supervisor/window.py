"""The Supervisor window: Profiles, Approved replies and Dashboard as tabs.

It exists only while supervisor mode is unlocked: closing it locks again (the next
open asks for the passphrase). It is a separate, non-modal window so the agent's
window keeps working beside it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from copilot.errors import CopilotError
from ui.errors import user_message
from ui.supervisor.profiles_tab import ProfilesTab
from ui.supervisor.replies_tab import RepliesTab
from ui.worker import WorkerPool

log = logging.getLogger(__name__)
SIZE = (960, 720)


class SupervisorWindow(QMainWindow):
    """``closed`` fires once the window is gone and supervisor mode is locked again."""

    closed = Signal()

    def __init__(self, host: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("supervisorWindow")
        self.setWindowTitle("Supervisor – Agent Copilot")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.host = host
        self.runtime = host.runtime
        self.workers = WorkerPool(max_threads=1)
        self._own_analytics: Any = None
        self.tabs = QTabWidget()
        self.tabs.setObjectName("supervisorTabs")
        self.tabs.setDocumentMode(True)
        self.profiles = ProfilesTab(self.runtime, self.runtime.library, self.workers)
        self.profiles.preview.set_samples(_samples())
        self.replies = RepliesTab(self._open_macros, self.workers, self._shared_macros)
        self.tabs.addTab(self.profiles, "&Profiles")
        self.tabs.addTab(self.replies, "Approved &replies")
        self.dashboard = self._build_dashboard()
        self.tabs.addTab(self.dashboard, "Dash&board")
        self.tabs.setTabToolTip(0, "Edit, preview and publish profiles (Ctrl+1)")
        self.tabs.setTabToolTip(1, "Approved replies offered to agents (Ctrl+2)")
        self.tabs.setTabToolTip(2, "How suggestions are used, per profile and day (Ctrl+3)")
        self.setCentralWidget(self.tabs)
        self.statusBar().setSizeGripEnabled(False)  # made now: messages never shift the layout
        self.profiles.published.connect(self._on_published)
        self.profiles.status.connect(self._on_status)
        self.replies.status.connect(self._on_replies_status)
        for index in range(3):
            QShortcut(
                QKeySequence(f"Ctrl+{index + 1}"),
                self,
                lambda i=index: self.tabs.setCurrentIndex(i),
            )
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)
        self.resize(*SIZE)
        self.replies.start()

    # -- parts -------------------------------------------------------------------------
    def _shared_macros(self) -> Any:
        """The agent window's approved-reply library, once it has opened one."""
        return getattr(getattr(self.host, "macros", None), "library", None)

    def _open_macros(self) -> Any:
        """The window's own library when it is open (one instance sees every edit)."""
        shared = self._shared_macros()
        if shared is not None:
            return shared
        from copilot.macros.library import MacroLibrary

        return MacroLibrary.open(self.runtime.settings)

    def _build_dashboard(self) -> QWidget:
        analytics = getattr(self.host, "analytics", None)
        if analytics is None:
            try:
                from copilot.analytics.store import Analytics

                analytics = self._own_analytics = Analytics.open(self.runtime.settings)
            except CopilotError as exc:
                label = QLabel(f"The dashboard is not available: {user_message(exc)}")
                label.setObjectName("dashboardUnavailable")
                label.setWordWrap(True)
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                return label
        from ui.supervisor.dashboard import Dashboard

        def loader(days: int, profile: str | None) -> Any:
            return analytics.report(days, profile)

        def exporter(path: Path, days: int) -> int:
            return int(analytics.export_csv(path, days))

        return Dashboard(loader, exporter)

    # -- messages ----------------------------------------------------------------------
    def _on_published(self, message: str) -> None:
        """Profiles changed: the agent window re-reads them, agents get them next time."""
        refresh = getattr(self.host, "profiles_changed", None)
        if refresh is not None:
            refresh()
        else:
            self.runtime.reload_profiles()
        self.statusBar().showMessage(message, 8000)

    def _on_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def _on_replies_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # -- closing -----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.profiles.maybe_leave():
            event.ignore()
            return
        self.profiles.preview.cancel()
        self.workers.cancel_all()
        self.workers.wait(10_000)
        if self._own_analytics is not None:
            self._own_analytics.close()
            self._own_analytics = None
        log.info("supervisor mode locked")
        super().closeEvent(event)
        self.closed.emit()


def _samples() -> list[tuple[str, Any]]:
    from copilot.profiles.samples import sample_contacts

    return sample_contacts()
