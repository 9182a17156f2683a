"""大模型知识库 web page: widgets and layout only; everything shown comes from the kb package.

Run: streamlit run app.py   (KB_INDEX_DIR / KB_CORPUS_DIR choose the index and corpus)
"""
from __future__ import annotations

import time

import altair as alt
import pandas as pd
import streamlit as st

from ingest.build import build_index, current_taxonomy, ensure_index, taxonomy_target
from ingest.taxonomy_file import add_category, add_examples, from_suggestions, remove_category, rename_category, write_taxonomy_file
from kb import conversation
from kb.answering.corrections import FeedbackStore
from kb.answering.generate import Generator, llm_configured
from kb.answering.suggest import suggest_categories
from kb.core.config import Settings, load_settings
from kb.core.errors import BadInput, IndexNotFound, KBError, LLMUnavailable
from kb.knowledge import Answer, KnowledgeBase, Source
from page.browse import group_sections, page_count, paginate
from page.markup import escape_markdown as esc
from page.markup import highlight, model_markdown, progress_label, question_terms, sanitize_markdown, source_label
from page.projection import chunk_map
from page.uploads import MAX_UPLOAD_BYTES, save_upload

PAGES = ("问答 (Ask)", "按主题浏览 (Browse)", "知识库 (Corpus)")
MODES = ("原文摘录 (extract)", "生成回答 (generate)")
EXAMPLES = ("为什么训练大模型需要大显存？", "RLHF 具体分几步走？奖励模型是干嘛的",
            "How do you defend a GPT-based app against prompt injection?", "用 AI 筛简历，会不会对女性求职者不公平？")
ALL = ""  # topic picker value meaning every topic
SECTIONS_PER_PAGE = 8


# ---- loading -------------------------------------------------------------------
@st.cache_resource(show_spinner="正在加载知识库 (loading the knowledge base)…")
def load_kb(index_dir: str, corpus_dir: str, embedder: str) -> KnowledgeBase:
    """One loaded knowledge base per index, shared by every session until a rebuild clears it."""
    return KnowledgeBase.load(load_settings().replace(index_dir=index_dir, corpus_dir=corpus_dir, embedder=embedder))


def progress_callback(text: str):
    bar = st.progress(0.0, text=text)
    start = time.monotonic()

    def update(done: int, total: int) -> None:  # done and total in ingest's units of work (build_index)
        share = min(1.0, done / total) if total else 0.0
        bar.progress(share, text=progress_label(text, share, time.monotonic() - start))

    return bar, update


def get_kb(settings: Settings) -> KnowledgeBase:
    """The shared knowledge base; builds the index on first start, stops the page with a message on failure."""
    key = (str(settings.index_dir), str(settings.corpus_dir), settings.embedder)
    try:
        return load_kb(*key)
    except IndexNotFound:
        bar, progress = progress_callback("首次启动，正在建立索引 (first start: building the index)…")
        try:
            ensure_index(settings, progress)
            bar.empty()
            return load_kb(*key)
        except KBError as exc:
            st.error(f"无法建立索引 (could not build the index): {esc(str(exc))}")
    except KBError as exc:
        st.error(f"无法加载索引 (could not load the index): {esc(str(exc))}")
        if st.button("重新建立索引 (rebuild the index)"):
            rebuild(settings, force=True)
    st.stop()


def rebuild(settings: Settings, force: bool = False) -> None:
    """Rebuild with a progress bar; serve the new index only once it is complete, keep the old one on failure."""
    bar, progress = progress_callback("正在重建索引 (rebuilding the index)…")
    try:
        report = build_index(settings, progress, force=force)
    except KBError as exc:
        bar.empty()
        st.error(f"重建失败，继续使用原索引 (build failed; the previous index keeps serving): {esc(str(exc))}")
        return
    load_kb.clear()
    st.session_state.pop("taxonomy_draft", None)  # the next edit starts from what was built
    revoted = f" · 主题已重新投票 (topics re-voted), 新例句 (new examples) {report.embedded}" if report.revoted else ""
    st.session_state.flash = (f"索引已更新 (index updated): {report.files} 个文件, {report.chunks} 个片段{revoted}, "
                              f"{report.seconds:.1f} s")
    st.rerun()


# ---- shared pieces ---------------------------------------------------------------
def topic_picker(kb: KnowledgeBase, label: str, key: str) -> str:
    names = {t["id"]: t["name"] for t in kb.topics()}
    return st.selectbox(label, [ALL, *names], key=key, format_func=lambda t: names.get(t, "全部主题 (all topics)"))


