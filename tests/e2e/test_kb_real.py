"""The knowledge base through real chromadb, the bundled embedding model and real files."""

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

from copilot.contact import Contact
from copilot.kb.importer import Status
from copilot.kb.service import KnowledgeBase, demo_kb_dir
from copilot.settings import Settings
from tests.kb_fixtures import write_kb


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(Settings(data_dir=tmp_path / "data"))


def test_import_is_incremental(kb: KnowledgeBase, tmp_path: Path):
    folder = write_kb(tmp_path / "articles")
    first = kb.import_paths([folder])
    assert first.count(Status.IMPORTED) == 3 and first.chunks == kb.store.count()
    again = kb.import_paths([folder])
    assert again.count(Status.UNCHANGED) == 3 and again.count(Status.IMPORTED) == 0
    (folder / "password.md").write_text("# Account\n\n## Login\n\nUse your email to log in.\n")
    (folder / "delivery.md").unlink()
    changed = kb.import_paths([folder])
    assert changed.count(Status.IMPORTED) == 1 and changed.count(Status.REMOVED) == 1
    titles = {p.title for p in kb.store.all_passages()}
    assert titles == {"Returns and refunds", "Account"}
    assert kb.store.count() == sum(int(m["chunks"]) for m in kb.store.manifest().values())


def test_broken_files_are_reported_and_the_rest_imported(kb: KnowledgeBase, tmp_path: Path):
    folder = write_kb(tmp_path / "articles")
    (folder / "manual.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    report = kb.import_paths([folder])
    failed = {Path(o.source).name: o.problem for o in report.failures}
    assert failed == {
        "manual.pdf": "corrupt file",
        "empty.txt": "empty file",
        "blob.txt": "binary file",
    }
    assert report.count(Status.IMPORTED) == 3


def test_a_broken_new_version_keeps_the_old_one(kb: KnowledgeBase, tmp_path: Path):
    folder = write_kb(tmp_path / "articles")
    kb.import_paths([folder])
    before = kb.store.count()
    (folder / "returns.md").write_bytes(b"\x00\x00garbage")
    report = kb.import_paths([folder])
    assert [Path(o.source).name for o in report.failures] == ["returns.md"]
    assert kb.store.count() == before
    assert kb.search("return window 30 days")[0].passage.title == "Returns and refunds"


def test_demo_search_with_highlight_and_cross_language(kb: KnowledgeBase):
    report = kb.ensure_demo()
    assert report is not None and not report.failures and report.chunks > 50
    hits = kb.search("My card was charged twice for the same order")
    assert "payment" in hits[0].passage.title.lower()
    assert hits[0].highlighted_text.strip() in hits[0].passage.text
    assert len({h.passage.doc_id for h in hits}) == len(hits)
    german = kb.search("Wie lange dauert die Lieferung und was kostet der Versand?")
    titles = [h.passage.title for h in german[:3]]
    assert any("Liefer" in t or "Delivery" in t for t in titles), titles
    english_for_german = [
        h
        for h in kb.retriever.search_text(
            "Passwort vergessen, wie setze ich es zurück?", k=10, mode="dense"
        )
        if h.passage.meta.get("locale") == "en"
    ]
    assert english_for_german and "password" in english_for_german[0].passage.title.lower()


def test_the_whole_conversation_counts(kb: KnowledgeBase):
    kb.ensure_demo()
    contact = Contact()
    contact.add("customer", "I ordered a blender and it arrived with a cracked jar.")
    contact.add("agent", "I'm sorry! Could you send a photo of the damage?")
    contact.add("customer", "Sure, where do I send it?")
    hits = kb.for_contact(contact, k=3)
    assert any("damaged" in h.passage.title.lower() for h in hits), [h.passage.title for h in hits]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copilot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_import_search_stats_remove(subprocess_env: dict[str, str], tmp_path: Path):
    folder = write_kb(tmp_path / "articles")
    env = {**subprocess_env, "AGENT_COPILOT_KB_DEMO": "false"}
    result = _cli(["kb", "import", str(folder), "--json"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == 3
    result = _cli(["kb", "search", "how long is the reset link valid", "--json"], env)
    hits = json.loads(result.stdout)
    assert hits[0]["title"] == "Account and password" and "30 minutes" in hits[0]["highlight"]
    stats = json.loads(_cli(["kb", "stats", "--json"], env).stdout)
    assert stats["sources"] == 3 and stats["mode"] == "embedded"
    result = _cli(["kb", "remove", str(folder / "delivery.md")], env)
    assert result.returncode == 0 and "delivery.md" in result.stdout
    assert json.loads(_cli(["kb", "stats", "--json"], env).stdout)["sources"] == 2
    log = Path(env["AGENT_COPILOT_NETGUARD_LOG"])
    assert not log.exists() or log.read_text() == ""


def test_import_survives_kill_9_and_resumes(subprocess_env: dict[str, str], tmp_path: Path):
    folder = tmp_path / "many"
    folder.mkdir()
    body = "\n\n".join(
        f"## Part {j}\n\n" + f"Paragraph {j} about topic {{i}}. " * 30 for j in range(6)
    )
    for i in range(300):
        (folder / f"article-{i:03}.md").write_text(f"# Article {i}\n\n" + body.format(i=i))
    env = {**subprocess_env, "AGENT_COPILOT_KB_DEMO": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot", "kb", "import", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    progress = ""
    while time.monotonic() < deadline and proc.poll() is None:
        progress += os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
        seen = [int(n) for n in re.findall(r"(\d+)/300 files", progress)]
        if seen and max(seen) >= 200:
            break
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.5)
    helpers = subprocess.run(
        ["pgrep", "-f", "multiprocessing.spawn"], capture_output=True, text=True
    )
    assert helpers.stdout.strip() == "", "the embedding helper outlived the killed import"
    result = _cli(["kb", "import", str(folder), "--json"], env)
    assert result.returncode == 0, result.stderr
    resumed = json.loads(result.stdout)
    assert resumed["unchanged"] > 0 and resumed["imported"] + resumed["unchanged"] == 300
    kb = KnowledgeBase(Settings(data_dir=Path(env["AGENT_COPILOT_DATA_DIR"])))
    manifest = kb.store.manifest()
    assert len(manifest) == 300
    assert kb.store.count() == sum(int(m["chunks"]) for m in manifest.values())
    assert len({p.chunk_id for p in kb.store.all_passages()}) == kb.store.count()


def test_demo_kb_ships_with_english_and_german():
    names = {p.parent.name for p in demo_kb_dir().rglob("*.md")}
    assert names == {"en", "de"}
