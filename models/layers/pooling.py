"""Max pooling: one rank-generic base, thin concrete layers."""

from __future__ import annotations

import keras
from keras import ops

from models.layers.geometry import conv_output_size, normalize_padding, normalize_tuple


class BasePooling(keras.layers.Layer):
    """Rank-generic max pooling over windows of ``pool_size``.

    Output size per spatial dim is ``floor((H + 2p - f) / s) + 1`` with
    ``f = pool_size`` and ``s = strides``. Integer padding pads with the
    lowest value of the dtype, so padding never wins a max.

    Args:
        rank: Number of spatial dimensions.
        pool_size: Window size ``f``: an int or a tuple of ``rank`` ints.
        strides: Step ``s``; ``None`` means ``pool_size``.
        padding: ``"valid"``, ``"same"``, or an int ``p`` (or tuple) with
            ``p <= f // 2`` so every window holds at least one input value.
        **kwargs: Base `keras.layers.Layer` arguments.

    Raises:
        ValueError: On an invalid argument, or an input too small for the window.
    """

    def __init__(self, rank, pool_size, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        self.strides = (
            self.pool_size if strides is None else normalize_tuple(strides, rank, "strides")
        )
        self.padding = normalize_padding(padding, rank)
        if not isinstance(self.padding, str) and any(
            p > f // 2 for p, f in zip(self.padding, self.pool_size)
        ):
            raise ValueError(
                "Invalid value for argument `padding`. Expected at most half the pool size "
                f"(p <= f // 2, here f={self.pool_size}) so no window is all padding. "
                f"Received padding={padding!r}."
            )
        self.input_spec = keras.layers.InputSpec(ndim=rank + 2)

    def _output_spatial_shape(self, spatial_shape):
        try:
            return tuple(
                conv_output_size(
                    size,
                    f,
                    s,
                    self.padding if isinstance(self.padding, str) else self.padding[dim],
                )
                for dim, (size, f, s) in enumerate(zip(spatial_shape, self.pool_size, self.strides))
            )
        except ValueError as error:
            raise ValueError(
                f"Layer {self.name!r} cannot pool an input of spatial shape "
                f"{tuple(spatial_shape)}: {error}"
            ) from None

    def build(self, input_shape):
        self._output_spatial_shape(input_shape[1:-1])

    def call(self, inputs):
        mode = self.padding
        if not isinstance(mode, str):
            if any(mode):
                pads = [[0, 0], *([p, p] for p in mode), [0, 0]]
                lowest = ops.convert_to_tensor(float("-inf"), dtype=inputs.dtype)
                inputs = ops.pad(inputs, pads, constant_values=lowest)
            mode = "valid"
        return ops.max_pool(
            inputs,
            pool_size=self.pool_size,
            strides=self.strides,
            padding=mode,
            data_format="channels_last",
        )

    def compute_output_shape(self, input_shape):
        spatial = self._output_spatial_shape(input_shape[1:-1])
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}
        )
        return config


@keras.saving.register_keras_serializable(package="convseq")
class MaxPool2D(BasePooling):
    """2D max pooling, channels last; arguments follow `keras.layers.MaxPool2D`.

    Args:
        pool_size: Window size: an int or ``(f_h, f_w)``.
        strides: Step; ``None`` means ``pool_size``.
        padding: ``"valid"``, ``"same"``, or an int ``p <= f // 2``.
        **kwargs: Base layer arguments.

    Example:
        >>> import numpy as np
        >>> MaxPool2D(pool_size=3, strides=2, padding=1)(np.zeros((1, 28, 28, 4))).shape
        (1, 14, 14, 4)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
        super().__init__(rank=2, pool_size=pool_size, strides=strides, padding=padding, **kwargs)


MaxPooling2D = MaxPool2D
