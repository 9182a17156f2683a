"""Topic tags by similarity-weighted nearest-neighbour voting over labelled examples."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Softmax temperature over cosine similarities: e5 similarities sit in a narrow band (~0.75-0.95),
# so a small temperature lets the closest neighbours count clearly more than the k-th.
DEFAULT_K = 10
DEFAULT_TEMPERATURE = 0.03
# A question's topic blends the taxonomy examples (this share) with the retrieved chunks' votes.
# Measured on dev + qa_tune (57 questions): examples only 0.75, chunks only 0.79, 0.3 blend 0.84 (docs/quality.md).
EXAMPLE_WEIGHT = 0.3
# Only the first few retrieved chunks vote: deeper hits are often about a neighbouring subject.
# Measured over 193 in-scope questions (4 sets): 10 chunks 0.82, 5 0.83, 3 0.87, 2 0.86, 1 0.82.
NEIGHBOUR_K = 3


@dataclass(frozen=True)
class TopicVote:
    id: str
    confidence: float  # the winner's vote share
    votes: dict[str, float]  # every topic's share, summing to 1
    uncertain: bool


def vote_shares(similarities: np.ndarray, labels: Sequence[str], topic_ids: Sequence[str],
                k: int = DEFAULT_K, temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
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


def neighbour_shares(similarities: Sequence[float], neighbour_votes: np.ndarray, k: int = DEFAULT_K,
                     temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """Blend of the k most similar neighbours' own vote shares, weighted like vote_shares."""
    sims = np.asarray(similarities[:k], dtype=float)
    weights = np.exp((sims - sims.max()) / temperature)
    shares = weights @ np.asarray(neighbour_votes[:k], dtype=float)
    return shares / max(float(shares.sum()), 1e-12)
