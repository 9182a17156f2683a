"""Scale benchmark: vector search (FAISS, Chroma) and BM25 latency vs corpus size.

Run from the repository root:

    python -m benchmarks.scale            # full run: 10k / 100k / 1M vectors
    python -m benchmarks.scale --quick    # CI smoke run: 2k / 20k, < 2 minutes

Writes benchmarks/results/scale.csv and benchmarks/results/scale.png (quick mode:
scale_quick.csv / scale_quick.png) and prints a table. See docs/scale.md for
the method and the conclusions.

Threading: index building and the 200-query batch use all cores
(``faiss.omp_set_num_threads(--threads)``, default = os.cpu_count()); the
single-query latency loop runs with ``--query-threads`` (default 1), which models
one search per request/worker; with faiss 1.15 a single exact query is slower
with 2 threads than with 1 on this 2-core host (see docs/scale.md).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable, Iterator, Sequence

import faiss
import numpy as np

K = 10
RECALL_TARGET = 0.95
RESULTS_DIR = Path(__file__).resolve().parent / "results"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = (80,)
HNSW_EF_SEARCH_SWEEP = (16, 32, 64, 128, 256, 512)
IVF_NPROBE_SWEEP = (1, 2, 4, 8, 16, 32, 64, 128)
IVF_TRAIN_PER_LIST = 40
KMEANS_ITERATIONS = 10
CHROMA_EF_SEARCH = 100
BLAS_THRESHOLD_FOR_BATCHES = 20

SearchFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class Row:
    """One measured configuration; becomes one CSV line."""

    kind: str  # "vector" or "bm25"
    method: str
    n: int
    params: str
    build_s: float
    rss_delta_mb: float
    index_mb: float
    p50_ms: float
    p95_ms: float
    batch_qps: float
    recall_at_10: float
    low_recall_frac: float = float("nan")  # share of queries with recall@10 < 0.5
    chosen: bool = False
    note: str = ""


# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------


@dataclass
class Mixture:
    """Gaussian mixture on the unit sphere with low-rank clusters."""

    centers: np.ndarray  # (clusters, dim)
    bases: np.ndarray  # (clusters, dim, rank), orthonormal columns
    weights: np.ndarray  # (clusters,)
    spread: float  # std of the in-cluster (low-rank) component, per axis
    noise: float  # std of the isotropic component, per dimension


def make_mixture(dim: int, clusters: int, rank: int, seed: int) -> Mixture:
    """Topic centres grouped under super-topics; Zipf-like topic sizes.

    Each point is centre + rank-`rank` in-cluster variation + small isotropic
    noise, then L2-normalised: cosine to its centre is ~0.75 and the intrinsic
    dimension is low, which is closer to sentence embeddings than uniform noise.
    """
    rng = np.random.default_rng(seed)
    supers = _unit_rows(rng.standard_normal((max(clusters // 20, 1), dim)))
    parent = rng.integers(0, len(supers), clusters)
    centers = _unit_rows(supers[parent] + 0.8 * _unit_rows(rng.standard_normal((clusters, dim))))
    bases = np.linalg.qr(rng.standard_normal((clusters, dim, rank)))[0].astype(np.float32)
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.5
    rng.shuffle(weights)
    return Mixture(
        centers=centers.astype(np.float32),
        bases=bases,
        weights=weights / weights.sum(),
        spread=0.8 / math.sqrt(rank),
        noise=0.3 / math.sqrt(dim),
    )


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def sample_mixture(mix: Mixture, n: int, seed: int) -> np.ndarray:
    """Draw n L2-normalised float32 vectors from the mixture."""
    rng = np.random.default_rng(seed)
    dim, rank = mix.bases.shape[1], mix.bases.shape[2]
    labels = rng.choice(len(mix.weights), size=n, p=mix.weights)
    out = rng.standard_normal((n, dim), dtype=np.float32)
    out *= np.float32(mix.noise)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(mix.weights) + 1))
    for c in range(len(mix.weights)):
        rows = order[bounds[c] : bounds[c + 1]]
        if len(rows):
            z = rng.standard_normal((len(rows), rank), dtype=np.float32) * np.float32(mix.spread)
            out[rows] += mix.centers[c] + z @ mix.bases[c].T
    faiss.normalize_L2(out)
    return out


# --------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def available_mb() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


@contextlib.contextmanager
def omp_threads(n: int) -> Iterator[None]:
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


@contextlib.contextmanager
def blas_threshold(value: int) -> Iterator[None]:
    """faiss>=1.12 only uses BLAS for exhaustive search when nq*d >= threshold
    (default 128000, i.e. >= 334 queries at d=384). A 200-query batch is far
    faster through BLAS, so batches are measured with a low threshold."""
    previous = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = value
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = previous


def latency_percentiles(search: SearchFn, queries: np.ndarray) -> tuple[float, float]:
    """p50/p95 wall time in ms of one-query-at-a-time searches (after 3 warm-ups)."""
    for q in queries[:3]:
        search(q[None, :])
    times = np.empty(len(queries))
    for i, q in enumerate(queries):
        start = time.perf_counter()
        search(q[None, :])
        times[i] = time.perf_counter() - start
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 95) * 1e3)


def batch_throughput(search: SearchFn, queries: np.ndarray) -> tuple[float, np.ndarray]:
    """Queries/s for the whole query set in one call, plus the returned ids."""
    search(queries[:16])  # warm-up: spawns the OpenMP pool after a thread-count change
    start = time.perf_counter()
    ids = search(queries)
    return len(queries) / (time.perf_counter() - start), ids


def per_query_recall(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.array([len(set(f[:K]) & set(t[:K])) / K for f, t in zip(found, truth)])


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    return float(per_query_recall(found, truth).mean())


def faiss_searcher(index: faiss.Index) -> SearchFn:
    return lambda q: index.search(q, K)[1]


def faiss_index_mb(index: faiss.Index) -> float:
    return faiss.serialize_index(index).nbytes / 2**20


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


@dataclass
class Context:
    """Everything a per-size benchmark needs."""

    base: np.ndarray
    queries: np.ndarray
    truth: np.ndarray
    threads: int
    query_threads: int


def measure_search(
    ctx: Context, kind_method: tuple[str, str], params: str, search: SearchFn,
    query_threads: int | None = None,
) -> Row:
    """Latency, throughput and recall of an already-built searcher."""
    with omp_threads(query_threads or ctx.query_threads):
        p50, p95 = latency_percentiles(search, ctx.queries)
    with omp_threads(ctx.threads), blas_threshold(BLAS_THRESHOLD_FOR_BATCHES):
        qps, ids = batch_throughput(search, ctx.queries)
    recalls = per_query_recall(ids, ctx.truth)
    kind, method = kind_method
    return Row(kind, method, len(ctx.base), params, 0.0, 0.0, 0.0, p50, p95, qps,
               float(recalls.mean()), float((recalls < 0.5).mean()))


def timed_build(build: Callable[[], object]) -> tuple[object, float, float]:
    """Run build(); return (result, seconds, RSS growth in MiB)."""
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    result = build()
    return result, time.perf_counter() - start, rss_mb() - before


def with_build(rows: list[Row], build_s: float, rss_mb_: float, index_mb: float) -> list[Row]:
    for row in rows:
        row.build_s, row.rss_delta_mb, row.index_mb = build_s, rss_mb_, index_mb
    return rows


def mark_cheapest_passing(rows: list[Row]) -> list[Row]:
    """Flag the first sweep point reaching the recall target (else the best recall)."""
    passing = [r for r in rows if r.recall_at_10 >= RECALL_TARGET]
    chosen = passing[0] if passing else max(rows, key=lambda r: r.recall_at_10)
    chosen.chosen = True
    if not passing:
        chosen.note = f"recall target {RECALL_TARGET} not reached"
    return rows


# --------------------------------------------------------------------------
# Vector indexes
# --------------------------------------------------------------------------


def exact_ground_truth(base: np.ndarray, queries: np.ndarray, threads: int) -> np.ndarray:
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    with omp_threads(threads), blas_threshold(BLAS_THRESHOLD_FOR_BATCHES):
        return index.search(queries, K)[1]


def bench_flat(ctx: Context) -> list[Row]:
    def build() -> faiss.Index:
        index = faiss.IndexFlatIP(ctx.base.shape[1])
        index.add(ctx.base)
        return index

    with omp_threads(ctx.threads):
        index, build_s, grown = timed_build(build)
    searcher = faiss_searcher(index)
    row = measure_search(ctx, ("vector", "faiss-flat"), "exact", searcher)
    row.chosen = True
    rows = [row]
    if ctx.threads > ctx.query_threads:  # does one query gain from more OpenMP threads?
        rows.append(measure_search(ctx, ("vector", "faiss-flat"),
                                   f"exact,{ctx.threads} threads/query", searcher, ctx.threads))
    return with_build(rows, build_s, grown, faiss_index_mb(index))


def bench_hnsw(ctx: Context, ef_constructions: Sequence[int], ef_sweep: Sequence[int]) -> list[Row]:
    rows: list[Row] = []
    for efc in ef_constructions:
        method = "faiss-hnsw" if len(ef_constructions) == 1 else f"faiss-hnsw-efc{efc}"
        rows += bench_hnsw_one(ctx, method, efc, ef_sweep)
    return rows


def bench_hnsw_one(ctx: Context, method: str, ef_construction: int, ef_sweep: Sequence[int]) -> list[Row]:
    def build() -> faiss.Index:
        index = faiss.IndexHNSWFlat(ctx.base.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(ctx.base)
        return index

    with omp_threads(ctx.threads):
        index, build_s, grown = timed_build(build)
    rows = []
    for ef in ef_sweep:
        index.hnsw.efSearch = ef
        params = f"M={HNSW_M},efC={ef_construction},efSearch={ef}"
        rows.append(measure_search(ctx, ("vector", method), params, faiss_searcher(index)))
    return mark_cheapest_passing(with_build(rows, build_s, grown, faiss_index_mb(index)))


def ivf_nlist(n: int) -> int:
    return max(1, int(round(4 * math.sqrt(n))))


def train_coarse_quantizer(base: np.ndarray, nlist: int, seed: int) -> faiss.IndexFlatIP:
    """Spherical k-means on a subsample (IVF_TRAIN_PER_LIST points per list)."""
    rng = np.random.default_rng(seed)
    n_train = min(len(base), nlist * IVF_TRAIN_PER_LIST)
    sample = base[np.sort(rng.choice(len(base), n_train, replace=False))]
    kmeans = faiss.Kmeans(
        base.shape[1], nlist, niter=KMEANS_ITERATIONS, spherical=True,
        max_points_per_centroid=IVF_TRAIN_PER_LIST, seed=seed, verbose=False,
    )
    kmeans.train(sample)
    quantizer = faiss.IndexFlatIP(base.shape[1])
    quantizer.add(kmeans.centroids)
    return quantizer


def assign_to_lists(quantizer: faiss.Index, base: np.ndarray) -> np.ndarray:
    with blas_threshold(BLAS_THRESHOLD_FOR_BATCHES):
        return quantizer.search(base, 1)[1].ravel()


def fill_ivf(index: faiss.IndexIVF, base: np.ndarray, lists: np.ndarray) -> None:
    """Add vectors with precomputed list assignments (avoids re-assigning)."""
    base = np.ascontiguousarray(base)
    lists = np.ascontiguousarray(lists, dtype=np.int64)
    index.add_core(len(base), faiss.swig_ptr(base), None, faiss.swig_ptr(lists))


def build_ivf_flat(base: np.ndarray, quantizer: faiss.Index, lists: np.ndarray) -> faiss.IndexIVF:
    index = faiss.IndexIVFFlat(quantizer, base.shape[1], quantizer.ntotal, faiss.METRIC_INNER_PRODUCT)
    fill_ivf(index, base, lists)
    return index


def build_ivf_sq8(base: np.ndarray, quantizer: faiss.Index, lists: np.ndarray) -> faiss.IndexIVF:
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, base.shape[1], quantizer.ntotal, faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    index.train(base[: min(len(base), 100_000)])  # quantizer already trained: SQ ranges only
    fill_ivf(index, base, lists)
    return index


def sweep_nprobe(ctx: Context, index: faiss.IndexIVF, method: str, sweep: Sequence[int]) -> list[Row]:
    rows = []
    for nprobe in (p for p in sweep if p <= index.nlist):
        index.nprobe = nprobe
        params = f"nlist={index.nlist},nprobe={nprobe}"
        rows.append(measure_search(ctx, ("vector", method), params, faiss_searcher(index)))
    return rows


def bench_ivf(ctx: Context, nprobe_sweep: Sequence[int], with_sq8: bool, seed: int) -> list[Row]:
    """IVF-Flat (and optionally IVF-SQ8 sharing the same coarse quantizer)."""
    nlist = ivf_nlist(len(ctx.base))
    with omp_threads(ctx.threads):
        (quantizer, lists), train_s, _ = timed_build(
            lambda: _trained_and_assigned(ctx.base, nlist, seed))
        index, add_s, grown = timed_build(lambda: build_ivf_flat(ctx.base, quantizer, lists))
    rows = sweep_nprobe(ctx, index, "faiss-ivf-flat", nprobe_sweep)
    rows = mark_cheapest_passing(with_build(rows, train_s + add_s, grown, faiss_index_mb(index)))
    del index  # the Python wrapper keeps the shared quantizer alive
    if with_sq8:
        with omp_threads(ctx.threads):
            sq8, sq_s, sq_grown = timed_build(lambda: build_ivf_sq8(ctx.base, quantizer, lists))
        sq_rows = sweep_nprobe(ctx, sq8, "faiss-ivf-sq8", nprobe_sweep)
        rows += mark_cheapest_passing(with_build(sq_rows, train_s + sq_s, sq_grown, faiss_index_mb(sq8)))
    return rows


def _trained_and_assigned(base: np.ndarray, nlist: int, seed: int) -> tuple[faiss.Index, np.ndarray]:
    quantizer = train_coarse_quantizer(base, nlist, seed)
    return quantizer, assign_to_lists(quantizer, base)


# --------------------------------------------------------------------------
# Chroma
# --------------------------------------------------------------------------


def chroma_add_all(collection: object, base: np.ndarray, batch: int, deadline: float) -> bool:
    """Add every vector in batches; False if the deadline passed first."""
    for start in range(0, len(base), batch):
        if time.perf_counter() > deadline:
            return False
        chunk = base[start : start + batch]
        collection.add(ids=[str(i) for i in range(start, start + len(chunk))], embeddings=chunk)
    return True


def chroma_searcher(collection: object) -> SearchFn:
    def search(q: np.ndarray) -> np.ndarray:
        res = collection.query(query_embeddings=q, n_results=K, include=[])
        return np.array([[int(i) for i in ids] for ids in res["ids"]])

    return search


def bench_chroma(ctx: Context, budget_s: float) -> list[Row]:
    """Chroma embedded (PersistentClient in a temp dir), HNSW space=ip.

    The first query after the adds is counted in build time because Chroma
    may finish indexing lazily.
    """
    import chromadb

    tmp = Path(tempfile.mkdtemp(prefix="scale-chroma-"))
    try:
        client = chromadb.PersistentClient(path=str(tmp))
        collection = client.create_collection(
            "bench", embedding_function=None,
            configuration={"hnsw": {"space": "ip", "ef_search": CHROMA_EF_SEARCH}})
        batch = client.get_max_batch_size()

        def build() -> bool:
            done = chroma_add_all(collection, ctx.base, batch, time.perf_counter() + budget_s)
            if done:
                collection.query(query_embeddings=ctx.queries[:1], n_results=K, include=[])
            return done

        done, build_s, grown = timed_build(build)
        params = f"hnsw M=16,efC=100,efSearch={CHROMA_EF_SEARCH},batch={batch}"
        if not done:
            return [skipped_row("chroma", len(ctx.base), params,
                                f"build exceeded {budget_s:.0f}s budget; aborted")]
        row = measure_search(ctx, ("vector", "chroma"), params, chroma_searcher(collection))
        row.chosen = True
        return with_build([row], build_s, grown, dir_mb(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def skipped_row(method: str, n: int, params: str, note: str, kind: str = "vector") -> Row:
    nan = float("nan")
    return Row(kind, method, n, params, nan, nan, nan, nan, nan, nan, nan, nan, True,
               "SKIPPED: " + note)


def predicted_chroma_seconds(history: list[Row], n: int) -> float:
    """Extrapolate Chroma build time linearly in N*log(N) from the last run."""
    done = [r for r in history if r.method == "chroma" and not r.note.startswith("SKIPPED")]
    if not done:
        return 0.0
    last = done[-1]
    return last.build_s * (n * math.log(n)) / (last.n * math.log(last.n))


# --------------------------------------------------------------------------
# BM25 (bm25s) on synthetic Chinese text
# --------------------------------------------------------------------------

COMMON_HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    "同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二"
    "理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义"
    "事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解"
    "问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管"
    "特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干"
    "做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术"
    "极交受联什认六共权收证改清美再采转更单风切打白教速花带安场身车例真务具万每目至达走积"
    "示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律"
    "叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响"
    "约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型"
    "眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
)


def make_chinese_vocab(size: int, seed: int) -> list[str]:
    """Distinct 1-3 character 'words' built from common hanzi (mostly bigrams)."""
    rng = np.random.default_rng(seed)
    chars = np.array(list(dict.fromkeys(COMMON_HANZI)))
    words: dict[str, None] = {}
    while len(words) < size:
        length = int(rng.choice([1, 2, 2, 2, 3]))
        words["".join(rng.choice(chars, length))] = None
    return list(words)


def zipf_probabilities(size: int, exponent: float = 1.0) -> np.ndarray:
    p = 1.0 / np.arange(1, size + 1) ** exponent
    return p / p.sum()


def sample_token_docs(n_docs: int, vocab_size: int, mean_len: int, seed: int) -> list[list[int]]:
    """Token-id lists; identical to whitespace-splitting the generated text."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(mean_len // 2, mean_len * 3 // 2 + 1, n_docs)
    tokens = rng.choice(vocab_size, size=int(lengths.sum()), p=zipf_probabilities(vocab_size))
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [tokens[bounds[i] : bounds[i + 1]].tolist() for i in range(n_docs)]


