"""Several people on the page at once: each browser session gets its own answers, none sees another's, no error box."""
from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import time
from dataclasses import dataclass, field

import pytest

from tests.e2e.pages import ARTIFACTS, CHROMIUM
from tests.e2e.test_browser import server  # noqa: F401 - `server` is a fixture used below

# Four sessions, three questions each, all different and none of them one of the page's example buttons. Every
# question has its own badge, answer title and top source, so an answer shown in the wrong session cannot pass.
SESSIONS = [
    ["知识蒸馏是什么", "张量并行和数据并行有啥不一样", "差分隐私是怎么保护训练数据的"],
    ["训练老卡在局部最优出不来，学习率能不能忽大忽小地调？", "在云上租GPU训练模型，基础设施本身有啥安全风险",
     "上线后收集用户反馈，能帮模型变得更公平吗"],
    ["混淆矩阵包含哪几个值", "GDPR 对训练大模型的数据有什么要求", "奖励模型在 RLHF 里起什么作用"],
    ["招聘模型对不同性别的候选人打分不一样怎么办", "多模态的标注数据为什么这么难搞", "训练和推理对硬件的要求差在哪？推理能不能用CPU"],
]
OPEN_MS = 60_000  # first page load, which also loads the knowledge base in the server
STEP_MS = 30_000  # one question: submit until the answer is rendered and the script has finished
WHOLE_RUN_S = 100  # every session, start to finish


@dataclass
class Asked:
    session: int
    question: str
    seconds: float  # submit -> answer rendered
    shown: str  # the page's text once the run finished, whitespace collapsed
    history: str  # the sidebar's text (the session's question history)

    @property
    def ask_ms(self) -> int | None:
        """The time kb.ask took in the server, as the page reports it under the answer."""
        found = re.search(r"用时 \(time taken\): (\d+) ms", self.shown)
        return int(found.group(1)) if found else None


@dataclass
class SessionRun:
    open_seconds: float = 0.0
    asked: list[Asked] = field(default_factory=list)
    exceptions: int = 0


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def document(src) -> str:
    """A source's document as the page names it: its title, then the file (the file alone when untitled)."""
    return src.source if src.source_title in ("", src.source) else f"{src.source_title} ({src.source})"


def expected_lines(answer) -> list[str]:
    """What the page must show for this answer: topic badge, answer title, sources in rank order."""
    topic = answer.topic
    uncertain = " · 不确定 (uncertain)" if topic["uncertain"] else ""
    lines = [f"主题 (topic): {topic['name']} · {topic['confidence']:.0%}{uncertain}", answer.title]
    lines += [f"{rank}. {document(src)} › {src.title or '—'}" for rank, src in enumerate(answer.sources, 1)]
    return [flat(line) for line in lines]


async def wait_idle(page) -> None:
    """Until the script run for this session has finished (stale elements are gone then)."""
    await page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=STEP_MS)


async def run_session(browser, url: str, number: int, questions: list[str], go: asyncio.Event,
                      ready: list[int]) -> SessionRun:
    """One user: open the page, wait for everyone, then ask each question and record what the page showed."""
    from playwright.async_api import expect

    run = SessionRun()
    context = await browser.new_context(viewport={"width": 1300, "height": 1000})
    try:
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        t0 = time.perf_counter()
        await page.goto(url, timeout=OPEN_MS)
        box = page.get_by_label("问题 (question)")
        await expect(box).to_be_visible(timeout=OPEN_MS)
        await wait_idle(page)
        run.open_seconds = time.perf_counter() - t0
        ready.append(number)
        await go.wait()
        sidebar = page.get_by_test_id("stSidebar")
        for n, question in enumerate(questions, 1):
            await box.fill(question)
            t0 = time.perf_counter()
            await page.get_by_role("button", name="提问 (Ask)").click()
            # history is drawn after the answer, so its new count means this question's answer is on the page
            await expect(sidebar.get_by_text(f"历史 (history) · {n}")).to_be_visible(timeout=STEP_MS)
            seconds = time.perf_counter() - t0
            await wait_idle(page)
            run.asked.append(Asked(number, question, seconds, flat(await page.get_by_test_id("stMain").inner_text()),
                                   flat(await sidebar.inner_text())))
        run.exceptions = await page.get_by_test_id("stException").count()
        return run
    finally:
        await context.close()


