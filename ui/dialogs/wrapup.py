"""The wrap-up note at the end of a contact: a draft the agent checks, edits and saves.

The dialog never saves by itself: Save asks (``save_requested``) and stays open until
the window says it worked, so a failed save (a full disk) keeps every edit.
"""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from copilot.history.records import ContactSummary, Disposition, Sentiment, SummaryMethod
from ui.clipboard_capture import copy_text

_ERROR = "background:#fdecea; color:#7f1d1d; border:1px solid #f5c2c0; padding:4px"
_METHODS = {
    SummaryMethod.MODEL: "written by the model",
    SummaryMethod.MIXED: "model, gaps filled from the conversation",
    SummaryMethod.EXTRACTIVE: "extractive (sentences taken from the conversation)",
    SummaryMethod.EDITED: "edited by agent",
    SummaryMethod.IMPORTED: "imported",
}
MAX_LINES = 8


def _flat(text: str) -> str:
    return " ".join(text.split())


def _item(text: str) -> str:
    """One line of a list field; a bullet the agent typed is not part of it."""
    return _flat(text).strip(" •-")


def _normalised(summary: ContactSummary) -> dict[str, object]:
    """The fields as the form shows them: what counts as the agent changing nothing."""
    return {
        "reason": _flat(summary.reason),
        "actions": [_item(a) for a in summary.actions if _item(a)],
        "resolution": _flat(summary.resolution),
        "open_items": [_item(o) for o in summary.open_items if _item(o)],
        "sentiment": summary.sentiment.value,
        "disposition": summary.disposition.value,
    }


def _lines(edit: QPlainTextEdit) -> list[str]:
    return [_item(line) for line in edit.toPlainText().splitlines() if _item(line)]


def _field_name(error: ValidationError) -> str:
    first = error.errors()[0]
    return str(first["loc"][0]).replace("_", " ") if first["loc"] else "note"


class WrapupDialog(QDialog):
    save_requested = Signal(object)

    def __init__(
        self,
        draft: ContactSummary,
        target: str,
        can_save: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wrapupDialog")
        self.setWindowTitle("Wrap-up: check the note, then save")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.resize(440, 640)
        self.draft = draft
        layout = QVBoxLayout(self)
        self.target = QLabel(target)
        self.target.setObjectName("wrapupTarget")
        self.target.setWordWrap(True)
        layout.addWidget(self.target)
        self.method = QLabel(f"Draft: {_METHODS.get(draft.method, draft.method.value)}")
        self.method.setObjectName("wrapupMethod")
        self.method.setStyleSheet("color:#6b7280")
        layout.addWidget(self.method)
        layout.addLayout(self._build_form(draft))
        self.error = QLabel("")
        self.error.setObjectName("wrapupError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet(_ERROR)
        self.error.hide()
        layout.addWidget(self.error)
        self._build_buttons(layout, can_save)
        self.reason_edit.setFocus()

    def _build_form(self, draft: ContactSummary) -> QFormLayout:
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)

        def edit(name: str, text: str, lines: int) -> QPlainTextEdit:
            box = QPlainTextEdit(text)
            box.setObjectName(name)
            box.setTabChangesFocus(True)
            box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            box.setMinimumHeight(box.fontMetrics().lineSpacing() * lines + 12)
            return box

        self.reason_edit = edit("wrapupReason", _flat(draft.reason), 3)
        self.actions_edit = edit("wrapupActions", "\n".join(map(_item, draft.actions)), 4)
        self.resolution_edit = edit("wrapupResolution", _flat(draft.resolution), 3)
        self.open_items_edit = edit("wrapupOpenItems", "\n".join(map(_item, draft.open_items)), 3)
        self.sentiment = QComboBox()
        self.sentiment.setObjectName("wrapupSentiment")
        self.sentiment.addItems([s.value for s in Sentiment])
        self.sentiment.setCurrentText(draft.sentiment.value)
        self.disposition = QComboBox()
        self.disposition.setObjectName("wrapupDisposition")
        self.disposition.addItems([d.value for d in Disposition])
        self.disposition.setCurrentText(draft.disposition.value)
        form.addRow("&Reason the customer got in touch", self.reason_edit)
        form.addRow("&Actions taken (one per line)", self.actions_edit)
        form.addRow("Resol&ution", self.resolution_edit)
        form.addRow("&Open items (one per line)", self.open_items_edit)
        form.addRow("Customer &sentiment", self.sentiment)
        form.addRow("&Disposition", self.disposition)
        return form

    def _build_buttons(self, layout: QVBoxLayout, can_save: bool) -> None:
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("wrapupSave")
        self.save_button.setToolTip("Save the note to the customer's history (Ctrl+S)")
        self.save_button.setEnabled(can_save)
        self.save_button.setDefault(True)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Copy the note as text, e.g. for your CRM")
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Back to the contact; nothing is lost (Esc)")
        self.save_button.clicked.connect(self._on_save)
        self.copy_button.clicked.connect(self._on_copy)
        cancel.clicked.connect(self.reject)
        for keys in ("Ctrl+S", "Ctrl+Return"):
            QShortcut(QKeySequence(keys), self, self._on_save)
        layout.addWidget(buttons)

    # -- reading the form ------------------------------------------------------------
    def summary(self) -> ContactSummary:
        """The note as edited; ``method`` says "edited by agent" once anything changed.

        Raises ValueError with a sentence for the agent when a field does not fit.
        """
        actions, open_items = _lines(self.actions_edit), _lines(self.open_items_edit)
        for name, items in (("actions", actions), ("open items", open_items)):
            if len(items) > MAX_LINES:
                raise ValueError(f"Keep the {name} to {MAX_LINES} lines at most.")
        fields: dict[str, object] = {
            "reason": _flat(self.reason_edit.toPlainText()),
            "actions": actions,
            "resolution": _flat(self.resolution_edit.toPlainText()),
            "open_items": open_items,
            "sentiment": self.sentiment.currentText(),
            "disposition": self.disposition.currentText(),
        }
        if fields == _normalised(self.draft):
            return self.draft
        try:
            edited = ContactSummary.model_validate({**fields, "method": SummaryMethod.EDITED})
        except ValidationError as exc:
            raise ValueError(
                f"The {_field_name(exc)} is too long: shorten it to 600 characters."
            ) from exc
        return edited

    @property
    def edited(self) -> bool:
        try:
            return self.summary().method is SummaryMethod.EDITED
        except ValueError:
            return True

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _on_save(self) -> None:
        if not self.save_button.isEnabled():
            return
        try:
            summary = self.summary()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        self.save_requested.emit(summary)

    def _on_copy(self) -> None:
        try:
            summary = self.summary()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        lines = [f"Reason: {summary.reason}"]
        lines += [f"- {a}" for a in summary.actions]
        lines += [f"Resolution: {summary.resolution}"]
        lines += [f"Open: {o}" for o in summary.open_items]
        lines += [f"Sentiment: {summary.sentiment.value}; disposition: {summary.disposition.value}"]
        copy_text("\n".join(lines))
