"""python -m benchmarks.speed [--index DIR] [--full-ingest]

Prints the issue's speed figures on this machine: load time, marginal time per question in batch mode
(hybrid, with dense-only retrieval as the same-run baseline), no-op re-ingest, and optionally a full
ingest of the seed corpus into a fresh folder. Figures are printed, never asserted.
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


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--full-ingest", action="store_true", help="also time a full ingest into a fresh folder")
    args = parser.parse_args(argv)
    settings = load_settings().replace(index_dir=args.index)
    from ingest.build import build_index
    from kb.knowledge import KnowledgeBase

    noop = timed(lambda: build_index(settings))
    holder = {}
    load = timed(lambda: holder.setdefault("kb", KnowledgeBase.load(settings)))
    kb = holder["kb"]
    questions = [c.q for c in read_cases(QUESTIONS)]
    kb.ask(questions[0])  # warm-up
    hybrid = [timed(lambda q=q: kb.ask(q)) for q in questions]
    dense = [timed(lambda q=q: kb.retriever.retrieve(q, kb.embed_query(q), 10, mode="dense")) for q in questions]
    print(f"load index + models      {load:7.2f} s   (target <= 5 s)")
    print(f"no-op re-ingest          {noop:7.2f} s   (target <= 2 s)")
    print(f"per question, hybrid     {statistics.mean(hybrid) * 1000:7.1f} ms mean, p95 "
          f"{sorted(hybrid)[int(0.95 * len(hybrid))] * 1000:.1f} ms over {len(hybrid)} questions (target <= 60 ms)")
    print(f"per question, dense only {statistics.mean(dense) * 1000:7.1f} ms mean (baseline; hybrid/dense = "
          f"{statistics.mean(hybrid) / statistics.mean(dense):.2f}x)")
    if args.full_ingest:
        tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
        try:
            full = timed(lambda: build_index(settings.replace(index_dir=tmp)))
            print(f"full ingest, seed corpus {full:7.1f} s   (target <= 120 s; nothing cached)")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
