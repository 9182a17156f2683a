"""python -m benchmarks.ingest --corpus DIR [--index DIR] [--json]

Times each stage of a full ingest of DIR into a fresh index folder with an empty embedding cache, measures the raw
engine throughput of the embedder on the same chunk texts, and prints their ratio, then times a no-op re-ingest and
a re-ingest after one changed file. Figures are printed against the issue's targets, never asserted.

The stages are timed on the real `build_index`: the functions it calls are wrapped with timers for the run (no copy
of the build, no change to what it does). A stage's time excludes the timed stages it calls; what no wrapper covers
(inline loops in `_build`) is reported as "other".
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import ingest.build as build
from ingest.cache import EmbeddingCache
from ingest.taxonomy import is_taxonomy
from kb.core.config import load_settings
from kb.core.store import FaissStore

TARGET_RATIO = 0.70
TARGET_NOOP_S = 2.0
TARGET_CHANGED_S = 10.0
APPENDED = "\n\n补充说明：这一句是基准测试追加的，用来测量只改一个文件时的重新入库耗时。\n"

# ingest.build names wrapped with a timer, by stage
STAGES = {
    "load": ["load_corpus", "split_taxonomy", "label_files", "fingerprint"],
    "model load": ["get_embedder", "load_calibration"],
    "clean": ["strip_site_noise"],
    "chunk": ["chunk_document", "parent_chunks", "faq_entries"],
    "prepare texts (to_simplified, pseudo-queries)": ["to_simplified", "pseudo_queries"],
    "lexical index (tokenize)": ["tokenize"],
    "word-bridge vocabulary": ["vocabulary"],
    "topic vote": ["vote_shares", "chunk_labels", "to_vote", "blend"],
    "hubness": ["chunk_hubness", "hubness"],
    "probes covered": ["covered_probes"],
    "near-duplicates": ["find_near_duplicates"],
    "write": ["write_build"],
}
GROUP_NAMES = {"passages": "passages", "questions": "FAQ questions", "examples": "taxonomy examples",
               "probes": "off-domain probes", "words": "word-bridge words", "pseudo": "pseudo-queries (headings)"}


class StageClock:
    """Exclusive wall time per stage: time spent in a nested timed stage counts for that stage only."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.embedded: dict[str, int] = defaultdict(int)
        self.texts: dict[str, int] = defaultdict(int)
        self.passages: list[str] = []
        self._stack: list[list[float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._stack.append([time.perf_counter(), 0.0])
        try:
            yield
        finally:
            start, inner = self._stack.pop()
            elapsed = time.perf_counter() - start
            self.seconds[name] += elapsed - inner
            if self._stack:
                self._stack[-1][1] += elapsed

    def timed(self, name: str, fn: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            with self.stage(name):
                return fn(*args, **kwargs)
        return wrapper


def _group_of(texts: object, frame) -> str:
    """The embedding group a get_or_embed call is for: the name of the caller's variable holding the texts."""
    names = [k for k, v in frame.f_back.f_locals.items() if v is texts] if frame else []
    return GROUP_NAMES.get(names[0], names[0]) if names else "unnamed group"


@contextmanager
def instrumented(clock: StageClock) -> Iterator[None]:
    """Wrap the functions build_index calls with the clock's timers for the duration of the block."""
    with ExitStack() as undo:
        def patch(owner: object, attr: str, value: object) -> None:
            old = getattr(owner, attr)  # a renamed function fails here rather than going untimed
            setattr(owner, attr, value)
            undo.callback(setattr, owner, attr, old)

        for stage, names in STAGES.items():
            for name in names:
                patch(build, name, clock.timed(stage, getattr(build, name)))
        for method in ("add", "search"):
            patch(FaissStore, method, clock.timed("FAISS/store", getattr(FaissStore, method)))
        original = EmbeddingCache.get_or_embed

        def get_or_embed(cache, mode, texts, *args, **kwargs):
            group = _group_of(texts, inspect.currentframe())
            with clock.stage(f"embed: {group}"):
                vecs, n = original(cache, mode, texts, *args, **kwargs)
            clock.embedded[group] += n
            clock.texts[group] += len(texts)
            if group == "passages":
                clock.passages = list(texts)
            return vecs, n

        patch(EmbeddingCache, "get_or_embed", get_or_embed)
        yield


def timed_build(settings, force: bool = False) -> tuple[float, StageClock, object]:
    """Run build_index under the stage clock: total seconds, the clock, the report."""
    clock = StageClock()
    with instrumented(clock):
        t0 = time.perf_counter()
        report = build.build_index(settings, force=force)
        total = time.perf_counter() - t0
    clock.seconds["other"] = max(0.0, total - sum(clock.seconds.values()))
    return total, clock, report


def raw_engine(settings, texts: list[str]) -> dict:
    """Chunk tokens and the embedder's own throughput on texts, all passed in one call."""
    embedder = build.get_embedder(settings.embedder)
    tokens = sum(embedder.token_count(t) for t in texts)
    t0 = time.perf_counter()
    embedder.embed_passages(texts)
    seconds = time.perf_counter() - t0
    return {"texts": len(texts), "tokens": tokens, "seconds": seconds,
            "tokens_per_s": tokens / seconds, "texts_per_s": len(texts) / seconds}


def changed_copy(corpus: Path, into: Path) -> str:
    """Copy the corpus and append a sentence to its first searchable file; that file's name."""
    shutil.copytree(corpus, into)
    for path in sorted(p for p in into.rglob("*") if p.suffix in (".md", ".txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not is_taxonomy(text):
            path.write_text(text + APPENDED, encoding="utf-8")
            return str(path.relative_to(into))
    raise SystemExit(f"no .md/.txt file to change in {corpus}")


def measure(corpus: Path, index: Path) -> dict:
    """The full ingest by stage, the raw engine, the no-op and one-changed-file re-ingests."""
    load_before = os.getloadavg()
    settings = load_settings().replace(corpus_dir=corpus, index_dir=index)
    total, clock, report = timed_build(settings, force=True)
    raw = raw_engine(settings, clock.passages)
    noop, _, noop_report = timed_build(settings)
    with tempfile.TemporaryDirectory(prefix="kb-bench-corpus-") as tmp:
        changed_file = changed_copy(corpus, Path(tmp) / "corpus")
        changed, changed_clock, changed_report = timed_build(settings.replace(corpus_dir=Path(tmp) / "corpus"))
    return {
        "corpus": str(corpus), "files": report.files, "chunks": report.chunks, "parents": report.parents,
        "load_average": {"before": load_before, "after": os.getloadavg(), "cpus": os.cpu_count()},
        "ingest": {"seconds": total, "stages": dict(clock.seconds), "embedded": dict(clock.embedded),
                   "texts": dict(clock.texts), "tokens_per_s": raw["tokens"] / total},
        "raw_engine": raw, "ratio": raw["tokens"] / total / raw["tokens_per_s"],
        "noop": {"seconds": noop, "noop": noop_report.noop},
        "changed": {"seconds": changed, "file": changed_file, "embedded": changed_report.embedded,
                    "stages": dict(changed_clock.seconds)},
    }


def verdict(value: float, limit: float, at_least: bool = False) -> str:
    """"met" or "MISSED" for a figure against its target."""
    met = value >= limit if at_least else value <= limit
    return "met" if met else "MISSED"


def print_table(r: dict) -> None:
    """The stage table, the raw engine and the ratio, the re-ingests, each against its target."""
    ing, raw = r["ingest"], r["raw_engine"]
    la = r["load_average"]
    print(f"corpus {r['corpus']}: {r['files']} files, {r['chunks']} chunks + {r['parents']} whole sections; "
          f"load average {la['before'][0]:.2f} before, {la['after'][0]:.2f} after ({la['cpus']} CPUs)")
    print(f"{'stage':46} {'seconds':>9} {'share':>7} {'embedded':>9} {'texts':>7} {'1 changed':>10}")
    for name, secs in sorted(ing["stages"].items(), key=lambda kv: -kv[1]):
        group = name.removeprefix("embed: ")
        embedded = f"{ing['embedded'][group]:9d}" if group in ing["embedded"] else " " * 9
        texts = f"{ing['texts'][group]:7d}" if group in ing["texts"] else " " * 7
        print(f"{name:46} {secs:9.2f} {secs / ing['seconds']:7.1%} {embedded} {texts} "
              f"{r['changed']['stages'].get(name, 0.0):10.2f}")
    print(f"{'total (build_index)':46} {ing['seconds']:9.2f} {1:7.1%} {sum(ing['embedded'].values()):9d} "
          f"{sum(ing['texts'].values()):7d} {r['changed']['seconds']:10.2f}")
    print(f"raw engine: {raw['texts']} passage texts, {raw['tokens']} tokens in {raw['seconds']:.1f} s = "
          f"{raw['tokens_per_s']:.0f} tokens/s, {raw['texts_per_s']:.2f} texts/s")
    print(f"whole ingest: {ing['tokens_per_s']:.0f} chunk tokens/s, {raw['texts'] / ing['seconds']:.2f} chunks/s; "
          f"ingest / raw engine = {r['ratio']:.1%} (target >= {TARGET_RATIO:.0%}: {verdict(r['ratio'], TARGET_RATIO, True)})")
    print(f"no-op re-ingest {r['noop']['seconds']:.2f} s (target <= {TARGET_NOOP_S:.0f} s: "
          f"{verdict(r['noop']['seconds'], TARGET_NOOP_S)}; no-op={r['noop']['noop']})")
    print(f"one changed file ({r['changed']['file']}) re-ingested in {r['changed']['seconds']:.2f} s, "
          f"{r['changed']['embedded']} texts embedded (target <= {TARGET_CHANGED_S:.0f} s: "
          f"{verdict(r['changed']['seconds'], TARGET_CHANGED_S)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description="Time each ingest stage against the raw engine.")
    parser.add_argument("--corpus", type=Path, required=True, help="folder of .txt/.md files")
    parser.add_argument("--index", type=Path, help="index folder to build into (default: a fresh temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus} is not a folder")
    if args.index and (args.index / "cache").exists():
        parser.error(f"--index {args.index} already has an embedding cache; give an empty or new folder")
    with tempfile.TemporaryDirectory(prefix="kb-bench-ingest-") as tmp:
        result = measure(args.corpus.resolve(), args.index or Path(tmp) / "index")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
