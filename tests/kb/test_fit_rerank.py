"""The re-ranking fit script measures the ranking the product makes (so its figures can be trusted)."""
import numpy as np

from benchmarks.fit_rerank import collect, fit, mrr
from kb.eval import evaluate, read_cases
from kb.retrieve import RANK_FEATURES, RANK_WEIGHTS
from tests.conftest import QUESTIONS

SET = QUESTIONS / "qa_tune.jsonl"


def test_fit_script_scores_the_ranking_the_product_makes(kb):
    questions = collect(kb, SET)
    current = np.array([RANK_WEIGHTS[n] for n in RANK_FEATURES])
    assert abs(mrr(questions, current, kb) - evaluate(kb, read_cases(SET))["mrr@10"]) < 1e-3  # kb.eval rounds to 4 places
    weights = fit(questions, list(range(len(RANK_FEATURES))), 0.1)
    assert weights[0] == 1.0 and np.all(np.isfinite(weights))
