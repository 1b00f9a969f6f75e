"""Approved replies through the real parts: the CLI in a subprocess, the real library file,
the real embedder and the real bundled model. The reply cases are written here (synthetic),
never taken from the evaluation data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "copilot"]

BROKEN_CSV = (
    "\ufeffid;title;text;language;tags\n"
    'late;Late parcel;"Hi {first_name},\n'
    'sorry that order {order_number} is late.";en;delivery;late\n'
    "typo;Typo;Your order {ordernumber} is on its way;en;\n"
    "thanks;Thanks;You're welcome, {first_name}!;en;closing\n"
)

# (dialogue id, customer message, agent's real reply) for a made-up shop
SYNTHETIC = [
    (
        "d1",
        "Where is my parcel? It has not arrived yet.",
        "Sorry for the wait, it arrives tomorrow.",
    ),
    ("d2", "My package still has not come, where is it?", "Sorry, your parcel arrives tomorrow."),
    ("d3", "How can I return shoes that are too small?", "Print the return label in your account."),
    (
        "d4",
        "I want to send back a jacket, how does that work?",
        "Use the return label in My Orders.",
    ),
    ("d5", "I forgot my password.", "Click 'Forgot password' on the login page."),
    ("d6", "I can't log in, I lost my password.", "Use 'Forgot password' to get a reset link."),
    ("d7", "Thanks, that's all!", "You're welcome, have a nice day!"),
    ("d8", "Great, thank you so much.", "Happy to help, have a good day!"),
]


def _cli(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=timeout)


def _no_network(env: dict[str, str]) -> None:
    log = Path(env["AGENT_COPILOT_NETGUARD_LOG"])
    assert not log.exists() or log.read_text() == "", log.read_text()


def test_import_reports_the_broken_row_and_keeps_the_rest(subprocess_env, tmp_path: Path):
    env = subprocess_env
    csv_file = tmp_path / "replies.csv"
    csv_file.write_text(BROKEN_CSV, encoding="utf-8")
    result = _cli(["macros", "import", str(csv_file)], env)
    assert result.returncode == 1, result.stderr
    assert "2 added, 0 updated, 0 unchanged, 1 rows skipped" in result.stdout
    assert "line 4, text: unknown placeholder {ordernumber}" in result.stdout
    assert "did you mean {order_number}?" in result.stdout

    listed = _cli(["macros", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    macros = {m["id"]: m for m in json.loads(listed.stdout)}
    assert {"late", "thanks"} <= set(macros) and "typo" not in macros
    assert macros["late"]["text"] == "Hi {first_name},\nsorry that order {order_number} is late."
    assert len(macros) > 30  # the demo library seeded on first use is still there

    again = _cli(["macros", "import", str(csv_file), "--json"], env)
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 2)
    assert report["problems"][0]["line"] == 4 and report["problems"][0]["field"] == "text"

    conversation = tmp_path / "contact.json"
    conversation.write_text(
        json.dumps(
            {
                "customer_name": "Jana Weber",
                "turns": [{"role": "customer", "text": "My order #BC-10233 is late, where is it?"}],
            }
        ),
        encoding="utf-8",
    )
    matched = _cli(["macros", "match", "--conversation", str(conversation), "--json"], env)
    assert matched.returncode == 0, matched.stderr
    offers = {o["id"]: o for o in json.loads(matched.stdout)}
    assert "late" in offers, offers  # the reply imported above fits best
    assert offers["late"]["text"] == "Hi Jana,\nsorry that order BC-10233 is late."
    assert offers["late"]["missing"] == []
    _no_network(env)


@pytest.mark.timeout(900)  # twelve real-model replies; the CPU may be shared
def test_eval_replies_scores_three_systems_with_the_real_model(subprocess_env, tmp_path: Path):
    cases = tmp_path / "cases.jsonl"
    lines = [
        {
            "dialogue": [{"role": "customer", "text": text}],
            "gold_reply": gold,
            "dial_id": dial,
            "source": "synthetic-a" if int(dial[1:]) % 2 else "synthetic-b",
        }
        for dial, text, gold in SYNTHETIC
    ]
    cases.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    args = ["eval", "replies", "--cases", str(cases), "--max-words", "20"]
    result = _cli([*args, "--json"], subprocess_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cases"] == len(SYNTHETIC)
    assert set(data["scores"]) == {"macro", "model", "macro_if_confident", "oracle"}
    for row in data["scores"].values():
        assert 0.0 <= row["rougeL"] <= 1.0 and -1.0 <= row["cosine"] <= 1.0
    scores = data["scores"]
    assert scores["oracle"]["rougeL"] >= max(scores["macro"]["rougeL"], scores["model"]["rougeL"])
    # paraphrased twins: the other dialogue's reply is a close macro
    assert scores["macro"]["cosine"] > 0.4
    assert set(data["by_source"]) == {"synthetic-a", "synthetic-b"}
    assert data["library"]["candidates"] == len(SYNTHETIC)
    assert "Q4_1" in data["model"] and "model" in result.stderr

    table = _cli([*args, "--limit", "3", "--seed", "1"], subprocess_env)
    assert table.returncode == 0, table.stderr
    for label in ("approved replies alone", "model alone", "macro if score", "oracle"):
        assert label in table.stdout
    assert "leave-one-dialogue-out" in table.stdout
    _no_network(subprocess_env)


def test_bench_macros_prints_its_figures(subprocess_env):
    result = subprocess.run(
        [*CLI, "bench", "macros", "--json"],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["replies"] == 500 and figures["index_build_s"] > 0
    for key in ("match_new_turn", "match_repeat"):
        assert 0 < figures[key]["p50_ms"] <= figures[key]["p95_ms"] <= figures[key]["max_ms"]
    # the verdict is the p95 of a match with a new customer message against the 30 ms
    # target (not the cached repeat's); whether it is met depends on how busy the CPU is
    assert figures["target_ms"] == 30.0
    assert figures["met"] is (figures["match_new_turn"]["p95_ms"] <= figures["target_ms"])
