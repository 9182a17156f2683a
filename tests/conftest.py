"""Shared fixtures: the real seed corpus, the real bundled models, real FAISS and SQLite; built once per session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kb.core.config import ROOT, load_settings
from tests.llm import llm_env, llm_server  # noqa: F401  (fixtures: a real llama.cpp server for generated answers)

SEED = ROOT / "data" / "seed"
DATA = Path(__file__).parent / "data"
EVAL_SETS = ROOT / "data" / "eval" / "seed"  # question sets that report quality (never fed to the build)
LABELS = ROOT / "data" / "labels"  # topic labels the shipped build uses
REPO_INDEX_CACHE = ROOT / "index" / "cache"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seed-corpus index built by the real pipeline into a temporary folder (reusing the repo's embedding cache)."""
    from ingest.build import build_index

    index_dir = tmp_path_factory.mktemp("index")
    if (REPO_INDEX_CACHE / "embeddings.sqlite").exists():
        shutil.copytree(REPO_INDEX_CACHE, index_dir / "cache")
    build_index(settings(index_dir))
    return index_dir


def settings(index_dir: Path, corpus: Path = SEED, **changes):
    return load_settings({}).replace(index_dir=index_dir, corpus_dir=corpus, **changes)


@pytest.fixture(scope="session")
def kb(seed_index: Path):
    """The knowledge base loaded once over the seed index."""
    from kb.knowledge import KnowledgeBase

    return KnowledgeBase.load(settings(seed_index))


@pytest.fixture(autouse=True, scope="session")
def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# Folders and files whose tests start servers or browsers, build extra indexes or score whole question sets.
SLOW = ("tests/reliability/", "tests/e2e/", "tests/test_app.py", "tests/core/test_chroma_store.py",
        "tests/ingest/test_build.py", "tests/ingest/test_revote.py", "tests/kb/test_eval.py", "tests/benchmarks/",
        "tests/core/test_embed_openai.py",
        "tests/answering/test_generate.py", "tests/kb/test_conversation_llm.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(part in item.nodeid for part in SLOW):
            item.add_marker(pytest.mark.slow)
