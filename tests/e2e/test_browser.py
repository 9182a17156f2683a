"""The page in a real browser: Debian chromium via Playwright against `streamlit run app.py` over the seed index."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pages import ARTIFACTS, CHROMIUM, STEP_MS, browser_page, running_app


@pytest.fixture
def server(seed_index: Path, tmp_path: Path):
    """`streamlit run app.py` over the seed index."""
    with running_app(seed_index, tmp_path) as url:
        yield url


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_ask_then_browse_a_topic_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import expect

    with browser_page(server) as page:
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


@pytest.fixture
def cooking_server(tmp_path: Path):
    """`streamlit run app.py` over a new corpus (a copy of the small cooking corpus), built before the page starts."""
    import shutil

    from ingest.build import build_index
    from tests.conftest import DATA, REPO_INDEX_CACHE, settings

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(DATA / "cooking", corpus)
    if (REPO_INDEX_CACHE / "embeddings.sqlite").exists():
        shutil.copytree(REPO_INDEX_CACHE, index / "cache")
    build_index(settings(index, corpus))
    with running_app(index, tmp_path, corpus=corpus) as url:
        yield url, corpus


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_a_new_corpus_shows_suggested_categories_and_takes_them_as_its_taxonomy(cooking_server) -> None:
    from playwright.sync_api import expect

    url, corpus = cooking_server
    with browser_page(url) as page:
        page.get_by_text("知识库 (Corpus)").click()
        expect(page.get_by_text("建议的主题 (suggested categories)").first).to_be_visible(timeout=STEP_MS)
        expect(page.get_by_text("采用建议的主题 (use these as the taxonomy)")).to_be_visible(timeout=STEP_MS)
        expect(page.get_by_text("主题分类 (taxonomy)")).to_be_visible(timeout=STEP_MS)
        for grid in page.locator("[data-testid='stDataFrame']").all():  # the tables draw on a canvas, lazily
            grid.scroll_into_view_if_needed()
            expect(grid.locator("canvas").first).to_be_visible(timeout=STEP_MS)
        expect(page.locator(".vega-embed").first).to_be_visible(timeout=STEP_MS)
        page.get_by_text("建议的主题 (suggested categories)").first.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(1500)  # the charts' and tables' first paint
        page.screenshot(path=str(ARTIFACTS / "corpus-suggestions.png"), full_page=True)

        page.get_by_role("button", name="采用建议的主题 (use these as the taxonomy)").click()
        expect(page.get_by_text("主题已重新投票 (topics re-voted)")).to_be_visible(timeout=STEP_MS)
        expect(page.get_by_text("s01").first).to_be_visible(timeout=STEP_MS)
        page.screenshot(path=str(ARTIFACTS / "corpus-taxonomy.png"), full_page=True)
    assert (corpus / "taxonomy.yaml").exists()
