"""python -m kb.eval FILE.jsonl [--mode hybrid|dense|lexical] [--json] [-v]

Recall@1, Recall@5, MRR@10, topic accuracy, out-of-scope abstention and false abstention
on a question set in the format of ../shared/eval/README.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kb.core.errors import KBError
from kb.core.questions import Case, read_cases
from kb.core.textnorm import anchor_form
from kb.knowledge import KnowledgeBase


def first_hit_rank(texts: list[str], anchors: list[str]) -> int | None:
    """1-based rank of the first text containing any anchor (compared in anchor form), or None."""
    forms = [anchor_form(a) for a in anchors if anchor_form(a)]
    for rank, text in enumerate(texts, 1):
        t = anchor_form(text)
        if any(a in t for a in forms):
            return rank
    return None


def evaluate_file(kb: KnowledgeBase, path: Path, mode: str = "hybrid", verbose: bool = False) -> dict:
    """evaluate() on a question-set file."""
    return evaluate(kb, read_cases(path), mode, verbose)


def evaluate(kb: KnowledgeBase, cases: list[Case], mode: str = "hybrid", verbose: bool = False) -> dict:
    """Metrics over the cases; in-scope cases have anchors, out-of-scope ones have none."""
    r1 = r5 = mrr = topic_ok = in_scope = oos = oos_abstained = false_abst = near = near_refused = near_related = 0
    shown = shown_of = 0
    rows = []
    for case in cases:
        if mode == "hybrid":
            ans = kb.ask(case.q, k=10)
            texts = [s.text for s in ans.sources]
            abstained, topic, reason, answer = ans.abstained, ans.topic["id"], ans.abstain_reason, ans.answer
        else:
            qvec, ret = kb.retrieve(case.q, 10, mode=mode)
            texts, abstained, topic, reason = [h.chunk.text for h in ret.hits], False, kb.vote(qvec, ret).id, None
            answer = None
        if case.kind == "near_domain":
            near += 1
            near_refused += abstained
            near_related += reason == "not_covered"
        if not case.anchors:
            oos += 1
            oos_abstained += abstained
            rows.append((case, None, abstained, topic))
            continue
        in_scope += 1
        rank = first_hit_rank(texts, case.anchors)
        r1 += rank == 1
        r5 += rank is not None and rank <= 5
        mrr += 1.0 / rank if rank else 0.0
        topic_ok += topic == case.topic or topic in case.topic_alt
        false_abst += abstained
        if rank == 1 and answer and not abstained:  # the first source answers: does the answer text show it?
            shown_of += 1
            shown += first_hit_rank([answer], case.anchors) == 1
        rows.append((case, rank, abstained, topic))
    if verbose:
        for case, rank, abstained, topic in rows:
            ok_topic = case.topic is None or topic == case.topic or topic in case.topic_alt
            if (case.anchors and (rank != 1 or abstained)) or not ok_topic or (not case.anchors and not abstained):
                print(f"{case.id}\trank={rank}\tabst={abstained}\ttopic={topic} (want {case.topic})\t{case.q}", file=sys.stderr)
    n = max(in_scope, 1)
    return {
        "cases": len(cases), "in_scope": in_scope, "out_of_scope": oos,
        "recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), "mrr@10": round(mrr / n, 4),
        "topic_accuracy": round(topic_ok / n, 4),
        "oos_abstention": round(oos_abstained / oos, 4) if oos else None,
        "false_abstentions": false_abst,
        # near-domain questions (kind near_domain): not presented as answered, and told apart as "related"
        "near_domain_refused": round(near_refused / near, 4) if near else None,
        "near_domain_related": round(near_related / near, 4) if near else None,
        # answered questions whose first source holds an anchor: the share whose answer text shows it too
        "answer_shows_anchor": round(shown / shown_of, 4) if shown_of else None, "answer_checked": shown_of,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kb.eval", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index", type=Path)
    parser.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the cases that miss")
    args = parser.parse_args(argv)
    try:
        kb = KnowledgeBase.load(index_dir=args.index)
    except KBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in args.files:
        metrics = evaluate_file(kb, path, args.mode, args.verbose)
        if args.json:
            print(json.dumps({"file": str(path), "mode": args.mode, **metrics}, ensure_ascii=False))
        else:
            print(f"{path} ({args.mode}): " + "  ".join(f"{k} {v}" for k, v in metrics.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
