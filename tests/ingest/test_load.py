import os

from ingest.load import decode, load_corpus

TEXT = "在現實世界中，如何部署一個基於 LLM 的應用？需要考慮數據隱私和推理速度。" * 3


def test_decodes_cjk_encodings():
    for enc in ("utf-8", "gb18030", "big5", "utf-16"):
        text, used = decode(TEXT.encode(enc))
        assert text == TEXT, enc


def test_binary_is_rejected():
    assert decode(os.urandom(4096)) is None
    assert decode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8) is None


def test_corpus_skips_bad_files_and_goes_on(tmp_path):
    (tmp_path / "good.md").write_text("# 标题\n正文。", encoding="utf-8")
    (tmp_path / "gbk.txt").write_bytes("训练大模型需要大显存。".encode("gb18030") * 5)
    (tmp_path / "blob.txt").write_bytes(os.urandom(2048))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    outside = tmp_path.parent / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(outside)
    docs, skipped = load_corpus(tmp_path)
    assert sorted(d.source for d in docs) == ["gbk.txt", "good.md"]
    assert [s.source for s in skipped] == ["blob.txt"]
    assert "binary" in skipped[0].reason
