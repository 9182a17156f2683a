"""Shared tests every VectorStore backend must pass: FAISS, embedded Chroma and a real Chroma server."""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from kb.core.chroma_store import ChromaStore, connect
from kb.core.errors import IndexCorrupt, IndexMismatch, UnknownBackend
from kb.core.store import FaissStore, store_class

DIM = 16
TOPICS = ("arch", "apps", "data")


class Backend:
    """Creates and reopens one kind of store so the same tests run over each."""

    def __init__(self, kind: str, tmp: Path, url: str = "") -> None:
        self.kind, self.tmp, self.url = kind, tmp, url

    def new(self, dim: int = DIM):
        if self.kind == "faiss":
            return FaissStore(dim)
        return ChromaStore.create(self._client(), f"test_{uuid.uuid4().hex[:12]}", dim)

    def reopen(self, store, dim: int = DIM):
        if self.kind == "faiss":
            store.save(self.tmp / "vectors.faiss")
            return FaissStore.load(self.tmp / "vectors.faiss", dim)
        if self.kind == "chroma-embedded":
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()  # a fresh client reads the folder, not this process's cache
        return ChromaStore.open(self._client(), store.name, dim)

    def _client(self):
        return connect(self.url) if self.url else connect("", self.tmp / "chroma")


@pytest.fixture(params=["faiss", "chroma-embedded", "chroma-server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    url = request.getfixturevalue("chroma_server") if request.param == "chroma-server" else ""
    return Backend(request.param, tmp_path, url)


def unit_vectors(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def filled(backend: Backend, n: int = 60):
    """A store of n rows; row i has topic TOPICS[i % 3] and source doc<i % 4>."""
    vectors = unit_vectors(n)
    metas = [{"topic": TOPICS[i % 3], "source": f"doc{i % 4}.txt"} for i in range(n)]
    store = backend.new()
    store.add(vectors, metas)
    return store, vectors, metas


def test_search_returns_the_exact_cosine_neighbours(backend: Backend) -> None:
    store, vectors, _ = filled(backend)
    assert len(store) == 60
    scores, rows = store.search(vectors[[7, 31]], 5)
    expected = np.argsort(-(vectors[[7, 31]] @ vectors.T), axis=1)[:, :5]
    assert rows.tolist() == expected.tolist()
    assert rows[:, 0].tolist() == [7, 31] and np.allclose(scores[:, 0], 1.0, atol=1e-4)
    assert np.allclose(scores, np.take_along_axis(vectors[[7, 31]] @ vectors.T, rows, axis=1), atol=1e-4)


def test_row_ids_continue_across_adds(backend: Backend) -> None:
    store, vectors, _ = filled(backend, 30)
    more = unit_vectors(10, seed=1)
    store.add(more, [{"topic": "arch", "source": "late.txt"}] * 10)
    assert len(store) == 40
    _, rows = store.search(more[3], 1)
    assert rows[0, 0] == 33


def test_topic_filter_returns_only_that_topic(backend: Backend) -> None:
    store, vectors, metas = filled(backend)
    allowed = [i for i, m in enumerate(metas) if m["topic"] == "apps"]
    _, rows = store.search(vectors[0], 50, rows=allowed, topic="apps")  # row 0 is "arch": it must not come back
    found = [int(r) for r in rows[0] if r >= 0]
    assert sorted(found) == allowed


def test_k_larger_than_the_store_pads_or_trims(backend: Backend) -> None:
    store, vectors, _ = filled(backend, 12)
    scores, rows = store.search(vectors[:2], 100)
    assert rows.shape[0] == 2 and sorted(int(r) for r in rows[0] if r >= 0) == list(range(12))


def test_delete_source_removes_a_documents_rows(backend: Backend) -> None:
    store, vectors, metas = filled(backend)
    if backend.kind == "faiss":
        with pytest.raises(NotImplementedError, match="python -m ingest"):
            store.delete_source("doc1.txt")
        return
    gone = {i for i, m in enumerate(metas) if m["source"] == "doc1.txt"}
    assert store.delete_source("doc1.txt") == len(gone) == 15
    assert len(store) == 45
    _, rows = store.search(vectors[sorted(gone)], 60)
    assert not gone & {int(r) for r in rows.ravel() if r >= 0}
    store.add(unit_vectors(1, seed=2), [{"topic": "arch", "source": "new.txt"}])  # new rows never reuse a deleted id
    _, rows = store.search(unit_vectors(1, seed=2), 1)
    assert rows[0, 0] == 60


def test_reopened_store_answers_the_same(backend: Backend) -> None:
    store, vectors, metas = filled(backend)
    before = store.search(vectors[:3], 8, rows=[i for i, m in enumerate(metas) if m["topic"] == "data"], topic="data")
    again = backend.reopen(store)
    assert len(again) == 60
    after = again.search(vectors[:3], 8, rows=[i for i, m in enumerate(metas) if m["topic"] == "data"], topic="data")
    assert after[1].tolist() == before[1].tolist()
    assert np.allclose(after[0], before[0], atol=1e-5)


def test_dimension_mismatch_is_a_clear_error(backend: Backend) -> None:
    store, _, _ = filled(backend, 8)
    with pytest.raises(IndexMismatch, match="dimension 16"):
        store.add(unit_vectors(2, dim=8))
    with pytest.raises(IndexMismatch, match="dimension 16"):
        store.search(unit_vectors(1, dim=32), 3)
    with pytest.raises((IndexMismatch, IndexCorrupt), match="32"):
        backend.reopen(store, dim=32)


def test_empty_store_finds_nothing(backend: Backend) -> None:
    scores, rows = backend.new().search(unit_vectors(1), 5)
    assert rows.size == 0 or (rows < 0).all()


def test_unknown_store_lists_the_known_ones() -> None:
    with pytest.raises(UnknownBackend, match="chroma, faiss"):
        store_class("milvus")
