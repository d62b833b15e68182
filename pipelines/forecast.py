"""The forecast task of the train pipeline: a series -> windows -> our LSTM/GRU -> SavedModel.

Data: statsmodels' sunspots (default) and CO2, vega_datasets' stock prices,
or a CSV with a time column and value columns. The split is chronological
(the test part is the tail) and normalization statistics come from the
training part only. Reported on the test tail: MAE, RMSE and MASE (model
MAE over the naive last-value forecast's MAE; below 1 beats naive), and the
seasonal naive MAE where the season is known.
"""

from __future__ import annotations

import keras
import mlflow
import numpy as np
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec

from data import DataLocations, load_dataset
from data.pipeline import array_batches
from data.specs import FULL, TIME_SERIES, Series
from data.timeseries import read_series_csv
from data.windows import ForecastData, forecast_windows
from models.forecasting import forecaster
from pipelines.config import TrainConfig
from pipelines.datasets import CATALOG, TFDS, choose_dataset
from pipelines.export import export_forecaster
from pipelines.fitting import adam, fit
from pipelines.metrics import forecast_errors, naive_forecast, seasonal_naive_forecast
from pipelines.plots import forecast_figure, training_curves_figure
from pipelines.tracking import TaskOutcome, log_export, log_keras_model, log_new_params


def load_series(
    config: TrainConfig, locations: DataLocations | None = None
) -> tuple[str, Series, int]:
    """The series the config names, restricted to its columns (target first).

    Returns:
        ``(name, series, season)``; season 0 where none is known.

    Raises:
        ValueError: On a dataset of another task, a file without the named
            columns, or no ``time_column`` for a file.
        data.DatasetUnavailableError: If the data cannot be found.
    """
    choice = choose_dataset(
        config.dataset, TIME_SERIES, "a CSV file with a time column (time_column=) and values"
    )
    if choice.kind == CATALOG:
        spec, splits = load_dataset(choice.name, locations)
        series, season = splits[FULL], spec.season
        columns = config.columns or spec.value_columns
    elif choice.kind == TFDS:
        raise ValueError(
            "Invalid value for argument `dataset`. Forecasting reads catalog series or CSV "
            f"files, not TFDS. Received dataset={config.dataset!r}."
        )
    else:
        if not config.time_column:
            raise ValueError(
                f"Forecasting from the file {choice.path} needs time_column= naming its time "
                "column (and columns= naming value columns, target first)."
            )
        series = read_series_csv(choice.path, config.time_column, config.columns)
        season, columns = 0, config.columns or series.columns
    return choice.label, series.select(tuple(columns)), season


def _test_metrics(
    data: ForecastData, forecasts: np.ndarray, series: Series, season: int, horizon: int
):
    test = data.test
    metrics = {f"test_{k}": v for k, v in forecast_errors(test.targets, forecasts).items()}
    naive = naive_forecast(test.inputs, horizon)
    naive_errors = forecast_errors(test.targets, naive)
    metrics.update({f"naive_{k}": v for k, v in naive_errors.items()})
    metrics["test_mase"] = (
        metrics["test_mae"] / naive_errors["mae"] if naive_errors["mae"] else float("inf")
    )
    if season and test.target_steps.min() >= season:
        seasonal = seasonal_naive_forecast(series.values[:, 0], test.target_steps, horizon, season)
        metrics["seasonal_naive_mae"] = forecast_errors(test.targets, seasonal)["mae"]
    return metrics, naive


def _signature(window: int, features: int, horizon: int) -> ModelSignature:
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, window, features), "windows")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, horizon))]),
    )


def train_forecaster(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports a forecaster inside the active MLflow run.

    Logs per-epoch MSE/MAE, the test metrics (model, naive, seasonal naive),
    a forecast-vs-actual PNG of the test tail, the SavedModel (raw windows
    in, forecasts in the series' units out) and the Keras model.

    Returns:
        A `TaskOutcome`.
    """
    name, series, season = load_series(config, locations)
    data = forecast_windows(
        series,
        window=config.window,
        horizon=config.horizon,
        stride=config.window_stride,
        validation_fraction=config.validation_fraction,
        test_fraction=config.test_fraction,
    )
    keras.utils.set_random_seed(config.seed)
    model_name = f"{name}_{'bi' if config.bidirectional else ''}{config.cell}_forecaster"
    model = forecaster(
        config.window,
        len(series.columns),
        config.horizon,
        mean=data.mean,
        std=data.std,
        change_std=data.change_std,
        recurrent=config.recurrent_spec(),
        name=model_name,
    )
    model.compile(optimizer=adam(config), loss="mse", metrics=["mae"])
    history = fit(
        model,
        array_batches((data.train.inputs, data.train.targets), config.batch_size, config.seed),
        array_batches((data.validation.inputs, data.validation.targets), 256),
        config,
    )
    log_new_params(
        {
            "model_parameters": model.count_params(),
            "target_column": series.columns[0],
            "season": season,
            "train_windows": len(data.train),
            "validation_windows": len(data.validation),
            "test_windows": len(data.test),
            "test_start": str(data.test.target_times[0]),
        }
    )
    forecasts = model.predict(data.test.inputs, batch_size=256, verbose=0)
    test_metrics, naive = _test_metrics(data, forecasts, series, season, config.horizon)
    mlflow.log_metrics(test_metrics)
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    mlflow.log_figure(
        forecast_figure(
            data.test.target_times,
            data.test.targets[:, 0],
            forecasts[:, 0],
            naive[:, 0],
            f"{name}: {series.columns[0]}, test tail (MASE {test_metrics['test_mase']:.3f})",
        ),
        "plots/forecast.png",
    )
    export_path = export_forecaster(model, config.export_dir, model_name)
    log_export(export_path, registered_model_name=config.registered_model_name)
    log_keras_model(model, _signature(config.window, len(series.columns), config.horizon))
    return TaskOutcome(export_path, test_metrics)