def sample_query_texts(vocab: list[str], n: int, seed: int) -> list[str]:
    """Whitespace-joined queries of 2-6 words, skipping the 50 most frequent."""
    rng = np.random.default_rng(seed)
    p = zipf_probabilities(len(vocab))[50:]
    p /= p.sum()
    picks = [rng.choice(len(vocab) - 50, int(rng.integers(2, 7)), p=p) + 50 for _ in range(n)]
    return [" ".join(vocab[i] for i in words) for words in picks]


def bench_bm25(n_docs: int, vocab: list[str], queries: list[str], mean_len: int, seed: int) -> Row:
    import bm25s
    from bm25s.tokenization import Tokenized

    docs = sample_token_docs(n_docs, len(vocab), mean_len, seed)
    corpus = Tokenized(ids=docs, vocab={w: i for i, w in enumerate(vocab)})

    def build() -> bm25s.BM25:
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)  # noqa: F821 (a closure cell, deleted below once built)
        return retriever

    retriever, build_s, grown = timed_build(build)
    del docs, corpus
    index_mb = sum(a.nbytes for a in retriever.scores.values() if isinstance(a, np.ndarray)) / 2**20

    def search_text(text: str) -> None:
        retriever.retrieve([text.split()], k=K, show_progress=False, n_threads=0)

    p50, p95 = _text_latency(search_text, queries)
    start = time.perf_counter()
    retriever.retrieve([q.split() for q in queries], k=K, show_progress=False)
    qps = len(queries) / (time.perf_counter() - start)
    return Row("bm25", "bm25s", n_docs, f"vocab={len(vocab)},doc_len~{mean_len}", build_s,
               grown, index_mb, p50, p95, qps, float("nan"), float("nan"), True)


