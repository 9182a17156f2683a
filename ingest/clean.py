"""Remove site noise (front matter, kramdown markers, image tags, HTML layout tags, navigation crumbs) without
touching content."""
from __future__ import annotations

import re

from kb.core.textnorm import strip_controls

from .chunk import mark_code

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(?:[^\n]*\n){0,60}?---[ \t]*\n")
_KRAMDOWN = re.compile(r"\{:[^}\n]*\}")
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
# Named HTML tags only, never any <word>: corpora about models write tokens such as <s>, <unk>, <MASK> as text.
_BLOCK_TAG = re.compile(r"</?(?:div|p|center|br|hr|figure|figcaption|details|summary|section|article|blockquote"
                        r"|table|thead|tbody|tr|td|th|ul|ol|li|h[1-6])(?:\s[^<>\n]*)?/?>", re.IGNORECASE)
_INLINE_TAG = re.compile(r"</?(?:span|font|strong|em|b|i|u|small|a)(?:\s[^<>\n]*)?/?>", re.IGNORECASE)
_INLINE_CODE = re.compile(r"(`+[^`\n]*`+)")
_CRUMB_LINES = {"跳转至", "跳到主要内容", "skip to content", "返回顶部", "目录", "table of contents"}
_TOC_LINE = re.compile(r"^\s*1\.\s*TOC\s*$", re.IGNORECASE | re.MULTILINE)


def strip_site_noise(text: str) -> str:
    """Cleaned text: same content, without site furniture; line structure is kept."""
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _FRONT_MATTER.sub("", text, count=1)
    text = _KRAMDOWN.sub("", text)
    text = _IMG.sub("", text)
    text = _TOC_LINE.sub("", text)
    lines = [line for line in _strip_markup(text.split("\n")) if line.strip().lower() not in _CRUMB_LINES]
    return "\n".join(lines)


def _strip_markup(lines: list[str]) -> list[str]:
    """Layout tags dropped from prose, their inner text kept; code (blocks or inline) is left as written."""
    out = []
    for line, code in zip(lines, mark_code(lines)):
        if code:
            out.append(line)
            continue
        parts = _INLINE_CODE.split(line)
        parts[::2] = [_BLOCK_TAG.sub(" ", _INLINE_TAG.sub("", part)) for part in parts[::2]]
        cleaned = "".join(parts)
        out.append(cleaned if cleaned == line else cleaned.strip() if line.lstrip().startswith("<") else cleaned.rstrip())
    return out


_FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.+?)[\"']?\s*$", re.MULTILINE)
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_NUMBERED = re.compile(r"^\s*(?:\d+(?:\.\d+)*|[一二三四五六七八九十]+)[.、．)\s]")
_MARKS = re.compile(r"[*_`]+")
MAX_TITLE_CHARS = 40


def document_title(text: str, source: str) -> str:
    """A document's title for people: its front-matter title, else its first line when that is a short, unnumbered
    line or top-level heading, else the file name."""
    front = _FRONT_MATTER.match(text)
    if front and (m := _FRONT_TITLE.search(front.group(0))):
        return m.group(1).strip()
    cleaned = strip_site_noise(text)
    first = next((line.strip() for line in cleaned.split("\n") if line.strip()), "")
    if first.startswith("#"):
        heading = _H1.match(first)
        first = heading.group(1) if heading else ""
    line = _MARKS.sub("", first).strip()
    if line and len(line) <= MAX_TITLE_CHARS and not _NUMBERED.match(line) and not line.endswith(("。", "？", "?", "：", ":")):
        return line
    return source
