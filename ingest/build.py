"""Build (or incrementally rebuild) the index: load, clean, chunk, dedupe, embed, vote topics, write atomically."""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from kb.answering.answerability import OFF_DOMAIN_LABEL, covered_probes, off_domain_probes
from kb.answering.topics import to_vote, vote_shares
from kb.core.calibration import load_calibration
from kb.core.config import ROOT, Settings
from kb.core.embed import get_embedder
from kb.core.errors import BadInput, BuildFailed, KBError
from kb.core.index import BUILDS, CURRENT, PROBE, QUESTION, TAXONOMY, crash_point_for_tests, load_index, read_manifest, write_build
from kb.core.schema import SCHEMA_VERSION, Chunk
from kb.core.store import FaissStore, store_class
from kb.core.textnorm import to_simplified, tokenize
from kb.retrieval.wordbridge import hubness, vocabulary

from .cache import EmbeddingCache, SharedCache
from .chunk import chunk_document, parent_chunks
from .clean import document_title, strip_site_noise
from .hubness import chunk_hubness, pseudo_queries
from .labels import LabelFile, blend, chunk_labels, question_examples, read_label_files
from .labels import fingerprint as label_fingerprint
from .load import Document, Skipped, load_corpus
from .taxonomy import Taxonomy, is_taxonomy, parse_taxonomy
from .taxonomy_file import CORPUS_NAMES, STRUCTURED_SUFFIXES, load_taxonomy

log = logging.getLogger(__name__)

CHUNKER_VERSION = 16  # bump when chunking, lexical tokenization or the text embedded changes
DEFAULT_TAXONOMY = ROOT / "data" / "seed" / "000_95118d8ff96ae265.txt"
NEAR_DUPLICATE = 0.97  # cosine above which two chunks from different sections are reported as near-duplicates
PREFIX_CHARS = 8  # the "query: " / "passage: " prefix and special tokens every text is embedded with, in characters