def _text_latency(search: Callable[[str], None], queries: list[str]) -> tuple[float, float]:
    for q in queries[:3]:
        search(q)
    times = []
    for q in queries:
        start = time.perf_counter()
        search(q)
        times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 95) * 1e3)


# --------------------------------------------------------------------------
# Orchestration and output
# --------------------------------------------------------------------------


@dataclass
class Config:
    dim: int
    sizes: list[int]
    bm25_sizes: list[int]
    queries: int
    threads: int
    query_threads: int
    chroma_budget_s: float
    chroma: bool
    bm25: bool
    bm25_doc_len: int
    bm25_vocab: int
    clusters: int
    cluster_rank: int
    hnsw_ef_construction: list[int]
    seed: int
    out_dir: Path
    stem: str  # output file name stem: "scale", or "scale_quick" so CI never clobbers the full run


def estimated_peak_mb(n: int, dim: int) -> float:
    """Data + one index at a time (HNSW is the largest: vectors + ~2M links)."""
    vectors = n * dim * 4
    return (2 * vectors + n * HNSW_M * 2 * 4 * 1.1) / 2**20 + 1500


def run_vector_size(ctx: Context, cfg: Config, history: list[Row], top: bool) -> list[Row]:
    n = len(ctx.base)
    rows = bench_flat(ctx)
    log(*rows)
    rows += bench_hnsw(ctx, cfg.hnsw_ef_construction, HNSW_EF_SEARCH_SWEEP)
    log(*[r for r in rows if r.method.startswith("faiss-hnsw")])
    rows += bench_ivf(ctx, IVF_NPROBE_SWEEP, with_sq8=top, seed=cfg.seed)
    log(*[r for r in rows if r.method.startswith("faiss-ivf")])
    if cfg.chroma:
        predicted = predicted_chroma_seconds(history, n)
        if predicted > cfg.chroma_budget_s:
            rows.append(skipped_row("chroma", n, "", f"predicted build {predicted:.0f}s > "
                                    f"{cfg.chroma_budget_s:.0f}s budget (from smaller size)"))
        else:
            rows += bench_chroma(ctx, cfg.chroma_budget_s)
        log(rows[-1])
    return rows


