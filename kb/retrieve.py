"""Hybrid retrieval: dense (FAISS, passages and FAQ questions) plus BM25, fused by reciprocal rank."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from .crosslingual import EnglishExpander
from .index import IndexData
from .lexical import LexicalIndex
from .schema import Chunk
from .textnorm import tokenize
from .wordbridge import WordBridge

# Second stage of hybrid ranking: the top RERANK_DEPTH fused candidates are re-scored by a linear model over
# what each chunk has for the question. Weights are in units of one first-place RRF vote, fitted by pairwise
# logistic regression over eight question sets (fresh4 and fresh5 are kept out, as sets no fit has seen) and
# checked set by set with each set left out of the fit (docs/quality.md, Retrieval items 10 and 11; refit with
# python -m benchmarks.fit_rerank):
#   dense_rrf, lexical_rrf  the two RRF terms (the lexical one already carries the English-question weight)
#   coverage_words/bigrams  IDF-weighted share of the question's distinct words / CJK bigrams in the chunk
#   dense_top               1 / dense rank: RRF's k flattens the top of the dense ranking, this restores it
#   bm25                    the BM25 score over the best BM25 score: how far ahead of the rest, not just the rank
#   parent                  a whole section (it holds all of its sub-sections' text)
#   summary                 a "總結 / 总结" section: it restates its siblings; the content is in them
#   title                   IDF-weighted share of the question's words in the chunk's headings
#   hub                     how close the chunk sits to the corpus's own questions in general (ingest/hubness.py),
#                           scaled to 0..1 over the corpus: a chunk near every question is rarely the answer
RERANK_DEPTH = 30  # 20, 30, 50 and 100 measured the same on all four sets (session 2)
RANK_FEATURES = ("dense_rrf", "lexical_rrf", "coverage_words", "coverage_bigrams", "dense_top", "bm25", "parent",
                 "summary", "title", "hub")
RANK_WEIGHTS = {"dense_rrf": 1.0, "lexical_rrf": 0.45, "coverage_words": 0.78, "coverage_bigrams": 0.17,
                "dense_top": 0.37, "bm25": 0.72, "parent": 0.26, "summary": -0.58, "title": 0.12, "hub": -0.32}
_SUMMARY_TITLE = re.compile(r"^[*\s]*(?:總結|总结|小結|小结|結論|结论|結語|结语)[*\s:：]*$")
# A mostly-English question against this Chinese corpus: the dense side (e5-small) is weak across languages,
# so the lexical side, fed CC-CEDICT translations of the English words, counts this many times. Measured on the
# 23 English questions of the four sets: MRR 0.55 -> 0.75 with the translations, 0.80 with the extra weight.
ENGLISH_LEXICAL_WEIGHT = 2.0
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def scaled(values: Sequence[float]) -> np.ndarray:
    """Values mapped linearly onto 0..1 (all 0 when they are all equal)."""
    v = np.asarray(values, dtype=np.float64)
    span = float(v.max() - v.min()) if len(v) else 0.0
    return (v - v.min()) / span if span > 0 else np.zeros(len(v))


def mostly_english(text: str) -> bool:
    """More English words than Chinese characters: a question typed in English, not a Chinese one with a few
    English terms ("LLM 的 inference latency 太高" is Chinese)."""
    words = len(_LATIN_WORD.findall(text))
    return words > 0 and words > len(_CJK.findall(text))


@dataclass
class Hit:
    chunk: Chunk
    position: int  # index of the chunk in IndexData.chunks
    score: float  # fused score (what ranks the hits)
    dense: float  # best cosine of the query with the chunk's passage or FAQ-question vector
    question: float  # cosine with the chunk's FAQ-question vector (0 when it has none)
    lexical: float  # BM25 score


@dataclass
class FirstStage:
    dense: np.ndarray  # per chunk: best cosine over its vectors (-1 when not searched)
    question: np.ndarray  # per chunk: cosine with its FAQ-question vector (0 when it has none)
    tokens: list[str]  # the lexical query
    lex_weight: float
    lex: np.ndarray  # per chunk: BM25 score
    eligible: np.ndarray  # per chunk: within the topic filter
    dense_rank: list[int]
    lex_rank: list[int]


@dataclass
class Retrieval:
    hits: list[Hit]
    dense_top: float  # best dense cosine over the whole (filtered) corpus
    lexical_top: float
    tokens: list[str] = field(default_factory=list)  # the lexical query (with translations for English)
    neighbours: list[Hit] = field(default_factory=list)  # the ranking without parent chunks, for the topic vote
    near_words: int = 0  # how many of the tokens (at the end) the word bridge added
    agree: bool = False  # dense and BM25 put the same chunk first (evidence the question is in scope)

    @property
    def vote_tokens(self) -> list[str]:
        """The lexical query without the word bridge's additions, for the taxonomy-example vote: over the seven
        question sets they helped the ranking but cost topic accuracy there (0.925 -> 0.918, docs/quality.md)."""
        return self.tokens[:len(self.tokens) - self.near_words]


def rrf_fuse(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: sum of weight / (k + rank) over the rankings an item appears in."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def convex_fuse(dense: np.ndarray, lexical: np.ndarray, dense_rank: list[int], lex_rank: list[int],
                alpha: float) -> dict[int, float]:
    """alpha * dense + (1 - alpha) * lexical, each min-max scaled over the union of both candidate lists."""
    cand = list(dict.fromkeys(dense_rank + lex_rank))
    if not cand:
        return {}
    d, l = dense[cand], lexical[cand]
    d = scaled(d)
    l = l / max(float(l.max()), 1e-9)
    return {p: float(alpha * d[i] + (1 - alpha) * l[i]) for i, p in enumerate(cand)}


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


def heading_words(chunks: Sequence[Chunk]) -> list[frozenset[str]]:
    """Per chunk, the lexical words of its headings, leaving out the titles every chunk of its document shares
    (a document title like "关于 AI 的小白 FAQ" would make "AI" a heading match for all of that document)."""
    shared: dict[str, tuple[str, ...]] = {}
    for c in chunks:
        prefix = shared.setdefault(c.source, c.title_path)
        n = 0
        while n < min(len(prefix), len(c.title_path)) and prefix[n] == c.title_path[n]:
            n += 1
        shared[c.source] = prefix[:n]
    return [frozenset(t for t in tokenize(" ".join(c.title_path[len(shared[c.source]):])) if not t.startswith("#"))
            for c in chunks]


# A twin chunk sharing this much of its character bigrams with a ranked chunk of the same question is a repeat.
# Deferring only repeats (not every chunk of the twin entry) raised test R@5 0.83 -> 0.84; 0.3-0.7 measure the same.
TWIN_OVERLAP = 0.5


@lru_cache(maxsize=8192)
def _bigram_set(text: str) -> frozenset[str]:
    t = "".join(text.split())
    return frozenset(t[i:i + 2] for i in range(len(t) - 1))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller text's bigrams that the other has."""
    return len(a & b) / max(1, min(len(a), len(b)))


