"""A 2-D map of the chunk vectors (PCA by SVD) for the corpus page."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kb.knowledge import KnowledgeBase


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """The first two principal-component coordinates of each row."""
    x = np.asarray(vectors, np.float64)
    if len(x) < 2:
        return np.zeros((len(x), 2))
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def chunk_map(kb: "KnowledgeBase") -> list[dict]:
    """One point per chunk: x, y, topic name, title and source."""
    chunks = kb.data.chunks
    xy = pca_2d(kb.data.vectors.vectors(range(len(chunks))))
    return [{"x": float(x), "y": float(y), "topic": kb.data.topic_name(c.topic), "title": c.title or c.source,
             "source": c.source} for (x, y), c in zip(xy, chunks)]
