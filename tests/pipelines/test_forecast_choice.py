import numpy as np
import pytest

from data.splits_types import Series
from data.windows import forecast_windows
from models.forecasting import forecaster
from models.recurrent import RecurrentSpec
from pipelines.config import TrainConfig
from pipelines.forecast_choice import (
    critical_value,
    diebold_mariano,
    fall_back_if_not_better,
    keep_best_epoch,
)


def test_diebold_mariano_by_hand():
    # d = |naive| - |model| = [0, 2, 0, 2]: mean 1, variance 1, n 4 -> DM = 1 / sqrt(1 / 4) = 2,
    # times the small-sample correction sqrt((4 + 1 - 2) / 4) -> sqrt(3)
    assert diebold_mariano([[1.0], [-1.0], [1.0], [1.0]], [[1.0], [3.0], [-1.0], [3.0]]) == (
        pytest.approx(np.sqrt(3.0))
    )
    # the sign: a worse model is negative
    assert diebold_mariano([[1.0], [3.0], [1.0], [3.0]], [[1.0]] * 4) == pytest.approx(-np.sqrt(3))
    # a tie everywhere is 0; the same gain everywhere is certain
    assert diebold_mariano([[1.0], [2.0]], [[-1.0], [2.0]]) == 0.0
    assert diebold_mariano([[0.5], [1.0]], [[1.5], [2.0]]) == np.inf


def test_diebold_mariano_counts_the_overlap_of_multi_step_examples():
    rng = np.random.default_rng(0)
    naive = rng.normal(size=(200, 3))
    model = 0.9 * naive + 0.1 * rng.normal(size=(200, 3))
    d = (np.abs(naive) - np.abs(model)).mean(axis=1)
    c = d - d.mean()
    gammas = [np.mean(c**2), np.mean(c[1:] * c[:-1]), np.mean(c[2:] * c[:-2])]
    dm3 = d.mean() / np.sqrt((gammas[0] + 2 * gammas[1] + 2 * gammas[2]) / 200)
    hln3 = np.sqrt((200 + 1 - 6 + 3 * 2 / 200) / 200)
    assert diebold_mariano(model, naive, horizon=3) == pytest.approx(dm3 * hln3)
    dm1 = d.mean() / np.sqrt(gammas[0] / 200)
    assert diebold_mariano(model, naive) == pytest.approx(dm1 * np.sqrt(199 / 200))
    with pytest.raises(ValueError, match=r"Received model_errors with shape \(200, 2\)"):
        diebold_mariano(model[:, :2], naive)
    with pytest.raises(ValueError, match="at least two examples"):
        diebold_mariano(model[:1], naive[:1])


def test_the_critical_value_is_students_t_at_five_percent():
    # t tables: 1.796 (11 d.o.f.), 1.697 (30), tending to the normal's 1.645
    assert critical_value(12) == pytest.approx(1.7959, abs=1e-4)
    assert critical_value(31) == pytest.approx(1.6973, abs=1e-4)
    assert 1.6449 < critical_value(10_000) < 1.6452
    with pytest.raises(ValueError, match="Received examples=1"):
        critical_value(1)


def sine_data():
    t = np.arange(240)
    values = (100 + 10 * np.sin(2 * np.pi * t / 12)).astype("float32")[:, np.newaxis]
    return forecast_windows(Series(t.astype(str), values, ("y",)), window=12, horizon=1)


