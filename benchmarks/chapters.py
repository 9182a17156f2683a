"""python -m benchmarks.chapters [--index DIR] [--work DIR] [--json]

The 14 chapters of ../shared/corpora/so-large-lm as a taxonomy of one's own (data/taxonomies/so-large-lm-chapters.yaml:
chapter titles, a few sentences from each chapter's opening): how well the topic vote puts
- every chunk in its own chapter (ground truth: the chunk's file), and
- the questions of data/eval/so-large-lm/chapters.jsonl (labelled with chapters; never fitted on) in theirs,
beside a naive baseline, the nearest category centroid (mean of its example vectors). The existing index is copied
to a work folder (its embedding cache makes the re-vote cheap) and the chapters taxonomy applied there with
`--taxonomy`, so the copy is re-voted, not rebuilt; the re-vote's time is reported.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ingest.build import build_index
from kb.core import index
from kb.core.config import ROOT, load_settings
from kb.core.questions import read_cases
from kb.knowledge import KnowledgeBase

CORPUS = ROOT.parent / "shared" / "corpora" / "so-large-lm"
TAXONOMY = ROOT / "data" / "taxonomies" / "so-large-lm-chapters.yaml"
QUESTIONS = ROOT / "data" / "eval" / "so-large-lm" / "chapters.jsonl"


def chapter_of(source: str) -> str:
    return Path(source).stem  # ch07.md -> ch07, the category ids of the chapters taxonomy


def centroids(kb: KnowledgeBase) -> tuple[list[str], np.ndarray]:
    """Each category's mean example vector, unit length (the naive baseline)."""
    ids = kb.topic_ids
    rows = [np.array([t == cid and k == index.TAXONOMY for t, k in zip(kb.data.example_topics, kb.data.example_kinds)]) for cid in ids]
    cents = np.vstack([kb.data.example_vectors[r].mean(axis=0) for r in rows])
    return ids, cents / np.linalg.norm(cents, axis=1, keepdims=True)


def _norm(text: str) -> str:
    return re.sub(r"[\s*#`>$\\]", "", text)


def chunk_scores(kb: KnowledgeBase) -> dict:
    """Chunk -> own chapter accuracy of the vote and of the centroid baseline, also without the chunks that hold an
    example sentence (those are the chapters' openings, copied into the taxonomy)."""
    ids, cents = centroids(kb)
    own = [i for i, c in enumerate(kb.data.chunks) if c.kind != "parent"]
    vectors = kb.data.vectors.vectors(own)  # a chunk's passage vector is the row of its position
    truth = [chapter_of(kb.data.chunks[i].source) for i in own]
    voted = [kb.data.chunks[i].topic for i in own]
    nearest = [ids[j] for j in (vectors @ cents.T).argmax(axis=1)]
    heads = [_norm(t.split("：", 1)[-1])[:12] for t in kb.data.example_texts]
    unseen = [n for n, i in enumerate(own) if not any(h and h in _norm(kb.data.chunks[i].text) for h in heads)]

    def acc(pred: list[str], among: list[int]) -> float:
        return round(sum(pred[n] == truth[n] for n in among) / len(among), 3)

    every = list(range(len(own)))
    return {"chunks": len(own), "vote": acc(voted, every), "centroid": acc(nearest, every),
            "chunks_without_examples": len(unseen), "vote_without_examples": acc(voted, unseen),
            "centroid_without_examples": acc(nearest, unseen)}


def question_scores(kb: KnowledgeBase, path: Path) -> dict:
    """Topic accuracy of the questions: the answer's topic vote, and the centroid baseline on the question vector."""
    questions = read_cases(path)
    ids, cents = centroids(kb)
    vote = centroid = 0
    for q in questions:
        vote += kb.ask(q.q).topic.get("id") == q.topic
        centroid += ids[int((kb.embed_query(q.q) @ cents.T).argmax())] == q.topic
    return {"questions": len(questions), "vote": round(vote / len(questions), 3),
            "centroid": round(centroid / len(questions), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chapters")
    parser.add_argument("--index", type=Path, default=ROOT.parent / "index-sll", help="an existing so-large-lm index")
    parser.add_argument("--work", type=Path, help="folder for the re-voted copy (default: a temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="kb-chapters-"))
    copy = work / "index"
    if not copy.exists():
        shutil.copytree(args.index, copy, symlinks=True)
    settings = load_settings().replace(corpus_dir=CORPUS, index_dir=copy, taxonomy_file=str(TAXONOMY))
    t0 = time.perf_counter()
    report = build_index(settings)
    seconds = time.perf_counter() - t0
    kb = KnowledgeBase.load(settings)
    result = {"revoted": report.revoted, "revote_seconds": round(seconds, 2), "examples_embedded": report.embedded,
              "chunk_to_chapter": chunk_scores(kb), "questions": question_scores(kb, QUESTIONS)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    c, q = result["chunk_to_chapter"], result["questions"]
    print(f"taxonomy {TAXONOMY.name} applied to a copy of {args.index}: "
          f"{'re-voted' if report.revoted else 'rebuilt'} in {seconds:.1f} s, {report.embedded} example sentences embedded")
    print(f"chunk -> own chapter ({c['chunks']} chunks): vote {c['vote']:.3f}, nearest centroid {c['centroid']:.3f}")
    print(f"  without the {c['chunks'] - c['chunks_without_examples']} chunks holding an example sentence: "
          f"vote {c['vote_without_examples']:.3f}, nearest centroid {c['centroid_without_examples']:.3f}")
    print(f"questions ({QUESTIONS.name}, {q['questions']}): topic vote {q['vote']:.3f}, nearest centroid {q['centroid']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
