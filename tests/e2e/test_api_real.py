"""The headless API with the real model: `agent-copilot serve` and `agent-copilot feed`
as separate processes talking over loopback, with the network guard in both."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from copilot.demo import load_demo

CLI = [sys.executable, "-m", "copilot"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _recording(path: Path) -> Path:
    demo = load_demo()
    lines = [
        json.dumps({"start": {"channel": "phone", "customer": {"email": demo.customer_identifier}}})
    ]
    lines += [json.dumps({"role": t.role.value, "text": t.text}) for t in demo.turns[:3]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_serve_and_feed_drive_a_live_contact(subprocess_env, tmp_path: Path):
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read()
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert httpx.post(f"{url}/v1/contacts", json={}, timeout=5).status_code == 401
        fed = subprocess.run(
            [
                *CLI,
                "feed",
                str(_recording(tmp_path / "rec.jsonl")),
                "--speed",
                "0",
                "--url",
                url,
                "--speech",
            ],
            env=subprocess_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert fed.returncode == 0, fed.stderr
        out = fed.stdout
        assert "Jana Weber" in out  # recognised from the email by the served history
        assert out.count("Suggestion: ") == 2
        suggestions = [line for line in out.splitlines() if line.startswith("Suggestion: ")]
        assert all(len(line) > len("Suggestion: ") + 5 for line in suggestions), out
    finally:
        server.terminate()
        server.wait(20)
    log = Path(subprocess_env["AGENT_COPILOT_NETGUARD_LOG"])
    assert not log.exists() or log.read_text() == ""


def test_serve_refuses_a_non_loopback_address(subprocess_env):
    result = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--no-model"],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "loopback" in result.stderr
