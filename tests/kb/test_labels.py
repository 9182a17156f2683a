"""Labelled questions label the passages their anchors point at (kb/labels.py)."""
import json
import logging

import pytest

from kb.eval import evaluate_file
from kb.labels import LABEL_WEIGHT, LabelFile, blend, chunk_labels, read_label_files
from kb.questions import read_cases
from tests.conftest import QUESTIONS

TOPICS = ["arch_perf", "privacy_security", "eval_data"]


def test_anchors_label_the_chunks_that_contain_them_in_anchor_form():
    texts = ["**训练好的模型** 保存为 .pth 文件。", "模型可能泄露隐私。", "训练好的模型保存为 .h5 文件。"]
    files = [LabelFile("a.jsonl", "x", [(["训练好的模型保存为"], "arch_perf")]),
             LabelFile("b.jsonl", "y", [(["训练好的模型 保存为", "泄露隐私"], "arch_perf"), (["不存在的句子"], "eval_data")])]
    assert chunk_labels(texts, files) == {
        0: {"a.jsonl": {"arch_perf": 1}, "b.jsonl": {"arch_perf": 1}},  # markdown marks and spaces ignored
        1: {"b.jsonl": {"arch_perf": 1}},
        2: {"a.jsonl": {"arch_perf": 1}, "b.jsonl": {"arch_perf": 1}},
    }
    assert chunk_labels(["前半句", "后半句"], [LabelFile("c", "z", [(["前半句后半句"], "eval_data")])]) == {}


def test_blend_mixes_question_topics_into_the_nearest_neighbour_vote():
    knn = {"arch_perf": 0.2, "privacy_security": 0.8}
    labels = {"a.jsonl": {"arch_perf": 3}, "b.jsonl": {"eval_data": 1}}
    mixed = blend(knn, labels)
    assert mixed["arch_perf"] == pytest.approx((1 - LABEL_WEIGHT) * 0.2 + LABEL_WEIGHT * 0.75)
    assert mixed["eval_data"] == pytest.approx(LABEL_WEIGHT * 0.25)
    assert sum(mixed.values()) == pytest.approx(1.0)
    assert blend(knn, labels, leave_out=["a.jsonl", "b.jsonl"]) == knn  # all left out: the vote as it was
    assert blend(knn, None) == knn


def test_label_files_are_read_leniently(tmp_path, caplog):
    (tmp_path / "good.jsonl").write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in [
        {"q": "模型存成什么文件？", "anchors": ["保存为"], "topic": "arch_perf"},
        {"q": "红烧肉怎么做", "anchors": [], "topic": None},  # out of scope: labels nothing
        {"q": "别的分类", "anchors": ["保存为"], "topic": "cooking"},  # not a category of this taxonomy
    ]), encoding="utf-8")
    (tmp_path / "broken.jsonl").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        files = read_label_files(tmp_path, TOPICS)
    assert [(f.name, f.questions) for f in files] == [("good.jsonl", [(["保存为"], "arch_perf")])]
    assert "broken.jsonl" in caplog.text
    assert read_label_files(tmp_path / "missing", TOPICS) == [] and read_label_files(None, TOPICS) == []


def test_the_seed_build_records_labels_and_keeps_the_neighbour_vote(kb):
    manifest = kb.data.manifest["labels"]
    assert set(manifest["files"]) == {p.name for p in QUESTIONS.glob("*.jsonl")}
    assert manifest["chunks"] > 100
    saving = next(c for c in kb.data.chunks if c.title_path[-1:] == ("大模型如何保存",) and c.meta["labels"])
    # every writer files model-saving questions under arch_perf; the taxonomy examples alone said privacy
    assert max(saving.meta["knn_votes"], key=saving.meta["knn_votes"].get) == "privacy_security"
    assert saving.topic == "arch_perf"


def test_a_set_is_scored_without_its_own_labels(kb):
    name = "qa_fresh9.jsonl"
    only_there = [c for c in kb.data.chunks if set(c.meta["labels"]) == {name}]
    assert kb.leave_out_labels([name]) >= len(only_there) > 0
    try:  # a chunk only this set labelled votes as the taxonomy examples alone would
        assert all(kb._vote_override[c.id] == c.meta["knn_votes"] for c in only_there)
    finally:
        assert kb.leave_out_labels([]) == 0
    metrics = evaluate_file(kb, QUESTIONS / name)
    assert metrics["own_labels_left_out"] and metrics["in_scope"] == sum(bool(c.anchors) for c in read_cases(QUESTIONS / name))

