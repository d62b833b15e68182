"""Forecasting windows over a series: chronological split, training-only statistics.

The series is cut into train, validation and test blocks in time order (the
test block is the tail). Each example is ``window`` consecutive steps of all
columns and the next ``horizon`` values of the target column; a validation or
test example may read context from the block before it, but its targets lie
inside its own block. Normalization statistics come from the training block
only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from common.validation import check_positive_int
from data.splits import chronological_split_indices
from data.splits_types import Series


@dataclasses.dataclass(frozen=True)
class Windows:
    """Examples of one block.

    Attributes:
        inputs: ``float32 [n, window, features]`` raw values.
        targets: ``float32 [n, horizon]`` raw future values of the target.
        target_times: Time stamp of each example's first forecast step.
        target_steps: Index in the series of each example's first forecast step.
    """

    inputs: np.ndarray
    targets: np.ndarray
    target_times: np.ndarray
    target_steps: np.ndarray

    def __len__(self) -> int:
        return int(self.targets.shape[0])


@dataclasses.dataclass(frozen=True)
class ForecastData:
    """Windows of the three blocks and the training block's statistics.

    Attributes:
        train: Training windows.
        validation: Validation windows.
        test: Test windows (the held-out tail).
        mean: Per-column mean of the training block.
        std: Per-column standard deviation of the training block (1 where 0).
        change_std: Per-column standard deviation of one-step changes in the
            training block (1 where 0): the scale of what a forecast adds to
            the last value.
        columns: Column names; the target is ``columns[0]``.
    """

    train: Windows
    validation: Windows
    test: Windows
    mean: np.ndarray
    std: np.ndarray
    change_std: np.ndarray
    columns: tuple[str, ...]


def make_windows(
    series: Series, window: int, horizon: int, stride: int = 1, start: int = 0, stop=None
) -> Windows:
    """Windows whose targets fall in ``[start, stop)`` of the series.

    Args:
        series: The series; the target is its first column.
        window: Input steps.
        horizon: Forecast steps.
        stride: Steps between consecutive examples.
        start: First step a target may fall on (context before it is used).
        stop: One past the last step a target may fall on (default: the end).

    Returns:
        `Windows`, possibly empty.
    """
    stop = len(series) if stop is None else stop
    first = max(start, window)
    starts = np.arange(first, stop - horizon + 1, stride)  # index of the first target step
    if len(starts) == 0:
        features = series.values.shape[1]
        return Windows(
            np.zeros((0, window, features), np.float32),
            np.zeros((0, horizon), np.float32),
            np.zeros((0,), dtype=series.times.dtype),
            np.zeros((0,), dtype=np.int64),
        )
    inputs = np.stack([series.values[s - window : s] for s in starts])
    targets = np.stack([series.values[s : s + horizon, 0] for s in starts])
    return Windows(
        inputs.astype(np.float32), targets.astype(np.float32), series.times[starts], starts
    )


def forecast_windows(
    series: Series,
    *,
    window: int,
    horizon: int = 1,
    stride: int = 1,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> ForecastData:
    """Splits a series chronologically and cuts each block into windows.

    Args:
        series: The series; its first column is the target.
        window: Input steps per example.
        horizon: Steps forecast per example.
        stride: Steps between examples.
        validation_fraction: Share of steps in the validation block.
        test_fraction: Share of steps in the test tail.

    Returns:
        A `ForecastData`.

    Raises:
        ValueError: If the series is shorter than ``window + horizon``, or a
            block yields no window; the message gives the numbers.
    """
    for name, value in (("window", window), ("horizon", horizon), ("stride", stride)):
        check_positive_int(name, value)
    n = len(series)
    if n < window + horizon:
        raise ValueError(
            f"The series has {n} steps, fewer than window + horizon = {window} + {horizon} "
            f"= {window + horizon}; no example fits. Use a shorter window or horizon."
        )
    train_steps, validation_steps, test_steps = chronological_split_indices(
        n, validation_fraction, test_fraction
    )
    blocks = {
        "train": make_windows(series, window, horizon, stride, 0, train_steps[-1] + 1),
        "validation": make_windows(
            series, window, horizon, stride, validation_steps[0], validation_steps[-1] + 1
        ),
        "test": make_windows(series, window, horizon, stride, test_steps[0], n),
    }
    sizes = {
        "train": len(train_steps),
        "validation": len(validation_steps),
        "test": len(test_steps),
    }
    for name, windows in blocks.items():
        if len(windows) == 0:
            raise ValueError(
                f"The {name} block ({sizes[name]} of {n} steps) holds no window of "
                f"window={window} + horizon={horizon}"
                + (f" (training targets start at step {window})" if name == "train" else "")
                + ". Use a shorter window or horizon, a longer series, or other fractions."
            )
    training_values = series.values[train_steps]
    mean = training_values.mean(axis=0)
    std = training_values.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    change_std = np.diff(training_values, axis=0).std(axis=0)
    change_std = np.where(change_std > 0, change_std, 1.0)
    return ForecastData(
        **blocks,
        mean=mean.astype(np.float32),
        std=std.astype(np.float32),
        change_std=change_std.astype(np.float32),
        columns=series.columns,
    )
