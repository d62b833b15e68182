"""The forecast task of the train pipeline: a series -> windows -> our LSTM/GRU/ESN -> SavedModel.

Data: statsmodels' sunspots (default) and CO2, vega_datasets' monthly and
bokeh_sampledata's daily stock prices, or a CSV with a time column and value
columns. The split is chronological (the test part is the tail) and
normalization statistics come from the training part only. The network
predicts a correction to the last value that starts at zero; training keeps
the weights of the epoch with the lowest validation loss, and a forecaster
that does not beat the naive forecast on validation beyond chance falls
back to naive (`pipelines.forecast_choice`: its correction is set to zero,
so the export forecasts the last value; tag ``forecaster=naive_fallback``).
Reported on the test tail: MAE, RMSE and MASE (model MAE over the naive
last-value forecast's MAE; below 1 beats naive), and the seasonal naive MAE
where the season is known. With ``conv_filters`` the recurrent layers read
the features of our causal `Conv1D` (step t sees steps <= t only);
``cell=esn`` puts an echo state reservoir (fixed random recurrent weights,
``units`` of them) where the recurrent stack would be and trains only its
readout.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from common.validation import check_positive_int
from pipelines.options import option_field, parse_columns
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    RESERVOIR_CELL,
    BidirectionalOption,
    ConvFrontOptions,
    HeldOutTestOption,
    RecurrentCellOptions,
    StackedLayersOption,
    check_conv_front,
    model_kind,
)

if TYPE_CHECKING:
    import keras
    import numpy as np
    from mlflow.models import ModelSignature

    from data import DataLocations
    from data.splits_types import Series
    from data.windows import ForecastData
    from pipelines.config import TrainConfig
    from pipelines.tracking import TaskOutcome

FORECASTER_TAG = "forecaster"
"""MLflow tag: ``model`` (the trained network is kept) or ``naive_fallback``."""
# Options that shape a recurrent stack; one fixed reservoir takes none of them.
NOT_FOR_RESERVOIR = ("layers", "bidirectional", "dropout", "recurrent_dropout", "l1", "l2")


@dataclasses.dataclass(frozen=True)
class ForecastOptions(
    RecurrentCellOptions,
    StackedLayersOption,
    BidirectionalOption,
    ConvFrontOptions,
    HeldOutTestOption,
):
    """The options of the forecast task."""

    window: int = option_field(24, "input steps per forecast", check=check_positive_int)
    horizon: int = option_field(1, "steps forecast at once", check=check_positive_int)
    window_stride: int = option_field(1, "steps between training windows", check=check_positive_int)
    time_column: str = option_field("", "time column of a forecast CSV file")
    columns: tuple[str, ...] = option_field(
        (),
        "value columns, comma-separated, target first (empty: the dataset's)",
        parse=parse_columns,
    )


def check_forecast(config) -> None:
    """`check_conv_front`, and refuses stack options with ``cell=esn`` (one fixed reservoir).

    Raises:
        ValueError: Naming the option, its value and the fix.
    """
    check_conv_front(config)
    if config.cell != RESERVOIR_CELL:
        return
    defaults = {field.name: field.default for field in dataclasses.fields(ForecastOptions)}
    for name in NOT_FOR_RESERVOIR:
        value = getattr(config, name)
        if value != defaults[name]:
            raise ValueError(
                f"Invalid value for argument `{name}`. cell={RESERVOIR_CELL} is one fixed echo "
                f"state reservoir with a trained readout; {name} shapes a trained recurrent "
                f"stack. Leave it at {defaults[name]!r} or pick cell=lstm, gru or simple_rnn. "
                f"Received {name}={value!r}."
            )


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
    from data import load_dataset
    from data.choice import CATALOG, TFDS, choose_dataset
    from data.specs import FULL, TIME_SERIES
    from data.timeseries import read_series_csv

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


@dataclasses.dataclass(frozen=True)
class SeriesWindows:
    """A series and its windows.

    Attributes:
        name: Dataset name, for the model name.
        series: The series, target column first.
        season: Its season in steps (0: none known).
        data: Train/validation/test windows with the training statistics.
    """

    name: str
    series: Series
    season: int
    data: ForecastData


def load_data(config: TrainConfig, locations: DataLocations | None = None) -> SeriesWindows:
    """The config's series cut into windows, split chronologically."""
    from data.windows import forecast_windows

    name, series, season = load_series(config, locations)
    data = forecast_windows(
        series,
        window=config.window,
        horizon=config.horizon,
        stride=config.window_stride,
        validation_fraction=config.validation_fraction,
        test_fraction=config.test_fraction,
    )
    return SeriesWindows(name, series, season, data)


