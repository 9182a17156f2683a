"""Suggested topic categories for a corpus: k-means over the chunks' passage vectors, each cluster named by its most
distinctive words (class-based TF-IDF over the chunks' lexical tokens), as a starting taxonomy a person edits.

Lives beside the topic vote (topics.py) so that the CLI, the page and the benchmark can all reach it
(tests/test_layers.py). docs/quality.md, Suggested categories, has the measurements.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from kb.core.errors import BadInput
from kb.core.index import IndexData
from kb.core.schema import Chunk
from kb.core.textnorm import matching_text, tokenize

NAME_TERMS = 3
TOP_TERMS = 8
EXAMPLES = 3
RESTARTS = 4  # k-means runs from different seeds; the tightest is kept
MAX_ITERATIONS = 100
_SENTENCE_END = re.compile(r"[。！？!?\n]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|https?://\S+")
_NOT_A_TERM = re.compile(r"^[\d\W_]+$|^.$")  # numbers, punctuation and single characters name nothing
_MARKUP = re.compile(r"https?://[^\s)\]>]+|\\[A-Za-z]+")  # link targets and LaTeX commands (https, pdf, text, frac)
# Words of citations and link text, and English function words, which the stop-word list (Chinese) leaves in
_CITATION = frozenset({"et", "al", "pdf", "arxiv", "doi", "introduces", "https", "http", "www", "org", "com",
                        "from", "the", "and", "of", "in", "for", "with"})
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMBERING = re.compile(r"^[\d.]+\s*")
COMMON_SHARE = 0.4  # a word in more of the chunks than this names no one cluster (模型 in a corpus about models)


@dataclass(frozen=True)
class SuggestedCategory:
    id: str
    name: str  # the first NAME_TERMS terms joined with 、
    terms: list[str]  # the cluster's most distinctive words, best first
    size: int  # chunks in the cluster
    examples: list[str]  # sentences from the chunks nearest the cluster's centre, usable as taxonomy examples
    chunk_ids: list[str]

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "terms": self.terms, "size": self.size, "examples": self.examples,
                "chunk_ids": self.chunk_ids}


def default_k(n: int) -> int:
    """A number of categories a person can review for n chunks: about sqrt(n/5), from 2 to 10."""
    return max(1, min(n, 10, max(2, round(math.sqrt(n / 5)))))


def suggest_categories(source: object, k: int | None = None, seed: int = 0) -> list[SuggestedCategory]:
    """Categories for a loaded knowledge base or its IndexData, largest first; k defaults to default_k."""
    data: IndexData = getattr(source, "data", source)
    positions, vectors = passage_vectors(data)
    if not positions:
        raise BadInput("the index has no chunks to suggest categories for; ingest a corpus first")
    k = default_k(len(positions)) if k is None else k
    if not isinstance(k, int) or not 1 <= k <= len(positions):
        raise BadInput(f"k must be a whole number from 1 to {len(positions)} (the corpus's chunks); got {k!r}")
    labels, centres = kmeans(vectors, k, seed)
    members = [np.flatnonzero(labels == c) for c in range(k)]
    words = [content_words(data.chunks[p], data.tokens[p]) for p in positions]
    terms = distinctive_terms([sum((words[i] for i in m), Counter()) for m in members], common_words(words))
    order = sorted((c for c in range(k) if len(members[c])), key=lambda c: (-len(members[c]), positions[members[c][0]]))
    return [_category(f"s{rank + 1:02d}", [data.chunks[positions[i]] for i in members[c]], terms[c],
                      vectors[members[c]] @ centres[c])
            for rank, c in enumerate(order)]


def _category(cid: str, chunks: list[Chunk], terms: list[str], closeness: np.ndarray) -> SuggestedCategory:
    nearest = [chunks[i] for i in np.argsort(-closeness, kind="stable")[:20]]
    examples: list[str] = []
    for candidate in [example_sentence(c) for c in nearest] + [c.title_path[-1] for c in nearest if c.title_path]:
        candidate = _NUMBERING.sub("", candidate)
        if candidate and candidate not in examples:
            examples.append(candidate)
        if len(examples) == EXAMPLES:
            break
    return SuggestedCategory(cid, "、".join(terms[:NAME_TERMS]), terms, len(chunks), examples, [c.id for c in chunks])


def passage_vectors(data: IndexData) -> tuple[list[int], np.ndarray]:
    """Chunk positions (parents left out: they repeat their sub-sections) and their passage vectors, in corpus order."""
    row_of = {int(chunk): row for row, (chunk, kind) in enumerate(zip(data.row_chunk, data.row_kind)) if kind == "passage"}
    positions = [i for i, c in enumerate(data.chunks) if c.kind != "parent" and i in row_of]
    if not hasattr(data.vectors, "vectors"):
        raise BadInput(f"the {type(data.vectors).__name__} store cannot hand back its vectors; build with --store faiss")
    vectors = np.asarray(data.vectors.vectors([row_of[i] for i in positions]), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return positions, vectors / np.maximum(norms, 1e-12)


def kmeans(vectors: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(labels, unit-length centres) of the tightest of RESTARTS k-means++ runs; the same seed gives the same result."""
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(RESTARTS):
        labels, centres, inertia = _lloyd(vectors, _kmeanspp(vectors, k, rng))
        if best is None or inertia < best[2] - 1e-9:
            best = (labels, centres, inertia)
    labels, centres, _ = best
    return labels, centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)


