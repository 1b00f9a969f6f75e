"""The suggestion path for a live contact.

Prompt, grounding, leak guard, output rules, citations and the one ``AssistSession``
that every front end uses.
"""
