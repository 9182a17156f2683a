"""Conversations with a real llama.cpp server (tests/llm.py): the follow-up condensed by the model, and
`kb ask --json --generate` adding the generated object (or, when the model is too slow, a warning) to the contract."""
import json
import os
import subprocess
import sys

from kb import conversation
from kb.answering.generate import Generator
from kb.core.config import ROOT, load_settings
from tests.answering.test_generate import RecordedMessages
from tests.kb.test_cli import KEYS
from tests.kb.test_conversation import FOLLOW_UP, GENERATED_KEYS

PREVIOUS = conversation.Turn("RLHF 具体分几步走？", "RLHF 分三步：预训练、训练奖励模型、用强化学习微调。")


def run_cli(args: list[str], seed_index, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb", *args], capture_output=True, text=True, cwd=ROOT,
                          env=os.environ | env | {"KB_INDEX_DIR": str(seed_index)}, timeout=300)


def test_a_follow_up_is_condensed_with_the_conversation(kb, llm_env) -> None:
    recorder = RecordedMessages()
    ans = conversation.ask(kb, FOLLOW_UP, [PREVIOUS], Generator(load_settings(), [recorder]))
    (condense,) = recorder.sent  # one call: the rewrite; the grounded answer comes later
    sent = condense[-1].content
    assert PREVIOUS.question in sent and PREVIOUS.answer in sent and sent.index(PREVIOUS.question) < sent.index(FOLLOW_UP)
    assert ans.question == FOLLOW_UP and ans.standalone_question and ans.standalone_question != FOLLOW_UP
    assert "DPO" in ans.standalone_question  # the follow-up's own subject survives the rewrite


def test_generate_json_adds_the_generated_object(seed_index, llm_env) -> None:
    out = run_cli(["ask", "为什么训练大模型需要大显存？", "--json", "--generate"], seed_index, llm_env)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert KEYS <= obj.keys() and obj["error"] is None and obj["answer"] and obj["standalone_question"] is None
    generated = obj["generated"]
    assert set(generated) == GENERATED_KEYS and generated["text"] and generated["model"] == "gemma-3-270m"
    assert all(1 <= c <= len(obj["sources"]) for c in generated["citations"])
    assert generated["grounded"] == bool(generated["citations"]) and 0 < generated["ttft_ms"] <= generated["total_ms"]


def test_generate_json_with_a_one_second_timeout_keeps_the_extract(seed_index, llm_env) -> None:
    out = run_cli(["ask", "为什么训练大模型需要大显存？", "--json", "--generate"], seed_index, llm_env | {"KB_LLM_TIMEOUT": "1"})
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert KEYS <= obj.keys() and obj["error"] is None and obj["generated"] is None and obj["answer"]
    assert any("within 1 s" in w for w in obj["warnings"]) and "Traceback" not in out.stderr
