"""Resident memory of a long search: after 5 trials vs after 30 (target: within 20 %).

Runs one ``tune`` search in this process on 1,500 Fashion-MNIST images (one
epoch per trial, random search over filter size, stride, padding, filters
and the dense head, all geometries valid so every trial trains; every trial
a child MLflow run in a throwaway store) and
reads the resident set size of the process that ran each trial at its end
(the ``process_rss_mb`` metric of each child run). Keras Tuner clears the
Keras session before each build.

What it found (2-core CPU, TF 2.21, Keras 3.15): about 8 MB more per trial,
ratio 1.22 after 30 trials. A plain Keras loop (build, compile, ``fit``,
``clear_session``, ``gc.collect``; Keras's own layers, no MLflow, no tuner)
grows by the same 8 MB per ``fit``, and not at all with ``run_eagerly=True``:
the memory stays in TensorFlow's graph runtime (keras-team/keras#17458,
#20552, open). Removing the functions each trial registered, clearing the
kernel cache, malloc_trim, and disabling Grappler or oneDNN did not release it.

With ``--trials_per_process N`` the search runs in a worker process that is
restarted every N trials (the ``trials_per_process`` option), and the figures
are the worker's memory at the end of each trial.

Usage: python bench/tune_memory.py [--trials 30] [--trials_per_process 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from runs import quiet_stdout, scratch_store

from pipelines.trial_runs import PROCESS_RSS_METRIC, TrialRuns
from pipelines.tune import tune
from pipelines.tune_config import TuneConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument(
        "--trials_per_process",
        type=int,
        default=0,
        help="restart the worker after this many trials (0: the search runs in this process)",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    with scratch_store(), tempfile.TemporaryDirectory() as folder, quiet_stdout():
        result = tune(
            TuneConfig(
                dataset="fashion_mnist",
                max_examples=1500,
                filters="8,16",
                kernel_sizes="3,5",
                strides="1,2",
                paddings="same,1",
                filter_choices="8,16",
                pool_sizes="2",
                dense_units="32,64",
                epochs=1,
                max_trials=args.trials,
                trials_per_process=args.trials_per_process,
                directory=str(Path(folder) / "tuning"),
                export_dir=str(Path(folder) / "exports"),
            )
        )
        children = TrialRuns(result.run_id, result.tracking_uri).children()
        by_trial = sorted(
            (int(run.data.tags["convseq.trial_id"]), run.data.metrics[PROCESS_RSS_METRIC])
            for run in children
            if PROCESS_RSS_METRIC in run.data.metrics
        )
    rss = [value for _, value in by_trial]
    after_5, after_last = rss[4], rss[-1]
    print(
        json.dumps(
            {
                "bench": "tune_memory",
                "trials_per_process": args.trials_per_process,
                "trials": len(result.trials),
                "trials_trained": len(rss),
                "rss_mb_after_5": round(after_5, 1),
                f"rss_mb_after_{len(rss)}": round(after_last, 1),
                "ratio": round(after_last / after_5, 3),
                "within_20_percent": after_last <= 1.2 * after_5,
                "rss_mb_by_trial": [round(v, 1) for v in rss],
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
