"""AlexNet (Krizhevsky et al., 2012), single-tower, for 227x227x3 inputs."""

from __future__ import annotations

import keras

from models.applications import WindowLayer, build_plan_model

ALEXNET_PLAN = (
    WindowLayer("block1_conv1", 11, 4, 0, 96),
    WindowLayer("block1_pool", 3, 2, 0),
    WindowLayer("block2_conv1", 5, 1, 2, 256),
    WindowLayer("block2_pool", 3, 2, 0),
    WindowLayer("block3_conv1", 3, 1, 1, 384),
    WindowLayer("block3_conv2", 3, 1, 1, 384),
    WindowLayer("block3_conv3", 3, 1, 1, 256),
    WindowLayer("block3_pool", 3, 2, 0),
)


def alexnet(
    include_top: bool = True,
    weights: str | None = None,
    input_shape=(227, 227, 3),
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation="softmax",
    name: str = "alexnet",
    *,
    conv_layer: str = "convseq",
    dropout: float = 0.5,
) -> keras.Model:
    """AlexNet: 96 11x11/4 filters, max pooling, 5 conv layers, two 4,096-unit layers.

    At 227x227x3 the conv part ends in 6x6x256 = 9,216 features; with 1,000
    classes the model has 62,378,344 parameters (no grouped convolutions).

    Args:
        include_top: Include flatten -> fc1 -> fc2 -> predictions.
        weights: ``None`` or the path of a weights file of this architecture.
        input_shape: ``(height, width, channels)``; at least 67x67 (the first
            size whose last pooling output is not empty).
        pooling: Without the top: ``None``, ``"avg"`` or ``"max"``.
        classes: Classes of the top.
        classifier_activation: Activation of ``predictions``.
        name: Model name.
        conv_layer: ``"convseq"`` (our layers) or ``"keras"`` (built-ins).
        dropout: Dropout after ``fc1`` and ``fc2``.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: On a wrong rank, too small an input (with the computed
            size), or bad arguments.
    """
    return build_plan_model(
        ALEXNET_PLAN,
        input_shape=input_shape,
        name=name,
        conv_layer=conv_layer,
        weights=weights,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        hidden_units=(4096, 4096),
        dropout=dropout,
    )
