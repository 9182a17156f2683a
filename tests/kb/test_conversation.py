"""Follow-up questions without a language model, through the library and `kb ask --history`, and `--generate`
with no model configured: the extractive answer stands and a warning says why."""
import json
import os
import subprocess
import sys

from kb import conversation
from kb.core.config import ROOT
from tests.kb.test_cli import KEYS

FOLLOW_UP = "那它和 DPO 有什么区别？"
ANSWERED_FOLLOW_UP = "那它的奖励模型怎么训练？"  # answered once the previous subject is borrowed
GENERATED_KEYS = {"text", "citations", "grounded", "model", "ttft_ms", "total_ms"}


def run_cli(args: list[str], seed_index) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_LLM_")} | {"KB_INDEX_DIR": str(seed_index)}
    return subprocess.run([sys.executable, "-m", "kb", *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)


def test_a_follow_up_borrows_the_previous_subject_and_says_so(kb) -> None:
    alone = kb.ask(FOLLOW_UP)
    ans = conversation.ask(kb, FOLLOW_UP, [conversation.Turn("RLHF 具体分几步走？")])
    assert alone.abstained  # on its own the question has no subject to look up
    # the seed corpus never names DPO, so the rewritten question is related too, but now to the RLHF passages
    assert ans.question == FOLLOW_UP and "RLHF" in ans.standalone_question and "DPO" in ans.standalone_question
    assert any(w.startswith("理解为") for w in ans.warnings)
    assert "RLHF" in ans.sources[0].title


def test_a_question_with_its_own_subject_is_searched_as_asked(kb) -> None:
    ans = conversation.ask(kb, "为什么训练大模型需要大显存？", [conversation.Turn("RLHF 具体分几步走？")])
    assert ans.standalone_question == "为什么训练大模型需要大显存？" and not ans.warnings


def test_history_file_and_generate_without_a_model_keep_the_contract(seed_index, tmp_path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps([{"question": "RLHF 具体分几步走？", "answer": "分三步。"}], ensure_ascii=False))
    out = run_cli(["ask", ANSWERED_FOLLOW_UP, "--json", "--generate", "--history", str(history)], seed_index)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert KEYS <= obj.keys() and obj["error"] is None and obj["generated"] is None and obj["answer"]
    assert obj["question"] == ANSWERED_FOLLOW_UP and "RLHF" in obj["standalone_question"] and not obj["abstained"]
    assert any("no language model configured" in w for w in obj["warnings"]), obj["warnings"]


def test_an_unreadable_history_file_is_a_message(seed_index, tmp_path) -> None:
    history = tmp_path / "history.json"
    history.write_text('{"question": "not a list"}')
    out = run_cli(["ask", FOLLOW_UP, "--history", str(history)], seed_index)
    assert out.returncode == 2 and "history must be a JSON list" in out.stderr and "Traceback" not in out.stderr
