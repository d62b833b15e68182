"""Max and average pooling of every rank: one rank-generic base, thin concrete layers.

Drop-ins for `keras.layers.MaxPooling1D/2D/3D` and `AveragePooling1D/2D/3D`:
the same constructor arguments, defaults and `get_config` keys, and, like
Keras's, built on creation (they hold no weights). Ours adds integer padding
``p`` and argument validation that names the value.
"""

from __future__ import annotations

import keras
from keras import ops

from models.layers.geometry import (
    conv_output_size,
    explicit_padding,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    spatial_dims,
)

POOL_MODES = ("max", "average")


class BasePooling(keras.layers.Layer):
    """Rank-generic max or average pooling over windows of ``pool_size``.

    Output size per spatial dim is ``floor((H + 2p - f) / s) + 1`` with
    ``f = pool_size`` and ``s = strides`` (``ceil(H / s)`` for ``"same"``).

    Integer padding ``p`` adds ``p`` entries on both sides of each spatial
    dim that never count: max pooling pads with ``-inf``, so padding never
    wins a max; average pooling averages over the real (non-padded) entries
    of each window only (PyTorch's ``count_include_pad=False``), which is also
    what Keras/TensorFlow's ``"same"`` average pooling does with its padding.

    Args:
        rank: Number of spatial dimensions.
        pool_size: Window size ``f``: an int or a tuple of ``rank`` ints.
        strides: Step ``s``; ``None`` means ``pool_size``.
        padding: ``"valid"``, ``"same"``, or an int ``p`` (or tuple) with
            ``p <= f // 2`` so every window holds at least one input value.
        data_format: ``"channels_last"`` (``(batch, *spatial, channels)``),
            ``"channels_first"`` (``(batch, channels, *spatial)``) or ``None``
            for ``keras.config.image_data_format()``.
        pool_mode: ``"max"`` or ``"average"``.
        name: Layer name.
        **kwargs: Base `keras.layers.Layer` arguments.

    Raises:
        ValueError: On an invalid argument, or an input too small for the window.
    """

    def __init__(
        self,
        rank,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        pool_mode="max",
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if pool_mode not in POOL_MODES:
            raise ValueError(
                "Invalid value for argument `pool_mode`. Expected 'max' or 'average'. "
                f"Received pool_mode={pool_mode!r}."
            )
        self.rank = rank
        self.pool_mode = pool_mode
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
        self.data_format = normalize_data_format(data_format)
        self._op_padding, self._pad_widths = explicit_padding(self.padding, self.data_format)
        self.input_spec = keras.layers.InputSpec(ndim=rank + 2)
        # Stateless, so built now, as Keras's pooling (unless a subclass overrides build).
        self._build_at_init()

    def _output_spatial_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"Layer {self.name!r} expects inputs of rank {self.rank + 2} "
                f"(batch, {self.rank} spatial dims and channels). "
                f"Received input_shape={tuple(input_shape)}."
            )
        spatial_shape = spatial_dims(input_shape, self.data_format)
        try:
            return conv_output_size(spatial_shape, self.pool_size, self.strides, self.padding)
        except ValueError as error:
            raise ValueError(
                f"Layer {self.name!r} cannot pool an input of spatial shape "
                f"{tuple(spatial_shape)}: {error}"
            ) from None

    def _pool(self, inputs):
        pool = ops.max_pool if self.pool_mode == "max" else ops.average_pool
        return pool(
            inputs,
            pool_size=self.pool_size,
            strides=self.strides,
            padding=self._op_padding,
            data_format=self.data_format,
        )

    def call(self, inputs):
        # Built on creation, so the input is first seen here.
        self._output_spatial_shape(inputs.shape)
        widths = self._pad_widths
        if widths is None:
            return self._pool(inputs)
        if self.pool_mode == "max":
            lowest = ops.convert_to_tensor(float("-inf"), dtype=inputs.dtype)
            return self._pool(ops.pad(inputs, widths, constant_values=lowest))
        # Mean over real entries only: pooled sum of values / pooled count of real entries.
        one_channel = inputs[..., :1] if self.data_format == "channels_last" else inputs[:, :1]
        real = ops.pad(ops.ones_like(one_channel), widths)
        return ops.divide(self._pool(ops.pad(inputs, widths)), self._pool(real))

    def compute_output_shape(self, input_shape):
        spatial = self._output_spatial_shape(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, input_shape[-1])
        return (input_shape[0], input_shape[1], *spatial)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "padding": self.padding,
                "strides": self.strides,
                "data_format": self.data_format,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="convseq")
