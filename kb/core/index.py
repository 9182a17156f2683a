"""The built index on disk: a build folder per build, swapped in atomically through the `current` link.

index/
  current -> builds/<build_id>        (a symlink, replaced with os.replace: readers see the old or the new build)
  builds/<build_id>/manifest.json     schema version, embedder, counts, file hashes, checksums
  builds/<build_id>/chunks.sqlite     chunks, vector rows, taxonomy examples, topics
  builds/<build_id>/vectors.faiss     chunk vectors (passages and FAQ questions), when the store is FAISS
  chroma/<build_id>/                  the same vectors in embedded Chroma, when the store is Chroma
                                      (a Chroma server keeps them in a collection named per build instead)
  builds/<build_id>/examples.faiss    example vectors: the taxonomy's, labelled questions, off-domain probes
  builds/<build_id>/words.faiss       the corpus's Chinese words, for the word bridge (kb/wordbridge.py)
No pickle: FAISS's own format, SQLite and JSON only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kb.core.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from kb.core.schema import SCHEMA_VERSION, Chunk
from kb.core.store import VECTORS_FILE, FaissStore, VectorStore, fsync_dir, store_class

CURRENT = "current"
BUILDS = "builds"
MANIFEST = "manifest.json"
CHUNKS_DB = "chunks.sqlite"
VECTORS = VECTORS_FILE
EXAMPLES = "examples.faiss"
WORDS = "words.faiss"
TAXONOMY, QUESTION, PROBE = "taxonomy", "question", "probe"  # the kinds of example
KEEP_BUILDS = 2
REBUILD_HINT = "python -m ingest"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE chunks (seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, source TEXT NOT NULL, title_json TEXT NOT NULL,
  text TEXT NOT NULL, span_start INTEGER, span_end INTEGER, section TEXT, question TEXT, grp TEXT, entry TEXT, kind TEXT,
  topic TEXT, topic_conf REAL, votes_json TEXT, tokens TEXT NOT NULL, hub REAL NOT NULL DEFAULT 0);
CREATE TABLE rows (row INTEGER PRIMARY KEY, chunk_seq INTEGER NOT NULL, kind TEXT NOT NULL);
CREATE TABLE examples (row INTEGER PRIMARY KEY, topic TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE topics (seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, name TEXT NOT NULL, description TEXT);
CREATE TABLE files (source TEXT PRIMARY KEY, sha256 TEXT NOT NULL, encoding TEXT, chunks INTEGER, title TEXT);
CREATE TABLE words (row INTEGER PRIMARY KEY, word TEXT NOT NULL, hub REAL NOT NULL);
"""


@dataclass
class IndexData:
    """Everything one build holds, loaded together from one build folder."""

    path: Path
    manifest: dict
    chunks: list[Chunk]
    tokens: list[list[str]]
    row_chunk: np.ndarray  # vector row -> chunk position
    row_kind: list[str]  # "passage" or "question"
    vectors: VectorStore  # whichever store the manifest names
    example_vectors: np.ndarray
    example_topics: list[str]
    example_texts: list[str]
    example_kinds: list[str]  # per example: TAXONOMY, QUESTION (a labelled question) or PROBE (off-domain)
    topics: list[tuple[str, str]]  # (id, name) in taxonomy order
    files: dict[str, dict] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # the corpus's Chinese words (empty: no word bridge)
    word_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    word_hub: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # r(y) of kb/wordbridge.py

    def topic_name(self, topic_id: str) -> str:
        return next((name for tid, name in self.topics if tid == topic_id), topic_id)


def crash_point_for_tests(stage: str) -> None:
    """Test-only fault injection: KB_TEST_CRASH_AT=<stage> SIGKILLs the build there (tests/reliability)."""
    if os.environ.get("KB_TEST_CRASH_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def current_build(index_dir: Path) -> Path:
    """The folder of the build currently served, or IndexNotFound with what to run."""
    link = Path(index_dir) / CURRENT
    if not link.exists():
        raise IndexNotFound(f"no index in {index_dir}; build it with: {REBUILD_HINT} --index {index_dir}")
    return link.resolve()


def read_manifest(build: Path) -> dict:
    try:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"index at {build} has no {MANIFEST}; rebuild it with: {REBUILD_HINT}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{MANIFEST} in {build} is not valid JSON; rebuild it with: {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatch(f"index at {build} has schema {manifest.get('schema_version') if isinstance(manifest, dict) else '?'}, "
                            f"this version reads {SCHEMA_VERSION}; rebuild it with: {REBUILD_HINT}")
    return manifest


def _verify_checksums(build: Path, expected: dict[str, str], record: str = MANIFEST) -> None:
    for name, checksum in expected.items():
        path = build / name
        if not path.exists():
            raise IndexCorrupt(f"index file {name} is missing; rebuild it with: {REBUILD_HINT}")
        if sha256_file(path) != checksum:
            raise IndexCorrupt(f"index file {name} does not match its {record} (corrupt or from another build); "
                               f"rebuild it with: {REBUILD_HINT}")


