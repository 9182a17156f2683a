"""A thin scope margin plus words the corpus never uses is off-domain (school maths sounds like the corpus)."""
import pytest

from kb.scope import UNFAMILIAR_BAND


def test_known_share_weights_words_by_how_informative_they_are(kb):
    assert kb.lexical.known_share("抛物线的对称轴怎么求") < 0.4  # 抛物线, 对称轴: never in the corpus
    assert kb.lexical.known_share("梯度爆炸有什么办法限制住？") > 0.4  # 办法, 限制住 unknown but uninformative
    assert kb.lexical.known_share("？？") == 1.0  # no words: nothing unfamiliar


def test_unfamiliar_words_abstain_only_within_the_band(kb):
    q = "抛物线的对称轴怎么求"
    hits = kb.retriever.retrieve(q, kb.embed_query(q), 5).hits
    inside, above = kb.min_margin + UNFAMILIAR_BAND / 2, kb.min_margin + 2 * UNFAMILIAR_BAND
    assert kb._abstention(q, hits, 0.9, inside, False)[0] == "off_domain"
    assert kb._abstention(q, hits, 0.9, above, False) is None
    known = "k 折交叉验证具体怎么做"  # an in-scope question that sits this close to the line
    assert kb._abstention(known, hits, 0.9, inside, False) is None


@pytest.mark.parametrize("question", ["二元一次方程组用消元法怎么解？", "等比數列的通項公式", "二次函数的顶点坐标公式是什么？"])
def test_school_maths_abstains(kb, question):
    assert kb.ask(question).abstained


@pytest.mark.parametrize("question", ["F1 分数怎么算？", "k 折交叉验证具体怎么做", "梯度爆炸有什么办法限制住？"])
def test_short_in_scope_questions_near_the_line_are_answered(kb, question):
    assert not kb.ask(question).abstained
