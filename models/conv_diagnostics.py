"""What a trained CNN looks at: its first filters, its feature maps and Grad-CAM.

Numbers only (NumPy arrays); `pipelines.image_diagnostics` draws and logs
them. Conv blocks are found by the ``blockN_...`` layer names every image
factory here uses (`models.small_cnn`, `models.vgg16`, ...).
"""

from __future__ import annotations

import re

import keras
import numpy as np
import tensorflow as tf

from models.layers.pooling import BasePooling

_BLOCK = re.compile(r"^block(\d+)_")
# Layers of a block that resample or pad its map rather than compute it.
_NOT_A_MAP = (
    BasePooling,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.ZeroPadding2D,
)


def conv_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The 2D convolutions of a model, in order: layers with a 4D ``kernel``."""
    return [
        layer
        for layer in model.layers
        if getattr(layer, "kernel", None) is not None and len(layer.kernel.shape) == 4
    ]


def first_conv_filters(model: keras.Model) -> np.ndarray:
    """The kernel of the model's first 2D convolution, ``[f_h, f_w, in_channels, filters]``.

    Raises:
        ValueError: If the model has no 2D convolution at its top level.
    """
    layers = conv_layers(model)
    if not layers:
        raise ValueError(
            f"Model {model.name!r} has no 2D convolution at its top level (a layer with a 4D "
            "kernel); nested models are not searched."
        )
    return np.array(layers[0].kernel.numpy())


def conv_block_outputs(model: keras.Model) -> list[str]:
    """The layer whose output is each conv block's feature map, block by block.

    A block's map is the output of its last ``blockN_*`` layer before pooling
    (``blockN_conv2``, or ``blockN_relu2`` with batch normalization). A model
    without ``blockN_`` names gives its conv layers.

    Returns:
        Layer names, first block first; empty for a model without convolutions.
    """
    last: dict[int, str] = {}
    for layer in model.layers:
        match = _BLOCK.match(layer.name)
        if match and not isinstance(layer, _NOT_A_MAP):
            last[int(match.group(1))] = layer.name
    if last:
        return [last[block] for block in sorted(last)]
    return [layer.name for layer in conv_layers(model)]


def _check_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    try:
        layer = model.get_layer(name)
    except ValueError:
        raise ValueError(
            f"Invalid value for argument `layer_name`. Expected a layer of model {model.name!r}. "
            f"Received layer_name={name!r}."
        ) from None
    if len(layer.output.shape) != 4:
        raise ValueError(
            f"Invalid value for argument `layer_name`. Expected a layer with a 4D output "
            f"[batch, height, width, channels]. Received layer_name={name!r} with output "
            f"shape {tuple(layer.output.shape)}."
        )
    return layer


def feature_maps(model: keras.Model, images, layer_names: list[str]) -> list[np.ndarray]:
    """The outputs of ``layer_names`` for a batch of images (inference mode).

    Args:
        model: A functional model.
        images: A batch the model takes (e.g. ``uint8 [n, h, w, c]``).
        layer_names: Layers with 4D outputs, e.g. `conv_block_outputs`.

    Returns:
        One ``float32 [n, h_i, w_i, c_i]`` array per layer.

    Raises:
        ValueError: Naming a layer that is not in the model or not 4D.
    """
    outputs = [_check_layer(model, name).output for name in layer_names]
    probe = keras.Model(model.input, outputs)
    maps = probe(images, training=False)
    maps = maps if isinstance(maps, (list, tuple)) else [maps]
    return [keras.ops.convert_to_numpy(m).astype(np.float32) for m in maps]


def _class_scores(model: keras.Model):
    """The tensor whose entries Grad-CAM differentiates, and how to get scores from it.

    A softmax ``Dense`` top is undone (its logits are used), since the
    gradient of a saturated probability vanishes.
    """
    head = model.layers[-1]
    if isinstance(head, keras.layers.Dense) and head.activation is keras.activations.softmax:
        return head.input, lambda x: keras.ops.matmul(x, head.kernel) + head.bias
    return model.output, lambda x: x


def grad_cam(
    model: keras.Model,
    images,
    layer_name: str | None = None,
    class_ids=None,
    pool_gradients: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM heat maps (Selvaraju et al., 2017): where the evidence for a class lies.

    For each image, the feature maps ``A_k`` of ``layer_name`` are weighted by
    the mean gradient of the class score over each map, summed, passed
    through ReLU, resized (bilinear) to the input and scaled to a maximum of
    1. The score is the class logit (a softmax top is undone).

    With ``pool_gradients=False`` each position of ``A_k`` is weighted by the
    gradient at that position instead: HiResCAM (Draelos & Carin, 2020). The
    two agree for a global-average-pooling head; behind a flatten -> dense
    head (`models.small_cnn`) the dense weights differ by position, and the
    averaged gradient of Grad-CAM can cancel where HiResCAM stays faithful.

    Args:
        model: A functional classifier.
        images: A batch the model takes, ``[n, height, width, channels]``.
        layer_name: A layer with a 4D output; default the last conv block's
            map (`conv_block_outputs`).
        class_ids: ``[n]`` classes to explain; default each image's predicted class.
        pool_gradients: Grad-CAM (True) or HiResCAM (False).

    Returns:
        ``(heatmaps, class_ids)``: ``float32 [n, height, width]`` in ``[0, 1]``
        (all zeros where no position has positive evidence), and the
        ``int64 [n]`` classes explained.

    Raises:
        ValueError: If the layer is unknown or not 4D, or the model has no conv block.

    Example:
        >>> heatmaps, classes = grad_cam(model, images[:4])  # doctest: +SKIP
        >>> heatmaps.shape  # (4, 28, 28) for Fashion-MNIST  # doctest: +SKIP
    """
    if layer_name is None:
        blocks = conv_block_outputs(model)
        if not blocks:
            raise ValueError(
                f"Model {model.name!r} has no conv block at its top level; pass `layer_name`."
            )
        layer_name = blocks[-1]
    features_tensor = _check_layer(model, layer_name).output
    top_tensor, scores_of = _class_scores(model)
    probe = keras.Model(model.input, [features_tensor, top_tensor])
    images = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        features, top = probe(images, training=False)
        scores = scores_of(top)
        if class_ids is None:
            class_ids = tf.argmax(scores, axis=-1)
        class_ids = tf.cast(tf.reshape(class_ids, [-1]), tf.int64)
        picked = tf.gather(scores, class_ids, axis=1, batch_dims=1)
    # Images are independent in inference mode: the gradient of the sum is each one's.
    gradients = tape.gradient(picked, features)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True) if pool_gradients else gradients
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1, keepdims=True))
    cam = tf.image.resize(cam, tf.shape(images)[1:3], method="bilinear")[..., 0]
    peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
    cam = tf.math.divide_no_nan(cam, peak)
    return cam.numpy().astype(np.float32), class_ids.numpy()
