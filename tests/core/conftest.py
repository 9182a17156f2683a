"""A real Chroma server (the `chroma` CLI from the venv), started once per session for the tests that need one."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, stop

CHROMA_CLI = Path(sys.executable).parent / "chroma"


def _wait_for_heartbeat(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no Chroma heartbeat at {url} after {timeout:.0f} s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a real `chroma run` server on a free port, stopped at the end of the session."""
    if not CHROMA_CLI.exists():
        pytest.skip(f"no chroma CLI at {CHROMA_CLI}")
    port = free_port()
    url = f"http://localhost:{port}"
    log = open(tmp_path_factory.mktemp("chroma-log") / "server.log", "wb")
    proc = subprocess.Popen([str(CHROMA_CLI), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, ANONYMIZED_TELEMETRY="False"))
    try:
        _wait_for_heartbeat(url, proc)
        yield url
    finally:
        stop(proc, 15)
        log.close()
