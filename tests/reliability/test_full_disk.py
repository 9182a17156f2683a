"""A write that fails mid-build (disk full) ends in one clear BuildFailed; the old index keeps serving."""
from __future__ import annotations

import errno
import sqlite3

import pytest

import kb.core.index
from ingest.__main__ import main as ingest_main
from ingest.cache import EmbeddingCache
from kb.core.errors import BuildFailed
from kb.core.index import BUILDS, CURRENT
from kb.core.store import FaissStore
from kb.knowledge import KnowledgeBase

from .conftest import QUESTIONS, RAG_CHANGED, answer_json, build_tiny, copy_index, settings, write_tiny_corpus


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def sqlite_full(*_args, **_kwargs):
    raise sqlite3.OperationalError("database or disk is full")


FAILURES = {
    "faiss save": (FaissStore, "save", disk_full, "No space left on device"),
    "sqlite write": (kb.core.index, "_write_db", sqlite_full, "database or disk is full"),
    "embedding cache": (EmbeddingCache, "get_or_embed", sqlite_full, "database or disk is full"),
}


@pytest.mark.parametrize("failure", list(FAILURES), ids=list(FAILURES))
def test_disk_full_fails_cleanly_and_keeps_the_old_index(failure, tiny_built, tmp_path, monkeypatch, capsys):
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    before_build = (index_dir / CURRENT).resolve()
    before = [answer_json(KnowledgeBase.load(settings(index_dir, corpus)), q) for q in QUESTIONS[:3]]
    changed = write_tiny_corpus(tmp_path / "corpus", rag=RAG_CHANGED)
    target, name, fail, reason = FAILURES[failure]
    monkeypatch.setattr(target, name, fail)

    # `python -m ingest` catches only KBError: a return code of 1 with this message means BuildFailed was raised
    assert ingest_main(["--corpus", str(changed), "--index", str(index_dir), "--force", "--quiet"]) == 1
    errors = capsys.readouterr().err
    assert errors.startswith("error: could not write the index") and reason in errors and "previous index" in errors
    assert errors.count("\n") == 1 and "Traceback" not in errors

    assert (index_dir / CURRENT).resolve() == before_build
    assert [p.name for p in (index_dir / BUILDS).iterdir() if p.name.startswith(".tmp-")] == []  # no half build left
    assert [answer_json(KnowledgeBase.load(settings(index_dir, corpus)), q) for q in QUESTIONS[:3]] == before

    if failure == "faiss save":
        monkeypatch.undo()  # space freed: the same build now goes through
        build_tiny(changed, index_dir, force=True)
        assert (index_dir / CURRENT).resolve() != before_build


def test_build_failed_is_the_exception_library_callers_see(tiny_built, tmp_path, monkeypatch):
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    monkeypatch.setattr(FaissStore, "save", disk_full)
    with pytest.raises(BuildFailed, match="No space left on device"):
        build_tiny(write_tiny_corpus(tmp_path / "corpus", rag=RAG_CHANGED), index_dir, force=True)
