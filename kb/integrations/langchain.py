"""LangChain retriever over the knowledge base: the same hybrid search the CLI and the page use, as Documents."""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from kb.knowledge import KnowledgeBase


class KnowledgeBaseRetriever(BaseRetriever):
    """`retriever.invoke("什么是注意力机制？")` -> the top-k chunks as Documents, optionally within one topic."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: KnowledgeBase
    k: int = Field(default=5, ge=1)
    topic: str | None = None  # a topic id from kb.topics(); unknown ids raise kb.core.errors.BadInput

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        hits = self.kb.search(query, k=kwargs.get("k", self.k), topic=kwargs.get("topic", self.topic))
        return [Document(page_content=h.text, metadata={"chunk_id": h.chunk_id, "source": h.source, "source_title": h.source_title,
                                                        "title": h.title,
                                                        "topic": h.topic, "topic_name": h.topic_name, "score": h.score})
                for h in hits]
