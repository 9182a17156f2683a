"""The page in a real browser: Debian chromium via Playwright against `streamlit run app.py` over the seed index."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kb.core.config import ROOT
from tests.servers import free_port, stop

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_SECONDS = 90
STEP_MS = 90_000


def wait_healthy(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {STARTUP_SECONDS} s")


@pytest.fixture
def server(seed_index: Path, tmp_path: Path):
    """`streamlit run app.py` on a free port, always stopped afterwards."""
    port = free_port()
    env = os.environ | {"KB_INDEX_DIR": str(seed_index), "KB_CORPUS_DIR": str(ROOT / "data" / "seed")}
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        yield url
    finally:
        stop(proc, 10)
        log.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_ask_then_browse_a_topic_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
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
