"""Bridge question words the corpus never uses to corpus words of the same meaning, found with the embedder.

A Taiwanese 醫院 or 推論 or 效能 has no lexical match in a corpus that says 医疗, 推理, 效率, so BM25 and the coverage
re-ranking lose that part of the question. The glossary bridge (kb/crosslingual.py) covers listed terms; this
covers the rest. At ingest every Chinese word of the corpus vocabulary is embedded (query mode, like a question);
at query time each Chinese word of the question that is not in the vocabulary is embedded and its nearest corpus
words are added to the lexical query.

Nearness is CSLS (cross-domain similarity local scaling, Conneau et al. 2018, "Word translation without parallel
data"): 2·cos(x, y) − r(x) − r(y), where r is a word's mean cosine to its K nearest corpus words. Raw cosine
between short words is high for everything in e5 (0.88–0.92 for unrelated pairs) and favours "hub" words that
are near everything (领域, 方式); CSLS subtracts each side's neighbourhood density (docs/quality.md, Word bridge).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from kb.core.textnorm import _jieba

NEIGHBOURS = 10  # K in r(x): neighbourhood size for the density correction
PER_WORD = 2  # corpus words added per unknown question word
CANDIDATES = 30  # nearest words by cosine that CSLS re-orders
CACHED_WORDS = 4096  # vectors of recently seen unknown words kept, so a recurring word is embedded once
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
# jieba part-of-speech classes of words that name no subject (numerals, pronouns, adverbs, particles...):
# bridging them only adds noise (docs/quality.md, Word bridge).
FUNCTION_TAGS = ("m", "q", "r", "d", "t", "f", "u", "p", "c", "y", "e", "o", "x", "z")


@lru_cache(maxsize=1)
def _word_tags() -> dict[str, str]:
    """jieba's dictionary word -> part-of-speech tag (loading it takes about 0.6 s, once)."""
    _jieba()
    import jieba.posseg

    return jieba.posseg.dt.word_tag_tab


def is_function_word(word: str) -> bool:
    return _word_tags().get(word, "").startswith(FUNCTION_TAGS)


def is_bridge_word(token: str) -> bool:
    """A lexical token the bridge works with: a Chinese word of two or more characters (not a #bigram)."""
    return bool(_CJK_WORD.fullmatch(token))


def vocabulary(token_lists: Sequence[Sequence[str]]) -> list[str]:
    """The corpus's Chinese words, in first-seen order."""
    return list(dict.fromkeys(t for tokens in token_lists for t in tokens if is_bridge_word(t)))


def hubness(vectors: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """r(y) for every vocabulary word: the mean cosine to its k nearest other vocabulary words."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n < 2:
        return np.zeros(n, np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    kk = min(k + 1, n)
    scores, ids = index.search(vectors, kk)
    scores = np.where(ids == np.arange(n)[:, None], -np.inf, scores)  # the word itself does not count
    nearest = -np.sort(-scores, axis=1)[:, : kk - 1]
    return nearest.mean(axis=1).astype(np.float32)


class WordBridge:
    """Nearest corpus words (by CSLS) for question words outside the corpus vocabulary."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, hub: np.ndarray,
                 embed: Callable[[list[str]], np.ndarray], threshold: float, max_words: int = 2) -> None:
        import faiss

        self.words = list(words)
        self._known = set(self.words)
        self._hub = np.asarray(hub, np.float32)
        self._embed = embed
        self.threshold = threshold
        self.max_words = max_words  # unknown words bridged per question: each costs an embedding
        self._index = faiss.IndexFlatIP(vectors.shape[1]) if len(self.words) else None
        if self._index is not None:
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        _word_tags()  # at load, not on the first question

    def _vectors(self, words: list[str]) -> np.ndarray:
        """Query-mode vectors of the words, embedding only those not seen recently."""
        with self._lock:
            missing = [w for w in words if w not in self._cache]
        fresh = dict(zip(missing, self._embed(missing))) if missing else {}
        with self._lock:
            for w, v in fresh.items():
                self._cache[w] = v
            for w in words:
                if w in self._cache:
                    self._cache.move_to_end(w)
            out = np.vstack([fresh[w] if w in fresh else self._cache[w] for w in words])
            while len(self._cache) > CACHED_WORDS:
                self._cache.popitem(last=False)
        return np.ascontiguousarray(out, dtype=np.float32)

    def not_cached(self, words: Sequence[str]) -> list[str]:
        """Those of the words (the first max_words, as bridge() takes them) whose vectors bridge() would embed."""
        with self._lock:
            return [w for w in list(words)[:self.max_words] if w not in self._cache]

    def remember(self, words: Sequence[str], vectors: np.ndarray) -> None:
        """Keep vectors of words embedded elsewhere (with the question, in one engine call), so bridge() skips them."""
        with self._lock:
            for w, v in zip(words, vectors):
                self._cache[w] = v
            while len(self._cache) > CACHED_WORDS:
                self._cache.popitem(last=False)

    def unknown(self, tokens: Sequence[str], vocab: dict[str, int] | set[str]) -> list[str]:
        """The question's Chinese content words that neither the lexical index nor the bridge vocabulary knows."""
        return [t for t in dict.fromkeys(tokens)
                if is_bridge_word(t) and t not in vocab and t not in self._known and not is_function_word(t)]

    def bridge(self, words: Sequence[str]) -> list[str]:
        """Corpus words of the same meaning as these words (at most PER_WORD each, best first)."""
        words = list(words)[:self.max_words]
        if not words or self._index is None:
            return []
        k = min(CANDIDATES, len(self.words))
        scores, ids = self._index.search(self._vectors(words), k)
        out: list[str] = []
        for row_scores, row_ids in zip(scores, ids):
            r_x = float(row_scores[:NEIGHBOURS].mean())
            csls = 2 * row_scores - r_x - self._hub[row_ids]
            order = np.argsort(-csls)[:PER_WORD]
            out += [self.words[row_ids[i]] for i in order if csls[i] >= self.threshold]
        return list(dict.fromkeys(out))
