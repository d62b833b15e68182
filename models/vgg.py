"""VGG16 (Simonyan & Zisserman, 2014) and a small VGG-style CNN."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras

from models.applications import (
    WindowLayer,
    build_plan_model,
    check_weights_argument,
    conv_classes,
    feature_map_sizes,
)
from models.pretrained import VGG16_IMAGENET, VGG16_IMAGENET_NO_TOP, pretrained_weights_path


def vgg_plan(blocks: Sequence[tuple[int, int]]) -> tuple[WindowLayer, ...]:
    """CONV3 (3x3, stride 1, padding 1) x n then POOL2 (2x2, stride 2), per block.

    Args:
        blocks: ``(filters, convs)`` per block.

    Returns:
        The plan with layers named ``blockN_convM`` and ``blockN_pool``.
    """
    plan = []
    for block, (filters, convs) in enumerate(blocks, start=1):
        for conv in range(1, convs + 1):
            plan.append(WindowLayer(f"block{block}_conv{conv}", 3, 1, 1, filters))
        plan.append(WindowLayer(f"block{block}_pool", 2, 2, 0))
    return tuple(plan)


VGG16_PLAN = vgg_plan(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)))


def vgg16(
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    input_shape=(224, 224, 3),
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation="softmax",
    name: str = "vgg16",
    *,
    conv_layer: str = "convseq",
    weights_cache_dir: str | os.PathLike | None = None,
) -> keras.Model:
    """VGG16: 13 CONV3 layers in 5 blocks with POOL2, then fc1, fc2, predictions.

    Layer names and weight layout equal `keras.applications.VGG16`, so its
    weight files (``.weights.h5`` or the legacy ImageNet ``.h5``) load into this
    model. 138,357,544 parameters at 224x224x3 and 1,000 classes. Inputs are
    preprocessed like Keras's VGG16 expects (`keras.applications.vgg16.preprocess_input`).

    Args:
        include_top: Include flatten -> fc1 -> fc2 -> predictions.
        weights: ``None``, ``"imagenet"`` or the path of a weights file.
        input_shape: ``(height, width, channels)``; at least 32x32.
        pooling: Without the top: ``None``, ``"avg"`` or ``"max"``.
        classes: Classes of the top (1,000 with ImageNet weights and the top).
        classifier_activation: Activation of ``predictions``.
        name: Model name.
        conv_layer: ``"convseq"`` (our layers) or ``"keras"`` (built-ins).
        weights_cache_dir: Keras's cache folder holding ``models/`` with the
            ImageNet files (``$KERAS_HOME``; default ``~/.keras``).

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: On bad arguments or too small an input.
        models.pretrained.WeightsUnavailableError: If ImageNet weights are
            asked for, not cached, and not downloadable (within seconds).
    """
    check_weights_argument(weights, ("imagenet",))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "With weights='imagenet' and include_top=True, `classes` must be 1000. "
            f"Received classes={classes}. Use include_top=False for another head."
        )
    if weights == "imagenet":
        conv_classes(conv_layer)
        feature_map_sizes(input_shape, VGG16_PLAN, name)  # fail on geometry before I/O
        file = VGG16_IMAGENET if include_top else VGG16_IMAGENET_NO_TOP
        weights = pretrained_weights_path(file, weights_cache_dir)
    return build_plan_model(
        VGG16_PLAN,
        input_shape=input_shape,
        name=name,
        conv_layer=conv_layer,
        weights=weights,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        hidden_units=(4096, 4096),
    )


def small_vgg(
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    input_shape=(32, 32, 3),
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation="softmax",
    name: str = "small_vgg",
    *,
    conv_layer: str = "convseq",
    blocks: Sequence[tuple[int, int]] = ((32, 2), (64, 2)),
    dense_units: int = 128,
    dropout: float = 0.3,
) -> keras.Model:
    """A VGG-style CNN for 28-64 px inputs: CONV3 x n + POOL2 blocks, one hidden dense.

    Args:
        include_top: Include flatten -> fc1 -> predictions.
        weights: ``None`` or a weights file path.
        input_shape: ``(height, width, channels)``.
        pooling: Without the top: ``None``, ``"avg"`` or ``"max"``.
        classes: Classes of the top.
        classifier_activation: Activation of ``predictions``.
        name: Model name.
        conv_layer: ``"convseq"`` or ``"keras"``.
        blocks: ``(filters, convs)`` per block.
        dense_units: Units of ``fc1``.
        dropout: Dropout after ``fc1``.

    Returns:
        A `keras.Model`.
    """
    return build_plan_model(
        vgg_plan(blocks),
        input_shape=input_shape,
        name=name,
        conv_layer=conv_layer,
        weights=weights,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        hidden_units=(dense_units,),
        dropout=dropout,
    )
