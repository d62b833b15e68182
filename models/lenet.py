"""LeNet-style CNN (LeCun et al., 1998) for small grayscale images."""

from __future__ import annotations

import os

import keras

from models.applications import WindowLayer, build_plan_model

LENET_PLAN = (
    WindowLayer("block1_conv1", 5, 1, 2, 6),
    WindowLayer("block1_pool", 2, 2, 0),
    WindowLayer("block2_conv1", 5, 1, 0, 16),
    WindowLayer("block2_pool", 2, 2, 0),
)


def lenet(
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    input_shape=(28, 28, 1),
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation="softmax",
    name: str = "lenet",
    *,
    conv_layer: str = "convseq",
) -> keras.Model:
    """LeNet-5 shape: 6 5x5 filters (p=2), pool, 16 5x5 filters, pool, 120, 84, classes.

    ReLU and max pooling replace the original tanh and average pooling. At
    28x28x1 and 10 classes it has 61,706 parameters.

    Args:
        include_top: Include flatten -> fc1 (120) -> fc2 (84) -> predictions.
        weights: ``None`` or a weights file path.
        input_shape: ``(height, width, channels)``; at least 12x12.
        pooling: Without the top: ``None``, ``"avg"`` or ``"max"``.
        classes: Classes of the top.
        classifier_activation: Activation of ``predictions``.
        name: Model name.
        conv_layer: ``"convseq"`` or ``"keras"``.

    Returns:
        A `keras.Model`.
    """
    return build_plan_model(
        LENET_PLAN,
        input_shape=input_shape,
        name=name,
        conv_layer=conv_layer,
        weights=weights,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        hidden_units=(120, 84),
    )