def run_vectors(cfg: Config) -> list[Row]:
    sizes = [n for n in sorted(cfg.sizes) if _fits_in_memory(n, cfg.dim)]
    mixture = make_mixture(cfg.dim, cfg.clusters, cfg.cluster_rank, cfg.seed)
    start = time.perf_counter()
    data = sample_mixture(mixture, max(sizes), cfg.seed + 1)
    queries = sample_mixture(mixture, cfg.queries, cfg.seed + 2)
    print(f"generated {len(data):,} x {cfg.dim} vectors in {time.perf_counter() - start:.1f}s", flush=True)
    rows: list[Row] = []
    for n in sizes:
        base = data[:n]
        truth = exact_ground_truth(base, queries, cfg.threads)
        ctx = Context(base, queries, truth, cfg.threads, cfg.query_threads)
        print(f"\n== vectors N={n:,} ==", flush=True)
        rows += run_vector_size(ctx, cfg, rows, top=(n == sizes[-1]))
        gc.collect()
    return rows


def _fits_in_memory(n: int, dim: int) -> bool:
    need = estimated_peak_mb(n, dim)
    if need > 0.8 * available_mb():
        print(f"skipping N={n:,}: needs ~{need:,.0f} MiB, {available_mb():,.0f} MiB available")
        return False
    return True