# A reader that resolved a build just before two rebuilds swapped in newer ones can find it pruned while it reads;
# it then loads the build now current instead (tests/reliability/test_concurrency.py).
LOAD_ATTEMPTS = 3


def load_index(index_dir: Path, embedder_name: str | None = None) -> IndexData:
    """Load the current build, checking schema, embedder, checksums and that all files come from one build."""
    for _ in range(LOAD_ATTEMPTS - 1):
        build = current_build(index_dir)
        try:
            return _load_build(build, embedder_name)
        except (IndexCorrupt, OSError, RuntimeError):  # RuntimeError: FAISS reading a file that just went
            if current_build(index_dir) == build:
                raise  # really broken
            # else: swapped out and pruned while we read it; load the build now current
    return _load_build(current_build(index_dir), embedder_name)


def _load_build(build: Path, embedder_name: str | None) -> IndexData:
    manifest = read_manifest(build)
    built_with = manifest.get("embedder", {}).get("name")
    if embedder_name and built_with != embedder_name:
        raise IndexMismatch(f"index was built with embedder {built_with!r}, not {embedder_name!r}; "
                            f"use --embedder {built_with} or rebuild: {REBUILD_HINT} --embedder {embedder_name}")
    if not manifest.get("checksums"):  # every build writes them: without them corruption would go unnoticed
        raise IndexCorrupt(f"index at {build} has no checksums in its {MANIFEST}; rebuild it with: {REBUILD_HINT}")
    try:
        _verify_checksums(build, manifest["checksums"])
        data = _read_build(build, manifest)
        sizes_agree = len(data.vectors) == len(data.row_chunk) and len(data.chunks) == manifest["counts"]["chunks"]
    except sqlite3.DatabaseError as exc:
        raise IndexCorrupt(f"{CHUNKS_DB} is unreadable ({exc}); rebuild it with: {REBUILD_HINT}") from exc
    except IndexCorrupt as exc:
        if "rebuild" in str(exc):
            raise
        raise IndexCorrupt(f"{exc}; rebuild it with: {REBUILD_HINT}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a manifest or row missing what every build writes
        raise IndexCorrupt(f"index at {build} is incomplete ({type(exc).__name__}: {str(exc)[:80]}); "
                           f"rebuild it with: {REBUILD_HINT}") from exc
    if not sizes_agree:
        raise IndexCorrupt(f"index files disagree on their size; rebuild it with: {REBUILD_HINT}")
    return data


def _read_build(build: Path, manifest: dict) -> IndexData:
    dim = int(manifest["embedder"]["dim"])
    db = sqlite3.connect(f"file:{build / CHUNKS_DB}?mode=ro", uri=True)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        if meta.get("build_id") != manifest.get("build_id"):
            raise IndexCorrupt(f"{CHUNKS_DB} belongs to another build; rebuild it with: {REBUILD_HINT}")
        # Checked here as well as in the manifest, so that a rewritten manifest cannot pair files of two builds.
        _verify_checksums(build, {k.split(":", 1)[1]: v for k, v in meta.items() if k.startswith("sha256:")}, CHUNKS_DB)
        chunks, tokens = [], []
        for row in db.execute("SELECT id, source, title_json, text, span_start, span_end, section, question, grp, kind, "
                              "topic, topic_conf, votes_json, tokens, entry, hub FROM chunks ORDER BY seq"):
            chunks.append(Chunk(id=row[0], source=row[1], title_path=tuple(json.loads(row[2])), text=row[3],
                                span=(row[4], row[5]), section=row[6], question=row[7], group=row[8], kind=row[9],
                                topic=row[10], topic_confidence=row[11], entry=row[14],
                                meta={"votes": json.loads(row[12] or "{}"), "hub": float(row[15])}))
            tokens.append(row[13].split(" ") if row[13] else [])
        rows = db.execute("SELECT chunk_seq, kind FROM rows ORDER BY row").fetchall()
        examples = db.execute("SELECT topic, text, kind FROM examples ORDER BY row").fetchall()
        topics = db.execute("SELECT id, name FROM topics ORDER BY seq").fetchall()
        files = {r[0]: {"sha256": r[1], "encoding": r[2], "chunks": r[3], "title": r[4]}
                 for r in db.execute("SELECT source, sha256, encoding, chunks, title FROM files")}
        words = db.execute("SELECT word, hub FROM words ORDER BY row").fetchall()
    finally:
        db.close()
    store = store_class(manifest.get("store", {}).get("name", "faiss")).from_manifest(manifest.get("store", {}), build, dim)
    ex_store = FaissStore.load(build / EXAMPLES, dim)
    ex_vectors = ex_store.vectors(range(len(ex_store)))
    word_vectors = np.zeros((0, dim), np.float32)
    if words:
        word_store = FaissStore.load(build / WORDS, dim)
        if len(word_store) != len(words):
            raise IndexCorrupt(f"{WORDS} and {CHUNKS_DB} disagree on the number of words")
        word_vectors = word_store.vectors(range(len(word_store)))
    return IndexData(build, manifest, chunks, tokens, np.array([r[0] for r in rows], dtype=np.int64),
                     [r[1] for r in rows], store, ex_vectors, [e[0] for e in examples], [e[1] for e in examples],
                     [e[2] for e in examples], [(t[0], t[1]) for t in topics], files, [w[0] for w in words], word_vectors,
                     np.array([w[1] for w in words], dtype=np.float32))


def write_build(index_dir: Path, manifest: dict, chunks: list[Chunk], tokens: list[list[str]],
                rows: list[tuple[int, str]], vectors: VectorStore, examples: list[tuple[str, str, str]],
                example_vectors: np.ndarray, topics: list[tuple[str, str, str]], files: list[tuple[str, str, str, int, str]],
                words: list[str] = (), word_vectors: np.ndarray | None = None, word_hub: np.ndarray | None = None) -> Path:
    """Write a complete build into a fresh folder, fsync it, then point `current` at it in one atomic step."""
    index_dir = Path(index_dir)
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    build_id = manifest["build_id"]
    tmp = builds / f".tmp-{build_id}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        vectors.save(tmp / VECTORS)
        crash_point_for_tests("write_faiss")
        ex_store = FaissStore(vectors.dim)
        ex_store.add(example_vectors)
        ex_store.save(tmp / EXAMPLES)
        if len(words):
            word_store = FaissStore(vectors.dim)
            word_store.add(word_vectors)
            word_store.save(tmp / WORDS)
        # The database records the vector files' checksums too: a .faiss from another build never pairs with it.
        vector_sums = {name: sha256_file(tmp / name) for name in (VECTORS, EXAMPLES, WORDS) if (tmp / name).exists()}
        hub = [] if word_hub is None else [float(h) for h in word_hub]
        _write_db(tmp / CHUNKS_DB, build_id, chunks, tokens, rows, examples, topics, files, vector_sums,
                  list(zip(words, hub)))
        crash_point_for_tests("write_db")
        written = [name for name in (CHUNKS_DB, VECTORS, EXAMPLES, WORDS) if (tmp / name).exists()]  # no vectors.faiss for Chroma
        manifest = dict(manifest, checksums={CHUNKS_DB: sha256_file(tmp / CHUNKS_DB), **vector_sums})
        _write_json(tmp / MANIFEST, manifest)
        for name in written:
            _fsync_file(tmp / name)
        fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed write (disk full...) leaves no half build behind
        raise
    final = builds / build_id
    os.replace(tmp, final)
    crash_point_for_tests("swap")
    _point_current(index_dir, final)
    _prune_builds(builds, keep=final)
    return final


def _write_db(path: Path, build_id: str, chunks: list[Chunk], tokens: list[list[str]], rows: list[tuple[int, str]],
              examples: list[tuple[str, str, str]], topics: list[tuple[str, str, str]], files: list[tuple[str, str, str, int, str]],
              vector_sums: dict[str, str], words: list[tuple[str, float]] = ()) -> None:
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('build_id', ?)", (build_id,))
        db.executemany("INSERT INTO meta VALUES (?, ?)", [(f"sha256:{name}", h) for name, h in vector_sums.items()])
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
            (i, c.id, c.source, json.dumps(list(c.title_path), ensure_ascii=False), c.text, c.span[0], c.span[1],
             c.section, c.question, c.group, c.entry, c.kind, c.topic, c.topic_confidence,
             json.dumps(c.meta.get("votes", {})), " ".join(tokens[i]), float(c.meta.get("hub", 0.0)))
            for i, c in enumerate(chunks)])
        db.executemany("INSERT INTO rows VALUES (?,?,?)", [(i, seq, kind) for i, (seq, kind) in enumerate(rows)])
        db.executemany("INSERT INTO examples VALUES (?,?,?,?)", [(i, t, x, k) for i, (k, t, x) in enumerate(examples)])
        db.executemany("INSERT INTO topics VALUES (?,?,?,?)", [(i, *t) for i, t in enumerate(topics)])
        db.executemany("INSERT INTO files VALUES (?,?,?,?,?)", files)
        db.executemany("INSERT INTO words VALUES (?,?,?)", [(i, w, h) for i, (w, h) in enumerate(words)])
        db.commit()
    finally:
        db.close()


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _point_current(index_dir: Path, build: Path) -> None:
    link = index_dir / CURRENT
    tmp_link = index_dir / f".{CURRENT}.{os.getpid()}.{time.time_ns()}"
    os.symlink(os.path.relpath(build, index_dir), tmp_link)
    os.replace(tmp_link, link)
    fsync_dir(index_dir)


def _prune_builds(builds: Path, keep: Path) -> None:
    """Remove old builds beyond KEEP_BUILDS (a reader that already loaded one keeps its data in memory)."""
    done = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    for old in done[:-KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in builds.glob(".tmp-*"):
        if stale.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(stale, ignore_errors=True)
