"""Nearest-neighbour indexes side by side: recall against exact search, and query latency.

The catalog is the Fashion-MNIST training split (60,000 images), the
queries ``--queries`` test images; both are raw pixels projected by PCA (fitted
on the catalog) to ``--dimension`` and compared by cosine similarity, as
embeddings are. For each index: build seconds, recall@10 against exact
search (share of the exact 10 nearest it returns) and per-query latency
(one query at a time, one thread, p50 and p99 ms), and its speed-up over
exact search. Indexes: `pipelines.vector_index` `ExactIndex` and `HNSWIndex`
(faiss HNSW behind our interface), faiss HNSW and IVF-Flat called directly
(the same library without our wrapper's bookkeeping), and usearch's HNSW
when it is installed.

Usage: python bench/ann_index.py [--queries 1000] [--dimension 128]
"""

from __future__ import annotations

import argparse
import json
import time

import faiss
import numpy as np

from data import load_dataset
from data.specs import TEST, TRAIN
from pipelines.cli import data_locations_from_environment
from pipelines.vector_index import ExactIndex, HNSWIndex

K = 10


def projected(dimension: int, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-length PCA projections of the catalog and query images."""
    _, splits = load_dataset("fashion_mnist", data_locations_from_environment())
    catalog = splits[TRAIN].images.reshape(len(splits[TRAIN]), -1).astype(np.float32) / 255
    asked = splits[TEST].images[:queries].reshape(queries, -1).astype(np.float32) / 255
    mean = catalog.mean(axis=0)
    _, _, components = np.linalg.svd(catalog[:10000] - mean, full_matrices=False)
    vectors = [(x - mean) @ components[:dimension].T for x in (catalog, asked)]
    return tuple(v / np.linalg.norm(v, axis=1, keepdims=True) for v in vectors)


def timed_queries(search, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query's top-10 ids, one query at a time, and the milliseconds each took."""
    found, seconds = [], []
    for query in queries:
        start = time.perf_counter()
        found.append(np.asarray(search(query[np.newaxis])).reshape(-1)[:K])
        seconds.append(time.perf_counter() - start)
    return np.stack(found), 1000 * np.asarray(seconds)


def measured(build, search, queries, exact_ids, exact_ms=None) -> dict:
    start = time.perf_counter()
    index = build()
    built = time.perf_counter() - start
    found, ms = timed_queries(lambda q: search(index, q), queries)
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact_ids)])
    row = {
        "build_seconds": round(built, 1),
        "recall_at_10": round(float(recall), 4),
        "p50_ms": round(float(np.median(ms)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }
    if exact_ms is not None:
        row["speedup_p50"] = round(exact_ms / row["p50_ms"], 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dimension", type=int, default=128)
    args = parser.parse_args()
    started = time.perf_counter()
    faiss.omp_set_num_threads(1)
    catalog, queries = projected(args.dimension, args.queries)
    ids = np.arange(len(catalog))

    def ours(kind):
        index = kind(args.dimension)
        index.add(ids, catalog)
        return index

    reference = ours(ExactIndex)
    exact_ids, _ = reference.query(queries, K)
    rows = {"exact": measured(lambda: reference, lambda i, q: i.query(q, K)[0], queries, exact_ids)}
    exact_ms = rows["exact"]["p50_ms"]
    rows["hnsw (ours, faiss M 32, ef 64)"] = measured(
        lambda: ours(HNSWIndex), lambda i, q: i.query(q, K)[0], queries, exact_ids, exact_ms
    )

    def faiss_hnsw():
        index = faiss.IndexHNSWFlat(args.dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.add(catalog)
        index.hnsw.efSearch = 64
        return index

    rows["faiss hnsw (M 32, ef 64), called directly"] = measured(
        faiss_hnsw, lambda i, q: i.search(q, K)[1], queries, exact_ids, exact_ms
    )

    def ivf():
        index = faiss.index_factory(args.dimension, "IVF256,Flat", faiss.METRIC_INNER_PRODUCT)
        index.train(catalog)
        index.add(catalog)
        faiss.extract_index_ivf(index).nprobe = 16
        return index

    rows["faiss ivf (256 lists, 16 probed)"] = measured(
        ivf, lambda i, q: i.search(q, K)[1], queries, exact_ids, exact_ms
    )
    try:
        from usearch.index import Index
    except ImportError:
        rows["usearch"] = "not installed"
    else:

        def usearch():
            index = Index(ndim=args.dimension, metric="ip", dtype="f32", expansion_search=64)
            index.add(ids, catalog, threads=1)
            return index

        rows["usearch (connectivity 16, ef 64)"] = measured(
            usearch, lambda i, q: i.search(q, K, threads=1).keys, queries, exact_ids, exact_ms
        )
    print(
        json.dumps(
            {
                "bench": "ann_index",
                "catalog": len(catalog),
                "queries": len(queries),
                "dimension": args.dimension,
                "indexes": rows,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
