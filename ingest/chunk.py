"""Structure-aware chunking: headings, numbered sections, bold sub-heads, Q/A pairs and code become the outline;
a chunk never spans two sections, and long sections split on sentence boundaries with a little overlap.
A section made of short sub-sections also gets one "parent" chunk holding all of it (see parent_chunks)."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from kb.core.schema import Chunk, content_id
from kb.core.textnorm import fold, looks_like_question, merge_texts, normalize_space

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BOLD_HEAD = re.compile(r"^\*\*([^*\n]{1,60})\*\*\s*[:：]?\s*$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})(?:[.、．](?!\d)\s*|\s+)(\S.{0,78})$")
_QA_Q = re.compile(r"^Q(\d{1,3})\s*[:：.、]\s*(\S.*)$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]\s|\d{1,2}[.)、]\s*\S)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_STRONG = re.compile(
    r"^\s*(?:import \w|from [\w.]+ import |def \w+\(|class \w+[(:]|for \w.* in .+:$|while .+:$|if .+:$|elif .+:$"
    r"|else:$|try:$|except\b.*:$|with .+:$|return\b|print\(|@\w+|[\w.\[\]'\"]+\s*[-+*/]?=\s*\S|[\w.]+\(.*\)\s*$"
    r"|[)\]}]+[,;)]*\s*$|pip install |\$ )"
)
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\n)")
_SETEXT = re.compile(r"^ {0,3}(={3,}|-{3,})\s*$")  # the underline of a setext heading
_INDENTED = re.compile(r"^(?: {4}|\t)")  # a line indented this far is code in markdown, even one starting with #
_LINK = re.compile(r"\[([^\[\]]+)\]\((?:[^()\s]|\([^()\s]*\))*\)")  # [text](target), the target may hold (…)
_QUESTION_NUMBER = re.compile(r"^(?:Q\d+\s*[:：.、]|\d{1,2}(?:\.\d{1,2})*[.、．]?)\s*")


def _cjk_ratio(line: str) -> float:
    text = line.strip()
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") / max(1, len(text))


def _is_code_line(line: str) -> bool:
    return bool(_CODE_STRONG.match(line)) and _cjk_ratio(line) < 0.5 and not _LIST_ITEM.match(line)


def mark_code(lines: list[str]) -> list[bool]:
    """Which lines are code: fenced blocks, and unfenced runs of code-like lines with their '# ' comments."""
    code = [False] * len(lines)
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            code[i] = True
            in_fence = not in_fence
        elif in_fence:
            code[i] = True
    strong = [not code[i] and _is_code_line(line) for i, line in enumerate(lines)]

    def comment(i: int) -> bool:
        return not code[i] and lines[i].lstrip().startswith("#")

    def code_within(i: int, step: int) -> bool:
        """Is there unfenced code within two lines of i in this direction, skipping blanks and comments?"""
        j, seen = i + step, 0
        while 0 <= j < len(lines) and seen < 2 and (not lines[j].strip() or comment(j)):
            seen += 1 if not lines[j].strip() else 0
            j += step
        return 0 <= j < len(lines) and strong[j]

    for i in range(len(lines)):
        if strong[i] or (comment(i) and (code_within(i, 1) or code_within(i, -1))):
            code[i] = True
    # Indented continuation lines between code lines belong to the block.
    for i in range(1, len(lines) - 1):
        if not code[i] and lines[i].startswith((" ", "\t")) and code[i - 1] and _cjk_ratio(lines[i]) < 0.5:
            if any(code[j] for j in range(i + 1, min(len(lines), i + 3))):
                code[i] = True
    return code


@dataclass
class Heading:
    title: str
    level: float
    kind: str  # "md", "numbered", "bold", "qa"
    line: int
    question: bool = False


def _clean_title(text: str) -> str:
    text = _LINK.sub(r"\1", text.replace("**", "").replace("__", "")).strip()
    return re.sub(r"\s+", " ", text).rstrip("：:").strip()


def _is_numbered_heading(lines: list[str], i: int, code: list[bool]) -> re.Match | None:
    line = lines[i].rstrip()
    if line != line.lstrip() or line.startswith("**"):
        return None
    m = _NUMBERED.match(line)
    if not m:
        return None
    title = m.group(2)
    if title.startswith("**") or "。" in title or title.endswith((":", "：", "，", ",")) or len(title) > 70:
        return None
    for j in (i - 1, i + 1):  # a run of numbered lines without blank lines between is a list, not a section
        if 0 <= j < len(lines) and not code[j] and _LIST_ITEM.match(lines[j]) and _NUMBERED.match(lines[j].strip()):
            return None
    return m


def _markdown_heading(lines: list[str], i: int, code: list[bool]) -> tuple[float, str] | None:
    """(level, title) of a markdown heading at line i: "## title", or a one-line paragraph underlined with === or ---
    (setext; the underline stays in the text)."""
    line, stripped = lines[i], lines[i].strip()
    if _INDENTED.match(line):
        return None
    if m := _MD_HEADING.match(stripped):
        title = _clean_title(m.group(2))
        return (float(len(m.group(1))), title) if title else None
    below = lines[i + 1] if i + 1 < len(lines) and not code[i + 1] else ""
    underline = _SETEXT.match(below)
    if (underline and (i == 0 or not lines[i - 1].strip()) and len(stripped) <= 80
            and not _LIST_ITEM.match(line) and not stripped.startswith(("|", ">", "$$"))):
        title = _clean_title(stripped)
        return (1.0 if underline.group(1).startswith("=") else 2.0, title) if title else None
    return None


def find_headings(lines: list[str], code: list[bool]) -> list[Heading]:
    """The outline of a document with levels that nest numbered sections under markdown chapters."""
    headings: list[Heading] = []
    stack: list[Heading] = []
    md_base = 0.0

    def push(h: Heading) -> None:
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        headings.append(h)

    in_math = False  # inside a $$ display-math block, whose rows ("0.1 & 1.2 \\") are not numbered headings
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            in_math = False  # a blank line ends a markdown paragraph, and a math block with it
        if code[i] or not stripped:
            continue
        if stripped.count("$$") % 2:
            in_math = not in_math
            continue
        if marked := _markdown_heading(lines, i, code):
            in_math = False  # a markdown heading always starts a section
            level, title = marked
            question = looks_like_question(title)
            numbered_above = [h for h in stack if h.kind == "numbered"]
            if not question and not _NUMBERED.match(title) and numbered_above and numbered_above[-1].level >= level:
                level = numbered_above[-1].level + 1  # a sub-topic inside a numbered section
            elif not question:
                md_base = level
            push(Heading(title, level, "md", i, question))
        elif in_math:
            continue
        elif m := _QA_Q.match(stripped):
            parent = next((h.level for h in reversed(stack) if h.kind != "qa"), 0.0)
            push(Heading(_clean_title(m.group(2)), parent + 1, "qa", i, True))
        elif m := _BOLD_HEAD.match(stripped):
            parent = next((h.level for h in reversed(stack) if h.kind != "bold"), 0.0)
            title = _clean_title(m.group(1))
            push(Heading(title, parent + 0.5, "bold", i, looks_like_question(title)))
        elif m := _is_numbered_heading(lines, i, code):
            depth = m.group(1).count(".") + 1
            title = _clean_title(stripped)
            push(Heading(title, md_base + depth, "numbered", i, looks_like_question(m.group(2))))
    return headings


def question_key(question: str) -> str:
    """Same key for the same question written twice (numbering, script, punctuation and spacing aside)."""
    q = fold(_QUESTION_NUMBER.sub("", question))
    return re.sub(r"[\W_]+", "", q)


def _weight(text: str) -> float:
    """Rough token count for e5/XLM-R: about one token per CJK character, one per ~3.5 other characters."""
    cjk = sum(1 for ch in text if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return cjk + (len(text) - cjk) / 3.5


def _sentences(text: str) -> list[str]:
    parts = [p for p in _SENTENCE_END.split(text) if p]
    return parts or [text]


@dataclass
class _Piece:
    text: str
    start: int
    end: int
    code: bool = False


def _pieces(body: str, offset: int, code_mask: list[bool], max_weight: float) -> list[_Piece]:
    """Split a section body into units that may be packed together: code blocks whole, prose by sentence."""
    pieces: list[_Piece] = []
    pos = 0
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        j = i
        is_code = code_mask[i]
        while j < len(lines) and (code_mask[j] == is_code or (not lines[j].strip() and j + 1 < len(lines) and code_mask[j + 1] == is_code)):
            j += 1
        block = "\n".join(lines[i:j]) + ("\n" if j < len(lines) else "")
        if is_code and _weight(block) <= max_weight:
            pieces.append(_Piece(block, offset + pos, offset + pos + len(block), True))
        else:
            units = block.splitlines(keepends=True) if is_code else _sentences(block)
            p = pos
            for unit in units:
                pieces.append(_Piece(unit, offset + p, offset + p + len(unit), is_code))
                p += len(unit)
        pos += len(block)
        i = j
    merged: list[_Piece] = []
    for piece in pieces:  # blank lines stay with the piece before them, so line structure survives
        if merged and not piece.text.strip():
            last = merged[-1]
            merged[-1] = _Piece(last.text + piece.text, last.start, piece.end, last.code)
        else:
            merged.append(piece)
    return merged


def _hard_split(piece: _Piece, max_weight: float) -> list[_Piece]:
    """A single sentence longer than the budget: cut by characters (rare: tables, long lists without stops)."""
    if _weight(piece.text) <= max_weight:
        return [piece]
    size = max(50, int(max_weight))
    return [_Piece(piece.text[k:k + size], piece.start + k, piece.start + min(len(piece.text), k + size), piece.code)
            for k in range(0, len(piece.text), size)]


def pack(pieces: list[_Piece], max_weight: float, overlap_weight: float) -> list[list[_Piece]]:
    """Greedy packing into groups under max_weight; a new group repeats the previous group's last prose sentence."""
    flat = [q for p in pieces for q in _hard_split(p, max_weight)]
    groups: list[list[_Piece]] = []
    current: list[_Piece] = []
    weight = 0.0
    for piece in flat:
        w = _weight(piece.text)
        if current and weight + w > max_weight:
            groups.append(current)
            tail = current[-1]
            carry = [tail] if not tail.code and _weight(tail.text) <= overlap_weight and not piece.code else []
            current, weight = list(carry), sum(_weight(c.text) for c in carry)
        current.append(piece)
        weight += w
    if current:
        groups.append(current)
    # Fold a tiny trailing group into its predecessor when the two still fit.
    if len(groups) > 1 and sum(_weight(p.text) for p in groups[-1]) < max_weight * 0.2:
        merged = groups[-2] + [p for p in groups[-1] if p not in groups[-2]]
        if sum(_weight(p.text) for p in merged) <= max_weight * 1.2:
            groups[-2:] = [merged]
    return groups


