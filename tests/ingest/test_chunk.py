from ingest.chunk import chunk_document, find_headings, mark_code, parent_chunks, question_key
from ingest.clean import strip_site_noise
from kb.core.config import ROOT

SEED = ROOT / "data" / "seed"


def _chunks(name: str):
    path = next(SEED.glob(name))
    return chunk_document(strip_site_noise(path.read_text(encoding="utf-8")), path.name)


def test_faq_chunk_keeps_title_path_of_nested_heading():
    chunks = _chunks("003_*.txt")
    titles = {c.title for c in chunks}
    assert "关于 AI 的小白 FAQ › 训练好的 LLM 中包含数据吗？ › 2. 隐私和数据泄露" in titles


def test_numbered_sections_nest_and_never_mix():
    chunks = _chunks("002_*.txt")
    by_title = {c.title: c for c in chunks}
    assert "22. 大语言模型的公平性与偏见 › 22.2 解决模型偏见的技术手段 › 22.2.1 数据平衡与增强" in by_title
    # a chunk never holds the text of two numbered sections (a heading with no text of its own, like
    # "27.2 医疗领域" right before "27.2.1 医疗文本分析", goes with the next one)
    def is_head(line: str) -> bool:
        return line[:3].rstrip(". ").replace(".", "").isdigit() and " " in line[:8]

    for c in chunks:
        lines = [line for line in c.text.splitlines() if line.strip()]
        with_text = [a for a, b in zip(lines, lines[1:] + [""]) if is_head(a) and b and not is_head(b)]
        assert len(with_text) <= 1, c.text[:200]


def test_a_heading_with_no_text_of_its_own_stays_in_the_chunk_text():
    chunks = chunk_document("# 指南\n\n## 1. 行业\n\n### 1.1 医疗\n\n辅助诊断。\n\n### 1.2 法律\n\n合同审查。\n", "g.md")
    first = next(c for c in chunks if c.title_path[-1] == "1.1 医疗")
    assert first.text.startswith("# 指南\n\n## 1. 行业\n\n### 1.1 医疗")  # as the file reads
    assert chunks[-1].text.startswith("### 1.2 法律")
    # every heading line of the seed corpus is in some chunk's text (anchors and answers can quote it)
    for name in ("001_*.txt", "002_*.txt", "003_*.txt", "004_*.txt"):
        path = next(SEED.glob(name))
        lines = strip_site_noise(path.read_text(encoding="utf-8")).split("\n")
        text = "".join("".join(c.text.split()) for c in _chunks(name))
        for i in find_headings(lines, mark_code(lines)):
            assert "".join(lines[i.line].split()) in text, lines[i.line]


def test_unfenced_code_comment_is_not_a_heading():
    chunks = _chunks("002_*.txt")
    assert not any(c.title.endswith("加载预训练的 BERT 模型和分词器") for c in chunks)
    lines = ["# 1.背景介绍", "", "1. 背景介绍", "", "import torch", "", "# 加载模型", "model = load()"]
    code = mark_code(lines)
    assert not code[0] and code[4] and code[6] and code[7]


def test_rows_of_display_math_are_not_numbered_headings():
    doc = ("# 位置编码\n\n正文。\n\n$$\nx = \\begin{bmatrix}\n0.1 & 1.2 & 0.3 & 1.4 \\\\\n1.041 & 0.84\n"
           "\\end{bmatrix}\n$$\n\n后文。\n\n1.2 下一节\n\n内容。\n")
    assert [c.title_path for c in chunk_document(doc, "a.md")] == [("位置编码",), ("位置编码", "1.2 下一节")]
    # a stray $$ opens no block past the end of its paragraph
    doc = "1. 总则\n\n价格 $$ 不成对。\n\n1.1 细则\n\n内容。\n"
    assert [c.title_path for c in chunk_document(doc, "b.txt")][-1] == ("1. 总则", "1.1 细则")


def test_a_heading_line_indented_as_code_is_not_a_heading():
    doc = "# 指令微调\n\n模板如下：\n\n    ### Instruction:\\n{{content}}\\n\\n### Response:\\n\n\n说明。\n"
    assert [c.title_path for c in chunk_document(doc, "a.md")] == [("指令微调",)]


def test_underlined_setext_headings_start_sections_and_rules_under_paragraphs_do_not():
    doc = "指南\n=====\n\n导言。\n\n安装\n-----\n\n步骤。\n\n一段话\n接着写\n---\n\n- 列表项\n---\n"
    chunks = chunk_document(doc, "a.md")
    assert [c.title_path for c in chunks] == [("指南",), ("指南", "安装")]
    assert chunks[1].text.startswith("安装\n-----\n\n步骤。")


