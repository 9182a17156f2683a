"""A loaded build grown to N chunks in memory, for timing query cost against corpus size (benchmarks/speed.py).

Each extra chunk is a copy of a real chunk of the build: its own id, source, section, FAQ group and entry, a fifth of
its lexical tokens dropped at random, and each of its vectors moved by Gaussian noise to cosine about 0.92 with the
original. So BM25 posting lists, the dense search and the candidate sets grow as in a corpus N chunks large, while
every question still finds the content it was written for. Word, example and probe vectors stay those of the build.
Nothing is embedded and nothing is written to disk.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from kb.core.index import IndexData
from kb.core.store import FaissStore

TOKEN_DROP = 0.2  # share of a copy's lexical tokens left out
COPY_COSINE = 0.92  # expected cosine of a copy's vector with the original


def grown(data: IndexData, n_chunks: int, seed: int = 0) -> IndexData:
    """The build with copies of its chunks appended (perturbed as above) until it holds n_chunks."""
    if n_chunks <= len(data.chunks):
        return data
    rng = np.random.default_rng(seed)
    base = data.vectors.vectors(range(len(data.vectors)))
    dim = base.shape[1]
    sigma = np.tan(np.arccos(COPY_COSINE)) / np.sqrt(dim)
    rows_of: dict[int, list[int]] = {}
    for row, pos in enumerate(data.row_chunk):
        rows_of.setdefault(int(pos), []).append(row)
    chunks, tokens = list(data.chunks), list(data.tokens)
    row_chunk, row_kind, vectors = list(data.row_chunk), list(data.row_kind), [base]
    copy = 0
    while len(chunks) < n_chunks:
        copy += 1
        tag = f"#copy{copy}"
        for pos, c in enumerate(data.chunks[:n_chunks - len(chunks)]):
            chunks.append(dataclasses.replace(c, id=c.id + tag, source=c.source + tag, section=c.section + tag,
                                              group=c.group and c.group + tag, entry=c.entry and c.entry + tag))
            kept = [t for t in data.tokens[pos] if rng.random() >= TOKEN_DROP]
            tokens.append(kept or list(data.tokens[pos][:1]))
            rows = rows_of.get(pos, [])
            moved = base[rows] + rng.normal(0.0, sigma, (len(rows), dim)).astype(np.float32)
            vectors.append(moved / np.linalg.norm(moved, axis=1, keepdims=True))
            row_chunk += [len(chunks) - 1] * len(rows)
            row_kind += [data.row_kind[r] for r in rows]
    store = FaissStore(dim)
    store.add(np.vstack(vectors).astype(np.float32))
    return dataclasses.replace(data, chunks=chunks, tokens=tokens, row_chunk=np.asarray(row_chunk), row_kind=row_kind,
                               vectors=store)
