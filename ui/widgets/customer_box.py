"""The customer field of the contact row: type a phone, email or handle, or pick a name.

Completions come from the history store as the agent types; picking one names the
customer by id, so two customers with similar names can never be confused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from copilot.history.store import Customer

CustomerSearch = Callable[[str], Sequence[Customer]]
MAX_IDENTIFIER = 200
_KIND_ORDER = ("email", "phone", "handle")


def choice_label(customer: Customer) -> str:
    """How a customer reads in the completion list: name and the identifiers to tell them apart."""
    shown = [value for kind in _KIND_ORDER for k, value in customer.identifiers if k == kind]
    name = customer.name or customer.id
    return f"{name} · {' · '.join(shown[:2])}" if shown else name


def best_identifier(customer: Customer, typed: str) -> str:
    """The identifier the agent was typing, else the first one (email, phone, handle)."""
    needle = typed.strip().casefold().lstrip("@")
    for kind in _KIND_ORDER:
        for k, value in customer.identifiers:
            if k == kind and needle and needle in value.casefold():
                return value
    for kind in _KIND_ORDER:
        for k, value in customer.identifiers:
            if k == kind:
                return value
    return ""


class CustomerBox(QLineEdit):
    #: The agent pressed Enter on what they typed (an identifier, or nothing).
    entered = Signal(str)
    #: The agent picked a stored customer from the list: (customer id, identifier).
    picked = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customerBox")
        self.setAccessibleName("Customer")
        self.setPlaceholderText("Customer: phone, email, @handle or name")
        self.setToolTip(
            "Who is this? Type a phone number, email, handle or name and press Enter, "
            "or pick from the list (Ctrl+F)"
        )
        self.setClearButtonEnabled(True)
        self.setMaxLength(MAX_IDENTIFIER)
        self._search: CustomerSearch = lambda _text: []
        self._choices: dict[str, Customer] = {}
        self._typed = ""
        self._picked = ""
        self.model = QStringListModel(self)
        completer = QCompleter(self.model, self)
        completer.setObjectName("customerCompleter")
        # The store already filtered by name and identifier: show its answer as it is.
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompleter(completer)
        completer.activated.connect(self._on_activated)
        self.textEdited.connect(self._on_text_edited)
        self.returnPressed.connect(self._on_return)

    def set_search(self, search: CustomerSearch) -> None:
        self._search = search

    def show_identifier(self, text: str) -> None:
        """Set the field from the program (demo, new contact) without searching."""
        self._typed = text
        self.setText(text)

    # -- slots -----------------------------------------------------------------------
    def _on_text_edited(self, text: str) -> None:
        self._typed, self._picked = text, ""
        found = list(self._search(text)) if len(text.strip()) >= 2 else []
        self._choices = {choice_label(c): c for c in found}
        self.model.setStringList(list(self._choices))
        popup = self.completer().popup()
        if self._choices:
            self.completer().complete()
        elif popup is not None:
            popup.hide()

    def _on_activated(self, label: str) -> None:
        customer = self._choices.get(label)
        # Enter on a highlighted row arrives twice (returnPressed and activated).
        if customer is None or label == self._picked:
            return
        identifier = best_identifier(customer, self._typed)
        self._picked = label
        self.picked.emit(customer.id, identifier)
        # The completer writes the chosen row into the field after this slot; the
        # identifier replaces it once that is done.
        QTimer.singleShot(0, lambda: self.show_identifier(identifier or customer.name))

    def _on_return(self) -> None:
        text = self.text().strip()
        if text in self._choices:  # Enter on a highlighted row of the list
            self._on_activated(text)
            return
        self.entered.emit(text)
