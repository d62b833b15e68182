"""What the image-model factories share: layer choice, geometry plans, heads, weights.

Factories follow the `keras.applications` signature (``include_top``,
``weights``, ``input_shape``, ``pooling``, ``classes``,
``classifier_activation``, ``name``) plus ``conv_layer``: ``"convseq"`` for our
`Conv2D`/`MaxPool2D`, ``"keras"`` for the built-ins.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import keras

from common.validation import check_positive_int
from models.layers import Conv2D, MaxPool2D, conv_output_size

CONV_LAYERS = ("convseq", "keras")


@dataclasses.dataclass(frozen=True)
class WindowLayer:
    """One conv or pool layer of a plan: name, filter size f, stride s, padding p.

    ``filters`` is ``None`` for a pooling layer (channels pass through).
    """

    name: str
    size: int
    stride: int
    padding: str | int
    filters: int | None = None


def conv_classes(conv_layer: str) -> tuple[type, type]:
    """The (convolution, max-pooling) layer classes for ``conv_layer``.

    Raises:
        ValueError: If ``conv_layer`` is not ``"convseq"`` or ``"keras"``.
    """
    if conv_layer == "convseq":
        return Conv2D, MaxPool2D
    if conv_layer == "keras":
        return keras.layers.Conv2D, keras.layers.MaxPool2D
    raise ValueError(
        f"Invalid value for argument `conv_layer`. Expected one of {list(CONV_LAYERS)}. "
        f"Received conv_layer={conv_layer!r}."
    )


def check_image_shape(input_shape, model_name: str) -> tuple[int, int, int]:
    """Validates ``(height, width, channels)`` with known, positive sizes.

    Raises:
        ValueError: On a wrong rank or a non-positive size.
    """
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise ValueError(
            f"Invalid value for argument `input_shape` of {model_name}. Expected "
            "(height, width, channels) with positive integers, channels last. "
            f"Received input_shape={input_shape!r}."
        )
    return shape


def feature_map_sizes(
    input_shape: Sequence[int], plan: Sequence[WindowLayer], model_name: str
) -> list[tuple[str, tuple[int, int, int]]]:
    """Output shape of every layer of a conv/pool plan, by floor((H + 2p - f)/s) + 1.

    Args:
        input_shape: ``(height, width, channels)``.
        plan: The conv and pool layers in order.
        model_name: For error messages.

    Returns:
        ``[(layer_name, (h, w, c)), ...]``.

    Raises:
        ValueError: Naming the first layer whose output would be empty, with
            the computed size, the formula and the values.
    """
    height, width, channels = check_image_shape(input_shape, model_name)
    sizes = []
    for layer in plan:
        try:
            height = conv_output_size(height, layer.size, layer.stride, layer.padding)
            width = conv_output_size(width, layer.size, layer.stride, layer.padding)
        except ValueError as error:
            raise ValueError(
                f"input_shape={tuple(input_shape)} is too small for {model_name}: "
                f"layer {layer.name} (f={layer.size}, s={layer.stride}, "
                f"p={layer.padding!r}): {error}"
            ) from None
        channels = layer.filters or channels
        sizes.append((layer.name, (height, width, channels)))
    return sizes


def apply_plan(x, plan: Sequence[WindowLayer], conv_layer: str, activation="relu"):
    """Applies the conv (with ``activation``) and pool layers of a plan to ``x``."""
    conv_class, pool_class = conv_classes(conv_layer)
    for layer in plan:
        padding = layer.padding
        if conv_layer == "keras" and not isinstance(padding, str):
            # Keras has no integer padding: p = (f - 1) / 2 at stride 1 is 'same';
            # otherwise pad explicitly, then convolve 'valid'.
            if layer.stride == 1 and 2 * padding == layer.size - 1:
                padding = "same"
            elif padding:
                x = keras.layers.ZeroPadding2D(padding, name=f"{layer.name}_pad")(x)
            if padding != "same":
                padding = "valid"
        if layer.filters is None:
            x = pool_class(layer.size, strides=layer.stride, padding=padding, name=layer.name)(x)
        else:
            x = conv_class(
                layer.filters,
                layer.size,
                strides=layer.stride,
                padding=padding,
                activation=activation,
                name=layer.name,
            )(x)
    return x


def classifier_head(
    x,
    *,
    include_top: bool,
    pooling: str | None,
    classes: int,
    classifier_activation,
    hidden_units: Sequence[int],
    dropout: float = 0.0,
):
    """The classifier top, or optional global pooling without it.

    With the top: flatten -> hidden dense layers ``fc1``, ``fc2``, ... (ReLU,
    optional dropout) -> ``predictions``.
    """
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            "Invalid value for argument `pooling`. Expected None, 'avg' or 'max'. "
            f"Received pooling={pooling!r}."
        )
    if not include_top:
        if pooling == "avg":
            return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if pooling == "max":
            return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
        return x
    check_positive_int("classes", classes)
    x = keras.layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"fc{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"fc{index}_dropout")(x)
    return keras.layers.Dense(
        classes, activation=classifier_activation, dtype="float32", name="predictions"
    )(x)


def check_weights_argument(weights, allowed_names: Sequence[str] = ()) -> None:
    """Accepts ``None``, one of ``allowed_names`` or the path of an existing file.

    Raises:
        ValueError: Naming the value and what is accepted; a missing file is
            named as such.
    """
    if weights is None or weights in allowed_names:
        return
    if isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights):
        return
    accepted = ", ".join(["None", *(repr(n) for n in allowed_names), "a weights file path"])
    raise ValueError(
        f"Invalid value for argument `weights`. Expected {accepted}. "
        f"Received weights={weights!r}"
        + (" (no such file)." if isinstance(weights, (str, os.PathLike)) else ".")
    )


def build_plan_model(
    plan: Sequence[WindowLayer],
    *,
    input_shape,
    name: str,
    conv_layer: str,
    weights,
    include_top: bool,
    pooling: str | None,
    classes: int,
    classifier_activation,
    hidden_units: Sequence[int],
    dropout: float = 0.0,
) -> keras.Model:
    """Validates, then builds ``Input -> plan -> classifier_head`` and loads ``weights``.

    ``weights`` must already be ``None`` or a file path (resolve names such as
    ``"imagenet"`` first).
    """
    check_weights_argument(weights)
    conv_classes(conv_layer)
    feature_map_sizes(input_shape, plan, name)
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = apply_plan(inputs, plan, conv_layer)
    x = classifier_head(
        x,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        hidden_units=hidden_units,
        dropout=dropout,
    )
    model = keras.Model(inputs, x, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model
