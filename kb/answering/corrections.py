"""User feedback beside the index: helpful/not-helpful ratings and topic corrections that the topic vote learns from.

Stored in <index_dir>/feedback.sqlite, outside the build folders, so a rebuild never loses it.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.core.errors import BadInput

FEEDBACK_DB = "feedback.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL,
  topic TEXT NOT NULL, vector BLOB NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ratings (id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL,
  helpful INTEGER NOT NULL, topic TEXT, created_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Correction:
    id: int
    question: str
    topic: str
    vector: np.ndarray  # the question's query vector, float32
    created_at: str


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class FeedbackStore:
    """Corrections ("this question belongs to topic X") and ratings in one small SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_index(cls, index_dir: Path) -> "FeedbackStore":
        return cls(Path(index_dir) / FEEDBACK_DB)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.executescript(_SCHEMA)
        return conn

    def add(self, question: str, topic: str, vector: np.ndarray) -> int:
        """Record that question belongs to topic; returns the correction's id."""
        if not question.strip() or not topic:
            raise BadInput("a correction needs a question and a topic id")
        blob = np.asarray(vector, np.float32).reshape(-1).tobytes()
        with closing(self._connect()) as conn, conn:
            cur = conn.execute("INSERT INTO corrections (question, topic, vector, created_at) VALUES (?, ?, ?, ?)",
                               (question, topic, blob, _now()))
            return int(cur.lastrowid)

    def list(self) -> list[Correction]:
        """Every correction, newest first."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT id, question, topic, vector, created_at FROM corrections ORDER BY id DESC").fetchall()
        return [Correction(i, q, t, np.frombuffer(v, np.float32).copy(), c) for i, q, t, v, c in rows]

    def undo(self, correction_id: int) -> bool:
        """Delete one correction; False when it did not exist."""
        with closing(self._connect()) as conn, conn:
            return conn.execute("DELETE FROM corrections WHERE id = ?", (int(correction_id),)).rowcount > 0

    def rate(self, question: str, helpful: bool, topic: str = "") -> None:
        """Record whether an answer helped."""
        with closing(self._connect()) as conn, conn:
            conn.execute("INSERT INTO ratings (question, helpful, topic, created_at) VALUES (?, ?, ?, ?)",
                         (question, int(bool(helpful)), topic, _now()))

    def ratings(self) -> dict[str, int]:
        """Counts of helpful and not-helpful ratings."""
        if not self.path.exists():
            return {"helpful": 0, "not_helpful": 0}
        with closing(self._connect()) as conn:
            yes, total = conn.execute("SELECT COALESCE(SUM(helpful), 0), COUNT(*) FROM ratings").fetchone()
        return {"helpful": int(yes), "not_helpful": int(total - yes)}

    def usable(self, topic_ids: Sequence[str], dim: int) -> tuple[np.ndarray, list[str], list[str]]:
        """The corrections that fit a build (known topic, same vector dimension): vectors, topics, questions."""
        usable = [c for c in self.list() if c.topic in topic_ids and c.vector.shape[0] == dim]
        vectors = np.vstack([c.vector for c in usable]) if usable else np.zeros((0, dim), np.float32)
        return vectors, [c.topic for c in usable], [c.question for c in usable]
