"""The supervisor passphrase: only its scrypt hash is kept, in the OS keyring.

The hash goes to the keyring rather than a file in the data folder so it is not copied
around with the profiles, and with no usable keyring supervisor mode is refused instead
of falling back to something weaker. Wrong guesses are slowed down after a few in a row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copilot.errors import PrivacyError
from copilot.os_keyring import SERVICE, usable_backend

log = logging.getLogger(__name__)

ENTRY = "supervisor-passphrase"
MIN_LENGTH = 8
N, R, P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
FREE_TRIES = 5
FIRST_DELAY_S, MAX_DELAY_S = 30.0, 900.0
NO_KEYRING = (
    "Supervisor mode needs the OS keyring to keep its passphrase hash, and none is available "
    "on this workstation. Ask IT to enable the Secret Service (or Windows Credential Manager / "
    "macOS Keychain)."
)


class LockedOut(PrivacyError):  # noqa: N818 - a state the user waits out, not a bug
    """Too many wrong passphrases in a row: verify refuses until ``seconds_left`` pass."""

    def __init__(self, seconds_left: float) -> None:
        wait = max(1, round(seconds_left))
        super().__init__(
            f"Too many wrong supervisor passphrases in a row. Try again in {wait} seconds."
        )
        self.seconds_left = seconds_left


@dataclass
class Backoff:
    """Failures in a row and until when verify refuses; shared by every lock in a process."""

    failures: int = 0
    locked_until: float = 0.0


_PROCESS_BACKOFF = Backoff()


def hash_passphrase(passphrase: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    key = _scrypt(passphrase, salt, N, R, P)
    encode = base64.b64encode
    return f"scrypt${N}${R}${P}${encode(salt).decode()}${encode(key).decode()}"


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=KEY_BYTES,
        maxmem=128 * r * (n + p + 2) + 2**20,
    )


def check_passphrase(passphrase: str, stored: str) -> bool:
    """True when ``passphrase`` matches ``stored``; PrivacyError when ``stored`` is damaged."""
    try:
        kind, n, r, p, salt, key = stored.split("$")
        params = int(n), int(r), int(p)
        power_of_two = params[0] & (params[0] - 1) == 0
        within = 2 <= params[0] <= 2**16 and 1 <= params[1] <= 16 and 1 <= params[2] <= 4
        if kind != "scrypt" or not (power_of_two and within):
            raise ValueError(kind)
        salt_bytes = base64.b64decode(salt, validate=True)
        expected = base64.b64decode(key, validate=True)
    except (ValueError, binascii.Error):
        raise PrivacyError(
            f"The supervisor passphrase hash in the OS keyring ('{SERVICE}' / '{ENTRY}') is "
            "damaged. Ask IT to remove that entry, then set a new passphrase with "
            "`agent-copilot profiles passphrase`."
        ) from None
    actual = _scrypt(passphrase, salt_bytes, *params)
    return hmac.compare_digest(actual, expected)


class SupervisorLock:
    """Guards supervisor mode: set, change and check the passphrase."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        backoff: Backoff | None = None,
    ) -> None:
        self._clock = clock
        self._backoff = backoff if backoff is not None else _PROCESS_BACKOFF

    def _backend(self) -> Any:
        backend, reason = usable_backend()
        if backend is None:
            log.warning("supervisor mode refused: %s", reason)
            raise PrivacyError(NO_KEYRING, detail=reason)
        return backend

    def _stored(self) -> str | None:
        backend = self._backend()
        try:
            value = backend.get_password(SERVICE, ENTRY)
        except Exception as exc:  # noqa: BLE001 - keyring errors vary by backend
            raise PrivacyError(f"The OS keyring failed ({exc}). {NO_KEYRING}") from exc
        return value if isinstance(value, str) else None

    def is_set(self) -> bool:
        return self._stored() is not None

    def set_passphrase(self, new: str, current: str | None = None) -> None:
        """Set the passphrase, or change it (then ``current`` must be right)."""
        if len(new) < MIN_LENGTH:
            raise PrivacyError(
                f"The supervisor passphrase must have at least {MIN_LENGTH} characters."
            )
        if self.is_set() and (current is None or not self.verify(current)):
            raise PrivacyError("The current supervisor passphrase is wrong, so it was not changed.")
        value = hash_passphrase(new)
        backend = self._backend()
        try:
            backend.set_password(SERVICE, ENTRY, value)
            kept = backend.get_password(SERVICE, ENTRY) == value
        except Exception as exc:  # noqa: BLE001 - keyring errors vary by backend
            raise PrivacyError(f"The OS keyring could not store the passphrase ({exc}).") from exc
        if not kept:
            raise PrivacyError("The OS keyring did not keep the new supervisor passphrase.")
        log.info("supervisor passphrase set")

    def verify(self, passphrase: str) -> bool:
        """Check a passphrase; after repeated failures refuse (LockedOut) for a growing time."""
        state = self._backoff
        left = state.locked_until - self._clock()
        if left > 0:
            raise LockedOut(left)
        stored = self._stored()
        if stored is None:
            return False
        if check_passphrase(passphrase, stored):
            state.failures, state.locked_until = 0, 0.0
            return True
        state.failures += 1
        if state.failures >= FREE_TRIES:
            doublings = min(state.failures - FREE_TRIES, 10)
            delay = min(FIRST_DELAY_S * 2**doublings, MAX_DELAY_S)
            state.locked_until = self._clock() + delay
            log.warning("supervisor passphrase wrong %d times in a row", state.failures)
        return False
