"""The re-ranking fit script measures the ranking the product makes, and what it fits ranks answers up."""
import numpy as np

from benchmarks.fit_rerank import collect, fit, mrr, training_sets
from kb.core.textnorm import anchor_form
from kb.eval import evaluate
from kb.retrieval.rerank import RANK_FEATURES


def retrieval_mrr(kb, cases) -> float:
    """MRR@10 of the chunks kb.retrieve ranks (kb.eval scores sources, whose first holds all the answer shows)."""
    forms = [anchor_form(c.text) for c in kb.data.chunks]
    ranks = []
    for case in (c for c in cases if c.anchors):
        anchors = [anchor_form(a) for a in case.anchors]
        hits = kb.retrieve(case.q, 10)[1].hits[:10]
        ranks.append(next((1.0 / (r + 1) for r, h in enumerate(hits) if any(a in forms[h.position] for a in anchors)), 0.0))
    return sum(ranks) / len(ranks)


def test_fit_script_scores_the_ranking_the_product_makes(kb):
    cases = training_sets()["qa_tune"]
    questions = collect(kb, cases)
    current = kb.retriever.reranker.weights
    assert abs(mrr(questions, current, kb) - retrieval_mrr(kb, cases)) < 1e-9
    assert evaluate(kb, cases)["mrr@10"] >= retrieval_mrr(kb, cases) - 1e-4  # on this set, sources rank no answer lower


def test_fitted_weights_rank_answers_above_the_dense_term_alone(kb):
    questions = collect(kb, training_sets()["qa_tune"])
    dense_only = np.eye(len(RANK_FEATURES))[0]
    weights = fit(questions, list(range(len(RANK_FEATURES))), 0.1)
    assert np.all(np.isfinite(weights))
    assert mrr(questions, weights, kb) > mrr(questions, dense_only, kb) + 0.02
