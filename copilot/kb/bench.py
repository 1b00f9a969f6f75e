"""``agent-copilot bench kb``: import throughput, query latency at scale, memory.

Import throughput is measured on generated Markdown articles through the whole
pipeline (read, chunk, embed, store). For query latency at 10k and 100k passages,
the store is filled with passages built from real sentences whose vectors are real
embeddings plus a little noise (embedding 100k passages for each run would take
minutes and measure the embedder again, not the search). Queries are full hybrid
searches: embed the query, dense and BM25 candidates, fusion, highlighting.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from copilot.kb.chunking import Chunk
from copilot.kb.embedding import embed
from copilot.kb.service import KnowledgeBase, demo_kb_dir
from copilot.settings import Settings

TARGET_IMPORT = 500.0
ARTICLES = 1200
TARGET_P50_10K_MS = 10.0
TARGET_P95_100K_MS = 50.0
QUERIES = [
    "my parcel has not arrived and tracking shows no update",
    "how do I return a blender that arrived broken",
    "can I pay by invoice",
    "the voucher code does not work at checkout",
    "Wie lange dauert die Erstattung nach der Rücksendung?",
    "I was charged twice for one order",
    "how long is the password reset link valid",
    "can I still change my delivery address",
]


def _sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(demo_kb_dir().rglob("*.md")))
    parts = [s.strip() for s in text.replace("\n", " ").split(". ") if len(s.split()) > 5]
    return [s for s in parts if not s.startswith(("---", "id:", "url:"))]


def _write_articles(folder: Path, count: int, sentences: list[str], rng: random.Random) -> None:
    for i in range(count):
        sections = [
            f"## Topic {j}\n\n" + ". ".join(rng.sample(sentences, 6)) + "." for j in range(5)
        ]
        (folder / f"article-{i:04}.md").write_text(f"# Article {i}\n\n" + "\n\n".join(sections))


def measure_import(sentences: list[str], rng: random.Random) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        _write_articles(folder, ARTICLES, sentences, rng)
        kb = KnowledgeBase(Settings(data_dir=Path(tmp) / "data", kb_demo=False))
        embed(["load the embedding model before the clock starts, as the app does at start"])
        report = kb.import_paths([folder])
        return {
            "files": len(report.outcomes),
            "passages": report.chunks,
            "seconds": report.elapsed_s,
            "passages_per_s": report.chunks_per_s,
            "embedding_share": report.embed_s / report.elapsed_s if report.elapsed_s else 0.0,
        }


def _fill(
    kb: KnowledgeBase, target: int, pool: list[str], vectors: np.ndarray, rng: random.Random
) -> None:
    have = kb.store.count()
    batch = 2000
    while have < target:
        n = min(batch, target - have)
        picks = [rng.randrange(len(pool)) for _ in range(n)]
        noise = rng.random()
        chunks, rows = [], []
        for k, p in enumerate(picks):
            idx = have + k
            text = f"{pool[p]} {pool[(p * 7 + idx) % len(pool)]}"
            chunks.append(
                Chunk(
                    f"bench-{idx}",
                    f"doc-{idx // 8}",
                    f"Article {idx // 8}",
                    (f"Part {idx % 8}",),
                    text,
                    "bench",
                    "",
                    "en",
                    idx % 8,
                )
            )
            rows.append(vectors[p])
        matrix = np.asarray(rows) + np.random.default_rng(idx).normal(
            0, 0.02 + noise * 0.01, (n, vectors.shape[1])
        )
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        kb.store.add(chunks, matrix.astype(np.float32))
        have += n
    kb.store.mark_imported([("bench", f"bench-{target}", target)], kind="bench")


def measure_queries(kb: KnowledgeBase, rounds: int = 5) -> dict[str, float]:
    kb.search(QUERIES[0])  # builds the BM25 index and warms every cache
    times = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            kb.search(query)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95) - 1]}


def run_kb_bench(
    settings: Settings, *, as_json: bool = False, sizes: list[int] | None = None
) -> int:
    sizes = sorted(sizes or [10_000, 100_000])
    rng = random.Random(7)

    def log(message: str) -> None:
        if not as_json:
            print(message, file=sys.stderr, flush=True)

    sentences = _sentences()
    log(f"Import throughput on {ARTICLES} generated articles…")
    figures: dict[str, Any] = {"import": measure_import(sentences, rng), "queries": {}}
    pool = sentences * 3
    pool = [f"{a} {b}" for a, b in zip(pool, rng.sample(pool, len(pool)), strict=True)][:4000]
    vectors = embed(pool)
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Settings(data_dir=Path(tmp), kb_demo=False))
        for size in sizes:
            log(f"Filling the store to {size} passages…")
            started = time.perf_counter()
            _fill(kb, size, pool, vectors, rng)
            fill_s = time.perf_counter() - started
            log(f"Querying at {size} passages…")
            result = measure_queries(kb)
            result["fill_s"] = fill_s
            result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            figures["queries"][str(size)] = result
    figures["met"] = _met(figures, sizes)
    print(json.dumps(figures, indent=2) if as_json else _table(figures, sizes))
    return 0


def _met(f: dict[str, Any], sizes: list[int]) -> dict[str, bool]:
    met = {"import": f["import"]["passages_per_s"] >= TARGET_IMPORT}
    q = f["queries"]
    if "10000" in q:
        met["p50_10k"] = q["10000"]["p50_ms"] <= TARGET_P50_10K_MS
    if "100000" in q:
        met["p95_100k"] = q["100000"]["p95_ms"] <= TARGET_P95_100K_MS
    return met


def _table(f: dict[str, Any], sizes: list[int]) -> str:
    imp = f["import"]
    rows = [
        f"import: {imp['passages']} passages from {imp['files']} files in {imp['seconds']:.1f} s "
        f"= {imp['passages_per_s']:.0f} passages/s (target >= {TARGET_IMPORT:.0f}; "
        f"embedding or waiting for it {imp['embedding_share'] * 100:.0f}% of the time) "
        f"{'met' if f['met']['import'] else 'MISSED'}",
        "",
        f"{'passages':>9} {'p50 ms':>8} {'p95 ms':>8} {'peak RSS MB':>12}",
    ]
    for size in sizes:
        q = f["queries"][str(size)]
        rows.append(f"{size:>9} {q['p50_ms']:>8.1f} {q['p95_ms']:>8.1f} {q['rss_mb']:>12.0f}")
    rows.append(
        f"targets: p50 <= {TARGET_P50_10K_MS:.0f} ms at 10k, "
        f"p95 <= {TARGET_P95_100K_MS:.0f} ms at 100k; "
        + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in f["met"].items())
    )
    return "\n".join(rows)
