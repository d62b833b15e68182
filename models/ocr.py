"""A text reader: convolutional features over a text image, read left to right by an RNN.

``uint8 [batch, height, width, 1]`` images (any width) go through conv
blocks of our `Conv2D` (batch-normalized by default) and `MaxPool2D`; the
first ``width_pools`` blocks halve height and width, the others the height
only, so the image keeps enough columns for its characters. Each column of
the last feature maps becomes one step of a sequence, which our recurrent layers read (a
bidirectional LSTM by default), and a dense layer gives each column logits
over ``blank + alphabet``: the output `models.ctc` decodes and
`keras.losses.CTC` trains (CRNN, Shi et al. 2015).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from common.validation import check_bool, check_non_negative_int, check_positive_int, check_rate
from models.layers import Conv2D, MaxPool2D, conv_output_size
from models.recurrent import RecurrentSpec

DEFAULT_RECURRENT = RecurrentSpec(cell="lstm", units=128, bidirectional=True)


def output_columns(width: int, width_pools: int = 2) -> int:
    """Columns (sequence steps) a text reader makes of an image ``width`` pixels wide.

    Each of the first ``width_pools`` blocks halves the width, rounding down
    (the pooling is ``"valid"``).
    """
    columns = check_positive_int("width", width)
    for _ in range(check_non_negative_int("width_pools", width_pools)):
        columns = conv_output_size(columns, 2, 2, "valid")
    return columns


def text_reader(
    alphabet_size: int,
    height: int = 32,
    filters: Sequence[int] = (32, 64, 128),
    width_pools: int = 2,
    recurrent: RecurrentSpec = DEFAULT_RECURRENT,
    dense_units: int = 64,
    dropout: float = 0.25,
    batch_norm: bool = True,
    name: str = "text_reader",
) -> keras.Model:
    """CNN -> columns -> recurrent layers -> per-column logits over ``blank + alphabet``.

    Args:
        alphabet_size: Characters the reader can output (the blank comes on top).
        height: Image height in pixels; each conv block halves it, so it must
            be at least ``2 ** len(filters)``.
        filters: Filters of each conv block (3x3, ``"same"``, ReLU, then 2x2
            or 2x1 max pooling).
        width_pools: How many blocks, from the first, also halve the width.
        recurrent: The recurrent layers reading the columns.
        dense_units: Units of the dense layer each column passes before them.
        dropout: Dropout on those units.
        batch_norm: Batch-normalize each conv's output before its ReLU: without
            it, a reader of generated plates stays much longer on CTC's
            all-blank plateau (it outputs nearly nothing).
        name: Model name.

    Returns:
        An uncompiled `keras.Model` from ``uint8 [batch, height, width, 1]``
        (any width) to ``float32 [batch, output_columns(width), 1 +
        alphabet_size]`` logits; blank is id 0.

    Raises:
        ValueError: On a bad argument, naming it.

    Example:
        >>> reader = text_reader(alphabet_size=36)
        >>> reader.compile(optimizer="adam", loss=keras.losses.CTC())
    """
    check_positive_int("alphabet_size", alphabet_size)
    check_positive_int("height", height)
    if not filters or any(not isinstance(f, int) or f < 1 for f in filters):
        raise ValueError(
            "Invalid value for argument `filters`. Expected one positive int per conv block. "
            f"Received filters={filters!r}."
        )
    if height < 2 ** len(filters):
        raise ValueError(
            f"Invalid value for argument `height`. Each of the {len(filters)} conv blocks "
            f"halves it, so it must be at least {2 ** len(filters)}. Received height={height}."
        )
    if check_non_negative_int("width_pools", width_pools) > len(filters):
        raise ValueError(
            f"Invalid value for argument `width_pools`. Expected at most the {len(filters)} "
            f"conv blocks. Received width_pools={width_pools}."
        )
    check_positive_int("dense_units", dense_units)
    check_rate("dropout", dropout)
    check_bool("batch_norm", batch_norm)

    images = keras.Input((height, None, 1), dtype="uint8", name="images")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescaling")(images)
    rows = height
    for block, count in enumerate(filters, start=1):
        conv = Conv2D(
            count,
            3,
            padding="same",
            activation=None if batch_norm else "relu",
            use_bias=not batch_norm,
            name=f"block{block}_conv",
        )
        x = conv(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"block{block}_bn")(x)
            x = keras.layers.ReLU(name=f"block{block}_relu")(x)
        pool = (2, 2) if block <= width_pools else (2, 1)
        x = MaxPool2D(pool, name=f"block{block}_pool")(x)
        rows = conv_output_size(rows, 2, 2, "valid")
    # [batch, rows, columns, filters] -> one step per column: [batch, columns, rows * filters]
    x = keras.layers.Permute((2, 1, 3), name="columns_first")(x)
    x = keras.layers.Reshape((-1, rows * filters[-1]), name="columns")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="column_features")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="column_dropout")(x)
    x = recurrent(x, return_sequences=True)
    logits = keras.layers.Dense(alphabet_size + 1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
