"""The page's generative mode in a real browser: Debian chromium via Playwright, the page talking to a real llama.cpp
server (tests/llm.py); the sources show while the answer streams in, then the timings."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pages import ARTIFACTS, CHROMIUM, STEP_MS, browser_page, running_app


@pytest.fixture
def generating_server(seed_index: Path, llm_env: dict[str, str], tmp_path: Path):
    """`streamlit run app.py` with a language model configured."""
    with running_app(seed_index, tmp_path, llm_env | {"KB_LLM_MAX_TOKENS": "160"}) as url:
        yield url


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_generative_mode_streams_an_answer_after_showing_its_sources(generating_server: str) -> None:
    from playwright.sync_api import expect

    with browser_page(generating_server) as page:
        page.get_by_text("生成回答 (generate)").click()
        page.get_by_role("button", name="为什么训练大模型需要大显存？").click()
        # while the model writes, the stop button, the topic badge and the sources are already on the page
        expect(page.get_by_role("button", name="停止生成 (stop)")).to_be_visible(timeout=STEP_MS)
        expect(page.get_by_text("来源 (sources)")).to_be_visible()
        expect(page.get_by_text("主题 (topic):").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "generate-streaming.png"), full_page=True)
        timing = page.get_by_text("首字 (first token)")
        expect(timing).to_be_visible(timeout=STEP_MS)
        expect(page.get_by_role("button", name="停止生成 (stop)")).to_have_count(0)
        assert "生成 (generated)" in timing.inner_text()
        answer = page.locator("[data-testid='stMarkdownContainer']").filter(has=page.locator("p")).nth(0)
        assert answer.inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "generate.png"), full_page=True)
