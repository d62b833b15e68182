"""The shared parts of our recurrent cells: weights, dropout masks and config.

`BaseRNNCell` owns what every cell in `models.layers.rnn_cells` has in common:
argument validation, the ``kernel``/``recurrent_kernel``/``bias`` weights in
Keras's layout (``gates`` blocks of ``units`` columns), one dropout mask per
sequence for the inputs and the recurrent state, and ``get_config``. The
subclasses hold one step's math.
"""

from __future__ import annotations

import numbers

import keras

# keras.layers.RNN recognises cells with per-sequence dropout masks by this
# mixin (it creates the masks before the time loop and clears them after).
# It is not exported publicly, so import it from its module.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from common.validation import check_positive_int, check_rate


def _rate(name: str, value) -> float:
    """`check_rate`, with a non-number raising `TypeError` as Keras's cells do."""
    try:
        return check_rate(name, value)
    except ValueError as error:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            raise
        raise TypeError(str(error)) from None


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
        self.dropout = _rate("dropout", dropout)
        self.recurrent_dropout = _rate("recurrent_dropout", recurrent_dropout)
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
