"""Helpers for tests that run a real server process on localhost."""
from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    """A localhost port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate a server process, killing it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