def bar_chart(rows: list[dict], x: str, y: str, x_title: str, y_title: str, fmt: str = "") -> None:
    chart = alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=fmt) if fmt else alt.Axis()),
        y=alt.Y(f"{y}:N", title=y_title, sort="-x"), tooltip=[y, alt.Tooltip(x, format=fmt or "d")])
    st.altair_chart(chart.properties(height=36 * len(rows) + 30), width="stretch")


def topic_counts_chart(kb: KnowledgeBase) -> None:
    bar_chart([{"主题": t["name"], "片段数": t["chunks"]} for t in kb.topics()], "片段数", "主题", "片段数 (chunks)", "")


def show_source(rank: int, src: Source, terms: list[str]) -> None:
    st.markdown(f"**{rank}.** {source_label(src.source_title, src.source)} › {esc(src.title or '—')}")
    st.caption(f"相关度 (score) {src.score:.4f} · 主题 (topic) {esc(src.topic_name or src.topic)}")
    with st.expander("全文 (full text)"):
        st.markdown(highlight(src.text, terms))


# ---- 问答 (Ask) -------------------------------------------------------------------
def ask(kb: KnowledgeBase, question: str, topic: str, llm: Settings | None) -> None:
    """Answer in the session's conversation; with llm settings a generated answer streams when the answer is shown."""
    earlier = [a for a in st.session_state.history[st.session_state.conversation_start:] if not a.error]
    turns = [conversation.Turn(a.question, a.generated.text if a.generated else a.answer, a.standalone_question)
             for a in earlier]
    generator = Generator(llm) if llm else None
    answer = conversation.ask(kb, question, turns, generator, topic=topic or None)
    st.session_state.history.append(answer)
    st.session_state.current = len(st.session_state.history) - 1
    if generator is not None:
        st.session_state.to_generate = (st.session_state.current, generator)


def new_conversation() -> None:
    st.session_state.conversation_start = len(st.session_state.history)


def use_example(question: str) -> None:
    st.session_state.question = question
    st.session_state.pending = question


def go_browse(topic: str) -> None:
    st.session_state.page = PAGES[1]
    st.session_state.browse_topic = topic


def page_ask(kb: KnowledgeBase, settings: Settings) -> None:
    st.header("问答 (Ask)")
    cols = st.columns(len(EXAMPLES))
    for i, (col, example) in enumerate(zip(cols, EXAMPLES)):
        col.button(example, key=f"example_{i}", on_click=use_example, args=(example,), width="stretch")
    finish_stopped_generation()
    llm = settings if answer_mode(settings) else None
    with st.form("ask_form"):
        question = st.text_area("问题 (question)", key="question", height=80,
                                placeholder="例如：为什么训练大模型需要大显存？")
        topic = topic_picker(kb, "只在此主题中查找 (restrict to a topic)", "ask_topic")
        submitted = st.form_submit_button("提问 (Ask)", type="primary")
    pending = st.session_state.pop("pending", None)
    if submitted or pending:
        with st.spinner("正在检索 (searching)…"):
            ask(kb, pending or question, topic, llm)
    history: list[Answer] = st.session_state.history
    if history:
        show_answer(kb, history[st.session_state.current], st.session_state.current)
        show_history(history)


def answer_mode(settings: Settings) -> bool:
    """The 原文摘录 / 生成回答 switch, shown only when a language model is configured; True for generated answers."""
    if not llm_configured(settings):
        return False
    left, right = st.columns([4, 1])
    mode = left.radio("回答方式 (answer mode)", MODES, horizontal=True, key="answer_mode")
    turns = len(st.session_state.history) - st.session_state.conversation_start
    right.button(f"新对话 (new conversation) · {turns}", on_click=new_conversation, disabled=not turns)
    return mode == MODES[1]


