"""One turn of a conversation: make a follow-up standalone, answer it, and add a generated answer when asked.

The CLI (`kb ask --history FILE --generate`) and the page share these steps; the page streams the generation itself.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kb.answering.answerability import salient_terms
from kb.answering.followup import combine_with_previous, refers_back
from kb.answering.generate import AnswerStream, Generator
from kb.answering.prompts import neutralize
from kb.answering.result import Answer
from kb.core.errors import BadInput, KBError, LLMUnavailable
from kb.knowledge import KnowledgeBase, clean_question

CONTEXT_TURNS = 3  # earlier turns the condense step sees
_LABEL = re.compile(r"^\s*(?:[\w -]{0,30}question|独立问题|问题|理解为)\s*[:：]\s*", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z\u3400-\u9fff]")


@dataclass(frozen=True)
class Turn:
    """An earlier question and the answer shown for it."""
    question: str
    answer: str = ""
    standalone_question: str | None = None  # what it was read as, when it was itself a follow-up

    @property
    def subject(self) -> str:
        return self.standalone_question or self.question


def turns_from_json(data: object) -> list[Turn]:
    """Earlier turns from a --history file: a list of {question, answer?, standalone_question?} (or `kb ask --json`
    outputs, whose generated text counts as the answer)."""
    if not isinstance(data, list):
        raise BadInput("history must be a JSON list of turns, e.g. [{\"question\": \"…\", \"answer\": \"…\"}]")
    turns = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise BadInput(f"history turn {i + 1} needs a \"question\" string")
        generated = item.get("generated") if isinstance(item.get("generated"), dict) else {}
        answer = generated.get("text") or item.get("answer") or ""
        standalone = item.get("standalone_question")
        turns.append(Turn(item["question"], answer if isinstance(answer, str) else "",
                          standalone if isinstance(standalone, str) and standalone else None))
    return turns


def standalone_question(question: str, history: Sequence[Turn], generator: Generator | None) -> tuple[str, list[str]]:
    """The question to search with and warnings: rewritten by the model when there is one, else with the previous
    question's terms lent to a follow-up that has no subject of its own."""
    if not history:
        return question, []
    warnings = []
    if generator is not None:
        try:
            rewritten = _rewrite(generator.condense(question, [(t.subject, t.answer) for t in history[-CONTEXT_TURNS:]]))
            if _usable(rewritten, question):
                question = rewritten
                if not refers_back(rewritten):
                    return rewritten, []
            else:
                warnings.append("the model's rewrite of the follow-up was unusable")
        except LLMUnavailable as exc:
            warnings.append(f"follow-up not rewritten: {exc}")
    combined = combine_with_previous(question, history[-1].subject)
    if combined is None:
        return question, warnings
    return combined, [*warnings, f"理解为 (read as): {combined} — the previous question's key terms were added"]


def _usable(rewritten: str, question: str) -> bool:
    """A rewrite of sensible length that keeps the follow-up's most informative word (DPO in 那它和 DPO 有什么区别？)."""
    terms = salient_terms(question)
    kept = not terms or max(terms, key=terms.get) in rewritten.lower()
    return bool(rewritten) and len(rewritten) <= 4 * len(question) + 200 and kept


def _rewrite(reply: str) -> str:
    """The question in a condense reply: its first line with any label and quotes removed, "" if it has no words."""
    line = next((ln.strip() for ln in neutralize(reply).splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip("\"'“”「」*` ")
    return line if _WORD.search(line) else ""


def ask(kb: KnowledgeBase, question: str, history: Sequence[Turn] = (), generator: Generator | None = None,
        k: int | None = None, topic: str | None = None) -> Answer:
    """Answer a question in a conversation; retrieval, topic vote and answerability use the standalone question."""
    try:
        clean_question(question, kb.settings.max_question_chars)
    except BadInput:
        return kb.ask(question, k=k, topic=topic)  # the contract's error answer
    text, warnings = standalone_question(question, history, generator)
    answer = kb.ask(text, k=k, topic=topic)
    if history:
        answer.question, answer.standalone_question = question, text
    answer.warnings = [*warnings, *answer.warnings]
    return answer


def add_generated(answer: Answer, generator: Generator | None) -> Answer:
    """The answer with a generated text when the model delivers one; otherwise a warning says why it is missing."""
    if answer.error:
        return answer
    if answer.abstained:  # the decision not to answer stands: the model is not asked
        answer.warnings.append("no generated answer: the knowledge base does not answer this question")
        return answer
    if generator is None:
        return fallback(answer, "no language model configured (set KB_LLM_BASE_URL)")
    try:
        stream = generator.stream(answer.standalone_question or answer.question, answer.sources)
        for _ in stream:
            pass
    except KBError as exc:
        return fallback(answer, str(exc))
    return record(answer, stream)


def record(answer: Answer, stream: AnswerStream) -> Answer:
    """Attach a finished (or stopped) stream's checked answer, warning about dropped or missing citations."""
    answer.generated = stream.result or stream.finish()
    if stream.dropped:
        answer.warnings.append(f"dropped citations to passages that do not exist: {stream.dropped}")
    if not answer.generated.grounded:
        answer.warnings.append("the generated answer cites none of the sources: check it against them")
    return answer


def fallback(answer: Answer, reason: str) -> Answer:
    """The extractive answer stands; one line says why the generated one is missing."""
    answer.generated = None
    answer.warnings.append(f"generated answer unavailable, showing the extracted answer: {reason}")
    return answer
