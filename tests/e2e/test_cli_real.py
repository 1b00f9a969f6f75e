"""The installed command, run as a user would, with the network guard in the child."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from copilot.demo import demo_contact_path
from copilot.model.files import bundled_model_path

CLI = [sys.executable, "-m", "copilot"]


def run(args: list[str], env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=timeout)


def assert_no_network(env: dict) -> None:
    log = Path(env["AGENT_COPILOT_NETGUARD_LOG"])
    assert not log.exists() or log.read_text() == "", log.read_text()


def test_suggest_json_with_the_bundled_model(subprocess_env):
    result = run(["suggest", "--conversation", str(demo_contact_path()), "--json"], subprocess_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"].strip() and data["profile"] == "friendly"
    assert "Q4_1" in data["model"]
    assert data["tokens_per_s"] > 0 and data["prompt_tokens"] > 50
    assert_no_network(subprocess_env)


def test_suggest_streams_to_stdout_with_a_profile(subprocess_env):
    result = run(
        ["suggest", "--conversation", str(demo_contact_path()), "--profile", "formal"],
        subprocess_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Customer Service")
    assert_no_network(subprocess_env)


def test_demo_plays_every_customer_turn(subprocess_env):
    result = run(["demo", "--profile", "concise"], subprocess_env)
    assert result.returncode == 0, result.stderr
    suggestions = [ln for ln in result.stdout.splitlines() if ln.startswith("Suggestion: ")]
    script = json.loads(demo_contact_path().read_text())
    assert len(suggestions) == sum(t["role"] == "customer" for t in script["turns"])
    assert all(len(s) > len("Suggestion: ") + 3 for s in suggestions)
    assert_no_network(subprocess_env)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing.gguf", "does not exist"),
        (
            lambda d: (d / "notes.gguf").write_text("hello") and d / "notes.gguf",
            "empty or truncated",
        ),
        (
            lambda d: (
                (d / "cut.gguf").write_bytes(bundled_model_path().read_bytes()[:300_000])
                and d / "cut.gguf"
            ),
            "truncated",
        ),
    ],
)
def test_bad_model_file_is_a_clear_error(subprocess_env, tmp_path, make, expected):
    path = make(tmp_path)
    env = {**subprocess_env, "AGENT_COPILOT_MODEL_PATH": str(path)}
    result = run(["suggest", "--conversation", str(demo_contact_path())], env)
    assert result.returncode == 2
    assert expected in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_conversation_file_is_a_clear_error(subprocess_env, tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text('{"turns": [{"role": "customer"}]}')
    result = run(["suggest", "--conversation", str(bad)], subprocess_env)
    assert result.returncode == 2 and "turns.0.text" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_profile_lists_the_choices(subprocess_env):
    result = run(
        ["suggest", "--conversation", str(demo_contact_path()), "--profile", "pirate"],
        subprocess_env,
    )
    assert result.returncode == 2 and "Available profiles" in result.stderr


def test_version_and_help(subprocess_env):
    assert run(["--version"], subprocess_env).stdout.startswith("agent-copilot ")
    assert "suggest" in run(["--help"], subprocess_env).stdout


def test_bench_prints_every_figure(subprocess_env):
    result = run(["bench", "--json", "--turns", "3"], subprocess_env, timeout=600)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["ttft_with_reuse"]["turn1_s"] > 0 and figures["ttft_with_reuse"]["turn3_s"] > 0
    assert figures["ttft_without_reuse"]["ratio"] > 0
    assert (
        figures["speed"]["bare_tokens_per_s"] > 0 and figures["speed"]["pipeline_tokens_per_s"] > 0
    )
    assert figures["launch"]["window_ready_s"] > 0 and figures["launch"]["model_state"] == "ready"
    assert figures["launch"]["window_peak_rss_mb"] > 50
    assert set(figures["met"]) == {"ttft_ratio", "speed_ratio", "launch"}
    assert_no_network(subprocess_env)
