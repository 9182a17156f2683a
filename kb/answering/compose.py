"""Extractive answers: a closely matching FAQ entry whole, else the best hit's section (from the best hit's chunk when
the whole section is too long), cut at sentence boundaries."""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Sequence

from kb.core.schema import Chunk
from kb.core.textnorm import merge_texts
from kb.retrieval.retriever import Hit

MAX_ANSWER_CHARS = 900
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\n)")
_LEADS_IN = re.compile(r"[：:]\s*$")  # a text that ends by announcing what follows


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


class Composer:
    """Turns the ranked hits into the answer text, over one build's chunks."""

    def __init__(self, chunks: Sequence[Chunk], faq_match: float) -> None:
        self.chunks = chunks
        self.faq_match = faq_match
        self._entries: dict[str, list[int]] = defaultdict(list)
        self._sections: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(chunks):
            self._sections[c.section].append(i)
            if c.entry:
                self._entries[c.entry].append(i)
        self._below = sections_below(list(chunks))

    def faq_first(self, hits: list[Hit]) -> list[Hit]:
        """The hits with a closely matching FAQ entry first: the answer is then that entry, and its source leads."""
        faq = max(hits, key=lambda h: h.question, default=None)
        if faq is None or faq is hits[0] or faq.question < self.faq_match:
            return hits
        return [faq] + [h for h in hits if h is not faq]

    def compose(self, hits: list[Hit]) -> tuple[str, str, str]:
        """(answer, title, match): a closely matching FAQ entry whole, else the best hit's section."""
        answer, title, match, _ = self.compose_shown(hits)
        return answer, title, match

    def compose_shown(self, hits: list[Hit]) -> tuple[str, str, str, list[int]]:
        """compose, and the chunks whose text the answer shows (from their start)."""
        best = hits[0]
        faq = max(hits, key=lambda h: h.question)
        if faq.question >= self.faq_match:
            positions = self._entries[faq.chunk.entry]
            text = self._text_of(positions)
            return text, faq.chunk.title, "faq", self._shown(positions, text)
        positions = self._sections[best.chunk.section]
        positions = positions + self._goes_on(positions[-1])
        start = self._start(positions, positions.index(best.position))
        text = self._text_of(positions[start:])
        return ("… " if start else "") + text, best.chunk.title, "section", self._shown(positions[start:], text)

    def joined(self, positions: list[int]) -> str:
        """The chunks' texts as one passage, whole (the answer may cut the last one short)."""
        return merge_texts([self.chunks[p].text for p in positions])

    def _shown(self, positions: list[int], text: str) -> list[int]:
        """The positions whose text starts within the shown text (the last may be cut at a sentence)."""
        shown = 1
        while shown < len(positions) and len(merge_texts([self.chunks[p].text for p in positions[:shown]])) < len(text) - 2:
            shown += 1
        return positions[:shown]

    def _start(self, positions: list[int], best: int) -> int:
        """Where the answer starts reading a section too long to show whole: at the chunk that matched, or as many
        chunks before it as fit with it and all that follows (a long section's later point is otherwise cut off)."""
        start = 0 if self._fits(positions) else best
        while start > 0 and self._fits(positions[start - 1:]):
            start -= 1
        return start

    def _fits(self, positions: list[int]) -> bool:
        return len(merge_texts([self.chunks[p].text for p in positions])) <= MAX_ANSWER_CHARS

    def passage(self, position: int) -> tuple[str, list[int]]:
        """A hit's text as a source, and the chunks it shows: the chunk, and when it ends by announcing its
        sub-sections, as many of them as fit (a lead-in alone tells the reader nothing)."""
        shown, length = [position], len(self.chunks[position].text)
        for p in self._goes_on(position):
            length += len(self.chunks[p].text)
            if length > MAX_ANSWER_CHARS:
                break
            shown.append(p)
        return (self.chunks[position].text if len(shown) == 1 else merge_texts([self.chunks[p].text for p in shown])), shown

    def _goes_on(self, position: int) -> list[int]:
        """The sub-sections a chunk introduces: those below its section when it is the section's last chunk and ends
        by announcing what follows; else none."""
        chunk = self.chunks[position]
        last = self._sections[chunk.section][-1] == position
        return self._below.get(chunk.section, []) if last and _LEADS_IN.search(chunk.text) else []

    def _text_of(self, positions: list[int]) -> str:
        return cut_at_sentence(merge_texts([self.chunks[p].text for p in positions]))
