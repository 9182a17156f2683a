"""Dense side of retrieval: per chunk, the best cosine over its vectors (passage and FAQ question)."""
from __future__ import annotations

import numpy as np

from kb.core.index import IndexData


def dense_scores(data: IndexData, qvec: np.ndarray, mask: np.ndarray | None, depth: int,
                 topic: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per chunk: best cosine over its vectors (-1 when not among the nearest), and the cosine with its FAQ-question
    vector (0 when it has none)."""
    n = len(data.chunks)
    best = np.full(n, -1.0, dtype=np.float32)
    question = np.zeros(n, dtype=np.float32)
    rows = None if mask is None else np.flatnonzero(mask[data.row_chunk])
    if rows is not None and len(rows) == 0:
        return best, question
    k = min(len(data.vectors), max(depth * 2, 10))
    scores, ids = data.vectors.search(qvec, k, rows, topic=topic)
    for s, r in zip(scores[0], ids[0]):
        if r < 0:
            continue
        pos = int(data.row_chunk[r])
        best[pos] = max(best[pos], s)
        if data.row_kind[r] == "question":
            question[pos] = max(question[pos], s)
    return best, question