def run_bm25(cfg: Config) -> list[Row]:
    vocab = make_chinese_vocab(cfg.bm25_vocab, cfg.seed)
    queries = sample_query_texts(vocab, cfg.queries, cfg.seed + 3)
    rows = []
    for n in sorted(cfg.bm25_sizes):
        print(f"\n== bm25 N={n:,} ==", flush=True)
        rows.append(bench_bm25(n, vocab, queries, cfg.bm25_doc_len, cfg.seed + 4))
        log(rows[-1])
        gc.collect()
    return rows


def log(*rows: Row) -> None:
    for r in rows:
        print(format_row(r), flush=True)


def format_row(r: Row) -> str:
    mark = "*" if r.chosen else " "
    return (f"{mark}{r.method:<15} {r.n:>9,} {r.params:<44.44} {r.build_s:>8.1f} "
            f"{r.rss_delta_mb:>8.0f} {r.index_mb:>8.0f} {r.p50_ms:>8.2f} {r.p95_ms:>8.2f} "
            f"{r.batch_qps:>9.0f} {r.recall_at_10:>6.3f} {r.low_recall_frac:>6.3f} {r.note}")


def print_table(rows: list[Row]) -> None:
    header = (f" {'method':<15} {'N':>9} {'params':<44} {'build_s':>8} {'rss_MiB':>8} "
              f"{'idx_MiB':>8} {'p50_ms':>8} {'p95_ms':>8} {'batch_qps':>9} {'R@10':>6} {'R<.5':>6} note")
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(format_row(r))
    print("(* = configuration used in the plot: cheapest reaching recall@10 >= "
          f"{RECALL_TARGET}, or best recall if none does; R<.5 = share of queries "
          "with recall@10 < 0.5)")


