"""A changed taxonomy re-votes every chunk over the current build's vectors: only new example sentences are embedded."""
import json
import shutil
from pathlib import Path

import pytest

import ingest.build as build
from ingest.__main__ import main as ingest_main
from kb.core.config import ROOT
from kb.core.errors import BadInput
from kb.core.index import current_build
from kb.core.textnorm import to_simplified
from kb.knowledge import KnowledgeBase
from tests.conftest import DATA, REPO_INDEX_CACHE, settings

TWO = """categories:
  - id: dishes
    name: 家常菜
    examples: [红烧肉和番茄炒蛋的做法]
  - id: baking
    name: 烘焙
    description: 蛋糕、面包与烤箱
"""
# The same two categories with their chunks' topics swapped by the names and examples alone
SWAPPED = TWO.replace("红烧肉和番茄炒蛋的做法", "蛋糕烤箱温度与发酵").replace("蛋糕、面包与烤箱", "红烧肉和番茄炒蛋的做法")


class CountingEmbedder:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, real, seen: list[str]) -> None:
        self._real, self.seen = real, seen

    def __getattr__(self, name):
        return getattr(self._real, name)

    def embed_passages(self, texts):
        self.seen.extend(texts)
        return self._real.embed_passages(texts)

    def embed_queries(self, texts):
        self.seen.extend(texts)
        return self._real.embed_queries(texts)


@pytest.fixture
def corpus_index(tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "cooking", corpus)
    index_dir = tmp_path / "index"
    if (REPO_INDEX_CACHE / "embeddings.sqlite").exists():
        shutil.copytree(REPO_INDEX_CACHE, index_dir / "cache")
    s = settings(index_dir, corpus, labels_dir="")
    build.build_index(s)
    return s, corpus


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = build.get_embedder
    monkeypatch.setattr(build, "get_embedder", lambda name: CountingEmbedder(real(name), seen))
    return seen


def test_a_new_taxonomy_revotes_without_embedding_a_chunk(corpus_index, embedded):
    s, corpus = corpus_index
    before = KnowledgeBase.load(s)
    assert {c.topic for c in before.data.chunks} <= {"arch_perf", "applications", "eval_data", "privacy_security",
                                                      "fairness_explain"}, "the bundled taxonomy at first"
    (corpus / "taxonomy.yaml").write_text(TWO, encoding="utf-8")
    report = build.build_index(s)
    assert report.revoted and report.seconds < 10
    assert sorted(embedded) == sorted({"家常菜：红烧肉和番茄炒蛋的做法", "烘焙：蛋糕、面包与烤箱"}), "only the new examples"
    kb = KnowledgeBase.load(s)
    assert [t["id"] for t in kb.topics()] == ["dishes", "baking"]
    topic_of = {c.source: {x.topic for x in kb.data.chunks if x.source == c.source} for c in kb.data.chunks}
    assert topic_of == {"recipes.md": {"dishes"}, "baking.md": {"baking"}}
    assert kb.ask("红烧肉怎么做").topic["id"] == "dishes"
    assert [c.id for c in kb.data.chunks] == [c.id for c in before.data.chunks], "the same chunks"
    assert kb.data.manifest["revoted_from"] == before.data.manifest["build_id"]
    assert kb.search("烤箱温度")[0].source == "baking.md", "retrieval is unchanged"

    embedded.clear()
    (corpus / "taxonomy.yaml").write_text(SWAPPED, encoding="utf-8")
    report = build.build_index(s)
    assert report.revoted and sorted(embedded) == ["家常菜：蛋糕烤箱温度与发酵", "烘焙：红烧肉和番茄炒蛋的做法"]
    swapped = KnowledgeBase.load(s)
    assert {c.topic for c in swapped.data.chunks if c.source == "recipes.md"} == {"baking"}, "the topics follow the file"

    embedded.clear()
    (corpus / "taxonomy.yaml").write_text(TWO.replace("[红烧肉和番茄炒蛋的做法]", "[红烧肉和番茄炒蛋的做法, 饺子馅怎么调]"),
                                          encoding="utf-8")
    report = build.build_index(s)
    assert report.revoted and (report.embedded, report.reused) == (1, 2) and embedded == ["家常菜：饺子馅怎么调"]
    assert build.build_index(s).noop


def test_a_renamed_category_keeps_its_chunks_and_embeds_only_its_examples(corpus_index, embedded):
    s, corpus = corpus_index
    (corpus / "taxonomy.yaml").write_text(TWO, encoding="utf-8")
    build.build_index(s)
    embedded.clear()
    (corpus / "taxonomy.yaml").write_text(TWO.replace("name: 烘焙", "name: 面点烘焙"), encoding="utf-8")
    assert build.build_index(s).revoted
    assert embedded == [to_simplified("面点烘焙：蛋糕、面包与烤箱")]
    kb = KnowledgeBase.load(s)
    assert kb.data.topic_name("baking") == "面点烘焙" and kb.topics()[1]["chunks"] > 0


def test_a_bad_taxonomy_file_fails_the_build_and_the_old_index_keeps_serving(corpus_index, capsys):
    s, corpus = corpus_index
    served = current_build(s.index_dir)
    (corpus / "taxonomy.yaml").write_text("categories:\n  - {id: a, name: A}\n", encoding="utf-8")
    with pytest.raises(BadInput, match="at least 2"):
        build.build_index(s)
    assert current_build(s.index_dir) == served
    code = ingest_main(["--corpus", str(corpus), "--index", str(s.index_dir), "--labels", "", "--quiet"])
    assert code == 1 and "error: taxonomy.yaml: 1 categories; a taxonomy needs at least 2" in capsys.readouterr().err


def test_the_cli_takes_a_taxonomy_file_from_outside_the_corpus(corpus_index, tmp_path, capsys):
    s, corpus = corpus_index
    outside = tmp_path / "mine.json"
    outside.write_text(json.dumps({"categories": [{"id": "savoury", "name": "咸味菜", "examples": ["红烧肉"]},
                                                  {"id": "sweet", "name": "甜点", "examples": ["蛋糕"]}]},
                                  ensure_ascii=False), encoding="utf-8")
    code = ingest_main(["--corpus", str(corpus), "--index", str(s.index_dir), "--labels", "", "--quiet",
                        "--taxonomy", str(outside), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["revoted"] and set(out["topics"]) == {"savoury", "sweet"}
    assert not (ROOT / "data" / "seed" / "taxonomy.yaml").exists()
