"""Ranking helpers: reciprocal-rank fusion, twin collapsing, parent chunks, first-stage ranking."""
import numpy as np
import pytest

from kb.core.schema import Chunk
from kb.core.textnorm import tokenize
from kb.retrieval.fusion import collapse_twins, defer_covered, parents_of, rrf_fuse
from kb.retrieval.lexical import LexicalIndex
from kb.retrieval.rerank import RANK_FEATURES, Reranker, heading_words, is_question_list, is_reference_list, is_summary
from kb.retrieval.retriever import best_positions


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
    assert kb.search_vector(en, qvec) is not qvec
    zh = "为什么说大模型是黑箱？"
    qvec = kb.embed_query(zh)
    assert kb.retriever.translations(zh) == [] and kb.search_vector(zh, qvec) is qvec


def test_english_off_domain_question_still_abstains(kb):
    ans = kb.ask("What's a good stretching routine for lower back pain?")
    assert ans.abstained and ans.abstain_reason in ("off_domain", "no_match")


def test_an_english_question_is_not_ruled_off_domain_by_an_english_probe(kb):
    # "How to fix a leaking tap?" used to beat the privacy sections on the word "leaking" alone
    ans = kb.ask("How can I stop a chatbot from leaking users' private data?")
    assert not ans.abstained and "隐私" in " ".join(s.title for s in ans.sources[:3])
    for q in ("How do I unclog a bathroom drain without chemicals?", "What are the symptoms of a vitamin D deficiency?"):
        assert kb.ask(q).abstained, q


def test_school_knowledge_questions_abstain(kb):
    for q in ("潮汐是怎么形成的？", "辛亥革命推翻了哪个朝代？", "颱風是怎麼形成的？"):
        ans = kb.ask(q)
        assert ans.abstained and ans.abstain_reason in ("off_domain", "no_match"), q


def test_hub_feature_is_scaled_over_the_corpus(kb):
    hub = kb.retriever.reranker.features(["模型"], list(range(len(kb.data.chunks))), [], [], kb.retriever.lexical.scores(["模型"]),
                                         (1.0, 1.0))[:, -1]
    assert hub.min() == 0.0 and hub.max() == 1.0 and len(hub) == len(kb.data.chunks)


def test_a_chunk_whose_parent_is_ranked_waits():
    # 3 is the parent of 0 and 1: after it, its sub-sections go to the end; before it, they keep their place
    assert defer_covered([3, 0, 2, 1], {0: 3, 1: 3}) == [3, 2, 0, 1]
    assert defer_covered([0, 3, 1, 2], {0: 3, 1: 3}) == [0, 3, 2, 1]


def test_parents_are_found_by_title_path():
    p = Chunk(id="p", text="x", title_path=("doc", "1. 挑战"), source="s.txt", span=(0, 9), kind="parent")
    own = Chunk(id="a", text="a", title_path=("doc", "1. 挑战"), source="s.txt", span=(0, 1))
    kid = Chunk(id="b", text="b", title_path=("doc", "1. 挑战", "1.1 融合"), source="s.txt", span=(2, 3))
    other = Chunk(id="c", text="c", title_path=("doc", "1. 挑战", "1.1 融合"), source="t.txt", span=(2, 3))
    grandchild = Chunk(id="d", text="d", title_path=("doc", "1. 挑战", "1.1 融合", "x"), source="s.txt", span=(4, 5))
    assert parents_of([p, own, kid, other, grandchild]) == {1: 0, 2: 0}


def test_sources_do_not_repeat_a_ranked_parent(kb):
    ans = kb.ask("多模态学习现在面临哪些挑战？")
    by_id = {c.id: c for c in kb.data.chunks}
    top = [by_id[s.chunk_id] for s in ans.sources[:5]]
    for i, c in enumerate(top):
        if c.kind == "parent":
            assert not any(t.source == c.source and c.title_path in (t.title_path, t.title_path[:-1])
                           for t in top[i + 1:] if t.kind != "parent")
    assert any(c.kind == "parent" for c in top)


def test_browsing_and_topic_counts_leave_parents_out(kb):
    assert all(c.kind != "parent" for c in kb.chunks())
    assert sum(t["chunks"] for t in kb.topics()) == sum(1 for c in kb.data.chunks if c.kind != "parent")
    assert any(c.kind == "parent" for c in kb.data.chunks)


