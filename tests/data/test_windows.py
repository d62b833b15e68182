import numpy as np
import pytest

from data.splits_types import Series
from data.windows import forecast_windows, make_windows


def series(n, columns=1):
    values = np.stack([np.arange(n) * (c + 1) for c in range(columns)], axis=1)
    return Series(
        np.array([str(t) for t in range(n)]),
        values.astype(np.float32),
        tuple(f"c{c}" for c in range(columns)),
    )


def test_windows_read_the_past_and_target_the_future():
    windows = make_windows(series(10, 2), window=3, horizon=2, stride=2)
    np.testing.assert_array_equal(windows.inputs[0], [[0, 0], [1, 2], [2, 4]])
    np.testing.assert_array_equal(windows.targets[:, 0], [3, 5, 7])
    np.testing.assert_array_equal(windows.targets[0], [3, 4])
    assert windows.target_times.tolist() == ["3", "5", "7"]
    assert windows.target_steps.tolist() == [3, 5, 7]


def test_blocks_are_chronological_and_statistics_come_from_training_only():
    data = forecast_windows(
        series(100), window=5, horizon=1, validation_fraction=0.2, test_fraction=0.2
    )
    assert data.train.targets.max() < 60 <= data.validation.targets.min()
    assert data.validation.targets.max() < 80 <= data.test.targets.min()
    assert data.test.targets[-1, 0] == 99 and len(data.test) == 20
    np.testing.assert_allclose(data.mean, [np.arange(60).mean()])
    np.testing.assert_allclose(data.std, [np.arange(60).std()], rtol=1e-6)
    np.testing.assert_allclose(data.change_std, [1.0])  # constant steps: no spread, scale 1
    # the first validation window reads context from the training block
    np.testing.assert_array_equal(data.validation.inputs[0, :, 0], [55, 56, 57, 58, 59])


def test_a_series_shorter_than_window_plus_horizon_states_the_numbers():
    with pytest.raises(ValueError, match=r"has 8 steps, fewer than window \+ horizon = 6 \+ 3 = 9"):
        forecast_windows(series(8), window=6, horizon=3)


def test_a_block_without_windows_is_an_error():
    with pytest.raises(ValueError, match="The test block .* holds no window"):
        forecast_windows(
            series(30), window=5, horizon=6, validation_fraction=0.2, test_fraction=0.1
        )


def test_change_scale_is_the_spread_of_one_step_changes():
    values = np.array([0, 1, 3, 4, 6, 7, 9, 10, 12, 13], np.float32)[:, np.newaxis]
    data = forecast_windows(
        Series(np.arange(10).astype(str), values, ("v",)),
        window=2,
        horizon=1,
        validation_fraction=0.2,
        test_fraction=0.2,
    )
    np.testing.assert_allclose(data.change_std, [np.diff(values[:6, 0]).std()])
