"""One answerability decision: answered, related (nearby content that does not answer it) or out of scope."""
import random

import numpy as np
import pytest

from kb.answering.answerability import FEATURES, Answerability, _contains, asked_names, asks_now, salient_terms, singled_out
from kb.core.textnorm import tokenize
from kb.retrieval.crosslingual import EnglishExpander, Glossary
from kb.retrieval.lexical import LexicalIndex


def test_salient_terms_weigh_informative_words_over_common_ones():
    terms = salient_terms("大模型为什么会产生幻觉？")
    assert "幻觉" in terms and "为什么" not in terms
    assert terms["幻觉"] > terms["产生"]
    assert salient_terms("？？？") == {} and salient_terms("😀😀😀") == {}


@pytest.mark.parametrize("question", ["？？？", "😀😀😀", "。。。", "……", "?!"])
def test_input_without_content_gets_a_clear_message_and_no_answer(kb, question):
    ans = kb.ask(question)
    assert ans.abstained and ans.abstain_reason == "no_content" and ans.status == "out_of_scope"
    assert ans.sources == [] and "没有可检索的内容" in ans.answer


def test_random_bytes_are_not_answered(kb):
    noise = bytes(random.Random(7).randrange(256) for _ in range(3000)).decode("utf-8", "replace")
    ans = kb.ask(noise)
    assert ans.abstained and ans.error is None


def test_a_question_the_corpus_comes_near_but_never_covers_is_related(kb):
    ans = kb.ask("Mamba 架构是怎么工作的？")
    assert ans.abstained and ans.status == "related" and ans.abstain_reason == "not_covered"
    assert ans.missing_terms == ["mamba"] and "没有提到：mamba" in ans.answer
    assert ans.sources  # the nearest passages are still listed, as possibly related


@pytest.mark.parametrize("question", ["LoRA 的秩一般设多少？", "FlashAttention 为什么能省显存？", "QLoRA 和 LoRA 有什么不同？"])
def test_techniques_the_corpus_never_names_are_not_answered(kb, question):
    assert kb.ask(question).abstained


def test_a_name_given_as_an_example_is_not_what_is_asked():
    assert asked_names("文本转成 token 用什么算法？像 BPE 这种有现成的库吗？") == set()
    assert asked_names("BPE 分词是怎么合并出词表的？") == {"bpe"}
    assert asked_names("我们用 TensorRT 部署，显存老是不够，怎么办？") == set()  # a scene-setting clause


def test_a_name_is_asked_with_its_version_or_qualifier():
    assert asked_names("Llama 3.1 405B 把上下文长度扩到多少了？") == {"llama 3.1"}
    assert asked_names("Ring Attention 是怎么切分长序列的？") == {"ring attention"}
    assert asked_names("Qwen2.5-72B 支持多长上下文？") == {"qwen2.5"}
    assert asked_names("How does GPT use RLHF?") == {"gpt", "rlhf"}  # two names, not one


def test_a_version_the_corpus_never_names_is_a_missing_name(kb):
    assert kb.answerability.mentions("gpt-4") and not kb.answerability.mentions("gpt-4o")
    for question, missing in (("GPT-4o 和 GPT-4 比有什么改进？", 1.0), ("GPT-4 有哪些改进？", 0.0)):
        qvec, retrieval = kb.retrieve(question, 10)
        assert kb.assess(question, qvec, retrieval).features["missing_name"] == missing


@pytest.mark.parametrize("question", ["k 折交叉验证具体怎么做", "梯度爆炸有什么办法限制住？", "为什么训练大模型需要大显存？",
                                      "Why do people call LLMs black boxes?", "什么是F1分数？",
                                      "What is fine-tuning and when should I use it?"])  # near everyday, but confident
def test_in_scope_questions_are_answered(kb, question):
    ans = kb.ask(question)
    assert not ans.abstained and ans.status == "answered" and ans.missing_terms == []


@pytest.mark.parametrize("question", ["明天北京会下雨吗", "红烧肉怎么做好吃", "李白是哪个朝代的诗人",
                                      "How do I bake sourdough bread?"])
def test_everyday_questions_are_out_of_scope(kb, question):
    ans = kb.ask(question)
    assert ans.abstained and ans.abstain_reason in ("off_domain", "not_covered")


@pytest.mark.parametrize("question", ["最近一周 GitHub 上最火的大模型项目是哪个？", "今年有哪些新发布的开源模型？",
                                      "這兩天有什麼 AI 新聞？", "What did the big AI labs announce this week?",
                                      "Is the new Llama out yet?", "Which open-source LLMs came out this month?",
                                      "最近有哪些新发布的大模型？", "Which models were released most recently?"])
