"""The `python -m kb ask --json` contract, exercised through real subprocesses."""
import json
import os
import subprocess
import sys

from kb.core.config import ROOT

KEYS = {"question", "abstained", "answer", "topic", "sources", "error"}


def run(args, seed_index, stdin=None):
    env = dict(os.environ, KB_INDEX_DIR=str(seed_index))
    return subprocess.run([sys.executable, "-m", "kb", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def test_ask_json_answers_with_topic_and_sources(seed_index):
    out = run(["ask", "为什么训练大模型需要大显存？", "--json"], seed_index)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert KEYS <= obj.keys() and not obj["abstained"] and obj["error"] is None
    assert obj["topic"]["id"] == "arch_perf" and set(obj["topic"]["votes"]) >= {"arch_perf", "eval_data"}
    assert len(obj["sources"]) >= 5 and "显存" in obj["answer"]
    assert {"chunk_id", "source", "title", "text", "score", "topic"} <= obj["sources"][0].keys()


def test_batch_mode_one_object_per_line_in_order(seed_index):
    out = run(["ask", "--json"], seed_index, stdin="模型會洩露隱私嗎？\n\n麻婆豆腐怎么做\nWhat is fine-tuning?\n")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [o["question"] for o in lines] == ["模型會洩露隱私嗎？", "", "麻婆豆腐怎么做", "What is fine-tuning?"]
    assert lines[1]["error"] and lines[2]["abstained"] and len(lines[2]["sources"]) >= 5
    assert lines[0]["topic"]["id"] == "privacy_security" and not lines[3]["abstained"]


def test_a_question_without_content_prints_its_message_without_an_empty_topic(seed_index):
    out = run(["ask", "？？？"], seed_index)
    assert out.returncode == 0, out.stderr
    assert "没有可检索的内容" in out.stdout and "主题 (topic)" not in out.stdout and "来源 (sources)" not in out.stdout


def test_an_off_domain_answer_names_its_nearest_topic_not_its_topic(seed_index):
    out = run(["ask", "麻婆豆腐怎么做"], seed_index)
    assert out.returncode == 0, out.stderr
    assert "最接近的主题 (nearest topic)" in out.stdout and "\n主题 (topic)" not in "\n" + out.stdout


def test_empty_question_exits_2_with_message(seed_index):
    out = run(["ask", "   ", "--json"], seed_index)
    assert out.returncode == 2 and json.loads(out.stdout)["error"]


def test_missing_index_says_what_to_run(tmp_path):
    out = run(["ask", "hi"], tmp_path / "none")
    assert out.returncode == 1 and "python -m ingest" in out.stderr and "Traceback" not in out.stderr


def test_long_question_truncated_with_warning(kb):
    ans = kb.ask("大模型训练需要多少显存？" * 600)
    assert ans.error is None and ans.warnings


def test_topics_and_topic_filtered_search(kb):
    topics = {t["id"]: t for t in kb.topics()}
    assert set(topics) == {"arch_perf", "applications", "eval_data", "privacy_security", "fairness_explain"}
    assert topics["privacy_security"]["name"] == "模型隐私与安全" and all(t["chunks"] > 0 for t in topics.values())
    hits = kb.search("偏见", k=5, topic="fairness_explain")
    assert hits and all(h.topic == "fairness_explain" for h in hits)
