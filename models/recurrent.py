"""Our recurrent layers by name, optionally bidirectional and stacked, with regularization.

The sequence-task factories (sentiment, tagging, forecasting, and the
encoders and decoders of translation and captioning) build their recurrent
part here, so ``cell``, ``units``, ``layers``, ``bidirectional``,
dropout and L1/L2 mean the same thing in each of them.
"""

from __future__ import annotations

import dataclasses

import keras

from common.recurrent import CELL_NAMES, check_cell
from common.validation import check_non_negative, check_positive_int, check_rate
from models.layers.rnn import GRU, LSTM, SimpleRNN

__all__ = ["RECURRENT_LAYERS", "RecurrentSpec", "check_cell", "weight_regularizer"]

# Cell name (the vocabulary of `common.recurrent`) -> our layer class.
RECURRENT_LAYERS = dict(zip(CELL_NAMES, (LSTM, GRU, SimpleRNN), strict=True))


def weight_regularizer(l1: float, l2: float) -> keras.regularizers.Regularizer | None:
    """An L1/L2 penalty on weights, or None when both factors are 0."""
    check_non_negative("l1", l1)
    check_non_negative("l2", l2)
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

    def __call__(self, inputs, return_sequences: bool = False, mask=None):
        """Applies the stack; inner layers always return sequences.

        Args:
            inputs: Steps ``[batch, time, features]``.
            return_sequences: Return every step's output, not the last one's.
            mask: Boolean ``[batch, time]``, False on padding steps; default
                the mask the inputs carry (a conv front's features carry none).
        """
        outputs = inputs
        for index in range(self.layers):
            last = index == self.layers - 1
            outputs = self.layer(index, return_sequences or not last)(outputs, mask=mask)
        return outputs

    @property
    def output_units(self) -> int:
        """Features per step of the stack's output."""
        return self.units * (2 if self.bidirectional else 1)
