"""The taxonomy seed: categories, names as written, labelled examples, counter-examples."""
from collections import Counter

from ingest.taxonomy import KNOWN_IDS, load_taxonomy, parse_taxonomy
from kb.core.config import ROOT

SEED = next((ROOT / "data" / "seed").glob("000_*"))

TEXT = """以下列内容为主题的文章应被分类为模型架构和性能优化：
Transformer 通过自注意力机制处理序列。
以下列内容为主题的文章应被分类为模型创新应用
将模型应用于新的领域。举例，多模态大模型就不是模型创新应用，而是模型的架构创新。创造新的产品。
以下列内容为主题的文章应被分类为模型评估与数据集。
准确率和召回率。
"""


def test_seed_has_the_five_categories_with_their_names():
    tax = load_taxonomy(SEED)
    assert [(c.id, c.name) for c in tax.categories] == [(v, k) for k, v in KNOWN_IDS.items()]
    counts = Counter(e.topic for e in tax.examples)
    assert set(counts) == set(KNOWN_IDS.values()) and min(counts.values()) >= 10


def test_a_counter_example_moves_to_the_category_it_names():
    tax = parse_taxonomy(TEXT)
    by_topic = {t: [e.text for e in tax.examples if e.topic == t] for t in ("arch_perf", "applications")}
    assert not any("多模态大模型" in text for text in by_topic["applications"])
    assert any("多模态大模型就不是" in text for text in by_topic["arch_perf"])
    assert any("将模型应用于新的领域" in text for text in by_topic["applications"])  # the rest of the line stays


def test_seed_counter_example_is_not_an_application_example():
    tax = load_taxonomy(SEED)
    multimodal = [e for e in tax.examples if "多模态大模型就不是" in e.text]
    assert [e.topic for e in multimodal] == ["arch_perf"]