def test_sections_below_lists_sub_sections_in_corpus_order():
    from kb.answering.compose import sections_below

    def c(i, path, source="s.txt", kind="section"):
        return Chunk(id=str(i), text=str(i), title_path=path, source=source, span=(i, i + 1), section="/".join(path),
                     kind=kind)

    chunks = [c(0, ("doc", "12. 怎么评估")), c(1, ("doc", "12. 怎么评估", "1. 性能")),
              c(2, ("doc", "12. 怎么评估", "2. 风险")), c(3, ("doc", "12. 怎么评估"), kind="parent"),
              c(4, ("doc", "12. 怎么评估", "1. 性能"), source="t.txt"), c(5, ("doc", "13. 下一题"))]
    below = sections_below(chunks)
    assert below == {"doc/12. 怎么评估": [1, 2]}  # not the parent, not another file's chunk


def test_an_answer_that_only_introduces_its_sub_sections_goes_on_into_them(kb):
    """The best source is "12. 如何評估 LLM 在特定領域…" whose own text ends "以下是一些關鍵策略和方法：". The answer
    continues into the sub-sections instead of stopping at the colon."""
    answer = kb.ask("要评估大模型在医疗、法律这些专业领域的表现，应该怎么做？")
    assert answer.title.endswith("12. 如何評估 LLM 在特定領域（如醫療、法律）的表現和潛在風險？")
    assert "以下是一些關鍵策略和方法：" in answer.answer and "領域專家參與" in answer.answer
    assert len(answer.answer) <= 905


def test_a_source_that_only_introduces_its_sub_sections_shows_them_once():
    from kb.answering.compose import MAX_ANSWER_CHARS, Composer

    def c(i, text, path):
        return Chunk(id=str(i), text=text, title_path=path, source="s.txt", span=(i, i + 1), section="/".join(path))

    chunks = [c(0, "12. 怎么评估\n\n方法如下：", ("doc", "12. 怎么评估")),
              c(1, "**1. 性能**\n\n专家参与。", ("doc", "12. 怎么评估", "1. 性能")),
              c(2, "**2. 风险**\n\n" + "偏见。" * MAX_ANSWER_CHARS, ("doc", "12. 怎么评估", "2. 风险")),
              c(3, "13. 下一题\n\n普通的一段。", ("doc", "13. 下一题"))]
    composer = Composer(chunks, faq_match=1.0)
    text, shown = composer.passage(0)
    assert shown == [0, 1] and "方法如下：" in text and "专家参与" in text  # the long one does not fit
    assert composer.passage(3) == (chunks[3].text, [3]) and composer.passage(1) == (chunks[1].text, [1])


def test_the_answer_from_a_long_section_shows_the_chunk_that_matched():
    from kb.answering.compose import MAX_ANSWER_CHARS, Composer
    from kb.retrieval.retriever import Hit

    def c(i, text, section="s/2.1"):
        return Chunk(id=str(i), text=text, title_path=("doc", section), source="s.md", span=(i, i + 1), section=section)

    def paragraph(n):  # 400 characters, no sentence repeated from another chunk
        return "".join(f"第{n}段的第{i:02d}句话讲别的事情。" for i in range(25))

    chunks = [c(0, "2.1 归一化\n\n" + paragraph(0)), c(1, paragraph(1)), c(2, paragraph(2) + "RMSNorm 只有一个可学参数。"),
              c(3, paragraph(3)), c(4, "很短的一节。", "s/2.2")]
    composer = Composer(chunks, faq_match=1.0)

    def answer(position):
        return composer.compose([Hit(chunks[position], position, 1.0, 0.9, 0.0, 1.0)])[0]

    late = answer(2)
    assert late.startswith("… ") and "RMSNorm 只有一个可学参数。" in late and len(late) <= MAX_ANSWER_CHARS + 4
    last = answer(3)  # room before it: the chunk before is shown too, not a lone tail
    assert last.startswith("… ") and "RMSNorm 只有一个可学参数。" in last
    first = answer(0)
    assert first.startswith("2.1 归一化") and "RMSNorm" not in first and first.endswith(" …")
    assert answer(4) == "很短的一节。"  # a section that fits is shown whole


def test_a_lead_in_source_reads_on_and_its_sub_sections_are_not_listed_again(kb):
    answer = kb.ask("要评估大模型在医疗、法律这些专业领域的表现，应该怎么做？")
    first = answer.sources[0]
    assert not first.text.rstrip().endswith("：") and "領域專家參與" in first.text
    assert [s.chunk_id for s in answer.sources].count(first.chunk_id) == 1
    assert not any(s.text.startswith("**1. 性能評估**") for s in answer.sources[1:])


