"""Embedding models: a CNN backbone to an L2-normalised feature vector, for visual search.

Two ways to get vectors whose dot product says "looks alike":

- `embedding_model`: a new head on any backbone of ours (`small_cnn`,
  `small_vgg`, a VGG16 transfer base, built with ``include_top=False``),
  trained with a loss of `models.metric_learning`;
- `penultimate_model`: the features a trained classifier computes just
  before its last layer, normalised.

`flip_averaged` wraps either so that an image and its mirror image get one
vector (the search and faces tasks' ``flip_average``).
"""

from __future__ import annotations

import keras
import numpy as np

from common.validation import check_positive, check_positive_int

POOLINGS = ("flatten", "avg", "max")


def _pooled(features, pooling: str):
    if len(features.shape) == 2:
        return features
    if pooling == "flatten":
        return keras.layers.Flatten(name="embedding_flatten")(features)
    pool = (
        keras.layers.GlobalAveragePooling2D if pooling == "avg" else keras.layers.GlobalMaxPooling2D
    )
    return pool(name=f"embedding_{pooling}_pool")(features)


def embedding_model(
    backbone: keras.Model,
    dimension: int = 64,
    pooling: str = "flatten",
    name: str = "embedder",
    copy_dimension: int = 0,
    copy_weight: float = 1.0,
) -> keras.Model:
    """Backbone features -> dense -> unit length: ``float32 [batch, dimension]``.

    With ``copy_dimension``, a second head finds altered copies of an image:
    the output is ``[class part, sqrt(w) * copy part] / sqrt(1 + w)`` with
    ``w = copy_weight`` (each part of unit length; ``dimension +
    copy_dimension`` long, unit length), so a dot product is the weighted
    mean ``(class cosine + w * copy cosine) / (1 + w)``. Train it with
    `models.metric_learning.ClassAndCopyLoss` (which reads each part alone,
    whatever ``w``).

    Args:
        backbone: A model from images to feature maps ``[batch, h, w, c]`` or
            vectors (a factory called with ``include_top=False``); its
            preprocessing (rescaling) stays inside, so the model takes raw pixels.
        dimension: Length of the embedding (of its class part, with a copy head).
        pooling: How feature maps become a vector: ``"flatten"`` (keeps where
            things are; small images), ``"avg"`` or ``"max"`` (global pooling).
        name: Model name.
        copy_dimension: Length of the copy part (0: no copy head).
        copy_weight: Weight ``w`` of the copy part's cosine in a dot product
            (with a copy head): above 1, an altered copy of an image finds
            the image rather than another of its kind.

    Returns:
        An uncompiled `keras.Model`; its output layer is named ``embedding``.

    Raises:
        ValueError: On a bad argument, naming it.

    Example:
        >>> embedder = embedding_model(small_cnn(include_top=False), dimension=64)
        >>> embedder.compile(optimizer="adam", loss=SemiHardTripletLoss())
    """
    check_positive_int("dimension", dimension)
    if pooling not in POOLINGS:
        raise ValueError(
            f"Invalid value for argument `pooling`. Expected one of {', '.join(POOLINGS)}. "
            f"Received pooling={pooling!r}."
        )
    if len(backbone.output.shape) not in (2, 4):
        raise ValueError(
            "Invalid value for argument `backbone`. Expected a model whose output is feature "
            f"maps (batch, h, w, c) or vectors (batch, n). Received output shape "
            f"{tuple(backbone.output.shape)}."
        )
    features = _pooled(backbone.output, pooling)
    projected = keras.layers.Dense(dimension, dtype="float32", name="embedding_dense")(features)
    if not copy_dimension:
        normalised = keras.layers.UnitNormalization(dtype="float32", name="embedding")(projected)
        return keras.Model(backbone.inputs, normalised, name=name)
    check_positive_int("copy_dimension", copy_dimension)
    check_positive("copy_weight", copy_weight)
    copy = keras.layers.Dense(copy_dimension, dtype="float32", name="copy_dense")(features)
    parts = [
        keras.layers.UnitNormalization(dtype="float32", name=f"{part}_unit")(vector)
        for part, vector in (("class", projected), ("copy", copy))
    ]
    if copy_weight != 1:
        parts[1] = keras.layers.Rescaling(
            float(np.sqrt(copy_weight)), dtype="float32", name="copy_weighting"
        )(parts[1])
    joined = keras.layers.Concatenate(dtype="float32", name="class_and_copy")(parts)
    normalised = keras.layers.UnitNormalization(dtype="float32", name="embedding")(joined)
    return keras.Model(backbone.inputs, normalised, name=name)


def penultimate_model(classifier: keras.Model, name: str | None = None) -> keras.Model:
    """The input of a classifier's last layer, normalised to unit length.

    Args:
        classifier: A functional model whose last layer is its classifier
            (e.g. ``fc1 -> predictions`` of `small_cnn`: the ``fc1`` features).
        name: Model name; default ``<classifier>_penultimate``.

    Returns:
        A `keras.Model` sharing the classifier's weights, output named ``embedding``.

    Raises:
        ValueError: If the classifier's last layer does not take a vector.
    """
    last = classifier.layers[-1]
    features = last.input
    if isinstance(features, (list, tuple)) or len(features.shape) != 2:
        raise ValueError(
            f"Invalid value for argument `classifier`. Expected a model whose last layer "
            f"({last.name!r}) takes one feature vector (batch, n). Received its input "
            f"{features!r}."
        )
    normalised = keras.layers.UnitNormalization(dtype="float32", name="embedding")(features)
    return keras.Model(classifier.inputs, normalised, name=name or f"{classifier.name}_penultimate")


@keras.saving.register_keras_serializable(package="convseq")
class HorizontalFlip(keras.layers.Layer):
    """Images mirrored left to right, always: ``[batch, height, width, channels]``.

    Unlike `keras.layers.RandomFlip`, it flips every image, in training and
    inference alike: the mirror image a `flip_averaged` embedder also embeds.
    """

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape


def flip_averaged(embedder: keras.Model, name: str | None = None) -> keras.Model:
    """Each image's vector plus its mirror image's, brought to unit length.

    Where an image and its mirror image show the same thing (a face, a
    garment), averaging the two vectors (a standard test-time step of face
    recognizers) cancels part of what pose and lighting put into each, and a
    mirrored copy of an image gets that image's vector. It costs two
    embedder passes an image.

    Args:
        embedder: A model from images to unit vectors (its weights are shared).
        name: Model name (the embedder's, by default).

    Returns:
        A `keras.Model` with the embedder's input; its output layer is named ``embedding``.
    """
    images = keras.Input(embedder.input_shape[1:], dtype=embedder.inputs[0].dtype, name="images")
    mirrored = HorizontalFlip(name="mirror")(images)
    summed = keras.layers.Add(dtype="float32", name="image_and_mirror")(
        [embedder(images), embedder(mirrored)]
    )
    normalised = keras.layers.UnitNormalization(dtype="float32", name="embedding")(summed)
    return keras.Model(images, normalised, name=name or embedder.name)
