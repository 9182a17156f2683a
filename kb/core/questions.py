"""Question sets in the format of ../shared/eval/README.md: one JSON object a line with the question (q), anchors
(passages a right source contains), the topic and acceptable alternative topics. kb.eval scores them."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Case:
    id: str
    q: str
    anchors: list[str]
    topic: str | None
    topic_alt: list[str]
    kind: str = ""  # "answerable", "near_domain", "out_of_scope", "no_content" or "" (unstated)


def read_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            obj = json.loads(line)
            cases.append(Case(obj.get("id", f"line{n}"), obj["q"], obj.get("anchors", []), obj.get("topic"),
                              obj.get("topic_alt", []), obj.get("kind", "")))
    return cases