def test_heading_words_leave_out_the_title_every_chunk_of_a_document_shares():
    def c(source: str, *path: str) -> Chunk:
        return Chunk(id=path[-1], text="x", title_path=path, source=source, span=(0, 1))

    words = heading_words([c("faq.md", "关于 AI 的小白 FAQ", "微调是什么？"), c("faq.md", "关于 AI 的小白 FAQ", "向量数据库是什么"),
                           c("guide.md", "1. 推理加速", "1.1 量化"), c("guide.md", "2. 隐私", "2.1 脱敏")])
    assert "微调" in words[0] and "ai" not in words[0] and "faq" not in words[0]  # the shared document title
    assert "推理" in words[2] and "量化" in words[2]  # nothing shared in guide.md: every heading counts


def test_summary_sections_are_recognised_by_their_heading(kb):
    summaries = [c for c in kb.data.chunks if is_summary(c)]
    assert len(summaries) == 8 and all(c.title_path[-1].strip("* ") in ("總結", "总结") for c in summaries)
    # a section titled "7. 总结：未来发展趋势与挑战" has content of its own: not a summary of siblings
    assert not any("未来发展趋势" in c.title_path[-1] for c in summaries)


def test_a_summary_does_not_outrank_the_sub_section_that_answers(kb):
    ans = kb.ask("要把 LLM 用在醫療或法律這種專業領域，該怎麼評估它到底可不可靠？")
    titles = [s.title.split(" › ")[-1] for s in ans.sources]
    shows = next(i for i, s in enumerate(ans.sources) if "1. 性能評估" in s.title or "**1. 性能評估**" in s.text)
    assert shows < 5 and ("總結" not in titles or titles.index("總結") > shows)


def test_the_faq_entry_that_answers_leads_the_sources(kb):
    # 28.3 数据隐私与安全 outranks the FAQ entry in retrieval; the entry's question matches closely, so the answer is
    # that entry, and its source is listed first
    ans = kb.ask("训练模型的过程中有哪些安全风险？")
    assert ans.match == "faq" and ans.sources[0].title == ans.title == "关于 AI 的小白 FAQ › 模型训练时可能存在哪些安全隐患？"
    assert len({s.chunk_id for s in ans.sources}) == len(ans.sources)  # moved, not duplicated


@pytest.mark.parametrize("question", ["什么是微调？", "训练模型的过程中有哪些安全风险？", "What is RLHF?", "大模型为什么需要大量显存？"])
def test_the_first_source_holds_what_the_answer_shows_and_its_chunks_are_not_listed_again(kb, question):
    ans = kb.ask(question)
    assert ans.status == "answered"
    shown = ans.answer.removeprefix("… ").removesuffix(" …").rstrip()
    first = ans.sources[0].text
    assert first.startswith(shown)  # whole chunks: the answer may cut the last one at a sentence
    assert len(first) <= len(shown) + max(len(c.text) for c in kb.data.chunks)
    chunk_text = {c.id: c.text for c in kb.data.chunks}
    assert not any(chunk_text[s.chunk_id] in first for s in ans.sources[1:])  # its section is not listed twice


def test_an_abstention_lists_the_nearest_chunks_as_they_are(kb):
    ans = kb.ask("What is a KV cache?")
    chunk_text = {c.id: c.text for c in kb.data.chunks}
    assert ans.abstained and ans.sources and ans.sources[0].text.startswith(chunk_text[ans.sources[0].chunk_id])


def test_best_positions_match_a_full_sort_with_ties_in_corpus_order():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, 5000).astype(np.float32)  # many ties
    keep = rng.random(5000) < 0.7
    full = [int(i) for i in np.argsort(-scores, kind="stable") if keep[i]]
    assert best_positions(scores, keep, 100) == full[:100]
    assert best_positions(scores, keep, 10_000) == full
    assert best_positions(scores, np.zeros(5000, bool), 10) == []


def test_one_engine_call_gives_the_vectors_of_separate_calls(kb):
    for question in ("Why do people call LLMs black boxes?", "推論時效能不好怎麼辦？"):
        qvec, search = kb.embed_question(question)
        alone = kb.embed_query(question)
        assert np.array_equal(qvec, alone)
        assert np.array_equal(search, kb.search_vector(question, alone))



EXERCISES = """## 练习

1. 如果更改第一层和第二层的丢弃概率，会发生什么情况？
1. 增加训练轮数，并比较使用和不使用这种方法时的结果。
1. 为什么在测试时通常不使用它？

[Discussions](https://example.org/t/1)
"""


