"""Vector stores behind one interface: add, search (optionally restricted to rows), save, load."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import IndexCorrupt, UnknownBackend

# Above this many vectors exact search gives way to HNSW (measured: docs/scale.md).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96


class VectorStore(Protocol):
    dim: int

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, rows: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


class FaissStore:
    """FAISS inner-product index: exact below ann_threshold vectors, HNSW above; row numbers are ids."""

    def __init__(self, dim: int, ann_threshold: int = 50_000, index=None) -> None:
        import faiss

        self.dim = dim
        self.ann_threshold = ann_threshold
        self._index = index if index is not None else faiss.IndexFlatIP(dim)

    @property
    def kind(self) -> str:
        return type(self._index).__name__

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors must have shape (n, {self.dim}); got {vectors.shape}")
        if len(self) + len(vectors) > self.ann_threshold and isinstance(self._index, faiss.IndexFlat):
            existing = self._index.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dim), np.float32)
            hnsw = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            hnsw.hnsw.efSearch = HNSW_EF_SEARCH
            if len(existing):
                hnsw.add(existing)
            self._index = hnsw
        self._index.add(vectors)

    def search(self, queries: np.ndarray, k: int, rows: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k nearest vectors per query; rows restricts the search (a topic filter)."""
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        params = None
        if rows is not None:
            selector = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k)) \
                if isinstance(self._index, faiss.IndexHNSW) else faiss.SearchParameters(sel=selector)
        scores, ids = self._index.search(queries, k, params=params)
        return scores, ids

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        return np.vstack([self._index.reconstruct(int(r)) for r in rows]) if len(rows) else np.zeros((0, self.dim), np.float32)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> "FaissStore":
        import faiss

        try:
            index = faiss.read_index(str(path))
        except Exception as exc:  # faiss raises RuntimeError with a C++ message
            raise IndexCorrupt(f"cannot read {path.name}: {str(exc).splitlines()[0][:120]}") from exc
        if index.d != dim:
            raise IndexCorrupt(f"{path.name} has dimension {index.d}, manifest says {dim}")
        return cls(dim, index=index)


STORES = {"faiss": FaissStore}


def store_class(name: str):
    if name not in STORES:
        raise UnknownBackend(f"unknown store {name!r}; known: {', '.join(sorted(STORES))}")
    return STORES[name]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
