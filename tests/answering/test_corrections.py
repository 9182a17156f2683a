"""Topic corrections persist beside the index, survive reloads and steer the topic vote until undone."""
from pathlib import Path

from kb.answering.corrections import FeedbackStore
from kb.knowledge import KnowledgeBase

from ..conftest import settings

QUESTION = "为什么训练大模型需要大显存？"


def test_corrections_steer_the_vote_until_undone(kb: KnowledgeBase, seed_index: Path, tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    before = kb.ask(QUESTION).topic["votes"]["fairness_explain"]
    vector = kb.embed_query(QUESTION)[0]
    ids = [store.add(QUESTION, "fairness_explain", vector) for _ in range(3)]
    try:
        assert kb.apply_corrections() == 0  # the fixture reads its own index folder, not tmp_path
        kb.voter.set_extra_examples(*store.usable(kb.topic_ids, len(vector)))
        assert len(store.list()) == 3 and [c.id for c in store.list()] == ids[::-1]
        steered = kb.ask(QUESTION).topic
        assert steered["votes"]["fairness_explain"] > before and steered["id"] == "fairness_explain"
        assert kb.ask("大模型推理时显存占用为什么比训练少？").topic["id"] != "fairness_explain"  # other questions keep theirs
        for i in ids:
            assert store.undo(i)
        kb.voter.set_extra_examples(*store.usable(kb.topic_ids, len(vector)))
        assert store.list() == []
        assert abs(kb.ask(QUESTION).topic["votes"]["fairness_explain"] - before) < 1e-6
    finally:
        kb.apply_corrections()


def test_load_applies_the_corrections_stored_beside_the_index(seed_index: Path) -> None:
    store = FeedbackStore.for_index(seed_index)
    kb = KnowledgeBase.load(settings(seed_index))
    cid = store.add(QUESTION, "applications", kb.embed_query(QUESTION)[0])
    try:
        reloaded = KnowledgeBase.load(settings(seed_index))
        assert reloaded.apply_corrections() == 1
        assert reloaded.ask(QUESTION).topic["id"] == "applications"  # a stored correction of this very question decides
    finally:
        store.undo(cid)
