"""The taxonomy seed: five categories, their names as written, and the passages under each as labelled examples."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from kb.textnorm import normalize_space

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


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    description: str


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


def _split_example(line: str) -> list[str]:
    """Long lines (several items run together) become sentence groups of about _EXAMPLE_CHARS."""
    line = line.replace("**", "").strip()
    if len(line) <= _EXAMPLE_CHARS:
        return [line]
    parts = [p for p in re.split(r"(?<=[。；;！？])", line) if p.strip()]
    out, cur = [], ""
    for part in parts:
        if cur and len(cur) + len(part) > _EXAMPLE_CHARS:
            out.append(cur)
            cur = ""
        cur += part
    if cur:
        out.append(cur)
    return out


def parse_taxonomy(text: str, source: str = "taxonomy") -> Taxonomy:
    """Categories in file order; every non-empty line under a header is an example of that category."""
    categories: list[Category] = []
    examples: list[Example] = []
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
        for piece in _split_example(line):
            examples.append(Example(current.id, f"{current.name}：{piece}"))
    return Taxonomy(tuple(categories), tuple(examples), source, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_taxonomy(path: Path) -> Taxonomy:
    from .load import decode

    decoded = decode(path.read_bytes())
    if decoded is None:
        raise ValueError(f"taxonomy file {path} is not text")
    return parse_taxonomy(decoded[0], path.name)
