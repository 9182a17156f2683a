"""Chroma behind the VectorStore interface: an embedded folder per build, or a collection per build on a server.

Row numbers (positions in insertion order, as in FaissStore) are the Chroma ids; each row carries
{row, topic, source} so a topic filter or a document delete runs inside Chroma.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import numpy as np

from kb.core.errors import BadInput, IndexMismatch, IndexNotFound

COLLECTION_PREFIX = "kb"
EMBEDDED_DIR = "chroma"  # index/chroma/<build_id>: one embedded database per build, beside builds/
# HNSW settings: exact-enough for a few thousand rows (the retriever asks for up to 200 neighbours).
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 400, "max_neighbors": 32}


def connect(url: str = "", path: Path | None = None):
    """A Chroma client: HttpClient for a server URL (http://host:port), else PersistentClient on path."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    quiet = ChromaSettings(anonymized_telemetry=False)
    if not url:
        if path is None:
            raise BadInput("an embedded Chroma store needs a folder path")
        Path(path).mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=quiet)
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadInput(f"chroma_url must look like http://host:port; got {url!r}")
    try:
        return chromadb.HttpClient(host=parts.hostname, port=parts.port or 8000, ssl=parts.scheme == "https",
                                   settings=quiet)
    except Exception as exc:  # chromadb raises ValueError/ConnectError when nobody answers
        raise IndexNotFound(f"cannot reach the Chroma server at {url} ({str(exc).splitlines()[0][:120]}); "
                            f"start one with: chroma run --path <folder> --port {parts.port or 8000}") from exc


def collection_name(index_dir: Path, build_id: str) -> str:
    """One collection per build, tagged with the index folder so two indexes can share one server."""
    tag = hashlib.sha256(str(Path(index_dir).resolve()).encode()).hexdigest()[:8]
    return f"{COLLECTION_PREFIX}_{tag}_{build_id}"


