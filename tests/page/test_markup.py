"""Corpus and user text shown on the page never turns into HTML or markdown it did not mean."""
from kb.answering.result import Answer
from kb.cli import print_answer
from kb.core.textnorm import readable_text
from page.markup import escape_markdown, highlight, model_markdown, progress_label, question_terms, sanitize_markdown

XSS = "<script>alert(1)</script> <img src=x onerror=alert(1)>"


def test_escaped_html_shows_literally() -> None:
    out = escape_markdown(XSS)
    assert "<" not in out and ">" not in out
    assert out.startswith("&lt;script&gt;alert\\(1\\)&lt;/script&gt;")


def test_sanitized_markdown_keeps_formatting_but_not_html_images_or_latex() -> None:
    out = sanitize_markdown(f"## 标题\n\n**粗体** {XSS} ![x](http://e/x.png) $x^2$")
    assert out.startswith("**标题**") and "**粗体**" in out
    assert "<" not in out and "![" not in out and "\\$x^2\\$" in out


def test_question_terms_are_bolded_in_escaped_text() -> None:
    terms = question_terms("为什么训练大模型需要大显存？")
    out = highlight("训练需要显存 <b>", terms)
    assert "**训练**" in out and "**显存**" in out and out.endswith("&lt;b&gt;")


def test_model_output_renders_literally_token_by_token() -> None:
    text = "显存存放参数 [1]。<img src=x onerror=alert(1)> ![p](http://t.example/x.png) $x$\n# 标题"
    escaped = model_markdown(text)
    assert escaped == "".join(model_markdown(ch) for ch in text)  # the stream renders as the finished text does
    assert "<" not in escaped and "![" not in escaped and r"\$x\$" in escaped and r"\# 标题" in escaped


BOOK = """# 填充和步幅
:label:`sec_padding`

如 :numref:`fig_correlation` 所示，输入的高度为$3$ :cite:`Ioffe.Szegedy.2015`。
:eqlabel:`eq_x` :width:`400px`

```{.python .input}
#@tab pytorch
def pad(x):
    \"\"\":return: x\"\"\"
```

:begin_tab:`mxnet`
[Discussions](https://discuss.d2l.ai/t/1852)
:end_tab:
{numref}`fig-x` 里的时间 10:30 照写。
"""


def test_book_toolchain_markup_is_not_shown_but_code_is_kept() -> None:
    out = readable_text(BOOK)
    for gone in (":label:", ":numref:", ":eqlabel:", ":width:", ":begin_tab:", ":end_tab:", "{numref}"):
        assert gone not in out
    assert "[Ioffe.Szegedy.2015]" in out and "10:30" in out and "[Discussions](https://discuss.d2l.ai/t/1852)" in out
    assert "#@tab pytorch\ndef pad(x):\n    \"\"\":return: x\"\"\"" in out  # code as written
    assert "sec_padding" not in sanitize_markdown(BOOK) and "fig_correlation" not in highlight(BOOK, ["输入"])


def test_the_cli_shows_readable_text_and_the_json_keeps_the_stored_text(capsys) -> None:
    ans = Answer(question="填充有什么用？", abstained=False, answer=BOOK, sources=[], title="填充和步幅",
                 topic={"id": "arch_perf", "name": "模型架构和性能优化", "confidence": 0.9, "uncertain": False, "votes": {}})
    print_answer(ans)
    shown = capsys.readouterr().out
    assert "如所示" in shown and ":label:" not in shown and "[Ioffe.Szegedy.2015]" in shown
    assert ans.to_json()["answer"] == BOOK  # the contract returns what the corpus says


def test_a_dropped_reference_leaves_the_sentence_joined() -> None:
    assert readable_text("在前面的例子 :numref:`fig_c`中，") == "在前面的例子中，"
    assert readable_text("see :numref:`sec_x` for details, as :eqref:`e`.") == "see for details, as."


def test_a_build_shows_the_time_left_at_the_rate_so_far() -> None:
    assert progress_label("建立索引…", 0.01, 30) == "建立索引… 1%"  # too little done to say
    assert progress_label("建立索引…", 0.25, 300) == "建立索引… 25% · 约 15 分钟 (about 15 min left)"
    assert progress_label("建立索引…", 0.5, 40) == "建立索引… 50% · 约 40 秒 (40 s left)"
    assert progress_label("建立索引…", 1.0, 600) == "建立索引… 100%"
