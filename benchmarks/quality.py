"""python -m benchmarks.quality [--index CORPUS=DIR ...] [--json]

The product's quality on every corpus of benchmarks/corpora.py present here, set by set, beside the naive
baselines (benchmarks/baselines.py: BM25, e5 dense and their RRF over 400-character windows) on the same questions,
then the pooled figures against the targets of docs/quality.md. Only the sets in data/eval/ (never fitted on) and
the public dev set are scored.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks import baselines
from benchmarks.corpora import CORPORA, add_index_options, available
from kb.core.config import ROOT
from kb.eval import evaluate, read_cases

DEV = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"
COLUMNS = ("recall@1", "recall@5", "mrr@10", "topic_accuracy", "oos_abstention", "near_domain_refused", "false_abstentions",
           "answer_shows_anchor")
TARGETS = {  # (metric, pooled floor) per corpus, from the targets
    "seed": {"recall@1": 0.85, "recall@5": 0.95, "mrr@10": 0.88, "topic_accuracy": 0.95, "near_domain_refused": 0.90},
    "so-large-lm": {"recall@5": 0.90, "mrr@10": 0.80},
    "happy-llm": {"recall@5": 0.90, "mrr@10": 0.80},
}


def sets_of(corpus: str) -> list[Path]:
    """The public dev set (seed only) and the corpus's eval sets."""
    return ([DEV] if corpus == "seed" and DEV.exists() else []) + CORPORA[corpus].eval_sets()


def pooled(rows: list[dict]) -> dict:
    """Question-weighted means over sets (in-scope metrics by in-scope questions, refusals by their own counts)."""
    out = {}
    for key, weight in (("recall@1", "in_scope"), ("recall@5", "in_scope"), ("mrr@10", "in_scope"),
                        ("topic_accuracy", "in_scope"), ("oos_abstention", "out_of_scope"), ("near_domain_refused", "near"),
                        ("answer_shows_anchor", "answer_checked")):
        used = [r for r in rows if r.get(key) is not None and r.get(weight)]
        total = sum(r[weight] for r in used)
        out[key] = round(sum(r[key] * r[weight] for r in used) / total, 4) if total else None
    out["false_abstentions"] = sum(r["false_abstentions"] for r in rows)
    out["in_scope"] = sum(r["in_scope"] for r in rows)
    return out


def score_corpus(name: str, kb, json_out: bool) -> list[dict]:
    """Product and baseline figures for every eval set of one corpus, printed as they come."""
    base = baselines.build_baselines(CORPORA[name].folder, baselines.DEFAULT_CACHE)
    rows = []
    for path in sets_of(name):
        cases = read_cases(path)
        metrics = evaluate(kb, cases)
        if not {c.topic for c in cases if c.topic} <= set(kb.topic_ids):  # labelled with another taxonomy (chapters)
            metrics["topic_accuracy"] = None
        metrics["near"] = sum(c.kind == "near_domain" for c in cases)
        naive = base.evaluate(baselines.load_questions(path))
        row = {"corpus": name, "set": path.stem, **metrics,
               **{f"{m}_{k}": v for m, figures in naive.items() for k, v in figures.items() if k in ("r5", "mrr10")}}
        rows.append(row)
        if json_out:
            print(json.dumps(row, ensure_ascii=False))
        else:
            figures = "  ".join("   -  " if metrics[c] is None else f"{metrics[c]:6.3f}" if isinstance(metrics[c], float)
                                else f"{metrics[c]:6d}" for c in COLUMNS)
            naive_cells = "  ".join(f"{row.get(f'{m}_r5') or 0:.3f}/{row.get(f'{m}_mrr10') or 0:.3f}" for m in baselines.METHODS)
            print(f"{name:12s} {path.stem:10s} {metrics['in_scope']:4d}  {figures}   {naive_cells}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality")
    add_index_options(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.json:
        print(f"{'corpus':12s} {'set':10s} {'n':>4s}  " + "  ".join(f"{c[:6]:>6s}" for c in COLUMNS)
              + "   BM25 R5/MRR  dense R5/MRR  RRF R5/MRR")
    for name, kb in available(args).items():
        total = pooled(score_corpus(name, kb, args.json))
        misses = [f"{k} {total[k]} < {v}" for k, v in TARGETS[name].items() if total[k] is not None and total[k] < v]
        print(f"{name} pooled: {json.dumps(total)}" + (f"  below target: {'; '.join(misses)}" if misses else "  all targets met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