def build_model(config: TrainConfig, windows: SeriesWindows) -> keras.Model:
    """The compiled forecaster (MSE loss), normalised by the training windows' statistics.

    ``cell=esn`` gives an echo state reservoir of ``units`` (seeded by ``seed``)
    in place of the recurrent stack.
    """
    from models.forecasting import ReservoirSpec, forecaster
    from pipelines.fitting import adam

    data = windows.data
    if config.cell == RESERVOIR_CELL:
        recurrent = ReservoirSpec(units=config.units, seed=config.seed)
    else:
        recurrent = config.recurrent_spec()
    model = forecaster(
        config.window,
        len(windows.series.columns),
        config.horizon,
        mean=data.mean,
        std=data.std,
        change_std=data.change_std,
        recurrent=recurrent,
        conv=config.conv_spec(),
        name=f"{windows.name}_{model_kind(config)}_forecaster",
    )
    model.compile(optimizer=adam(config), loss="mse", metrics=["mae"])
    return model


def _test_metrics(
    data: ForecastData, forecasts: np.ndarray, series: Series, season: int, horizon: int
):
    from baselines.forecast import seasonal_naive_forecasts
    from pipelines.metrics import forecast_errors, naive_forecast

    test = data.test
    metrics = {f"test_{k}": v for k, v in forecast_errors(test.targets, forecasts).items()}
    naive = naive_forecast(test.inputs, horizon)
    naive_errors = forecast_errors(test.targets, naive)
    metrics.update({f"naive_{k}": v for k, v in naive_errors.items()})
    metrics["test_mase"] = (
        metrics["test_mae"] / naive_errors["mae"] if naive_errors["mae"] else float("inf")
    )
    if season and test.target_steps.min() >= season:
        # the bench's seasonal naive: a horizon past the season reads no value after the origin
        seasonal = seasonal_naive_forecasts(series.values[:, 0], test.target_steps, horizon, season)
        metrics["seasonal_naive_mae"] = forecast_errors(test.targets, seasonal)["mae"]
    return metrics, naive


def _signature(window: int, features: int, horizon: int) -> ModelSignature:
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, window, features), "windows")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, horizon))]),
    )


def train_forecaster(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports a forecaster inside the active MLflow run.

    Keeps the best validation epoch's weights, then falls back to the naive
    forecast unless the model beats it on validation beyond chance
    (`pipelines.forecast_choice`; tag ``forecaster``: ``model`` or
    ``naive_fallback``). Logs per-epoch
    MSE/MAE, the validation MAE of model and naive, the test metrics (model,
    naive, seasonal naive), a forecast-vs-actual PNG of the test tail, the
    SavedModel (raw windows in, forecasts in the series' units out) and the
    Keras model.

    Returns:
        A `TaskOutcome`; its metrics include ``naive_fallback``.
    """
    import keras
    import mlflow

    from data.pipeline import array_batches
    from pipelines.export import export_forecaster
    from pipelines.fitting import fit
    from pipelines.forecast_choice import fall_back_if_not_better, keep_best_epoch
    from pipelines.plots import forecast_figure, training_curves_figure
    from pipelines.tracking import TaskOutcome, log_export, log_keras_model, log_new_params

    windows = load_data(config, locations)
    name, series, season, data = windows.name, windows.series, windows.season, windows.data
    keras.utils.set_random_seed(config.seed)
    model = build_model(config, windows)
    model_name = model.name
    history = fit(
        model,
        array_batches((data.train.inputs, data.train.targets), config.batch_size, config.seed),
        array_batches((data.validation.inputs, data.validation.targets), 256),
        config,
        extra_callbacks=keep_best_epoch(config),
    )
    choice = fall_back_if_not_better(model, data)
    mlflow.set_tag(FORECASTER_TAG, "naive_fallback" if choice["naive_fallback"] else "model")
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
    test_metrics["naive_fallback"] = choice["naive_fallback"]
    mlflow.log_metrics({**choice, **test_metrics})
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


TASK = Task(
    name="forecast",
    summary="time-series forecaster: windows -> [our causal Conv1D] -> our LSTM/GRU/RNN -> the "
    "next horizon steps",
    options=ForecastOptions,
    defaults=TaskDefaults("sunspots", epochs=60, batch_size=32, learning_rate=2e-3),
    load_data=load_data,
    build_model=build_model,
    train=train_forecaster,
    check=check_forecast,
)
