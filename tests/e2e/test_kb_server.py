"""A team-wide knowledge base: a real Chroma server on loopback, used through the app's code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from copilot.errors import KnowledgeError
from copilot.kb.service import KnowledgeBase
from copilot.settings import Settings
from tests.kb_fixtures import write_kb


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path):
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_import_and_search_through_a_chroma_server(chroma_server: str, tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "agent1", kb_server=chroma_server, kb_demo=False)
    kb = KnowledgeBase(settings)
    assert kb.store.mode == f"server {chroma_server}"
    report = kb.import_paths([write_kb(tmp_path / "articles")])
    assert report.count_imported == 3 and not report.failures
    # a second workstation sees the same knowledge base through the server
    other = KnowledgeBase(Settings(data_dir=tmp_path / "agent2", kb_server=chroma_server))
    assert other.stats()["sources"] == 3
    hits = other.search("how long does standard delivery take")
    assert hits[0].passage.title == "Delivery" and "2 to 4" in hits[0].highlighted_text
    german = other.search("Wie lange ist der Link zum Zurücksetzen des Passworts gültig?")
    assert german[0].passage.title == "Account and password"
    assert other.import_paths([tmp_path / "articles"]).count_unchanged == 3


def test_unreachable_server_is_a_clear_error(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, kb_server=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(KnowledgeError, match="cannot be reached|cannot be opened"):
        KnowledgeBase(settings)