@dataclass
class BuildReport:
    noop: bool = False
    files: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    chunks: int = 0
    parents: int = 0  # whole-section chunks over short sub-sections (ingest/chunk.py parent_chunks)
    duplicates_dropped: int = 0
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    topics: dict[str, int] = field(default_factory=dict)
    probes_covered: list[str] = field(default_factory=list)  # off-domain probes this corpus answers: not used
    labelled: int = 0  # chunks some labelled question points at (kb/labels.py)
    label_questions: int = 0
    seconds: float = 0.0
    build: str = ""
    revoted: bool = False  # only the taxonomy or labels changed: the previous chunks and vectors, voted again

    def summary(self) -> str:
        if self.noop:
            return f"index is up to date ({self.files} files, {self.chunks} chunks); nothing to embed ({self.seconds:.2f} s)"
        topics = ", ".join(f"{k} {v}" for k, v in self.topics.items())
        if self.revoted:
            return "\n".join([f"taxonomy or labels changed: {self.chunks} chunks re-voted without re-embedding; embedded "
                              f"{self.embedded} new example sentences, reused {self.reused}, {self.seconds:.1f} s",
                              f"topics: {topics}"] + [f"skipped {s.source}: {s.reason}" for s in self.skipped])
        lines = [f"{self.files} files, {self.chunks} chunks + {self.parents} whole sections "
                 f"({self.duplicates_dropped} exact duplicates dropped, "
                 f"{len(self.near_duplicates)} near-duplicate pairs), embedded {self.embedded} texts, reused {self.reused}, "
                 f"{self.seconds:.1f} s", f"topics: {topics}"]
        if self.labelled:
            lines.append(f"topic labels: {self.label_questions} labelled questions point at {self.labelled} chunks")
        if self.probes_covered:
            lines.append(f"in scope for this corpus, so not used as off-domain probes: {'、'.join(self.probes_covered)}")
        lines += [f"skipped {s.source}: {s.reason}" for s in self.skipped]
        return "\n".join(lines)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildFailed(f"another build of {index_dir} is running; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


OVERRIDE_TAXONOMY = "taxonomy.yaml"  # in the index folder: the page's taxonomy for a corpus folder it cannot write


def split_taxonomy(docs: list[Document], taxonomy_path: Path | None = None,
                   settings: Settings | None = None) -> tuple[Taxonomy, list[Document]]:
    """The taxonomy and the searchable documents. The first found wins: taxonomy_path or settings.taxonomy_file,
    the index folder's taxonomy.yaml (the page's override), the corpus's taxonomy.yaml/.yml/.json, a corpus file
    that declares categories the `000_…txt` way, the bundled taxonomy. A `000_…txt`-style file is never searched."""
    declared = next((d for d in docs if is_taxonomy(d.text)), None)
    searchable = [d for d in docs if d is not declared]
    for path in taxonomy_files(settings, taxonomy_path):
        if path.exists():
            return load_taxonomy(path), searchable
    if declared is not None:
        return parse_taxonomy(declared.text, declared.source), searchable
    return load_taxonomy(DEFAULT_TAXONOMY), docs


def taxonomy_files(settings: Settings | None, taxonomy_path: Path | None = None) -> list[Path]:
    """Where a taxonomy file is looked for, first first (an explicit file is required to exist)."""
    explicit = taxonomy_path or (Path(settings.taxonomy_file).expanduser() if settings and settings.taxonomy_file else None)
    if explicit is not None:
        if not explicit.is_file():
            raise BadInput(f"taxonomy file {explicit} does not exist (--taxonomy / KB_TAXONOMY_FILE)")
        return [explicit]
    if settings is None:
        return []
    corpus = [Path(settings.corpus_dir) / name for name in CORPUS_NAMES]
    present = [p.name for p in corpus if p.exists()]
    if len(present) > 1:
        raise BadInput(f"the corpus has {' and '.join(present)}; keep one taxonomy file")
    return [Path(settings.index_dir) / OVERRIDE_TAXONOMY, *corpus]


def current_taxonomy(settings: Settings) -> Taxonomy:
    """The taxonomy the next build of settings would use (what the page edits)."""
    for path in taxonomy_files(settings):
        if path.exists():
            return load_taxonomy(path)
    corpus = Path(settings.corpus_dir)
    docs = load_corpus(corpus)[0] if corpus.is_dir() else []
    return split_taxonomy(docs)[0]


def taxonomy_target(settings: Settings) -> Path:
    """The file the page saves a taxonomy to: the one in use if it is a YAML/JSON file that can be written, else the
    corpus's taxonomy.yaml when the corpus folder is writable, else the index folder's override."""
    if settings.taxonomy_file:
        explicit = Path(settings.taxonomy_file).expanduser()
        if explicit.suffix.lower() not in STRUCTURED_SUFFIXES or (explicit.exists() and not os.access(explicit, os.W_OK)):
            raise BadInput(f"the taxonomy comes from {explicit} (--taxonomy / KB_TAXONOMY_FILE), which the page cannot "
                           "write; edit that file, or unset it to edit the corpus's taxonomy here")
        return explicit
    for path in taxonomy_files(settings):
        if path.exists() and path.suffix.lower() in STRUCTURED_SUFFIXES and os.access(path, os.W_OK):
            return path
    corpus = Path(settings.corpus_dir)
    if os.access(corpus, os.W_OK) and corpus.resolve() != DEFAULT_TAXONOMY.parent.resolve():
        return corpus / CORPUS_NAMES[0]
    return Path(settings.index_dir) / OVERRIDE_TAXONOMY


def label_files(settings: Settings, taxonomy: Taxonomy) -> list[LabelFile]:
    return read_label_files(Path(settings.labels_dir) if settings.labels_dir else None,
                            [c.id for c in taxonomy.categories])


def fingerprint(settings: Settings, docs: list[Document], taxonomy: Taxonomy,
                labels: list[LabelFile] = ()) -> dict:
    """What a build depends on; an equal fingerprint means there is nothing to do."""
    fp = {
        "schema_version": SCHEMA_VERSION, "chunker_version": CHUNKER_VERSION, "embedder": settings.embedder,
        "chunk_chars": settings.chunk_chars, "chunk_overlap_chars": settings.chunk_overlap_chars,
        "files": {d.source: d.sha256 for d in docs}, "taxonomy": taxonomy.sha256,
        # the off-domain probes are embedded into the build: a changed list is a changed build
        "probes": hashlib.sha256("\n".join(off_domain_probes()).encode("utf-8")).hexdigest()[:16],
        "labels": label_fingerprint(labels),
    }
    if settings.store != "faiss":  # only then, so existing FAISS builds keep their fingerprint
        fp["store"] = {"name": settings.store, "url": settings.chroma_url}
    return fp


def _previous_fingerprint(index_dir: Path) -> dict | None:
    try:
        return read_manifest((index_dir / CURRENT).resolve()).get("fingerprint")
    except (KBError, OSError):
        return None


def chunk_corpus(docs: list[Document], settings: Settings,
                 fits: Callable[[str], bool] | None = None) -> tuple[list[Chunk], int]:
    """All chunks in corpus order with exact duplicates collapsed (first occurrence kept), then the parent chunks
    (whole sections that fits: the embedder can read all of one)."""
    seen: set[str] = set()
    chunks, dropped = [], 0
    for doc in docs:
        for chunk in chunk_document(strip_site_noise(doc.text), doc.source, settings.chunk_chars, settings.chunk_overlap_chars):
            if chunk.id in seen:
                dropped += 1
                continue
            seen.add(chunk.id)
            chunks.append(chunk)
    chunks += [p for p in parent_chunks(chunks, fits) if p.id not in seen]
    return chunks, dropped


def embedding_cost(text: str) -> int:
    """Roughly what embedding the text costs the engine (its time grows with the tokens): characters plus prefix."""
    return len(text) + PREFIX_CHARS


def faq_entries(chunks: list[Chunk]) -> list[tuple[str, int]]:
    """(question, first chunk position) for every FAQ entry: each question is also indexed on its own."""
    entries: dict[str, tuple[str, int]] = {}
    for i, c in enumerate(chunks):
        if c.entry:
            entries.setdefault(c.entry, (c.question, i))
    return list(entries.values())


def find_near_duplicates(chunks: list[Chunk], vectors: np.ndarray) -> list[tuple[str, str, float]]:
    """Pairs of chunks from different sections whose passage vectors are nearly identical."""
    if len(chunks) < 2:
        return []
    store = FaissStore(vectors.shape[1])
    store.add(vectors)
    scores, ids = store.search(vectors, 2)
    pairs = set()
    for i in range(len(chunks)):
        j, s = int(ids[i, 1]), float(scores[i, 1])
        if j >= 0 and s >= NEAR_DUPLICATE and chunks[i].section != chunks[j].section:
            pairs.add((min(i, j), max(i, j), round(s, 4)))
    return [(chunks[a].id, chunks[b].id, s) for a, b, s in sorted(pairs)]


def build_index(settings: Settings, progress: Callable[[int, int], None] | None = None, force: bool = False,
                taxonomy_path: Path | None = None) -> BuildReport:
    """Build the index for settings.corpus_dir into settings.index_dir; a no-op when nothing changed. progress(done,
    total) follows the embedding in units of embedding_cost, so its share done is a fair share of the time."""
    t0 = time.perf_counter()
    corpus, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    if not corpus.is_dir():
        raise BuildFailed(f"corpus folder {corpus} does not exist")
    store_class(settings.store)  # an unknown store fails before any embedding
    with build_lock(index_dir):
        docs, skipped = load_corpus(corpus)
        taxonomy, docs = split_taxonomy(docs, taxonomy_path, settings)
        if not docs:
            raise BuildFailed(f"no usable .txt/.md files in {corpus}")
        labels = label_files(settings, taxonomy)
        fp = fingerprint(settings, docs, taxonomy, labels)
        if not force and _previous_fingerprint(index_dir) == fp:
            manifest = read_manifest((index_dir / CURRENT).resolve())
            counts = manifest["counts"]
            return BuildReport(noop=True, files=len(docs), skipped=skipped, chunks=counts["chunks"] - counts.get("parents", 0),
                               seconds=time.perf_counter() - t0, build=manifest["build_id"])
        try:
            previous = _previous_fingerprint(index_dir)
            if not force and previous is not None and _only_topics_changed(previous, fp):
                report = _revote(settings, docs, skipped, taxonomy, labels, fp, t0)
                if report is not None:
                    return report
            return _build(settings, docs, skipped, taxonomy, labels, fp, progress, t0)
        except (OSError, sqlite3.Error) as exc:  # disk full, read-only folder, quota: the old build stays current
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise BuildFailed(f"could not write the index to {index_dir}: {reason}; "
                              f"the previous index (if any) is still served") from exc


def vote_chunks(chunks: list[Chunk], passage_vectors: np.ndarray, example_vectors: np.ndarray, taxonomy: Taxonomy,
                labels: list[LabelFile], tuned: dict, uncertain_share: float) -> dict[int, dict[str, int]]:
    """Set every chunk's topic: a kNN vote over the taxonomy examples blended with its labels; returns the labels."""
    topic_ids = [c.id for c in taxonomy.categories]
    shares = vote_shares(passage_vectors @ example_vectors.T, [e.topic for e in taxonomy.examples], topic_ids,
                         int(tuned["knn_k"]), float(tuned["knn_temperature"]))
    labelled = chunk_labels(chunks, labels)
    for i, (chunk, row) in enumerate(zip(chunks, shares)):
        knn = to_vote(row, topic_ids, uncertain_share).votes
        votes = blend(knn, labelled.get(i), float(tuned["label_weight"]))
        vote = to_vote(np.array([votes.get(t, 0.0) for t in topic_ids]), topic_ids, uncertain_share)
        chunk.topic, chunk.topic_confidence, chunk.meta["votes"] = vote.id, vote.confidence, vote.votes
    return labelled


def example_rows(taxonomy: Taxonomy, asked: list[tuple[str, str]], probes: list[str]) -> list[tuple[str, str, str]]:
    """(kind, topic, text) of a build's examples, in the order of their vectors: the taxonomy's, the labelled
    questions, the off-domain probes kept."""
    return ([(TAXONOMY, e.topic, e.text) for e in taxonomy.examples] + [(QUESTION, t, q) for t, q in asked]
            + [(PROBE, OFF_DOMAIN_LABEL, p) for p in probes])


def _only_topics_changed(previous: dict, fp: dict) -> bool:
    """Whether two fingerprints differ in the taxonomy or the labels alone: then chunks and vectors can be reused."""
    def rest(f: dict) -> dict:
        return {k: v for k, v in f.items() if k not in ("taxonomy", "labels")}
    return rest(previous) == rest(fp)


def _revote(settings: Settings, docs: list[Document], skipped: list[Skipped], taxonomy: Taxonomy,
            labels: list[LabelFile], fp: dict, t0: float) -> BuildReport | None:
    """The fast path for a changed taxonomy or labels: the current build's chunks and vectors, every chunk voted
    again; only example sentences not in the embedding cache are embedded. None when the current build cannot hand
    back its vectors (then the caller builds in full)."""
    index_dir = Path(settings.index_dir)
    try:
        data = load_index(index_dir, settings.embedder)
    except KBError:
        return None
    if settings.store != "faiss" or data.manifest.get("store", {}).get("name", "faiss") != "faiss":
        return None
    dim = int(data.manifest["embedder"]["dim"])
    cache = EmbeddingCache(index_dir / "cache" / "embeddings.sqlite", data.manifest["embedder"]["id"], dim)
    try:
        examples = [to_simplified(e.text) for e in taxonomy.examples]
        e_vecs, embedded = cache.get_or_embed("passage", examples,
                                              lambda texts: get_embedder(settings.embedder).embed_passages(texts))
        asked = question_examples(labels)
        a_vecs, more = cache.get_or_embed("query", [to_simplified(q) for _, q in asked],
                                          lambda texts: get_embedder(settings.embedder).embed_queries(texts))
        embedded += more
    finally:
        cache.close()
    calibration = load_calibration(settings.embedder)
    chunks = data.chunks
    all_vecs = data.vectors.vectors(range(len(data.vectors)))
    rows = [(int(c), k) for c, k in zip(data.row_chunk, data.row_kind)]
    p_vecs = all_vecs[[r for r, (_, kind) in enumerate(rows) if kind == "passage"]]
    labelled = vote_chunks(chunks, p_vecs, e_vecs, taxonomy, labels, calibration["topics"], settings.uncertain_share)
    build_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 1_000_000:06d}"
    store = store_class(settings.store).for_build(settings, build_id, dim)
    store.add(all_vecs, [{"topic": chunks[i].topic, "source": chunks[i].source} for i, _ in rows])
    off = [i for i, kind in enumerate(data.example_kinds) if kind == PROBE]  # the probes, as the last build kept them
    own = [c for c in chunks if c.kind != "parent"]
    counts = Counter(c.topic for c in own)
    topic_ids = [c.id for c in taxonomy.categories]
    report = BuildReport(files=len(docs), skipped=skipped, chunks=len(own), parents=len(chunks) - len(own),
                         embedded=embedded, reused=len(examples) + len(asked) - embedded, topics={t: counts.get(t, 0) for t in topic_ids},
                         probes_covered=list(data.manifest.get("probes_covered", [])), labelled=len(labelled),
                         label_questions=sum(len(f.questions) for f in labels), revoted=True)
    manifest = {k: v for k, v in data.manifest.items() if k != "checksums"} | {
        "build_id": build_id, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "store": store.describe(),
        "counts": data.manifest["counts"] | {"examples": len(examples), "question_examples": len(asked)},
        "taxonomy": {"source": taxonomy.source, "sha256": taxonomy.sha256}, "topics": report.topics,
        "labels": {"files": fp["labels"], "questions": report.label_questions, "chunks": report.labelled},
        "fingerprint": fp, "revoted_from": data.manifest["build_id"], "seconds": round(time.perf_counter() - t0, 2)}
    report.build = str(write_build(
        index_dir, manifest, chunks, data.tokens, rows, store,
        example_rows(taxonomy, asked, [data.example_texts[i] for i in off]),
        np.vstack([e_vecs, a_vecs.reshape(-1, dim), data.example_vectors[off]]),
        [(c.id, c.name, c.description) for c in taxonomy.categories],
        [(s, f["sha256"], f["encoding"], f["chunks"], f["title"]) for s, f in data.files.items()],
        data.words, data.word_vectors, data.word_hub))
    report.seconds = time.perf_counter() - t0
    return report


