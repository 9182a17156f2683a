"""Browsing the corpus: chunks grouped by document and section, a page at a time."""
from __future__ import annotations

import math
from dataclasses import dataclass

from kb.core.schema import Chunk


@dataclass(frozen=True)
class Section:
    source: str
    title: str
    chunks: list[Chunk]


def group_sections(chunks: list[Chunk]) -> list[Section]:
    """Consecutive chunks of one document section together, in corpus order."""
    groups: list[Section] = []
    for c in chunks:
        if groups and groups[-1].source == c.source and groups[-1].title == c.title:
            groups[-1].chunks.append(c)
        else:
            groups.append(Section(c.source, c.title, [c]))
    return groups


def page_count(n_items: int, per_page: int) -> int:
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    return max(1, math.ceil(n_items / per_page))


def paginate(items: list, page: int, per_page: int) -> list:
    """Items on page (1-based); a page past the end is clamped to the last one."""
    page = min(max(1, page), page_count(len(items), per_page))
    return items[(page - 1) * per_page: page * per_page]
