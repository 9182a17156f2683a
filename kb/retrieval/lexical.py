"""BM25 over jieba tokens of the Simplified-folded text (bm25s: sparse matrices, fast at a million chunks)."""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from kb.core.textnorm import tokenize


class LexicalIndex:
    def __init__(self, corpus_tokens: Sequence[Sequence[str]]) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._n = len(corpus_tokens)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] or [vocab.setdefault("", len(vocab))] for doc in corpus_tokens]
        self._vocab = vocab
        self._bm25.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
        # bm25s keeps a token-by-document CSC matrix: column t lists the chunks containing token t.
        matrix = self._bm25.scores
        self._indptr, self._postings = matrix["indptr"], matrix["indices"]
        df = np.diff(self._indptr).astype(np.float64)
        self._idf = np.log1p((self._n - df + 0.5) / (df + 0.5))
        self._postings_sorted = _sorted_columns(self._indptr, self._postings)

    def __len__(self) -> int:
        return self._n

    @property
    def vocab(self) -> dict[str, int]:
        return self._vocab

    def scores(self, query: str | list[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros when no query word is in the corpus)."""
        tokens = tokenize(query) if isinstance(query, str) else query
        known = [t for t in tokens if t in self._vocab and t]
        if not known or self._n == 0:
            return np.zeros(self._n, dtype=np.float32)
        scores = self._bm25.get_scores(known)
        return scores * mask if mask is not None else scores

    def coverage(self, query: str | list[str], chunks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """For each given chunk: the IDF-weighted share of the query's distinct words, and of its CJK
        bigrams, that the chunk contains. Unlike BM25 this saturates at one occurrence, so it rewards a
        chunk that covers all of a question's concepts over one that repeats a single word."""
        tokens = tokenize(query) if isinstance(query, str) else query
        cand = np.asarray(chunks, dtype=np.int64)
        got = np.zeros((2, len(cand)))
        total = np.zeros(2)
        for tok in dict.fromkeys(tokens):
            tid = self._vocab.get(tok) if tok else None
            if tid is None:
                continue
            kind = int(tok.startswith("#"))
            total[kind] += self._idf[tid]
            docs = self._postings[self._indptr[tid]:self._indptr[tid + 1]]
            if len(docs) and len(cand):
                if self._postings_sorted:
                    present = docs[np.minimum(np.searchsorted(docs, cand), len(docs) - 1)] == cand
                else:
                    present = np.isin(cand, docs)
                got[kind, present] += self._idf[tid]
        share = got / np.maximum(total, 1e-12)[:, None]
        return share[0], share[1]

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0 for one the corpus lacks)."""
        tid = self._vocab.get(token) if token else None
        return 0.0 if tid is None else float(self._idf[tid])

    def chunks_with(self, token: str) -> np.ndarray:
        """Positions of the chunks that contain the token (ascending when the postings are sorted)."""
        tid = self._vocab.get(token) if token else None
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self._postings[self._indptr[tid]:self._indptr[tid + 1]], dtype=np.int64)

    def chunks_with_all(self, tokens: Sequence[str]) -> np.ndarray:
        """Positions of the chunks that contain every one of the tokens (empty if any token is unknown)."""
        found: np.ndarray | None = None
        for tok in dict.fromkeys(tokens):
            if tok not in self._vocab:
                return np.zeros(0, dtype=np.int64)
            docs = self.chunks_with(tok)
            found = docs if found is None else np.intersect1d(found, docs)
            if len(found) == 0:
                break
        return np.zeros(0, dtype=np.int64) if found is None else np.asarray(found, dtype=np.int64)


def _sorted_columns(indptr: np.ndarray, postings: np.ndarray) -> bool:
    """True when every column's document ids ascend (then membership is a binary search)."""
    if len(postings) < 2:
        return True
    rising = np.diff(postings) > 0
    starts = indptr[1:-1] - 1  # positions where a new column begins (diff across a column boundary)
    starts = starts[(starts >= 0) & (starts < len(rising))]
    rising[starts] = True
    return bool(rising.all())
