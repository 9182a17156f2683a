"""Hybrid retrieval: dense (FAISS, passages and FAQ questions) plus BM25, fused by reciprocal rank, head re-ranked."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

import numpy as np

from kb.core.calibration import Calibration
from kb.core.index import IndexData
from kb.core.schema import Chunk
from kb.core.textnorm import mostly_english, tokenize
from kb.retrieval.crosslingual import EnglishExpander
from kb.retrieval.dense import dense_scores
from kb.retrieval.fusion import collapse_twins, defer_covered, parents_of, rrf_fuse
from kb.retrieval.lexical import LexicalIndex
from kb.retrieval.rerank import Reranker
from kb.retrieval.wordbridge import WordBridge

DEPTH = 100  # candidates taken from each ranking before fusing
HEAD = 10  # best dense scores reported with a retrieval


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
    dense_head: list[float] = field(default_factory=list)  # the best dense cosines, best first
    more: list[Hit] = field(default_factory=list)  # up to k hits after the k, for sources when some show others

    @property
    def vote_tokens(self) -> list[str]:
        """The lexical query without the word bridge's additions, for the taxonomy-example vote (docs/quality.md)."""
        return self.tokens[:len(self.tokens) - self.near_words]


def best_positions(scores: np.ndarray, keep: np.ndarray, depth: int) -> list[int]:
    """Positions where keep holds, highest score first (ties in position order), at most depth of them, without a
    Python loop or a full sort over the corpus."""
    candidates = np.flatnonzero(keep)
    if len(candidates) > depth:  # only the depth best can be ranked: a partition finds them without a full sort
        cut = len(candidates) - depth
        candidates = candidates[scores[candidates] >= np.partition(scores[candidates], cut)[cut]]
    return candidates[np.argsort(-scores[candidates], kind="stable")][:depth].tolist()


