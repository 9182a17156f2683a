"""Follow-ups without a model: a question that points back borrows the previous question's key terms."""
from kb.answering.followup import combine_with_previous, refers_back, subject_terms


def test_a_question_that_points_back_borrows_the_previous_subject() -> None:
    assert combine_with_previous("那它和 DPO 有什么区别？", "RLHF 具体分几步走？") == "那 RLHF 和 DPO 有什么区别？"
    assert combine_with_previous("What are its drawbacks?", "What is LoRA fine-tuning?") == "What are LoRA's drawbacks?"
    combined = combine_with_previous("具体怎么做？", "怎样减少大模型的幻觉？")
    assert "幻觉" in combined and combined.endswith(" 具体怎么做？")


def test_a_question_with_its_own_subject_stands_alone() -> None:
    assert not refers_back("什么是注意力机制？")
    assert combine_with_previous("显存不够怎么办？", "RLHF 具体分几步走？") is None


def test_names_are_the_subject_and_keep_their_spelling() -> None:
    assert subject_terms("RLHF 具体分几步走？奖励模型是干嘛的") == ["RLHF"]
    assert "幻觉" in subject_terms("怎样减少大模型的幻觉？")
