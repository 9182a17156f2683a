"""A labelled question file labels the passages its anchors point at (ingest/labels.py)."""
import json
import logging

import pytest

from ingest.labels import LabelFile, LabelledQuestion, blend, chunk_labels, question_examples, read_label_files
from kb.core.index import QUESTION, TAXONOMY
from kb.core.schema import Chunk
from tests.conftest import EVAL_SETS, LABELS

TOPICS = ["arch_perf", "privacy_security", "eval_data"]


def chunk(text: str, source: str = "a.md") -> Chunk:
    return Chunk(id=text, text=text, title_path=(), source=source, span=(0, len(text)))


def question(anchors: list[str], topic: str, sources: tuple[str, ...] = (), text: str = "") -> LabelledQuestion:
    return LabelledQuestion(tuple(anchors), topic, frozenset(sources), text)


def test_anchors_label_the_chunks_that_contain_them_in_anchor_form():
    chunks = [chunk("**训练好的模型** 保存为 .pth 文件。"), chunk("模型可能泄露隐私。"), chunk("训练好的模型保存为 .h5 文件。")]
    files = [LabelFile("a.jsonl", "x", [question(["训练好的模型保存为"], "arch_perf")]),
             LabelFile("b.jsonl", "y", [question(["训练好的模型 保存为", "泄露隐私"], "arch_perf"),
                                        question(["不存在的句子"], "eval_data")])]
    assert chunk_labels(chunks, files) == {0: {"arch_perf": 2}, 1: {"arch_perf": 1}, 2: {"arch_perf": 2}}
    assert chunk_labels([chunk("前半句"), chunk("后半句")], [LabelFile("c", "z", [question(["前半句后半句"], "eval_data")])]) == {}


def test_a_question_that_names_its_sources_labels_nothing_in_another_corpus():
    files = [LabelFile("a.jsonl", "x", [question(["模型保存为"], "arch_perf", ("seed.txt",))])]
    assert chunk_labels([chunk("模型保存为文件", "seed.txt")], files) == {0: {"arch_perf": 1}}
    assert chunk_labels([chunk("模型保存为文件", "my-notes.md")], files) == {}


def test_blend_mixes_question_topics_into_the_nearest_neighbour_vote():
    knn = {"arch_perf": 0.2, "privacy_security": 0.8}
    mixed = blend(knn, {"arch_perf": 3, "eval_data": 1}, 0.7)
    assert mixed["arch_perf"] == pytest.approx(0.3 * 0.2 + 0.7 * 0.75)
    assert mixed["eval_data"] == pytest.approx(0.7 * 0.25)
    assert sum(mixed.values()) == pytest.approx(1.0)
    assert blend(knn, None, 0.7) == knn


def test_label_files_are_read_leniently(tmp_path, caplog):
    (tmp_path / "good.jsonl").write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in [
        {"q": "模型存成什么文件？", "anchors": ["保存为"], "topic": "arch_perf"},
        {"q": "红烧肉怎么做", "anchors": [], "topic": None},  # out of scope: labels nothing
        {"q": "别的分类", "anchors": ["保存为"], "topic": "cooking"},  # not a category of this taxonomy
    ]), encoding="utf-8")
    (tmp_path / "broken.jsonl").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        files = read_label_files(tmp_path, TOPICS)
    assert [(f.name, f.questions) for f in files] == [("good.jsonl", [question(["保存为"], "arch_perf", text="模型存成什么文件？")])]
    assert "broken.jsonl" in caplog.text
    assert read_label_files(tmp_path / "missing", TOPICS) == [] and read_label_files(None, TOPICS) == []


def test_the_seed_build_uses_the_label_file_and_no_eval_set(kb):
    manifest = kb.data.manifest["labels"]
    assert set(manifest["files"]) == {p.name for p in LABELS.glob("*.jsonl")}
    assert not set(manifest["files"]) & {p.name for p in EVAL_SETS.glob("*.jsonl")}
    assert manifest["chunks"] > 100
    saving = next(c for c in kb.data.chunks if c.title_path[-1:] == ("大模型如何保存",))
    # people file model-saving questions under arch_perf; the taxonomy examples alone say privacy
    assert saving.topic == "arch_perf"


def test_each_labelled_question_is_one_example_of_its_topic():
    files = [LabelFile("a.jsonl", "x", [question(["保存为"], "arch_perf", text="模型存成什么文件？"),
                                        question(["泄露"], "privacy_security", text="")]),
             LabelFile("b.jsonl", "y", [question(["保存为"], "arch_perf", text=" 模型存成什么文件？ ")])]
    assert question_examples(files) == [("arch_perf", "模型存成什么文件？")]


def test_labelled_questions_join_the_vote_but_not_the_field_examples(kb):
    kinds = kb.data.example_kinds
    asked = question_examples(read_label_files(LABELS, kb.topic_ids))
    assert len(asked) > 300 and kinds.count(QUESTION) == len(asked) == kb.data.manifest["counts"]["question_examples"]
    assert [(t, x) for t, x, k in zip(kb.data.example_topics, kb.data.example_texts, kinds) if k == QUESTION] == asked
    assert len(kb.voter._base[1]) == kinds.count(TAXONOMY) + len(asked)
    assert len(kb.answerability.field_vectors) == kinds.count(TAXONOMY)  # the answerability model was fitted on these
