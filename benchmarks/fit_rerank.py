"""python -m benchmarks.fit_rerank [SET.jsonl ...] [--index CORPUS=DIR ...] [--features a,b,...] [--C 0.1] [--write]

Fits the weights of the re-ranking model (kb/retrieval/rerank.py) by pairwise logistic regression and reports, for
every question set, MRR@10 with the current weights and with weights fitted on the other sets only (leave one set
out). That second column is the honest estimate: a set never sees weights fitted to itself. The default training
data is every corpus of benchmarks/corpora.py present here, each over its own index: the label file
data/labels/seed.jsonl split into its source sets (the id prefix), and data/train/<corpus>*.jsonl of the others, so
the weights are not fitted to one corpus. The sets in data/eval/ are never fitted on. --write stores the weights fitted
on all sets in the embedder's calibration file.

Each answerable question gives pairs (a chunk holding one of its anchors, one that does not) among the first
RERANK_DEPTH fused candidates; the model learns which feature differences separate them. MRR is computed on the
chunk ranking as the product builds it (twins collapsed, covered sub-sections deferred); kb.eval scores the sources,
whose first holds every passage the answer shows, so its MRR can be higher.
Needs scikit-learn (installed with sentence-transformers).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.corpora import add_index_options, available
from kb.core.calibration import update_calibration
from kb.core.config import ROOT
from kb.core.questions import Case, read_cases
from kb.core.textnorm import anchor_form
from kb.retrieval.fusion import collapse_twins, defer_covered
from kb.retrieval.rerank import RANK_FEATURES

TRAINING = ROOT / "data" / "labels" / "seed.jsonl"


def training_sets(path: Path = TRAINING) -> dict[str, list[Case]]:
    """The label file's questions grouped by the set they came from (the id prefix before ':')."""
    sets: dict[str, list[Case]] = {}
    for case in read_cases(path):
        sets.setdefault(case.id.split(":", 1)[0] if ":" in case.id else path.stem, []).append(case)
    return sets


def collect(kb, cases: list[Case]) -> list[dict]:
    """Per answerable question: the fused head, the rest, the head's features and which chunks are hits."""
    ret, chunks = kb.retriever, kb.data.chunks
    depth = ret.reranker.depth
    forms_of = [anchor_form(c.text) for c in chunks]
    out = []
    for case in cases:
        if not case.anchors:
            continue
        anchors = [anchor_form(a) for a in case.anchors]
        hits = {i for i, text in enumerate(forms_of) if any(a in text for a in anchors)}
        qvec = kb.embed_query(case.q)
        first = ret.first_stage(case.q, kb.search_vector(case.q, qvec))
        fused = ret.fuse(first)
        order = sorted(fused, key=lambda p: (-fused[p], -first.dense[p]))
        head = order[:depth]
        x = ret.reranker.features(first.tokens, head, first.dense_rank, first.lex_rank, first.lex, (1.0, first.lex_weight))
        out.append({"head": head, "rest": order[depth:], "x": x,
                    "y": np.array([p in hits for p in head]), "hits": hits})
    return out


def mrr(questions: list[dict], weights: np.ndarray, kb) -> float:
    chunks, parents = kb.data.chunks, kb.retriever.parent_of
    total = 0.0
    for q in questions:
        head = [q["head"][i] for i in np.argsort(-(q["x"] @ weights), kind="stable")]
        ranked = defer_covered(collapse_twins(head + q["rest"], chunks), parents)[:10]
        total += next((1.0 / (r + 1) for r, p in enumerate(ranked) if p in q["hits"]), 0.0)
    return total / max(len(questions), 1)


def fit(questions: list[dict], columns: list[int], c: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    diffs = []
    for q in questions:
        for i in np.flatnonzero(q["y"]):
            for j in np.flatnonzero(~q["y"]):
                diffs.append(q["x"][i, columns] - q["x"][j, columns])
    x = np.vstack([diffs, -np.asarray(diffs)])
    y = np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]
    model = LogisticRegression(fit_intercept=False, C=c, max_iter=5000).fit(x, y)
    weights = np.zeros(len(RANK_FEATURES))
    weights[columns] = model.coef_[0]
    return weights / weights[0]  # in units of the dense RRF term, as the calibration file keeps them


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_rerank")
    parser.add_argument("sets", nargs="*", type=Path, help="seed-corpus sets to fit on instead of both corpora's")
    add_index_options(parser)
    parser.add_argument("--features", default=",".join(RANK_FEATURES), help="the features to fit (others get 0)")
    parser.add_argument("--C", type=float, default=0.1, help="inverse L2 strength of the logistic regression")
    parser.add_argument("--write", action="store_true", help="store the weights fitted on all sets in the calibration")
    args = parser.parse_args(argv)
    from kb.knowledge import KnowledgeBase

    names = args.features.split(",")
    if names[0] != "dense_rrf" or not set(names) <= set(RANK_FEATURES):
        parser.error(f"--features must start with dense_rrf and name features of {RANK_FEATURES}")
    columns = [RANK_FEATURES.index(n) for n in names]
    kb = KnowledgeBase.load()
    sets = {p.stem: (kb, read_cases(p)) for p in args.sets} if args.sets else {
        name: (kb, cases) for name, cases in training_sets().items()}
    if not args.sets:
        for name, other in available(args).items():
            if name != "seed":
                train = sorted((ROOT / "data" / "train").glob(f"{name}*.jsonl"))
                sets.update({p.stem: (other, read_cases(p)) for p in train})
    data = {name: (owner, collect(owner, cases)) for name, (owner, cases) in sets.items()}
    current = kb.retriever.reranker.weights
    print(f"{'set':18s} {'questions':>9s} {'current':>8s} {'left out':>8s}")
    pooled = [0.0, 0.0, 0]
    for name, (owner, questions) in data.items():
        rest = [q for other, (_, qs) in data.items() if other != name for q in qs]
        now, held = mrr(questions, current, owner), mrr(questions, fit(rest, columns, args.C), owner)
        pooled[0] += now * len(questions)
        pooled[1] += held * len(questions)
        pooled[2] += len(questions)
        print(f"{name:18s} {len(questions):9d} {now:8.3f} {held:8.3f}", flush=True)
    print(f"{'pooled':18s} {pooled[2]:9d} {pooled[0] / pooled[2]:8.3f} {pooled[1] / pooled[2]:8.3f}")
    weights = fit([q for _, qs in data.values() for q in qs], columns, args.C)
    print("fitted on all sets:", ", ".join(f'"{n}": {weights[i]:.2f}' for i, n in enumerate(RANK_FEATURES)))
    if args.write:
        fitted = {n: round(float(weights[i]), 2) for i, n in enumerate(RANK_FEATURES)}
        print("written to", update_calibration(kb.calibration.embedder, "retrieval", {"rerank_weights": fitted}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
