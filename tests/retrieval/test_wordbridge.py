"""The word bridge: question words the corpus never uses reach corpus words of the same meaning."""
from __future__ import annotations

import numpy as np

from kb.retrieval.wordbridge import WordBridge, hubness, is_bridge_word, vocabulary


def _unit(*rows: list[float]) -> np.ndarray:
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_vocabulary_keeps_chinese_words_only():
    tokens = [["医疗", "#医疗", "gpu", "模型", "的"], ["模型", "流水线"]]
    assert vocabulary(tokens) == ["医疗", "模型", "流水线"]
    assert is_bridge_word("记忆体") and not is_bridge_word("#记忆") and not is_bridge_word("忙") and not is_bridge_word("lora")


def test_hubness_is_the_mean_cosine_to_the_nearest_other_words():
    vecs = _unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1])
    r = hubness(vecs, k=1)
    assert r.shape == (4,)
    assert np.isclose(r[0], float(vecs[0] @ vecs[1]))  # its nearest other word, not itself
    assert np.isclose(r[3], max(float(vecs[3] @ vecs[j]) for j in range(3)))


def _bridge(threshold: float = 0.0, max_words: int = 2) -> tuple[WordBridge, list[list[str]]]:
    # "领域" is a hub, equally close to every other word; "胡说" is unlike every corpus word.
    words = ["医疗", "领域", "推理", "流水线"]
    vecs = _unit([1, 0, 0, 0], [1, 1, 1, 0], [0, 1, 0, 0], [0, 0, 1, 0])
    queries = {"医院": [0.95, 0.1, 0, 0], "胡说": [0, 0, 0, 1]}
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return _unit(*[queries[t] for t in texts])

    return WordBridge(words, vecs, hubness(vecs, k=2), embed, threshold, max_words), calls


def test_bridge_takes_the_nearest_words_and_drops_weak_matches():
    bridge, _ = _bridge(threshold=0.1)
    assert bridge.bridge(["医院"])[0] == "医疗"
    assert bridge.bridge(["胡说"]) == []  # near no corpus word
    assert bridge.bridge([]) == []


def test_words_with_no_counterpart_in_the_corpus_get_none(kb):
    """By raw cosine every short word is 0.88-0.92 from dozens of corpus words (一视同仁 is nearest to 查看);
    by CSLS nothing clears the bar, so nothing is added."""
    bridge = kb.retriever.word_bridge
    assert bridge is not None
    assert bridge.bridge(["一视同仁"]) == [] and bridge.bridge(["牛肉面"]) == []
    assert bridge.bridge(["医院"])[0] == "医疗" and bridge.bridge(["记忆体"])[0] == "记忆"


def test_unknown_words_are_those_no_index_knows():
    bridge, _ = _bridge()
    assert bridge.unknown(["医院", "医疗", "#医院", "推论", "gpu", "忙"], {"推论": 1}) == ["医院"]
    # function words (numeral + measure word, particle, adverb) are not bridged: 一段 -> 段落 was noise
    assert bridge.unknown(["一段", "的话", "到底", "显示卡"], {}) == ["显示卡"]


def test_a_recurring_word_is_embedded_once():
    bridge, calls = _bridge()
    bridge.bridge(["医院"])
    bridge.bridge(["医院", "胡说"])
    assert calls == [["医院"], ["胡说"]]


def test_only_the_first_max_words_unknown_words_are_bridged():
    bridge, calls = _bridge(max_words=1)
    assert bridge.not_cached(["胡说", "医院"]) == ["胡说"]
    assert bridge.bridge(["胡说", "医院"]) == [] and calls == [["胡说"]]


def test_an_empty_vocabulary_bridges_nothing():
    bridge = WordBridge([], np.zeros((0, 4), np.float32), np.zeros(0, np.float32), lambda t: np.zeros((len(t), 4)), 0.0)
    assert bridge.bridge(["医院"]) == []


def test_taiwanese_words_reach_the_corpus_words(kb):
    """醫院 and 推論 are not corpus words; the lexical query gains 医疗 and 推理, which it uses."""
    tokens, _ = kb.retriever.lexical_query("大型語言模型在醫院可以幫上什麼忙？")
    assert "医疗" in tokens
    tokens, _ = kb.retriever.lexical_query("LLM 推論速度太慢，有哪些最佳化可以做？")
    assert "推理" in tokens


def test_the_topic_vote_reads_the_question_without_the_bridged_words(kb):
    question = "大型語言模型在醫院可以幫上什麼忙？"
    qvec = kb.embed_query(question)
    ret = kb.retriever.retrieve(question, qvec, 5)
    assert ret.near_words > 0 and "医疗" in ret.tokens and "医疗" not in ret.vote_tokens
    assert ret.vote_tokens == ret.tokens[:len(ret.tokens) - ret.near_words]
