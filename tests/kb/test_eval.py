"""Quality floors on sets that never fed the build, a little under the values measured (docs/quality.md)."""
import pytest

from kb.core.config import ROOT
from kb.eval import evaluate, evaluate_file, read_cases
from tests.conftest import EVAL_SETS

DEV = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"

FLOORS = {
    "fresh4.jsonl": {"recall@5": 0.87, "mrr@10": 0.72, "topic_accuracy": 0.88, "oos_abstention": 0.95},
    "fresh5.jsonl": {"recall@5": 0.92, "mrr@10": 0.73, "topic_accuracy": 0.89, "oos_abstention": 0.95},
    "fresh6.jsonl": {"recall@5": 0.94, "mrr@10": 0.88, "topic_accuracy": 0.92, "oos_abstention": 0.95},
    "fresh7.jsonl": {"recall@5": 0.91, "mrr@10": 0.84, "topic_accuracy": 0.93, "oos_abstention": 0.95},
    "fresh8.jsonl": {"recall@5": 0.93, "mrr@10": 0.82, "topic_accuracy": 0.91, "oos_abstention": 0.95},
    "fresh9.jsonl": {"recall@5": 0.92, "mrr@10": 0.83, "topic_accuracy": 0.87, "oos_abstention": 0.65},
    "fresh10.jsonl": {"recall@5": 0.92, "mrr@10": 0.80, "topic_accuracy": 0.90, "oos_abstention": 0.95},
    "names.jsonl": {"recall@5": 0.80, "mrr@10": 0.68, "oos_abstention": 0.88},
    "names2.jsonl": {"recall@5": 0.66, "mrr@10": 0.55, "oos_abstention": 0.53},
    "names3.jsonl": {"recall@5": 0.64, "mrr@10": 0.60, "topic_accuracy": 0.92, "oos_abstention": 0.76},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_quality_floor(kb, name):
    metrics = evaluate_file(kb, EVAL_SETS / name)
    for key, floor in FLOORS[name].items():
        assert metrics[key] >= floor, f"{name}: {key} {metrics[key]} fell below {floor}"
    assert metrics["false_abstentions"] <= 1


@pytest.mark.skipif(not DEV.exists(), reason="shared dev set not present")
def test_dev_set_floor(kb):
    metrics = evaluate(kb, read_cases(DEV))
    assert metrics["recall@5"] >= 0.89 and metrics["mrr@10"] >= 0.85 and metrics["oos_abstention"] == 1.0


def test_hybrid_beats_each_side_alone(kb):
    cases = read_cases(EVAL_SETS / "fresh4.jsonl")
    hybrid, dense, lexical = (evaluate(kb, cases, mode)["mrr@10"] for mode in ("hybrid", "dense", "lexical"))
    assert hybrid > dense and hybrid > lexical
