"""Customer history through the real parts: the CLI in a subprocess, real SQLCipher,
the real keyring backend chosen for tests, and the real bundled model's summaries."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from copilot.history.records import ContactSummary, MessageRecord, SummaryMethod
from copilot.history.service import History, demo_customers_file
from copilot.history.summarise import grammar, summarise
from copilot.settings import Settings
from tests.history_fixtures import contact, customer, write_history

CLI = [sys.executable, "-m", "copilot"]


def _cli(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=timeout)


def _no_network(env: dict[str, str]) -> None:
    log = Path(env["AGENT_COPILOT_NETGUARD_LOG"])
    assert not log.exists() or log.read_text() == "", log.read_text()


def _open(env: dict[str, str]) -> History:
    return History.open(Settings(data_dir=Path(env["AGENT_COPILOT_DATA_DIR"]), history_demo=False))


def test_kill_9_mid_import_leaves_whole_contacts_and_resumes(subprocess_env, tmp_path: Path):
    total = 4000
    customers = [
        customer(
            f"k{i}",
            f"Customer {i}",
            f"k{i}@example.com",
            contacts=[
                contact(f"k{i}-{j}", j, texts=tuple(f"Message {m} of k{i}-{j}." for m in range(6)))
                for j in range(4)
            ],
        )
        for i in range(total // 4)
    ]
    big = write_history(tmp_path / "big.json", customers)
    env = subprocess_env
    assert _cli(["history", "stats"], env).returncode == 0  # creates the store and its key
    proc = subprocess.Popen(
        [*CLI, "history", "import", str(big)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline, progress, seen = time.monotonic() + 120, "", 0
    while time.monotonic() < deadline and proc.poll() is None:
        progress += os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
        counts = [int(n) for n in re.findall(rf"(\d+)/{total}", progress)]
        seen = max(counts, default=0)
        if seen >= 600:
            break
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    history = _open(env)
    stored = history.store.counts()
    assert seen <= stored["contacts"] < total
    # whole contacts only: every stored contact has all 6 messages and its summary
    assert stored["messages"] == 6 * stored["contacts"]
    assert stored["summaries"] == stored["contacts"]
    assert history.store._read("PRAGMA integrity_check")[0][0] == "ok"
    history.close()

    result = _cli(["history", "import", str(big), "--json"], env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)[0]
    assert report["contacts_existing"] == stored["contacts"]
    assert report["contacts_added"] + report["contacts_existing"] == total
    history = _open(env)
    final = history.store.counts()
    assert final["contacts"] == total and final["messages"] == 6 * total
    history.close()
    _no_network(env)


def test_cli_import_show_export_forget(subprocess_env, tmp_path: Path):
    env = subprocess_env
    result = _cli(["history", "import", str(demo_customers_file())], env)
    assert result.returncode == 0, result.stderr
    assert "0 problems" in result.stdout

    shown = _cli(["history", "show", "jana.weber@example.com", "--json"], env)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["customer"]["id"] == "cust-jana-weber"
    assert len({c["channel"] for c in data["contacts"]}) >= 3
    assert data["digest"]["points"] and data["ms"] < 100

    out = tmp_path / "jana.json"
    exported = _cli(["history", "export", "+49 30 55501234", "--out", str(out)], env)
    assert exported.returncode == 0, exported.stderr
    text = out.read_text()
    assert "jana.weber@example.com" not in text and "55501234" not in text
    assert "[email]" in text and "BC-48213" in text
    full = json.loads(_cli(["history", "export", "cust-jana-weber", "--no-redact"], env).stdout)
    assert full["customers"][0]["identifiers"]["email"] == ["jana.weber@example.com"]
    assert all(c["summary"] for c in full["customers"][0]["contacts"])

    refused = _cli(["history", "forget", "cust-jana-weber"], env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    forgot = _cli(["history", "forget", "cust-jana-weber", "--yes"], env)
    assert forgot.returncode == 0 and "Erased cust-jana-weber" in forgot.stdout
    gone = _cli(["history", "show", "jana.weber@example.com"], env)
    assert gone.returncode == 2 and "No customer matches" in gone.stderr
    _no_network(env)


def test_cli_without_keyring_needs_a_passphrase(subprocess_env):
    env = {**subprocess_env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = _cli(["history", "stats"], env)
    assert result.returncode == 2
    assert "No OS keyring" in result.stderr and "AGENT_COPILOT_HISTORY_PASSPHRASE" in result.stderr
    env["AGENT_COPILOT_HISTORY_PASSPHRASE"] = "a long enough passphrase"
    result = _cli(["history", "stats", "--json"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["key"] == "passphrase"


@pytest.mark.parametrize("index", [0, 3])
def test_real_model_summary_is_valid_structure(real_runtime, index: int):
    raw = json.loads(demo_customers_file().read_text())
    contacts = [c for cust in raw["customers"] for c in cust["contacts"]]
    messages = [MessageRecord.model_validate(m) for m in contacts[index]["messages"]]
    tokens = real_runtime.engine.tokenize_messages(
        __import__("copilot.history.summarise", fromlist=["x"]).build_messages(messages, 6000)
    )
    text = "".join(
        real_runtime.engine.stream(tokens, max_tokens=320, temperature=0.0, grammar=grammar())
    )
    parsed = json.loads(text)  # the grammar makes it JSON with exactly these fields
    assert set(parsed) == {
        "reason",
        "actions",
        "resolution",
        "open_items",
        "sentiment",
        "disposition",
    }
    summary = summarise(real_runtime.engine, messages)
    assert isinstance(summary, ContactSummary) and summary.reason
    assert summary.method in {SummaryMethod.MODEL, SummaryMethod.MIXED, SummaryMethod.EXTRACTIVE}


def test_eval_summaries_prints_both_methods(subprocess_env, tmp_path: Path):
    cases = tmp_path / "cases.jsonl"
    rows = [
        {
            "dialogue": [
                {"role": "customer", "text": "My toaster from order TS-1 burns every slice."},
                {"role": "agent", "text": "Sorry! I have sent you a free replacement toaster."},
            ],
            "reference_summaries": ["Customer's toaster burns bread; agent sends a replacement."],
        },
        {
            "dialogue": [
                {"role": "customer", "text": "Can I change the delivery address of order TS-2?"},
                {"role": "agent", "text": "Yes, I have changed it to your office address."},
            ],
            "reference_summaries": ["Customer asks to change the address; agent changes it."],
        },
    ]
    cases.write_text("\n".join(json.dumps(r) for r in rows))
    result = _cli(["eval", "summaries", "--cases", str(cases), "--json"], subprocess_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cases"] == 2
    for method in ("model", "extractive"):
        assert 0 < data["scores"][method]["rougeL"] <= 1
    assert sum(data["model_path_methods"].values()) == 2
    _no_network(subprocess_env)
