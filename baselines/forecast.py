"""Forecasting baselines: naive, seasonal naive, exponential smoothing (ETS) and ARIMA.

Each forecasts the same examples as convseq's forecaster: for an example
whose first target is step ``s`` of the series, the next ``horizon`` values
``y[s], ..., y[s + horizon - 1]`` from the history ``y[:s]`` only (a rolling
origin). ETS and ARIMA are fitted once, on the steps before ``fit_stop``
(the bench passes the start of the test tail: the training and validation
blocks); their parameters then stay fixed while the filter reads the rest
of the series, so each forecast uses the data before its origin and nothing
after it. Orders are chosen by AIC on the fitted part, as ``ets()`` and
``auto.arima()`` in R's forecast package do, over a smaller grid.

The state-space filters multiply tiny matrices: a multi-threaded BLAS only
adds thread overhead there (worst on a machine whose cores are busy), so
ETS and ARIMA run under a one-thread BLAS limit.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import warnings
from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from common.validation import check_non_negative_int, check_positive_int

__all__ = [
    "BaselineForecast",
    "arima_forecasts",
    "ets_forecasts",
    "forecast_baselines",
    "naive_forecasts",
    "seasonal_naive_forecasts",
]

ARIMA_ORDERS = tuple(itertools.product(range(4), range(3)))
"""The ``(p, q)`` pairs the ARIMA baseline chooses from by AIC."""


@dataclasses.dataclass(frozen=True)
class BaselineForecast:
    """One baseline's forecasts of every example.

    Attributes:
        name: ``naive``, ``seasonal_naive``, ``ets`` or ``arima``.
        forecasts: ``float64 [n, horizon]``.
        model: The model chosen, e.g. ``"ETS(A,Ad,N)"`` or ``"ARIMA(2,0,1)+c"``.
    """

    name: str
    forecasts: np.ndarray
    model: str


def _one_blas_thread(function):
    """Runs ``function`` under a one-thread BLAS limit (restored afterwards)."""

    @functools.wraps(function)
    def limited(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return limited


def _checked(values, target_steps, horizon: int, first: int = 1):
    values = np.asarray(values, dtype="float64")
    if values.ndim != 1:
        raise ValueError(
            "Invalid value for argument `values`. Expected the target series, one dimension. "
            f"Received values with shape {values.shape}."
        )
    check_positive_int("horizon", horizon)
    steps = np.asarray(target_steps, dtype="int64").reshape(-1)
    if steps.size == 0 or steps.min() < first or steps.max() + horizon > len(values):
        raise ValueError(
            f"Invalid value for argument `target_steps`. Expected steps in [{first}, "
            f"{len(values) - horizon}] (history before each, {horizon} steps after it in a "
            f"series of {len(values)}). Received target_steps from "
            f"{steps.min() if steps.size else None} to {steps.max() if steps.size else None}."
        )
    return values, steps


def naive_forecasts(values, target_steps, horizon: int = 1) -> np.ndarray:
    """The last value before each origin, repeated over the horizon.

    Args:
        values: The target series ``[steps]``.
        target_steps: Each example's first forecast step (>= 1).
        horizon: Steps forecast per example.

    Returns:
        ``[n, horizon]`` forecasts.

    Raises:
        ValueError: On a step without history or without ``horizon`` steps after it.

    Example:
        >>> naive_forecasts([1.0, 2.0, 4.0, 7.0], [2, 3], horizon=1)
        array([[2.],
               [4.]])
    """
    values, steps = _checked(values, target_steps, horizon)
    return np.repeat(values[steps - 1, np.newaxis], horizon, axis=1)


def seasonal_naive_forecasts(values, target_steps, horizon: int, season: int) -> np.ndarray:
    """The value of the same season in the last cycle before each origin.

    Step ``s + j`` is forecast by ``y[s + j - k * season]`` with the smallest
    ``k`` that reaches back before ``s``, so a horizon longer than the season
    never reads a value after the origin.

    Args:
        values: The target series ``[steps]``.
        target_steps: Each example's first forecast step (>= ``season``).
        horizon: Steps forecast per example.
        season: Seasonal period in steps.

    Returns:
        ``[n, horizon]`` forecasts.

    Raises:
        ValueError: On a season < 1 or a step with less than a season of history.
    """
    check_positive_int("season", season)
    values, steps = _checked(values, target_steps, horizon, first=season)
    ahead = np.arange(horizon)
    cycles = ahead // season + 1
    return values[steps[:, np.newaxis] + ahead - cycles * season]


def _fit_before(values: np.ndarray, steps: np.ndarray, fit_stop: int) -> np.ndarray:
    check_positive_int("fit_stop", fit_stop)
    if fit_stop > steps.min():
        raise ValueError(
            "Invalid value for argument `fit_stop`. Expected at most the first forecast step "
            f"({steps.min()}): a baseline must not be fitted on what it forecasts. "
            f"Received fit_stop={fit_stop}."
        )
    return values[:fit_stop]


def _ets_model(values: np.ndarray, trend: str | None, damped: bool, season: int):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    return ETSModel(
        values,
        error="add",
        trend=trend,
        damped_trend=damped,
        seasonal="add" if season else None,
        seasonal_periods=season or None,
    )


@_one_blas_thread
def ets_forecasts(
    values, target_steps, horizon: int, fit_stop: int, season: int = 0
) -> BaselineForecast:
    """Additive-error exponential smoothing (statsmodels' `ETSModel`), fitted once.

    Candidates: no trend, additive trend and damped additive trend, each with
    an additive season of ``season`` steps when one is given; the lowest AIC
    on ``values[:fit_stop]`` wins. The chosen parameters (smoothing weights
    and initial states) then run over the history before each origin.

    Args:
        values: The target series ``[steps]``.
        target_steps: Each example's first forecast step, >= ``fit_stop``.
        horizon: Steps forecast per example.
        fit_stop: The model is fitted on the steps before this one.
        season: Seasonal period in steps (0: no season).

    Returns:
        A `BaselineForecast` named ``ets``.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    values, steps = _checked(values, target_steps, horizon)
    check_non_negative_int("season", season)
    fitted = _fit_before(values, steps, fit_stop)
    best = None
    for trend, damped in ((None, False), ("add", False), ("add", True)):
        with warnings.catch_warnings():
            # As for ARIMA: a candidate whose optimiser stops early still has an AIC.
            warnings.simplefilter("ignore", ConvergenceWarning)
            results = _ets_model(fitted, trend, damped, season).fit(disp=False)
        if best is None or results.aic < best[0].aic:
            best = (results, trend, damped)
    results, trend, damped = best
    if horizon == 1:
        # One pass of the smoother over the whole series: its one-step
        # predictions at step s read y[:s] only.
        smoothed = _ets_model(values, trend, damped, season).smooth(results.params)
        forecasts = np.asarray(smoothed.fittedvalues)[steps, np.newaxis]
    else:
        forecasts = np.stack(
            [
                _ets_model(values[:step], trend, damped, season)
                .smooth(results.params)
                .forecast(horizon)
                for step in steps
            ]
        )
    name = f"ETS(A,{'N' if trend is None else 'Ad' if damped else 'A'},{'A' if season else 'N'})"
    return BaselineForecast("ets", np.asarray(forecasts, "float64"), name)


def _differences(values: np.ndarray, max_d: int = 2) -> int:
    """Differences needed before the KPSS test stops rejecting level stationarity at 5%."""
    from statsmodels.tools.sm_exceptions import InterpolationWarning
    from statsmodels.tsa.stattools import kpss

    series = values
    for d in range(max_d + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InterpolationWarning)  # p-value outside the table
            p_value = kpss(series, regression="c", nlags="auto", result_object=True).pvalue
        if p_value >= 0.05 or d == max_d:
            return d
        series = np.diff(series)
    return max_d


@_one_blas_thread
def arima_forecasts(
    values, target_steps, horizon: int, fit_stop: int, orders: Sequence[tuple[int, int]] = ()
) -> BaselineForecast:
    """ARIMA(p, d, q) (statsmodels' `ARIMA`), fitted once.

    ``d`` is the number of differences after which the KPSS test no longer
    rejects stationarity (as ``auto.arima`` does); ``(p, q)`` from ``orders``
    (default `ARIMA_ORDERS`: p in 0..3, q in 0..2) minimises the AIC on
    ``values[:fit_stop]``, with a constant
    (``d`` = 0) or a drift (``d`` = 1). The fitted parameters then filter
    the history before each origin.

    Args:
        values: The target series ``[steps]``.
        target_steps: Each example's first forecast step, >= ``fit_stop``.
        horizon: Steps forecast per example.
        fit_stop: The model is fitted on the steps before this one.
        orders: The ``(p, q)`` pairs to choose from (empty: `ARIMA_ORDERS`).

    Returns:
        A `BaselineForecast` named ``arima``.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.arima.model import ARIMA

    values, steps = _checked(values, target_steps, horizon)
    fitted = _fit_before(values, steps, fit_stop)
    d = _differences(fitted)
    trend = {0: "c", 1: "t"}.get(d, "n")
    best = None
    for p, q in orders or ARIMA_ORDERS:
        with warnings.catch_warnings():
            # A candidate whose optimiser stops early still has an AIC; the
            # grid's winner is what counts.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", "Non-(stationary|invertible) starting")
            results = ARIMA(fitted, order=(p, d, q), trend=trend).fit()
        if best is None or results.aic < best[0].aic:
            best = (results, p, q)
    results, p, q = best
    if horizon == 1:
        applied = results.apply(values)  # same parameters, the whole series filtered
        forecasts = np.asarray(applied.get_prediction().predicted_mean)[steps, np.newaxis]
    else:
        forecasts = np.stack([results.apply(values[:step]).forecast(horizon) for step in steps])
    name = f"ARIMA({p},{d},{q})" + {"c": "+c", "t": "+drift"}.get(trend, "")
    return BaselineForecast("arima", np.asarray(forecasts, "float64"), name)


def forecast_baselines(
    values, target_steps, horizon: int, fit_stop: int, season: int = 0
) -> dict[str, BaselineForecast]:
    """Every baseline on the same examples: naive, seasonal naive (with a season), ETS, ARIMA.

    Args:
        values: The target series ``[steps]``.
        target_steps: Each example's first forecast step, >= ``fit_stop``.
        horizon: Steps forecast per example.
        fit_stop: ETS and ARIMA are fitted on the steps before this one.
        season: Seasonal period in steps (0: none known, no seasonal naive).

    Returns:
        Name -> `BaselineForecast`, in that order.
    """
    baselines = {
        "naive": BaselineForecast(
            "naive", naive_forecasts(values, target_steps, horizon), "last value"
        )
    }
    if season:
        baselines["seasonal_naive"] = BaselineForecast(
            "seasonal_naive",
            seasonal_naive_forecasts(values, target_steps, horizon, season),
            f"value {season} steps before",
        )
    baselines["ets"] = ets_forecasts(values, target_steps, horizon, fit_stop, season)
    baselines["arima"] = arima_forecasts(values, target_steps, horizon, fit_stop)
    return baselines
