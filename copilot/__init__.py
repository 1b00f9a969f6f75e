"""Offline agent-assist copilot: the core (never imports Qt or the UI)."""

__version__ = "0.1.0"