class Retriever:
    """Dense + lexical retrieval over one loaded build."""

    def __init__(self, data: IndexData, lexical: LexicalIndex, calibration: Calibration, rrf_k: int = 60,
                 word_bridge: WordBridge | None = None) -> None:
        self.data = data
        self.lexical = lexical
        self.rrf_k = rrf_k
        tuned = calibration["retrieval"]
        self.english_lexical_weight = float(tuned["english_lexical_weight"])
        self.reranker = Reranker(data.chunks, lexical, tuned["rerank_weights"], int(tuned["rerank_depth"]), rrf_k)
        self._topic_of = np.array([c.topic for c in data.chunks])
        self.parent_of = parents_of(data.chunks)
        self.expander = EnglishExpander(lexical.vocab)
        # ask() needs a question's translations twice (dense search text, lexical query): expand it once
        self._expand = lru_cache(maxsize=1024)(lambda question: tuple(self.expander.expand(question)))
        self._bridge = lru_cache(maxsize=1024)(lambda question: tuple(
            t for name in self.expander.glossary.bridge(question) for t in tokenize(name) if t in lexical.vocab))
        self.word_bridge = word_bridge
        self._tokens = lru_cache(maxsize=1024)(lambda question: tuple(tokenize(question)))  # segmented once per question
        self._near_words = lru_cache(maxsize=1024)(self._bridge_words)

    def translations(self, question: str) -> list[str]:
        """Chinese words translating a mostly-English question's terms (empty otherwise)."""
        if not mostly_english(question):
            return []
        return [t for t in self._expand(question) if not t.startswith("#")]

    def dense_head(self, qvec: np.ndarray, topic: str | None = None, n: int = HEAD) -> list[float]:
        """The n best dense cosines over the (topic-filtered) corpus, best first."""
        mask = self.chunk_mask(topic)
        dense, _ = dense_scores(self.data, qvec, mask, DEPTH, topic)
        eligible = dense if mask is None else dense[mask]
        return [float(s) for s in np.sort(eligible[eligible > -1])[::-1][:n]]

    def lexical_query(self, question: str) -> tuple[list[str], float]:
        """The question's lexical tokens (plus Chinese translations when it is in English) and the weight of the
        lexical ranking in the fusion."""
        tokens = list(self._tokens(question))
        if mostly_english(question):
            extra = list(self._expand(question))
            return (tokens + extra, self.english_lexical_weight) if extra else (tokens, 1.0)
        return tokens + list(self._bridge(question)) + list(self._near_words(self._tokens(question))), 1.0

    def words_to_embed(self, question: str) -> list[str]:
        """The question's words whose vectors the word bridge will need and does not have (none for English)."""
        if self.word_bridge is None or mostly_english(question):
            return []
        return self.word_bridge.not_cached(self.word_bridge.unknown(self._tokens(question), self.lexical.vocab))

    def remember_words(self, words: list[str], vectors: np.ndarray) -> None:
        if self.word_bridge is not None:
            self.word_bridge.remember(words, vectors)

    def _bridge_words(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Corpus words nearest in meaning to the question's words that the corpus never uses (wordbridge.py)."""
        if self.word_bridge is None:
            return ()
        return tuple(w for w in self.word_bridge.bridge(self.word_bridge.unknown(tokens, self.lexical.vocab))
                     if w in self.lexical.vocab)

    def chunk_mask(self, topic: str | None) -> np.ndarray | None:
        return None if topic is None else (self._topic_of == topic)

    def first_stage(self, question: str, qvec: np.ndarray, topic: str | None = None) -> FirstStage:
        """Dense and BM25 scores of every chunk and the two rankings that are fused (the first stage of retrieve)."""
        mask = self.chunk_mask(topic)
        dense, qscore = dense_scores(self.data, qvec, mask, DEPTH, topic)
        tokens, lex_weight = self.lexical_query(question)
        lex = self.lexical.scores(tokens, None if mask is None else mask.astype(np.float32))
        eligible = np.ones(len(dense), bool) if mask is None else mask
        dense_rank = best_positions(dense, (dense > -1) & eligible, DEPTH)
        lex_rank = best_positions(lex, (lex > 0) & eligible, DEPTH)
        return FirstStage(dense, qscore, tokens, lex_weight, lex, eligible, dense_rank, lex_rank)

    def fuse(self, first: FirstStage) -> dict[int, float]:
        """Reciprocal-rank fusion of the dense and BM25 rankings."""
        return rrf_fuse([first.dense_rank, first.lex_rank], (1.0, first.lex_weight), self.rrf_k)

    def rerank(self, first: FirstStage, fused: dict[int, float]) -> tuple[list[int], dict[int, float]]:
        """The fused order with its head re-scored (rerank.py)."""
        order = sorted(fused, key=lambda p: (-fused[p], -first.dense[p]))
        if not order:
            return order, fused
        return self.reranker.rerank(first.tokens, order, fused, first.dense_rank, first.lex_rank, first.lex,
                                    (1.0, first.lex_weight))

    def retrieve(self, question: str, qvec: np.ndarray, k: int = 10, topic: str | None = None,
                 mode: str = "hybrid") -> Retrieval:
        """The top-k chunks for the question; mode is 'hybrid', 'dense' or 'lexical' (for measurement)."""
        first = self.first_stage(question, qvec, topic)
        dense, lex, eligible = first.dense, first.lex, first.eligible
        if mode == "hybrid":
            order, fused = self.rerank(first, self.fuse(first))
        else:
            single = first.dense_rank if mode == "dense" else first.lex_rank
            fused = {p: 1.0 / (self.rrf_k + r + 1) for r, p in enumerate(single)}
            order = list(single)
        # Pad with the remaining eligible chunks by dense score so a result always has k sources.
        if len(order) < k:
            unranked = eligible.copy()
            unranked[list(fused)] = False
            order += best_positions(dense, unranked, k - len(order))
        ranked = collapse_twins(order, self.data.chunks)

        def hit(p: int) -> Hit:
            return Hit(self.data.chunks[p], p, float(fused.get(p, 0.0)), float(dense[p]), float(first.question[p]),
                       float(lex[p]))

        hits = [hit(p) for p in defer_covered(ranked, self.parent_of)[:2 * k]]
        hits, more = hits[:k], hits[k:]
        # The topic vote reads the ranking as if there were no parent chunks (a parent votes as a broader section).
        neighbours = ([hit(p) for p in islice((p for p in ranked if self.data.chunks[p].kind != "parent"), k)]
                      if self.parent_of else hits)
        dense_top = float(dense[eligible].max()) if eligible.any() else -1.0
        lex_top = float(lex.max()) if len(lex) else 0.0
        near = 0 if mostly_english(question) else len(self._near_words(self._tokens(question)))
        agree = bool(first.dense_rank) and bool(first.lex_rank) and first.dense_rank[0] == first.lex_rank[0]
        head = [float(dense[p]) for p in first.dense_rank[:HEAD]]
        return Retrieval(hits, dense_top, lex_top, first.tokens, neighbours, near, agree, head, more)
