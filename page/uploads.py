"""Files a user adds to the corpus through the page: size and type checks, decoding, safe names."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.load import decode
from kb.core.errors import BadInput

UPLOADS = "uploads"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ALLOWED_SUFFIXES = (".txt", ".md")
_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff.-]+")


@dataclass(frozen=True)
class SavedUpload:
    path: Path  # where the file landed, inside <corpus>/uploads
    source: str  # its name relative to the corpus folder, as the index reports it
    encoding: str  # the encoding it was decoded from
    chars: int


def safe_filename(name: str) -> str:
    """A plain file name from whatever the browser sent: no folders, no '..', no hidden or odd characters."""
    base = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").split("/")[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._") or "upload"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem[:80]}.{suffix}" if suffix else stem[:80]


def save_upload(corpus_dir: Path, name: str, raw: bytes) -> SavedUpload:
    """Check and store one uploaded .txt/.md file under <corpus>/uploads; BadInput says why a file is refused."""
    filename = safe_filename(name)
    if not filename.lower().endswith(ALLOWED_SUFFIXES):
        raise BadInput(f"{name!r}: only {', '.join(ALLOWED_SUFFIXES)} files can be added")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise BadInput(f"{name!r} is {len(raw) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not raw.strip():
        raise BadInput(f"{name!r} is empty")
    decoded = decode(raw)
    if decoded is None:
        raise BadInput(f"{name!r} is binary or not UTF-8/GB18030/Big5/UTF-16 text")
    text, encoding = decoded
    folder = (Path(corpus_dir) / UPLOADS).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    if target.parent != folder:  # defence in depth: safe_filename never yields a path
        raise BadInput(f"{name!r} is not a usable file name")
    target.write_bytes(raw)
    return SavedUpload(target, f"{UPLOADS}/{filename}", encoding, len(text))
