"""Embedding cache keyed by (embedder, mode, text): an unchanged chunk is never embedded twice.

Each index folder has its own cache. Texts that do not depend on the corpus (taxonomy examples, off-domain probes)
are also kept in a cache shared by every index folder (Settings.shared_cache_dir), so a new folder reads them back
instead of embedding them again."""
from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)
SHARED_FILE = "embeddings.sqlite"


class EmbeddingCache:
    def __init__(self, path: Path, embedder_id: str, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._prefix = embedder_id
        self.dim = dim

    def _key(self, mode: str, text: str) -> str:
        return hashlib.sha256(f"{self._prefix}\x00{mode}\x00{text}".encode("utf-8")).hexdigest()

    def _read(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = list(keys[start:start + 500])
            q = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})"
            for key, blob in self._db.execute(q, part):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dim,):
                    found[key] = vec
        return found

    def _write(self, found: dict[str, np.ndarray]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                             [(k, v.astype(np.float32).tobytes()) for k, v in found.items()])
        self._db.commit()

    def get_or_embed(self, mode: str, texts: Sequence[str], embed: Callable[[list[str]], np.ndarray],
                     progress: Callable[[list[str]], None] | None = None, batch: int = 16,
                     shared: "SharedCache | None" = None) -> tuple[np.ndarray, int]:
        """Vectors for texts (cached ones read back, the rest embedded in batches); also how many were embedded.
        With shared, texts missing here are looked up there first, and new vectors are stored in both. progress gets
        the texts done: those read back at once, then each embedded batch."""
        keys = [self._key(mode, t) for t in texts]
        found = self._read(keys)
        if shared is not None:
            reused = shared.read([k for k in keys if k not in found])
            if reused:
                self._write(reused)
                found.update(reused)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if progress and len(missing) < len(texts):
            progress([t for t, k in zip(texts, keys) if k in found])
        for start in range(0, len(missing), batch):
            idx = missing[start:start + batch]
            vecs = embed([texts[i] for i in idx])
            fresh = {keys[i]: vecs[j] for j, i in enumerate(idx)}
            self._write(fresh)
            if shared is not None:
                shared.write(fresh)
            found.update(fresh)
            if progress:
                progress([texts[i] for i in idx])
        out = np.vstack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        return np.ascontiguousarray(out, dtype=np.float32), len(missing)

    def close(self) -> None:
        self._db.close()


class SharedCache:
    """The cache common to all index folders; best effort: if it cannot be opened, read or written, the build goes
    on with the index folder's own cache (and says so in the log)."""

    def __init__(self, folder: str | Path, embedder_id: str, dim: int) -> None:
        self._cache: EmbeddingCache | None = None
        try:
            self._cache = EmbeddingCache(Path(folder).expanduser() / SHARED_FILE, embedder_id, dim)
        except (OSError, sqlite3.Error) as exc:
            log.warning("shared embedding cache %s not used: %s", folder, exc)

    def read(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return self._guard(lambda cache: cache._read(keys), {})

    def write(self, found: dict[str, np.ndarray]) -> None:
        self._guard(lambda cache: cache._write(found), None)

    def _guard(self, action, otherwise):
        if self._cache is None:
            return otherwise
        try:
            return action(self._cache)
        except sqlite3.Error as exc:  # locked by another build, disk full, read-only: not this build's problem
            log.warning("shared embedding cache skipped: %s", exc)
            return otherwise

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
