"""benchmarks/grown_index.py: a build grown in memory for the speed figures."""
from benchmarks.grown_index import grown
from kb.knowledge import KnowledgeBase


def test_a_grown_build_answers_from_the_same_chunk_or_a_copy_of_it(kb):
    big = KnowledgeBase(grown(kb.data, 3 * len(kb.data.chunks)), kb.embedder, kb.settings, kb.calibration)
    assert len(big.data.chunks) == 3 * len(kb.data.chunks) and len(big.data.vectors) == len(big.data.row_chunk)
    question = "为什么训练大模型需要大显存？"
    assert big.ask(question).sources[0].chunk_id.split("#")[0] == kb.ask(question).sources[0].chunk_id
