"""Helpers for benches that run whole ``train`` pipelines: a throwaway MLflow store."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import mlflow

from pipelines.cli import data_locations_from_environment
from pipelines.config import TrainConfig
from pipelines.train import train


@contextlib.contextmanager
def scratch_store() -> Iterator[Path]:
    """A temporary folder with its own SQLite MLflow store, active inside the block."""
    previous = mlflow.get_tracking_uri()
    with tempfile.TemporaryDirectory(prefix="convseq-bench-") as folder:
        mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
        mlflow.set_experiment("bench")
        try:
            yield Path(folder)
        finally:
            mlflow.set_tracking_uri(previous)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Sends what training prints (Keras epoch lines, tuner summaries) to stderr.

    A bench's stdout is its one JSON line of figures, read by ``run_all.py``.
    """
    with contextlib.redirect_stdout(sys.stderr):
        yield


def timed_train(folder: Path, **options) -> tuple[dict[str, float], float]:
    """Runs ``train`` with ``options`` (exports under ``folder``); returns test metrics, seconds."""
    config = TrainConfig(export_dir=str(folder / "exports"), **options)
    start = time.perf_counter()
    with quiet_stdout():
        result = train(config, data_locations_from_environment())
    return result.test_metrics, time.perf_counter() - start


def mean_std(values) -> dict[str, float]:
    """``{"mean", "std", "n"}`` of a list of figures (population std; 0 for one value)."""
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return {"mean": round(mean, 4), "std": round(std, 4), "n": len(values)}


def seeded_metrics(task: str, options: dict, seeds: int, metrics: Sequence[str]) -> dict:
    """Trains ``task`` with ``options`` for seeds 0..seeds-1; each test metric mean ± std.

    Args:
        task: The task trained.
        options: `TrainConfig` fields besides ``task`` and ``seed``.
        seeds: How many seeds.
        metrics: Names of the test metrics kept, without the ``test_`` prefix.

    Returns:
        ``{metric: mean_std, "per_seed": {metric: [figures]}, "seconds": mean_std}``.
    """
    with scratch_store() as folder:
        runs = [timed_train(folder, task=task, seed=seed, **options) for seed in range(seeds)]
    result = {name: mean_std([found[f"test_{name}"] for found, _ in runs]) for name in metrics}
    result["per_seed"] = {
        name: [round(found[f"test_{name}"], 4) for found, _ in runs] for name in metrics
    }
    result["seconds"] = mean_std([seconds for _, seconds in runs])
    return result


def seeded_runs(task: str, options: dict, seeds: int, metric: str) -> dict:
    """`seeded_metrics` of one metric (named with its ``test_`` prefix): its mean ± std and seconds.

    Returns:
        ``{metric: mean_std, "seconds": mean_std, "per_seed": [figures]}``.
    """
    found = seeded_metrics(task, options, seeds, [metric.removeprefix("test_")])
    name = metric.removeprefix("test_")
    return {metric: found[name], "seconds": found["seconds"], "per_seed": found["per_seed"][name]}
