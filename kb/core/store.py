"""Vector stores behind one interface: add, search (optionally restricted to rows), save, load."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from kb.core.errors import IndexCorrupt, IndexMismatch, UnknownBackend

# Above this many vectors exact search gives way to HNSW (measured: docs/scale.md).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 160  # 80 leaves 1-2% of queries stranded at 1M (docs/scale.md)
HNSW_EF_SEARCH = 128


class VectorStore(Protocol):
    dim: int

    def add(self, vectors: np.ndarray, metadatas: Sequence[dict] | None = None) -> None: ...

    def search(self, queries: np.ndarray, k: int, rows: Sequence[int] | None = None,
               topic: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) per query; rows (FAISS) or topic (stores with metadata filters) restrict the search."""

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...

    def delete_source(self, source: str) -> int:
        """Remove one document's rows; returns how many went."""


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

    def add(self, vectors: np.ndarray, metadatas: Sequence[dict] | None = None) -> None:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexMismatch(f"vectors must have dimension {self.dim} (this store's); got shape {vectors.shape}")
        if len(self) + len(vectors) > self.ann_threshold and isinstance(self._index, faiss.IndexFlat):
            existing = self._index.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dim), np.float32)
            hnsw = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            hnsw.hnsw.efSearch = HNSW_EF_SEARCH
            if len(existing):
                hnsw.add(existing)
            self._index = hnsw
        self._index.add(vectors)

    def search(self, queries: np.ndarray, k: int, rows: Sequence[int] | None = None,
               topic: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k nearest vectors per query; rows restricts the search (a topic filter)."""
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.shape[-1] != self.dim or queries.ndim > 2:
            raise IndexMismatch(f"queries must have dimension {self.dim} (this store's); got shape {queries.shape}")
        queries = queries.reshape(-1, self.dim)
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        params = None
        if rows is not None:
            selector = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k)) \
                if isinstance(self._index, faiss.IndexHNSW) else faiss.SearchParameters(sel=selector)
        if len(queries) > 1:
            return self._index.search(queries, k, params=params)
        # One query runs on one OpenMP thread: faiss's multi-threaded path for it is slower, more so on busy cores
        # (docs/scale.md, Threads). The setting is the calling thread's own, and is put back.
        previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(queries, k, params=params)
        finally:
            faiss.omp_set_num_threads(previous)

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        return np.vstack([self._index.reconstruct(int(r)) for r in rows]) if len(rows) else np.zeros((0, self.dim), np.float32)

    def delete_source(self, source: str) -> int:
        """Not supported: FAISS rows are positions that chunks.sqlite points at; re-run ingest instead."""
        raise NotImplementedError("FaissStore keeps no per-row metadata; remove the file and re-run: python -m ingest "
                                  "(unchanged chunks come from the embedding cache)")

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


    # ---- how a build creates, records and reopens its store (see STORES) ----
    @classmethod
    def for_build(cls, settings, build_id: str, dim: int) -> "FaissStore":
        return cls(dim, settings.ann_threshold)

    def describe(self) -> dict:
        return {"name": "faiss", "index": self.kind}

    @classmethod
    def from_manifest(cls, info: dict, build: Path, dim: int) -> "FaissStore":
        return cls.load(build / VECTORS_FILE, dim)

    @classmethod
    def prune(cls, settings, keep: set[str]) -> None:
        """Nothing outside the build folders to remove."""


VECTORS_FILE = "vectors.faiss"

from kb.core.chroma_store import ChromaStore  # noqa: E402  (it needs nothing from here; imported for the registry)

# name -> class with for_build(settings, build_id, dim), describe(), from_manifest(info, build, dim), prune(settings, keep)
STORES = {"faiss": FaissStore, "chroma": ChromaStore}


def store_class(name: str):
    """The store registered under name; UnknownBackend lists the known ones."""
    if name not in STORES:
        raise UnknownBackend(f"unknown store {name!r}; known: {', '.join(sorted(STORES))}")
    return STORES[name]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
