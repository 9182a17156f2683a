"""Find the corpus files and decode them whatever their encoding (UTF-8, GB18030, Big5, UTF-16)."""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown")
# Larger files are skipped: at ~420 characters a chunk, 8 MB of Chinese is ~6,500 chunks, about 20 minutes of
# embedding on 2 cores (docs/reliability.md); split a bigger file into chapters instead.
MAX_FILE_BYTES = 8 * 1024 * 1024
# Encodings to try, in order, when UTF-8 fails; charset-normalizer arbitrates when several decode.
_CJK_ENCODINGS = ("gb18030", "big5", "utf_16")


@dataclass(frozen=True)
class Document:
    source: str  # path relative to the corpus folder, '/'-separated
    text: str
    sha256: str  # of the raw bytes
    encoding: str


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


def find_files(corpus: Path) -> list[Path]:
    """Every .txt/.md file under corpus, sorted; symlinks leading outside the corpus are not followed."""
    root = corpus.resolve()
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError):
                continue
            if root != real and root not in real.parents:
                log.warning("skipping %s: it links outside the corpus folder", path)
                continue
            found.append(path)
    return found


def _looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 with a byte-order mark
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > max(8, len(head) // 50)


def _plausible(text: str) -> bool:
    """Decoded text that is mostly letters, CJK, punctuation and spaces (not mojibake or binary)."""
    if not text:
        return True
    bad = sum(1 for ch in text[:20000] if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t"))
    return bad <= len(text[:20000]) // 200


def decode(raw: bytes) -> tuple[str, str] | None:
    """(text, encoding) or None when the bytes are not text in any supported encoding."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if _looks_binary(raw):
        return None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=list(_CJK_ENCODINGS) + ["utf_8"]).best()
    if best is not None and _plausible(str(best)):
        return str(best), best.encoding
    for enc in _CJK_ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if _plausible(text):
            return text, enc
    return None


def load_document(path: Path, corpus: Path) -> Document | Skipped:
    """Read and decode one file; a file that cannot be used comes back as Skipped with the reason."""
    source = path.resolve().relative_to(corpus.resolve()).as_posix()
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Skipped(source, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({size / 1e6:.0f} MB); split it into smaller files")
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(source, f"unreadable ({exc.strerror or exc})")
    decoded = decode(raw)
    if decoded is None:
        return Skipped(source, "binary or undecodable (not UTF-8, GB18030, Big5 or UTF-16 text)")
    text, encoding = decoded
    if not text.strip():
        return Skipped(source, "empty (no text)")
    return Document(source, text, hashlib.sha256(raw).hexdigest(), encoding)


def load_corpus(corpus: Path) -> tuple[list[Document], list[Skipped]]:
    """All usable documents under corpus, and the files skipped with reasons."""
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for path in find_files(corpus):
        result = load_document(path, corpus)
        if isinstance(result, Skipped):
            log.warning("skipping %s: %s", result.source, result.reason)
            skipped.append(result)
        else:
            docs.append(result)
    return docs, skipped
