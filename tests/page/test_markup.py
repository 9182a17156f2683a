"""Corpus and user text shown on the page never turns into HTML or markdown it did not mean."""
from page.markup import escape_markdown, highlight, model_markdown, question_terms, sanitize_markdown

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
