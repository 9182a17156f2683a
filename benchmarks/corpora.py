"""The corpora the benchmarks fit on and score: the seed corpus (the product's default) and two written by others.

- seed: data/seed, over the index in KB_INDEX_DIR (default index/);
- so-large-lm: ../shared/corpora/so-large-lm (a Chinese LLM course, 14 chapters);
- happy-llm: ../corpora/happy-llm (the Datawhale happy-llm tutorial, 7 chapters; data/README.md says how it was
  extracted; it is not in the repository because of its licence, so the benchmarks skip it when it is missing).
Each corpus but the seed gets its own index folder beside the repository, built on first use. A corpus's training
questions are data/train/<name>*.jsonl (the seed's also data/labels/seed.jsonl); its quality sets are
data/eval/<name>/*.jsonl, never fitted on.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from kb.core.config import ROOT, load_settings
from kb.core.questions import Case, read_cases


@dataclass(frozen=True)
class Corpus:
    name: str
    folder: Path
    index: Path | None  # None: the settings' own index (the seed)

    @property
    def available(self) -> bool:
        return self.folder.is_dir()

    def training(self) -> list[Case]:
        labels = [ROOT / "data" / "labels" / "seed.jsonl"] if self.name == "seed" else []
        return [c for p in labels + sorted((ROOT / "data" / "train").glob(f"{self.name}*.jsonl")) for c in read_cases(p)]

    def eval_sets(self) -> list[Path]:
        return sorted((ROOT / "data" / "eval" / self.name).glob("*.jsonl"))

    def knowledge_base(self, index: Path | None = None):
        """The knowledge base over this corpus, its index built (or brought up to date) first."""
        from ingest.build import build_index
        from kb.knowledge import KnowledgeBase

        if self.index is None and index is None:
            return KnowledgeBase.load()
        settings = load_settings().replace(corpus_dir=self.folder, index_dir=index or self.index)
        build_index(settings)
        return KnowledgeBase.load(settings)


CORPORA = {c.name: c for c in (
    Corpus("seed", ROOT / "data" / "seed", None),
    Corpus("so-large-lm", ROOT.parent / "shared" / "corpora" / "so-large-lm", ROOT.parent / "index-so-large-lm"),
    Corpus("happy-llm", ROOT.parent / "corpora" / "happy-llm", ROOT.parent / "index-happy-llm"),
)}


def add_index_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", action="append", default=[], metavar="CORPUS=DIR",
                        help="the index folder of a corpus other than the seed (default: ../index-<corpus>)")
    parser.add_argument("--so-large-lm-index", type=Path, help="the same as --index so-large-lm=DIR")
    parser.add_argument("--corpora", default=",".join(CORPORA), help="the corpora to use, of those present here")


def available(args: argparse.Namespace) -> dict[str, "object"]:
    """Knowledge bases of every corpus present on this machine, by name."""
    chosen = dict(item.split("=", 1) for item in args.index)
    if args.so_large_lm_index:
        chosen["so-large-lm"] = str(args.so_large_lm_index)
    wanted = args.corpora.split(",")
    unknown = (set(chosen) | set(wanted)) - set(CORPORA)
    if unknown:
        raise SystemExit(f"unknown corpus {', '.join(sorted(unknown))}; known: {', '.join(CORPORA)}")
    return {name: c.knowledge_base(Path(chosen[name]) if name in chosen else None)
            for name, c in CORPORA.items() if c.available and name in wanted}