def test_a_tie_or_a_worse_model_falls_back_to_the_last_value():
    data = sine_data()
    inputs, targets = data.validation.inputs, data.validation.targets
    naive_mae = float(np.mean(np.abs(inputs[:, -1] - targets)))
    assert naive_mae > 3.0  # the naive forecast lags a sine of amplitude 10 by a step
    model = forecaster(12, 1, 1, mean=data.mean, std=data.std, recurrent=RecurrentSpec(units=2))
    # untrained, the model is the naive forecast: a tie is not better, so it falls back
    assert fall_back_if_not_better(model, data) == {
        "validation_mae": pytest.approx(naive_mae),
        "validation_naive_mae": pytest.approx(naive_mae),
        "validation_dm": 0.0,
        "naive_fallback": 1.0,
    }
    dense = model.get_layer("normalized_forecast")
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, bias + 2.0])  # a constant correction of 2 change-stds
    shifted = model.predict(inputs, verbose=0)
    worse = fall_back_if_not_better(model, data)
    assert worse["validation_mae"] == pytest.approx(np.mean(np.abs(shifted - targets)))
    assert worse["validation_mae"] > worse["validation_naive_mae"]
    assert worse["validation_dm"] < 0 and worse["naive_fallback"] == 1.0
    np.testing.assert_array_equal(model.predict(inputs, verbose=0), inputs[:, -1])


def zigzag_data(validation_changes):
    """Steps of +1 and -1 over 120 steps, ``validation_changes`` on the validation block."""
    changes = np.where(np.arange(120) % 2 == 0, 1.0, -1.0)
    changes[96:108] = validation_changes
    values = np.cumsum(changes).astype("float32")[:, np.newaxis]
    data = forecast_windows(
        Series(np.arange(120).astype(str), values, ("y",)),
        window=4,
        validation_fraction=0.1,  # steps 96..107
        test_fraction=0.1,
    )
    assert data.validation.target_steps.tolist() == list(range(96, 108))
    return data


def always_plus(data, correction):
    """A forecaster of ``data`` whose forecast is always the last value + ``correction``."""
    model = forecaster(
        4,
        1,
        1,
        mean=data.mean,
        std=data.std,
        change_std=data.change_std,
        recurrent=RecurrentSpec(units=2),
    )
    dense = model.get_layer("normalized_forecast")
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, bias + correction / float(data.change_std[0])])
    inputs = data.validation.inputs
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0), inputs[:, -1] + correction, rtol=0, atol=1e-5
    )
    return model


def test_a_lower_mae_by_chance_is_not_enough():
    # in the 12 validation windows 7 go up and 5 down
    data = zigzag_data([1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1])
    model = always_plus(data, 0.2)
    choice = fall_back_if_not_better(model, data)
    # naive misses every step by 1; +0.2 misses ups by 0.8 and downs by 1.2
    assert choice["validation_naive_mae"] == pytest.approx(1.0)
    assert choice["validation_mae"] == pytest.approx((7 * 0.8 + 5 * 1.2) / 12, abs=1e-5)
    # d = +-0.2: mean 0.2 * 2 / 12, variance 0.04 * (1 - (2 / 12) ** 2), correction sqrt(11 / 12)
    expected = (0.4 / 12) / np.sqrt(0.04 * (1 - (2 / 12) ** 2) / 12) * np.sqrt(11 / 12)
    assert choice["validation_dm"] == pytest.approx(expected, rel=1e-4)
    assert 0.5 < expected < critical_value(12)
    assert choice["naive_fallback"] == 1.0
    inputs = data.validation.inputs
    np.testing.assert_array_equal(model.predict(inputs, verbose=0), inputs[:, -1])


def test_a_model_better_beyond_chance_is_kept():
    data = zigzag_data(1.0)  # every validation window goes up by 1
    model = always_plus(data, 0.2)
    before = model.predict(data.test.inputs, verbose=0)
    choice = fall_back_if_not_better(model, data)
    assert choice["validation_mae"] == pytest.approx(0.8, abs=1e-5)  # 1 - 0.2 every step
    # the same gain every window: certain, up to float32 rounding of the forecasts
    assert choice["validation_dm"] > 1e3 and choice["naive_fallback"] == 0.0
    np.testing.assert_array_equal(model.predict(data.test.inputs, verbose=0), before)


def test_keep_best_epoch_restores_the_lowest_validation_loss_unless_early_stopping_does():
    (keeper,) = keep_best_epoch(TrainConfig(task="forecast", epochs=7))
    assert (keeper.monitor, keeper.patience, keeper.restore_best_weights) == ("val_loss", 7, True)
    assert keep_best_epoch(TrainConfig(task="forecast", early_stopping_patience=3)) == []
