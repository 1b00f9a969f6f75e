"""Edit one approved reply: title, text, language and tags, checked as you type."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from copilot.macros.model import PLACEHOLDERS, Macro, slugify
from ui.supervisor.field_row import ERROR_STYLE, with_error

LANGUAGES = ["any", "en", "de", "fr", "es", "it", "nl"]
PLACEHOLDER_HELP = "Placeholders filled from the conversation: " + ", ".join(
    "{" + name + "}" for name in sorted(PLACEHOLDERS)
)


def new_id(title: str, taken: set[str]) -> str:
    base = slugify(title) or "reply"
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base[:60]}-{number}"
        number += 1
    return candidate


class MacroDialog(QDialog):
    """``macro()`` is the edited reply once accepted; OK is off while a field is invalid."""

    def __init__(
        self, macro: Macro | None, taken_ids: set[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("macroDialog")
        self.setWindowTitle("Edit approved reply" if macro else "New approved reply")
        self.setMinimumSize(520, 420)
        self.original = macro
        self.taken = set(taken_ids) - ({macro.id} if macro else set())
        self.title = QLineEdit(macro.title if macro else "")
        self.title.setObjectName("macroTitle")
        self.text = QPlainTextEdit(macro.text if macro else "")
        self.text.setObjectName("macroText")
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText("Hello {first_name}, …")
        self.language = QComboBox()
        self.language.setObjectName("macroLanguage")
        self.language.setEditable(True)
        self.language.addItems(LANGUAGES)
        self.language.setCurrentText(macro.language if macro else "any")
        self.tags = QLineEdit(", ".join(macro.tags) if macro else "")
        self.tags.setObjectName("macroTags")
        self.tags.setPlaceholderText("comma-separated, e.g. refund, delivery")
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._row(form, "&Title", "title", self.title)
        self._row(form, "Te&xt", "text", self.text)
        self._row(form, "&Language", "language", self.language)
        self._row(form, "Ta&gs", "tags", self.tags)
        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        hint = QLabel(PLACEHOLDER_HELP)
        hint.setWordWrap(True)
        hint.setStyleSheet("color:#6b7280")
        layout.addWidget(hint)
        self.general = QLabel("")
        self.general.setObjectName("macroError")
        self.general.setWordWrap(True)
        self.general.setStyleSheet(ERROR_STYLE)
        self.general.hide()
        layout.addWidget(self.general)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Save")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.title.textChanged.connect(self._on_changed)
        self.text.textChanged.connect(self._on_changed)
        self.language.currentTextChanged.connect(self._on_changed)
        self.tags.textChanged.connect(self._on_changed)
        self._on_changed()
        self.title.setFocus()

    def _row(self, form: QFormLayout, label: str, field: str, editor: QWidget) -> None:
        cell, error = with_error(editor, f"macroError_{field}")
        self.errors[field] = error
        caption = QLabel(label)
        caption.setBuddy(editor)
        form.addRow(caption, cell)

    def raw(self) -> dict[str, Any]:
        title = self.title.text().strip()
        macro_id = self.original.id if self.original else new_id(title, self.taken)
        return {
            "id": macro_id,
            "title": title,
            "text": self.text.toPlainText().strip(),
            "language": self.language.currentText().strip().lower(),
            "tags": tuple(t.strip() for t in self.tags.text().split(",") if t.strip()),
        }

    def problems(self) -> dict[str, str]:
        try:
            Macro.model_validate(self.raw())
        except ValidationError as exc:
            found: dict[str, str] = {}
            for error in exc.errors():
                where = str(error["loc"][0]) if error["loc"] else ""
                message = str(error["msg"]).removeprefix("Value error, ")
                if error["type"] == "string_pattern_mismatch" and where == "language":
                    message = "Use 'any' or a two-letter code such as 'de'."
                found.setdefault(where, message[:1].upper() + message[1:])
            return found
        return {}

    def _on_changed(self) -> None:
        problems = self.problems()
        for field, label in self.errors.items():
            label.setText(problems.get(field, ""))
            label.setVisible(field in problems)
        other = [m for f, m in problems.items() if f not in self.errors]
        self.general.setText("\n".join(other))
        self.general.setVisible(bool(other))
        self.ok_button.setEnabled(not problems)

    def macro(self) -> Macro:
        return Macro.model_validate(self.raw())

    def accept(self) -> None:
        if not self.problems():
            super().accept()
