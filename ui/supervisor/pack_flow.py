"""Profile packs from the supervisor window: export to a file, import with a report first.

An import never applies blindly: the supervisor reads what would be added, changed and
removed, then applies or cancels. A pack older than the profiles here needs a second yes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from copilot.errors import CopilotError
from copilot.profiles import packs
from ui.supervisor import ask

PACK_FILES = "Profile packs (*.json);;All files (*)"


class ImportPlanDialog(QDialog):
    """What an import would change; Apply or Cancel."""

    def __init__(self, lines: list[str], older: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("packImportDialog")
        self.setWindowTitle("Import profile pack")
        self.setMinimumSize(480, 320)
        layout = QVBoxLayout(self)
        intro = QLabel("Importing this pack changes the published profiles as follows:")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.report = QPlainTextEdit("\n".join(lines))
        self.report.setObjectName("packImportReport")
        self.report.setReadOnly(True)
        self.report.setTabChangesFocus(True)
        layout.addWidget(self.report, 1)
        if older:
            warning = QLabel(
                "This pack is older than the profiles published here. Applying it goes back "
                "to its version."
            )
            warning.setObjectName("packImportOlder")
            warning.setWordWrap(True)
            warning.setStyleSheet("color:#92400e; font-weight:bold")
            layout.addWidget(warning)
        buttons = QDialogButtonBox()
        self.apply_button = buttons.addButton(
            "&Apply older pack" if older else "&Apply", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setObjectName("packImportApply")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.apply_button.setFocus(Qt.FocusReason.OtherFocusReason)


def confirm_plan(parent: QWidget, lines: list[str], older: bool) -> bool:
    """Shows the plan; True to apply (tests replace this)."""
    return ask.run(ImportPlanDialog(lines, older, parent))


def export_pack(parent: QWidget, library: Any, settings: Any) -> str:
    """Ask where, write the pack; the status message, or "" when nothing was written."""
    suggested = f"profiles-v{getattr(library, 'pack_version', 1)}.json"
    path = ask.save_path(parent, "Export profile pack", suggested, PACK_FILES)
    if path is None:
        return ""
    if not path.suffix:
        path = path.with_suffix(".json")
    try:
        written = packs.export_pack(library, path, author=getattr(settings, "agent_name", ""))
    except CopilotError as exc:
        ask.error(parent, "Export failed", exc)
        return ""
    except OSError as exc:
        ask.error(parent, "Export failed", CopilotError(f"{path} cannot be written ({exc})."))
        return ""
    return f"Exported the published profiles to {written}."


def import_pack(parent: QWidget, library: Any) -> str:
    """Ask which file, show the plan, apply on yes; the status message, or "" if nothing."""
    path = ask.open_path(parent, "Import profile pack", PACK_FILES)
    if path is None:
        return ""
    try:
        pack = packs.read_pack(path)
        plan = packs.plan_import(library, pack)
    except CopilotError as exc:
        ask.error(parent, "Import failed", exc)
        return ""
    older = bool(plan.older)
    if not confirm_plan(parent, plan.lines(), older):
        return ""
    try:
        report = packs.apply_import(library, pack, allow_older=older)
    except CopilotError as exc:
        ask.error(parent, "Import failed", exc)
        return ""
    return f"Imported {path.name}: {summary(report)}; agents see it on their next suggestion."


def summary(report: Any) -> str:
    parts = [
        f"{len(report.added)} added",
        f"{len(report.changed)} changed",
        f"{len(report.removed)} removed",
    ]
    return ", ".join(parts)
