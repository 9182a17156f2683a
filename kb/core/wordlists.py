"""Word and phrase lists shipped as data files in kb/data/ (comment lines start with #)."""
from __future__ import annotations

from functools import lru_cache

from kb.core.config import PACKAGE_DATA


@lru_cache(maxsize=None)
def phrases(name: str) -> tuple[str, ...]:
    """One entry per non-empty, non-comment line of kb/data/<name>.txt."""
    text = (PACKAGE_DATA / f"{name}.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


@lru_cache(maxsize=None)
def words(name: str) -> frozenset[str]:
    """Every whitespace-separated word of kb/data/<name>.txt outside comment lines."""
    return frozenset(w for line in phrases(name) for w in line.split())