def _kmeanspp(vectors: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k starting centres, each drawn with probability proportional to its squared distance from those chosen."""
    centres = [vectors[rng.integers(len(vectors))]]
    dist = ((vectors - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = dist.sum()
        pick = rng.choice(len(vectors), p=dist / total) if total > 0 else rng.integers(len(vectors))
        centres.append(vectors[pick])
        dist = np.minimum(dist, ((vectors - vectors[pick]) ** 2).sum(axis=1))
    return np.array(centres)


def _lloyd(vectors: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    labels = np.full(len(vectors), -1)
    for _ in range(MAX_ITERATIONS):
        dist = (vectors ** 2).sum(axis=1)[:, None] - 2 * vectors @ centres.T + (centres ** 2).sum(axis=1)[None, :]
        new = dist.argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(len(centres)):
            if (labels == c).any():
                centres[c] = vectors[labels == c].mean(axis=0)
            else:  # an emptied cluster takes the point farthest from its centre
                far = int(dist[np.arange(len(vectors)), labels].argmax())
                centres[c], labels[far] = vectors[far], c
    inertia = float(((vectors - centres[labels]) ** 2).sum())
    return labels, centres, inertia


def content_words(chunk: Chunk, tokens: list[str]) -> Counter:
    """The chunk's words that can name a category, less those that come from link targets and LaTeX commands."""
    words = Counter(t for t in tokens if is_term(t))
    words.subtract(tokenize(" ".join(_MARKUP.findall(chunk.text))))
    return +words


def common_words(chunk_words: list[Counter]) -> set[str]:
    """Words found in more than COMMON_SHARE of the chunks."""
    df = Counter(t for words in chunk_words for t in words)
    return {t for t, n in df.items() if n > COMMON_SHARE * len(chunk_words)}


def distinctive_terms(cluster_words: list[Counter], skip: set[str] = frozenset(), top: int = TOP_TERMS) -> list[list[str]]:
    """Each cluster's top words by class-based TF-IDF; a word inside or around a better one is skipped."""
    overall = Counter()
    for c in cluster_words:
        overall.update(c)
    average = sum(overall.values()) / max(1, len(cluster_words))
    result = []
    for c in cluster_words:
        size = max(1, sum(c.values()))
        scores = {t: n / size * math.log(1 + average / overall[t]) for t, n in c.items() if t not in skip}
        chosen: list[str] = []
        for term in sorted(scores, key=lambda t: (-scores[t], t)):
            if not any(term in other or other in term for other in chosen):
                chosen.append(term)
            if len(chosen) == top:
                break
        result.append(chosen)
    return result


def is_term(token: str) -> bool:
    """A lexical token that can name a category: a word, not a character bigram, number or single character."""
    return not token.startswith("#") and not _NOT_A_TERM.match(token) and token not in _CITATION


def example_sentence(chunk: Chunk, max_chars: int = 80) -> str:
    """The chunk's first Chinese sentence (links reduced to their text, table rows skipped), or ""."""
    text = _LINK.sub(lambda m: m.group(1) or "", matching_text(chunk.text))
    for sentence in _SENTENCE_END.split(text):
        sentence = _NUMBERING.sub("", sentence.strip(" -*#>\t"))
        if len(sentence) >= 8 and "|" not in sentence and _CJK.search(sentence):
            return sentence[:max_chars]
    return ""
