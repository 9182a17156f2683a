"""Topic tags by similarity-weighted nearest-neighbour voting over labelled examples.

A question's topic blends two votes (weights per embedder in kb/data/calibration/, topics section):
- the labelled examples, ranked like corpus chunks are (dense + BM25, fused by reciprocal rank), the first
  example_k counted 1/rank: the taxonomy's, the labelled questions of its topics (data/labels/), user corrections;
- the first neighbour_k retrieved chunks' own ingest-time votes, weighted by softmax of their retrieval scores.
A chunk's own vote (at ingest) is a cosine-softmax kNN over the taxonomy examples, blended with the topics of the
labelled questions that point at it (labels.py). docs/quality.md, Topic voting, has the measurements.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from kb.core.textnorm import tokenize
from kb.retrieval.fusion import rrf_fuse
from kb.retrieval.lexical import LexicalIndex
from kb.retrieval.retriever import Hit

EXAMPLE_DEPTH = 50  # labelled examples taken from each ranking (dense, BM25) before fusing


@dataclass(frozen=True)
class TopicVote:
    id: str
    confidence: float  # the winner's vote share
    votes: dict[str, float]  # every topic's share, summing to 1
    uncertain: bool


def vote_shares(similarities: np.ndarray, labels: Sequence[str], topic_ids: Sequence[str],
                k: int, temperature: float) -> np.ndarray:
    """Row-wise vote shares (n x topics) from the k most similar labelled examples of each row."""
    sims = np.atleast_2d(similarities)
    k = max(1, min(k, sims.shape[1]))
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    top_sims = np.take_along_axis(sims, top, axis=1)
    weights = np.exp((top_sims - top_sims.max(axis=1, keepdims=True)) / temperature)
    index = {t: i for i, t in enumerate(topic_ids)}
    label_idx = np.array([index[label] for label in labels])
    shares = np.zeros((sims.shape[0], len(topic_ids)))
    for j in range(k):
        np.add.at(shares, (np.arange(sims.shape[0]), label_idx[top[:, j]]), weights[:, j])
    return shares / shares.sum(axis=1, keepdims=True)


def to_vote(shares: np.ndarray, topic_ids: Sequence[str], uncertain_below: float = 0.5) -> TopicVote:
    """The winning topic of one row of shares, with the full breakdown."""
    best = int(np.argmax(shares))
    votes = {t: round(float(s), 4) for t, s in zip(topic_ids, shares)}
    return TopicVote(topic_ids[best], round(float(shares[best]), 4), votes, bool(shares[best] < uncertain_below))


def ranked_shares(votes: np.ndarray, k: int) -> np.ndarray:
    """Blend of the first k ranked items' vote shares (rows of votes, best first), the item at rank r weighted 1/r."""
    return _blend(votes, k, lambda n: 1.0 / np.arange(1, n + 1))


def score_shares(votes: np.ndarray, scores: Sequence[float], k: int, temperature: float) -> np.ndarray:
    """Blend of the first k ranked items' vote shares, each weighted by softmax(score / temperature)."""
    def weights(n: int) -> np.ndarray:
        s = np.asarray(scores[:n], dtype=float)
        return np.exp((s - s.max()) / temperature)
    return _blend(votes, k, weights)


def _blend(votes: np.ndarray, k: int, weights: Callable[[int], np.ndarray]) -> np.ndarray:
    votes = np.asarray(votes[:k], dtype=float)
    if len(votes) == 0:
        return np.zeros(np.shape(votes)[1] if np.ndim(votes) == 2 else 0)
    shares = weights(len(votes)) @ votes
    return shares / max(float(shares.sum()), 1e-12)


class TopicVoter:
    """The query-time vote: labelled examples (taxonomy, labelled questions, user corrections) blended with the
    retrieved chunks' votes."""

    def __init__(self, topic_ids: Sequence[str], example_vectors: np.ndarray, example_topics: Sequence[str],
                 example_texts: Sequence[str], tuned: dict[str, Any], labelled_build: bool, rrf_k: int,
                 uncertain_share: float) -> None:
        self.topic_ids = list(topic_ids)
        self.tuned = tuned
        self.rrf_k = rrf_k
        self.uncertain_share = uncertain_share
        self.example_weight = float(tuned["example_weight_labelled" if labelled_build else "example_weight"])
        # the examples' texts are kept segmented: once, not again with each correction
        self._base = (np.asarray(example_vectors, np.float32), list(example_topics), [tokenize(t) for t in example_texts])
        self._lock = threading.Lock()
        self.set_extra_examples(np.zeros((0, self._base[0].shape[1]), np.float32), [], [])

    def set_extra_examples(self, vectors: np.ndarray, topics: Sequence[str], texts: Sequence[str]) -> None:
        """Extra labelled examples (user topic corrections) that the vote uses from now on."""
        base_vectors, base_topics, base_tokens = self._base
        vectors = np.asarray(vectors, np.float32).reshape(-1, base_vectors.shape[1])
        labels = base_topics + list(topics)
        onehot = np.zeros((len(labels), len(self.topic_ids)))
        onehot[np.arange(len(labels)), [self.topic_ids.index(t) for t in labels]] = 1.0
        state = (np.vstack([base_vectors, vectors]), onehot, len(base_topics),
                 LexicalIndex(base_tokens + [tokenize(t) for t in texts]))
        with self._lock:
            self._state = state

    def vote(self, qvec: np.ndarray, hits: Sequence[Hit], tokens: list[str] | None = None) -> TopicVote:
        """The question's topic. A user's correction of this very question (a near-identical stored question)
        decides it outright."""
        with self._lock:
            vectors, onehot, n_base, lexical = self._state
        dense = vectors @ qvec[0]
        corrected = np.flatnonzero(dense[n_base:] >= self.tuned["correction_match"]) + n_base
        if len(corrected):
            return to_vote(onehot[corrected].mean(axis=0), self.topic_ids, self.uncertain_share)
        dense_rank = [int(i) for i in np.argsort(-dense)[:EXAMPLE_DEPTH]]
        lex_rank: list[int] = []
        if tokens:  # the question's lexical query, as retrieval used it
            lex = lexical.scores(tokens)
            lex_rank = [int(i) for i in np.argsort(-lex) if lex[i] > 0][:EXAMPLE_DEPTH]
        fused = rrf_fuse([dense_rank, lex_rank], (1.0, 1.0), self.rrf_k)
        order = sorted(fused, key=lambda i: (-fused[i], -dense[i]))
        shares = ranked_shares(onehot[order], int(self.tuned["example_k"]))
        if hits:
            chunk_votes = np.array([[h.chunk.meta.get("votes", {}).get(t, 0.0) for t in self.topic_ids] for h in hits])
            shares = self.example_weight * shares + (1 - self.example_weight) * score_shares(
                chunk_votes, [h.score for h in hits], int(self.tuned["neighbour_k"]),
                float(self.tuned["neighbour_temperature"]))
        return to_vote(shares, self.topic_ids, self.uncertain_share)
