"""End to end on a real Chroma server: ingest the seed corpus into it and get the answers the FAISS index gives."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kb.core.chroma_store import COLLECTION_PREFIX, connect
from kb.core.config import ROOT
from kb.core.index import KEEP_BUILDS, VECTORS, current_build
from kb.knowledge import KnowledgeBase

from ..conftest import settings

DEV_QA = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"
TIE = 1e-4  # two sources whose scores differ by less than this may swap places


@pytest.fixture(scope="module")
def chroma_settings(seed_index: Path, chroma_server: str, tmp_path_factory: pytest.TempPathFactory):
    """Settings of a seed index built into the Chroma server (embeddings come from the seed index's cache)."""
    from ingest.build import build_index

    index_dir = tmp_path_factory.mktemp("chroma-index")
    shutil.copytree(seed_index / "cache", index_dir / "cache")
    chosen = settings(index_dir, store="chroma", chroma_url=chroma_server)
    report = build_index(chosen)
    assert report.embedded == 0, "the copied embedding cache should cover the whole seed corpus"
    return chosen


@pytest.fixture(scope="module")
def chroma_kb(chroma_settings, kb) -> KnowledgeBase:
    return KnowledgeBase.load(chroma_settings)


def test_the_build_lives_on_the_server(chroma_settings, chroma_kb: KnowledgeBase) -> None:
    build = current_build(chroma_settings.index_dir)
    manifest = chroma_kb.data.manifest
    assert manifest["store"]["name"] == "chroma" and manifest["store"]["url"] == chroma_settings.chroma_url
    assert not (build / VECTORS).exists() and VECTORS not in manifest["checksums"]
    names = [c.name for c in connect(chroma_settings.chroma_url).list_collections()]
    assert manifest["store"]["collection"] in names
    assert len(chroma_kb.data.vectors) == manifest["counts"]["vectors"]


def test_chroma_and_faiss_give_the_same_top_source(chroma_kb: KnowledgeBase, kb: KnowledgeBase) -> None:
    if not DEV_QA.exists():
        pytest.skip(f"no {DEV_QA}")
    questions = [json.loads(line)["q"] for line in DEV_QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert questions
    for q in questions:
        on_faiss, on_chroma = kb.ask(q), chroma_kb.ask(q)
        assert on_chroma.abstained == on_faiss.abstained, q
        top_faiss, top_chroma = on_faiss.sources[0], on_chroma.sources[0]
        if top_chroma.chunk_id != top_faiss.chunk_id:  # a tie broken the other way is fine
            assert abs(top_chroma.score - top_faiss.score) <= TIE, q


def test_topic_filter_runs_on_the_server(chroma_kb: KnowledgeBase, kb: KnowledgeBase) -> None:
    topic = next(t["id"] for t in kb.topics() if t["chunks"] >= 5)
    hits = chroma_kb.search("注意力机制是什么？", k=5, topic=topic)
    assert {h.topic for h in hits} == {topic}
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in kb.search("注意力机制是什么？", k=5, topic=topic)]


def test_rebuilds_get_new_collections_and_old_ones_go(chroma_settings, chroma_kb: KnowledgeBase) -> None:
    from ingest.build import build_index

    first = chroma_kb.data.manifest["store"]["collection"]
    prefix = first[: -len(chroma_kb.data.manifest["build_id"])]
    assert prefix.startswith(COLLECTION_PREFIX)
    for _ in range(KEEP_BUILDS):
        build_index(chroma_settings, force=True)
    ours = [c.name for c in connect(chroma_settings.chroma_url).list_collections() if c.name.startswith(prefix)]
    served = KnowledgeBase.load(chroma_settings)
    assert first not in ours and served.data.manifest["store"]["collection"] in ours
    assert len(ours) == KEEP_BUILDS
    assert served.search("什么是预训练？", k=3)
