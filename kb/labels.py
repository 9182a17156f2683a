"""Topic labels from labelled questions.

A question set (kb/questions.py format: q, anchors, topic) says which passages answer each question and which
category the question belongs to. Ingest counts, for every chunk, the topics of the questions whose anchors it
contains, and blends that distribution into the chunk's nearest-neighbour vote against the taxonomy examples.

Why: the taxonomy examples decide most chunks well, but a few chunks that many questions land on read differently
to every person who writes questions ("大模型如何保存" votes privacy_security, every writer files its questions
under arch_perf). Scored with each question set's own labels left out, topic accuracy over 887 questions of
thirteen sets rises from 0.893 to 0.949 (with the example weight lowered to 0.2, kb/topics.py), and on fresh10, a set
written afterwards, from 0.844 to 0.922 (docs/quality.md, Topic voting). kb.eval leaves a file's own labels out when it scores that file, so its
figures stay out-of-sample.

Chunks no question points at keep their nearest-neighbour vote; a corpus with no label files is unchanged.
"""
from __future__ import annotations

import bisect
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .questions import read_cases
from .textnorm import anchor_form

log = logging.getLogger(__name__)

# Weight of the question labels against the nearest-neighbour vote, for a chunk that has both. Leaving each of
# thirteen sets out in turn: 0.5 / 0.7 / 1.0 score about alike, 0.7 is kept so the examples still break ties.
LABEL_WEIGHT = 0.7

# one chunk's labels: {label file name: {topic id: number of questions}}
ChunkLabels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class LabelFile:
    name: str  # file name, the key labels are stored under
    sha256: str
    questions: list[tuple[list[str], str]]  # (anchors, topic) of the answerable questions with a known topic


def read_label_files(folder: Path | None, topic_ids: Sequence[str]) -> list[LabelFile]:
    """The *.jsonl question sets in folder (none when it is unset or missing). A file that cannot be read is
    skipped with a warning; questions whose topic is not one of topic_ids (another taxonomy) are ignored."""
    if folder is None or not Path(folder).is_dir():
        return []
    files, known = [], set(topic_ids)
    for path in sorted(Path(folder).glob("*.jsonl")):
        try:
            raw = path.read_bytes()
            cases = read_cases(path)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("label file %s skipped: %s", path, exc)
            continue
        questions = [([a for a in c.anchors if isinstance(a, str)], c.topic) for c in cases
                     if c.anchors and c.topic in known]
        files.append(LabelFile(path.name, hashlib.sha256(raw).hexdigest(), questions))
    return files


def fingerprint(files: Iterable[LabelFile]) -> dict[str, str]:
    """File name -> content hash: what the labels of a build depend on."""
    return {f.name: f.sha256 for f in files}


def chunk_labels(texts: Sequence[str], files: Iterable[LabelFile]) -> dict[int, ChunkLabels]:
    """For every chunk text containing a question's anchor (compared in anchor form, as kb.eval does): the
    question topics, per label file."""
    forms = [anchor_form(t) for t in texts]
    starts, offset = [], 0
    for f in forms:
        starts.append(offset)
        offset += len(f) + 1
    joined = "\x00".join(forms)
    out: dict[int, ChunkLabels] = {}
    for file in files:
        for anchors, topic in file.questions:
            hit: set[int] = set()
            for anchor in {anchor_form(a) for a in anchors} - {""}:
                at = joined.find(anchor)
                while at != -1:
                    hit.add(bisect.bisect_right(starts, at) - 1)
                    at = joined.find(anchor, at + 1)
            for i in hit:
                per_topic = out.setdefault(i, {}).setdefault(file.name, {})
                per_topic[topic] = per_topic.get(topic, 0) + 1
    return out


def blend(knn_votes: dict[str, float], labels: ChunkLabels | None, leave_out: Iterable[str] = ()) -> dict[str, float]:
    """A chunk's vote: its nearest-neighbour vote, blended with the share of each topic among the questions that
    point at it (label files in leave_out not counted)."""
    counts: dict[str, int] = {}
    skip = set(leave_out)
    for name, per_topic in (labels or {}).items():
        if name not in skip:
            for topic, n in per_topic.items():
                counts[topic] = counts.get(topic, 0) + n
    total = sum(counts.values())
    if not total:
        return dict(knn_votes)
    topics = list(dict.fromkeys([*knn_votes, *counts]))
    return {t: round((1 - LABEL_WEIGHT) * knn_votes.get(t, 0.0) + LABEL_WEIGHT * counts.get(t, 0) / total, 6)
            for t in topics}
