"""Extractive answers: the best-matching section's text under its title, cut only at sentence boundaries."""
from __future__ import annotations

import re
from typing import Sequence


MAX_ANSWER_CHARS = 900
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\n)")


def merge_texts(texts: Sequence[str], max_overlap: int = 300) -> str:
    """Join consecutive chunk texts, dropping the sentence a chunk repeats from the one before it."""
    out = ""
    for text in texts:
        if not out:
            out = text
            continue
        overlap = 0
        for size in range(min(max_overlap, len(out), len(text)), 0, -1):
            if out.endswith(text[:size]):
                overlap = size
                break
        out = out + ("" if overlap else "\n") + text[overlap:]
    return out


def cut_at_sentence(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """The longest run of whole sentences (and lines) from the start that fits in limit characters."""
    if len(text) <= limit:
        return text
    out = ""
    for piece in _SENTENCE_END.split(text):
        if len(out) + len(piece) > limit:
            break
        out += piece
    return (out or text[:limit]).rstrip() + " …"

