"""Hubness of chunks against the corpus's own questions (ingest/hubness.py)."""
import numpy as np

from ingest.hubness import chunk_hubness, pseudo_queries
from kb.core.schema import Chunk


def _chunk(*path: str, question: str = "") -> Chunk:
    return Chunk(id=path[-1], text="x", title_path=path, source="a.md", span=(0, 1), question=question)


def test_pseudo_queries_are_headings_and_faq_questions_without_numbering_once_each():
    chunks = [_chunk("指南", "6.1 学习率调度"), _chunk("指南", "6.1 学习率调度", "**1. 云端部署**"),
              _chunk("FAQ", "Q3：如何解决大型模型的偏见？", question="Q3：如何解决大型模型的偏见？"),
              _chunk("FAQ", "## AI 训练为什么需要大显存"), _chunk("FAQ", "总结")]
    assert pseudo_queries(chunks) == ["学习率调度", "云端部署", "如何解决大型模型的偏见？", "AI 训练为什么需要大显存"]
    # the document title (first of the path) is not a question; "总结" is too short to be one


def test_a_chunk_near_many_questions_is_more_of_a_hub():
    queries = np.eye(4, dtype=np.float32)
    broad = np.full(4, 0.5, dtype=np.float32)  # equally near every question
    narrow = np.array([1.0, 0, 0, 0], dtype=np.float32)  # near one question only
    hub = chunk_hubness(np.vstack([broad, narrow]), [0, 1], 2, queries, k=3)
    assert hub[0] > hub[1]
    # a chunk with two vectors (passage and FAQ question) takes the higher; no questions at all gives zeros
    two = chunk_hubness(np.vstack([narrow, broad]), [0, 0], 1, queries, k=3)
    assert np.isclose(two[0], 0.5)
    assert chunk_hubness(np.vstack([broad]), [0], 1, np.zeros((0, 4), np.float32)).tolist() == [0.0]


def test_a_changed_probe_list_is_a_changed_build(monkeypatch):
    # the probes are embedded into the build: editing them must not leave an "up to date" index
    import ingest.build as build
    from ingest.taxonomy import load_taxonomy
    from kb.core.config import load_settings

    taxonomy = load_taxonomy(build.DEFAULT_TAXONOMY)
    before = build.fingerprint(load_settings(), [], taxonomy)
    probes = build.off_domain_probes()
    monkeypatch.setattr(build, "off_domain_probes", lambda: probes + ("新的探针问题",))
    assert build.fingerprint(load_settings(), [], taxonomy) != before
