"""Recurrent layers on `keras.layers.RNN`, with the constructors of Keras's.

``SimpleRNN``, ``LSTM`` and ``GRU`` take the arguments of their Keras
namesakes, so one can replace the other without changing a call. Time,
``return_sequences``, ``return_state``, ``go_backwards``, masking, initial
states and ``stateful`` are `keras.layers.RNN`'s; each step is our cell's
math. Use `keras.layers.Bidirectional` around any of them.
"""

from __future__ import annotations

import functools
import inspect

import keras
from keras.src import tree

from models.layers import rnn_loops
from models.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell

_BASE_LAYER_KEYS = ("name", "trainable", "dtype")


@functools.cache
def _init_parameters(cell_class: type) -> frozenset[str]:
    return frozenset(inspect.signature(cell_class.__init__).parameters) - {"self", "kwargs"}


def cell_arguments(cell: keras.layers.Layer) -> dict:
    """A cell's constructor arguments: its config without the base-layer keys."""
    return {k: v for k, v in cell.get_config().items() if k not in _BASE_LAYER_KEYS}


class BaseRecurrent(keras.layers.RNN):
    """A `keras.layers.RNN` whose config is its cell's arguments, flattened.

    Subclasses build their cell in ``__init__``; ``get_config`` returns the
    cell's arguments next to the RNN ones and ``from_config`` calls the
    constructor, as Keras's recurrent layers do (`Bidirectional` relies on
    this to build the backward layer). The time loop is chosen by
    `models.layers.rnn_loops`: cuDNN where Keras would use it, our fused loop
    where it applies, `keras.layers.RNN`'s otherwise.
    """

    use_cudnn = None  # None: the layer has no cuDNN variant (SimpleRNN)

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        activity_regularizer=None,
        **kwargs,
    ):
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if tree.is_nested(mask):
            mask = mask[0]
        result = rnn_loops.cudnn_loop(self, sequences, initial_state, mask, training)
        if result is not None:
            self.supports_jit = False  # cuDNN kernels are not XLA-compatible
            return result
        if self.use_cudnn is True:
            raise ValueError(
                f"Layer {self.name!r} was given use_cudnn=True, but cuDNN does not run this "
                "configuration here (it needs a GPU, the TensorFlow backend, tanh/sigmoid "
                "activations, no recurrent dropout and unroll=False). Pass use_cudnn='auto' "
                "to fall back to another loop."
            )
        if rnn_loops.fused_loop_applies(self, sequences, training):
            return rnn_loops.fused_loop(self, sequences, initial_state, mask, training)
        return super().inner_loop(sequences, initial_state, mask=mask, training=training)

    def get_config(self):
        base = super().get_config()
        base.pop("cell")
        config = {**base, **cell_arguments(self.cell)}
        config["activity_regularizer"] = keras.regularizers.serialize(self.activity_regularizer)
        if self.use_cudnn not in (None, "auto"):  # Keras's config omits it; kept when set
            config["use_cudnn"] = self.use_cudnn
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __getattr__(self, name):
        # Expose the cell's constructor arguments (units, dropout, ...) as
        # Keras's recurrent layers do; nothing else of the cell.
        cell = self.__dict__.get("cell")
        if cell is not None and not name.startswith("_") and name in _init_parameters(type(cell)):
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _check_use_cudnn(use_cudnn):
    if use_cudnn not in ("auto", True, False):
        raise ValueError(
            "Invalid value for argument `use_cudnn`. Expected one of 'auto', True, False. "
            f"Received use_cudnn={use_cudnn!r}."
        )
    return use_cudnn


def _cell_kwargs(kwargs: dict, name: str) -> dict:
    return {
        "dtype": kwargs.get("dtype"),
        "trainable": kwargs.get("trainable", True),
        "name": name,
    }


@keras.saving.register_keras_serializable(package="convseq")
class SimpleRNN(BaseRecurrent):
    """Fully connected RNN, ``h_t = tanh(x_t W_xh + h_{t-1} W_hh + b)``.

    Arguments follow `keras.layers.SimpleRNN`; see `SimpleRNNCell`.

    Example:
        >>> SimpleRNN(4, return_sequences=True)(np.zeros((2, 7, 3))).shape  # doctest: +SKIP
        (2, 7, 4)
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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        cell = SimpleRNNCell(
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
            **_cell_kwargs(kwargs, "simple_rnn_cell"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        if config["seed"] is None:  # Keras's SimpleRNN config has no seed; kept when set
            del config["seed"]
        return config


@keras.saving.register_keras_serializable(package="convseq")
class LSTM(BaseRecurrent):
    """Long short-term memory layer; arguments follow `keras.layers.LSTM`.

    See `LSTMCell` for the equations and ``unit_forget_bias``. With
    ``use_cudnn`` ``"auto"`` (or True) the layer runs cuDNN on a GPU like
    Keras's; elsewhere our fused loop (`models.layers.fused_rnn`) or the
    generic one. ``implementation`` (a Keras 2 argument) is accepted and
    ignored, as Keras does.
    """

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        cell = LSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            implementation=kwargs.pop("implementation", 2),
            **_cell_kwargs(kwargs, "lstm_cell"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.use_cudnn = _check_use_cudnn(use_cudnn)


@keras.saving.register_keras_serializable(package="convseq")
class GRU(BaseRecurrent):
    """Gated recurrent unit layer; arguments follow `keras.layers.GRU`.

    See `GRUCell` for the equations and ``reset_after``. ``use_cudnn`` and
    ``implementation`` as in `LSTM`.
    """

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        cell = GRUCell(
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
            reset_after=reset_after,
            implementation=kwargs.pop("implementation", 2),
            **_cell_kwargs(kwargs, "gru_cell"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.use_cudnn = _check_use_cudnn(use_cudnn)
