"""Tiny corpora and indexes for the reliability tests: a few short files, so a build costs a second, not minutes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kb.core.config import ROOT, load_settings

REPO_INDEX_CACHE = ROOT / "index" / "cache"

TRAINING = """# 大模型训练

## 为什么训练大模型需要大显存？

训练时需要保存模型参数、梯度和优化器状态，Adam 优化器的状态是参数量的两倍，因此显存占用远大于推理。

## 什么是混合精度训练？

混合精度训练使用 FP16 或 BF16 计算，同时保留 FP32 主权重，可以节省显存并加速训练。
"""

RAG = "检索增强生成（RAG）先从知识库检索相关文档，再把文档作为上下文交给大模型生成答案，能减少幻觉。\n"

# The changed version of rag.txt: a rebuild over it produces different chunks and answers.
RAG_CHANGED = "向量数据库保存文档的嵌入向量，按余弦相似度找出与问题最接近的段落，是检索增强生成的核心组件。\n"

QUESTIONS = ["为什么训练大模型需要大显存？", "什么是混合精度训练", "RAG 是什么", "向量数据库有什么用",
             "Adam 优化器的状态占多少显存", "BF16 和 FP32 的区别"]


def settings(index_dir: Path, corpus: Path):
    return load_settings({}).replace(index_dir=index_dir, corpus_dir=corpus)


def write_tiny_corpus(corpus: Path, rag: str = RAG) -> Path:
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "training.md").write_text(TRAINING, encoding="utf-8")
    (corpus / "rag.txt").write_text(rag, encoding="utf-8")
    return corpus


def seed_cache(index_dir: Path) -> Path:
    """Start an index folder with the repo's embedding cache: the taxonomy examples are then cache hits."""
    index_dir.mkdir(parents=True, exist_ok=True)
    if (REPO_INDEX_CACHE / "embeddings.sqlite").exists() and not (index_dir / "cache").exists():
        shutil.copytree(REPO_INDEX_CACHE, index_dir / "cache")
    return index_dir


def build_tiny(corpus: Path, index_dir: Path, **kwargs):
    from ingest.build import build_index

    seed_cache(index_dir)
    return build_index(settings(index_dir, corpus), **kwargs)


def answer_json(kb, question: str) -> str:
    """An answer as the CLI prints it, minus the timing (which differs run to run)."""
    data = kb.ask(question).to_json()
    data.pop("timing_ms")
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


@pytest.fixture(scope="session")
def tiny_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, index) built once; tests that damage an index work on a copy (copy_index)."""
    root = tmp_path_factory.mktemp("tiny")
    corpus = write_tiny_corpus(root / "corpus")
    build_tiny(corpus, root / "index")
    return corpus, root / "index"


@pytest.fixture(scope="session")
def tiny_kb(tiny_built):
    from kb.knowledge import KnowledgeBase

    corpus, index_dir = tiny_built
    return KnowledgeBase.load(settings(index_dir, corpus))


def copy_index(src: Path, dst: Path) -> Path:
    """A copy of a built index folder (the `current` link is relative, so it still points inside the copy)."""
    shutil.copytree(src, dst, symlinks=True)
    return dst
