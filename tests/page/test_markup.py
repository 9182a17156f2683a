"""Corpus and user text shown on the page never turns into HTML or markdown it did not mean."""
from page.markup import escape_markdown, highlight, question_terms, sanitize_markdown

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
