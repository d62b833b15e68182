"""Forecasting: our default and the echo state option against the baselines practitioners write.

For every bundled series (sunspots, CO2, IBM's monthly and daily stock
price) this runs ``train -P task=forecast`` with the defaults (window 24,
horizon 1, chronological 80/10/10 split; row ``default``) and with
``cell=esn`` (row ``esn``) over several seeds, and scores on the same test
tail, in the same run, the baselines of `baselines.forecast`: the naive
last value, the seasonal naive (where the season is known), exponential
smoothing (ETS) and ARIMA, both fitted once on every step before the test
tail and then forecasting each test step from the history before it.

Prints one JSON line: per dataset and row, MASE (MAE over the naive MAE on
the same test windows; < 1 beats naive) and MAE as mean and standard
deviation over seeds (the baselines are deterministic: std 0), the runs
that fell back to naive, and whether the default beats naive and is no
worse than the better of ETS and ARIMA.

Usage: python bench/forecast.py [--datasets sunspots,co2,stocks,stocks_daily] [--seeds 3]
       [--rows default,esn] [--set window=48]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from runs import mean_std, quiet_stdout, scratch_store, timed_train

from baselines.forecast import forecast_baselines
from pipelines.config import TrainConfig
from pipelines.metrics import forecast_errors
from pipelines.tasks.forecast import load_data

DATASETS = "sunspots,co2,stocks,stocks_daily"
ROWS = {"default": {}, "esn": {"cell": "esn"}}  # what each of our rows sets besides --set


def spread(values: list[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation, rounded (`runs.mean_std`)."""
    figures = mean_std(values)
    return figures["mean"], figures["std"]


def ours(folder, dataset: str, row: dict, seeds: int) -> dict:
    """Trains one of our rows over ``seeds`` seeds; MASE and MAE mean and std."""
    runs = [
        timed_train(folder, task="forecast", dataset=dataset, seed=seed, **row)
        for seed in range(seeds)
    ]
    metrics = [m for m, _ in runs]
    mase, mase_std = spread([m["test_mase"] for m in metrics])
    mae, mae_std = spread([m["test_mae"] for m in metrics])
    return {
        "mase": mase,
        "mase_std": mase_std,
        "mae": mae,
        "mae_std": mae_std,
        "mase_per_seed": [round(m["test_mase"], 4) for m in metrics],
        "naive_fallbacks": int(sum(m["naive_fallback"] for m in metrics)),
        "seconds_per_run": round(statistics.mean(s for _, s in runs), 1),
    }


def baseline_rows(dataset: str, options: dict) -> tuple[dict, float, int]:
    """Every baseline on the test windows ``train`` uses: rows, the naive MAE, the window count."""
    windows = load_data(TrainConfig(task="forecast", dataset=dataset, **options))
    test = windows.data.test
    steps = test.target_steps
    start = time.perf_counter()
    with quiet_stdout():
        forecasts = forecast_baselines(
            windows.series.values[:, 0],
            steps,
            horizon=test.targets.shape[1],
            fit_stop=int(steps.min()),
            season=windows.season,
        )
    seconds = round(time.perf_counter() - start, 1)
    maes = {
        name: forecast_errors(test.targets, b.forecasts)["mae"] for name, b in forecasts.items()
    }
    naive_mae = maes["naive"]
    rows = {
        name: {
            "mase": round(maes[name] / naive_mae, 4),
            "mase_std": 0.0,
            "mae": round(maes[name], 4),
            "mae_std": 0.0,
            "model": baseline.model,
        }
        for name, baseline in forecasts.items()
    }
    rows["ets"]["seconds_ets_and_arima"] = seconds
    return rows, naive_mae, len(test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=DATASETS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", default=",".join(ROWS), help="our rows: default, esn")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another train option for our rows and the split, e.g. --set window=48",
    )
    args = parser.parse_args()
    options = dict(item.split("=", 1) for item in args.set)  # parsed by TrainConfig
    results = {}
    with scratch_store() as folder:
        for dataset in args.datasets.split(","):
            rows, naive_mae, windows = baseline_rows(dataset, options)
            for name in args.rows.split(","):
                rows[name] = ours(folder, dataset, {**options, **ROWS[name]}, args.seeds)
            best_statistical = min(rows[name]["mase"] for name in ("ets", "arima"))
            default = rows.get("default")
            results[dataset] = {
                "test_windows": windows,
                "naive_mae": round(naive_mae, 4),
                "rows": rows,
                "default_beats_naive": default is not None and default["mase"] < 1,
                "default_at_most_ets_arima": default is not None
                and default["mase"] <= best_statistical,
            }
    print(
        json.dumps(
            {"bench": "forecast", "options": options, "seeds": args.seeds, "datasets": results}
        )
    )


if __name__ == "__main__":
    main()
