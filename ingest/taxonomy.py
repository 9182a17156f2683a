"""The taxonomy: categories and labelled example sentences, from a corpus's taxonomy.yaml / taxonomy.json or from a
`000_…txt`-style file whose header sentences declare the categories (the seed's five)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from kb.core.errors import BadInput
from kb.core.textnorm import normalize_space

_HEADER = re.compile(r"^\s*以下列?内容为主题的文章应被分类为\s*([^：:。（(\s]+)")
# Category ids for the names written in the taxonomy seed; an unknown name gets a generated id.
KNOWN_IDS = {
    "模型架构和性能优化": "arch_perf",
    "模型创新应用": "applications",
    "模型评估与数据集": "eval_data",
    "模型隐私与安全": "privacy_security",
    "模型公平与可解释性": "fairness_explain",
}
_EXAMPLE_CHARS = 160
# A sentence that says something is NOT this category ("多模态大模型就不是模型创新应用，而是模型的架构创新") is a
# counter-example: it is taken out of this category's examples and, when the part after 而是/属于 names another
# category, given to that one.
_EXCLUSION = re.compile(r"(?:不是|不属于|并非)[^，,。；;]*[，,]?\s*(?:而是|而属于|应属于)([^。；;！？]*)")


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    description: str
    examples: tuple[str, ...] = ()  # the example sentences as written (without the name prefix the vote embeds)


@dataclass(frozen=True)
class Example:
    topic: str
    text: str


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    examples: tuple[Example, ...]
    source: str
    sha256: str

    def name_of(self, topic_id: str) -> str:
        return next((c.name for c in self.categories if c.id == topic_id), topic_id)


def is_taxonomy(text: str) -> bool:
    """A taxonomy file declares at least two categories with the seed's header sentence."""
    return sum(1 for line in text.splitlines() if _HEADER.match(line)) >= 2


def _split_example(line: str) -> tuple[list[str], list[str]]:
    """(examples, counter-examples) of one line: long lines (several items run together) become sentence groups
    of about _EXAMPLE_CHARS; sentences that exclude something from the category come out on their own."""
    line = line.replace("**", "").strip()
    parts = [p for p in re.split(r"(?<=[。；;！？])", line) if p.strip()]
    excluded = [p.strip() for p in parts if _EXCLUSION.search(p)]
    parts = [p for p in parts if not _EXCLUSION.search(p)]
    if not parts:
        return [], excluded
    if len(line) <= _EXAMPLE_CHARS and not excluded:
        return [line], []
    out, cur = [], ""
    for part in parts:
        if cur and len(cur) + len(part) > _EXAMPLE_CHARS:
            out.append(cur)
            cur = ""
        cur += part
    if cur:
        out.append(cur)
    return out, excluded


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _redirect(sentence: str, source_id: str, categories: list[Category]) -> str | None:
    """The category a counter-example names after 而是/属于 (most shared character bigrams with its name,
    ignoring bigrams every name shares), or None."""
    m = _EXCLUSION.search(sentence)
    if not m:
        return None
    others = [c for c in categories if c.id != source_id]
    common = set.intersection(*(_bigrams(c.name) for c in categories)) if categories else set()
    target = _bigrams(m.group(1)) - common
    scored = sorted(((len(target & _bigrams(c.name)), c.id) for c in others), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def parse_taxonomy(text: str, source: str = "taxonomy") -> Taxonomy:
    """Categories in file order; every non-empty line under a header is an example of that category."""
    categories: list[Category] = []
    examples: list[Example] = []
    counter: list[tuple[str, str]] = []  # (category it was written under, sentence excluding something from it)
    current: Category | None = None
    for raw in text.splitlines():
        line = normalize_space(raw)
        if m := _HEADER.match(line):
            name = m.group(1).strip()
            cid = KNOWN_IDS.get(name, f"topic_{len(categories) + 1}")
            current = Category(cid, name, "")
            categories.append(current)
            continue
        if current is None or len(line) < 4:
            continue
        if not current.description:
            current = Category(current.id, current.name, line)
            categories[-1] = current
        pieces, excluded = _split_example(line)
        examples += [Example(current.id, f"{current.name}：{piece}") for piece in pieces]
        counter += [(current.id, sentence) for sentence in excluded]
    for source_id, sentence in counter:
        target = _redirect(sentence, source_id, categories)
        if target:
            name = next(c.name for c in categories if c.id == target)
            examples.append(Example(target, f"{name}：{sentence}"))
    prefix = {c.id: f"{c.name}：" for c in categories}
    categories = [replace(c, examples=tuple(e.text.removeprefix(prefix[c.id]) for e in examples if e.topic == c.id))
                  for c in categories]
    return Taxonomy(tuple(categories), tuple(examples), source, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_taxonomy(path: Path) -> Taxonomy:
    """A `000_…txt`-style taxonomy file (taxonomy_file.load_taxonomy reads either kind)."""
    from .load import decode

    try:
        decoded = decode(path.read_bytes())
    except OSError as exc:
        raise BadInput(f"cannot read the taxonomy file {path}: {exc.strerror or exc}") from exc
    if decoded is None:
        raise BadInput(f"taxonomy file {path} is not text")
    taxonomy = parse_taxonomy(decoded[0], path.name)
    if len(taxonomy.categories) < 2:
        raise BadInput(f"taxonomy file {path} declares {len(taxonomy.categories)} categories, at least 2 are needed "
                       "(a line 以下内容为主题的文章应被分类为<name> per category, or use taxonomy.yaml)")
    return taxonomy
