"""A damaged index is refused with one line that says to rebuild; it is never served from a mismatched pair."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.__main__ import main as kb_main
from kb.core.config import ROOT
from kb.core.errors import KBError
from kb.core.index import CHUNKS_DB, CURRENT, EXAMPLES, MANIFEST, VECTORS, WORDS, sha256_file
from kb.knowledge import KnowledgeBase

from .conftest import RAG_CHANGED, build_tiny, copy_index, settings, write_tiny_corpus


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path: Path) -> None:
    """Same size, bytes in the middle overwritten: only a checksum or a parser notices."""
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 64] = bytes((b ^ 0x5A) for b in raw[mid:mid + 64])
    path.write_bytes(bytes(raw))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def delete(path: Path) -> None:
    path.unlink()


def edit_manifest(change):
    def damage(path: Path) -> None:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        change(manifest)
        path.write_text(json.dumps(manifest), encoding="utf-8")
    return damage


def without_checksums(then):
    """A manifest whose checksums were removed: refused outright, whatever else is wrong."""
    def damage(build: Path) -> None:
        edit_manifest(lambda m: m.pop("checksums"))(build / MANIFEST)
        then(build)
    return damage


DAMAGE = {
    "vectors truncated": lambda b: truncate(b / VECTORS),
    "vectors garbled": lambda b: garble(b / VECTORS),
    "vectors missing": lambda b: delete(b / VECTORS),
    "examples truncated": lambda b: truncate(b / EXAMPLES),
    "words truncated": lambda b: truncate(b / WORDS),
    "words missing": lambda b: delete(b / WORDS),
    "chunks truncated": lambda b: truncate(b / CHUNKS_DB),
    "chunks garbled": lambda b: garble(b / CHUNKS_DB),
    "chunks emptied": lambda b: empty(b / CHUNKS_DB),
    "manifest truncated": lambda b: truncate(b / MANIFEST),
    "manifest emptied": lambda b: empty(b / MANIFEST),
    "manifest missing": lambda b: delete(b / MANIFEST),
    "manifest not an object": lambda b: (b / MANIFEST).write_text("[1, 2]"),
    "manifest without embedder": lambda b: edit_manifest(lambda m: m.pop("embedder"))(b / MANIFEST),
    "manifest without counts": lambda b: edit_manifest(lambda m: m.pop("counts"))(b / MANIFEST),
    "manifest checksums wrong type": lambda b: edit_manifest(lambda m: m.update(checksums=["x"]))(b / MANIFEST),
    "no checksums, vectors truncated": without_checksums(lambda b: truncate(b / VECTORS)),
    "no checksums, chunks garbled": without_checksums(lambda b: truncate(b / CHUNKS_DB)),
    "no checksums, words truncated": without_checksums(lambda b: truncate(b / WORDS)),
    "no checksums, chunks garbled in place": without_checksums(lambda b: garble(b / CHUNKS_DB)),
    "no checksums, files intact": without_checksums(lambda b: None),  # every build writes them: none is a damaged index
}


def assert_refused_with_rebuild_hint(index_dir: Path, corpus: Path, capsys) -> None:
    with pytest.raises(KBError) as err:
        KnowledgeBase.load(settings(index_dir, corpus))
    message = str(err.value)
    assert "\n" not in message and "rebuild" in message.lower() and "python -m ingest" in message, message
    assert kb_main(["--index", str(index_dir), "ask", "什么是混合精度训练", "--json"]) == 1
    out, errors = capsys.readouterr()
    assert out == "" and errors.startswith("error: ") and "rebuild" in errors and "Traceback" not in errors


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damaged_index_is_refused_with_a_rebuild_hint(damage, tiny_built, tmp_path, capsys):
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    # the copy's build folder is a real folder of its own: damage it, not the shared one
    DAMAGE[damage]((index_dir / CURRENT).resolve())
    assert_refused_with_rebuild_hint(index_dir, corpus, capsys)


@pytest.fixture(scope="module")
def other_build(tiny_built, tmp_path_factory) -> Path:
    """A second, different build (changed rag.txt) to take files from."""
    root = tmp_path_factory.mktemp("other")
    corpus = write_tiny_corpus(root / "corpus", rag=RAG_CHANGED)
    build_tiny(corpus, root / "index")
    return (root / "index" / CURRENT).resolve()


# examples.faiss is left out: every build over the same taxonomy writes it byte for byte the same.
@pytest.mark.parametrize("name", [CHUNKS_DB, VECTORS])
@pytest.mark.parametrize("fix_checksum", [False, True], ids=["as-is", "checksum-forged"])
def test_file_from_another_build_is_never_served(name, fix_checksum, tiny_built, other_build, tmp_path, capsys):
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    build = (index_dir / CURRENT).resolve()
    (build / name).write_bytes((other_build / name).read_bytes())
    if fix_checksum:  # even with the manifest rewritten to match, the pair must not load
        edit_manifest(lambda m: m["checksums"].update({name: sha256_file(build / name)}))(build / MANIFEST)
    assert_refused_with_rebuild_hint(index_dir, corpus, capsys)


def test_cli_prints_one_line_and_no_traceback(tiny_built, tmp_path):
    corpus, built = tiny_built
    index_dir = copy_index(built, tmp_path / "index")
    truncate((index_dir / CURRENT).resolve() / VECTORS)
    proc = subprocess.run([sys.executable, "-m", "kb", "--index", str(index_dir), "ask", "什么是混合精度训练", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "rebuild" in lines[0], proc.stderr
