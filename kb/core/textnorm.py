"""Text normalisation shared by ingest and query: control characters, script folding, tokens."""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from kb.core.wordlists import words

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_WS = re.compile(r"[ \t\u3000\xa0]+")
_ANCHOR_DROP = re.compile(r"[\s*#`>]+")

# Words that carry no topic: questions words, particles, punctuation. Applied to the lexical side only.
STOPWORDS = words("stopwords")

_opencc = None
SHORT_TEXT = 512  # characters: longer texts (chunks at ingest) are converted without being remembered


def strip_controls(text: str) -> str:
    """Remove control and invisible formatting characters and lone surrogates; keep newlines and tabs."""
    return _SURROGATE.sub("", _CONTROL.sub("", text))


def normalize_space(text: str) -> str:
    """Collapse runs of spaces, trim line ends, keep at most one blank line."""
    lines = [_WS.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def to_simplified(text: str) -> str:
    """Fold Traditional characters to Simplified (OpenCC t2s) for matching; never for display."""
    return _short_to_simplified(text) if len(text) <= SHORT_TEXT else _convert(text)


@lru_cache(maxsize=4096)
def _short_to_simplified(text: str) -> str:
    """A question and its words are folded many times while one is answered: convert each once."""
    return _convert(text)


def _convert(text: str) -> str:
    global _opencc
    if _opencc is None:
        import opencc

        _opencc = opencc.OpenCC("t2s")
    return _opencc.convert(text)


def fold(text: str) -> str:
    """Matching form: NFKC (full-width to half-width), lower case, Simplified script."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def general_idf() -> tuple[dict[str, float], float]:
    """jieba's general-language IDF table (shipped with jieba, for keyword extraction) and its median, the weight
    of a word the table lacks: how informative a word is in Chinese at large, independent of any corpus."""
    import jieba.analyse

    table: dict[str, float] = {}
    with open(Path(jieba.analyse.__file__).with_name("idf.txt"), encoding="utf-8") as f:
        for line in f:
            word, _, value = line.rstrip("\n").rpartition(" ")
            if word:
                table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2] if values else 1.0


def tokenize(text: str) -> list[str]:
    """Lexical tokens of the folded text: jieba search-mode words (minus stop words and punctuation) plus
    CJK character bigrams, which recover matches that segmentation splits differently (预训练 / 预 训练)."""
    folded = fold(text)
    tokens = []
    for tok in _jieba().lcut_for_search(folded):
        tok = tok.strip()
        if tok and tok not in STOPWORDS and any(ch.isalnum() for ch in tok):
            tokens.append(tok)
    tokens += ["#" + run[i:i + 2] for run in _CJK_RUN.findall(folded) for i in range(len(run) - 1)]
    return tokens


_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ROLE = re.compile(r"(?::[A-Za-z][\w-]*:|\{[A-Za-z][\w-]*\})`[^`\n]*`")  # Sphinx :numref:`x`, MyST {cite}`x`
_CELL_MARK = re.compile(r"^[ \t]*#@(?:tab|save)\b.*$", re.M)  # notebook-book cell markers (#@tab pytorch)
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.M)


def matching_text(text: str) -> str:
    """Text as matched (embedded, tokenized), not as shown: markup that carries no content for a reader's question
    is dropped (HTML comments, cross-reference roles, notebook cell markers, table rules). Link targets stay: their
    paper and project names are matched (docs/quality.md, Markup)."""
    text = _HTML_COMMENT.sub("", text)
    text = _ROLE.sub("", text)
    text = _CELL_MARK.sub("", text)
    return _TABLE_RULE.sub("", text)


_ROLE_LINE = re.compile(r"^[ \t]*:[A-Za-z][\w-]*:(?:`[^`\n]*`)?(?:[ \t]*:[A-Za-z][\w-]*:(?:`[^`\n]*`)?)*[ \t]*\n?", re.M)
_CITATION = re.compile(r"(?::cite[pt]?:|\{cite[pt]?\})`([^`\n]*)`")
_SPACED_ROLE = re.compile(r"(?<=(.))?[ \t]*" + _ROLE.pattern + r"[ \t]*(?=(.))?")
FENCED = re.compile(r"(^[ \t]*(?:```|~~~).*?^[ \t]*(?:```|~~~)[ \t]*$)", re.M | re.S)


def readable_text(text: str) -> str:
    """Text as shown to a reader: the book toolchain's markup that a built book turns into numbers or layout is
    dropped (lines of roles only, like :label:`x` and :end_tab:, and inline cross-references), and a citation shows
    its key in brackets. Code blocks are shown as written; what is stored, matched and returned as JSON is unchanged."""
    parts = FENCED.split(text)
    for i in range(0, len(parts), 2):
        prose = _ROLE_LINE.sub("", parts[i])
        prose = _CITATION.sub(lambda m: f"[{m.group(1)}]", prose)
        parts[i] = _SPACED_ROLE.sub(_join_around, prose)
    return "".join(parts)


def _join_around(m: re.Match) -> str:
    """What stands where a dropped reference was: one space between two Latin words, else nothing (例子 :numref:`x`中)."""
    latin = [c is not None and c.isascii() and c.isalnum() for c in m.groups()]
    return " " if all(latin) else ""


def anchor_form(text: str) -> str:
    """The comparison form used by the eval set: whitespace and markdown marks * # ` > removed."""
    return _ANCHOR_DROP.sub("", text)


def looks_like_question(text: str) -> bool:
    """True for a heading phrased as a question (an FAQ entry)."""
    t = fold(text).strip().rstrip(":：")
    if "?" in t or "？" in t:
        return True
    return bool(re.search(r"(什么|如何|怎么|怎样|为什么|为何|哪些|是否|吗$|多少|^how |^what |^why |^when |^which )", t))


_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


def mostly_english(text: str) -> bool:
    """More English words than Chinese characters: a question typed in English, not a Chinese one with a few
    English terms ("LLM 的 inference latency 太高" is Chinese)."""
    words = len(_LATIN_WORD.findall(text))
    return words > 0 and words > len(_CJK_CHAR.findall(text))


def merge_texts(texts: Sequence[str], max_overlap: int = 300) -> str:
    """Join consecutive chunk texts, dropping the sentence a chunk repeats from the one before it."""
    out = ""
    for text in texts:
        if not out:
            out = text
            continue
        overlap = 0
        for size in range(min(max_overlap, len(out), len(text)), 0, -1):
            if out.endswith(text[:size]):
                overlap = size
                break
        out = out + ("" if overlap else "\n") + text[overlap:]
    return out
