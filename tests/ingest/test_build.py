"""A corpus about something else than language models: its own subject must not count as off-domain."""
import pytest

from kb.answering.answerability import OFF_DOMAIN_LABEL, off_domain_probes
from kb.knowledge import KnowledgeBase
from tests.conftest import DATA, settings

OFF_DOMAIN_PROBES = off_domain_probes()

COOKING = DATA / "cooking"


@pytest.fixture(scope="module")
def cooking(tmp_path_factory: pytest.TempPathFactory):
    from ingest.build import build_index

    index_dir = tmp_path_factory.mktemp("cooking-index")
    calls: list[tuple[int, int]] = []
    report = build_index(settings(index_dir, COOKING), lambda done, total: calls.append((done, total)))
    return report, KnowledgeBase.load(settings(index_dir, COOKING)), calls, index_dir


def test_progress_rises_to_the_whole_in_units_of_work_and_the_report_counts_texts(cooking):
    from ingest.build import PREFIX_CHARS, build_index

    report, _, calls, index_dir = cooking
    done = [d for d, _ in calls]
    assert len({t for _, t in calls}) == 1 and done == sorted(done) and done[-1] == calls[0][1]
    again: list[tuple[int, int]] = []
    rebuilt = build_index(settings(index_dir, COOKING), lambda d, t: again.append((d, t)), force=True)
    assert rebuilt.embedded == 0 and rebuilt.reused == report.embedded + report.reused  # every text read back
    assert rebuilt.reused <= calls[-1][1] / (PREFIX_CHARS + 1)  # texts, each costing at least a character and prefix
    assert again[-1] == calls[-1]  # the same whole, reached from the cache alone


def test_probes_the_corpus_answers_are_dropped_and_reported(cooking):
    report, kb, _, _ = cooking
    assert set(report.probes_covered) == {"红烧肉怎么做好吃", "番茄炒蛋的做法步骤", "蛋糕烤箱温度设置多少度", "包饺子的馅怎么调"}
    assert "not used as off-domain probes: 红烧肉怎么做好吃" in report.summary()
    assert kb.data.manifest["probes_covered"] == report.probes_covered
    assert sum(t == OFF_DOMAIN_LABEL for t in kb.data.example_topics) == len(OFF_DOMAIN_PROBES) - 4
    assert report.labelled == 0  # the bundled topic labels name the seed files: nothing in recipes


def test_the_bundled_topic_labels_do_not_touch_another_corpus(cooking):
    assert "topic labels" not in cooking[0].summary()
    assert cooking[1].data.manifest["labels"]["chunks"] == 0


@pytest.mark.parametrize("question, expected", [
    ("红烧肉怎么做好吃", "五花肉"),  # word for word a probe
    ("番茄炒蛋要放糖吗", "加糖"),
    ("面团发酵好了怎么判断", "不回缩"),
])
def test_the_corpus_subject_is_answered(cooking, question, expected):
    answer = cooking[1].ask(question)
    assert not answer.abstained and expected in answer.answer


@pytest.mark.parametrize("question", ["明天北京会下雨吗", "多肉植物怎么浇水", "什么是 Transformer？"])
def test_other_subjects_still_abstain(cooking, question):
    assert cooking[1].ask(question).abstained


def test_the_seed_corpus_keeps_every_probe(kb: KnowledgeBase):
    assert kb.data.manifest["probes_covered"] == []
    assert sum(t == OFF_DOMAIN_LABEL for t in kb.data.example_topics) == len(OFF_DOMAIN_PROBES)