def show_answer(kb: KnowledgeBase, ans: Answer, number: int) -> None:
    if ans.error:
        st.error(f"无法回答 (cannot answer): {esc(ans.error)}")
        return
    for warning in ans.warnings:
        st.warning(f"注意 (warning): {esc(warning)}")
    with st.container(border=True):
        if ans.status != "out_of_scope":  # nothing relevant: its nearest topics are offered below, not tagged on it
            show_topic_badge(ans.topic)
        if ans.standalone_question and ans.standalone_question != ans.question:
            st.caption(f"理解为：{esc(ans.standalone_question)}")
        if ans.abstained:
            show_abstention(kb, ans)
        else:
            answer_slot = st.container()  # filled last, so the sources show while a generated answer streams
        st.caption(f"用时 (time taken): {ans.timing_ms:.0f} ms")
    show_votes(kb, ans.topic)
    show_feedback(kb, ans, number)
    if ans.sources and (not ans.abstained or ans.abstain_reason == "not_covered"):
        # a question the corpus comes near but does not answer: the nearest passages, never shown as the answer
        st.subheader("来源 (sources)" if not ans.abstained else "可能相关的内容 (possibly related)", anchor=False)
        terms = question_terms(ans.standalone_question or ans.question)
        for rank, src in enumerate(ans.sources, 1):
            show_source(rank, src, terms)
    if not ans.abstained:
        with answer_slot:
            show_answer_text(ans, number)


def show_answer_text(ans: Answer, number: int) -> None:
    """The generated answer (streamed now if it was just asked for), else the extracted section."""
    waiting = st.session_state.get("to_generate")
    if waiting and waiting[0] == number:
        del st.session_state.to_generate
        stream_generation(ans, number, waiting[1])
    elif ans.generated:
        show_generated(ans)
    else:
        show_extract(ans)


def show_extract(ans: Answer) -> None:
    if ans.title:
        st.subheader(esc(ans.title.split(" › ")[-1]), anchor=False)
        st.caption(esc(ans.title))
    st.markdown(sanitize_markdown(ans.answer))


def show_generated(ans: Answer) -> None:
    st.markdown(model_markdown(ans.generated.text))
    st.caption(f"生成 (generated) · {esc(ans.generated.model)} · 首字 (first token) {ans.generated.ttft_ms:.0f} ms · "
               f"共 (total) {ans.generated.total_ms:.0f} ms")


def stream_generation(ans: Answer, number: int, generator: Generator) -> None:
    """Tokens as they arrive, with a stop button; on failure the extracted answer and one line saying why."""
    known = len(ans.warnings)
    placeholder = st.empty()
    try:
        stream = generator.stream(ans.standalone_question or ans.question, ans.sources)
        st.session_state.streaming = (number, stream)  # what a click on stop (a rerun) finishes with
        with placeholder.container():
            st.button("停止生成 (stop)", key=f"stop_{number}", icon=":material/stop_circle:")
            st.write_stream(model_markdown(token) for token in stream)
        conversation.record(ans, stream)
    except LLMUnavailable as exc:
        conversation.fallback(ans, str(exc))
    st.session_state.pop("streaming", None)
    with placeholder.container():  # the checked text (citations to missing passages dropped) replaces the stream
        for warning in ans.warnings[known:]:
            st.warning(f"注意 (warning): {esc(warning)}")
        show_generated(ans) if ans.generated else show_extract(ans)


def finish_stopped_generation() -> None:
    """Keep what a stopped generation had written (the stop button reruns the page mid-stream)."""
    if "streaming" in st.session_state:
        number, stream = st.session_state.pop("streaming")
        answer = st.session_state.history[number]
        if stream.text.strip():
            conversation.record(answer, stream)
            answer.warnings.append("已停止生成 (generation stopped)")
        else:
            conversation.fallback(answer, "stopped before the first token")


def show_topic_badge(topic: dict) -> None:
    if not topic.get("id"):
        return
    uncertain = " · 不确定 (uncertain)" if topic["uncertain"] else ""
    st.badge(f"主题 (topic): {esc(topic['name'])} · {topic['confidence']:.0%}{uncertain}",
             icon=":material/help:" if uncertain else ":material/sell:", color="orange" if uncertain else "blue")


def show_votes(kb: KnowledgeBase, topic: dict) -> None:
    votes = topic.get("votes") or {}
    if votes:
        with st.expander("主题投票 (topic vote)", expanded=False):
            bar_chart([{"主题": kb.data.topic_name(t), "得票": v} for t, v in votes.items()],
                      "得票", "主题", "得票比例 (share)", "", fmt="%")


def show_abstention(kb: KnowledgeBase, ans: Answer) -> None:
    st.info(esc(ans.answer))  # the specific message the CLI gives for this reason
    if ans.abstain_reason == "no_content":
        return
    nearest = sorted((ans.topic.get("votes") or {}).items(), key=lambda kv: -kv[1])[:3]
    if nearest:
        st.markdown("最接近的主题 (nearest topics) — 可以去「按主题浏览」看看 (browse them):")
        cols = st.columns(len(nearest))
        for col, (topic, share) in zip(cols, nearest):
            col.button(f"{esc(kb.data.topic_name(topic))} ({share:.0%})", key=f"nearest_{topic}", on_click=go_browse,
                       args=(topic,))


