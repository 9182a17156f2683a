"""Follow-up questions without a language model: spot one that leans on the previous turn and lend it its terms."""
from __future__ import annotations

import re

from kb.answering.answerability import salient_terms

# words that point back at the previous turn's subject; 其 not in 其他/其中/其实/其余/其次/其间
_REFERENCE_ZH = re.compile(r"它们|它|这个|这种|这些|这一|那个|那种|那些|上述|前者|后者|其(?![他它中实余次间])")
_REFERENCE_EN = re.compile(r"\b(it|its|this|these|those|they|them|their)\b", re.IGNORECASE)
_POSSESSIVE_EN = {"its", "their"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.+-]*")
SUBJECT_TERMS = 2  # terms lent from the previous question
# a question has a subject of its own with two content words, or one at least this rare (jieba IDF):
# 注意力 7.8 is a subject, 例子 7.1 and 具体 5.5 are not
INFORMATIVE_IDF = 7.5


def refers_back(question: str) -> bool:
    """True for a question with no subject of its own: it points back (它, this) or has too little to search for."""
    if _REFERENCE_ZH.search(question) or _REFERENCE_EN.search(question):
        return True
    terms = salient_terms(question)
    return len(terms) < 2 and max(terms.values(), default=0.0) < INFORMATIVE_IDF


def subject_terms(question: str, limit: int = SUBJECT_TERMS) -> list[str]:
    """The previous question's key terms in its own spelling: its names (RLHF, GPT-4) if any, else its rarest words."""
    terms = salient_terms(question)
    names = [t for t in terms if _NAME.fullmatch(t) and _spelled(question, t) != t]
    ranked = names or sorted(terms, key=terms.get, reverse=True)
    chosen = set(ranked[:limit])
    return [_spelled(question, t) for t in terms if t in chosen]  # in the order the question says them


def _spelled(text: str, term: str) -> str:
    """The term as the text writes it (salient_terms lower-cases Latin words)."""
    found = re.search(re.escape(term), text, re.IGNORECASE)
    return found.group(0) if found else term


def combine_with_previous(question: str, previous: str) -> str | None:
    """The follow-up with the previous question's key terms put where it points back, or None if it stands alone."""
    if not refers_back(question):
        return None
    lent = [t for t in subject_terms(previous) if t.lower() not in question.lower()]
    if not lent:
        return None
    subject = " ".join(lent)
    zh = _REFERENCE_ZH.search(question)
    if zh:
        return f"{question[:zh.start()]} {subject} {question[zh.end():]}".strip()
    en = _REFERENCE_EN.search(question)
    if en:
        said = subject + ("'s" if en.group(1).lower() in _POSSESSIVE_EN else "")
        return f"{question[:en.start()]}{said}{question[en.end():]}"
    return f"{subject} {question}"
