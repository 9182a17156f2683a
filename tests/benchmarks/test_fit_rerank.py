"""The re-ranking fit script measures the ranking the product makes, and what it fits ranks answers up."""
import numpy as np

from benchmarks.fit_rerank import collect, fit, mrr, training_sets
from kb.eval import evaluate
from kb.retrieval.rerank import RANK_FEATURES


def test_fit_script_scores_the_ranking_the_product_makes(kb):
    cases = training_sets()["qa_tune"]
    questions = collect(kb, cases)
    current = kb.retriever.reranker.weights
    assert abs(mrr(questions, current, kb) - evaluate(kb, cases)["mrr@10"]) < 1e-3  # kb.eval rounds to 4 places


def test_fitted_weights_rank_answers_above_the_dense_term_alone(kb):
    questions = collect(kb, training_sets()["qa_tune"])
    dense_only = np.eye(len(RANK_FEATURES))[0]
    weights = fit(questions, list(range(len(RANK_FEATURES))), 0.1)
    assert np.all(np.isfinite(weights))
    assert mrr(questions, weights, kb) > mrr(questions, dense_only, kb) + 0.02