@dataclass
class Section:
    heading: Heading | None
    path: tuple[str, ...]
    start_line: int
    end_line: int  # exclusive
    question: str = ""
    entry: str = ""


def sections(lines: list[str], headings: list[Heading], doc_title: str) -> list[Section]:
    """One section per heading (plus any preamble), with its title path and nearest question ancestor."""
    out: list[Section] = []
    stack: list[Heading] = []
    starts = [h.line for h in headings]
    if not headings or headings[0].line > 0:
        out.append(Section(None, (doc_title,) if doc_title else (), 0, starts[0] if starts else len(lines)))
    for n, h in enumerate(headings):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        end = starts[n + 1] if n + 1 < len(headings) else len(lines)
        asker = next((x for x in reversed(stack) if x.question), None)
        out.append(Section(h, tuple(x.title for x in stack), h.line, end, asker.title if asker else "",
                           str(asker.line) if asker else ""))
    return out


def _doc_title(lines: list[str], headings: list[Heading]) -> str:
    top = [h for h in headings if h.kind == "md" and h.level == 1]
    return top[0].title if len(top) == 1 else ""


def chunk_document(text: str, source: str, max_chars: int = 420, overlap_chars: int = 60) -> list[Chunk]:
    """Chunks of a cleaned document, in document order, each with its title path and section keys."""
    lines = text.split("\n")
    code = mark_code(lines)
    headings = find_headings(lines, code)
    title = _doc_title(lines, headings)
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line) + 1)
    chunks: list[Chunk] = []
    carried: int | None = None  # first line of heading-only sections just before this one
    for sec in sections(lines, headings, title):
        path = sec.path if not title or (sec.path and sec.path[0] == title) else (title,) + sec.path
        if not _has_content(lines[sec.start_line:sec.end_line], sec.heading is not None):
            # A heading with no text of its own ("27.2 医疗领域" right before "27.2.1 …") goes into the text of
            # the next section's first chunk, as the file reads, rather than being lost from every chunk's text.
            carried = sec.start_line if carried is None else carried
            continue
        start = sec.start_line if carried is None else carried
        carried = None
        body = "\n".join(lines[start:sec.end_line])
        offset = line_starts[start]
        pieces = _pieces(body, offset, code[start:sec.end_line], max_chars)
        section_key = f"{source}#{sec.start_line}"
        for group in pack(pieces, max_chars, overlap_chars):
            chunk_text = normalize_space("".join(p.text for p in group))
            if not chunk_text:
                continue
            is_code = all(p.code for p in group)
            chunks.append(Chunk(
                id=content_id(chunk_text), text=chunk_text, title_path=path, source=source,
                span=(group[0].start, group[-1].end), section=section_key, question=sec.question,
                group=question_key(sec.question) if sec.question else "",
                entry=f"{source}#{sec.entry}" if sec.entry else "",
                kind="code" if is_code else ("faq" if sec.question else "section"),
            ))
    return chunks


