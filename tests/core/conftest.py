"""A real Chroma server (the `chroma` CLI from the venv), started once per session for the tests that need one."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import free_port, stop, wait_until_up

CHROMA_CLI = Path(sys.executable).parent / "chroma"


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
        wait_until_up(f"{url}/api/v2/heartbeat", proc, "chroma run")
        yield url
    finally:
        stop(proc, 15)
        log.close()
