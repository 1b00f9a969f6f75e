"""The key of the encrypted history store: generated once, kept in the OS keyring.

With no usable keyring the store is opened with a passphrase the user types instead;
the key is never written in plain text. A keyring backend that itself stores secrets
in plain text (priority below 1, e.g. keyrings.alt's PlaintextKeyring) is only used
when IT chose it explicitly (PYTHON_KEYRING_BACKEND or keyringrc.cfg), never because
it happened to be installed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from copilot.errors import PrivacyError, StoreError
from copilot.os_keyring import SERVICE, usable_backend

log = logging.getLogger(__name__)

KEY_ENTRY = "history-store-key"
MIN_PASSPHRASE = 8


class PassphraseRequired(PrivacyError):  # noqa: N818 - a request to the user, not a bug
    """No usable keyring: the user must type a passphrase to open or create the store."""

    def __init__(self, reason: str, *, creating: bool) -> None:
        action = "choose a passphrase to create" if creating else "enter the passphrase to open"
        super().__init__(
            f"{reason} Customer history is encrypted, so {action} it. The passphrase is never "
            "stored; without it the history cannot be read."
        )
        self.reason = reason
        self.creating = creating


@dataclass(frozen=True)
class StoreKey:
    """What unlocks the store, and where it came from (for `doctor` and the status bar)."""

    secret: str
    kind: str  # "raw" (hex key from the keyring) or "passphrase"
    source: str

    def pragma(self) -> str:
        if self.kind == "raw":
            return f"\"x'{self.secret}'\""
        return "'" + self.secret.replace("'", "''") + "'"

    def __repr__(self) -> str:  # never print the secret
        return f"StoreKey(kind={self.kind!r}, source={self.source!r})"


def key_from_keyring(*, create: bool) -> StoreKey:
    """The stored key; a new one when ``create`` and none exists. Raises PassphraseRequired."""
    backend, name = usable_backend()
    if backend is None:
        raise PassphraseRequired(name, creating=create)
    try:
        secret = backend.get_password(SERVICE, KEY_ENTRY)
        if secret is None and create:
            secret = secrets.token_hex(32)
            backend.set_password(SERVICE, KEY_ENTRY, secret)
            if backend.get_password(SERVICE, KEY_ENTRY) != secret:
                raise StoreError(f"The OS keyring ({name}) did not keep the new key.")
            log.info("generated a new history store key in %s", name)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - keyring errors vary by backend
        raise StoreError(f"The OS keyring ({name}) failed: {exc}.") from exc
    if secret is None:
        raise StoreError(
            f"The key of the customer history store is missing from the OS keyring ({name}). "
            "Restore the keyring, or move the history folder aside to start an empty store."
        )
    if len(secret) != 64 or any(c not in "0123456789abcdef" for c in secret):
        raise StoreError(f"The history key in the OS keyring ({name}) is damaged.")
    return StoreKey(secret=secret, kind="raw", source=f"keyring ({name})")


def key_from_passphrase(passphrase: str) -> StoreKey:
    if len(passphrase) < MIN_PASSPHRASE:
        raise PrivacyError(f"The passphrase must have at least {MIN_PASSPHRASE} characters.")
    return StoreKey(secret=passphrase, kind="passphrase", source="passphrase")
