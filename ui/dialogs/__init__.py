"""Dialogs the agent or IT opens from the window."""