def _build(settings: Settings, docs: list[Document], skipped: list[Skipped], taxonomy: Taxonomy,
           labels: list[LabelFile], fp: dict, progress: Callable[[int, int], None] | None, t0: float) -> BuildReport:
    embedder = get_embedder(settings.embedder)
    calibration = load_calibration(settings.embedder)
    chunks, dropped = chunk_corpus(docs, settings, lambda text: embedder.token_count(text) <= embedder.max_tokens)
    entries = faq_entries(chunks)
    cache = EmbeddingCache(Path(settings.index_dir) / "cache" / "embeddings.sqlite", embedder.id, embedder.dim)
    share = settings.shared_cache_dir.strip()
    shared = SharedCache(share, embedder.id, embedder.dim) if share and share.lower() != "none" else None
    # Everything is embedded in Simplified script (questions too, kb.embed_query): e5 ranks passages in the
    # question's own script first, so a Traditional question missed Simplified answers and the other way round.
    passages = [to_simplified(c.embedding_text()) for c in chunks]
    questions = [to_simplified(q) for q, _ in entries]
    examples = [to_simplified(e.text) for e in taxonomy.examples]
    asked = question_examples(labels)
    asked_texts = [to_simplified(q) for _, q in asked]
    probes = [to_simplified(p) for p in off_domain_probes()]
    tokens = [tokenize(c.embedding_text()) for c in chunks]
    # The corpus's Chinese words, embedded like questions, for the word bridge (kb/retrieval/wordbridge.py); only
    # for embedders calibrated for it.
    words = vocabulary(tokens) if calibration["retrieval"]["word_bridge_min_csls"] is not None else []
    pseudo = [to_simplified(q) for q in pseudo_queries(chunks)]
    # progress counts the engine's work, not texts: a word costs the engine little, a passage of 400 characters much
    texts = [*passages, *questions, *examples, *asked_texts, *probes, *words, *pseudo]
    total = sum(map(embedding_cost, texts))
    done = [0]

    def tick(batch: list[str]) -> None:
        done[0] += sum(map(embedding_cost, batch))
        if progress:
            progress(done[0], total)

    try:
        p_vecs, n1 = cache.get_or_embed("passage", passages, embedder.embed_passages, tick)
        crash_point_for_tests("embedding")
        q_vecs, n2 = cache.get_or_embed("query", questions, embedder.embed_queries, tick)
        e_vecs, n3 = cache.get_or_embed("passage", examples, embedder.embed_passages, tick, shared=shared)
        a_vecs, n7 = cache.get_or_embed("query", asked_texts, embedder.embed_queries, tick, shared=shared)
        o_vecs, n4 = cache.get_or_embed("query", probes, embedder.embed_queries, tick, shared=shared)
        w_vecs, n5 = cache.get_or_embed("query", words, embedder.embed_queries, tick, batch=64)
        h_vecs, n6 = cache.get_or_embed("query", pseudo, embedder.embed_queries, tick)
    finally:
        cache.close()
        if shared is not None:
            shared.close()
    topic_ids = [c.id for c in taxonomy.categories]
    labelled = vote_chunks(chunks, p_vecs, e_vecs, taxonomy, labels, calibration["topics"], settings.uncertain_share)
    build_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 1_000_000:06d}"
    rows = [(i, "passage") for i in range(len(chunks))] + [(i, "question") for _, i in entries]
    all_vecs = np.vstack([p_vecs, q_vecs]) if len(q_vecs) else p_vecs
    for chunk, hub in zip(chunks, chunk_hubness(all_vecs, [i for i, _ in rows], len(chunks), h_vecs)):
        chunk.meta["hub"] = float(hub)
    store = store_class(settings.store).for_build(settings, build_id, embedder.dim)
    store.add(all_vecs,
              [{"topic": chunks[i].topic, "source": chunks[i].source} for i, _ in rows])
    probe_covered = calibration["answerability"]["probe_covered"]
    covered = covered_probes(o_vecs, all_vecs, 2.0 if probe_covered is None else probe_covered)  # 2.0: keep them all
    own = [i for i, c in enumerate(chunks) if c.kind != "parent"]  # a parent repeats its sub-sections: not counted
    near = find_near_duplicates([chunks[i] for i in own], p_vecs[own])
    counts = Counter(chunks[i].topic for i in own)
    report = BuildReport(files=len(docs), skipped=skipped, chunks=len(own), parents=len(chunks) - len(own),
                         duplicates_dropped=dropped,
                         near_duplicates=near, embedded=n1 + n2 + n3 + n4 + n5 + n6 + n7,
                         reused=len(texts) - (n1 + n2 + n3 + n4 + n5 + n6 + n7),
                         topics={t: counts.get(t, 0) for t in topic_ids},
                         probes_covered=[p for p, c in zip(probes, covered) if c], labelled=len(labelled),
                         label_questions=sum(len(f.questions) for f in labels))
    report.seconds = time.perf_counter() - t0
    manifest = {
        "schema_version": SCHEMA_VERSION, "build_id": build_id, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedder": {"name": settings.embedder, "id": embedder.id, "dim": embedder.dim},
        "store": store.describe(),
        "counts": {"files": len(docs), "chunks": len(chunks), "parents": report.parents, "vectors": len(store),
                   "faq_questions": len(entries), "examples": len(examples), "question_examples": len(asked), "words": len(words),
                   "pseudo_queries": len(pseudo),
                   "duplicates_dropped": dropped, "near_duplicates": len(near)},
        "files": fp["files"], "taxonomy": {"source": taxonomy.source, "sha256": taxonomy.sha256},
        "topics": report.topics, "near_duplicates": [list(p) for p in near[:50]],
        "skipped": [{"source": s.source, "reason": s.reason} for s in skipped],
        "probes_covered": report.probes_covered,
        "labels": {"files": fp["labels"], "questions": report.label_questions, "chunks": report.labelled},
        "fingerprint": fp, "seconds": round(report.seconds, 2),
    }
    report.build = str(write_build(
        Path(settings.index_dir), manifest, chunks, tokens, rows, store,
        example_rows(taxonomy, asked, [p for p, c in zip(probes, covered) if not c]),
        np.vstack([e_vecs, a_vecs.reshape(-1, embedder.dim), o_vecs[~covered]]),
        [(c.id, c.name, c.description) for c in taxonomy.categories],
        [(d.source, d.sha256, d.encoding, sum(1 for c in chunks if c.source == d.source and c.kind != "parent"),
          document_title(d.text, d.source)) for d in docs],
        words, w_vecs, hubness(w_vecs)))
    kept = {p.name for p in (Path(settings.index_dir) / BUILDS).iterdir() if p.is_dir() and not p.name.startswith(".")}
    store_class(settings.store).prune(settings, kept)  # old Chroma collections go once their build folder has
    report.seconds = time.perf_counter() - t0
    return report


def ensure_index(settings: Settings, progress: Callable[[int, int], None] | None = None) -> BuildReport | None:
    """Build the index when none is usable (first start); leave a loadable one alone."""
    try:
        load_index(Path(settings.index_dir), settings.embedder)
        return None
    except KBError:
        return build_index(settings, progress, force=True)


def report_json(report: BuildReport) -> str:
    return json.dumps({k: v for k, v in report.__dict__.items() if k != "skipped"} |
                      {"skipped": [s.__dict__ for s in report.skipped]}, ensure_ascii=False)
