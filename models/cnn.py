"""Small CNN factory: conv (x n, optionally batch-normalized) -> pool blocks, then dense layers."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np

from common.padding import parse_padding
from common.validation import check_bool, check_positive_int, check_rate
from models.applications import (
    WindowLayer,
    apply_plan,
    check_weights_argument,
    feature_map_sizes,
)


def _check_filters(filters: Sequence[int]) -> tuple[int, ...]:
    try:
        values = tuple(filters)
    except TypeError:
        values = ()
    if not values or not all(
        isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in values
    ):
        raise ValueError(
            "Invalid value for argument `filters`. Expected a non-empty sequence of positive "
            f"integers, one per conv block. Received filters={filters!r}."
        )
    return values


def _per_block(name: str, value, blocks: int) -> tuple:
    """One value per block: a scalar repeated, or a sequence of exactly ``blocks`` values."""
    if isinstance(value, (str, int, np.integer)):
        return (value,) * blocks
    try:
        values = tuple(value)
    except TypeError:
        values = ()
    if len(values) != blocks:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one value, or one per conv block "
            f"({blocks}). Received {name}={value!r}."
        )
    return values


def small_cnn_plan(
    filters: Sequence[int],
    kernel_size: int | Sequence[int] = 3,
    strides: int | Sequence[int] = 1,
    padding: str | int | Sequence[str | int] = "same",
    pool_size: int | Sequence[int] = 2,
    convs_per_block: int | Sequence[int] = 1,
) -> tuple[WindowLayer, ...]:
    """The conv/pool layers of `small_cnn`: ``blockN_conv1`` ... ``blockN_convM``, ``blockN_pool``.

    ``kernel_size``, ``strides``, ``padding``, ``pool_size`` and
    ``convs_per_block`` take one value for every block or a sequence with one
    value per block; a pool size of 0 leaves the block without pooling. The
    convs of a block share its filters, filter size and padding; only the
    first takes the block's stride (the others stride 1, as in VGG).

    Raises:
        ValueError: On a bad value or a sequence whose length is not the
            number of blocks.
    """
    filters = _check_filters(filters)
    blocks = len(filters)
    kernels = _per_block("kernel_size", kernel_size, blocks)
    stride_values = _per_block("strides", strides, blocks)
    paddings = [parse_padding(p) for p in _per_block("padding", padding, blocks)]
    pools = _per_block("pool_size", pool_size, blocks)
    convs = [
        check_positive_int("convs_per_block", n)
        for n in _per_block("convs_per_block", convs_per_block, blocks)
    ]
    plan = []
    for index, (count, kernel, stride, pad, pool, n_convs) in enumerate(
        zip(filters, kernels, stride_values, paddings, pools, convs), start=1
    ):
        for conv in range(1, n_convs + 1):
            step = stride if conv == 1 else 1
            plan.append(WindowLayer(f"block{index}_conv{conv}", kernel, step, pad, count))
        if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 0:
            raise ValueError(
                "Invalid value for argument `pool_size`. Expected an integer >= 0 (0: no "
                f"pooling in that block), or one per block. Received pool_size={pool_size!r}."
            )
        if pool:
            plan.append(WindowLayer(f"block{index}_pool", int(pool), int(pool), "valid"))
    return tuple(plan)


def cnn_feature_map_sizes(
    input_shape: Sequence[int],
    filters: Sequence[int] = (32, 64),
    kernel_size: int | Sequence[int] = 3,
    strides: int | Sequence[int] = 1,
    padding: str | int | Sequence[str | int] = "same",
    pool_size: int | Sequence[int] = 2,
    convs_per_block: int | Sequence[int] = 1,
) -> list[tuple[str, tuple[int, int, int]]]:
    """Feature-map shapes of `small_cnn`, layer by layer, without building it.

    Uses ``floor((H + 2p - f) / s) + 1`` per layer, so invalid geometry is found
    before any TensorFlow op runs (a tuner can skip such a trial cheaply).

    Args:
        input_shape: ``(height, width, channels)``.
        filters: Filters per conv block.
        kernel_size: Conv filter size ``f`` (one, or one per block).
        strides: Conv stride ``s`` (one, or one per block).
        padding: Conv padding ``"valid"``, ``"same"`` or an int ``p`` (one,
            or one per block).
        pool_size: Max-pool window and stride after each conv (one, or one
            per block; 0: none).
        convs_per_block: Convs in each block (one, or one per block).

    Returns:
        ``[(layer_name, (h, w, c)), ...]`` for each conv and pool layer.

    Raises:
        ValueError: Naming the layer whose output would be empty, with the
            formula and values.

    Example:
        >>> cnn_feature_map_sizes((28, 28, 1), (32, 64))[-1]
        ('block2_pool', (7, 7, 64))
    """
    plan = small_cnn_plan(filters, kernel_size, strides, padding, pool_size, convs_per_block)
    return feature_map_sizes(input_shape, plan, "small_cnn")


def _apply_normalized_plan(x, plan: Sequence[WindowLayer], conv_layer: str):
    """`apply_plan` with every conv linear, then ``blockN_bnM`` and ``blockN_reluM``."""
    for layer in plan:
        if layer.filters is None:
            x = apply_plan(x, (layer,), conv_layer)
            continue
        x = apply_plan(x, (layer,), conv_layer, activation=None)
        x = keras.layers.BatchNormalization(name=layer.name.replace("_conv", "_bn"))(x)
        x = keras.layers.ReLU(name=layer.name.replace("_conv", "_relu"))(x)
    return x


def small_cnn(
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    input_shape: Sequence[int] = (28, 28, 1),
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: str | None = "softmax",
    name: str = "small_cnn",
    *,
    filters: Sequence[int] = (32, 64),
    kernel_size: int | Sequence[int] = 3,
    strides: int | Sequence[int] = 1,
    padding: str | int | Sequence[str | int] = "same",
    pool_size: int | Sequence[int] = 2,
    convs_per_block: int | Sequence[int] = 1,
    batch_norm: bool = False,
    dense_units: int = 128,
    dropout: float = 0.25,
    rescale: float | None = 1.0 / 255.0,
    conv_layer: str = "convseq",
) -> keras.Model:
    """A small CNN for 8-64 px images, built from convseq's own layers.

    Layout: ``[rescaling] -> (blockN_conv1 ... blockN_convM -> blockN_pool) x
    len(filters) -> flatten -> dropout -> fc1 -> predictions``. Each conv
    applies ReLU itself; with ``batch_norm`` it is linear and followed by
    ``blockN_bnM`` (batch normalization) and ``blockN_reluM``, the VGG-with-BN
    layout. With ``rescale`` set the model takes raw ``uint8`` pixels and
    scales them itself, so the same model (and its SavedModel export) serves
    raw images.

    Args:
        include_top: Whether to include the flatten/dense classifier head.
        weights: ``None`` (random initialization) or the path to a
            ``.weights.h5`` file saved from a model of the same configuration.
        input_shape: ``(height, width, channels)``.
        pooling: Only without the top: ``None`` (4D output), ``"avg"`` or ``"max"``
            (global pooling to a vector).
        classes: Number of classes of the top.
        classifier_activation: Activation of the top; ``None`` for logits.
        name: Model name.
        filters: Filters per conv block; the number of blocks is its length.
        kernel_size: Conv filter size ``f``: one for all blocks, or one per block.
        strides: Conv stride ``s``: one, or one per block.
        padding: Conv padding ``"valid"``, ``"same"`` or an int ``p``: one, or
            one per block.
        pool_size: Max-pool window and stride: one, or one per block (0: none).
        convs_per_block: Convs in each block: one, or one per block (VGG: 2).
        batch_norm: Batch-normalize every conv's output before its ReLU.
        dense_units: Units of the hidden dense layer; 0 for none.
        dropout: Dropout rate before the hidden dense layer.
        rescale: Factor applied to the raw input (``1/255`` for uint8 images);
            ``None`` for float inputs used as they are.
        conv_layer: ``"convseq"`` (our layers) or ``"keras"`` (built-ins).

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: On invalid arguments or geometry, naming the values.

    Example:
        >>> model = small_cnn(input_shape=(28, 28, 1), classes=10)
        >>> model.output_shape
        (None, 10)
    """
    filters = _check_filters(filters)
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            "Invalid value for argument `pooling`. Expected None, 'avg' or 'max'. "
            f"Received pooling={pooling!r}."
        )
    if include_top:
        check_positive_int("classes", classes)
    check_rate("dropout", dropout)
    check_bool("batch_norm", batch_norm)
    check_weights_argument(weights)
    plan = small_cnn_plan(filters, kernel_size, strides, padding, pool_size, convs_per_block)
    feature_map_sizes(input_shape, plan, name)

    inputs = keras.Input(
        shape=tuple(input_shape), dtype="uint8" if rescale else None, name="images"
    )
    x = inputs
    if rescale:
        x = keras.layers.Rescaling(rescale, name="rescaling")(x)
    x = (
        _apply_normalized_plan(x, plan, conv_layer)
        if batch_norm
        else apply_plan(x, plan, conv_layer)
    )
    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout")(x)
        if dense_units:
            x = keras.layers.Dense(dense_units, activation="relu", name="fc1")(x)
        x = keras.layers.Dense(
            classes, activation=classifier_activation, dtype="float32", name="predictions"
        )(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = keras.Model(inputs, x, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model
