"""BM25 index helpers: query-vocabulary coverage and all-token lookup."""
import numpy as np

from kb.retrieval.lexical import LexicalIndex, _sorted_columns


def test_coverage_is_idf_weighted_and_saturates():
    index = LexicalIndex([["量化", "量化", "量化"], ["量化", "剪枝"], ["剪枝", "蒸馏"], ["蒸馏"]])
    words, bigrams = index.coverage(["量化", "剪枝"], [0, 1, 2, 3])
    assert words[1] == 1.0  # both words
    assert 0 < words[0] < 1 and words[3] == 0  # repeating one word does not count more
    assert np.all(bigrams == 0)  # the query has no bigrams


def test_coverage_separates_words_from_bigrams():
    index = LexicalIndex([["模型", "#模型"], ["#模型"]])
    words, bigrams = index.coverage(["模型", "#模型"], [0, 1])
    assert list(words) == [1.0, 0.0] and list(bigrams) == [1.0, 1.0]


def test_unknown_query_words_give_zero_coverage():
    index = LexicalIndex([["a"], ["b"]])
    words, bigrams = index.coverage(["zzz"], [0, 1])
    assert list(words) == [0.0, 0.0]


def test_chunks_with_all():
    index = LexicalIndex([["gpt", "2"], ["gpt", "3"], ["2"]])
    assert list(index.chunks_with_all(["gpt", "2"])) == [0]
    assert list(index.chunks_with_all(["gpt", "nope"])) == []


def test_sorted_columns():
    assert _sorted_columns(np.array([0, 2, 4]), np.array([1, 3, 0, 2]))
    assert not _sorted_columns(np.array([0, 2, 4]), np.array([3, 1, 0, 2]))


def test_english_questions_get_translations_and_chinese_ones_do_not(kb):
    from kb.core.textnorm import mostly_english

    assert mostly_english("Why do people call LLMs black boxes?") and not mostly_english("LLM 的 inference latency 太高")
    tokens, weight = kb.retriever.lexical_query("Why do people call LLMs black boxes?")
    assert "黑箱" in tokens and weight == kb.calibration["retrieval"]["english_lexical_weight"]
    tokens, weight = kb.retriever.lexical_query("为什么说大模型是黑箱？")
    assert weight == 1.0


def test_an_english_question_finds_the_chinese_passage(kb):
    top = kb.ask("Can an LLM help lawyers draft contracts?").sources[:5]
    assert any("法律" in s.title for s in top)
