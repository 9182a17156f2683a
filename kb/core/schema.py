"""The records every stage shares: a Chunk, and the on-disk schema version."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from kb.core.textnorm import matching_text

SCHEMA_VERSION = 7  # bump when the build's files change shape (docs/quality.md, Change log)
TITLE_SEP = " › "


def content_id(text: str) -> str:
    """Stable id from content alone, so re-ingest is idempotent and exact duplicates collapse."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


@dataclass
class Chunk:
    id: str
    text: str
    title_path: tuple[str, ...]
    source: str
    span: tuple[int, int]  # character offsets in the cleaned document
    section: str = ""  # key shared by all chunks of one section (an FAQ entry's chunks share it)
    question: str = ""  # the FAQ question this chunk answers, if any
    group: str = ""  # key shared by chunks answering the same question (twins across the corpus)
    entry: str = ""  # key of the FAQ entry (question heading) the chunk belongs to
    kind: str = "section"  # "section", "faq" or "code"
    topic: str = ""
    topic_confidence: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return TITLE_SEP.join(self.title_path)

    def embedding_text(self) -> str:
        """What the embedder and the lexical index see: the title path, then the text, without non-content markup."""
        text = matching_text(self.text)
        return f"{matching_text(self.title)}\n{text}" if self.title_path else text