class ChromaStore:
    """Cosine search over one Chroma collection; scores are cosine similarities (1 - distance)."""

    def __init__(self, client, collection, dim: int, count: int | None = None) -> None:
        self.dim = dim
        self._client = client
        self._collection = collection
        self._count = collection.count() if count is None else count  # one writer, so a local count stays true
        self._location: dict = {}  # {url} or {path}: what the manifest records to reopen it
        self._next_row = count  # known for a new collection; found on first add otherwise (rows may have been deleted)

    @classmethod
    def create(cls, client, name: str, dim: int) -> "ChromaStore":
        """A new, empty collection (an existing one of the same name is replaced)."""
        if name in {c.name for c in client.list_collections()}:
            client.delete_collection(name)
        collection = client.create_collection(name, configuration={"hnsw": dict(HNSW)}, embedding_function=None,
                                              metadata={"dim": dim})
        return cls(client, collection, dim, count=0)

    @classmethod
    def open(cls, client, name: str, dim: int) -> "ChromaStore":
        """An existing collection; IndexNotFound if it is gone, IndexMismatch if built for another dimension."""
        try:
            collection = client.get_collection(name, embedding_function=None)
        except Exception as exc:  # NotFoundError (embedded) or a ValueError/HTTP error (server)
            raise IndexNotFound(f"Chroma collection {name} is missing; rebuild it with: python -m ingest --store chroma") from exc
        built_dim = (collection.metadata or {}).get("dim")
        if built_dim is not None and int(built_dim) != dim:
            raise IndexMismatch(f"Chroma collection {name} holds {built_dim}-dimensional vectors, expected {dim}; "
                                f"rebuild it with: python -m ingest --store chroma")
        return cls(client, collection, dim)

    @property
    def name(self) -> str:
        return self._collection.name

    def __len__(self) -> int:
        return self._count

    def _check_dim(self, vectors: np.ndarray, what: str) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors.reshape(1, -1)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexMismatch(f"{what} must have dimension {self.dim} (this store's); got shape {vectors.shape}")
        return vectors

    def add(self, vectors: np.ndarray, metadatas: Sequence[dict] | None = None) -> None:
        """Append rows in batches the server accepts; metadata values that are None are left out."""
        vectors = self._check_dim(vectors, "vectors")
        if metadatas is not None and len(metadatas) != len(vectors):
            raise BadInput(f"metadatas must have one entry per vector ({len(vectors)}); got {len(metadatas)}")
        if self._next_row is None:
            self._next_row = 1 + max((int(i) for i in self._collection.get(include=[])["ids"]), default=-1)
        first = self._next_row
        batch = max(1, self._client.get_max_batch_size())
        for start in range(0, len(vectors), batch):
            stop = min(start + batch, len(vectors))
            metas = [{k: v for k, v in (metadatas[i] if metadatas else {}).items() if v is not None} | {"row": first + i}
                     for i in range(start, stop)]
            self._collection.add(ids=[str(first + i) for i in range(start, stop)], embeddings=vectors[start:stop],
                                 metadatas=metas)
            self._count += stop - start
            self._next_row = first + stop

    def search(self, queries: np.ndarray, k: int, rows: Sequence[int] | None = None,
               topic: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k nearest rows per query, padded with -1; topic (or else rows) filters in Chroma."""
        queries = self._check_dim(queries, "queries")
        k = max(1, min(int(k), len(self)))
        scores = np.full((len(queries), k), -1.0, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        if len(self) == 0:
            return scores[:, :0], ids[:, :0]
        where = None
        if topic is not None:
            where = {"topic": topic}  # the topic is stored on each row, so the filter runs inside Chroma
        elif rows is not None:
            if len(rows) == 0:
                return scores, ids
            where = {"row": {"$in": [int(r) for r in rows]}}
        result = self._collection.query(query_embeddings=queries, n_results=k, where=where, include=["distances"])
        for q, (found, dists) in enumerate(zip(result["ids"], result["distances"])):
            ids[q, : len(found)] = [int(i) for i in found]
            scores[q, : len(found)] = 1.0 - np.asarray(dists, np.float32)
        return scores, ids

    def delete_source(self, source: str) -> int:
        """Remove every row of one document; returns how many went."""
        found = self._collection.get(where={"source": source}, include=[])["ids"]
        if found:
            self._collection.delete(ids=found)
            self._count -= len(found)
        return len(found)

    def save(self, path: Path) -> None:
        """Nothing to write: Chroma persists each add itself (the manifest records where)."""

    # ---- how a build creates, records and reopens its store (see kb.store.STORES) ----
    @classmethod
    def for_build(cls, settings, build_id: str, dim: int) -> "ChromaStore":
        """A fresh collection for one build: on settings.chroma_url, else in index/chroma/<build_id>."""
        index_dir = Path(settings.index_dir)
        path = None if settings.chroma_url else index_dir / EMBEDDED_DIR / build_id
        store = cls.create(connect(settings.chroma_url, path), collection_name(index_dir, build_id), dim)
        store._location = {"url": settings.chroma_url} if settings.chroma_url else {"path": f"{EMBEDDED_DIR}/{build_id}"}
        return store

    def describe(self) -> dict:
        return {"name": "chroma", "collection": self.name, **self._location}

    @classmethod
    def from_manifest(cls, info: dict, build: Path, dim: int) -> "ChromaStore":
        """Reopen the collection a manifest names (build is index/builds/<id>, so the index is two up)."""
        path = Path(build).parent.parent / info["path"] if info.get("path") else None
        store = cls.open(connect(info.get("url", ""), path), info["collection"], dim)
        store._location = {k: info[k] for k in ("url", "path") if k in info}
        return store

    @classmethod
    def prune(cls, settings, keep: set[str]) -> None:
        """Drop this index's collections (server) or folders (embedded) whose build is no longer kept."""
        index_dir = Path(settings.index_dir)
        if settings.chroma_url:
            client = connect(settings.chroma_url)
            prefix = collection_name(index_dir, "")
            for col in client.list_collections():
                if col.name.startswith(prefix) and col.name[len(prefix):] not in keep:
                    client.delete_collection(col.name)
            return
        for folder in (index_dir / EMBEDDED_DIR).glob("*"):
            if folder.is_dir() and folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
