"""The answer contract: what `kb ask --json`, the page and the langchain retriever return."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Source:
    chunk_id: str
    source: str  # the file, relative to the corpus folder
    title: str  # the chunk's title path
    text: str
    score: float
    topic: str
    topic_name: str = ""
    dense: float = 0.0
    lexical: float = 0.0
    source_title: str = ""  # the document's own title (first heading or front-matter title), else the file name


@dataclass
class Generated:
    """An answer written by a language model from the numbered sources (kb/answering/generate.py)."""
    text: str
    citations: list[int]  # 1-based indices into Answer.sources that the text cites
    grounded: bool  # False when no citation to an existing source remains
    model: str
    ttft_ms: float  # time to the first token
    total_ms: float


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
    # why it abstained: "not_covered" (nearby content does not answer it), "off_domain" (nothing relevant),
    # "no_content" (nothing to search for); None when it answered (kb/answering/answerability.py)
    abstain_reason: str | None = None
    missing_terms: list[str] = field(default_factory=list)  # informative question terms the passages lack (not_covered)
    status: str = ""  # "answered", "related" or "out_of_scope" ("" for an error)
    generated: Generated | None = None  # set only when a generated answer was asked for and arrived
    standalone_question: str | None = None  # the question searched with, when a follow-up was asked with history

    def to_json(self) -> dict:
        return asdict(self)


def error_answer(question: str, message: str) -> Answer:
    """The contract's object for a question that could not be used."""
    return Answer(question=question, abstained=True, answer="", sources=[], error=message,
                  topic={"id": "", "name": "", "confidence": 0.0, "uncertain": True, "votes": {}})
