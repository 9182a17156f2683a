"""Dense and BM25 agreeing on the first chunk lets a margin just under the off-domain threshold pass."""
import pytest

from kb.scope import AGREEMENT_SLACK


def test_agreement_rescues_only_a_near_miss(kb):
    hits = kb.retriever.retrieve("什么是微调？", kb.embed_query("什么是微调？"), 5).hits
    just_under = kb.min_margin - AGREEMENT_SLACK / 2
    well_under = kb.min_margin - 2 * AGREEMENT_SLACK
    assert kb._abstention("什么是微调？", hits, 0.9, just_under, False, agree=True) is None
    assert kb._abstention("什么是微调？", hits, 0.9, just_under, False, agree=False)[0] == "off_domain"
    assert kb._abstention("什么是微调？", hits, 0.9, well_under, False, agree=True)[0] == "off_domain"


def test_retrieval_reports_agreement(kb):
    q = "k 折交叉验证具体怎么做"
    assert kb.retriever.retrieve(q, kb.embed_query(q), 5).agree
    q = "明天北京会下雨吗"
    assert not kb.retriever.retrieve(q, kb.embed_query(q), 5).agree


@pytest.mark.parametrize("question", ["管線平行訓練裡常說的「氣泡」是什麼？"])  # Taiwanese wording, margin −0.011
def test_a_taiwanese_question_just_under_the_line_is_answered(kb, question):
    assert not kb.ask(question).abstained


@pytest.mark.parametrize("question", ["小数除法怎么列竖式", "李白是哪个朝代的诗人", "明天北京会下雨吗"])
def test_everyday_and_school_questions_still_abstain(kb, question):
    assert kb.ask(question).abstained
