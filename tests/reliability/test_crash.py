"""A build killed at any stage leaves the previous index serving exactly as before, and a re-run completes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from kb.core.config import ROOT
from kb.core.index import BUILDS, CURRENT, read_manifest

from .conftest import QUESTIONS, RAG_CHANGED, answer_json, copy_index, settings

STAGES = ["embedding", "write_db", "write_faiss", "swap"]


def run_ingest(corpus: Path, index_dir: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("KB_TEST_CRASH_AT", None)
    if crash_at:
        env["KB_TEST_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "ingest", "--corpus", str(corpus), "--index", str(index_dir),
                           "--force", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def answers(index_dir: Path, corpus: Path) -> list[str]:
    from kb.knowledge import KnowledgeBase

    kb = KnowledgeBase.load(settings(index_dir, corpus))
    return [answer_json(kb, q) for q in QUESTIONS]


def test_killed_builds_leave_the_previous_index_serving(tiny_built, tmp_path):
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    changed = tmp_path / "corpus"
    changed.mkdir()
    for f in corpus.iterdir():
        (changed / f.name).write_bytes(f.read_bytes())
    (changed / "rag.txt").write_text(RAG_CHANGED, encoding="utf-8")
    before_build = (index_dir / CURRENT).resolve()
    before_manifest = read_manifest(before_build)
    before = answers(index_dir, corpus)

    for stage in STAGES:
        proc = run_ingest(changed, index_dir, crash_at=stage)
        assert proc.returncode == -signal.SIGKILL, f"{stage}: {proc.returncode} {proc.stderr[-500:]}"
        assert (index_dir / CURRENT).resolve() == before_build, f"killed at {stage}, current moved"
        assert answers(index_dir, corpus) == before, f"killed at {stage}, answers changed"

    proc = run_ingest(changed, index_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    after_build = (index_dir / CURRENT).resolve()
    assert after_build != before_build
    assert read_manifest(after_build)["files"]["rag.txt"] != before_manifest["files"]["rag.txt"]
    after = answers(index_dir, changed)
    assert after != before  # the re-run really served the changed corpus
    assert any("向量数据库" in a for a in after)
    # The killed builds' leftovers are never mistaken for a finished build.
    finished = [p for p in (index_dir / BUILDS).iterdir() if not p.name.startswith(".")]
    assert after_build in finished
