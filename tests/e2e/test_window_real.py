"""The real window on the real bundled model, offscreen."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import netguard
import pytest

from copilot.contact import Role
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.e2e.conftest import shown_and_loaded
from ui.app import create_window


@pytest.fixture
def real_window(qtbot, real_runtime):
    return shown_and_loaded(qtbot, create_window(real_runtime))


def test_window_streams_a_real_suggestion(qtbot, real_window, tmp_path: Path):
    window = real_window
    window.add_message(Role.CUSTOMER, "Hi, my parcel is late. Can you check where it is?")
    qtbot.waitUntil(lambda: len(window.suggestion.current_text) > 0, timeout=60_000)
    partial = window.suggestion.current_text
    qtbot.waitUntil(lambda: not window.suggestion.busy, timeout=60_000)
    assert len(window.suggestion.current_text) >= len(partial)
    assert "Q4_1" in window.model_label.text()
    assert window.speed_label.text().endswith("tok/s")
    assert window.grab().save(str(tmp_path / "window.png"))


def test_demo_contact_in_the_real_window(qtbot, real_window):
    window = real_window
    for _ in range(2):
        window.demo_step()
        qtbot.waitUntil(
            lambda: not window.suggestion.busy and bool(window.suggestion.current_text),
            timeout=60_000,
        )
        window.add_agent_message()
    assert [t.role for t in window.contact.turns] == [Role.CUSTOMER, Role.AGENT] * 2


def test_corrupt_model_keeps_the_window_usable(qtbot, tmp_path: Path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    runtime = Runtime.create(Settings(model_path=broken))
    window = create_window(runtime)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_state_changed, timeout=30_000) as blocker:
        window.start_model_load()
    assert blocker.args == ["failed"]
    assert window.banner.isVisible() and str(broken) in window.banner.text()
    window.add_message(Role.CUSTOMER, "Hello?")
    assert window.contact.turns[-1].text == "Hello?"


def test_the_app_starts_as_a_process(subprocess_env):
    env = {**subprocess_env, "AGENT_COPILOT_READY_PROBE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "copilot"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["model_state"] == "ready"
    assert figures["model_ready_at"] >= figures["window_ready_at"]
    log = Path(env["AGENT_COPILOT_NETGUARD_LOG"])
    assert not log.exists() or log.read_text() == ""


def test_network_guard_refuses_and_records_non_loopback():
    before = len(netguard.VIOLATIONS)
    with pytest.raises(PermissionError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)
    with pytest.raises(PermissionError):
        socket.getaddrinfo("example.org", 443)
    assert len(netguard.VIOLATIONS) == before + 2
    del netguard.VIOLATIONS[before:]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    with socket.create_connection(server.getsockname(), timeout=2):
        pass
    server.close()


def test_live_articles_and_grounded_suggestion_in_the_real_window(qtbot, real_window):
    window = real_window
    with qtbot.waitSignal(window.knowledge.ready, timeout=120_000):
        window.knowledge.start()
    window.add_message(Role.CUSTOMER, "My blender arrived with a cracked jar. What can I do?")
    qtbot.waitUntil(lambda: "Damaged" in window.knowledge_panel.view.toPlainText(), timeout=60_000)
    qtbot.waitUntil(
        lambda: not window.suggestion.busy and bool(window.suggestion.current_text), timeout=60_000
    )
    assert any("Damaged" in h.passage.title for h in window._grounding[:2])
    window.knowledge_panel.search_box.setText("Passwort zurücksetzen")
    window.knowledge_panel.search_box.returnPressed.emit()
    qtbot.waitUntil(lambda: "search" in window.knowledge_panel.status.text(), timeout=30_000)
    assert "assword" in window.knowledge_panel.view.toPlainText()
