"""The editor for one profile: a widget per Profile field, each with its error beside it.

The form knows nothing about files: it turns its widgets into the raw mapping a profile
file would hold, asks a validator for per-field messages on every keystroke and shows
them. Whoever owns the form decides what a valid draft is allowed to do (Publish).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import annotated_types
from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from copilot.profiles.files import field_errors
from copilot.profiles.profile import TEMPLATE_VARIABLES, Profile
from ui.supervisor.field_row import ERROR_STYLE, with_error

Validator = Callable[[dict[str, Any]], dict[str, str]]
_HINT = "color:#6b7280"
AVOID_ACTIONS = {"flag": "Flag it for the agent", "remove": "Remove it from the reply"}
GERMAN_ADDRESS = {"any": "Not checked", "formal": "Formal (Sie)", "informal": "Informal (du)"}
VARIABLES = ", ".join("{" + name + "}" for name in sorted(TEMPLATE_VARIABLES))


def _bounds(field: str) -> tuple[float, float]:
    """The model's ge/le limits, so the spin boxes never drift from the file rules."""
    low, high = 0.0, 1000.0
    for item in Profile.model_fields[field].metadata:
        if isinstance(item, annotated_types.Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        if isinstance(item, annotated_types.Le):
            high = float(item.le)  # type: ignore[arg-type]
    return low, high


def _text_box(
    name: str, lines: int, placeholder: str = "", max_lines: int | None = None
) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setObjectName(name)
    box.setTabChangesFocus(True)
    box.setPlaceholderText(placeholder)
    line = box.fontMetrics().lineSpacing()
    box.setMinimumHeight(line * lines + 12)
    if max_lines is not None:
        box.setMaximumHeight(line * max_lines + 12)
    return box


def _line(name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    return edit


def _choices(name: str, labels: dict[str, str]) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for value, label in labels.items():
        box.addItem(label, value)
    return box


class ProfileForm(QWidget):
    """Edits a draft; ``changed`` fires on every edit, after the errors are shown."""

    changed = Signal()

    def __init__(self, validator: Validator = field_errors, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("profileForm")
        self.validator = validator
        self._loading = False
        self._errors: dict[str, str] = {}
        self.error_labels: dict[str, QLabel] = {}
        self._build()
        self._connect()

    # -- building ----------------------------------------------------------------------
    def _build(self) -> None:
        self.name = _line("profileName", "lowercase-with-dashes")
        self.description = _line("profileDescription", "When should agents pick this profile?")
        self.tone = _line("profileTone", "e.g. warm, plain words, no jargon")
        self.language_mode = _choices(
            "profileLanguageMode", {"customer": "Customer's language", "fixed": "Always"}
        )
        self.language_code = _line("profileLanguageCode", "de")
        self.language_code.setMaximumWidth(56)
        self.max_words = QSpinBox()
        self.max_words.setObjectName("profileMaxWords")
        low, high = _bounds("max_words")
        self.max_words.setRange(int(low), int(high))
        self.max_words.setSuffix(" words")
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("profileTemperature")
        self.temperature.setRange(*_bounds("temperature"))
        self.temperature.setSingleStep(0.05)
        self.german_address = _choices("profileGermanAddress", GERMAN_ADDRESS)
        self.avoid_action = _choices("profileAvoidAction", AVOID_ACTIONS)
        self.system_prompt = _text_box(
            "profileSystemPrompt", 5, f"Instructions for the model. Variables: {VARIABLES}"
        )
        self.avoid_phrases = _text_box("profileAvoidPhrases", 3, "One phrase per line", 5)
        self.closing_line = _line("profileClosingLine", "e.g. Best regards, {agent_name}")
        self.disclaimer = _text_box(
            "profileDisclaimer", 2, "Text every reply must end with (added when missing)", 4
        )

        language = QWidget()
        row = QHBoxLayout(language)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.language_mode, 1)
        row.addWidget(self.language_code)

        left = QFormLayout()
        left.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._row(left, "Na&me", "name", self.name)
        self._row(left, "&Description", "description", self.description)
        self._row(left, "&Tone", "tone", self.tone)
        self._row(left, "Reply lan&guage", "reply_language", language, self.language_mode)
        self._row(left, "Max &words", "max_words", self.max_words)
        self._row(left, "Temper&ature", "temperature", self.temperature)
        self._row(left, "German addr&ess", "german_address", self.german_address)
        self._row(left, "Phrases to avo&id", "avoid_phrases", self.avoid_phrases)
        self._row(left, "When one appears", "avoid_action", self.avoid_action)

        right = QFormLayout()
        right.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self._row(right, "S&ystem prompt", "system_prompt", self.system_prompt)
        self._row(right, "&Closing line", "closing_line", self.closing_line)
        self._row(right, "Di&sclaimer", "disclaimer", self.disclaimer)
        self.general_error = QLabel("")
        self.general_error.setObjectName("profileGeneralError")
        self.general_error.setWordWrap(True)
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.hide()

        columns = QHBoxLayout()
        for index, form in enumerate((left, right)):
            column = QVBoxLayout()
            column.addLayout(form)
            column.addStretch(1)  # rows keep their height; spare room goes below them
            if index:
                columns.addSpacing(12)
            columns.addLayout(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(columns)
        layout.addWidget(self.general_error)

    def _row(
        self,
        form: QFormLayout,
        label: str,
        field: str,
        editor: QWidget,
        buddy: QWidget | None = None,
    ) -> None:
        cell, error = with_error(editor, f"error_{field}")
        self.error_labels[field] = error
        caption = QLabel(label)
        caption.setBuddy(buddy or editor)
        description = Profile.model_fields[field].description
        if description:
            caption.setToolTip(description)
            editor.setToolTip(description)
        form.addRow(caption, cell)

    def focus_chain(self) -> list[QWidget]:
        """The editors in reading order: the left column, then the right one."""
        return [
            self.name,
            self.description,
            self.tone,
            self.language_mode,
            self.language_code,
            self.max_words,
            self.temperature,
            self.german_address,
            self.avoid_phrases,
            self.avoid_action,
            self.system_prompt,
            self.closing_line,
            self.disclaimer,
        ]

    def _connect(self) -> None:
        for edit in (self.name, self.description, self.tone, self.language_code, self.closing_line):
            edit.textChanged.connect(self._on_edited)
        for box in (self.system_prompt, self.avoid_phrases, self.disclaimer):
            box.textChanged.connect(self._on_edited)
        for combo in (self.language_mode, self.german_address, self.avoid_action):
            combo.currentIndexChanged.connect(self._on_edited)
        self.max_words.valueChanged.connect(self._on_edited)
        self.temperature.valueChanged.connect(self._on_edited)

    # -- values ------------------------------------------------------------------------
    def load(self, profile: Profile) -> None:
        """Show ``profile``; no ``changed`` signal, the errors are refreshed."""
        self._loading = True
        try:
            self.name.setText(profile.name)
            self.description.setText(profile.description)
            self.tone.setText(profile.tone)
            fixed = profile.reply_language != "customer"
            self.language_mode.setCurrentIndex(1 if fixed else 0)
            self.language_code.setText(profile.reply_language if fixed else "")
            self.max_words.setValue(profile.max_words)
            self.temperature.setValue(profile.temperature)
            self._select(self.german_address, profile.german_address)
            self._select(self.avoid_action, profile.avoid_action)
            self.system_prompt.setPlainText(profile.system_prompt)
            self.avoid_phrases.setPlainText("\n".join(profile.avoid_phrases))
            self.closing_line.setText(profile.closing_line)
            self.disclaimer.setPlainText(profile.disclaimer)
        finally:
            self._loading = False
        for edit in self.findChildren(QLineEdit):
            edit.setCursorPosition(0)  # long texts show their start, not their end
        self._update_language_code()
        self.revalidate()

    @staticmethod
    def _select(box: QComboBox, value: str) -> None:
        index = box.findData(value)
        box.setCurrentIndex(max(index, 0))

    def raw(self) -> dict[str, Any]:
        """The draft as a profile file would hold it."""
        fixed = self.language_mode.currentData() == "fixed"
        phrases = [line.strip() for line in self.avoid_phrases.toPlainText().splitlines()]
        return {
            "name": self.name.text().strip(),
            "description": self.description.text().strip(),
            # multi-line texts as typed: a file's trailing newline is no change to publish
            "system_prompt": self.system_prompt.toPlainText(),
            "tone": self.tone.text().strip(),
            "reply_language": self.language_code.text().strip() if fixed else "customer",
            "max_words": self.max_words.value(),
            "temperature": round(self.temperature.value(), 2),
            "avoid_phrases": tuple(p for p in phrases if p),
            "avoid_action": self.avoid_action.currentData(),
            "closing_line": self.closing_line.text().strip(),
            "disclaimer": self.disclaimer.toPlainText(),
            "german_address": self.german_address.currentData(),
        }

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def profile(self) -> Profile | None:
        """The draft as a Profile, or None while any field is invalid."""
        if self._errors:
            return None
        try:
            return Profile.model_validate(self.raw())
        except ValidationError:
            return None

    def revalidate(self) -> None:
        self._errors = self.validator(self.raw())
        for field, label in self.error_labels.items():
            message = self._errors.get(field, "")
            label.setText(message)
            label.setVisible(bool(message))
        general = [m for f, m in self._errors.items() if f not in self.error_labels]
        self.general_error.setText("\n".join(general))
        self.general_error.setVisible(bool(general))

    def set_editable(self, editable: bool) -> None:
        for widget in self.findChildren(QWidget):
            if isinstance(widget, (QLineEdit, QPlainTextEdit)):
                widget.setReadOnly(not editable)
            elif isinstance(widget, (QComboBox, QSpinBox, QDoubleSpinBox)):
                widget.setEnabled(editable)
        if editable:
            self._update_language_code()

    def _update_language_code(self) -> None:
        self.language_code.setEnabled(self.language_mode.currentData() == "fixed")

    def _on_edited(self) -> None:
        if self._loading:
            return
        self._update_language_code()
        self.revalidate()
        self.changed.emit()
