"""Quality floors, set a little under the values measured when they were written (docs/quality.md)."""
import pytest

from kb.config import ROOT
from kb.eval import evaluate, evaluate_file, read_cases
from tests.conftest import QUESTIONS as DATA

DEV = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"

# Topic floors are out-of-sample: evaluate_file leaves a set's own topic labels out (kb/labels.py); session 9 raised
# them to just under those figures (docs/quality.md, Topic voting).
FLOORS = {
    # measured: R@5 0.97, MRR 0.82, topic 0.95, OOS 7/7
    "qa_tune.jsonl": {"recall@5": 0.92, "mrr@10": 0.78, "topic_accuracy": 0.93, "oos_abstention": 0.85},
    # measured: R@5 0.92, MRR 0.78, topic 0.92, OOS 11/11
    "qa_test.jsonl": {"recall@5": 0.87, "mrr@10": 0.73, "topic_accuracy": 0.92, "oos_abstention": 0.90},
    # written independently, in the dev set's style; measured: R@5 0.96, MRR 0.87, topic 0.88, OOS 8/8
    "qa_fresh.jsonl": {"recall@5": 0.90, "mrr@10": 0.84, "topic_accuracy": 0.89, "oos_abstention": 0.85},
    # written by a second helper in the dev set's style, no retrieval setting fitted to it; measured: R@5 0.94,
    # MRR 0.84, topic 0.94, OOS 6/6 (3/6 before the unknown-name check: LoRA, FlashAttention, Qwen2)
    "qa_fresh2.jsonl": {"recall@5": 0.90, "mrr@10": 0.80, "topic_accuracy": 0.94, "oos_abstention": 0.95},
    # session 6: a third blind set in the dev set's style (60 Simplified, 12 Traditional, 8 English answerable; 4
    # off-domain and 6 near-domain OOS). Measured before any session-6 change: R@5 0.93, MRR 0.80, topic 0.88, OOS
    # 10/10; now R@5 0.93, MRR 0.84 (0.84 with its own questions left out of the re-ranking fit), topic 0.89
    "qa_fresh3.jsonl": {"recall@5": 0.89, "mrr@10": 0.80, "topic_accuracy": 0.86, "oos_abstention": 0.95},
    # session 7: a fourth blind set, same recipe (58 / 14 / 8 answerable, 4 off-domain + 6 near-domain OOS), kept out
    # of the re-ranking fit. Measured before any session-7 change: R@5 0.90, MRR 0.73, topic 0.86, OOS 8/10, one
    # false abstention (English); now R@5 0.90, MRR 0.76, topic 0.86, OOS 10/10, none
    "qa_fresh4.jsonl": {"recall@5": 0.86, "mrr@10": 0.72, "topic_accuracy": 0.87, "oos_abstention": 0.85},
    # session 7: a fifth blind set (56 / 16 / 8 answerable, 4 + 6 OOS), written after the session's retrieval changes
    # and kept out of the fit. First reading: R@5 0.95, MRR 0.77, topic 0.85, OOS 8/10, two false abstentions
    # (unknown-name check); now R@5 0.95, MRR 0.77, topic 0.875 (0.85 before score-weighted chunk votes), OOS 9/10, none
    "qa_fresh5.jsonl": {"recall@5": 0.91, "mrr@10": 0.73, "topic_accuracy": 0.91, "oos_abstention": 0.85},
    # session 8: a sixth blind set (57 Simplified / 13 Traditional / 10 English answerable, 10 OOS), its writer told to
    # anchor every place a repeated answer appears, as the dev set does; kept out of the re-ranking fit. First
    # reading: R@5 0.975, MRR 0.92, topic 0.875, OOS 9/10, one false abstention (Taiwan 管線平行…氣泡); now topic 0.90, none
    "qa_fresh6.jsonl": {"recall@5": 0.94, "mrr@10": 0.88, "topic_accuracy": 0.88, "oos_abstention": 0.95},
    # session 8: a seventh blind set written after every session-8 change, in the dev set's style (short learner
    # questions, 64 / 15 / 9 answerable, 12 OOS), anchored at every copy; never fitted. Measured: R@5 0.94, MRR 0.88,
    # topic 0.886 (0.875 with the session-7 system), OOS 11/12 (12/12 after the Chinese-name comparison rule it
    # prompted), no false abstention
    "qa_fresh7.jsonl": {"recall@5": 0.91, "mrr@10": 0.84, "topic_accuracy": 0.92, "oos_abstention": 0.85},
    # session 9: two more blind sets, same recipe, first read on the session-8 system before any session-9 change.
    # fresh8 (short learner questions): R@5 0.967, MRR 0.845, topic 0.900, OOS 8/10; now MRR 0.853, topic 0.944,
    # OOS 10/10. fresh9 (practitioner questions, later chapters): R@5 0.956, MRR 0.858, topic 0.789, OOS 6/10; now
    # topic 0.922, OOS 7/10. No false abstention in either, before or after
    "qa_fresh8.jsonl": {"recall@5": 0.93, "mrr@10": 0.81, "topic_accuracy": 0.90, "oos_abstention": 0.95},
    "qa_fresh9.jsonl": {"recall@5": 0.92, "mrr@10": 0.82, "topic_accuracy": 0.85, "oos_abstention": 0.65},
    # session 9: a tenth blind set in the dev set's style, written after every session-9 change and never used to
    # shape one. First reading: R@5 0.956, MRR 0.833, topic 0.922 (0.844 on the session-8 system), OOS 10/10, none
    # falsely abstained; MRR 0.839 after the FAQ-first ordering
    "qa_fresh10.jsonl": {"recall@5": 0.92, "mrr@10": 0.80, "topic_accuracy": 0.88, "oos_abstention": 0.95},
    # every question names something the corpus never mentions: 25 answerable (the name is an example, a tool, a
    # source) and 25 asking about the name itself; the unknown-name check was written with it. Measured: R@5 0.80,
    # MRR 0.68, OOS 22/25, no false abstention
    "qa_names.jsonl": {"recall@5": 0.75, "mrr@10": 0.65, "oos_abstention": 0.80},
    # a second such set (30 + 30, more names at the start of a question that sets a scene); first reading of the
    # check 19/30 OOS with 10 false abstentions, which led to the asking-clause rule. Measured: R@5 0.70, MRR 0.57,
    # OOS 17/30 (most misses are Chinese-script names), no false abstention
    "qa_names2.jsonl": {"recall@5": 0.65, "mrr@10": 0.52, "oos_abstention": 0.50},
    # a third such set (25 + 25), written after the check was final and not used to shape it: OOS 6/25 -> 21/25,
    # no false abstention before or after. Measured: R@5 0.68, MRR 0.57, topic 0.84
    "qa_names3.jsonl": {"recall@5": 0.63, "mrr@10": 0.52, "topic_accuracy": 0.86, "oos_abstention": 0.76},
    # Traditional Chinese in Taiwan usage (資料, 程式, 記憶體); measured: R@5 0.94, MRR 0.76, topic 0.89, OOS 4/4
    # (R@5 0.89, MRR 0.71, topic 0.86 before the word bridge)
    "qa_taiwan.jsonl": {"recall@5": 0.89, "mrr@10": 0.71, "topic_accuracy": 0.93, "oos_abstention": 0.95},
    # price/date/product look-ups, answerable and not; measured: R@5 1.00, OOS 9/9, no false abstention
    "qa_lookup.jsonl": {"recall@5": 0.85, "oos_abstention": 0.85},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_quality_floor(kb, name):
    metrics = evaluate_file(kb, DATA / name)  # the set's own topic labels left out
    assert metrics["own_labels_left_out"] == (kb.data.manifest["labels"]["files"].get(name) is not None)
    for key, floor in FLOORS[name].items():
        assert metrics[key] >= floor, f"{name}: {key} {metrics[key]} fell below {floor}"
    assert metrics["false_abstentions"] <= 1


@pytest.mark.skipif(not DEV.exists(), reason="shared dev set not present")
def test_dev_set_floor(kb):
    metrics = evaluate(kb, read_cases(DEV))
    # measured: R@5 0.95, MRR 0.89, OOS 1/1
    assert metrics["recall@5"] >= 0.89 and metrics["mrr@10"] >= 0.82 and metrics["oos_abstention"] == 1.0


def test_hybrid_beats_each_side_alone(kb):
    cases = read_cases(DATA / "qa_tune.jsonl")
    hybrid, dense, lexical = (evaluate(kb, cases, mode)["mrr@10"] for mode in ("hybrid", "dense", "lexical"))
    assert hybrid > dense and hybrid > lexical
