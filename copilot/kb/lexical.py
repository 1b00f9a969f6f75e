"""BM25 over every passage (bm25s), cached on disk and rebuilt when the corpus changes.

Lexical matching finds exact terms the dense model blurs: order numbers, product
names, form numbers. Scores for several query parts (one per conversation turn) are
computed separately and mixed with recency weights by the retriever.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    it its this that these those i you he she we they me my your our their them us do does did
    can could would should will shall may might must not no so than then there here what which
    who whom how when where why all any some such very just also about into over after before
    hi hello thanks thank please ok okay yes
    der die das den dem des ein eine einen einem einer und oder aber wenn ist sind war waren
    ich du er sie es wir ihr mein meine ihre zu im in am an auf mit von für bei nicht kein
    keine noch schon auch so wie was wer wo wann warum bitte danke hallo ja nein""".split()  # noqa: SIM905
)
_stemmer = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-case words without stop words, stemmed (English rules; harmless elsewhere)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return list(_stemmer.stemWords([w for w in words if w not in _STOPWORDS]))


class LexicalIndex:
    """BM25 scores plus, per passage, its article id (to group hits without a lookup)."""

    def __init__(self, ids: list[str], doc_ids: list[str], retriever: Any) -> None:
        self.ids = ids
        self.doc_ids = doc_ids
        self._retriever = retriever

    @classmethod
    def build(cls, ids: list[str], texts: list[str], doc_ids: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        if texts:
            corpus = [tokenize(t) or ["\x00empty"] for t in texts]
            retriever.index(corpus, show_progress=False)
        return cls(list(ids), list(doc_ids), retriever)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for ``text`` (zeros when nothing matches)."""
        tokens = tokenize(text)
        if not self.ids or not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def save(self, folder: Path, fingerprint: str) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(tmp), show_progress=False)
        meta = {"fingerprint": fingerprint, "ids": self.ids, "doc_ids": self.doc_ids}
        (tmp / "ids.json").write_text(json.dumps(meta))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> LexicalIndex | None:
        """The cached index if it was built from the same corpus, else None."""
        try:
            meta = json.loads((folder / "ids.json").read_text())
            if meta.get("fingerprint") != fingerprint:
                return None
            ids = list(meta["ids"])
            retriever = bm25s.BM25.load(str(folder), show_progress=False) if ids else bm25s.BM25()
            return cls(ids, list(meta["doc_ids"]), retriever)
        except (OSError, ValueError, KeyError) as exc:
            log.info("lexical index cache not usable (%s); rebuilding", type(exc).__name__)
            return None
