"""The LangChain retriever: the knowledge base's own search, as Documents a chain can use offline."""
from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from kb.core.errors import BadInput
from kb.integrations.langchain import KnowledgeBaseRetriever

QUESTION = "BERT 的掩码语言模型是怎么训练的？"


def test_invoke_returns_documents_with_source_metadata(kb) -> None:
    docs = KnowledgeBaseRetriever(kb=kb, k=4).invoke(QUESTION)
    assert len(docs) == 4 and all(isinstance(d, Document) and d.page_content for d in docs)
    assert set(docs[0].metadata) == {"chunk_id", "source", "source_title", "title", "topic", "topic_name", "score"}
    assert [d.metadata["chunk_id"] for d in docs] == [s.chunk_id for s in kb.search(QUESTION, k=4)]
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


def test_topic_filter_is_respected(kb) -> None:
    topic = next(t["id"] for t in kb.topics() if t["chunks"] >= 3)
    docs = KnowledgeBaseRetriever(kb=kb, k=3, topic=topic).invoke(QUESTION)
    assert len(docs) == 3 and {d.metadata["topic"] for d in docs} == {topic}
    with pytest.raises(BadInput, match="unknown topic"):
        KnowledgeBaseRetriever(kb=kb, topic="no-such-topic").invoke(QUESTION)


def test_a_chain_formats_the_context_offline(kb) -> None:
    def as_context(docs: list[Document]) -> str:
        return "\n\n".join(f"[{i}] {d.metadata['title']}\n{d.page_content}" for i, d in enumerate(docs, 1))

    chain = KnowledgeBaseRetriever(kb=kb, k=2) | RunnableLambda(as_context)
    context = chain.invoke(QUESTION)
    assert context.startswith("[1] ") and "\n\n[2] " in context and "[3]" not in context
