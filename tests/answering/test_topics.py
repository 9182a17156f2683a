"""Topic vote arithmetic: the retrieved chunks' votes weighted by their retrieval scores."""
import numpy as np
import pytest

from kb.answering.topics import ranked_shares, score_shares

A, B = [1.0, 0.0], [0.0, 1.0]


def test_a_clear_first_hit_outweighs_several_middling_ones():
    votes = np.array([A, B, B, B, B])
    scores = [0.11, 0.07, 0.068, 0.066, 0.065]  # first place well clear of the rest
    assert score_shares(votes, scores, 5, 0.02)[0] > 0.5
    assert ranked_shares(votes, 5)[0] < 0.5  # 1/rank lets the four outvote it


def test_close_scores_share_the_vote():
    shares = score_shares(np.array([A, B]), [0.1, 0.1], 5, 0.02)
    assert shares == pytest.approx([0.5, 0.5])


def test_only_the_first_k_count_and_shares_sum_to_one():
    shares = score_shares(np.array([A, A, B]), [0.1, 0.1, 0.5], 2, 0.02)
    assert shares == pytest.approx([1.0, 0.0])
    assert score_shares(np.array([A, B, B]), [0.12, 0.1, 0.09], 3, 0.02).sum() == pytest.approx(1.0)


def test_no_hits_no_shares():
    assert score_shares(np.zeros((0, 2)), [], 5, 0.02).tolist() == [0.0, 0.0]


def test_a_question_whose_first_hit_is_clear_takes_its_topic(kb):
    answer = kb.ask("为什么大家都说大模型是个黑箱？")
    assert answer.sources[0].topic == "fairness_explain"
    assert answer.topic["id"] == "fairness_explain"  # 1/rank voting said arch_perf
