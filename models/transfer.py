"""Transfer learning: a frozen pretrained base, a shallow new head, optional fine-tuning.

The model takes raw ``uint8`` images of any size: resizing and the base's
preprocessing live inside it, so its SavedModel serves raw images.
"""

from __future__ import annotations

import re

import keras

from common.validation import check_positive_int, check_rate
from models.layers.preprocessing import VGGPreprocess

PREPROCESSING = ("vgg16", "rescale", None)
POOLING = ("avg", "flatten")
_BLOCK = re.compile(r"^block(\d+)_")


def _preprocessing_layer(preprocessing):
    if preprocessing == "vgg16":
        return VGGPreprocess(name="vgg_preprocess")
    if preprocessing == "rescale":
        return keras.layers.Rescaling(1.0 / 255.0, name="rescaling")
    if preprocessing is None:
        return None
    raise ValueError(
        f"Invalid value for argument `preprocessing`. Expected one of {list(PREPROCESSING)}. "
        f"Received preprocessing={preprocessing!r}."
    )


def transfer_model(
    base: keras.Model,
    classes: int,
    *,
    input_channels: int = 3,
    preprocessing: str | None = "vgg16",
    hidden_units: int = 0,
    dropout: float = 0.2,
    pooling: str = "avg",
    name: str = "transfer",
) -> keras.Model:
    """Puts a new classifier head on a frozen convolutional base.

    Layout: ``uint8 images [batch, any, any, input_channels] -> resize to the
    base's input size -> preprocessing -> base (frozen, run with
    training=False so batch-norm statistics stay) -> global average pooling
    (or flatten) -> dropout -> [dense hidden_units] -> softmax over classes``.

    ``pooling="flatten"`` keeps where in the image each feature fired; on
    small inputs whose classes differ in layout (a sandal vs a sneaker) that
    is worth far more than the parameters it costs (see ``bench/transfer.py``).

    Args:
        base: A convolutional model without its top (e.g.
            ``vgg16(include_top=False, ...)``), with a fixed input size.
        classes: Classes of the new task.
        input_channels: Channels of the raw images (1 for grayscale).
        preprocessing: ``"vgg16"`` (RGB->BGR, minus ImageNet means),
            ``"rescale"`` (divide by 255) or ``None``.
        hidden_units: Units of an optional hidden dense layer (0: none).
        dropout: Dropout before the classifier.
        pooling: How the base's feature map becomes a vector: ``"avg"``
            (global average pooling) or ``"flatten"``.
        name: Model name.

    Returns:
        The model, with the base frozen. Compile it before training.

    Raises:
        ValueError: If the base has no fixed spatial input size, or on bad
            arguments.
    """
    check_positive_int("classes", classes)
    check_rate("dropout", dropout)
    if pooling not in POOLING:
        raise ValueError(
            f"Invalid value for argument `pooling`. Expected one of {list(POOLING)}. "
            f"Received pooling={pooling!r}."
        )
    if not isinstance(hidden_units, int) or hidden_units < 0:
        raise ValueError(
            "Invalid value for argument `hidden_units`. Expected 0 (none) or a positive "
            f"integer. Received hidden_units={hidden_units!r}."
        )
    height, width, base_channels = base.input_shape[1:4]
    if height is None or width is None:
        raise ValueError(
            f"The base {base.name!r} needs a fixed input size to resize to. "
            f"Received its input_shape={base.input_shape}."
        )
    preprocess = _preprocessing_layer(preprocessing)
    gray_to_rgb = input_channels == 1 and base_channels == 3
    if input_channels != base_channels and not gray_to_rgb:
        raise ValueError(
            f"Images with input_channels={input_channels} cannot feed the base {base.name!r}, "
            f"which takes {base_channels} channels (only 1 -> 3 is converted)."
        )
    base.trainable = False
    inputs = keras.Input((None, None, input_channels), dtype="uint8", name="images")
    x = keras.layers.Resizing(height, width, name="resize")(inputs)
    if gray_to_rgb and preprocessing != "vgg16":  # VGGPreprocess repeats gray itself
        x = keras.layers.Concatenate(name="gray_to_rgb")([x, x, x])
    if preprocess is not None:
        x = preprocess(x)
    x = base(x, training=False)
    if len(x.shape) == 4:
        if pooling == "flatten":
            x = keras.layers.Flatten(name="flatten")(x)
        else:
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    if hidden_units:
        x = keras.layers.Dense(hidden_units, activation="relu", name="head_dense")(x)
    outputs = keras.layers.Dense(
        classes, activation="softmax", dtype="float32", name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def block_numbers(base: keras.Model) -> list[int]:
    """The ``blockN`` numbers of a base's layers, sorted, without repeats."""
    return sorted({int(m.group(1)) for layer in base.layers if (m := _BLOCK.match(layer.name))})


def unfreeze_top_blocks(base: keras.Model, blocks: int) -> list[str]:
    """Makes the top ``blocks`` conv blocks of a base trainable; the rest stay frozen.

    Recompile the model afterwards (usually with a lower learning rate):
    `trainable` changes take effect at compile time.

    Args:
        base: A model whose layers are named ``blockN_...``.
        blocks: How many of the highest-numbered blocks to unfreeze (0: none).

    Returns:
        Names of the layers now trainable.

    Raises:
        ValueError: If ``blocks`` exceeds the base's number of blocks.
    """
    numbers = block_numbers(base)
    if not isinstance(blocks, int) or not 0 <= blocks <= len(numbers):
        raise ValueError(
            f"Invalid value for argument `blocks`. Expected 0..{len(numbers)} (the base has "
            f"blocks {numbers}). Received blocks={blocks!r}."
        )
    top = set(numbers[len(numbers) - blocks :])
    base.trainable = True
    unfrozen = []
    for layer in base.layers:
        match = _BLOCK.match(layer.name)
        layer.trainable = bool(match and int(match.group(1)) in top)
        if layer.trainable and layer.weights:
            unfrozen.append(layer.name)
    return unfrozen


def frozen_layers(model: keras.Model) -> list[str]:
    """Names of the weighted layers (nested ones included) that will not train."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            frozen_inside = frozen_layers(layer)
            names.extend(
                frozen_inside
                if layer.trainable
                else [inner.name for inner in layer.layers if inner.weights]
            )
        elif layer.weights and not layer.trainable:
            names.append(layer.name)
    return names
