"""Corpus and user text made safe for Streamlit markdown: HTML and markdown syntax shown literally, terms in bold."""
from __future__ import annotations

import re

from kb.core.textnorm import readable_text, tokenize

# Backslash-escapable ASCII punctuation (CommonMark) plus Streamlit's $ (LaTeX) and : (emoji / colour directives).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=\"'])")
_MIN_TERM = 2


def escape_markdown(text: str) -> str:
    """Text that renders exactly as written: HTML becomes entities, markdown marks are backslash-escaped."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def question_terms(question: str) -> list[str]:
    """The words of a question worth highlighting in a source (jieba words, longest first)."""
    words = {t for t in tokenize(question) if not t.startswith("#") and len(t) >= _MIN_TERM}
    return sorted(words, key=len, reverse=True)


def highlight(text: str, terms: list[str]) -> str:
    """Escaped markdown of corpus text (readable_text) with every occurrence of the terms (case-insensitive) in bold."""
    text = readable_text(text)
    mask = [False] * len(text)
    lowered = text.lower()
    for term in terms:
        for m in re.finditer(re.escape(term.lower()), lowered):
            mask[m.start():m.end()] = [True] * (m.end() - m.start())
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and mask[j] == mask[i]:
            j += 1
        segment = escape_markdown(text[i:j])
        out.append(f"**{segment}**" if mask[i] and text[i:j].strip() else segment)
        i = j
    return "".join(out).replace("\n", "  \n")


_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def sanitize_markdown(text: str) -> str:
    """Corpus markdown kept as formatting, but no raw HTML, images, LaTeX, page-sized headings or book-toolchain
    markup (readable_text)."""
    text = readable_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("$", r"\$").replace("![", r"!\[")
    text = _HEADING.sub(r"**\1**", text)
    return text.replace("\n", "  \n")


def model_markdown(text: str) -> str:
    """Model output as markdown without HTML, links, images, LaTeX or headings. Every rule maps one character, so a
    stream escaped token by token renders the same as the whole text escaped at once."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("$", r"\$").replace("[", r"\[").replace("#", r"\#").replace("\n", "  \n")


def source_label(title: str, source: str) -> str:
    """How a document is named on the page: its title with the file after it, escaped (the file alone if untitled)."""
    if not title or title == source:
        return escape_markdown(source)
    return f"{escape_markdown(title)} ({escape_markdown(source)})"


def progress_label(text: str, share: float, elapsed_s: float) -> str:
    """A build's progress line: the share done and, once a little is done, the time left at the rate so far."""
    line = f"{text} {share:.0%}"
    if not 0.02 <= share < 1.0:
        return line
    left = elapsed_s * (1 - share) / share
    if left >= 90:
        return f"{line} · 约 {left / 60:.0f} 分钟 (about {left / 60:.0f} min left)"
    return f"{line} · 约 {left:.0f} 秒 ({left:.0f} s left)"
