"""Per-embedder calibration: tuned thresholds and weights, kept as data (kb/data/calibration/<embedder>.json).

Cosine thresholds and learned weights depend on the embedder's similarity scale, so they are stored per embedder
and written by the fit scripts (benchmarks/). An embedder with no file gets default.json: checks that rely on a
cosine scale are then off, everything else runs. docs/quality.md explains each value and how it was measured.
"""
from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from kb.core.config import PACKAGE_DATA

log = logging.getLogger(__name__)

CALIBRATION_DIR = PACKAGE_DATA / "calibration"
DEFAULT = "default"


def calibration_name(embedder: str) -> str:
    """File stem for an embedder config name: "sentence-transformers:BAAI/bge-small-zh" -> "sentence-transformers_BAAI_bge-small-zh"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", embedder).strip("_") or DEFAULT


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def _read(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items() if not k.startswith("_")}


@lru_cache(maxsize=16)
def load_calibration(embedder: str, folder: Path = CALIBRATION_DIR) -> "Calibration":
    """The embedder's calibration over the defaults; logs a warning once when the embedder has none."""
    base = _read(folder / f"{DEFAULT}.json")
    path = folder / f"{calibration_name(embedder)}.json"
    if not path.exists():
        log.warning("no calibration for embedder %r (%s): using defaults, cosine-scale checks are off; "
                    "see docs/quality.md, Calibration", embedder, path.name)
        return Calibration(embedder, base, calibrated=False)
    own = _read(path)
    if "same_as" in own:  # the same model reached another way (e.g. served over HTTP): its calibration
        return Calibration(embedder, load_calibration(own["same_as"], folder).values, calibrated=True)
    return Calibration(embedder, _merge(base, own), calibrated=True)


class Calibration:
    """Read-only view of one embedder's tuned values, grouped by stage (retrieval, answerability, topics)."""

    def __init__(self, embedder: str, values: dict[str, Any], calibrated: bool) -> None:
        self.embedder = embedder
        self.values = values
        self.calibrated = calibrated

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]


def update_calibration(embedder: str, section: str, values: dict[str, Any], folder: Path = CALIBRATION_DIR) -> Path:
    """Write fitted values into the embedder's calibration file (the fit scripts call this)."""
    path = folder / f"{calibration_name(embedder)}.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current[section] = _merge(current.get(section, {}), values)
    path.write_text(json.dumps(current, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    load_calibration.cache_clear()
    return path
