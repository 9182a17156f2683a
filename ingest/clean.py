"""Remove site noise (front matter, kramdown markers, image tags, navigation crumbs) without touching content."""
from __future__ import annotations

import re

from kb.textnorm import strip_controls

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(?:[^\n]*\n){0,60}?---[ \t]*\n")
_KRAMDOWN = re.compile(r"\{:[^}\n]*\}")
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_CRUMB_LINES = {"跳转至", "跳到主要内容", "skip to content", "返回顶部", "目录", "table of contents"}
_TOC_LINE = re.compile(r"^\s*1\.\s*TOC\s*$", re.IGNORECASE | re.MULTILINE)


def strip_site_noise(text: str) -> str:
    """Cleaned text: same content, without site furniture; line structure is kept."""
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _FRONT_MATTER.sub("", text, count=1)
    text = _KRAMDOWN.sub("", text)
    text = _IMG.sub("", text)
    text = _TOC_LINE.sub("", text)
    lines = [line for line in text.split("\n") if line.strip().lower() not in _CRUMB_LINES]
    return "\n".join(lines)