def test_a_link_in_a_heading_is_titled_by_its_text():
    doc = "# 法律\n\n## 11.3 [Google诉Oracle](https://en.wikipedia.org/wiki/Google_v._Oracle_(case))\n\n判决。\n"
    assert chunk_document(doc, "a.md")[-1].title_path == ("法律", "11.3 Google诉Oracle")


def test_qa_appendix_pairs_become_faq_entries():
    chunks = _chunks("004_*.txt")
    qa = [c for c in chunks if c.question == "大型模型的定义是什么？"]
    assert len(qa) == 1 and "A：" in qa[0].text and qa[0].entry


def test_traditional_faq_twins_share_a_group_but_not_an_entry():
    chunks = _chunks("001_*.txt")
    twins = [c for c in chunks if c.question.startswith("在現實世界中，如何部署一個基於 LLM 的應用")]
    assert len({c.group for c in twins}) == 1
    assert len({c.entry for c in twins}) == 2


def test_long_sections_split_on_sentences_with_bounded_size():
    for name in ("001_*.txt", "002_*.txt", "003_*.txt"):
        for c in _chunks(name):
            assert len(c.text) < 1200
            assert c.text == c.text.strip()


def test_question_key_ignores_numbering_script_and_punctuation():
    assert question_key("3. 在資源有限的情況下，如何選擇？") == question_key("在资源有限的情况下如何选择")


def test_site_noise_removed_content_kept():
    raw = "---\nlayout: default\ntitle: x\n---\n# 标题\n{: .no_toc}\n跳转至\n<img src='a.png'>正文内容。\n"
    cleaned = strip_site_noise(raw)
    assert "layout" not in cleaned and "no_toc" not in cleaned and "跳转至" not in cleaned and "<img" not in cleaned
    assert "# 标题" in cleaned and "正文内容。" in cleaned


def test_html_layout_tags_removed_but_model_tokens_and_code_kept():
    raw = ('<div align="center">\n  <img src="a.png" width="90%"/>\n  <p>图2.1 全连接神经网络</p>\n</div>\n'
           "如图所示，输入以 <s> 开头、以 </s> 结尾，未知词记为 <unk>。<br>下一行<strong>重点</strong>。\n"
           "用 `<div>` 包住图片。\n```html\n<div><p>代码</p></div>\n```\n")
    lines = strip_site_noise(raw).split("\n")
    assert [line.strip() for line in lines[:4]] == ["", "", "图2.1 全连接神经网络", ""]
    assert lines[4] == "如图所示，输入以 <s> 开头、以 </s> 结尾，未知词记为 <unk>。 下一行重点。"
    assert lines[5:8] == ["用 `<div>` 包住图片。", "```html", "<div><p>代码</p></div>"]


OUTLINE = """# 指南

## 1. 挑战

多模态学习还有几个难题。

### 1.1 融合

如何融合不同模态的信息是一个难题。

### 1.2 数据

多模态标注数据仍然稀缺。

## 2. 长章节

### 2.1 第一部分

""" + "".join(f"第{i}句很长的内容。" for i in range(250)) + """

### 2.2 第二部分

另一段内容。

## 3. 只有一个小节

### 3.1 唯一

单独的内容。
"""


def test_a_section_of_short_sub_sections_also_becomes_one_parent_chunk():
    chunks = chunk_document(OUTLINE, "guide.md")
    parents = parent_chunks(chunks)
    assert [p.title_path for p in parents] == [("指南", "1. 挑战")]  # 2 is too long, 3 has one sub-section
    parent = parents[0]
    assert parent.kind == "parent" and not (parent.question or parent.entry or parent.group)
    # the section's own text, then each sub-section under its heading, in document order
    assert parent.text == "\n".join(c.text for c in chunks[:3])
    assert "1.1 融合" in parent.text and parent.text.endswith("多模态标注数据仍然稀缺。")
    kids = [c for c in chunks if c.title_path[:2] == ("指南", "1. 挑战")]
    assert parent.span == (kids[0].span[0], kids[-1].span[1])
    assert all(c.kind != "parent" for c in chunks)  # the sub-sections stay chunks of their own


def test_parent_chunks_respect_the_size_limits():
    chunks = chunk_document(OUTLINE, "guide.md")
    assert parent_chunks(chunks, max_chars=30) == []
    assert parent_chunks(chunks, fits=lambda text: len(text) < 30) == []  # the embedder could not read it all
    assert all(len(p.text) <= 2000 for p in parent_chunks(_chunks("002_*.txt")))


def test_ingest_makes_parents_the_embedder_reads_whole(kb):
    parents = [c for c in kb.data.chunks if c.kind == "parent"]
    assert parents and all(kb.embedder.token_count(p.embedding_text()) <= kb.embedder.max_tokens for p in parents)