def show_feedback(kb: KnowledgeBase, ans: Answer, number: int) -> None:
    store = FeedbackStore.for_index(kb.settings.index_dir)
    left, right, rest = st.columns([1, 1, 4])
    if left.button("👍 有帮助 (helpful)", key=f"helpful_{number}"):
        store.rate(ans.question, True, ans.topic.get("id", ""))
        st.toast("谢谢反馈 (thanks)!")
    if right.button("👎 没帮助 (not helpful)", key=f"unhelpful_{number}"):
        store.rate(ans.question, False, ans.topic.get("id", ""))
        st.toast("谢谢反馈 (thanks)!")
    with rest.popover("主题不对？(wrong topic?)"):
        names = {t["id"]: t["name"] for t in kb.topics()}
        choice = st.selectbox("正确的主题 (the right topic)", list(names), format_func=names.get, key=f"fix_{number}")
        if st.button("提交纠正 (submit correction)", key=f"fix_submit_{number}"):
            store.add(ans.question, choice, kb.embed_query(ans.question)[0])
            kb.apply_corrections()
            st.success(f"已记录：此类问题归入「{esc(names[choice])}」(correction saved)")


def show_history(history: list[Answer]) -> None:
    with st.sidebar.expander(f"历史 (history) · {len(history)}", expanded=True):
        for i in range(len(history) - 1, -1, -1):
            if st.button(esc(history[i].question[:40]) or "(空)", key=f"history_{i}", width="stretch"):
                st.session_state.current = i
                st.rerun()


# ---- 按主题浏览 (Browse) ---------------------------------------------------------
def page_browse(kb: KnowledgeBase) -> None:
    st.header("按主题浏览 (Browse by topic)")
    topic = topic_picker(kb, "主题 (topic)", "browse_topic")
    query = st.text_input("在主题内搜索 (search within the topic, optional)", key="browse_query")
    with st.expander("各主题片段数 (chunks per topic)"):
        topic_counts_chart(kb)
    if query.strip():
        try:
            hits = kb.search(query, k=20, topic=topic or None)
        except BadInput as exc:
            st.error(esc(str(exc)))
            return
        st.caption(f"找到 {len(hits)} 个片段 (results)")
        terms = question_terms(query)
        for rank, src in enumerate(hits, 1):
            show_source(rank, src, terms)
        return
    sections = group_sections(kb.chunks(topic or None))
    pages = page_count(len(sections), SECTIONS_PER_PAGE)
    page = st.number_input(f"页码 (page, 共 {pages} 页)", min_value=1, max_value=pages, step=1, key="browse_page")
    st.caption(f"第 {page} / {pages} 页 · {len(sections)} 个小节 (sections)")
    for section in paginate(sections, int(page), SECTIONS_PER_PAGE):
        with st.container(border=True):
            st.markdown(f"**{source_label(kb.source_title(section.source), section.source)}** › {esc(section.title or '—')}")
            st.caption(f"主题 (topic): {esc(kb.data.topic_name(section.chunks[0].topic))}")
            st.markdown(sanitize_markdown("\n\n".join(c.text for c in section.chunks)))


# ---- 知识库 (Corpus) -------------------------------------------------------------
def page_corpus(kb: KnowledgeBase, settings: Settings) -> None:
    st.header("知识库 (Corpus)")
    manifest = kb.data.manifest
    a, b, c = st.columns(3)
    a.metric("文档 (documents)", len(kb.data.files))
    b.metric("片段 (chunks)", len(kb.data.chunks))
    c.metric("主题 (topics)", len(kb.topics()))
    emb = manifest.get("embedder", {})
    st.caption(f"向量模型 (embedder): {emb.get('name')} · {emb.get('id')} · {emb.get('dim')} 维 (dim) · "
               f"建立于 (built) {manifest.get('built_at')} · build {manifest.get('build_id')}")
    st.subheader("文档 (documents)", anchor=False)
    st.dataframe(pd.DataFrame([{"标题 (title)": f.get("title") or s, "文件 (file)": s, "片段 (chunks)": f["chunks"],
                                "编码 (encoding)": f["encoding"]}
                               for s, f in kb.data.files.items()]), hide_index=True, width="stretch")
    st.subheader("各主题片段数 (chunks per topic)", anchor=False)
    topic_counts_chart(kb)
    st.subheader("片段分布图 (chunk map, PCA)", anchor=False)
    points = alt.Chart(pd.DataFrame(chunk_map(kb))).mark_circle(size=40, opacity=0.7).encode(
        x=alt.X("x:Q", title="PC1"), y=alt.Y("y:Q", title="PC2"), color=alt.Color("topic:N", title="主题 (topic)"),
        tooltip=[alt.Tooltip("title:N", title="标题"), alt.Tooltip("source:N", title="文档"), alt.Tooltip("topic:N", title="主题")])
    st.altair_chart(points.properties(height=420).interactive(), width="stretch")
    suggestions_section(kb, settings)
    taxonomy_section(kb, settings)
    upload_section(settings)
    corrections_section(kb)


