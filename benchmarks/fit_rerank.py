"""python -m benchmarks.fit_rerank [SET.jsonl ...] [--features a,b,...] [--C 0.1]

Fits the weights of the re-ranking model (kb/retrieve.py RANK_WEIGHTS) by pairwise logistic regression and
reports, for every question set, MRR@10 with the current weights and with weights fitted on the other sets only
(leave one set out). That second column is the honest estimate: a set never sees weights fitted to itself.

Each answerable question gives pairs (a chunk holding one of its anchors, one that does not) among the first
RERANK_DEPTH fused candidates; the model learns which feature differences separate them. MRR is computed on the
ranking as the product builds it (twins collapsed, covered sub-sections deferred). Figures are printed, nothing is
written: copy the weights into RANK_WEIGHTS by hand after reading the per-set columns.
Needs scikit-learn (installed with sentence-transformers).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from kb.config import ROOT
from kb.eval import read_cases
from kb.retrieve import RANK_FEATURES, RANK_WEIGHTS, RERANK_DEPTH, collapse_twins, defer_covered
from kb.textnorm import anchor_form

# Never fitted on: the name sets (their questions are about names the corpus lacks) and fresh4 to fresh9, kept as
# sets the weights have never seen (docs/quality.md).
HELD_OUT = ("names", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8", "fresh9")
DEFAULT_SETS = sorted(p for p in (ROOT / "data" / "questions").glob("qa_*.jsonl") if not any(h in p.name for h in HELD_OUT))
DEV = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"


def collect(kb, path: Path) -> list[dict]:
    """Per answerable question: the fused head, the rest, the head's features and which chunks are hits."""
    ret, chunks = kb.retriever, kb.data.chunks
    forms_of = [anchor_form(c.text) for c in chunks]
    out = []
    for case in read_cases(path):
        if not case.anchors:
            continue
        anchors = [anchor_form(a) for a in case.anchors]
        hits = {i for i, text in enumerate(forms_of) if any(a in text for a in anchors)}
        qvec = kb.embed_query(case.q)
        first = ret.first_stage(case.q, kb._search_vector(case.q, qvec))
        fused = ret.fuse(first)
        order = sorted(fused, key=lambda p: (-fused[p], -first.dense[p]))
        head = order[:RERANK_DEPTH]
        x = ret.rerank_features(first.tokens, head, first.dense_rank, first.lex_rank, first.lex, first.lex_weight)
        out.append({"head": head, "rest": order[RERANK_DEPTH:], "x": x,
                    "y": np.array([p in hits for p in head]), "hits": hits})
    return out


def mrr(questions: list[dict], weights: np.ndarray, kb) -> float:
    chunks, parents = kb.data.chunks, kb.retriever._parent_of
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
    return weights / weights[0]  # in units of the dense RRF term, as RANK_WEIGHTS is


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_rerank")
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--features", default=",".join(RANK_FEATURES), help="the features to fit (others get 0)")
    parser.add_argument("--C", type=float, default=0.1, help="inverse L2 strength of the logistic regression")
    args = parser.parse_args(argv)
    from kb.kb import KnowledgeBase

    names = args.features.split(",")
    if names[0] != "dense_rrf" or not set(names) <= set(RANK_FEATURES):
        parser.error(f"--features must start with dense_rrf and name features of {RANK_FEATURES}")
    columns = [RANK_FEATURES.index(n) for n in names]
    paths = args.sets or DEFAULT_SETS + ([DEV] if DEV.exists() else [])
    kb = KnowledgeBase.load()
    data = {p.stem: collect(kb, p) for p in paths}
    current = np.array([RANK_WEIGHTS[n] for n in RANK_FEATURES])
    print(f"{'set':12s} {'questions':>9s} {'current':>8s} {'left out':>8s}")
    pooled = [0.0, 0.0, 0]
    for name, questions in data.items():
        rest = [q for other, qs in data.items() if other != name for q in qs]
        now, held = mrr(questions, current, kb), mrr(questions, fit(rest, columns, args.C), kb)
        pooled[0] += now * len(questions)
        pooled[1] += held * len(questions)
        pooled[2] += len(questions)
        print(f"{name:12s} {len(questions):9d} {now:8.3f} {held:8.3f}", flush=True)
    print(f"{'pooled':12s} {pooled[2]:9d} {pooled[0] / pooled[2]:8.3f} {pooled[1] / pooled[2]:8.3f}")
    weights = fit([q for qs in data.values() for q in qs], columns, args.C)
    print("fitted on all sets:", ", ".join(f'"{n}": {weights[i]:.2f}' for i, n in enumerate(RANK_FEATURES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