def _has_content(section_lines: list[str], has_heading: bool) -> bool:
    body = section_lines[1:] if has_heading else section_lines
    return any(line.strip() for line in body)


# Parent chunks are never longer than this; within it, the embedder must be able to read all of one (fits).
PARENT_MAX_CHARS = 2000


def parent_chunks(chunks: list[Chunk], fits: Callable[[str], bool] | None = None,
                  max_chars: int = PARENT_MAX_CHARS) -> list[Chunk]:
    """One extra chunk per section that has sub-sections: the section's own text, then each direct sub-section's
    text (with its heading line, as chunks have it), in document order. A broad question ("多模态学习还有哪些挑战")
    then matches the whole section instead of one of its sub-points; the sub-sections stay chunks of their own,
    so a specific question still finds its sub-point. A section is made a parent only when it is at most
    max_chars long and fits(its embedding text) holds (ingest passes: within the embedder's token limit).
    Chunks must be in document order within each source."""
    by_path: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
    for i, c in enumerate(chunks):
        if c.kind != "parent":
            by_path[(c.source, c.title_path)].append(i)
    children: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
    for (source, path), positions in by_path.items():
        if len(path) >= 2:
            children[(source, path[:-1])] += positions
    parents = []
    for (source, path), kids in children.items():
        if len(kids) < 2:
            continue
        members = sorted(by_path.get((source, path), []) + kids)
        text = merge_texts([chunks[m].text for m in members])  # a section's first chunk starts with its heading
        if len(text) > max_chars:
            continue
        start = min(chunks[m].span[0] for m in members)
        parent = Chunk(id=content_id(text), text=text, title_path=path, source=source,
                       span=(start, max(chunks[m].span[1] for m in members)), section=f"{source}#parent@{start}",
                       kind="parent")
        if fits is None or fits(parent.embedding_text()):
            parents.append(parent)
    return parents
