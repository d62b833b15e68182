"""Time-series forecasting: a window of raw values -> our LSTM/GRU -> the next ``horizon`` steps.

Normalization and its inverse live inside the model, so it takes raw
windows and returns forecasts in the series' own units. By default the
network predicts the change from the window's last value (a residual on the
naive forecast), which keeps forecasts sensible when a trending series
leaves the range seen in training; it then also sees each step relative to
the last value, in units of a typical one-step change, so small weekly
moves of a series with a large level (CO2) are not lost in normalization.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from common.validation import check_non_negative_int, check_positive_int
from models.conv_front import ConvSpec
from models.recurrent import RecurrentSpec


@keras.saving.register_keras_serializable(package="convseq")
class LastValue(keras.layers.Layer):
    """The last step's value of one feature: ``inputs[:, -1, index:index + 1]``.

    Args:
        index: Feature index.
    """

    def __init__(self, index: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.index = check_non_negative_int("index", index)

    def call(self, inputs):
        return inputs[:, -1, self.index : self.index + 1]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@keras.saving.register_keras_serializable(package="convseq")
class RelativeToLast(keras.layers.Layer):
    """Each step minus the window's last step, divided by a per-feature scale.

    Args:
        scale: Per-feature divisor (a typical one-step change).
    """

    def __init__(self, scale=(1.0,), **kwargs):
        super().__init__(**kwargs)
        self.scale = [float(v) for v in np.asarray(scale, dtype="float64").reshape(-1)]
        if not all(v > 0 for v in self.scale):
            raise ValueError(
                "Invalid value for argument `scale`. Expected positive values. "
                f"Received scale={self.scale}."
            )

    def call(self, inputs):
        scale = keras.ops.convert_to_tensor(self.scale, dtype=inputs.dtype)
        return (inputs - inputs[:, -1:, :]) / scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def forecaster(
    window: int,
    features: int,
    horizon: int,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    change_std: Sequence[float] | None = None,
    target_index: int = 0,
    recurrent: RecurrentSpec | None = None,
    conv: ConvSpec | None = None,
    predict_change: bool = True,
    name: str = "forecaster",
) -> keras.Model:
    """A many-to-one (``horizon`` = 1) or many-to-many-over-time forecaster.

    Layout with ``predict_change``: ``raw [batch, window, features] ->
    concat((x - mean) / std, (x - x_last) / change_std) -> [conv front] ->
    recurrent stack (last state) -> dense(horizon) -> * change_std[target] ->
    + last target value``. Without: ``(x - mean) / std -> [conv front] ->
    recurrent stack -> dense(horizon) -> * std[target] + mean[target]``. The
    conv front pads ``"causal"``: its features at step t read steps <= t only.

    Args:
        window: Input steps.
        features: Value columns per step.
        horizon: Steps forecast at once.
        mean: Per-feature mean of the training part.
        std: Per-feature standard deviation of the training part (> 0).
        change_std: Per-feature standard deviation of one-step changes in
            the training part (> 0); default ``std``.
        target_index: The feature being forecast.
        recurrent: The recurrent stack; default one LSTM of 64 units.
        conv: `Conv1D` layers before the recurrent stack; default none.
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
    change_std = std if change_std is None else np.asarray(change_std, "float32").reshape(-1)
    for argument, values in (("std", std), ("change_std", change_std)):
        if values.shape != (features,) or not np.all(values > 0):
            raise ValueError(
                f"Invalid value for argument `{argument}`. Expected {features} positive values "
                f"(a constant column cannot be normalized). Received "
                f"{argument}={values.tolist()}."
            )
    if isinstance(target_index, bool) or not 0 <= target_index < features:
        raise ValueError(
            f"Invalid value for argument `target_index`. Expected 0..{features - 1}. "
            f"Received target_index={target_index!r}."
        )
    recurrent = recurrent or RecurrentSpec()
    conv = conv or ConvSpec()
    raw = keras.Input(shape=(window, features), dtype="float32", name="window")
    x = keras.layers.Normalization(
        mean=mean, variance=np.square(std), dtype="float32", name="normalize"
    )(raw)
    if predict_change:
        relative = RelativeToLast(change_std, dtype="float32", name="relative_to_last")(raw)
        x = keras.layers.Concatenate(name="level_and_change")([x, relative])
    x = conv(x, padding="causal")
    x = recurrent(x)
    x = keras.layers.Dense(horizon, dtype="float32", name="normalized_forecast")(x)
    if predict_change:
        x = keras.layers.Rescaling(float(change_std[target_index]), dtype="float32", name="change")(
            x
        )
        outputs = keras.layers.Add(dtype="float32", name="forecast")(
            [x, LastValue(target_index, dtype="float32")(raw)]
        )
    else:
        outputs = keras.layers.Rescaling(
            float(std[target_index]),
            offset=float(mean[target_index]),
            dtype="float32",
            name="forecast",
        )(x)
    return keras.Model(raw, outputs, name=name)