def write_csv(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(Row)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in asdict(r).items()})


def plot_latency(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for method in dict.fromkeys(r.method for r in rows):
        pts = sorted((r.n, r.p50_ms) for r in rows
                     if r.method == method and r.chosen and not math.isnan(r.p50_ms))
        if pts:
            style = "--s" if method == "bm25s" else "-o"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=method)
    ax.axhline(10, color="grey", lw=0.8, ls=":", label="10 ms target")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("corpus size N (vectors / documents)")
    ax.set_ylabel("single-query p50 latency (ms)")
    ax.set_title(f"Search latency vs corpus size (ANN at recall@10 >= {RECALL_TARGET} when reachable)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_sizes(text: str) -> list[int]:
    def one(tok: str) -> int:
        tok = tok.strip().lower()
        mult = {"k": 1_000, "m": 1_000_000}.get(tok[-1], 1)
        return int(float(tok[:-1] if mult > 1 else tok) * mult)

    return [one(t) for t in text.split(",") if t.strip()]


def parse_args(argv: Sequence[str] | None) -> Config:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI mode: sizes 2k,20k and 50 queries")
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--sizes", type=parse_sizes, default=None, help="vector corpus sizes, e.g. 10k,100k,1m")
    p.add_argument("--bm25-sizes", type=parse_sizes, default=None)
    p.add_argument("--queries", type=int, default=None, help="held-out queries (default 200; 50 quick)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="OpenMP threads for build/batch")
    p.add_argument("--query-threads", type=int, default=1, help="OpenMP threads for single-query latency")
    p.add_argument("--chroma-budget", type=float, default=300.0, help="max seconds for one Chroma build")
    p.add_argument("--no-chroma", action="store_true")
    p.add_argument("--no-bm25", action="store_true")
    p.add_argument("--bm25-doc-len", type=int, default=120, help="mean tokens per document")
    p.add_argument("--bm25-vocab", type=int, default=5000)
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--cluster-rank", type=int, default=24)
    p.add_argument("--hnsw-efc", type=parse_sizes, default=list(HNSW_EF_CONSTRUCTION),
                   help="HNSW efConstruction value(s), comma-separated (default 80)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    a = p.parse_args(argv)
    default_sizes = [2_000, 20_000] if a.quick else [10_000, 100_000, 1_000_000]
    return Config(
        dim=a.dim, sizes=a.sizes or default_sizes, bm25_sizes=a.bm25_sizes or default_sizes,
        queries=a.queries or (50 if a.quick else 200), threads=a.threads,
        query_threads=a.query_threads, chroma_budget_s=a.chroma_budget, chroma=not a.no_chroma,
        bm25=not a.no_bm25, bm25_doc_len=a.bm25_doc_len, bm25_vocab=a.bm25_vocab,
        clusters=a.clusters, cluster_rank=a.cluster_rank, hnsw_ef_construction=a.hnsw_efc, seed=a.seed, out_dir=a.out_dir,
        stem="scale_quick" if a.quick else "scale",
    )


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    faiss.omp_set_num_threads(cfg.threads)
    print(f"faiss {faiss.__version__}, threads build/batch={cfg.threads}, "
          f"single-query={cfg.query_threads}, dim={cfg.dim}, queries={cfg.queries}", flush=True)
    start, load_at_start = time.perf_counter(), f"{os.getloadavg()[0]:.2f}"
    rows = run_vectors(cfg) if cfg.sizes else []
    if cfg.bm25:
        rows += run_bm25(cfg)
    print_table(rows)
    csv_path, png_path = cfg.out_dir / f"{cfg.stem}.csv", cfg.out_dir / f"{cfg.stem}.png"
    write_csv(rows, csv_path)
    plot_latency(rows, png_path)
    print(f"\nwrote {csv_path} and {png_path} "
          f"in {time.perf_counter() - start:.0f}s total; load average at start "
          f"{load_at_start}, at end {os.getloadavg()[0]:.2f} (other work on the host skews timings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
