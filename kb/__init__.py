"""A retrieval-augmented knowledge base for Chinese material about large language models.

    from kb import KnowledgeBase
    kb = KnowledgeBase.load()            # the index in KB_INDEX_DIR (default index/)
    kb.ask("什么是注意力机制？")          # Answer: text, sources, topic, or an abstention with its reason
    kb.search("注意力", k=10)             # ranked Sources
    kb.topics()                          # categories with chunk counts

Layers (each imports only those below it; tests/test_layers.py keeps it so):
    kb.core        schema, text normalization, config, errors, calibration, embedders, stores, index files
    kb.retrieval   dense, lexical, fusion, re-ranking, query expansion
    kb.answering   answerability, topic vote, answer composition, the answer contract, prompts, generated answers
    kb.knowledge   the KnowledgeBase facade; kb.conversation (follow-ups, generation), kb.cli and kb.eval on top of it
"""
from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["KnowledgeBase", "Answer", "Source", "Settings", "load_settings"]

if TYPE_CHECKING:
    from kb.answering.result import Answer, Source
    from kb.core.config import Settings, load_settings
    from kb.knowledge import KnowledgeBase


_HOMES = {"KnowledgeBase": "kb.knowledge", "Answer": "kb.answering.result", "Source": "kb.answering.result",
          "Settings": "kb.core.config", "load_settings": "kb.core.config"}


def __getattr__(name: str):
    """Import the public names on first use, so `import kb.core...` stays light for ingest."""
    if name not in _HOMES:
        raise AttributeError(f"module 'kb' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
