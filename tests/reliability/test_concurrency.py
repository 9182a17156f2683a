"""Many threads share one KnowledgeBase; readers during a rebuild see the old build or the new one, never a mix."""
from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kb.core import index
from kb.core.errors import IndexCorrupt
from kb.knowledge import KnowledgeBase

from .conftest import QUESTIONS, RAG, RAG_CHANGED, answer_json, build_tiny, copy_index, settings, write_tiny_corpus

THREADS = 8
PER_THREAD = 25

MORE = ["什么是 RAG 的检索步骤", "梯度", "显存不够怎么办", "FP16", "优化器状态", "幻觉", "上下文", "知识库检索",
        "大模型推理和训练的显存差别", "what is mixed precision", "怎么减少幻觉", "混合精度为什么省显存", "主权重",
        "检索增强生成的缺点", "参数量", "BF16", "Adam", "文档上下文", "生成答案"]


def test_threads_answer_like_one_thread(tiny_kb, capsys):
    questions = (QUESTIONS + MORE)[:PER_THREAD]
    expected = {q: answer_json(tiny_kb, q) for q in questions}

    def worker(seed: int) -> list[tuple[str, str]]:
        order = random.Random(seed).sample(questions, len(questions))
        return [(q, answer_json(tiny_kb, q)) for q in order]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = [pair for batch in pool.map(worker, range(THREADS)) for pair in batch]
    seconds = time.perf_counter() - t0
    assert len(results) == THREADS * PER_THREAD
    assert [q for q, a in results if a != expected[q]] == []
    with capsys.disabled():
        print(f"\n[concurrency] {THREADS} threads x {PER_THREAD} questions: {len(results)} answers in {seconds:.1f} s "
              f"({len(results) / seconds:.0f} answers/s)")


def test_readers_during_rebuilds_see_one_whole_build(tiny_built, tmp_path):
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    versions = {"old": (corpus, RAG), "new": (write_tiny_corpus(tmp_path / "changed", rag=RAG_CHANGED), RAG_CHANGED)}
    questions = QUESTIONS[2:4]  # one about each version of rag.txt

    def version_of(kb: KnowledgeBase) -> str:
        sha = kb.data.manifest["files"]["rag.txt"]
        return next(v for v, (c, _) in versions.items() if (c / "rag.txt").exists() and _sha(c / "rag.txt") == sha)

    old_kb = KnowledgeBase.load(settings(index_dir, corpus))
    expected = {"old": {q: answer_json(old_kb, q) for q in questions}}
    seen: list[tuple[str, str, str]] = []  # (version, question, answer)
    errors: list[BaseException] = []
    done = threading.Event()
    started = threading.Barrier(4)

    def reader() -> None:
        try:
            started.wait()
            while True:
                finished = done.is_set()
                kb = KnowledgeBase.load(settings(index_dir, corpus))
                seen.extend((version_of(kb), q, answer_json(kb, q)) for q in questions)
                if finished:
                    return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for r in readers:
        r.start()
    started.wait()
    for name in ("new", "old", "new"):  # three rebuilds: the third prunes the first build folder
        build_tiny(versions[name][0], index_dir, force=True)
    done.set()
    for r in readers:
        r.join(timeout=120)
    assert errors == []
    new_kb = KnowledgeBase.load(settings(index_dir, corpus))
    expected["new"] = {q: answer_json(new_kb, q) for q in questions}
    assert expected["new"] != expected["old"]
    assert {v for v, _, _ in seen} == {"old", "new"}
    assert [(v, q) for v, q, a in seen if a != expected[v][q]] == []


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_build_pruned_while_loading_gives_way_to_the_current_one(tiny_built, tmp_path, monkeypatch):
    """The race the test above can hit: a reader resolves a build, two rebuilds swap in newer ones and prune it."""
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    first = index.current_build(index_dir)
    real = index._load_build
    calls: list = []

    def load(build, embedder_name):
        calls.append(build)
        if len(calls) == 1:  # while this reader reads `first`, a rebuild replaces it
            build_tiny(corpus, index_dir, force=True)
            raise IndexCorrupt("index file vectors.faiss is missing; rebuild it with: python -m ingest")
        return real(build, embedder_name)

    monkeypatch.setattr(index, "_load_build", load)
    data = index.load_index(index_dir)
    assert calls[0] == first and calls[1] != first and data.path == index.current_build(index_dir)

    # A build that is really broken (and still current) is reported, not retried forever.
    calls.clear()

    def broken(build, embedder_name):
        calls.append(build)
        raise IndexCorrupt("index file vectors.faiss is missing; rebuild it with: python -m ingest")

    monkeypatch.setattr(index, "_load_build", broken)
    with pytest.raises(IndexCorrupt):
        index.load_index(index_dir)
    assert len(calls) == 1
