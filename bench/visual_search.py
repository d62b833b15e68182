"""Visual search on Fashion-MNIST: our default embedding against what a practitioner would use.

In one run, with the 60,000 training images as the catalog and the test
images as queries (precision@10 = the share of a query's 10 nearest catalog
images, exact search, of its class):

- **ours**: ``convseq train --task search`` with its defaults (a copy of its
  metrics: precision/mAP@10, near-duplicate rank-1 rate, HNSW recall@10);
- **raw pixels**: the images as unit vectors;
- **classifier penultimate**: the same task with ``embedder=classifier``
  (a softmax classifier's features, same backbone and epochs).

Both trained embedders are scored as the task scores them: each image
embedded with its mirror image (``flip_average``, the default).

Then the run's logged HNSW index against exact search on our vectors:
recall@10 and per-query latency (one query at a time, one thread, p50 and
p99 ms); and an HNSW index of ``--million`` synthetic unit vectors of our
dimension (clustered, as embeddings are): build seconds, resident memory
added, query latency p50/p99 and recall@10 against exact search. Prints one
JSON line with ``checks`` for the issue's bars.

Usage: python bench/visual_search.py [--seeds 1] [--million 1000000] [--epochs 0]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import faiss
import keras
import mlflow
import numpy as np
import tensorflow as tf
from runs import mean_std, quiet_stdout, scratch_store

from data import load_dataset
from data.specs import TEST, TRAIN
from pipelines.cli import data_locations_from_environment
from pipelines.config import TrainConfig
from pipelines.train import train
from pipelines.vector_index import ExactIndex, HNSWIndex, load_index
from pipelines.visual_search import index_recall, near_duplicate_rank1, retrieval_metrics

K = 10
METRICS = ("precision_at_10", "map_at_10", "near_duplicate_rank1", "index_recall_at_10")


def resident_mb() -> float:
    """This process's resident memory (``VmRSS``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def latency(search, queries: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Top-10 ids of each query, asked one at a time, and the p50/p99 milliseconds."""
    found, seconds = [], []
    for query in queries:
        start = time.perf_counter()
        found.append(search(query[np.newaxis])[0])
        seconds.append(time.perf_counter() - start)
    ms = 1000 * np.asarray(seconds)
    return np.stack(found), {
        "p50_ms": round(float(np.median(ms)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def trained_runs(folder: Path, options: dict, seeds: int) -> list[mlflow.entities.Run]:
    runs = []
    for seed in range(seeds):
        config = TrainConfig(
            task="search", seed=seed, export_dir=str(folder / "exports"), **options
        )
        with quiet_stdout():
            result = train(config, data_locations_from_environment())
        runs.append(mlflow.get_run(result.run_id))
    return runs


def summary(runs, metrics=METRICS) -> dict:
    found = {}
    for name in metrics:
        values = [run.data.metrics.get(f"test_{name}") for run in runs]
        if None not in values:
            found[name] = mean_std(values)
            found[f"{name}_per_seed"] = [round(v, 4) for v in values]
    return found


def raw_pixels(splits, queries: int) -> dict:
    catalog, asked = splits[TRAIN], splits[TEST]
    index = ExactIndex(int(np.prod(catalog.images.shape[1:])))
    index.add(np.arange(len(catalog)), catalog.images.reshape(len(catalog), -1).astype(np.float32))
    query_vectors = asked.images[:queries].reshape(queries, -1).astype(np.float32)
    metrics, _, _ = retrieval_metrics(
        index, query_vectors, asked.labels[:queries], catalog.labels, K
    )
    pixels = keras.Sequential([keras.Input(catalog.images.shape[1:]), keras.layers.Flatten()])
    metrics["near_duplicate_rank1"] = near_duplicate_rank1(pixels, index, catalog.images, seed=0)
    return {name: round(value, 4) for name, value in metrics.items()}


def index_against_exact(run, splits, queries: int) -> dict:
    """The run's logged HNSW index against exact search on the same vectors."""
    with tempfile.TemporaryDirectory() as folder:
        path = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="index", dst_path=folder
        )
        approximate = load_index(path, model=run.info.run_id)
    exact = ExactIndex(approximate.dimension)
    exact.add(approximate.ids, approximate.vectors_of(approximate.ids))
    embed = tf.saved_model.load(run.data.tags["embed_export_path"])
    images = splits[TEST].images[:queries]
    vectors = np.concatenate(
        [embed.serve(tf.constant(images[i : i + 500]))["embedding"].numpy()
         for i in range(0, len(images), 500)]
    )  # fmt: skip
    exact_ids, exact_latency = latency(lambda q: exact.query(q, K)[0], vectors)
    _, approximate_latency = latency(lambda q: approximate.query(q, K)[0], vectors)
    found_share = index_recall(approximate, exact_ids, vectors)
    return {
        "items": len(exact),
        "dimension": exact.dimension,
        "exact": exact_latency,
        "hnsw": {**approximate_latency, "recall_at_10": round(found_share, 4)},
        "speedup_p50": round(exact_latency["p50_ms"] / approximate_latency["p50_ms"], 1),
    }


def million(items: int, dimension: int, queries: int = 1000, exact_queries: int = 200) -> dict:
    """Build and query an HNSW index of ``items`` clustered synthetic unit vectors."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(1000, dimension)).astype(np.float32)

    def vectors(count):
        points = centres[rng.integers(len(centres), size=count)]
        points += 0.5 * rng.normal(size=(count, dimension)).astype(np.float32)
        return points / np.linalg.norm(points, axis=1, keepdims=True)

    chunk = 100_000
    before = resident_mb()
    index = HNSWIndex(dimension)
    start = time.perf_counter()
    stored = []
    for first in range(0, items, chunk):
        batch = vectors(min(chunk, items - first))
        index.add(np.arange(first, first + len(batch)), batch)
        stored.append(batch)
    built = time.perf_counter() - start
    added_mb = resident_mb() - before - sum(b.nbytes for b in stored) / 2**20
    asked = vectors(queries)
    _, timing = latency(lambda q: index.query(q, K)[0], asked)
    exact = ExactIndex(dimension)
    exact.add(np.arange(items), np.concatenate(stored))
    exact_ids, _ = exact.query(asked[:exact_queries], K)
    found_share = index_recall(index, exact_ids, asked[:exact_queries])
    return {
        "items": items,
        "dimension": dimension,
        "build_seconds": round(built, 1),
        "index_memory_mb": round(added_mb, 1),
        **timing,
        "recall_at_10": round(found_share, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=0, help="0: the task's default")
    parser.add_argument("--queries", type=int, default=10000, help="test images asked")
    parser.add_argument("--latency_queries", type=int, default=1000)
    parser.add_argument("--million", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    faiss.omp_set_num_threads(1)  # per-query latency on one thread, as a server worker has
    _, splits = load_dataset("fashion_mnist", data_locations_from_environment())
    queries = min(args.queries, len(splits[TEST]))
    options = {"epochs": args.epochs} if args.epochs else {}
    with scratch_store() as folder:
        ours = trained_runs(folder, options, args.seeds)
        classifier = trained_runs(folder, {**options, "embedder": "classifier"}, args.seeds)
        index = index_against_exact(ours[0], splits, args.latency_queries)
    models = {
        "ours": summary(ours),
        "raw_pixels": raw_pixels(splits, queries),
        "classifier_penultimate": summary(classifier),
    }
    faiss.omp_set_num_threads(2)
    large = million(args.million, index["dimension"]) if args.million else {}
    ours_p10 = models["ours"]["precision_at_10"]["mean"]
    raw_p10 = models["raw_pixels"]["precision_at_10"]
    checks = {
        "ours_precision_at_10_at_least_0.85": ours_p10 >= 0.85,
        "ours_at_least_raw_pixels_plus_0.05": ours_p10 >= raw_p10 + 0.05,
        "near_duplicate_rank1_at_least_0.95": (
            models["ours"]["near_duplicate_rank1"]["mean"] >= 0.95
        ),
        "index_recall_at_least_0.95": index["hnsw"]["recall_at_10"] >= 0.95,
        "index_at_least_5x_faster": index["speedup_p50"] >= 5,
    }
    print(
        json.dumps(
            {
                "bench": "visual_search",
                "catalog": len(splits[TRAIN]),
                "queries": queries,
                "models": models,
                "index": index,
                "million": large,
                "checks": checks,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