@st.cache_data(show_spinner="正在聚类 (clustering the chunks)…")
def suggested(index_dir: str, build_id: str, _kb: KnowledgeBase) -> list:
    """The build's suggested categories, computed once per build."""
    return suggest_categories(_kb)


def suggestions_section(kb: KnowledgeBase, settings: Settings) -> None:
    st.subheader("建议的主题 (suggested categories)", anchor=False)
    try:
        categories = suggested(str(kb.settings.index_dir), kb.data.manifest.get("build_id", ""), kb)
    except KBError as exc:  # e.g. a store that cannot hand back its vectors
        st.info(f"无法建议主题 (no suggestions): {esc(str(exc))}")
        return
    st.dataframe(pd.DataFrame([{"名称 (name)": c.name, "片段 (chunks)": c.size, "关键词 (terms)": "、".join(c.terms),
                                "例句 (examples)": " / ".join(c.examples)} for c in categories]),
                 hide_index=True, width="stretch")
    st.caption("建议的主题 (suggested categories): 按片段向量聚类、以最有区分度的词命名，可作为自己的分类起点 "
               "(clusters of the chunks, named by their most distinctive words: a starting taxonomy to accept or edit)")
    if st.button("采用建议的主题 (use these as the taxonomy)", key="accept_suggestions"):
        save_taxonomy(settings, from_suggestions(categories))


# ---- taxonomy editing ------------------------------------------------------------
def taxonomy_draft(settings: Settings) -> list:
    """The categories being edited in this session, read from the taxonomy in use the first time."""
    if "taxonomy_draft" not in st.session_state:
        st.session_state.taxonomy_draft = list(current_taxonomy(settings).categories)
    return st.session_state.taxonomy_draft


def edit_draft(edit, *args: str, text_key: str = "", clear: bool = False) -> None:
    """Apply one edit (ingest/taxonomy_file.py) to the draft, with the text typed in widget text_key as the last
    argument; a bad edit is a message and changes nothing."""
    text = (st.session_state.get(text_key) or "",) if text_key else ()
    try:
        st.session_state.taxonomy_draft = edit(st.session_state.taxonomy_draft, *args, *text)
        st.session_state.taxonomy_changed = True
    except BadInput as exc:
        st.session_state.taxonomy_error = str(exc)
        return
    if clear:
        st.session_state[text_key] = ""


def save_taxonomy(settings: Settings, categories: list) -> None:
    """Write the taxonomy file, then rebuild (a re-vote: nothing but new example sentences is embedded)."""
    try:
        target = taxonomy_target(settings)
        write_taxonomy_file(target, categories)
    except (BadInput, OSError) as exc:
        st.error(f"未保存 (not saved): {esc(str(exc))}")
        return
    st.session_state.pop("taxonomy_changed", None)
    rebuild(settings)


def taxonomy_section(kb: KnowledgeBase, settings: Settings) -> None:
    st.subheader("主题分类 (taxonomy)", anchor=False)
    try:
        draft, target = taxonomy_draft(settings), taxonomy_target(settings)
    except BadInput as exc:
        st.error(f"无法编辑主题分类 (cannot edit the taxonomy): {esc(str(exc))}")
        return
    st.caption(f"当前来自 (built from) {esc(kb.data.manifest.get('taxonomy', {}).get('source', '?'))} · "
               f"保存到 (saves to) {esc(str(target))}")
    if "taxonomy_error" in st.session_state:
        st.error(esc(st.session_state.pop("taxonomy_error")))
    for category in draft:
        category_editor(category)
    left, right = st.columns([3, 1])
    left.text_input("新主题名称 (new category name)", key="tax_new_name")
    right.button("添加主题 (add category)", key="tax_add", on_click=edit_draft, args=(add_category,),
                 kwargs={"text_key": "tax_new_name", "clear": True})
    changed = st.session_state.get("taxonomy_changed", False)
    save, discard = st.columns(2)
    if save.button("保存并重新投票 (save & re-vote)", key="tax_save", type="primary", disabled=not changed):
        save_taxonomy(settings, draft)
    if discard.button("放弃修改 (discard changes)", key="tax_discard", disabled=not changed):
        for key in ("taxonomy_draft", "taxonomy_changed"):
            st.session_state.pop(key, None)
        st.rerun()


