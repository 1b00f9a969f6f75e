"""Approved replies (macros): supervisor-approved templates offered beside the suggestion."""

from copilot.macros.fill import Filled, fill
from copilot.macros.library import MacroLibrary, MacroMatch
from copilot.macros.model import PLACEHOLDERS, Macro, MacroError

__all__ = ["PLACEHOLDERS", "Filled", "Macro", "MacroError", "MacroLibrary", "MacroMatch", "fill"]
