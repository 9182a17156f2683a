"""python -m benchmarks.speed [--index DIR --corpus DIR] [--questions FILE] [--sizes 2000,20000] [--full-ingest]

Prints the issue's speed figures on this machine: load time, no-op re-ingest, the marginal time per question
(batch mode, models loaded) on the index and on copies of it grown to each of --sizes chunks
(benchmarks/grown_index.py), and optionally a full ingest of the corpus into a fresh folder.

Each per-question figure stands beside a dense-only baseline measured in the same run on the same questions: embed
the question and take its 10 nearest chunks from the vector store, nothing else. Machine load moves both alike, so
their ratio is the comparable figure. Questions alternate between the two, so a change in load hits both.
Each ask is also split into the embedding engine's time and the rest (retrieval, re-ranking, answerability, topic
vote, composing): the rest is what grows with the corpus if anything does. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from kb.core.config import load_settings
from kb.eval import read_cases

QUESTIONS = Path(__file__).resolve().parent.parent / "data" / "eval" / "seed" / "fresh4.jsonl"
SIZES = (2_000, 20_000)


class EngineClock:
    """The embedder, adding up the seconds its calls take."""

    def __init__(self, embedder) -> None:
        self.embedder, self.id, self.dim, self.seconds = embedder, embedder.id, embedder.dim, 0.0

    def _clocked(self, fn, texts):
        t0 = time.perf_counter()
        try:
            return fn(texts)
        finally:
            self.seconds += time.perf_counter() - t0

    def embed_queries(self, texts):
        return self._clocked(self.embedder.embed_queries, texts)

    def embed_passages(self, texts):
        return self._clocked(self.embedder.embed_passages, texts)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def dense_only(kb, question: str) -> list:
    """The baseline: the question's embedding and its 10 nearest chunks, as a plain dense retriever returns them."""
    _, rows = kb.data.vectors.search(kb.embed_query(question), 10)
    return [kb.data.chunks[kb.data.row_chunk[r]] for r in rows[0] if r >= 0]


def per_question(kb, questions: list[str]) -> tuple[list[float], list[float], list[float]]:
    """Seconds per question for ask(), for its embedding calls, and for the dense-only baseline, alternating
    question by question (kb's embedder is an EngineClock)."""
    kb.ask(questions[0])  # warm-up: first-call costs (jieba, OpenCC, caches) are not marginal
    dense_only(kb, questions[0])
    hybrid, engine, dense = [], [], []
    for q in questions:
        before = kb.embedder.seconds
        hybrid.append(timed(lambda q=q: kb.ask(q)))
        engine.append(kb.embedder.seconds - before)
        dense.append(timed(lambda q=q: dense_only(kb, q)))
    return hybrid, engine, dense


def report(label: str, hybrid: list[float], engine: list[float], dense: list[float], target_ms: int) -> None:
    mean_h, mean_e, mean_d = statistics.mean(hybrid), statistics.mean(engine), statistics.mean(dense)
    p95 = sorted(hybrid)[int(0.95 * len(hybrid))]
    print(f"per question, {label:<15} {mean_h * 1000:6.1f} ms mean (engine {mean_e * 1000:.1f}, rest "
          f"{(mean_h - mean_e) * 1000:.1f}), p95 {p95 * 1000:5.1f} ms (target <= {target_ms} ms); "
          f"dense-only baseline {mean_d * 1000:5.1f} ms, ratio {mean_h / mean_d:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--corpus", type=Path, help="the index's corpus (for the no-op re-ingest); default the seed")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="eval-format questions to time")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="chunk counts to grow the index to for the scaling figures ('' for none)")
    parser.add_argument("--full-ingest", action="store_true", help="also time a full ingest into a fresh folder")
    args = parser.parse_args(argv)
    settings = load_settings().replace(index_dir=args.index, corpus_dir=args.corpus)
    from benchmarks.grown_index import grown
    from ingest.build import build_index
    from kb.knowledge import KnowledgeBase

    noop = timed(lambda: build_index(settings))
    holder = {}
    load = timed(lambda: holder.setdefault("kb", KnowledgeBase.load(settings)))
    kb = holder["kb"]
    questions = [c.q for c in read_cases(args.questions)]
    print(f"load index + models      {load:7.2f} s   (target <= 5 s)")
    print(f"no-op re-ingest          {noop:7.2f} s   (target <= 2 s)")
    print(f"{len(questions)} questions ({args.questions.name}) per index; marginal time, models loaded:")
    clock = EngineClock(kb.embedder)
    kb = KnowledgeBase(kb.data, clock, kb.settings, kb.calibration)
    report(f"{len(kb.data.chunks):,} chunks", *per_question(kb, questions), 40)
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        t0 = time.perf_counter()
        big = KnowledgeBase(grown(kb.data, size), clock, kb.settings, kb.calibration)
        setup = time.perf_counter() - t0
        report(f"{len(big.data.chunks):,} chunks", *per_question(big, questions), 40 if size <= 2_000 else 60)
        print(f"    (grown copy of the index, built in memory in {setup:.1f} s)")
    if args.full_ingest:
        tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
        try:
            full = timed(lambda: build_index(settings.replace(index_dir=tmp)))
            print(f"full ingest ({Path(settings.corpus_dir).name}) {full:7.1f} s   (target <= 120 s for the seed; "
                  f"nothing cached but the shared cache)")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
