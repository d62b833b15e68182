"""Which forecaster the forecast task keeps: the best epoch, then the network or naive.

Training keeps the weights of the epoch with the lowest validation loss.
The network is then kept only if it beats the naive last-value forecast on
the validation block by more than chance: a one-sided Diebold-Mariano test
on the absolute errors at the 5% level, with the small-sample correction of
Harvey, Leybourne and Newbold (1997) and Student's t critical values (as R's
``forecast::dm.test`` computes it). A lower validation MAE alone is not
enough: a short validation block (a dozen windows of a monthly series) makes
a lower MAE by chance likely, and the uncorrected test, with normal critical
values, passes too easily on so few windows. Otherwise the network falls
back to naive: its correction to the last value is set to zero, so it and
its export forecast the last value.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from common.validation import check_positive_int

if TYPE_CHECKING:
    import keras

    from data.windows import ForecastData
    from pipelines.config import TrainConfig

logger = logging.getLogger(__name__)

LEVEL = 0.05
"""One-sided significance level of the test the network must pass against naive."""


def keep_best_epoch(config: TrainConfig) -> list[keras.callbacks.Callback]:
    """A callback that restores the weights of the epoch with the lowest ``val_loss``.

    Keras's `EarlyStopping` with a patience as long as the run: it never
    stops, it only keeps the best epoch. With ``early_stopping_patience``
    set, the shared early stopping (which also restores) does it instead.

    Returns:
        The callbacks to add to the task's ``fit`` (none or one).
    """
    import keras

    if config.early_stopping_patience:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.epochs, restore_best_weights=True
        )
    ]


def diebold_mariano(model_errors, naive_errors, horizon: int = 1) -> float:
    """The small-sample corrected Diebold-Mariano statistic of the model against naive.

    ``d_i = mean_h |naive_i,h| - mean_h |model_i,h|`` per example;
    ``DM = mean(d) / sqrt(V / n)`` with ``V`` the variance of ``d`` plus twice
    its autocovariances up to lag ``horizon - 1`` (consecutive examples share
    targets when ``horizon`` > 1; ``V`` is the variance alone if that sum is
    not positive). Returned: ``DM * sqrt((n + 1 - 2h + h(h - 1) / n) / n)``,
    Harvey, Leybourne and Newbold's correction, to be compared with
    Student's t with ``n - 1`` degrees of freedom (`critical_value`).
    Positive: the model is better.

    Args:
        model_errors: The model's forecast errors, ``[n, horizon]``.
        naive_errors: The naive forecast's errors on the same targets.
        horizon: Forecast steps per example.

    Returns:
        The statistic; ``+inf`` or ``-inf`` if every ``d_i`` is the same
        nonzero value, 0 if every ``d_i`` is zero.

    Raises:
        ValueError: If the two error arrays differ in shape or hold fewer
            than two examples.

    Example:
        >>> round(diebold_mariano([[1.0], [1.0], [1.0], [1.0]], [[1.0], [3.0], [1.0], [3.0]]), 4)
        1.7321
    """
    check_positive_int("horizon", horizon)
    model_errors = np.abs(np.asarray(model_errors, np.float64))
    naive_errors = np.abs(np.asarray(naive_errors, np.float64))
    if model_errors.shape != naive_errors.shape or len(naive_errors) < 2:
        raise ValueError(
            "Invalid value for argument `model_errors`. Expected the shape of naive_errors "
            f"{naive_errors.shape}, at least two examples. Received model_errors with shape "
            f"{model_errors.shape}."
        )
    d = (naive_errors - model_errors).reshape(len(naive_errors), -1).mean(axis=1)
    n = len(d)
    centred = d - d.mean()
    variance = float(np.mean(centred**2))
    long_run = variance + 2 * sum(
        float(np.mean(centred[lag:] * centred[:-lag])) for lag in range(1, min(horizon, n))
    )
    if long_run <= 0:
        long_run = variance
    if long_run == 0:
        return 0.0 if d.mean() == 0 else float(np.sign(d.mean()) * np.inf)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(d.mean() / np.sqrt(long_run / n) * correction)


def critical_value(examples: int) -> float:
    """What `diebold_mariano` must exceed: Student's t (``examples - 1`` d.o.f.) at `LEVEL`.

    Example:
        >>> round(critical_value(12), 3)
        1.796
    """
    from scipy.stats import t

    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 2:
        raise ValueError(
            "Invalid value for argument `examples`. Expected an integer >= 2. "
            f"Received examples={examples!r}."
        )
    return float(t.ppf(1 - LEVEL, examples - 1))


def fall_back_if_not_better(model: keras.Model, data: ForecastData) -> dict[str, float]:
    """Keeps the forecaster only if it beats naive on validation beyond chance.

    Beyond chance: its corrected Diebold-Mariano statistic against the naive
    forecast exceeds `critical_value` (one-sided, 5%), which a lower
    validation MAE alone does not make. Otherwise its correction is set to zero
    (`models.forecasting.to_naive`): from then on, and in its export, it
    forecasts the last value.

    Args:
        model: A forecaster from `models.forecasting.forecaster` predicting
            the change from the last value.
        data: Its windows; the validation block decides.

    Returns:
        ``validation_mae``, ``validation_naive_mae``, ``validation_dm`` (all
        of the network, before any fallback) and ``naive_fallback`` (1.0 if
        it fell back, else 0.0).
    """
    from models.forecasting import to_naive
    from pipelines.metrics import forecast_errors, naive_forecast

    validation = data.validation
    targets = validation.targets.astype(np.float64)
    horizon = targets.shape[1]
    forecasts = model.predict(validation.inputs, batch_size=256, verbose=0)
    naive = naive_forecast(validation.inputs, horizon)
    statistic = diebold_mariano(forecasts - targets, naive - targets, horizon)
    needed = critical_value(len(validation))
    choice = {
        "validation_mae": forecast_errors(targets, forecasts)["mae"],
        "validation_naive_mae": forecast_errors(targets, naive)["mae"],
        "validation_dm": statistic,
        "naive_fallback": float(not statistic > needed),
    }
    if choice["naive_fallback"]:
        to_naive(model)
        logger.warning(
            "The forecaster does not beat the naive forecast on validation beyond chance (MAE "
            "%.6g vs naive %.6g over %d windows; Diebold-Mariano %.3g, needs > %.4g): falling "
            "back to the naive forecast (the export forecasts the last value).",
            choice["validation_mae"],
            choice["validation_naive_mae"],
            len(validation),
            statistic,
            needed,
        )
    return choice
