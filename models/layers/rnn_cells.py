"""Recurrent cells written from their equations: one time step each.

A cell holds one step's math, ``call(inputs, states) -> (output, new_states)``;
`keras.layers.RNN` (and the wrappers in `models.layers.rnn`) handle time,
masking, statefulness and direction. Weight layouts equal Keras's cells
(``kernel``, ``recurrent_kernel``, ``bias``, gates in Keras's order), so
weights copy across in both directions.
"""

from __future__ import annotations

import keras
from keras import ops

# keras.layers.RNN recognises cells with per-sequence dropout masks by this
# mixin (it creates the masks before the time loop and clears them after).
# It is not exported publicly, so import it from its module.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from models.validation import check_positive_int, check_rate


class BaseRNNCell(keras.layers.Layer, DropoutRNNCell):
    """Shared parts of the gated cells: weights, dropout masks, config.

    Subclasses set ``gates`` (blocks of ``units`` columns in the kernels) and
    implement ``call``.

    Args:
        units: Size of the hidden state.
        activation: Activation of the candidate state.
        recurrent_activation: Activation of the gates (unused without gates).
        use_bias: Whether to add biases.
        kernel_initializer: Initializer of the input kernel.
        recurrent_initializer: Initializer of the recurrent kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the input kernel (L1/L2).
        recurrent_regularizer: Regularizer of the recurrent kernel.
        bias_regularizer: Regularizer of the bias.
        kernel_constraint: Constraint of the input kernel.
        recurrent_constraint: Constraint of the recurrent kernel.
        bias_constraint: Constraint of the bias.
        dropout: Fraction of the inputs dropped in training (one mask per
            sequence).
        recurrent_dropout: Fraction of the recurrent state dropped in
            training (one mask per sequence).
        seed: Seed of the dropout masks.
        **kwargs: Base `keras.layers.Layer` arguments.
    """

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = self.units
        self.output_size = self.units

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"Cell {self.name!r} needs a known input feature size. "
                f"Received input_shape={tuple(input_shape)}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.gates * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, self.gates * self.units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=self._bias_shape(),
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _dropped(self, inputs, previous, training):
        """Inputs and previous state with this sequence's dropout masks applied."""
        if training and self.dropout > 0.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0.0:
            previous = previous * self.get_recurrent_dropout_mask(previous)
        return inputs, previous

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": keras.constraints.serialize(self.recurrent_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="convseq")
class SimpleRNNCell(BaseRNNCell):
    """Vanilla RNN step: ``h_t = tanh(x_t W_xh + h_{t-1} W_hh + b)``.

    Same arguments as `keras.layers.SimpleRNNCell` (``activation`` replaces
    tanh); see `BaseRNNCell`.

    Example:
        >>> layer = keras.layers.RNN(SimpleRNNCell(8))
        >>> layer(np.zeros((2, 5, 3), "float32")).shape  # doctest: +SKIP
        (2, 8)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )

    def call(self, inputs, states, training=False):
        previous = states[0] if isinstance(states, (list, tuple)) else states
        inputs, dropped = self._dropped(inputs, previous, training)
        h = ops.matmul(inputs, self.kernel) + ops.matmul(dropped, self.recurrent_kernel)
        if self.use_bias:
            h = h + self.bias
        if self.activation is not None:
            h = self.activation(h)
        new_state = [h] if isinstance(states, (list, tuple)) else h
        return h, new_state

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config


@keras.saving.register_keras_serializable(package="convseq")
class LSTMCell(BaseRNNCell):
    """LSTM step with input, forget and output gates and a cell state.

    ``i, f, o = σ(x W + h_{t-1} U + b)`` (per gate), candidate
    ``C'_t = tanh(x W_c + h_{t-1} U_c + b_c)``, ``C_t = f ∘ C_{t-1} + i ∘ C'_t``,
    ``h_t = o ∘ tanh(C_t)``. Gate blocks in the kernels are ordered
    ``i, f, c, o`` like Keras's.

    Args:
        units: Size of the hidden and cell states.
        unit_forget_bias: Initialize the forget-gate bias to 1 (Jozefowicz et
            al., 2015), so the cell remembers by default.
        **kwargs: See `BaseRNNCell`.
    """

    gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def initializer(shape, dtype=None):
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return initializer

    def call(self, inputs, states, training=False):
        h_previous, c_previous = states[0], states[1]
        inputs, h_dropped = self._dropped(inputs, h_previous, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_dropped, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_previous + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


@keras.saving.register_keras_serializable(package="convseq")
class GRUCell(BaseRNNCell):
    """GRU step with reset and update gates.

    ``z, r = σ(x W + h_{t-1} U + b)``,
    ``h'_t = tanh(x W_h + U_h (r ∘ h_{t-1}) + b_h)`` (``reset_after=False``) or
    ``tanh(x W_h + r ∘ (h_{t-1} U_h + b'_h))`` (``reset_after=True``, the
    cuDNN-compatible variant with separate input and recurrent biases),
    ``h_t = z ∘ h_{t-1} + (1 - z) ∘ h'_t``. Gate blocks are ordered ``z, r, h``
    like Keras's.

    Args:
        units: Size of the hidden state.
        reset_after: Apply the reset gate after the recurrent matmul.
        **kwargs: See `BaseRNNCell`.
    """

    gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        h_previous = states[0] if nested else states
        inputs, h_dropped = self._dropped(inputs, h_previous, training)
        units = self.units
        x = ops.matmul(inputs, self.kernel)
        if self.reset_after:
            recurrent = ops.matmul(h_dropped, self.recurrent_kernel)
            if self.use_bias:
                x = x + self.bias[0]
                recurrent = recurrent + self.bias[1]
            x_z, x_r, x_h = ops.split(x, 3, axis=-1)
            r_z, r_r, r_h = ops.split(recurrent, 3, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(x_h + r * r_h)
        else:
            if self.use_bias:
                x = x + self.bias
            x_z, x_r, x_h = ops.split(x, 3, axis=-1)
            recurrent = ops.matmul(h_dropped, self.recurrent_kernel[:, : 2 * units])
            r_z, r_r = ops.split(recurrent, 2, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(
                x_h + ops.matmul(r * h_dropped, self.recurrent_kernel[:, 2 * units :])
            )
        h = z * h_previous + (1.0 - z) * candidate
        return h, ([h] if nested else h)

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
