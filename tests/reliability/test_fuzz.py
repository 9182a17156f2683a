"""Arbitrary questions never crash the query path; odd files never crash the build (they are skipped with a reason)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

import ingest.load
from ingest.load import MAX_FILE_BYTES, load_corpus
from kb.core.config import ROOT
from kb.core.index import load_index

from .conftest import build_tiny

CONTRACT_KEYS = {"question", "abstained", "answer", "topic", "sources", "error", "title", "match", "warnings", "timing_ms",
                 "abstain_reason", "missing_terms", "status", "generated", "standalone_question"}
REASONS = {None, "not_covered", "off_domain", "no_content"}
SOURCE_KEYS = {"source_title", "chunk_id", "source", "title", "text", "score", "topic", "topic_name", "dense", "lexical"}

any_char = st.characters(codec=None, exclude_categories=())  # includes lone surrogates and control characters
questions = st.one_of(
    st.text(any_char, max_size=300),
    st.text(st.sampled_from("\u0000\u0007\u200b\u202e\u2066\ufeff\ud800\udfff\r\n\t 　"), max_size=50),  # controls only
    st.text(st.sampled_from("？！。，、；：“”‘’（）《》…—?!.,;:'\"()[]{}<>-_*#`~"), min_size=1, max_size=80),
    st.lists(st.sampled_from(["的", "了", "吗", "什么", "怎么", "如何", "the", "what", "is", "请问"]), max_size=30).map("".join),
    st.text(st.sampled_from("😀🤖🧠👨‍👩‍👧\u200d🏳️‍🌈"), max_size=40),
    st.text(st.sampled_from("مرحبا بالعالم שלום עולם\u202b\u202c"), max_size=80),  # right-to-left scripts and marks
    st.builds(lambda a, b: a + "为什么训练大模型需要大显存" + b, st.text(any_char, max_size=20), st.text(any_char, max_size=20)),
)


def assert_well_formed(ans) -> None:
    data = ans.to_json()
    assert set(data) == CONTRACT_KEYS
    assert data["abstain_reason"] in REASONS and (data["abstain_reason"] is None) == (not data["abstained"] or bool(data["error"]))
    assert data["missing_terms"] == [] or data["abstain_reason"] == "not_covered"
    json.dumps(data)  # serializable (ensure_ascii escapes any lone surrogate)
    assert isinstance(data["sources"], list) and isinstance(data["warnings"], list)
    if data["error"] is not None:
        assert isinstance(data["error"], str) and data["error"] and "\n" not in data["error"]
        assert data["sources"] == [] and data["abstained"]
    else:
        assert isinstance(data["answer"], str) and data["answer"]
        for s in data["sources"]:
            assert set(s) == SOURCE_KEYS
        assert data["abstained"] or data["sources"]
    assert {"id", "name", "confidence", "uncertain", "votes"} <= set(data["topic"])


@hyp_settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(question=questions)
def test_ask_never_raises_for_any_text(tiny_kb, question):
    assert_well_formed(tiny_kb.ask(question))


@pytest.mark.parametrize("question", [
    "为什么训练大模型需要大显存？" * 7200,  # ~100k characters: truncated with a warning
    "\x00" * 100_000,
    "\ud800" * 100_000,
    "😀" * 100_000,
])
def test_huge_questions_are_bounded(tiny_kb, question):
    t0 = time.perf_counter()
    ans = tiny_kb.ask(question)
    assert_well_formed(ans)
    assert time.perf_counter() - t0 < 30
    if ans.error is None:
        assert any("truncated" in w for w in ans.warnings)


@pytest.mark.parametrize("question", [None, 42, b"bytes", ["list"]])
def test_non_text_questions_get_an_error_answer(tiny_kb, question):
    ans = tiny_kb.ask(question)
    assert_well_formed(ans)
    assert ans.error


def run_cli(args: list, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb", *args], cwd=ROOT, input=stdin, capture_output=True, timeout=90,
                          env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONIOENCODING="utf-8:strict"))


def test_cli_survives_undecodable_argv_and_stdin(tiny_built):
    """Bytes that are not UTF-8 reach Python as lone surrogates (argv) or as undecodable input (stdin)."""
    _, index_dir = tiny_built
    one = run_cli([b"--index", str(index_dir).encode(), b"ask", b"\xff\xfe\xe4\xb8 RAG", b"--json"])
    assert b"Traceback" not in one.stderr and one.returncode == 0, one.stderr[-800:]
    assert set(json.loads(one.stdout.decode("utf-8"))) == CONTRACT_KEYS  # valid UTF-8 JSON
    batch = run_cli(["--index", str(index_dir), "ask", "--json"], stdin="什么是RAG\n".encode() + b"\xff\xfe bad\n\n")
    assert b"Traceback" not in batch.stderr and batch.returncode == 0, batch.stderr[-800:]
    lines = [json.loads(line) for line in batch.stdout.decode("utf-8").splitlines()]
    assert len(lines) == 3 and all(set(line) == CONTRACT_KEYS for line in lines)
    assert lines[2]["error"]  # the empty line is an error answer, not a crash


# ---- ingest ------------------------------------------------------------------------------------------------------

def odd_corpus(root: Path) -> tuple[Path, Path]:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.md").write_text(" \n\t\r\n　\n", encoding="utf-8")
    (corpus / "blob.txt").write_bytes(bytes(range(256)) * 16)
    (corpus / "gb.txt").write_bytes("梯度检查点用计算换显存：前向时只保存部分激活，反向时重新计算。".encode("gb18030"))
    (corpus / "big5.txt").write_bytes("張量並行把一層的權重矩陣切分到多張顯卡上，每張卡只計算其中一部分。".encode("big5"))
    (corpus / "utf16.md").write_bytes("# 量化\n\n量化把权重从 FP16 压缩到 INT4，显著降低推理显存。\n".encode("utf-16"))
    (corpus / "mixed.txt").write_bytes("第一行讲分词器。\r\n第二行讲词表大小。\r第三行讲 BPE 合并规则。\n".encode("utf-8"))
    (corpus / "带 空格 的 文件名.md").write_text("# 位置编码\n\nRoPE 旋转位置编码让模型外推到更长的上下文。\n", encoding="utf-8")
    (corpus / "vanishing.txt").write_text("这个文件在列出之后、读取之前被删除。", encoding="utf-8")
    outside = root / "outside.txt"
    outside.write_text("外部机密：不应进入知识库。", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside)
    return corpus, corpus / "vanishing.txt"


def test_build_skips_bad_files_with_reasons_and_keeps_the_rest(tmp_path, monkeypatch):
    corpus, vanishing = odd_corpus(tmp_path)
    listed = ingest.load.find_files

    def list_then_delete(root: Path) -> list[Path]:
        files = listed(root)
        vanishing.unlink()  # removed between listing and reading
        return files

    monkeypatch.setattr(ingest.load, "find_files", list_then_delete)
    report = build_tiny(corpus, tmp_path / "index")
    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "blank.md", "blob.txt", "vanishing.txt"}
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["blank.md"]
    assert "binary" in reasons["blob.txt"] and "unreadable" in reasons["vanishing.txt"]

    data = load_index(tmp_path / "index")
    assert {f: data.files[f]["encoding"] for f in ("gb.txt", "big5.txt", "utf16.md")} == \
        {"gb.txt": "gb18030", "big5.txt": "big5", "utf16.md": "utf-16"}
    text = "\n".join(c.text for c in data.chunks)
    for phrase in ("梯度检查点", "張量並行", "INT4", "第三行讲 BPE", "RoPE"):
        assert phrase in text
    assert "\r" not in text
    assert "带 空格 的 文件名.md" in data.files
    assert "外部机密" not in text and "link.txt" not in data.files  # the symlink out of the corpus is not followed


def test_huge_file_is_skipped_by_size_before_it_is_read(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    line = "大模型的上下文窗口决定了一次能读入多少文本。\n".encode("utf-8")
    with open(corpus / "huge.txt", "wb") as fh:
        for _ in range(50 * 1024 * 1024 // (len(line) * 1000) + 1):
            fh.write(line * 1000)
    (corpus / "small.txt").write_text("小文件照常入库。", encoding="utf-8")
    assert (corpus / "huge.txt").stat().st_size >= 50 * 1024 * 1024 > MAX_FILE_BYTES
    t0 = time.perf_counter()
    docs, skipped = load_corpus(corpus)
    assert time.perf_counter() - t0 < 5
    assert [d.source for d in docs] == ["small.txt"]
    assert [s.source for s in skipped] == ["huge.txt"] and "larger than 8 MB" in skipped[0].reason
