"""How much of a hub each chunk is: its mean cosine to the k questions nearest to it, over questions the corpus
itself asks (every heading and FAQ question). A chunk that sits close to many questions (a broad intro, a long
"数据" overview) lands in the top five of questions it does not answer; the re-ranking model discounts it by this
score (the "hub" feature of kb/retrieval/rerank.py; the r(x) term of CSLS, Conneau et al. 2018, as
kb/retrieval/wordbridge.py uses for words). docs/quality.md, Re-ranking, has the measurements.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from kb.core.schema import Chunk

NEIGHBOURS = 5  # questions averaged per chunk
_NUMBERING = re.compile(r"^(?:[#*>\s]+|Q\d+\s*[：:]\s*|\d+(?:\.\d+)*\s*[.、．:：)）]?\s*|[（(]?\d+[)）]\s*)+")
MIN_CHARS = 4


def pseudo_queries(chunks: Sequence[Chunk]) -> list[str]:
    """The corpus's own questions: every heading below the document title and every FAQ question, without
    numbering and markdown marks, once each, in corpus order."""
    seen: dict[str, None] = {}
    for c in chunks:
        for text in (*c.title_path[1:], c.question):
            q = _NUMBERING.sub("", text or "").strip("*：: ")
            if len(q) >= MIN_CHARS:
                seen.setdefault(q, None)
    return list(seen)


def chunk_hubness(row_vectors: np.ndarray, row_chunk: Sequence[int], n_chunks: int, query_vectors: np.ndarray,
                  k: int = NEIGHBOURS) -> np.ndarray:
    """Per chunk, the highest over its vectors of the mean cosine to its k nearest pseudo-query vectors
    (0 for every chunk when there are no pseudo-queries)."""
    if len(query_vectors) == 0 or len(row_vectors) == 0:
        return np.zeros(n_chunks, np.float32)
    kk = min(k, len(query_vectors))
    sims = np.asarray(row_vectors, np.float32) @ np.asarray(query_vectors, np.float32).T
    per_row = -np.sort(-sims, axis=1)[:, :kk].mean(axis=1)
    hub = np.full(n_chunks, -np.inf, np.float32)
    np.maximum.at(hub, np.asarray(row_chunk, dtype=np.int64), per_row.astype(np.float32))
    return np.where(np.isfinite(hub), hub, 0.0).astype(np.float32)
