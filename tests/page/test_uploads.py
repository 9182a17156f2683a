"""Uploaded files land inside <corpus>/uploads under a safe name, decoded, or are refused with a reason."""
from pathlib import Path

import pytest

from kb.core.errors import BadInput
from page.uploads import MAX_UPLOAD_BYTES, safe_filename, save_upload

TEXT = "# 笔记\n\n大模型推理需要显存。\n"


@pytest.mark.parametrize("name, expected", [("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\a.md", "a.md"),
                                            ("中文 笔记.TXT", "中文_笔记.txt"), (".hidden.md", "hidden.md")])
def test_file_names_cannot_leave_the_uploads_folder(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_gb18030_upload_is_stored_and_decoded(tmp_path: Path) -> None:
    saved = save_upload(tmp_path, "../../etc/passwd.txt", TEXT.encode("gb18030"))
    assert saved.path == (tmp_path / "uploads" / "passwd.txt").resolve() and saved.source == "uploads/passwd.txt"
    assert saved.encoding == "gb18030" and saved.chars == len(TEXT)


@pytest.mark.parametrize("name, raw, reason", [("a.pdf", b"%PDF-1.4", "only"), ("b.txt", bytes(range(256)) * 8, "binary"),
                                               ("c.md", b" \n", "empty"), ("d.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "limit")])
def test_unusable_uploads_are_refused_with_the_reason(tmp_path: Path, name: str, raw: bytes, reason: str) -> None:
    with pytest.raises(BadInput, match=reason):
        save_upload(tmp_path, name, raw)
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())
