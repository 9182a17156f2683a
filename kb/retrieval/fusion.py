"""Fusing rankings and ordering the fused list: reciprocal-rank fusion, twin answers and covered sub-sections deferred."""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from kb.core.schema import Chunk

# A twin chunk sharing this share of its character bigrams with a ranked chunk of the same question is a repeat.
TWIN_OVERLAP = 0.5


def rrf_fuse(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: sum of weight / (k + rank) over the rankings an item appears in."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def collapse_twins(order: list[int], chunks: Sequence[Chunk]) -> list[int]:
    """Keep ranking order, but a chunk that repeats what an already-ranked twin (the same question answered in
    another entry) says waits until after the rest, so twins don't crowd the top sources. A twin chunk that says
    something the ranked ones don't (the longer answer's extra parts) keeps its place."""
    kept: dict[str, list[str]] = {}  # group -> texts of its chunks ranked so far
    entry_of_group: dict[str, str] = {}
    first, later = [], []
    for pos in order:
        c = chunks[pos]
        if not c.group:
            first.append(pos)
            continue
        seen = kept.setdefault(c.group, [])
        twin = entry_of_group.setdefault(c.group, c.entry) != c.entry
        if twin and any(_overlap(_bigram_set(c.text), _bigram_set(text)) >= TWIN_OVERLAP for text in seen):
            later.append(pos)
        else:
            first.append(pos)
            seen.append(c.text)
    return first + later


def defer_covered(order: list[int], parent_of: dict[int, int]) -> list[int]:
    """Keep ranking order, but a chunk whose parent chunk (its whole section) is already ranked waits until after
    the rest: the parent holds its text. A parent ranked after one of its sub-sections keeps its place, since it
    adds the sibling sub-sections."""
    placed: set[int] = set()
    first, later = [], []
    for pos in order:
        (later if parent_of.get(pos) in placed else first).append(pos)
        placed.add(pos)
    return first + later


def parents_of(chunks: Sequence[Chunk]) -> dict[int, int]:
    """Chunk position -> position of the parent chunk that contains it (ingest/chunk.py parent_chunks): the
    chunks of the parent's own section and of its direct sub-sections."""
    parent_at = {(c.source, c.title_path): i for i, c in enumerate(chunks) if c.kind == "parent"}
    out = {}
    for i, c in enumerate(chunks):
        if c.kind == "parent":
            continue
        p = parent_at.get((c.source, c.title_path), parent_at.get((c.source, c.title_path[:-1])))
        if p is not None:
            out[i] = p
    return out


@lru_cache(maxsize=8192)
def _bigram_set(text: str) -> frozenset[str]:
    t = "".join(text.split())
    return frozenset(t[i:i + 2] for i in range(len(t) - 1))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller text's bigrams that the other has."""
    return len(a & b) / max(1, min(len(a), len(b)))
