"""The supervisor passphrase: scrypt hash in the OS keyring, back-off, no keyring, CLI."""

from __future__ import annotations

import argparse
import base64

import keyring
import pytest

from copilot.commands.profiles import NEW_PASSPHRASE_ENV, PASSPHRASE_ENV, register, run_profiles
from copilot.errors import CopilotError, PrivacyError
from copilot.profiles import passphrase as supervisor
from copilot.profiles.passphrase import (
    ENTRY,
    NO_KEYRING,
    Backoff,
    LockedOut,
    SupervisorLock,
    check_passphrase,
    hash_passphrase,
)
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.conftest import use_keyring_backend


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def fresh_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "_PROCESS_BACKOFF", Backoff())


def test_set_and_verify_keeps_only_a_scrypt_hash_in_the_keyring():
    lock = SupervisorLock()
    assert not lock.is_set()
    assert not lock.verify("anything at all")
    lock.set_passphrase("team lead 2024")
    assert lock.is_set()
    stored = keyring.get_password("agent-copilot", ENTRY)
    kind, n, r, p, salt, key = stored.split("$")
    assert (kind, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert "team lead" not in stored
    assert lock.verify("team lead 2024")
    assert not lock.verify("team lead 2025")
    assert SupervisorLock().verify("team lead 2024")


def test_each_hash_has_its_own_salt():
    assert hash_passphrase("same words") != hash_passphrase("same words")
    assert check_passphrase("same words", hash_passphrase("same words"))


def test_too_short_is_refused():
    with pytest.raises(PrivacyError, match="at least 8 characters"):
        SupervisorLock().set_passphrase("short")
    assert not SupervisorLock().is_set()


def test_changing_needs_the_current_passphrase():
    lock = SupervisorLock()
    lock.set_passphrase("first passphrase")
    with pytest.raises(PrivacyError, match="current supervisor passphrase is wrong"):
        lock.set_passphrase("second passphrase")
    with pytest.raises(PrivacyError, match="current supervisor passphrase is wrong"):
        lock.set_passphrase("second passphrase", "not the first")
    lock.set_passphrase("second passphrase", "first passphrase")
    assert lock.verify("second passphrase") and not lock.verify("first passphrase")


def test_repeated_failures_back_off_for_longer_each_time():
    clock = Clock()
    lock = SupervisorLock(clock=clock, backoff=Backoff())
    lock.set_passphrase("right passphrase")
    for _ in range(5):
        assert not lock.verify("wrong passphrase")
    with pytest.raises(LockedOut, match="Try again in 30 seconds") as err:
        lock.verify("right passphrase")
    assert isinstance(err.value, PrivacyError)
    clock.now += 31
    assert not lock.verify("wrong passphrase")
    with pytest.raises(LockedOut, match="60 seconds"):
        lock.verify("right passphrase")
    clock.now += 61
    assert lock.verify("right passphrase")
    assert not lock.verify("wrong passphrase")  # a success starts the count again


def test_a_new_lock_object_does_not_reset_the_back_off():
    SupervisorLock().set_passphrase("right passphrase")
    for _ in range(5):
        assert not SupervisorLock().verify("wrong passphrase")
    with pytest.raises(LockedOut):
        SupervisorLock().verify("right passphrase")


def test_a_damaged_hash_says_what_to_do():
    keyring.set_password("agent-copilot", ENTRY, "scrypt$bad")
    with pytest.raises(PrivacyError, match="damaged.*profiles passphrase"):
        SupervisorLock().verify("anything at all")


def test_without_a_keyring_supervisor_mode_is_refused(monkeypatch: pytest.MonkeyPatch):
    use_keyring_backend("keyring.backends.fail.Keyring", monkeypatch)
    lock = SupervisorLock()
    for action in (lock.is_set, lambda: lock.verify("some passphrase")):
        with pytest.raises(PrivacyError) as err:
            action()
        assert err.value.user_message == NO_KEYRING
    with pytest.raises(PrivacyError, match="Ask IT to enable the Secret Service"):
        lock.set_passphrase("some passphrase")


def test_a_plain_text_keyring_not_chosen_explicitly_is_not_used(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")  # the plain-text backend stays loaded
    with pytest.raises(PrivacyError, match="needs the OS keyring"):
        SupervisorLock().set_passphrase("some passphrase")


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return run_profiles(parser.parse_args(list(argv)), Runtime.create(Settings()))


def test_cli_sets_and_changes_the_passphrase_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CopilotError, match=NEW_PASSPHRASE_ENV):
        cli("profiles", "passphrase")
    monkeypatch.setenv(NEW_PASSPHRASE_ENV, "first passphrase")
    assert cli("profiles", "passphrase") == 0
    assert "is set" in capsys.readouterr().out
    monkeypatch.setenv(NEW_PASSPHRASE_ENV, "second passphrase")
    with pytest.raises(CopilotError, match=PASSPHRASE_ENV):
        cli("profiles", "passphrase")
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong passphrase")
    with pytest.raises(PrivacyError, match="wrong"):
        cli("profiles", "passphrase")
    monkeypatch.setenv(PASSPHRASE_ENV, "first passphrase")
    assert cli("profiles", "passphrase") == 0
    assert "was changed" in capsys.readouterr().out
    assert SupervisorLock().verify("second passphrase")


def test_cli_asks_on_a_terminal(monkeypatch: pytest.MonkeyPatch):
    answers = iter(["typed passphrase", "typed passphrase"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli("profiles", "passphrase") == 0
    assert SupervisorLock().verify("typed passphrase")
    answers = iter(["typed passphrase", "new passphrase", "different"])
    with pytest.raises(CopilotError, match="differ"):
        cli("profiles", "passphrase")
    assert SupervisorLock().verify("typed passphrase")


def test_sample_conversations_for_previews():
    from copilot.language import detect_language
    from copilot.profiles.samples import sample_contacts

    samples = sample_contacts()
    assert len(samples) == 6
    labels = [label for label, _ in samples]
    assert labels[0].startswith("Jana Weber (chat): Hi, I ordered a coffee grinder")
    assert len(set(labels)) == len(labels) and all(len(label) < 120 for label in labels)
    languages = {detect_language(contact.last_customer_text) for _, contact in samples}
    assert "de" in languages and "en" in languages
    channels = {contact.channel.value for _, contact in samples}
    assert {"chat", "email", "whatsapp"} <= channels
    assert all(contact.last_customer_text for _, contact in samples)
