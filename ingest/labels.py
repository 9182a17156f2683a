"""Topic labels from a labelled question file: chunks that many people's questions point at get their topic.

A label file is in the question-set format (kb/core/questions.py: q, anchors, topic), optionally with `sources`:
the corpus files the anchors were copied from. Ingest counts, for every chunk, the topics of the questions whose
anchors it contains (only in the named sources when a question names them, so another corpus is untouched) and
blends that distribution into the chunk's nearest-neighbour vote. The shipped labels are data/labels/; no question
set that reports quality is among them (docs/quality.md, Question sets).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from kb.core.schema import Chunk
from kb.core.textnorm import anchor_form

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledQuestion:
    anchors: tuple[str, ...]
    topic: str
    sources: frozenset[str]  # corpus files the anchors come from; empty: any file
    text: str = ""  # the question itself: a labelled example for the query-time topic vote


@dataclass(frozen=True)
class LabelFile:
    name: str
    sha256: str
    questions: list[LabelledQuestion]


def read_label_files(folder: Path | None, topic_ids: Sequence[str]) -> list[LabelFile]:
    """The *.jsonl label files in folder (none when it is unset or missing). A file that cannot be read is skipped
    with a warning; questions without anchors or whose topic is not one of topic_ids are ignored."""
    if folder is None or not Path(folder).is_dir():
        return []
    files, known = [], set(topic_ids)
    for path in sorted(Path(folder).glob("*.jsonl")):
        try:
            raw = path.read_bytes()
            rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
            questions = [LabelledQuestion(tuple(a for a in r.get("anchors") or [] if isinstance(a, str)), r["topic"],
                                          frozenset(r.get("sources") or ()), r["q"] if isinstance(r.get("q"), str) else "")
                         for r in rows if r.get("anchors") and r.get("topic") in known]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("label file %s skipped: %s", path, exc)
            continue
        files.append(LabelFile(path.name, hashlib.sha256(raw).hexdigest(), questions))
    return files


def question_examples(files: Iterable[LabelFile]) -> list[tuple[str, str]]:
    """(topic, question) of every labelled question, once each: examples of the taxonomy worded as users ask."""
    return list(dict.fromkeys((q.topic, q.text.strip()) for f in files for q in f.questions if q.text.strip()))


def fingerprint(files: Iterable[LabelFile]) -> dict[str, str]:
    """File name -> content hash: what the labels of a build depend on."""
    return {f.name: f.sha256 for f in files}


def chunk_labels(chunks: Sequence[Chunk], files: Iterable[LabelFile]) -> dict[int, dict[str, int]]:
    """Chunk position -> {topic: number of labelled questions whose anchor the chunk contains}."""
    forms = [anchor_form(c.text) for c in chunks]
    starts, offset = [], 0
    for f in forms:
        starts.append(offset)
        offset += len(f) + 1
    joined = "\x00".join(forms)
    out: dict[int, dict[str, int]] = {}
    for file in files:
        for question in file.questions:
            hit: set[int] = set()
            for anchor in {anchor_form(a) for a in question.anchors} - {""}:
                at = joined.find(anchor)
                while at != -1:
                    hit.add(bisect.bisect_right(starts, at) - 1)
                    at = joined.find(anchor, at + 1)
            for i in hit:
                if not question.sources or chunks[i].source in question.sources:
                    out.setdefault(i, {})[question.topic] = out.get(i, {}).get(question.topic, 0) + 1
    return out


def blend(knn_votes: dict[str, float], counts: dict[str, int] | None, label_weight: float) -> dict[str, float]:
    """A chunk's vote: its nearest-neighbour vote blended with the share of each topic among its labelled questions."""
    total = sum((counts or {}).values())
    if not total:
        return dict(knn_votes)
    topics = list(dict.fromkeys([*knn_votes, *counts]))
    return {t: round((1 - label_weight) * knn_votes.get(t, 0.0) + label_weight * counts.get(t, 0) / total, 6)
            for t in topics}