def test_a_question_about_a_time_window_relative_to_now_is_out_of_scope(kb, question):
    assert asks_now(question)
    ans = kb.ask(question)
    assert ans.abstained and ans.abstain_reason == "off_domain" and "当下时段" in ans.answer


def test_an_everyday_question_about_today_is_told_it_is_off_domain(kb):
    ans = kb.ask("今天晚饭吃什么好？")
    assert ans.abstained and ans.abstain_reason == "off_domain" and "没有与这个问题相关的内容" in ans.answer


@pytest.mark.parametrize("question", ["最近邻检索是怎么做的？", "训练周期一般设多少个 epoch？", "大模型最新进展有哪些？",
                                      "Are LLMs running in real products today?", "Is attention the latest idea?",
                                      "最近几年 NLP 有哪些进展？", "K-means 会把每个点分到最近的簇中心吗？"])
def test_nearest_neighbours_periods_and_modern_things_are_not_about_now(question):
    assert not asks_now(question)


def test_the_fitted_model_is_data_for_this_embedder(kb):
    tuned = kb.calibration["answerability"]
    assert kb.calibrated and set(tuned["features"]) <= set(FEATURES)
    assert len(tuned["answered"]["coef"]) == len(tuned["features"]) == len(tuned["mean"])


def test_every_decision_reports_its_features(kb):
    qvec, retrieval = kb.retrieve("什么是微调？", 10)
    decision = kb.assess("什么是微调？", qvec, retrieval)
    assert set(decision.features) == {*FEATURES, "absent_concept", "asks_now"} and 0.0 <= decision.p_answered <= 1.0


@pytest.mark.parametrize("question", [
    "經過安全對齊的模型有時連正常請求也拒絕回答（過度拒答），這個問題一般如何緩解？",  # its nearest FAQ question is the 6th hit
    "什么是微调？",
])
def test_the_decision_and_answer_do_not_change_with_the_number_of_sources(kb, question):
    five, ten = kb.ask(question, k=5), kb.ask(question, k=10)
    assert (five.status, five.title, five.answer) == (ten.status, ten.title, ten.answer)
    assert [s.chunk_id for s in five.sources] == [s.chunk_id for s in ten.sources[:5]]


def over(text: str) -> Answerability:
    """The decision's concept check over a one-passage corpus, with the real glossary."""
    tokens = set(tokenize(text))
    return Answerability(tokens, [text], [frozenset(tokens)], np.zeros((0, 384), np.float32), [], {}, lambda t: (),
                         Glossary(set()).named, LexicalIndex([list(tokens)]).chunks_with)


@pytest.mark.parametrize("corpus", ["推理时用键值缓存避免重复计算。", "Decoding reuses KV-caches to skip work."])
def test_a_concept_the_corpus_names_in_any_language_or_spelling_is_not_absent(corpus):
    assert over(corpus).absent_concepts("KV cache 是什么？") == []
    assert over(corpus).absent_concepts("什么是键值缓存？") == []


def test_a_concept_the_corpus_never_names_is_absent_by_the_questions_own_name():
    corpus = over("模型推理时避免重复计算；训练时使用标签和平滑的学习率曲线。")
    assert corpus.absent_concepts("What is a KV cache and why does it help?") == ["kv cache"]
    assert corpus.absent_concepts("标签平滑有什么用？") == ["标签平滑"]  # its two words apart are not the concept


def test_a_term_the_question_quotes_or_glosses_is_checked_like_a_concept():
    corpus = over("注意力会汇聚信息，推理时用滑动窗口处理长文本；函数调用让模型使用外部工具。")
    assert corpus.absent_concepts("长文本里的“注意力汇聚”是什么？") == ["注意力汇聚"]
    assert corpus.absent_concepts("位置插值（position interpolation）要怎么做？") == ["position interpolation"]
    # named in Chinese just before the gloss: the corpus has it
    assert corpus.absent_concepts("函数调用（Function Calling）怎么用？") == []
    # a Chinese name in brackets, with the Latin name before it if any
    assert corpus.absent_concepts("EMA（指数移动平均）有什么用？") == ["指数移动平均"]
    assert corpus.absent_concepts("长文本靠 sliding window（滑动窗口）怎么处理？") == []