class Retriever:
    """Dense + lexical retrieval over one loaded build."""

    def __init__(self, data: IndexData, lexical: LexicalIndex, rrf_k: int = 60,
                 dense_weight: float = 1.0, lexical_weight: float = 1.0, depth: int = 100,
                 fusion: str = "rrf", alpha: float = 0.5, word_bridge: WordBridge | None = None) -> None:
        self.data = data
        self.lexical = lexical
        self.rrf_k = rrf_k
        self.weights = (dense_weight, lexical_weight)
        self.depth = depth
        self.fusion = fusion
        self.alpha = alpha
        self._topic_of = np.array([c.topic for c in data.chunks])
        self._parent_of = parents_of(data.chunks)
        self._is_parent = np.array([c.kind == "parent" for c in data.chunks], dtype=bool)
        self._is_summary = np.array([bool(c.title_path) and bool(_SUMMARY_TITLE.match(c.title_path[-1]))
                                     for c in data.chunks], dtype=bool)
        self._title_words = heading_words(data.chunks)
        self._hub = scaled([float(c.meta.get("hub", 0.0)) for c in data.chunks])
        self.expander = EnglishExpander(lexical.vocab)
        # ask() needs a question's translations twice (dense search text, lexical query): expand it once
        self._expand = lru_cache(maxsize=1024)(lambda question: tuple(self.expander.expand(question)))
        self._bridge = lru_cache(maxsize=1024)(lambda question: tuple(
            t for name in self.expander.glossary.bridge(question) for t in tokenize(name) if t in lexical.vocab))
        self.word_bridge = word_bridge
        self._near_words = lru_cache(maxsize=1024)(self._bridge_words)

    def translations(self, question: str) -> list[str]:
        """Chinese words translating a mostly-English question's terms (empty otherwise)."""
        if not mostly_english(question):
            return []
        return [t for t in self._expand(question) if not t.startswith("#")]

    def best_dense(self, qvec: np.ndarray, topic: str | None = None) -> float:
        """The best dense cosine over the (topic-filtered) corpus."""
        mask = self.chunk_mask(topic)
        dense, _ = self.dense_scores(qvec, mask, topic)
        eligible = dense if mask is None else dense[mask]
        return float(eligible.max()) if len(eligible) else -1.0

    def lexical_query(self, question: str) -> tuple[list[str], float]:
        """The question's lexical tokens (plus Chinese translations when it is in English) and the weight of the
        lexical ranking in the fusion."""
        tokens = tokenize(question)
        if mostly_english(question):
            extra = list(self._expand(question))
            if extra:
                return tokens + extra, self.weights[1] * ENGLISH_LEXICAL_WEIGHT
            return tokens, self.weights[1]
        return tokens + list(self._bridge(question)) + list(self._near_words(tuple(tokens))), self.weights[1]

    def _bridge_words(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Corpus words nearest in meaning to the question's words that the corpus never uses (kb/wordbridge.py)."""
        if self.word_bridge is None:
            return ()
        return tuple(w for w in self.word_bridge.bridge(self.word_bridge.unknown(tokens, self.lexical.vocab))
                     if w in self.lexical.vocab)

    def chunk_mask(self, topic: str | None) -> np.ndarray | None:
        return None if topic is None else (self._topic_of == topic)

    def dense_scores(self, qvec: np.ndarray, mask: np.ndarray | None,
                     topic: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per chunk: best cosine over its vectors, and the cosine with its FAQ-question vector."""
        n = len(self.data.chunks)
        best = np.full(n, -1.0, dtype=np.float32)
        question = np.zeros(n, dtype=np.float32)
        rows = None if mask is None else np.flatnonzero(mask[self.data.row_chunk])
        if rows is not None and len(rows) == 0:
            return best, question
        k = min(len(self.data.vectors), max(self.depth * 2, 10))
        scores, ids = self.data.vectors.search(qvec, k, rows, topic=topic)
        for s, r in zip(scores[0], ids[0]):
            if r < 0:
                continue
            pos = int(self.data.row_chunk[r])
            best[pos] = max(best[pos], s)
            if self.data.row_kind[r] == "question":
                question[pos] = max(question[pos], s)
        return best, question

    def rerank_features(self, tokens: list[str], head: list[int], dense_rank: list[int], lex_rank: list[int],
                        lex: np.ndarray, lex_weight: float) -> np.ndarray:
        """One row per chunk of head, one column per RANK_FEATURES entry, in units of one first-place RRF vote."""
        k1 = self.rrf_k + 1
        words, bigrams = self.lexical.coverage(tokens, head)
        d_at = {p: r for r, p in enumerate(dense_rank)}
        l_at = {p: r for r, p in enumerate(lex_rank)}
        lex_best = max(float(lex.max()), 1e-9) if len(lex) else 1.0
        idf = {t: self.lexical.idf(t) for t in dict.fromkeys(tokens) if not t.startswith("#")}
        idf_total = sum(idf.values()) or 1.0
        rows = np.zeros((len(head), len(RANK_FEATURES)))
        for i, (p, cw, cb) in enumerate(zip(head, words, bigrams)):
            rd, rl = d_at.get(p), l_at.get(p)
            rows[i] = (
                self.weights[0] * k1 / (k1 + rd) if rd is not None else 0.0,
                lex_weight * k1 / (k1 + rl) if rl is not None else 0.0,
                cw, cb,
                1.0 / (1 + rd) if rd is not None else 0.0,
                float(lex[p]) / lex_best,
                float(self._is_parent[p]), float(self._is_summary[p]),
                sum(v for t, v in idf.items() if t in self._title_words[p]) / idf_total,
                float(self._hub[p]))
        return rows

    def rerank(self, tokens: list[str], order: list[int], fused: dict[int, float], dense_rank: list[int],
               lex_rank: list[int], lex: np.ndarray, lex_weight: float) -> tuple[list[int], dict[int, float]]:
        """Re-score the head of the fused ranking with the linear model of RANK_WEIGHTS."""
        head = order[:RERANK_DEPTH]
        features = self.rerank_features(tokens, head, dense_rank, lex_rank, lex, lex_weight)
        weights = np.array([RANK_WEIGHTS[name] for name in RANK_FEATURES])
        scores = dict(fused)
        for p, value in zip(head, features @ weights / (self.rrf_k + 1)):
            scores[p] = float(value)
        head = sorted(head, key=lambda p: -scores[p])
        return head + order[RERANK_DEPTH:], scores

    def first_stage(self, question: str, qvec: np.ndarray, topic: str | None = None) -> FirstStage:
        """Dense and BM25 scores of every chunk and the two rankings that are fused (the first stage of retrieve)."""
        mask = self.chunk_mask(topic)
        dense, qscore = self.dense_scores(qvec, mask, topic)
        tokens, lex_weight = self.lexical_query(question)
        lex = self.lexical.scores(tokens, None if mask is None else mask.astype(np.float32))
        eligible = np.ones(len(dense), bool) if mask is None else mask
        dense_rank = [int(i) for i in np.argsort(-dense) if dense[i] > -1 and eligible[i]][: self.depth]
        lex_rank = [int(i) for i in np.argsort(-lex) if lex[i] > 0 and eligible[i]][: self.depth]
        return FirstStage(dense, qscore, tokens, lex_weight, lex, eligible, dense_rank, lex_rank)

    def fuse(self, first: FirstStage) -> dict[int, float]:
        """Reciprocal-rank fusion of the dense and BM25 rankings."""
        return rrf_fuse([first.dense_rank, first.lex_rank], (self.weights[0], first.lex_weight), self.rrf_k)

    def retrieve(self, question: str, qvec: np.ndarray, k: int = 10, topic: str | None = None,
                 mode: str = "hybrid") -> Retrieval:
        """The top-k chunks for the question; mode is 'hybrid', 'dense' or 'lexical' (for measurement)."""
        first = self.first_stage(question, qvec, topic)
        dense, qscore, tokens, lex_weight, lex = first.dense, first.question, first.tokens, first.lex_weight, first.lex
        eligible, dense_rank, lex_rank = first.eligible, first.dense_rank, first.lex_rank
        if mode == "dense":
            fused = {p: 1.0 / (self.rrf_k + r + 1) for r, p in enumerate(dense_rank)}
        elif mode == "lexical":
            fused = {p: 1.0 / (self.rrf_k + r + 1) for r, p in enumerate(lex_rank)}
        elif self.fusion == "convex":
            fused = convex_fuse(dense, lex, dense_rank, lex_rank, self.alpha)
        else:
            fused = self.fuse(first)
        order = sorted(fused, key=lambda p: (-fused[p], -dense[p]))
        if mode == "hybrid" and self.fusion == "rrf" and order:
            order, fused = self.rerank(tokens, order, fused, dense_rank, lex_rank, lex, lex_weight)
        # Pad with the remaining eligible chunks by dense score so a result always has k sources.
        if len(order) < k:
            extra = [int(i) for i in np.argsort(-dense) if eligible[i] and int(i) not in fused]
            order += extra[: k - len(order)]
        ranked = collapse_twins(order, self.data.chunks)

        def hit(p: int) -> Hit:
            return Hit(self.data.chunks[p], p, float(fused.get(p, 0.0)), float(dense[p]), float(qscore[p]), float(lex[p]))

        hits = [hit(p) for p in defer_covered(ranked, self._parent_of)[:k]]
        # The topic vote reads the ranking as if there were no parent chunks: a parent's own vote is that of a
        # broader section, which cost 5 questions' topics and gained none over the seven question sets.
        neighbours = [hit(p) for p in ranked if self.data.chunks[p].kind != "parent"][:k] if self._parent_of else hits
        dense_top = float(dense[eligible].max()) if eligible.any() else -1.0
        lex_top = float(lex.max()) if len(lex) else 0.0
        near = 0 if mostly_english(question) else len(self._near_words(tuple(tokenize(question))))
        agree = bool(dense_rank) and bool(lex_rank) and dense_rank[0] == lex_rank[0]
        return Retrieval(hits, dense_top, lex_top, tokens, neighbours, near, agree)
