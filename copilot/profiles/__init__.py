"""Prompt and tone profiles.

The validated model, its files, the published library, packs, the supervisor
passphrase and the sample conversations.
"""
