"""Preprocessing layers that travel inside models (and their SavedModel exports)."""

from __future__ import annotations

import keras
from keras import ops

# ImageNet channel means in BGR order, as `keras.applications.vgg16.preprocess_input`
# ("caffe" mode) subtracts them.
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="convseq")
class VGGPreprocess(keras.layers.Layer):
    """VGG16's input preprocessing as a layer: RGB -> BGR, minus ImageNet means.

    Equals `keras.applications.vgg16.preprocess_input` on ``[0, 255]`` RGB
    images. A 1-channel (grayscale) input is repeated to 3 channels first, so
    grayscale datasets can use ImageNet-shaped backbones.

    Example:
        >>> VGGPreprocess()(np.full((1, 2, 2, 3), 255.0)).shape  # doctest: +SKIP
        (1, 2, 2, 3)
    """

    def build(self, input_shape):
        if input_shape[-1] not in (1, 3):
            raise ValueError(
                f"Layer {self.name!r} expects 1 or 3 channels (grayscale or RGB). "
                f"Received input_shape={tuple(input_shape)}."
            )

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        bgr = ops.flip(x, axis=-1)
        return bgr - ops.convert_to_tensor(IMAGENET_BGR_MEAN, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)