async def load_test(url: str) -> tuple[list[SessionRun], float]:
    """All sessions in one browser, one context each; returns their runs and the seconds from go to last answer."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            go, ready = asyncio.Event(), []
            tasks = [asyncio.create_task(run_session(browser, url, i, qs, go, ready)) for i, qs in enumerate(SESSIONS)]
            while len(ready) < len(SESSIONS) and not any(t.done() for t in tasks):
                await asyncio.sleep(0.05)
            t0 = time.perf_counter()
            go.set()
            runs = await asyncio.gather(*tasks)
            return runs, time.perf_counter() - t0
        finally:
            await browser.close()


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def report(runs: list[SessionRun], seconds: float) -> dict:
    latencies = [a.seconds for r in runs for a in r.asked]
    server_ms = [a.ask_ms for r in runs for a in r.asked if a.ask_ms is not None]
    figures = {
        "sessions": len(runs), "questions": len(latencies), "seconds": round(seconds, 2),
        "answers_per_s": round(len(latencies) / seconds, 2),
        "latency_s": {"p50": round(percentile(latencies, 50), 2), "p95": round(percentile(latencies, 95), 2),
                      "max": round(max(latencies), 2)},
        "kb_ask_ms_p50": statistics.median(server_ms) if server_ms else None,
        "page_open_s": [round(r.open_seconds, 2) for r in runs],
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "asked": [{"session": a.session, "question": a.question, "seconds": round(a.seconds, 2), "kb_ask_ms": a.ask_ms}
                  for r in runs for a in r.asked],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "web_load.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return figures


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_simultaneous_sessions_each_get_their_own_answers(server: str, kb, capsys) -> None:  # noqa: F811
    expected = {q: expected_lines(kb.ask(q)) for qs in SESSIONS for q in qs}
    assert all(lines[0].startswith("主题 (topic):") and len(lines) > 2 for lines in expected.values())
    signatures = {tuple(lines[:3]) for lines in expected.values()}
    assert len(signatures) == len(expected), "every question must have its own badge, title and top source"

    runs, seconds = asyncio.run(asyncio.wait_for(load_test(server), WHOLE_RUN_S))
    figures = report(runs, seconds)
    with capsys.disabled():
        lat = figures["latency_s"]
        print(f"\n[web load] {figures['sessions']} sessions x {len(SESSIONS[0])} questions: {figures['questions']} "
              f"answers in {seconds:.1f} s ({figures['answers_per_s']} answers/s); latency p50 {lat['p50']} s, "
              f"p95 {lat['p95']} s, max {lat['max']} s (kb.ask itself: p50 {figures['kb_ask_ms_p50']} ms); "
              f"page open {figures['page_open_s']} s")

    assert [r.exceptions for r in runs] == [0] * len(SESSIONS), "a Streamlit exception box appeared"
    for number, (run, questions) in enumerate(zip(runs, SESSIONS)):
        assert [a.question for a in run.asked] == questions, f"session {number} did not get every answer"
        others = [q for qs in SESSIONS if qs is not questions for q in qs]
        for a in run.asked:
            missing = [line for line in expected[a.question] if line not in a.shown]
            assert not missing, f"session {number}, {a.question!r}: the page lacks {missing}"
            assert "无法回答" not in a.shown, f"session {number}, {a.question!r}: an error answer"
            leaked = [q for q in others if q in a.history]
            assert not leaked, f"session {number} shows other sessions' questions: {leaked}"
        assert all(q in run.asked[-1].history for q in questions), f"session {number} lost part of its history"