def category_editor(category) -> None:
    """One category: its name, examples, and the edits (rename, add examples, remove)."""
    with st.container(border=True):
        st.markdown(f"**{esc(category.name)}** · id {esc(category.id)} · {len(category.examples)} 个例句 (examples)")
        if category.description:
            st.caption(esc(category.description))
        with st.expander("例句 (examples)"):
            for example in category.examples:
                st.markdown(f"- {esc(example)}")
        cid = category.id
        a, b, c = st.columns([2, 3, 1])
        a.text_input("名称 (name)", value=category.name, key=f"tax_name_{cid}")
        a.button("改名 (rename)", key=f"tax_rename_{cid}", on_click=edit_draft, args=(rename_category, cid),
                 kwargs={"text_key": f"tax_name_{cid}"})
        b.text_area("添加例句，每行一句 (add examples, one per line)", key=f"tax_examples_{cid}", height=68)
        b.button("添加例句 (add examples)", key=f"tax_add_examples_{cid}", on_click=edit_draft, args=(add_examples, cid),
                 kwargs={"text_key": f"tax_examples_{cid}", "clear": True})
        c.button("删除 (remove)", key=f"tax_remove_{cid}", on_click=edit_draft, args=(remove_category, cid))


def upload_section(settings: Settings) -> None:
    st.subheader("添加文档 (add documents)", anchor=False)
    files = st.file_uploader(f"上传 .txt / .md 文件 (≤ {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, UTF-8 / GB18030 / Big5)",
                             type=["txt", "md"], accept_multiple_files=True, key="uploader")
    left, right = st.columns(2)
    if left.button("添加并重建索引 (add & rebuild)", type="primary", disabled=not files):
        saved = 0
        for f in files or []:
            try:
                result = save_upload(settings.corpus_dir, f.name, f.getvalue())
                st.success(f"已保存 (saved) {esc(result.source)} · {result.encoding} · {result.chars} 字")
                saved += 1
            except BadInput as exc:
                st.error(f"未添加 (rejected): {esc(str(exc))}")
        if saved:
            rebuild(settings)
    if right.button("仅重建索引 (rebuild only)"):
        rebuild(settings)


def corrections_section(kb: KnowledgeBase) -> None:
    store = FeedbackStore.for_index(kb.settings.index_dir)
    ratings = store.ratings()
    st.subheader("用户反馈 (feedback)", anchor=False)
    st.caption(f"👍 {ratings['helpful']} · 👎 {ratings['not_helpful']}")
    corrections = store.list()
    if not corrections:
        st.caption("暂无主题纠正 (no topic corrections yet)")
    for c in corrections:
        left, right = st.columns([5, 1])
        left.markdown(f"{esc(c.question)} → **{esc(kb.data.topic_name(c.topic))}** · {c.created_at}")
        if right.button("撤销 (undo)", key=f"undo_{c.id}"):
            store.undo(c.id)
            kb.apply_corrections()
            st.rerun()


# ---- layout ------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="大模型知识库", layout="wide")
    st.session_state.setdefault("history", [])
    st.session_state.setdefault("current", 0)
    st.session_state.setdefault("conversation_start", 0)
    try:
        settings = load_settings()
    except KBError as exc:
        st.error(f"配置错误 (configuration error): {esc(str(exc))}")
        st.stop()
    kb = get_kb(settings)
    st.sidebar.title("大模型知识库")
    page = st.sidebar.radio("页面 (page)", PAGES, key="page")
    st.sidebar.caption(f"{len(kb.data.files)} 个文档 · {len(kb.data.chunks)} 个片段 · {kb.data.manifest.get('build_id', '')}")
    if "flash" in st.session_state:
        st.success(st.session_state.pop("flash"))
    if page == PAGES[0]:
        page_ask(kb, settings)
    elif page == PAGES[1]:
        page_browse(kb)
    else:
        page_corpus(kb, settings)


main()
