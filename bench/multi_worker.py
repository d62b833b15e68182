"""One process vs two MultiWorkerMirroredStrategy workers on 127.0.0.1, same data.

Trains the default CNN (task ``classify``) on Fashion-MNIST through
``convseq train`` twice in fresh processes: once alone, once with
``--workers 2`` (global batch 2 x ``batch_size``). Reports test accuracy,
wall time (process start to exit) and whether the two workers' weights are
bit-identical. On one 2-core machine the workers share the cores, so the time
shows the cost of the collective steps, not a speed-up. Prints one JSON line.

Usage: python bench/multi_worker.py [--max_examples 12000] [--epochs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def _train(folder: str, options: list[str]) -> tuple[dict[str, str], float]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlflow.db"}
    for name in ("MLFLOW_RUN_ID", "TF_CONFIG"):
        env.pop(name, None)
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "train", *options],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.monotonic() - started
    lines = {}
    for line in completed.stdout.splitlines():
        key, _, value = line.partition(": ")
        if key.isidentifier() and value:
            lines[key] = value
    return lines, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max_examples", type=int, default=12000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args()
    options = [
        f"--max_examples={args.max_examples}",
        f"--epochs={args.epochs}",
        f"--batch_size={args.batch_size}",
        "--seed=42",
    ]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in (("one_process", []), ("two_workers", ["--workers=2"])):
            os.makedirs(os.path.join(folder, name))
            lines, seconds = _train(os.path.join(folder, name), options + extra)
            results[name] = {
                "test_accuracy": round(float(lines["test_accuracy"]), 4),
                "seconds": round(seconds, 1),
            }
            if extra:
                digests = {v for k, v in lines.items() if k.startswith("worker_")}
                results[name]["workers_identical_weights"] = len(digests) == 1
    print(
        json.dumps(
            {
                "bench": "multi_worker",
                "dataset": "fashion_mnist",
                "max_examples": args.max_examples,
                "epochs": args.epochs,
                "batch_size_per_worker": args.batch_size,
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
