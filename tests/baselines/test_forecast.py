import numpy as np
import pytest

from baselines.forecast import (
    arima_forecasts,
    ets_forecasts,
    forecast_baselines,
    naive_forecasts,
    seasonal_naive_forecasts,
)


def mae(forecasts, values, steps, horizon=1):
    targets = np.stack([values[s : s + horizon] for s in steps])
    return float(np.mean(np.abs(forecasts - targets)))


def ar2(steps=300, seed=0):
    """x_t = 0.6 x_{t-1} - 0.3 x_{t-2} + e_t: one-step MAE of the best forecast is E|e| = 0.80."""
    noise = np.random.default_rng(seed).normal(size=steps)
    x = np.zeros(steps)
    for t in range(2, steps):
        x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + noise[t]
    return x, noise


def test_naive_repeats_the_value_before_each_origin():
    values = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    forecasts = naive_forecasts(values, [2, 3, 4])
    np.testing.assert_array_equal(forecasts[:, 0], [2.0, 4.0, 7.0])
    assert mae(forecasts, values, [2, 3, 4]) == pytest.approx((2 + 3 + 4) / 3)
    np.testing.assert_array_equal(naive_forecasts(values, [2], horizon=3), [[2.0, 2.0, 2.0]])


def test_seasonal_naive_reads_the_last_cycle_before_the_origin_only():
    values = np.tile([10.0, 20.0, 30.0, 40.0], 5)  # season 4
    steps = np.arange(8, 16)  # two whole cycles
    seasonal = seasonal_naive_forecasts(values, steps, horizon=1, season=4)
    assert mae(seasonal, values, steps) == 0.0
    # naive misses by 10, 10, 10 and 30 (40 -> 10) each cycle
    assert mae(naive_forecasts(values, steps), values, steps) == pytest.approx(15.0)
    # a horizon past the season reads the cycle before the origin, never a later value
    counting = np.arange(20.0)
    np.testing.assert_array_equal(
        seasonal_naive_forecasts(counting, [12], horizon=6, season=4), [[8, 9, 10, 11, 8, 9]]
    )


def test_ets_recovers_a_noiseless_trend_that_naive_lags():
    values = 3.0 + 0.5 * np.arange(60.0)
    steps = np.arange(40, 58)
    ets = ets_forecasts(values, steps, horizon=2, fit_stop=40)
    assert ets.model in ("ETS(A,A,N)", "ETS(A,Ad,N)")
    assert mae(ets.forecasts, values, steps, 2) < 1e-6
    # naive misses by one step (0.5) at h=1 and two (1.0) at h=2
    assert mae(naive_forecasts(values, steps, 2), values, steps, 2) == pytest.approx(0.75)


def test_ets_with_a_season_beats_the_naive_forecast_on_a_seasonal_series():
    t = np.arange(96.0)
    noise = np.random.default_rng(1).normal(scale=0.3, size=t.size)
    values = 10 * np.sin(2 * np.pi * t / 12) + 0.2 * t + noise
    steps = np.arange(72, 96)
    ets = ets_forecasts(values, steps, horizon=1, fit_stop=72, season=12)
    assert ets.model.endswith(",A)")
    ets_mae = mae(ets.forecasts, values, steps)
    assert ets_mae < 0.6  # noise alone: E|e| = 0.24
    assert ets_mae < 0.2 * mae(naive_forecasts(values, steps), values, steps)


def test_arima_finds_an_ar2_and_forecasts_near_the_best_possible():
    values, noise = ar2()
    steps = np.arange(250, 300)
    orders = ((0, 0), (1, 0), (2, 0), (1, 1), (0, 2))  # a small grid keeps the test fast
    arima = arima_forecasts(values, steps, horizon=1, fit_stop=250, orders=orders)
    assert arima.model == "ARIMA(2,0,0)+c"  # stationary (d = 0), the true order
    best = float(np.mean(np.abs(noise[steps])))  # the true model's one-step error
    assert mae(arima.forecasts, values, steps) < 1.1 * best
    assert mae(arima.forecasts, values, steps) < 0.9 * mae(
        naive_forecasts(values, steps), values, steps
    )


@pytest.mark.parametrize("method", ["ets", "arima"])
def test_a_forecast_reads_nothing_after_its_origin(method):
    values, _ = ar2(120, seed=3)
    values = values + 50.0
    steps = np.arange(100, 110)

    def forecast(series, horizon):
        if method == "ets":
            return ets_forecasts(series, steps, horizon, fit_stop=100).forecasts
        return arima_forecasts(series, steps, horizon, fit_stop=100, orders=((2, 0),)).forecasts

    changed = values.copy()
    changed[105:] += 40.0  # a level shift from step 105 on
    one_step, one_step_changed = forecast(values, 1), forecast(changed, 1)
    np.testing.assert_allclose(one_step_changed[:6], one_step[:6], atol=1e-9)
    assert np.all(np.abs(one_step_changed[6:] - one_step[6:]) > 1e-3)  # the shift is seen
    # the one-pass (h = 1) and per-origin (h > 1) paths agree on the first step
    np.testing.assert_allclose(forecast(values, 2)[:, 0], one_step[:, 0], atol=1e-6)


def test_every_baseline_on_the_same_examples(monkeypatch):
    monkeypatch.setattr("baselines.forecast.ARIMA_ORDERS", ((1, 0),))  # shapes, not the search
    values = np.tile([1.0, 3.0, 2.0, 5.0], 20) + 0.1 * np.arange(80)
    steps = np.arange(60, 78)
    baselines = forecast_baselines(values, steps, horizon=2, fit_stop=60, season=4)
    assert list(baselines) == ["naive", "seasonal_naive", "ets", "arima"]
    assert all(b.forecasts.shape == (18, 2) for b in baselines.values())
    assert all(np.isfinite(b.forecasts).all() for b in baselines.values())
    assert all(name == b.name for name, b in baselines.items())
    np.testing.assert_array_equal(baselines["naive"].forecasts, naive_forecasts(values, steps, 2))
    np.testing.assert_array_equal(
        baselines["seasonal_naive"].forecasts, seasonal_naive_forecasts(values, steps, 2, 4)
    )
    assert (baselines["naive"].model, baselines["seasonal_naive"].model) == (
        "last value",
        "value 4 steps before",
    )
    assert baselines["ets"].model.endswith(",A)")  # the season reaches ETS
    assert baselines["arima"].model.startswith("ARIMA(1,")
    assert "seasonal_naive" not in forecast_baselines(values, steps, 1, 60)


def test_bad_arguments_are_named():
    values = np.arange(30.0)
    with pytest.raises(ValueError, match=r"fit_stop.*must not be fitted.*Received fit_stop=25"):
        ets_forecasts(values, [20, 21], 1, fit_stop=25)
    with pytest.raises(ValueError, match=r"target_steps.*Received target_steps from 0 to 0"):
        naive_forecasts(values, [0])
    with pytest.raises(ValueError, match=r"Received target_steps from 20 to 29"):
        naive_forecasts(values, np.arange(20, 30), horizon=2)
    with pytest.raises(ValueError, match="Received season=0"):
        seasonal_naive_forecasts(values, [20], 1, season=0)
    with pytest.raises(ValueError, match=r"target_steps.*Received target_steps from 12 to 12"):
        seasonal_naive_forecasts(values, [12], 1, season=13)  # less than a season of history
    with pytest.raises(ValueError, match=r"Received values with shape \(30, 1\)"):
        naive_forecasts(values[:, np.newaxis], [20])
