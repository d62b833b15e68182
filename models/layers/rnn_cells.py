"""Recurrent cells written from their equations: one time step each.

A cell holds one step's math, ``call(inputs, states) -> (output, new_states)``;
`keras.layers.RNN` (and the wrappers in `models.layers.rnn`) handle time,
masking, statefulness and direction. Weight layouts equal Keras's cells
(``kernel``, ``recurrent_kernel``, ``bias``, gates in Keras's order), so
weights copy across in both directions. Weights, dropout masks and config
live in `models.layers.rnn_cell_base.BaseRNNCell`.
"""

from __future__ import annotations

import keras
from keras import ops

from models.layers.rnn_cell_base import BaseRNNCell

__all__ = ["BaseRNNCell", "GRUCell", "LSTMCell", "SimpleRNNCell"]


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
        # Keras 2 chose between two matmul layouts; accepted and ignored like Keras 3.
        self.implementation = kwargs.pop("implementation", 2)
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
        # Keras 2 chose between two matmul layouts; accepted and ignored like Keras 3.
        self.implementation = kwargs.pop("implementation", 2)
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
