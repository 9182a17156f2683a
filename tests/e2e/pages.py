"""The page under test: `streamlit run app.py` on a free port, and Debian chromium to look at it."""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kb.core.config import ROOT
from tests.servers import free_port, stop, wait_until_up

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_SECONDS = 90
STEP_MS = 90_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextmanager
def running_app(index_dir: Path, log_dir: Path, env: dict[str, str] | None = None,
                corpus: Path = ROOT / "data" / "seed") -> Iterator[str]:
    """The page's URL while `streamlit run app.py` serves index_dir; always stopped afterwards."""
    port = free_port()
    env = os.environ | (env or {}) | {"KB_INDEX_DIR": str(index_dir), "KB_CORPUS_DIR": str(corpus)}
    log = open(log_dir / "streamlit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/_stcore/health", proc, "streamlit", STARTUP_SECONDS)
        yield url
    finally:
        stop(proc, 10)
        log.close()


@contextmanager
def browser_page(url: str) -> Iterator:
    """A Playwright page of headless Debian chromium (with the flags this machine's closed network needs), opened
    at url; the browser is always closed afterwards."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(STEP_MS)
            page.goto(url, timeout=STEP_MS)
            yield page
        finally:
            browser.close()
