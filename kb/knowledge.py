"""The knowledge base: load once, then ask, search, list topics and browse. The CLI, the page and the tests share it."""
from __future__ import annotations

import logging
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb.answering.answerability import Answerability, Decision, no_content, salient_terms
from kb.answering.compose import Composer
from kb.answering.corrections import FeedbackStore
from kb.answering.result import Answer, Source, error_answer
from kb.answering.topics import TopicVote, TopicVoter
from kb.core.calibration import Calibration, load_calibration
from kb.core.config import Settings, load_settings
from kb.core.embed import Embedder, get_embedder
from kb.core.errors import BadInput
from kb.core.index import PROBE, QUESTION, TAXONOMY, IndexData, load_index
from kb.core.schema import Chunk
from kb.core.textnorm import fold, mostly_english, normalize_space, strip_controls, to_simplified
from kb.retrieval.lexical import LexicalIndex
from kb.retrieval.retriever import Hit, Retrieval, Retriever
from kb.retrieval.wordbridge import WordBridge

log = logging.getLogger(__name__)

MIN_SOURCES = 5
DECISION_HITS = 10  # hits the answerability decision and the FAQ-first answer read, whatever k is asked for
NEAREST_KEPT = 4096  # concepts whose nearest chunk is remembered per build

__all__ = ["KnowledgeBase", "Answer", "Source", "clean_question", "error_answer"]


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

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings,
                 calibration: Calibration | None = None) -> None:
        self.data = data
        self.embedder = embedder
        self.settings = settings
        self.calibration = calibration or load_calibration(data.manifest["embedder"]["name"])
        self.lexical = LexicalIndex(data.tokens)
        bridge_at = self.calibration["retrieval"]["word_bridge_min_csls"]
        word_bridge = (WordBridge(data.words, data.word_vectors, data.word_hub, embedder.embed_queries, bridge_at,
                                  self.calibration["retrieval"]["word_bridge_max_words"])
                       if bridge_at is not None and data.words else None)
        self.retriever = Retriever(data, self.lexical, self.calibration, settings.rrf_k, word_bridge=word_bridge)
        self.topic_ids = [t for t, _ in data.topics]
        kinds = np.array(data.example_kinds)
        off, taxonomy, voting = kinds == PROBE, kinds == TAXONOMY, np.isin(kinds, (TAXONOMY, QUESTION))
        self.answerability = Answerability(self.lexical.vocab, [c.text for c in data.chunks], [frozenset(t) for t in data.tokens],
                                           data.example_vectors[off], [t for t, o in zip(data.example_texts, off) if o],
                                           self.calibration["answerability"], lru_cache(maxsize=4096)(self._synonyms),
                                           self.retriever.expander.glossary.named, self.lexical.chunks_with,
                                           data.example_vectors[taxonomy], self._nearest_chunk)
        labelled = bool(data.manifest.get("labels", {}).get("chunks", 0))
        # the vote's examples: the taxonomy's, and labelled questions (worded as users ask) of its topics
        self.voter = TopicVoter(self.topic_ids, data.example_vectors[voting],
                                [t for t, v in zip(data.example_topics, voting) if v],
                                [t for t, v in zip(data.example_texts, voting) if v],
                                self.calibration["topics"], labelled, settings.rrf_k, settings.uncertain_share)
        self.composer = Composer(data.chunks, float(self.calibration["answerability"]["faq_match"]))
        self._nearest: dict[str, int | None] = {}
        self._titles = {source: meta.get("title") or source for source, meta in data.files.items()}

    @classmethod
    def load(cls, settings: Settings | None = None, index_dir: Path | None = None) -> "KnowledgeBase":
        """Load the current build and its embedder; raises IndexNotFound/IndexMismatch/IndexCorrupt."""
        settings = (settings or load_settings()).replace(index_dir=index_dir)
        data = load_index(Path(settings.index_dir), settings.embedder)
        kb = cls(data, get_embedder(settings.embedder), settings)
        kb.apply_corrections()
        return kb

    @property
    def calibrated(self) -> bool:
        """Whether the embedder has a calibration file (else defaults: cosine-scale checks are off)."""
        return self.calibration.calibrated

    def apply_corrections(self) -> int:
        """Hand the user's topic corrections (kept beside the builds) to the vote; returns how many apply."""
        vectors, topics, texts = FeedbackStore.for_index(self.settings.index_dir).usable(
            self.topic_ids, self.data.example_vectors.shape[1])
        self.voter.set_extra_examples(vectors, topics, texts)
        return len(topics)

    # ---- questions -----------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_queries([to_simplified(text)])  # dense matching is in one script (see ingest)

    def search_vector(self, text: str, qvec: np.ndarray) -> np.ndarray:
        """The vector to search with: for a question in English, the question followed by the Chinese
        translations of its terms (e5-small matches across languages poorly); otherwise qvec itself."""
        words = self.retriever.translations(text)
        return self.embed_query(f"{text}（{'、'.join(words)}）") if words else qvec

    def embed_question(self, text: str, place_concepts: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The question's vector and the vector to search with (search_vector), from one engine call that also
        embeds the words the word bridge will look up and, for a decision (place_concepts), the concepts the corpus
        never names (their nearest passages): the engine has a fixed cost per call."""
        words = self.retriever.translations(text)
        texts = [to_simplified(text)] + ([to_simplified(f"{text}（{'、'.join(words)}）")] if words else [])
        bridged = self.retriever.words_to_embed(text)
        concepts = [c for c in self.answerability.concepts_to_place(text) if c not in self._nearest] if place_concepts else []
        asked = texts + bridged + [to_simplified(c) for c in concepts]
        unique = list(dict.fromkeys(asked))  # a bridged word can also be a concept to place: embed it once
        embedded = self.embedder.embed_queries(unique)
        vectors = embedded[[unique.index(t) for t in asked]]
        self.retriever.remember_words(bridged, vectors[len(texts):len(texts) + len(bridged)])
        for concept, vector in zip(concepts, vectors[len(texts) + len(bridged):]):
            self._nearest_chunk(concept, vector[None])
        return vectors[:1], vectors[len(texts) - 1:len(texts)]

    def retrieve(self, text: str, k: int, topic: str | None = None, mode: str = "hybrid") -> tuple[np.ndarray, Retrieval]:
        """The question's vector and its retrieval (mode 'dense' or 'lexical' for measurement)."""
        qvec, search = self.embed_question(text)
        return qvec, self.retriever.retrieve(text, search, k, topic, mode)

    def vote(self, qvec: np.ndarray, retrieval: Retrieval) -> TopicVote:
        return self.voter.vote(qvec, retrieval.neighbours, retrieval.vote_tokens)

    def ask(self, question: object, k: int | None = None, topic: str | None = None) -> Answer:
        """Answer one question from the corpus, or abstain; never raises for a bad question (error field)."""
        t0 = time.perf_counter()
        raw = question if isinstance(question, str) else str(question)
        try:
            text, warnings = clean_question(question, self.settings.max_question_chars)
            self._check_topic(topic)
        except BadInput as exc:
            return error_answer(raw, str(exc))
        if not salient_terms(text):
            decision = no_content()
            return Answer(question=raw, abstained=True, answer=decision.message, sources=[], warnings=warnings,
                          topic={"id": "", "name": "", "confidence": 0.0, "uncertain": True, "votes": {}},
                          abstain_reason=decision.reason, status=decision.status,
                          timing_ms=round((time.perf_counter() - t0) * 1000, 1))
        n = max(MIN_SOURCES, k or self.settings.top_k)
        qvec, retrieval, hits, decision = self.judge(text, n, topic)
        vote = self.vote(qvec, retrieval)
        answer, title, match, shown = (decision.message, "", "", []) if decision.abstained else self.composer.compose_shown(hits)
        result = Answer(question=raw, abstained=decision.abstained, answer=answer, title=title, match=match,
                        topic={"id": vote.id, "name": self.data.topic_name(vote.id), "confidence": vote.confidence,
                               "uncertain": vote.uncertain, "votes": vote.votes},
                        sources=self._passages(hits + retrieval.more, n, (self.composer.joined(shown), shown)),
                        warnings=warnings,
                        abstain_reason=decision.reason,
                        missing_terms=decision.missing_terms, status=decision.status)
        result.timing_ms = round((time.perf_counter() - t0) * 1000, 1)
        return result

    def judge(self, text: str, k: int, topic: str | None = None) -> tuple[np.ndarray, Retrieval, list[Hit], Decision]:
        """The question's vector, its retrieval (at least DECISION_HITS deep), the hits with a closely matching FAQ
        entry first, and the answerability decision. The decision and the answer read the first DECISION_HITS hits,
        so neither changes with the number of sources asked for (the fit script decides the same way)."""
        qvec, search = self.embed_question(text, place_concepts=True)
        retrieval = self.retriever.retrieve(text, search, max(k, DECISION_HITS), topic)
        hits = self.composer.faq_first(retrieval.hits[:DECISION_HITS]) + retrieval.hits[DECISION_HITS:]
        return qvec, retrieval, hits, self.assess(text, qvec, retrieval, hits[:DECISION_HITS], topic)

    def assess(self, text: str, qvec: np.ndarray, retrieval: Retrieval, hits: list[Hit] | None = None,
               topic: str | None = None) -> Decision:
        """The answerability decision for a retrieved question (kb/answering/answerability.py)."""
        hits = retrieval.hits if hits is None else hits
        # an English question is judged by its own vector, not the translation-augmented search vector
        head = self.retriever.dense_head(qvec, topic) if mostly_english(text) else retrieval.dense_head
        return self.answerability.decide(text, qvec, [h.position for h in hits], head, retrieval.agree,
                                         max((h.question for h in hits), default=0.0))

    def _nearest_chunk(self, term: str, vector: np.ndarray | None = None) -> int | None:
        """The position of the chunk whose passage or FAQ question is nearest in meaning to the term alone
        (remembered per term, within a bound: terms come from user input)."""
        known = self._nearest.get(term, -1)  # one lookup: another thread may clear the dict at any time
        if known != -1:
            return known
        _, rows = self.data.vectors.search(self.embed_query(term) if vector is None else vector, 1)
        nearest = int(self.data.row_chunk[rows[0][0]]) if rows.size and rows[0][0] >= 0 else None
        if len(self._nearest) >= NEAREST_KEPT:
            self._nearest.clear()
        self._nearest[term] = nearest
        return nearest

    def _synonyms(self, term: str) -> tuple[str, ...]:
        """Whole names of the term's concept in the corpus: translations of an English word, the glossary's other
        names; a passage covers the term only with all of one name, not with any one of its words (MoE is not
        covered by 模型). (The embedding word bridge is too loose for this: it maps 幻觉 to 触觉 as readily as 推論
        to 推理.)"""
        if term.isascii():
            return tuple(self.retriever.expander.translations(term))
        return tuple(fold(name) for name in self.retriever.expander.glossary.bridge(term))

    def _passages(self, hits: list[Hit], k: int, answered: tuple[str, list[int]] = ("", [])) -> list[Source]:
        """The first k hits as sources, each as the reader sees it (a lead-in with the sub-sections it announces);
        a hit an earlier source already shows is left out, and the next one takes its place. The first source of an
        answer holds the chunks the answer shows (answered: their text and positions), so its section is not listed twice."""
        sources: list[Source] = []
        shown: set[int] = set()
        for hit in hits:
            if len(sources) == k:
                break
            if hit.position in shown:
                continue
            if not sources and answered[1]:
                text, positions = answered
            else:
                text, positions = self.composer.passage(hit.position)
            shown.update(positions)
            sources.append(self._source(hit, text))
        return sources

    def _source(self, hit: Hit, text: str) -> Source:
        c = hit.chunk
        return Source(c.id, c.source, c.title, text, round(hit.score, 6), c.topic,
                      self.data.topic_name(c.topic), round(hit.dense, 4), round(hit.lexical, 3), self.source_title(c.source))

    def source_title(self, source: str) -> str:
        """A document's title for people: its first heading or front-matter title, else its file name."""
        return self._titles.get(source, source)

    def _check_topic(self, topic: str | None) -> None:
        if topic is not None and topic not in self.topic_ids:
            raise BadInput(f"unknown topic {topic!r}; known: {', '.join(self.topic_ids)}")

    # ---- search and browse -----------------------------------------------------
    def search(self, query: str, k: int = 10, topic: str | None = None) -> list[Source]:
        """Ranked passages for a query (as ask() lists its sources), optionally only those of one topic."""
        text, _ = clean_question(query, self.settings.max_question_chars)
        self._check_topic(topic)
        _, retrieval = self.retrieve(text, k, topic)
        return self._passages(retrieval.hits + retrieval.more, k)

    def topics(self) -> list[dict]:
        """Categories in taxonomy order with their names and chunk counts."""
        counts = Counter(c.topic for c in self.data.chunks if c.kind != "parent")
        return [{"id": t, "name": name, "chunks": counts.get(t, 0)} for t, name in self.data.topics]

    def chunks(self, topic: str | None = None) -> list[Chunk]:
        """Every chunk (of one topic), in corpus order, for browsing; parent chunks repeat their sub-sections and
        are left out."""
        self._check_topic(topic)
        return [c for c in self.data.chunks if c.kind != "parent" and (topic is None or c.topic == topic)]