class MaxPool1D(BasePooling):
    """1D max pooling; a drop-in for `keras.layers.MaxPooling1D`. Arguments: `BasePooling`.

    Example:
        >>> import numpy as np
        >>> tuple(MaxPool1D(2, strides=1, padding=1)(np.zeros((2, 10, 4), "float32")).shape)
        (2, 11, 4)
    """

    def __init__(
        self,
        pool_size=2,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(1, pool_size, strides, padding, data_format, "max", name, **kwargs)


@keras.saving.register_keras_serializable(package="convseq")
class MaxPool2D(BasePooling):
    """2D max pooling; a drop-in for `keras.layers.MaxPooling2D`. Arguments: `BasePooling`.

    Example:
        >>> import numpy as np
        >>> tuple(MaxPool2D(3, strides=2, padding=1)(np.zeros((1, 28, 28, 4), "float32")).shape)
        (1, 14, 14, 4)
    """

    def __init__(
        self,
        pool_size=(2, 2),
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(2, pool_size, strides, padding, data_format, "max", name, **kwargs)


@keras.saving.register_keras_serializable(package="convseq")
class MaxPool3D(BasePooling):
    """3D max pooling; a drop-in for `keras.layers.MaxPooling3D`. Arguments: `BasePooling`.

    Example:
        >>> import numpy as np
        >>> tuple(MaxPool3D(pool_size=2)(np.zeros((1, 8, 8, 8, 2), "float32")).shape)
        (1, 4, 4, 4, 2)
    """

    def __init__(
        self,
        pool_size=(2, 2, 2),
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(3, pool_size, strides, padding, data_format, "max", name, **kwargs)


@keras.saving.register_keras_serializable(package="convseq")
class AveragePooling1D(BasePooling):
    """1D average pooling; a drop-in for `keras.layers.AveragePooling1D`. Arguments: `BasePooling`.

    Example:
        >>> import numpy as np
        >>> tuple(AveragePooling1D(3, strides=1, padding=1)(np.zeros((2, 10, 4), "float32")).shape)
        (2, 10, 4)
    """

    def __init__(
        self,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(1, pool_size, strides, padding, data_format, "average", name, **kwargs)


@keras.saving.register_keras_serializable(package="convseq")
class AveragePooling2D(BasePooling):
    """2D average pooling; a drop-in for `keras.layers.AveragePooling2D`. Arguments: `BasePooling`.

    Example:
        >>> import numpy as np
        >>> tuple(AveragePooling2D(pool_size=2)(np.zeros((1, 28, 28, 4), "float32")).shape)
        (1, 14, 14, 4)
    """

    def __init__(
        self,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(2, pool_size, strides, padding, data_format, "average", name, **kwargs)


@keras.saving.register_keras_serializable(package="convseq")
class AveragePooling3D(BasePooling):
    """3D average pooling; a drop-in for `keras.layers.AveragePooling3D`. Arguments: `BasePooling`.

    Example:
        >>> import numpy as np
        >>> tuple(AveragePooling3D(pool_size=(2, 2, 1))(np.zeros((1, 8, 8, 8, 2), "float32")).shape)
        (1, 4, 4, 8, 2)
    """

    def __init__(
        self,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(3, pool_size, strides, padding, data_format, "average", name, **kwargs)


MaxPooling1D = MaxPool1D
MaxPooling2D = MaxPool2D
MaxPooling3D = MaxPool3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
