"""Suggested categories over the real seed index, and over two obviously different groups of real passages."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.answering.suggest import default_k, suggest_categories
from kb.core.config import ROOT
from kb.core.errors import BadInput
from kb.core.index import IndexData
from kb.core.schema import Chunk, content_id
from kb.core.store import FaissStore
from kb.core.textnorm import tokenize

COOKING = ["红烧肉的做法：五花肉切块焯水，加冰糖炒出糖色，再加酱油和料酒小火慢炖一小时。",
           "包饺子时先和面，面团醒半小时，猪肉白菜馅要加姜末和香油调味。",
           "煲汤用的排骨先冷水下锅焯水，加入玉米和胡萝卜，小火煲两个小时。",
           "炒青菜要大火快炒，油热后下蒜末，青菜断生后加盐出锅。",
           "蒸鱼时在鱼身划几刀，放姜丝葱段，水开后蒸八分钟，淋上蒸鱼豉油。"]
GPUS = ["训练大模型时显存不够，可以用梯度检查点和混合精度减少显存占用。",
        "数据并行把批次切分到多块GPU上，每块GPU保存一份完整的模型参数。",
        "张量并行把一个矩阵乘法切分到多块GPU上计算，需要频繁的跨卡通信。",
        "流水线并行把模型的层分到不同GPU，用微批次减少流水线气泡。",
        "ZeRO优化器把优化器状态、梯度和参数分片到各个GPU，降低每卡显存。"]


def own_chunks(kb) -> set[str]:
    return {c.id for c in kb.data.chunks if c.kind != "parent"}


def test_every_chunk_lands_in_exactly_one_category(kb):
    categories = suggest_categories(kb, k=5)
    ids = [i for c in categories for i in c.chunk_ids]
    assert len(ids) == len(set(ids))
    assert set(ids) == own_chunks(kb)
    assert [c.size for c in categories] == [len(c.chunk_ids) for c in categories]


def test_k_is_respected_and_defaults_to_the_heuristic(kb):
    assert len(suggest_categories(kb, k=3)) == 3
    assert len(suggest_categories(kb)) == default_k(len(own_chunks(kb)))
    with pytest.raises(BadInput, match="k must be"):
        suggest_categories(kb, k=0)


def test_names_are_corpus_words_and_examples_come_from_the_corpus(kb):
    words = {t for tokens in kb.data.tokens for t in tokens}
    corpus = " ".join(c.text + " " + c.title for c in kb.data.chunks)
    for c in suggest_categories(kb, k=5):
        assert c.name and c.name.split("、") == c.terms[:3]
        assert all(t in words and not t.startswith("#") for t in c.terms)
        assert c.examples and all(e and e[:6] in corpus for e in c.examples)


def test_same_corpus_gives_the_same_suggestions(kb):
    assert suggest_categories(kb, k=4) == suggest_categories(kb, k=4)


def test_two_unrelated_groups_are_separated(kb):
    data = index_of(kb, COOKING + GPUS)
    categories = suggest_categories(data, k=2)
    cooking = {content_id(t) for t in COOKING}
    assert {frozenset(c.chunk_ids) for c in categories} == {frozenset(cooking), frozenset(content_id(t) for t in GPUS)}
    gpu_names = next(c for c in categories if not set(c.chunk_ids) & cooking).terms
    assert {"gpu", "并行", "显存"} & set(gpu_names)


def test_cli_prints_the_suggestions_and_refuses_a_bad_k(seed_index):
    env = dict(os.environ, KB_INDEX_DIR=str(seed_index))
    run = lambda *args: subprocess.run([sys.executable, "-m", "kb", "suggest-topics", *args],  # noqa: E731
                                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    out = run("--k", "3", "--json")
    assert out.returncode == 0, out.stderr
    assert [c["id"] for c in json.loads(out.stdout)] == ["s01", "s02", "s03"]
    bad = run("--k", "0")
    assert bad.returncode == 2 and "k must be" in bad.stderr and "Traceback" not in bad.stderr


def index_of(kb, texts: list[str]) -> IndexData:
    """An in-memory build of the texts: the real embedder's passage vectors in a real FAISS store."""
    chunks = [Chunk(id=content_id(t), text=t, title_path=(), source=f"doc{i}.txt", span=(0, len(t)))
              for i, t in enumerate(texts)]
    store = FaissStore(kb.embedder.dim)
    store.add(kb.embedder.embed_passages(texts))
    return IndexData(path=Path("."), manifest={}, chunks=chunks, tokens=[tokenize(t) for t in texts],
                     row_chunk=np.arange(len(texts)), row_kind=["passage"] * len(texts), vectors=store,
                     example_vectors=np.zeros((0, store.dim), np.float32), example_topics=[], example_texts=[], example_kinds=[], topics=[])
