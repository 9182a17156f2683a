"""The page in a real browser: Debian chromium via Playwright against `streamlit run app.py` over the seed index."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pages import ARTIFACTS, CHROMIUM, STEP_MS, launch_chromium, running_app


@pytest.fixture
def server(seed_index: Path, tmp_path: Path):
    """`streamlit run app.py` over the seed index."""
    with running_app(seed_index, tmp_path) as url:
        yield url


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_ask_then_browse_a_topic_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(STEP_MS)
            page.goto(server, timeout=STEP_MS)
            page.get_by_role("button", name="为什么训练大模型需要大显存？").click()
            expect(page.get_by_text("主题 (topic):").first).to_be_visible(timeout=STEP_MS)
            expect(page.get_by_text("来源 (sources)")).to_be_visible(timeout=STEP_MS)
            expect(page.get_by_text("训练大型深度学习模型需要大量的显存").first).to_be_visible(timeout=STEP_MS)
            expect(page.get_by_text("相关度 (score)").first).to_be_visible(timeout=STEP_MS)
            page.screenshot(path=str(ARTIFACTS / "ask.png"), full_page=True)

            page.get_by_text("按主题浏览 (Browse)").click()
            expect(page.get_by_text("页码 (page").first).to_be_visible(timeout=STEP_MS)
            page.get_by_role("combobox").first.click()
            page.get_by_role("option", name="模型隐私与安全").click()
            query = page.get_by_label("在主题内搜索 (search within the topic, optional)")
            query.fill("差分隐私")
            query.press("Enter")
            expect(page.get_by_text("找到").first).to_be_visible(timeout=STEP_MS)
            expect(page.get_by_text("主题 (topic) 模型隐私与安全").first).to_be_visible(timeout=STEP_MS)
            page.screenshot(path=str(ARTIFACTS / "browse.png"), full_page=True)
        finally:
            browser.close()
