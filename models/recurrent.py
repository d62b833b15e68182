"""Our recurrent layers by name, optionally bidirectional and stacked, with regularization.

The sequence-task factories (sentiment, tagging, forecasting) build their
recurrent part here, so ``cell``, ``units``, ``layers``, ``bidirectional``,
dropout and L1/L2 mean the same thing in each of them.
"""

from __future__ import annotations

import dataclasses

import keras

from models.layers.rnn import GRU, LSTM, SimpleRNN
from models.validation import check_positive_int, check_rate

RECURRENT_LAYERS = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}


def check_cell(cell: str) -> str:
    """Returns ``cell`` if it names one of our recurrent layers.

    Raises:
        ValueError: Otherwise, listing the names.
    """
    if cell not in RECURRENT_LAYERS:
        raise ValueError(
            f"Invalid value for argument `cell`. Expected one of {list(RECURRENT_LAYERS)}. "
            f"Received cell={cell!r}."
        )
    return cell


def check_penalty(name: str, value) -> float:
    """Returns a regularization factor if it is a number >= 0.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected 0 (off) or a positive number. "
            f"Received {name}={value!r}."
        )
    return float(value)


def weight_regularizer(l1: float, l2: float) -> keras.regularizers.Regularizer | None:
    """An L1/L2 penalty on weights, or None when both factors are 0."""
    check_penalty("l1", l1)
    check_penalty("l2", l2)
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


@dataclasses.dataclass(frozen=True)
class RecurrentSpec:
    """The recurrent part of a sequence model.

    Attributes:
        cell: ``"lstm"``, ``"gru"`` or ``"simple_rnn"`` (our layers).
        units: Units per direction of each layer.
        layers: Stacked recurrent layers.
        bidirectional: Wrap each layer in `keras.layers.Bidirectional`
            (outputs of both directions concatenated).
        dropout: Dropout on each layer's inputs.
        recurrent_dropout: Dropout on the recurrent state.
        l1: L1 factor on kernel and recurrent weights.
        l2: L2 factor on kernel and recurrent weights.
    """

    cell: str = "lstm"
    units: int = 64
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self):
        check_cell(self.cell)
        check_positive_int("units", self.units)
        check_positive_int("layers", self.layers)
        check_rate("dropout", self.dropout)
        check_rate("recurrent_dropout", self.recurrent_dropout)
        weight_regularizer(self.l1, self.l2)

    def layer(self, index: int, return_sequences: bool) -> keras.layers.Layer:
        """The ``index``-th recurrent layer (0-based), wrapped when bidirectional."""
        layer_class = RECURRENT_LAYERS[self.cell]
        recurrent = layer_class(
            self.units,
            return_sequences=return_sequences,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            kernel_regularizer=weight_regularizer(self.l1, self.l2),
            recurrent_regularizer=weight_regularizer(self.l1, self.l2),
            name=f"{self.cell}_{index + 1}",
        )
        if self.bidirectional:
            return keras.layers.Bidirectional(recurrent, name=f"bidirectional_{index + 1}")
        return recurrent

    def __call__(self, inputs, return_sequences: bool = False):
        """Applies the stack; inner layers always return sequences."""
        outputs = inputs
        for index in range(self.layers):
            last = index == self.layers - 1
            outputs = self.layer(index, return_sequences or not last)(outputs)
        return outputs

    @property
    def output_units(self) -> int:
        """Features per step of the stack's output."""
        return self.units * (2 if self.bidirectional else 1)
