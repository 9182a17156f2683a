"""Embedding cache keyed by (embedder, mode, text): an unchanged chunk is never embedded twice."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Callable, Sequence

import numpy as np


class EmbeddingCache:
    def __init__(self, path: Path, embedder_id: str, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._prefix = embedder_id
        self.dim = dim

    def _key(self, mode: str, text: str) -> str:
        return hashlib.sha256(f"{self._prefix}\x00{mode}\x00{text}".encode("utf-8")).hexdigest()

    def get_or_embed(self, mode: str, texts: Sequence[str], embed: Callable[[list[str]], np.ndarray],
                     progress: Callable[[int], None] | None = None, batch: int = 16) -> tuple[np.ndarray, int]:
        """Vectors for texts (cached ones read back, the rest embedded in batches); also how many were embedded."""
        keys = [self._key(mode, t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            q = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})"
            for key, blob in self._db.execute(q, part):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dim,):
                    found[key] = vec
        missing = [i for i, k in enumerate(keys) if k not in found]
        for start in range(0, len(missing), batch):
            idx = missing[start:start + batch]
            vecs = embed([texts[i] for i in idx])
            rows = [(keys[i], vecs[j].astype(np.float32).tobytes()) for j, i in enumerate(idx)]
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.commit()
            for j, i in enumerate(idx):
                found[keys[i]] = vecs[j]
            if progress:
                progress(len(idx))
        out = np.vstack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        return np.ascontiguousarray(out, dtype=np.float32), len(missing)

    def close(self) -> None:
        self._db.close()