def test_a_list_of_questions_is_told_from_passages_that_answer():
    assert is_question_list(EXERCISES)
    assert is_question_list("## 2. 实践应用\n\n* 如何部署模型？\n* 如何评估模型？\n* 如何保护隐私？")  # a table of contents
    faq = "## 什么是微调？\n\n微调是在预训练模型上继续训练。常见做法：\n\n1. 全参数微调：更新所有参数。\n2. LoRA：只训练低秩矩阵。"
    assert not is_question_list(faq)  # a question heading over an answer
    told = ("不同的任务适合不同的方法，下面逐一说明它们各自的原理、优点和代价，以及在实践中如何选择，"
            "读者可以结合前面几节的实验结果来理解。\n\n1. 批量大小太大会怎样？显存不够。\n2. 学习率太大会怎样？训练发散。")
    assert not is_question_list(told)  # a few questions inside a passage that is mostly prose
    assert not is_question_list("## 小结\n\n* 可以用 `help` 或 `?` 查看文档。\n* 官方文档有更多示例。")  # ? in code
    assert not is_question_list("1. 为什么？")  # one item is not a list


BIBLIOGRAPHY = """**参考文献**

[1] Ashish Vaswani, Noam Shazeer, Niki Parmar. (2017). *Attention Is All You Need.* arXiv preprint arXiv:1706.03762.

[2] Jacob Devlin, Ming-Wei Chang, Kenton Lee. (2019). *BERT: Pre-training of Deep Bidirectional Transformers.*
"""

FURTHER_READING = """## 延伸阅读

- [Language Models are Few-Shot Learners](https://arxiv.org/pdf/2005.14165.pdf). *Tom B. Brown et al.* NeurIPS 2020.
- [Scaling Laws for Neural Language Models](https://arxiv.org/pdf/2001.08361.pdf). *Jared Kaplan et al.* 2020.
"""


def test_a_list_of_references_is_told_from_passages_that_answer():
    assert is_reference_list(BIBLIOGRAPHY) and is_reference_list(FURTHER_READING)
    methods = ("轻量级微调有许多变体：\n\n1. **提示调整（[Prompt Tuning](https://arxiv.org/pdf/2104.08691.pdf)）**：通过微调"
               "模型的输入提示来优化模型的表现。\n2. **前缀调整（[Prefix Tuning](https://arxiv.org/pdf/2101.00190.pdf)）**："
               "在输入前添加可训练的前缀来调整模型的行为。")
    assert not is_reference_list(methods)  # each item cites, but explains in Chinese
    products = ("对于影响真实用户的生产系统，由于大多数这些系统是封闭的，很难确定确切的情况，也很难知道模型的规模、训练数据和具体的"
                "使用方式，以下是一些正在实际生产中使用的知名大型语言模型的不完全列表：\n- [Google Search](https://blog.google/)\n"
                "- [AI21 Labs’ writing assistance](https://www.ai21.com/)")
    assert not is_reference_list(products)  # a few links under prose that is most of the passage
    assert not is_reference_list("1. 收集数据。\n2. 训练模型。\n3. 评估效果。")  # a list that cites nothing
    assert not is_reference_list("[1] Ashish Vaswani et al. (2017). Attention Is All You Need.")  # one item is not a list


def test_a_list_of_questions_or_references_is_never_the_first_passage():
    def chunk(name: str, text: str, *path: str) -> Chunk:
        return Chunk(id=name, text=text, title_path=path, source="book.md", span=(0, 1))

    chunks = [chunk("ex", EXERCISES, "暂退法", "练习"), chunk("body", "暂退法在训练时随机丢弃隐藏单元，测试时不丢弃。", "暂退法"),
              chunk("other", "权重衰减是一种正则化方法。", "权重衰减")]
    tokens = [tokenize(c.text) for c in chunks]
    weights = {name: 0.0 for name in RANK_FEATURES} | {"dense_rrf": 1.0}
    reranker = Reranker(chunks, LexicalIndex(tokens), weights, depth=3, rrf_k=60)
    fused = {0: 3.0, 1: 2.0, 2: 1.0}
    order, scores = reranker.rerank(["暂退法"], [0, 1, 2], fused, [0, 1, 2], [0, 1, 2], np.array([3.0, 2.0, 1.0]), (1.0, 1.0))
    assert order == [1, 0, 2] and scores[1] > scores[0] > scores[2]
    only_asking = Reranker(chunks[:1], LexicalIndex(tokens[:1]), weights, depth=3, rrf_k=60)
    assert only_asking.rerank(["暂退法"], [0], {0: 1.0}, [0], [0], np.array([1.0]), (1.0, 1.0))[0] == [0]
    cited = [chunk("refs", BIBLIOGRAPHY, "注意力", "参考文献"), chunk("body", "注意力按查询与键的相似度给值加权。", "注意力")]
    cited_tokens = [tokenize(c.text) for c in cited]
    citing = Reranker(cited, LexicalIndex(cited_tokens), weights, depth=2, rrf_k=60)
    assert citing.rerank(["注意力"], [0, 1], {0: 2.0, 1: 1.0}, [0, 1], [0, 1], np.array([2.0, 1.0]), (1.0, 1.0))[0] == [1, 0]
