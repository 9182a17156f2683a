"""The Streamlit page driven headlessly with AppTest over the real seed index: ask, browse, corpus, upload, feedback."""
from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kb.answering.corrections import FeedbackStore
from kb.core.config import ROOT

from .conftest import SEED

APP = str(ROOT / "app.py")
ASK, BROWSE, CORPUS = "问答 (Ask)", "按主题浏览 (Browse)", "知识库 (Corpus)"
TIMEOUT = 180


def start(index_dir: Path, monkeypatch: pytest.MonkeyPatch, corpus: Path = SEED) -> AppTest:
    monkeypatch.setenv("KB_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("KB_CORPUS_DIR", str(corpus))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun_ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def ask(at: AppTest, question: str, topic: str = "") -> AppTest:
    at.text_area(key="question").input(question)
    if topic:
        at.selectbox(key="ask_topic").set_value(topic)
    return rerun_ok(at.button[[b.label for b in at.button].index("提问 (Ask)")].click().run())


@pytest.fixture
def app(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    return start(seed_index, monkeypatch)


def test_example_question_shows_answer_topic_badge_votes_and_sources(app: AppTest) -> None:
    at = rerun_ok(app.button(key="example_0").click().run())
    shown = texts(at)
    assert any("blue-badge" in t and "主题 (topic)" in t for t in shown) or any("orange-badge" in t for t in shown)
    assert any("显存" in m.value for m in at.markdown), "the answer text is about GPU memory"
    assert at.get("vega_lite_chart"), "the topic vote chart is drawn"
    assert any(t.startswith("**1.**") for t in shown) and any(t.startswith("**5.**") for t in shown)
    assert any(t.startswith("用时 (time taken)") for t in shown)
    assert any("**显存**" in m.value for m in at.markdown), "question terms are highlighted in the full text"


def test_off_topic_question_abstains_and_offers_nearest_topics(app: AppTest) -> None:
    at = ask(app, "麻婆豆腐怎么做")
    assert any("没有与这个问题相关" in i.value for i in at.info)
    assert not any("badge" in t and "主题 (topic)" in t for t in texts(at)), "no field topic is tagged on it"
    nearest = [b for b in at.button if b.key and b.key.startswith("nearest_")]
    assert nearest and not any(t.startswith("**1.**") for t in texts(at))
    topic = nearest[0].key.removeprefix("nearest_")
    at = rerun_ok(nearest[0].click().run())
    assert at.sidebar.radio[0].value == BROWSE and at.selectbox(key="browse_topic").value == topic


def test_a_question_the_corpus_does_not_cover_names_what_is_missing(app: AppTest) -> None:
    at = ask(app, "Mamba 架构是怎么工作的？")
    assert any("知识库没有直接回答这个问题（没有提到：mamba）" in i.value for i in at.info)
    assert "可能相关的内容 (possibly related)" in [h.value for h in at.subheader]
    assert any(t.startswith("**1.**") for t in texts(at)), "the nearest passages are listed, not as the answer"


def test_a_question_without_content_gets_the_cli_message(app: AppTest) -> None:
    at = ask(app, "？？？")
    assert any("没有可检索的内容" in i.value for i in at.info)
    assert not any(t.startswith("**1.**") for t in texts(at))


def test_empty_and_html_questions_give_messages_not_tracebacks(app: AppTest) -> None:
    at = ask(app, "   ")
    assert any("无法回答" in e.value for e in at.error)
    at = ask(at, "<script>alert(1)</script> 大模型")
    assert all("<script" not in t for t in texts(at) + [b.label for b in at.button])
    assert any("&lt;script&gt;" in b.label for b in at.button), "the question shows literally in the history"


def test_ask_restricted_to_a_topic_cites_only_that_topic(app: AppTest) -> None:
    at = ask(app, "模型会不会泄露训练数据", topic="eval_data")
    scores = [c.value for c in at.caption if c.value.startswith("相关度 (score)")]
    assert scores and all(s.endswith("主题 (topic) 模型评估与数据集") for s in scores), scores


def test_browse_filters_by_topic_and_paginates(app: AppTest) -> None:
    at = rerun_ok(app.sidebar.radio[0].set_value(BROWSE).run())
    first = [m.value for m in at.markdown if m.value.startswith("**")]
    pages = int(at.number_input(key="browse_page").max)
    assert pages > 1 and any(c.value.startswith(f"第 1 / {pages} 页") for c in at.caption)
    at = rerun_ok(at.number_input(key="browse_page").set_value(2).run())
    assert any(c.value.startswith(f"第 2 / {pages} 页") for c in at.caption)
    assert [m.value for m in at.markdown if m.value.startswith("**")] != first
    at = rerun_ok(at.selectbox(key="browse_topic").set_value("privacy_security").run())
    topic_captions = [c.value for c in at.caption if c.value.startswith("主题 (topic)")]
    assert topic_captions and len(set(topic_captions)) == 1
    at = rerun_ok(at.text_input(key="browse_query").input("差分隐私").run())
    assert any(c.value.startswith("找到") for c in at.caption)
    hit_topics = {c.value.split("主题 (topic) ")[1] for c in at.caption if c.value.startswith("相关度")}
    assert len(hit_topics) == 1, hit_topics


def test_corpus_page_shows_documents_manifest_and_map(app: AppTest) -> None:
    at = rerun_ok(app.sidebar.radio[0].set_value(CORPUS).run())
    assert [m.value for m in at.metric][:2] == ["4", "344"] or int(at.metric[1].value) > 100
    assert any("向量模型 (embedder)" in c.value and "维 (dim)" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 2 and len(at.dataframe[0].value) == int(at.metric[0].value)


def test_corpus_page_suggests_categories_with_names_sizes_and_examples(app: AppTest) -> None:
    at = rerun_ok(app.sidebar.radio[0].set_value(CORPUS).run())
    assert any(c.value.startswith("建议的主题 (suggested categories)") for c in at.caption)
    table = next(d.value for d in at.dataframe if "名称 (name)" in d.value.columns)
    assert 2 <= len(table) <= 10 and 0.8 * int(at.metric[1].value) <= table["片段 (chunks)"].sum() <= int(at.metric[1].value)
    assert all(name and "、" in name for name in table["名称 (name)"]) and all(table["例句 (examples)"])


def test_topic_correction_is_stored_applied_and_undone(app: AppTest, seed_index: Path) -> None:
    store = FeedbackStore.for_index(seed_index)
    at = rerun_ok(app.button(key="example_0").click().run())
    at = rerun_ok(at.button(key="helpful_0").click().run())
    at.selectbox(key="fix_0").set_value("fairness_explain")
    at = rerun_ok(at.button(key="fix_submit_0").click().run())
    try:
        [correction] = store.list()
        assert correction.topic == "fairness_explain" and correction.vector.dtype.name == "float32"
        assert store.ratings()["helpful"] >= 1
        at = rerun_ok(at.sidebar.radio[0].set_value(CORPUS).run())
        assert any("为什么训练大模型需要大显存" in m.value for m in at.markdown)
        at = rerun_ok(at.button(key=f"undo_{correction.id}").click().run())
        assert store.list() == [] and any("暂无主题纠正" in c.value for c in at.caption)
    finally:
        for c in store.list():
            store.undo(c.id)


def test_failed_rebuild_keeps_the_old_index_serving(app: AppTest, seed_index: Path) -> None:
    at = rerun_ok(app.sidebar.radio[0].set_value(CORPUS).run())
    build = at.sidebar.caption[0].value
    with open(seed_index / ".build.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another build "is running"
        at = rerun_ok(at.button[[b.label for b in at.button].index("仅重建索引 (rebuild only)")].click().run())
    assert any("重建失败" in e.value for e in at.error)
    assert at.sidebar.caption[0].value == build and int(at.metric[1].value) > 0


@pytest.fixture
def fresh(seed_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A modifiable copy of the seed corpus and an empty index folder holding only the embedding cache."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEED, corpus)
    shutil.copytree(seed_index / "cache", index / "cache")
    return corpus, index


GB_TEXT = "# 量子退火调参笔记\n\n## 冷启动\n\n在显卡集群上做量子退火调参时，先用小批量热身，再逐步放大学习率。\n"
XSS_TEXT = "# 安全测试\n\n## 注入样例\n\n模型输出 <script>alert(1)</script> 和 <img src=x onerror=alert(1)> 必须原样显示。\n"


def test_first_start_builds_then_uploads_land_decoded_and_render_literally(fresh, monkeypatch) -> None:
    corpus, index = fresh
    at = start(index, monkeypatch, corpus)  # no index yet: the page builds it instead of failing
    assert (index / "current").exists()
    at = rerun_ok(at.sidebar.radio[0].set_value(CORPUS).run())
    at.file_uploader(key="uploader").set_value([
        ("笔记.txt", GB_TEXT.encode("gb18030"), "text/plain"),
        ("../../etc/passwd.txt", XSS_TEXT.encode("utf-8"), "text/plain"),
        ("blob.txt", bytes(range(256)) * 40, "text/plain"),
    ])
    at = rerun_ok(at.run())
    at = rerun_ok(at.button[[b.label for b in at.button].index("添加并重建索引 (add & rebuild)")].click().run())
    assert sorted(p.name for p in (corpus / "uploads").iterdir()) == ["passwd.txt", "笔记.txt"]
    assert not (corpus.parent / "etc").exists()
    assert any("索引已更新" in s.value for s in at.success), [e.value for e in at.error]
    files = at.dataframe[0].value
    row = files[files["文件 (file)"] == "uploads/笔记.txt"]
    assert row["编码 (encoding)"].item() == "gb18030"

    at = rerun_ok(at.sidebar.radio[0].set_value(BROWSE).run())
    at = rerun_ok(at.text_input(key="browse_query").input("量子退火调参").run())
    assert any("uploads/笔记\\.txt" in m.value for m in at.markdown)
    assert any("**量子退火**" in m.value or "小批量热身" in m.value for m in at.markdown), "GB18030 text shown decoded"

    at = rerun_ok(at.text_input(key="browse_query").input("注入样例 必须原样显示").run())
    shown = [m for m in at.markdown]
    assert any("&lt;script&gt;alert" in m.value for m in shown)  # (ingest's cleaner already drops <img> tags)
    assert all("<script" not in m.value and "<img" not in m.value for m in shown)
    assert not any(m.proto.allow_html for m in shown), "no markdown element may render raw HTML"


def test_corrupt_index_is_a_message_with_a_rebuild_button(seed_index: Path, tmp_path: Path, monkeypatch) -> None:
    index = tmp_path / "index"
    shutil.copytree(seed_index, index, symlinks=True, ignore=shutil.ignore_patterns("cache", "*.lock", "feedback.sqlite"))
    vectors = (index / "current" / "vectors.faiss")
    vectors.write_bytes(vectors.read_bytes()[:100])
    at = start(index, monkeypatch)
    assert any("无法加载索引" in e.value for e in at.error)
    assert "重新建立索引 (rebuild the index)" in [b.label for b in at.button]


def test_without_a_language_model_there_is_no_answer_mode_switch(app: AppTest) -> None:
    assert "回答方式 (answer mode)" not in [r.label for r in app.radio]


def test_generative_mode_with_an_unreachable_model_shows_the_extract_and_why(seed_index: Path, monkeypatch) -> None:
    from tests.servers import free_port

    monkeypatch.setenv("KB_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    at = start(seed_index, monkeypatch)
    at = rerun_ok(at.radio(key="answer_mode").set_value("生成回答 (generate)").run())
    at = ask(at, "RLHF 具体分几步走？")
    assert any("unreachable" in w.value and "extracted answer" in w.value for w in at.warning)
    assert any("奖励模型" in m.value for m in at.markdown), "the extracted answer stands"
    at = ask(at, "那它和 DPO 有什么区别？")  # a follow-up in the same browser session
    assert any(c.value.startswith("理解为：") and "RLHF" in c.value for c in at.caption)


@pytest.fixture
def cooking(tmp_path: Path) -> tuple[Path, Path]:
    """A modifiable copy of the small cooking corpus, built over the repo's embedding cache."""
    from ingest.build import build_index

    from .conftest import DATA, REPO_INDEX_CACHE, settings

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(DATA / "cooking", corpus)
    if (REPO_INDEX_CACHE / "embeddings.sqlite").exists():
        shutil.copytree(REPO_INDEX_CACHE, index / "cache")
    build_index(settings(index, corpus))
    return corpus, index


def test_suggested_categories_become_the_taxonomy_then_edits_are_saved_and_revoted(cooking, monkeypatch) -> None:
    import yaml

    corpus, index = cooking
    at = rerun_ok(start(index, monkeypatch, corpus).sidebar.radio[0].set_value(CORPUS).run())
    assert "主题分类 (taxonomy)" in [h.value for h in at.subheader]
    assert any("保存到 (saves to)" in c.value and "taxonomy\\.yaml" in c.value for c in at.caption)
    at = rerun_ok(at.button(key="accept_suggestions").click().run())
    assert any("主题已重新投票 (topics re-voted)" in s.value for s in at.success), [e.value for e in at.error]
    written = yaml.safe_load((corpus / "taxonomy.yaml").read_text(encoding="utf-8"))["categories"]
    assert [c["id"] for c in written] == ["s01", "s02"] and all(c["examples"] for c in written)
    assert {t["id"] for t in load_kb_topics(index, corpus)} == {"s01", "s02"}

    at.text_input(key="tax_name_s01").input("<b>粗体</b> 菜")
    at = rerun_ok(at.button(key="tax_rename_s01").click().run())
    at.text_area(key="tax_examples_s02").input("蛋糕烤箱温度\n\n面包发酵多久")
    at = rerun_ok(at.button(key="tax_add_examples_s02").click().run())
    at.text_input(key="tax_new_name").input("饮品")
    at = rerun_ok(at.button(key="tax_add").click().run())
    assert any("**&lt;b&gt;粗体&lt;/b&gt; 菜**" in m.value for m in at.markdown), "a name renders as text"
    assert not any(m.proto.allow_html for m in at.markdown)
    at = rerun_ok(at.button(key="tax_remove_topic_3").click().run())
    at.text_input(key="tax_new_name").input("饮品")
    at = rerun_ok(at.button(key="tax_add").click().run())
    at = rerun_ok(at.button(key="tax_save").click().run())
    assert any("主题已重新投票" in s.value for s in at.success), [e.value for e in at.error]
    written = yaml.safe_load((corpus / "taxonomy.yaml").read_text(encoding="utf-8"))["categories"]
    assert [(c["id"], c["name"]) for c in written] == [("s01", "<b>粗体</b> 菜"), ("s02", written[1]["name"]),
                                                        ("topic_3", "饮品")]
    assert written[1]["examples"][-2:] == ["蛋糕烤箱温度", "面包发酵多久"]
    assert [t["name"] for t in load_kb_topics(index, corpus)][0] == "<b>粗体</b> 菜"


def test_a_bad_taxonomy_edit_is_a_message_and_the_file_is_untouched(cooking, monkeypatch) -> None:
    corpus, index = cooking
    at = rerun_ok(start(index, monkeypatch, corpus).sidebar.radio[0].set_value(CORPUS).run())
    at = rerun_ok(at.button(key="accept_suggestions").click().run())
    before = (corpus / "taxonomy.yaml").read_text(encoding="utf-8")
    at = rerun_ok(at.button(key="tax_remove_s01").click().run())
    assert any("at least 2 categories" in e.value for e in at.error)
    at = rerun_ok(at.button(key="tax_add").click().run())
    assert any("needs a name" in e.value for e in at.error)
    assert at.button(key="tax_save").disabled, "nothing changed, nothing to save"
    assert (corpus / "taxonomy.yaml").read_text(encoding="utf-8") == before


def load_kb_topics(index: Path, corpus: Path) -> list[dict]:
    from kb.knowledge import KnowledgeBase

    from .conftest import settings

    return KnowledgeBase.load(settings(index, corpus)).topics()
