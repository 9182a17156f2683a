"""The corpus map: one 2-D point per chunk, spread along the main directions of the vectors."""
import numpy as np

from kb.knowledge import KnowledgeBase
from page.projection import chunk_map, pca_2d


def test_pca_keeps_the_dominant_direction() -> None:
    rng = np.random.default_rng(0)
    x = np.outer(rng.normal(size=50), [3.0, 0, 0, 0]) + rng.normal(scale=0.01, size=(50, 4))
    xy = pca_2d(x)
    assert xy.shape == (50, 2) and xy[:, 0].std() > 100 * xy[:, 1].std()


def test_chunk_map_has_a_titled_point_per_chunk(kb: KnowledgeBase) -> None:
    points = chunk_map(kb)
    names = {t["name"] for t in kb.topics()}
    assert len(points) == len(kb.data.chunks) and {p["topic"] for p in points} <= names
    assert all(p["title"] for p in points)
