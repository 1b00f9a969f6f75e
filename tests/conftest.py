"""Shared fixtures: isolated settings per test, and a network guard for the whole run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
NETGUARD_DIR = Path(__file__).parent / "netguard"
sys.path.insert(0, str(NETGUARD_DIR))
import netguard  # noqa: E402

netguard.install()
KEYRING_BACKEND = "keyrings.alt.file.PlaintextKeyring"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own config and data folders and no stray overrides."""
    for key in list(os.environ):
        if key.startswith("AGENT_COPILOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AGENT_COPILOT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("AGENT_COPILOT_DATA_DIR", str(tmp_path / "data"))
    # a real keyring backend, chosen explicitly, with its file in this test's folder
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", KEYRING_BACKEND)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    use_keyring_backend(KEYRING_BACKEND, monkeypatch)
    return tmp_path


def use_keyring_backend(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch keyring's backend (it caches its choice per process) to ``name``."""
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
    keyring.core.init_backend()


@pytest.fixture(autouse=True)
def no_network() -> None:
    """Any non-loopback connection attempted during a test fails that test."""
    before = len(netguard.VIOLATIONS)
    yield
    new = netguard.VIOLATIONS[before:]
    assert not new, f"network access outside loopback: {new}"


@pytest.fixture
def subprocess_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a child process: isolated folders, offscreen Qt, network guard."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_COPILOT_")}
    env.update(
        AGENT_COPILOT_CONFIG_DIR=str(tmp_path / "config"),
        AGENT_COPILOT_DATA_DIR=str(tmp_path / "data"),
        AGENT_COPILOT_NETGUARD_LOG=str(tmp_path / "netguard.log"),
        PYTHON_KEYRING_BACKEND=KEYRING_BACKEND,
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=os.pathsep.join(filter(None, [str(NETGUARD_DIR), env.get("PYTHONPATH")])),
    )
    return env
