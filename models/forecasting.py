"""Time-series forecasting: a window of raw values -> our LSTM/GRU -> the next ``horizon`` steps.

Normalization and its inverse live inside the model, so it takes raw
windows and returns forecasts in the series' own units. By default the
network predicts the change from the window's last value (a residual on the
naive forecast), which keeps forecasts sensible when a trending series
leaves the range seen in training.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from models.recurrent import RecurrentSpec
from models.validation import check_positive_int


@keras.saving.register_keras_serializable(package="convseq")
class LastValue(keras.layers.Layer):
    """The last step's value of one feature: ``inputs[:, -1, index:index + 1]``.

    Args:
        index: Feature index.
    """

    def __init__(self, index: int = 0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(
                "Invalid value for argument `index`. Expected an integer >= 0. "
                f"Received index={index!r}."
            )
        self.index = index

    def call(self, inputs):
        return inputs[:, -1, self.index : self.index + 1]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "index": self.index}


def forecaster(
    window: int,
    features: int,
    horizon: int,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    target_index: int = 0,
    recurrent: RecurrentSpec | None = None,
    predict_change: bool = True,
    name: str = "forecaster",
) -> keras.Model:
    """A many-to-one (``horizon`` = 1) or many-to-many-over-time forecaster.

    Layout: ``raw [batch, window, features] -> (x - mean) / std -> recurrent
    stack (last state) -> dense(horizon) -> * std[target] -> + last target
    value`` (``predict_change``) or ``+ mean[target]``.

    Args:
        window: Input steps.
        features: Value columns per step.
        horizon: Steps forecast at once.
        mean: Per-feature mean of the training part.
        std: Per-feature standard deviation of the training part (> 0).
        target_index: The feature being forecast.
        recurrent: The recurrent stack; default one LSTM of 64 units.
        predict_change: Predict the change from the last value (True) or the
            level (False).
        name: Model name.

    Returns:
        An uncompiled `keras.Model` mapping ``[batch, window, features]`` to
        ``[batch, horizon]``, both in the series' units.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    check_positive_int("window", window)
    check_positive_int("features", features)
    check_positive_int("horizon", horizon)
    mean = np.asarray(mean, dtype="float32").reshape(-1)
    std = np.asarray(std, dtype="float32").reshape(-1)
    if mean.shape != (features,) or std.shape != (features,):
        raise ValueError(
            f"`mean` and `std` need one value per feature ({features}); received "
            f"{mean.shape[0]} and {std.shape[0]}."
        )
    if not np.all(std > 0):
        raise ValueError(
            f"Invalid value for argument `std`. Expected positive values (a constant column "
            f"cannot be normalized). Received std={std.tolist()}."
        )
    if isinstance(target_index, bool) or not 0 <= target_index < features:
        raise ValueError(
            f"Invalid value for argument `target_index`. Expected 0..{features - 1}. "
            f"Received target_index={target_index!r}."
        )
    recurrent = recurrent or RecurrentSpec()
    raw = keras.Input(shape=(window, features), dtype="float32", name="window")
    x = keras.layers.Normalization(mean=mean, variance=np.square(std), name="normalize")(raw)
    x = recurrent(x)
    x = keras.layers.Dense(horizon, name="normalized_forecast")(x)
    if predict_change:
        x = keras.layers.Rescaling(float(std[target_index]), name="change")(x)
        outputs = keras.layers.Add(name="forecast")([x, LastValue(target_index)(raw)])
    else:
        outputs = keras.layers.Rescaling(
            float(std[target_index]), offset=float(mean[target_index]), name="forecast"
        )(x)
    return keras.Model(raw, outputs, name=name)
