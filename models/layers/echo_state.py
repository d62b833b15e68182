"""Echo state network reservoir: a fixed random recurrent layer, only the readout learns.

Reservoir computing sidesteps vanishing and exploding gradients: the
recurrent weights are drawn once (sparse, scaled to a chosen spectral radius
so the echo state property holds) and never trained; a readout on top of the
reservoir states is the only trained part.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from common.validation import check_positive_int
from models.layers.rnn import BaseRecurrent


def reservoir_matrix(units: int, spectral_radius: float, sparsity: float, seed: int) -> np.ndarray:
    """A sparse random ``units x units`` matrix with the given spectral radius.

    Exactly ``round(sparsity * units**2)`` entries are zero; the others are
    drawn from U(-1, 1), then the matrix is scaled so its largest absolute
    eigenvalue equals ``spectral_radius``.

    Args:
        units: Reservoir size.
        spectral_radius: Target largest |eigenvalue|, > 0 (usually < 1).
        sparsity: Fraction of zero entries, in [0, 1).
        seed: Seed of the draw.

    Returns:
        A float32 array.
    """
    rng = np.random.default_rng(seed)
    weights = rng.uniform(-1.0, 1.0, size=(units, units))
    zeros = int(round(sparsity * units * units))
    if zeros:
        flat = weights.reshape(-1)
        flat[rng.choice(flat.size, size=zeros, replace=False)] = 0.0
    radius = float(np.max(np.abs(np.linalg.eigvals(weights))))
    if radius == 0.0:
        raise ValueError(
            f"The reservoir drawn with units={units}, sparsity={sparsity} has no nonzero "
            "eigenvalue; use more units or a lower sparsity."
        )
    return (weights * (spectral_radius / radius)).astype("float32")


@keras.saving.register_keras_serializable(package="convseq")
class EchoStateCell(keras.layers.Layer):
    """One leaky reservoir step with fixed weights.

    ``h_t = (1 - a) h_{t-1} + a tanh(x_t W_in + h_{t-1} W + b)`` with leak rate
    ``a``; ``W_in ~ U(-input_scaling, input_scaling)``, ``W`` from
    `reservoir_matrix`, ``b ~ U(-bias_scaling, bias_scaling)``. No weight is
    trainable.

    Args:
        units: Reservoir size.
        spectral_radius: Largest |eigenvalue| of ``W``; below 1 keeps the
            echo state property for tanh reservoirs.
        sparsity: Fraction of zero entries in ``W``, in [0, 1).
        leak_rate: ``a`` in (0, 1]; smaller values give slower dynamics.
        input_scaling: Range of the input weights.
        bias_scaling: Range of the bias; 0 for no bias.
        seed: Seed of the weight draws.
        **kwargs: Base layer arguments.
    """

    def __init__(
        self,
        units,
        spectral_radius=0.9,
        sparsity=0.9,
        leak_rate=1.0,
        input_scaling=1.0,
        bias_scaling=0.0,
        seed=None,
        **kwargs,
    ):
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        check_positive_int("units", units)
        checks = {
            "spectral_radius": (spectral_radius, spectral_radius > 0, "a positive value"),
            "sparsity": (sparsity, 0.0 <= sparsity < 1.0, "a fraction in [0, 1)"),
            "leak_rate": (leak_rate, 0.0 < leak_rate <= 1.0, "a rate in (0, 1]"),
            "input_scaling": (input_scaling, input_scaling > 0, "a positive value"),
            "bias_scaling": (bias_scaling, bias_scaling >= 0, "a value >= 0"),
        }
        for name, (value, ok, expected) in checks.items():
            if not ok:
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected {expected}. "
                    f"Received {name}={value!r}."
                )
        self.units = units
        self.spectral_radius = float(spectral_radius)
        self.sparsity = float(sparsity)
        self.leak_rate = float(leak_rate)
        self.input_scaling = float(input_scaling)
        self.bias_scaling = float(bias_scaling)
        self.seed = int(np.random.SeedSequence().entropy % 2**31) if seed is None else seed
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        rng = np.random.default_rng(self.seed)
        input_dim = input_shape[-1]
        w_in = rng.uniform(-self.input_scaling, self.input_scaling, size=(input_dim, self.units))
        reservoir = reservoir_matrix(self.units, self.spectral_radius, self.sparsity, self.seed + 1)
        bias = rng.uniform(-self.bias_scaling, self.bias_scaling, size=(self.units,))

        def constant(value):
            return lambda shape, dtype=None: ops.cast(value.astype("float32"), dtype)

        self.kernel = self.add_weight(
            name="kernel", shape=w_in.shape, initializer=constant(w_in), trainable=False
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=reservoir.shape,
            initializer=constant(reservoir),
            trainable=False,
        )
        self.bias = self.add_weight(
            name="bias", shape=bias.shape, initializer=constant(bias), trainable=False
        )

    def call(self, inputs, states):
        nested = isinstance(states, (list, tuple))
        previous = states[0] if nested else states
        pre_activation = (
            ops.matmul(inputs, self.kernel)
            + ops.matmul(previous, self.recurrent_kernel)
            + self.bias
        )
        h = (1.0 - self.leak_rate) * previous + self.leak_rate * ops.tanh(pre_activation)
        return h, ([h] if nested else h)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "spectral_radius": self.spectral_radius,
                "sparsity": self.sparsity,
                "leak_rate": self.leak_rate,
                "input_scaling": self.input_scaling,
                "bias_scaling": self.bias_scaling,
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="convseq")
class EchoState(BaseRecurrent):
    """Echo state reservoir layer over sequences; put a trainable readout on top.

    Args:
        units: Reservoir size.
        spectral_radius: Largest |eigenvalue| of the recurrent matrix.
        sparsity: Fraction of zero recurrent weights.
        leak_rate: Leak rate ``a`` in (0, 1].
        input_scaling: Range of the input weights.
        bias_scaling: Range of the bias.
        seed: Seed of the weights; pass one for reproducible reservoirs.
        return_sequences: Return every step's state, not only the last.
        return_state: Also return the final state.
        go_backwards: Read the sequence backwards.
        stateful: Carry the state across batches.
        unroll: Unroll the time loop.
        **kwargs: Base layer arguments.

    Example:
        >>> inputs = keras.Input((None, 1))
        >>> states = EchoState(200, seed=0, return_sequences=True)(inputs)
        >>> model = keras.Model(inputs, keras.layers.Dense(1)(states))
    """

    def __init__(
        self,
        units,
        spectral_radius=0.9,
        sparsity=0.9,
        leak_rate=1.0,
        input_scaling=1.0,
        bias_scaling=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        cell = EchoStateCell(
            units,
            spectral_radius=spectral_radius,
            sparsity=sparsity,
            leak_rate=leak_rate,
            input_scaling=input_scaling,
            bias_scaling=bias_scaling,
            seed=seed,
            dtype=kwargs.get("dtype"),
            name="echo_state_cell",
        )
        kwargs["trainable"] = False
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
