"""Ranking helpers: reciprocal-rank fusion and twin collapsing."""
from kb.retrieve import collapse_twins, rrf_fuse
from kb.schema import Chunk


def chunk(i: int, text: str, group: str = "", entry: str = "") -> Chunk:
    return Chunk(id=str(i), text=text, title_path=("t",), source="s.txt", span=(0, 1), group=group, entry=entry)


SHORT = "大模型训练需要大量显存，因为参数、梯度和优化器状态都要放在显存里。"
LONG_REPEAT = "大模型训练需要大量显存，因为参数、梯度和优化器状态都要放在显存里，激活值也要。"
LONG_EXTRA = "另外可以用梯度累积、混合精度和模型并行来减少每张卡上的显存占用。"


def test_a_twin_that_repeats_a_ranked_answer_waits():
    chunks = [chunk(0, SHORT, "g", "e1"), chunk(1, LONG_REPEAT, "g", "e2"), chunk(2, "别的内容，讲评估指标。")]
    assert collapse_twins([0, 1, 2], chunks) == [0, 2, 1]


def test_a_twin_that_adds_something_keeps_its_place():
    chunks = [chunk(0, SHORT, "g", "e1"), chunk(1, LONG_EXTRA, "g", "e2"), chunk(2, "别的内容，讲评估指标。")]
    assert collapse_twins([0, 1, 2], chunks) == [0, 1, 2]


def test_chunks_of_one_entry_are_never_deferred():
    chunks = [chunk(0, SHORT, "g", "e1"), chunk(1, SHORT, "g", "e1")]
    assert collapse_twins([1, 0], chunks) == [1, 0]


def test_rrf_rewards_agreement():
    fused = rrf_fuse([[1, 2, 3], [3, 1, 2]], (1.0, 1.0), k=30)
    assert max(fused, key=fused.get) == 1 and fused[3] > fused[2]


def test_english_questions_search_with_their_translations(kb):
    en = "Why do people call LLMs black boxes?"
    qvec = kb.embed_query(en)
    assert "黑箱" in kb.retriever.translations(en)
    assert kb._search_vector(en, qvec) is not qvec
    zh = "为什么说大模型是黑箱？"
    qvec = kb.embed_query(zh)
    assert kb.retriever.translations(zh) == [] and kb._search_vector(zh, qvec) is qvec


def test_english_off_domain_question_still_abstains(kb):
    ans = kb.ask("What's a good stretching routine for lower back pain?")
    assert ans.abstained and ans.abstain_reason in ("off_domain", "no_match")
