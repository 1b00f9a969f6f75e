"""``agent-copilot eval retrieval``: recall@k and MRR for lexical, dense and hybrid search.

The knowledge base file holds ``{"id", "title", "text"}`` articles; an optional
sections file (``{"id", "doc_id", "text"}``) gives their paragraphs, which then
become the passages, so passage-level hits can be scored against the cases'
``gold_section_ids``. Everything runs through the product's own store and retriever.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from copilot.contact import Contact, Turn
from copilot.errors import KnowledgeError
from copilot.kb.chunking import Chunk, chunk_document
from copilot.kb.embedding import embed
from copilot.kb.model import Document, Section
from copilot.kb.retrieval import Mode, QueryPart, Retriever, conversation_query
from copilot.kb.store import KnowledgeStore
from copilot.settings import Settings

MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")
KS = (1, 5, 10)
DEPTH = 60


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError) as exc:
        raise KnowledgeError(f"{path} cannot be read as JSON lines ({exc}).") from exc


def eval_chunks(kb_file: Path, sections_file: Path | None) -> list[Chunk]:
    docs = _jsonl(kb_file)
    by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if sections_file is not None:
        for row in _jsonl(sections_file):
            by_doc[str(row["doc_id"])].append(row)
    chunks: list[Chunk] = []
    for doc in docs:
        doc_id, title = str(doc["id"]), str(doc.get("title", ""))
        for position, row in enumerate(by_doc.get(doc_id, [])):
            chunks.append(
                Chunk(
                    str(row["id"]),
                    doc_id,
                    title,
                    (),
                    str(row["text"]),
                    str(kb_file),
                    "",
                    "",
                    position,
                )
            )
        if doc_id not in by_doc:
            paragraphs = Section(
                (), "\n\n".join(p.strip() for p in str(doc["text"]).split("\n") if p.strip())
            )
            chunks += chunk_document(Document(doc_id, title, (paragraphs,), str(kb_file)))
    return chunks


@dataclass
class Scores:
    doc_ranks: list[int | None] = field(default_factory=list)
    passage_ranks: list[int | None] = field(default_factory=list)

    @staticmethod
    def summary(ranks: list[int | None]) -> dict[str, float]:
        n = max(len(ranks), 1)
        out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
        out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n
        out["cases"] = len(ranks)
        return out


def _contact(case: dict[str, Any]) -> Contact:
    turns = [
        Turn(role=t["role"], text=t["text"])
        for t in case["dialogue"]
        if str(t.get("text", "")).strip()
    ]
    return Contact(turns=turns)


def _rank(items: list[str], gold: set[str]) -> int | None:
    for index, item in enumerate(items, start=1):
        if item in gold:
            return index
    return None


def run_retrieval_eval(
    kb_file: Path, cases_file: Path, sections_file: Path | None = None, limit: int | None = None
) -> dict[str, Any]:
    cases = _jsonl(cases_file)[:limit]
    chunks = eval_chunks(kb_file, sections_file)
    with tempfile.TemporaryDirectory() as tmp:
        store = KnowledgeStore(Settings(data_dir=Path(tmp), kb_collection="evaluation"))
        started = time.perf_counter()
        store.add(chunks, embed([c.embedding_text for c in chunks]))
        store.mark_imported([(str(kb_file), "eval", len(chunks))], kind="eval")
        retriever = Retriever(store)
        retriever.refresh()
        index_s = time.perf_counter() - started
        titles = {c.doc_id: c.title for c in chunks}
        scores = {mode: Scores() for mode in MODES}
        started = time.perf_counter()
        for case in cases:
            _score_case(retriever, case, titles, scores)
        query_s = time.perf_counter() - started
    result: dict[str, Any] = {
        "cases": len(cases),
        "passages": len(chunks),
        "index_s": round(index_s, 1),
        "query_s_per_case": round(query_s / max(len(cases), 1), 4),
    }
    for mode in MODES:
        result[mode] = {"document": Scores.summary(scores[mode].doc_ranks)}
        if any(r is not None for r in scores[mode].passage_ranks) or sections_file:
            result[mode]["passage"] = Scores.summary(scores[mode].passage_ranks)
    return result


def _score_case(
    retriever: Retriever, case: dict[str, Any], titles: dict[str, str], scores: dict[Mode, Scores]
) -> None:
    contact = _contact(case)
    parts: list[QueryPart] = conversation_query(contact)
    if not parts:
        return
    vectors = embed([p.text for p in parts])
    gold_docs = set(case.get("gold_doc_ids") or [])
    gold_titles = set(case.get("gold_doc_titles") or [])
    gold_sections = set(case.get("gold_section_ids") or [])
    for mode in MODES:
        hits = retriever.search(parts, k=DEPTH, mode=mode, vectors=vectors, highlight=False)
        docs: list[str] = []
        for hit in hits:
            if hit.passage.doc_id not in docs:
                docs.append(hit.passage.doc_id)
        doc_gold = {d for d in docs if d in gold_docs or titles.get(d) in gold_titles}
        scores[mode].doc_ranks.append(_rank(docs, doc_gold))
        if gold_sections:
            scores[mode].passage_ranks.append(
                _rank([h.passage.chunk_id for h in hits], gold_sections)
            )


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['cases']} cases, {result['passages']} passages "
        f"(indexed in {result['index_s']} s, {result['query_s_per_case'] * 1000:.0f} ms per case)",
        "",
        f"{'level':9} {'method':8} " + " ".join(f"{'R@' + str(k):>6}" for k in KS) + f" {'MRR':>6}",
    ]
    for level in ("document", "passage"):
        for mode in MODES:
            row = result[mode].get(level)
            if row:
                cells = " ".join(f"{row[f'recall@{k}'] * 100:6.1f}" for k in KS)
                lines.append(f"{level:9} {mode:8} {cells} {row['mrr']:6.3f}")
    return "\n".join(lines)


def as_json(result: dict[str, Any]) -> str:
    return json.dumps(
        result, indent=2, default=lambda o: float(o) if isinstance(o, np.floating) else str(o)
    )
