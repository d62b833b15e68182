"""Forecasting on real series with the default configuration: MASE against naive.

Runs ``train -P task=forecast`` on sunspots, CO2 and stock prices (IBM) with
the defaults (one LSTM of 64 units, window 24, horizon 1, chronological
80/10/10 split), over several seeds, and prints one JSON line with test MAE,
RMSE, the naive and seasonal naive MAE and MASE (< 1 beats the naive
last-value forecast) per dataset.

Usage: python bench/forecast.py [--datasets sunspots,co2,stocks] [--seeds 3] [--set window=48]
"""

from __future__ import annotations

import argparse
import json
import statistics

from runs import scratch_store, timed_train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sunspots,co2,stocks")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another train option, e.g. --set early_stopping_patience=5",
    )
    args = parser.parse_args()
    options = dict(item.split("=", 1) for item in args.set)  # parsed by TrainConfig
    results = {}
    with scratch_store() as folder:
        for dataset in args.datasets.split(","):
            runs = [
                timed_train(folder, task="forecast", dataset=dataset, seed=seed, **options)
                for seed in range(args.seeds)
            ]
            metrics = [m for m, _ in runs]
            results[dataset] = {
                "test_mase": round(statistics.mean(m["test_mase"] for m in metrics), 4),
                "test_mase_per_seed": [round(m["test_mase"], 4) for m in metrics],
                "test_mae": round(statistics.mean(m["test_mae"] for m in metrics), 4),
                "test_rmse": round(statistics.mean(m["test_rmse"] for m in metrics), 4),
                "naive_mae": round(metrics[0]["naive_mae"], 4),
                "seasonal_naive_mae": metrics[0].get("seasonal_naive_mae"),
                "beats_naive": all(m["test_mase"] < 1 for m in metrics),
                "seconds_per_run": round(statistics.mean(s for _, s in runs), 1),
            }
    print(
        json.dumps(
            {"bench": "forecast", "options": options, "seeds": args.seeds, "datasets": results}
        )
    )


if __name__ == "__main__":
    main()
