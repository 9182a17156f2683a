"""Second stage: the head of the fused ranking re-scored by a linear model over what each chunk has for the question.

Features (one column each, in units of one first-place RRF vote; weights per embedder in kb/data/calibration/):
  dense_rrf, lexical_rrf  the two RRF terms (the lexical one already carries the English-question weight)
  coverage_words/bigrams  IDF-weighted share of the question's distinct words / CJK bigrams in the chunk
  dense_top               1 / dense rank: RRF's k flattens the top of the dense ranking, this restores it
  bm25                    the BM25 score over the best BM25 score: how far ahead of the rest, not just the rank
  parent                  a whole section (it holds all of its sub-sections' text)
  summary                 a summary section: it restates its siblings; the content is in them
  title                   IDF-weighted share of the question's words in the chunk's headings
  hub                     how close the chunk sits to questions in general (ingest/hubness.py), scaled to 0..1
Refit with python -m benchmarks.fit_rerank (docs/quality.md, Re-ranking).
A passage that is a list of questions (a book's exercises, a table of contents of an FAQ) asks, and one that is a
list of references (a bibliography, further reading) cites; neither answers: such a passage is never first while the
head has a passage that is neither.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from kb.core.schema import Chunk
from kb.core.textnorm import FENCED, readable_text, tokenize
from kb.retrieval.lexical import LexicalIndex

RANK_FEATURES = ("dense_rrf", "lexical_rrf", "coverage_words", "coverage_bigrams", "dense_top", "bm25", "parent",
                 "summary", "title", "hub")
_SUMMARY_TITLE = re.compile(r"^[*\s]*(?:總結|总结|小結|小结|結論|结论|結語|结语)[*\s:：]*$")

_ITEM = re.compile(r"^[ \t]*(?:\d+[.、)]|[-*•+])[ \t]+(.+)$", re.M)
_ASKS = re.compile(r"[？?]")
_REFERENCE = re.compile(r"^[ \t]*(?:\[\d+\]|\d+[.、)]|[-*•+])[ \t]+(.+)$", re.M)  # a list item or a numbered reference [3]
# what a reference has and prose seldom does: a link, an arXiv or DOI identifier, or a year as a bibliography writes it
_CITES = re.compile(r"https?://|\barxiv\b|\bdoi\b|\(\s*(?:19|20)\d\d[a-z]?\s*\)|(?<![\d.])(?:19|20)\d\d\.(?!\d)", re.I)
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LETTER = re.compile(r"[A-Za-z]")
CITATION_CJK = 0.3  # largest share of Chinese characters in an item that only cites (the rest explains in Chinese)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK_LINE = re.compile(r"^[ \t]*(?:!?\[[^\]\n]*\]\([^)\n]*\)[ \t]*)+$")  # a line that is only links (a forum link)
LIST_ITEMS = 2  # items a passage needs to count as a list
LIST_SHARE = 0.5  # share of its items that ask, and share of its text that is items


def is_question_list(text: str) -> bool:
    """The passage is mostly a list whose items mostly ask questions (exercises, an FAQ's table of contents)."""
    if not _ASKS.search(text) or len(_ITEM.findall(text)) < LIST_ITEMS:  # most passages: no need to read them closer
        return False
    prose = _INLINE_CODE.sub("", readable_text(FENCED.sub("", text)))
    items = _ITEM.findall(prose)
    if len(items) < LIST_ITEMS:
        return False
    asking = sum(bool(_ASKS.search(item)) for item in items)
    body = sum(len(line) for line in prose.splitlines()
               if line.strip() and not line.lstrip().startswith("#") and not _LINK_LINE.match(line))
    return asking >= LIST_SHARE * len(items) and sum(map(len, items)) >= LIST_SHARE * max(body, 1)


def _cites(item: str) -> bool:
    """The list item is a reference: it cites, and says little in Chinese beside its link."""
    words = _URL.sub("", item)
    cjk, latin = len(_CJK.findall(words)), len(_LETTER.findall(words))
    return bool(_CITES.search(item)) and cjk <= CITATION_CJK * max(cjk + latin, 1)


def is_reference_list(text: str) -> bool:
    """The passage is mostly a list whose items mostly cite (a bibliography, a further-reading list); sizes leave
    URLs out, which would make a few links look like most of a passage."""
    if not _CITES.search(text) or len(_REFERENCE.findall(text)) < LIST_ITEMS:
        return False
    prose = readable_text(FENCED.sub("", text))
    items = _REFERENCE.findall(prose)
    if len(items) < LIST_ITEMS:
        return False
    body = sum(len(_URL.sub("", line)) for line in prose.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    listed = sum(len(_URL.sub("", item)) for item in items)
    return sum(map(_cites, items)) >= LIST_SHARE * len(items) and listed >= LIST_SHARE * max(body, 1)


def is_summary(chunk: Chunk) -> bool:
    """A section headed just "summary" (总结, 小结, 结论...): it restates its siblings."""
    return bool(chunk.title_path) and bool(_SUMMARY_TITLE.match(chunk.title_path[-1]))


def scaled(values: Sequence[float]) -> np.ndarray:
    """Values mapped linearly onto 0..1 (all 0 when they are all equal)."""
    v = np.asarray(values, dtype=np.float64)
    span = float(v.max() - v.min()) if len(v) else 0.0
    return (v - v.min()) / span if span > 0 else np.zeros(len(v))


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
    words: dict[str, frozenset[str]] = {}  # the chunks of one section share its headings: segment them once

    def of(heading: str) -> frozenset[str]:
        if heading not in words:
            words[heading] = frozenset(t for t in tokenize(heading) if not t.startswith("#"))
        return words[heading]

    return [of(" ".join(c.title_path[len(shared[c.source]):])) for c in chunks]


class Reranker:
    """The linear re-scoring model over one build's chunks (weights from the embedder's calibration)."""

    def __init__(self, chunks: Sequence[Chunk], lexical: LexicalIndex, weights: dict[str, float], depth: int,
                 rrf_k: int) -> None:
        self.lexical = lexical
        self.weights = np.array([weights[name] for name in RANK_FEATURES])
        self.depth = depth
        self.rrf_k = rrf_k
        self._is_parent = np.array([c.kind == "parent" for c in chunks], dtype=bool)
        self._is_summary = np.array([is_summary(c) for c in chunks], dtype=bool)
        self._title_words = heading_words(chunks)
        self._hub = scaled([float(c.meta.get("hub", 0.0)) for c in chunks])
        self._lists = np.array([is_question_list(c.text) or is_reference_list(c.text) for c in chunks], dtype=bool)

    def features(self, tokens: list[str], head: list[int], dense_rank: list[int], lex_rank: list[int],
                 lex: np.ndarray, weights: tuple[float, float]) -> np.ndarray:
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
                weights[0] * k1 / (k1 + rd) if rd is not None else 0.0,
                weights[1] * k1 / (k1 + rl) if rl is not None else 0.0,
                cw, cb,
                1.0 / (1 + rd) if rd is not None else 0.0,
                float(lex[p]) / lex_best,
                float(self._is_parent[p]), float(self._is_summary[p]),
                sum(v for t, v in idf.items() if t in self._title_words[p]) / idf_total,
                float(self._hub[p]))
        return rows

    def rerank(self, tokens: list[str], order: list[int], fused: dict[int, float], dense_rank: list[int],
               lex_rank: list[int], lex: np.ndarray, weights: tuple[float, float]) -> tuple[list[int], dict[int, float]]:
        """Re-score the head of the fused ranking; the tail keeps its fused order and scores."""
        head = order[:self.depth]
        features = self.features(tokens, head, dense_rank, lex_rank, lex, weights)
        scores = dict(fused)
        for p, value in zip(head, features @ self.weights / (self.rrf_k + 1)):
            scores[p] = float(value)
        head = sorted(head, key=lambda p: -scores[p])
        answering = next((p for p in head if not self._lists[p]), None)
        if self._lists[head[0]] and answering is not None:  # the first passage is the answer: not one that asks or cites
            scores[answering] = scores[head[0]] + 1e-6
            head.remove(answering)
            head.insert(0, answering)
        return head + order[self.depth:], scores
