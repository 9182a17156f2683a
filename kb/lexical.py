"""BM25 over jieba tokens of the Simplified-folded text (bm25s: sparse matrices, fast at a million chunks)."""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from .textnorm import tokenize


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

    def __len__(self) -> int:
        return self._n

    def scores(self, query: str | list[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros when no query word is in the corpus)."""
        tokens = tokenize(query) if isinstance(query, str) else query
        known = [t for t in tokens if t in self._vocab and t]
        if not known or self._n == 0:
            return np.zeros(self._n, dtype=np.float32)
        scores = self._bm25.get_scores(known)
        return scores * mask if mask is not None else scores
