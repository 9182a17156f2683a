"""python -m benchmarks.suggest [--index DIR] [--k N ...] [--json]

How well the suggested categories (kb/answering/suggest.py) recover the 14 chapters of ../shared/corpora/so-large-lm:
purity and adjusted Rand index of the clusters against each chunk's chapter file, for each k asked (default: 14 and
the heuristic k), with the suggested names. The index is built into DIR when it has none.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from kb.answering.suggest import SuggestedCategory, default_k, passage_vectors, suggest_categories
from kb.core.config import ROOT, load_settings
from kb.core.errors import IndexNotFound
from kb.core.index import IndexData, load_index

CORPUS = ROOT.parent / "shared" / "corpora" / "so-large-lm"


def chapter_data(index: Path) -> IndexData:
    """The so-large-lm build in index, built first when there is none."""
    try:
        return load_index(index)
    except IndexNotFound:
        from ingest.build import build_index

        build_index(load_settings().replace(corpus_dir=CORPUS, index_dir=index))
        return load_index(index)


def purity(categories: list[SuggestedCategory], truth: dict[str, str]) -> float:
    """Share of chunks whose cluster's most common chapter is their own."""
    total = sum(c.size for c in categories)
    return sum(Counter(truth[i] for i in c.chunk_ids).most_common(1)[0][1] for c in categories) / total


def score(data: IndexData, k: int | None) -> dict:
    """Purity, ARI, time and the suggestions for one k."""
    truth = {c.id: c.source for c in data.chunks}
    t0 = time.perf_counter()
    categories = suggest_categories(data, k)
    seconds = time.perf_counter() - t0
    labels = [(truth[i], n) for n, c in enumerate(categories) for i in c.chunk_ids]
    return {"k": len(categories), "purity": round(purity(categories, truth), 3),
            "ari": round(adjusted_rand_score([t for t, _ in labels], [n for _, n in labels]), 3),
            "seconds": round(seconds, 2),
            "categories": [{**c.to_json(), "chapters": dict(Counter(truth[i] for i in c.chunk_ids).most_common(2))}
                           for c in categories]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suggest")
    parser.add_argument("--index", type=Path, default=ROOT.parent / "index-sll", help="so-large-lm index folder")
    parser.add_argument("--k", type=int, nargs="*", help="cluster counts to score (default: 14 and the heuristic k)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = chapter_data(args.index)
    n = len(passage_vectors(data)[0])
    results = [score(data, k) for k in (args.k or [14, default_k(n)])]
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    print(f"so-large-lm: {n} chunks, {len({c.source for c in data.chunks})} chapters")
    for r in results:
        print(f"\nk={r['k']}: purity {r['purity']:.3f}  ARI {r['ari']:.3f}  ({r['seconds']:.2f} s)")
        for c in r["categories"]:
            chapters = ", ".join(f"{ch} {m}" for ch, m in c["chapters"].items())
            print(f"  {c['id']} {c['size']:>4}  {c['name']:<20} [{chapters}]  e.g. {c['examples'][0] if c['examples'] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
