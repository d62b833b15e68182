"""Time-series forecasting: a window of raw values -> our LSTM/GRU/ESN -> the next steps.

Normalization and its inverse live inside the model, so it takes raw
windows and returns forecasts in the series' own units. By default the
network predicts the change from the window's last value (a residual on the
naive forecast) from each step relative to the last value, in units of a
typical one-step change: small weekly moves of a series with a large level
(CO2) are not lost in normalization, and a series whose test tail leaves
the range seen in training (a stock price) shows the network nothing it has
not seen. The normalized level itself is an extra input only on request
(``level_inputs``): by default it is left out because a level outside the
training range is exactly what such a series shows at test time. The layer
that outputs the change starts at zero, so an untrained forecaster is the
naive one, and `to_naive` sets it back there (the fallback of a forecaster
that does not beat naive on validation).

The recurrent part is our LSTM/GRU/SimpleRNN stack (`RecurrentSpec`) or an
echo state reservoir (`ReservoirSpec`): fixed random recurrent weights, only
the readout is trained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np

from common.validation import check_non_negative_int, check_positive_int
from models.conv_front import ConvSpec
from models.layers.echo_state import EchoState
from models.recurrent import RecurrentSpec

CHANGE_LAYER = "normalized_forecast"
"""Name of the dense layer whose output, scaled, is added to the last value."""


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


@dataclasses.dataclass(frozen=True)
class ReservoirSpec:
    """An echo state reservoir in place of the recurrent stack: fixed weights, trained readout.

    Attributes:
        units: Reservoir size.
        spectral_radius: Largest |eigenvalue| of the reservoir matrix.
        sparsity: Fraction of zero reservoir weights.
        leak_rate: Leak rate in (0, 1]; smaller is slower.
        input_scaling: Range of the input weights.
        seed: Seed of the reservoir's weights.

    Example:
        >>> ReservoirSpec(units=50, seed=0)(keras.Input((24, 2))).shape
        (None, 50)
    """

    units: int = 200
    spectral_radius: float = 0.9
    sparsity: float = 0.9
    leak_rate: float = 1.0
    input_scaling: float = 0.5  # inputs in change units span several: keep tanh unsaturated
    seed: int = 0

    def __post_init__(self):
        # The arguments are checked by `EchoStateCell`; build one now so a bad
        # value fails here, not when the model is built.
        self._layer()

    def _layer(self, name: str | None = None) -> EchoState:
        return EchoState(
            self.units,
            spectral_radius=self.spectral_radius,
            sparsity=self.sparsity,
            leak_rate=self.leak_rate,
            input_scaling=self.input_scaling,
            seed=self.seed,
            name=name,
        )

    def __call__(self, inputs):
        """The reservoir's last state ``[batch, units]`` over ``inputs [batch, time, features]``."""
        return self._layer("echo_state")(inputs)


def to_naive(model: keras.Model) -> keras.Model:
    """Sets a change-predicting forecaster's change to zero: it then forecasts the last value.

    Args:
        model: A model from `forecaster` with ``predict_change=True``.

    Returns:
        ``model``, changed in place.

    Raises:
        ValueError: If the model does not predict the change from the last value.
    """
    names = {layer.name for layer in model.layers}
    if CHANGE_LAYER not in names or "change" not in names:
        raise ValueError(
            "Invalid value for argument `model`. Expected a forecaster built with "
            f"predict_change=True (layers {CHANGE_LAYER!r} and 'change'). Received {model.name!r} "
            f"with layers {sorted(names)}."
        )
    dense = model.get_layer(CHANGE_LAYER)
    dense.set_weights([np.zeros_like(weight) for weight in dense.get_weights()])
    return model


def forecaster(
    window: int,
    features: int,
    horizon: int,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    change_std: Sequence[float] | None = None,
    target_index: int = 0,
    recurrent: RecurrentSpec | ReservoirSpec | None = None,
    conv: ConvSpec | None = None,
    predict_change: bool = True,
    level_inputs: bool = False,
    name: str = "forecaster",
) -> keras.Model:
    """A many-to-one (``horizon`` = 1) or many-to-many-over-time forecaster.

    Layout with ``predict_change``: ``raw [batch, window, features] ->
    (x - x_last) / change_std [concatenated after (x - mean) / std with
    level_inputs] -> [conv front] -> recurrent stack or reservoir (last
    state) -> dense(horizon), zeros at first -> * change_std[target] -> +
    last target value``. Without: ``(x - mean) / std -> [conv front] ->
    recurrent stack or reservoir -> dense(horizon) -> * std[target] +
    mean[target]``. The conv front pads ``"causal"``: its features at step t
    read steps <= t only.

    Args:
        window: Input steps.
        features: Value columns per step.
        horizon: Steps forecast at once.
        mean: Per-feature mean of the training part.
        std: Per-feature standard deviation of the training part (> 0).
        change_std: Per-feature standard deviation of one-step changes in
            the training part (> 0); default ``std``.
        target_index: The feature being forecast.
        recurrent: The recurrent stack (default one LSTM of 64 units), or an
            echo state reservoir whose weights stay fixed.
        conv: `Conv1D` layers before the recurrent stack; default none.
        predict_change: Predict the change from the last value (True) or the
            level (False).
        level_inputs: With ``predict_change``, also feed the normalized
            level of each step (without ``predict_change`` the level is the
            input).
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
    inputs = []
    if level_inputs or not predict_change:
        inputs.append(
            keras.layers.Normalization(
                mean=mean, variance=np.square(std), dtype="float32", name="normalize"
            )(raw)
        )
    if predict_change:
        inputs.append(RelativeToLast(change_std, dtype="float32", name="relative_to_last")(raw))
    x = inputs[0] if len(inputs) == 1 else keras.layers.Concatenate(name="level_and_change")(inputs)
    x = conv(x, padding="causal")
    x = recurrent(x)
    x = keras.layers.Dense(
        horizon,
        # The change starts at zero: an untrained forecaster is the naive one.
        kernel_initializer="zeros" if predict_change else "glorot_uniform",
        dtype="float32",
        name=CHANGE_LAYER,
    )(x)
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
