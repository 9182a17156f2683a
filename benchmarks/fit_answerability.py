"""python -m benchmarks.fit_answerability [--index CORPUS=DIR ...] [--C 1.0] [--write]

Fits the answerability models (kb/answering/answerability.py) on labelled questions of every corpus of
benchmarks/corpora.py present here, each over its own index:
- the seed corpus: data/labels/seed.jsonl (answerable and out-of-scope) and data/train/seed_*.jsonl (near-domain,
  out-of-scope, no content and more answerable);
- so-large-lm and happy-llm: data/train/<corpus>*.jsonl.
Nothing in data/eval/ is read. Questions decided before the models (no content, or asking about a time window
relative to now) are left out. It prints each corpus scored by models fitted on the other corpora alone (the honest
transfer figure) and on all, then with --write stores the models fitted on all in the calibration files: the full
model for this embedder, and a model over the cosine-free features only in default.json (for uncalibrated embedders).
Needs scikit-learn (installed with sentence-transformers).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks.corpora import CORPORA, add_index_options, available
from kb.answering.answerability import FEATURES
from kb.core.calibration import DEFAULT, update_calibration
from kb.core.questions import Case

SCALE_FREE = ("agree", "coverage_top1", "coverage_top", "coverage_corpus", "missing_top", "missing_corpus", "missing_name",
              "missing_word", "lookup_unstated", "english")
MARGIN_FLOOR = 0.02  # share of answerable English training questions below the off-domain margin floor
MAX_FALSE_ABSTENTION = 0.01  # the answered threshold keeps 99% of answerable training questions (docs/quality.md)
ABSENT_CONCEPT_QUANTILE = 0.5  # naming a concept the corpus never names: answered only above this share of answerable ones
MARGIN_FLOOR_QUANTILE = 0.25  # nearer everyday questions than the margin floor: answered only above this share of them


def label(case: Case) -> str:
    """answered, related or out_of_scope, from the case's anchors and kind."""
    if case.anchors:
        return "answered"
    return "related" if case.kind == "near_domain" else "out_of_scope"


def collect(kb, cases: list[Case]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Feature rows and labels of the cases the models decide, and which of them name a glossary concept the corpus
    never names (those must clear a higher threshold to be answered)."""
    rows, labels, decided = [], [], []
    kb.answerability.tuned = {}  # features only: the model being replaced is not applied
    for case in cases:
        decision = kb.judge(case.q, 10)[3]
        if decision.features and not decision.features["asks_now"]:  # no content or about now: decided before the models
            rows.append([decision.features[f] for f in FEATURES])
            labels.append(label(case))
            decided.append(bool(decision.features["absent_concept"]))
    return np.array(rows), labels, np.array(decided, dtype=bool)


def fit(full: np.ndarray, labels: list[str], columns: list[int], c: float) -> dict:
    """Both logistic models over the chosen feature columns, standardized, with the answered threshold, and (when
    the margin is among them) the margin below which almost no answerable question falls."""
    from sklearn.linear_model import LogisticRegression

    x = full[:, columns]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0  # a feature constant in the training data: left unscaled
    z = (x - mean) / scale
    y = np.array([lab == "answered" for lab in labels])
    answered = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(z, y)
    p = answered.predict_proba(z)[:, 1]
    threshold = float(np.quantile(p[y], MAX_FALSE_ABSTENTION))
    absent_threshold = float(np.quantile(p[y], ABSENT_CONCEPT_QUANTILE))
    floor_threshold = float(np.quantile(p[y], MARGIN_FLOOR_QUANTILE))
    rest = np.array([lab != "answered" for lab in labels])
    related_y = np.array([lab == "related" for lab in labels])[rest]
    related = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(z[rest], related_y)
    margin, english = FEATURES.index("margin"), full[:, FEATURES.index("english")] > 0
    # A Chinese question nearer an everyday probe than any passage or taxonomy example is doubted; answerable ones come
    # down to that boundary, so a fitted floor there only doubts them. An English one is measured against the Chinese
    # probes, which sets it higher: its floor is fitted (docs/quality.md).
    floor = None if margin not in columns else {
        "zh": 0.0, "en": round(float(np.quantile(full[y & english, margin], MARGIN_FLOOR)), 4)}
    return {"features": [FEATURES[i] for i in columns], "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
            "margin_floor": floor,
            "answered": {"coef": answered.coef_[0].round(4).tolist(), "intercept": round(float(answered.intercept_[0]), 4),
                         "threshold": round(threshold, 4), "absent_concept_threshold": round(absent_threshold, 4),
                         "margin_floor_threshold": round(floor_threshold, 4)},
            "related": {"coef": related.coef_[0].round(4).tolist(), "intercept": round(float(related.intercept_[0]), 4)}}


def score(model: dict, x: np.ndarray, labels: list[str], decided: np.ndarray) -> dict:
    """Answered share of answerable questions, not-answered share of the rest, related share of near-domain ones."""
    cols = [FEATURES.index(f) for f in model["features"]]
    z = (x[:, cols] - model["mean"]) / model["scale"]
    p = 1 / (1 + np.exp(-(z @ np.array(model["answered"]["coef"]) + model["answered"]["intercept"])))
    answered = p >= np.where(decided, model["answered"]["absent_concept_threshold"], model["answered"]["threshold"])
    if model["margin_floor"] is not None:
        english = x[:, FEATURES.index("english")] > 0
        floor = np.where(english, model["margin_floor"]["en"], model["margin_floor"]["zh"])
        answered &= (x[:, FEATURES.index("margin")] >= floor) | (p >= model["answered"]["margin_floor_threshold"])
    q = 1 / (1 + np.exp(-(z @ np.array(model["related"]["coef"]) + model["related"]["intercept"])))
    q[decided] = 1.0
    lab = np.array(labels)
    out = {"answerable kept": answered[lab == "answered"].mean(), "others refused": (~answered[lab != "answered"]).mean()}
    near = lab == "related"
    if near.any():
        out["near refused"] = (~answered[near]).mean()
        out["near called related"] = ((~answered) & (q >= 0.5))[near].mean()
    return {k: round(float(v), 3) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_answerability")
    add_index_options(parser)
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the logistic regressions")
    parser.add_argument("--write", action="store_true", help="store the models fitted on all corpora")
    args = parser.parse_args(argv)
    kbs = available(args)
    seed_kb = kbs["seed"]
    data = {name: collect(kb, CORPORA[name].training()) for name, kb in kbs.items()}
    for name, columns in (("full", list(range(len(FEATURES)))), ("scale-free", [FEATURES.index(f) for f in SCALE_FREE])):
        both = fit(np.vstack([x for x, _, _ in data.values()]), [lab for _, ls, _ in data.values() for lab in ls],
                   columns, args.C)
        for corpus, (x, labels, decided) in data.items():
            other = [data[oc] for oc in data if oc != corpus]
            alone = fit(np.vstack([o[0] for o in other]), [lab for o in other for lab in o[1]], columns, args.C)
            print(f"{name:10s} {corpus:12s} fitted on the other corpora: {score(alone, x, labels, decided)}")
            print(f"{name:10s} {corpus:12s} fitted on all:               {score(both, x, labels, decided)}")
        print(f"{name}: " + ", ".join(f"{f} {w:+.2f}" for f, w in zip(both["features"], both["answered"]["coef"])))
        if args.write:
            target = seed_kb.calibration.embedder if name == "full" else DEFAULT
            print("written to", update_calibration(target, "answerability", both))
    return 0


if __name__ == "__main__":
    sys.exit(main())