def test_quoted_utterances_examples_and_english_questions_single_out_nothing():
    assert singled_out("拍张照片问模型“图里有什么”，这种技术能用在哪些地方？") == []  # an utterance, not a term
    assert singled_out("用百川（Baichuan）模型生成摘要，怎么判断好坏？") == []  # a tool in an example position
    assert singled_out("常见的任务（如翻译、摘要）有哪些？") == []  # an example list in brackets, not a name
    assert singled_out('What does "closed-book" question answering mean?') == []  # English quotes are everyday
    assert singled_out("“预训练+微调”是谁提出的？") == [("预训练+微调", ["预训练+微调"])]
    assert over("先预训练，再微调。").absent_concepts("“预训练+微调”是谁提出的？") == []  # each part is mentioned


def test_a_question_about_a_concept_the_corpus_never_names_is_related_naming_it(kb):
    assert kb.answerability.absent_concepts("什么是键值缓存？") == ["键值缓存"]  # the seed corpus has no KV cache
    ans = kb.ask("推理时的键值缓存是怎么节省计算的？")
    assert ans.status == "related" and ans.abstain_reason == "not_covered" and "键值缓存" in ans.missing_terms
    assert ans.sources  # the nearest passages are still listed


def test_a_concept_is_covered_by_a_whole_name_not_by_one_of_its_words(kb):
    assert kb.answerability.synonyms("moe") == ()  # the seed has 混合, 专家 and 模型, never 混合专家模型
    written = EnglishExpander({t: 1 for t in tokenize("混合专家模型把参数分给多个专家。")})
    assert "混合专家模型" in written.translations("moe")
    only_model = frozenset(tokenize("大模型的推理需要显存"))
    assert not any(_contains(only_model, w) for w in written.translations("moe"))  # 模型 alone is not MoE
    assert _contains(frozenset(tokenize("混合专家模型把参数分给多个专家")), "混合专家模型")
    assert _contains(frozenset(tokenize("Sparse mixture of experts layers")), "mixture of experts")
    assert not _contains(frozenset(tokenize("a mixture of ideas")), "mixture of experts")


def test_the_words_of_a_concept_the_corpus_never_names_do_not_cover_it(kb):
    """混合, 专家 and 模型 are all seed words, but 混合专家模型 is not: a question about it is not covered."""
    decision = kb.judge("什么是混合专家模型？", 10)[3]
    assert decision.features["absent_concept"] == 1.0
    assert decision.features["coverage_corpus"] == 0.0 and decision.status != "answered"
    kept = kb.judge("混合专家模型和大模型的显存有什么关系？", 10)[3]  # 模型 outside the name still counts as a word
    assert 0.0 < kept.features["coverage_corpus"] < 1.0


def test_a_concept_the_top_passage_discusses_under_another_name_is_not_absent():
    """The corpus never says 假新闻, but its passage on 虚假信息 is the nearest to it: shown first, it is no gap."""
    texts = ["生成虚假信息和谣言的风险，可以用内容审核和来源追溯应对。", "学习率预热让训练更稳定。"]
    tokens = [set(tokenize(t)) for t in texts]
    vocab = set().union(*tokens)

    def absent(nearest: int) -> float:
        judge = Answerability(vocab, texts, [frozenset(t) for t in tokens], np.zeros((0, 384), np.float32), [], {},
                              lambda t: (), Glossary(set()).named, LexicalIndex([list(t) for t in tokens]).chunks_with,
                              nearest_chunk=lambda term: nearest)
        qvec = np.ones(384, np.float32) / np.sqrt(384)
        return judge.decide("大模型被人用来炮制假新闻该怎么办？", qvec, [0, 1], [0.9, 0.8], False, 0.0).features["absent_concept"]

    assert absent(nearest=0) == 0.0  # the shown passage is the corpus's nearest to the concept
    assert absent(nearest=1) == 1.0  # another passage is: the shown one is not about it


def test_one_latin_word_is_never_taken_as_discussed_under_another_name():
    """The embedder places an unknown name (GRPO) by its spelling, next to PPO: nearness says nothing there."""
    texts = ["PPO 用裁剪的目标函数稳定策略更新。"]
    tokens = [set(tokenize(texts[0]))]
    judge = Answerability(tokens[0], texts, [frozenset(tokens[0])], np.zeros((0, 384), np.float32), [], {}, lambda t: (),
                          Glossary(set()).named, LexicalIndex([list(tokens[0])]).chunks_with, nearest_chunk=lambda term: 0)
    assert not judge.discussed_in("grpo", 0) and judge.discussed_in("群体相对策略", 0)


def test_the_nearest_passage_to_a_concept_comes_from_the_embedder(kb):
    lr = kb._nearest_chunk("学习率")
    assert lr is not None and "学习率" in kb.data.chunks[lr].text
    assert kb._nearest_chunk("幻觉") != kb.retrieve("大模型为什么会产生幻觉？", 1)[1].hits[0].position

