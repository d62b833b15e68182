"""Convolution layers: one rank-generic base, thin concrete layers.

The layer is ours: argument validation, integer padding ``p`` (Keras has only
``"valid"`` and ``"same"``), the output-size contract of `conv_output_size`,
and serialization. The hot path calls the backend's optimized convolution.
"""

from __future__ import annotations

import keras
from keras import ops

from common.validation import check_positive_int
from models.layers.geometry import (
    conv_output_size,
    normalize_padding,
    normalize_tuple,
)


class BaseConv(keras.layers.Layer):
    """Rank-generic convolution: ``y = activation(conv(pad(x), kernel) + bias)``.

    Inputs are channels-last: ``(batch, *spatial, channels)``. The kernel has
    shape ``(*kernel_size, input_channels, filters)``, the same layout as
    Keras's convolutions, so weights copy across.

    Args:
        rank: Number of spatial dimensions.
        filters: Number of output channels, ``>= 1``.
        kernel_size: Filter size ``f``: an int or a tuple of ``rank`` ints.
        strides: Stride ``s``: an int or a tuple of ``rank`` ints.
        padding: ``"valid"``, ``"same"``, or an int ``p >= 0`` (or a tuple of
            ``rank`` ints) of zeros added on both sides of each spatial dim.
        dilation_rate: Dilation ``d``: an int or a tuple of ``rank`` ints.
        activation: Activation function or its name; ``None`` for linear.
        use_bias: Whether to add a bias per filter.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the kernel (e.g. ``"l2"``).
        bias_regularizer: Regularizer of the bias.
        activity_regularizer: Regularizer of the output.
        kernel_constraint: Constraint on the kernel.
        bias_constraint: Constraint on the bias.
        **kwargs: Base `keras.layers.Layer` arguments (``name``, ``dtype``, ...).

    Raises:
        ValueError: On an invalid argument (in the constructor), or when the
            input shape gives an empty output (in ``build``).
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` is not compatible with `dilation_rate > 1`. Received "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}."
            )
        self.padding = normalize_padding(padding, rank)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=rank + 2)

    def _output_spatial_shape(self, spatial_shape):
        try:
            return tuple(
                conv_output_size(size, f, s, self._padding_of(dim), d)
                for dim, (size, f, s, d) in enumerate(
                    zip(spatial_shape, self.kernel_size, self.strides, self.dilation_rate)
                )
            )
        except ValueError as error:
            raise ValueError(
                f"Layer {self.name!r} cannot convolve an input of spatial shape "
                f"{tuple(spatial_shape)}: {error}"
            ) from None

    def _padding_of(self, dim):
        return self.padding if isinstance(self.padding, str) else self.padding[dim]

    def _check_input_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"Layer {self.name!r} expects inputs of rank {self.rank + 2} "
                f"(batch, {'spatial, ' * self.rank}channels). "
                f"Received input_shape={tuple(input_shape)}."
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"Layer {self.name!r} needs a known number of input channels. "
                f"Received input_shape={tuple(input_shape)}."
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self._output_spatial_shape(input_shape[1:-1])
        input_channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, input_channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2, axes={-1: input_channels})

    def call(self, inputs):
        mode = self.padding
        if not isinstance(mode, str):
            if any(mode):
                pads = [[0, 0], *([p, p] for p in mode), [0, 0]]
                inputs = ops.pad(inputs, pads)
            mode = "valid"
        outputs = ops.conv(
            inputs,
            self.kernel,
            strides=self.strides,
            padding=mode,
            dilation_rate=self.dilation_rate,
            data_format="channels_last",
        )
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        spatial = self._output_spatial_shape(input_shape[1:-1])
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="convseq")
class Conv2D(BaseConv):
    """2D convolution over images, channels last.

    Output size per spatial dim: ``floor((H + 2p - f) / s) + 1`` (see
    `conv_output_size`). Arguments and defaults follow `keras.layers.Conv2D`
    where they overlap; ``padding`` also takes an integer ``p``.

    Args:
        filters: Number of output channels.
        kernel_size: Filter size ``f``: an int or ``(f_h, f_w)``.
        strides: Stride ``s``: an int or ``(s_h, s_w)``.
        padding: ``"valid"``, ``"same"``, or an int ``p`` / ``(p_h, p_w)``.
        dilation_rate: An int or ``(d_h, d_w)``.
        activation: Activation function or name.
        use_bias: Whether to add a bias.
        kernel_initializer: Kernel initializer.
        bias_initializer: Bias initializer.
        kernel_regularizer: Kernel regularizer.
        bias_regularizer: Bias regularizer.
        activity_regularizer: Output regularizer.
        kernel_constraint: Kernel constraint.
        bias_constraint: Bias constraint.
        **kwargs: Base layer arguments.

    Example:
        >>> import numpy as np
        >>> layer = Conv2D(8, kernel_size=5, strides=1, padding=2)
        >>> layer(np.zeros((1, 28, 28, 3), "float32")).shape
        (1, 28, 28, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            rank=2,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="convseq")
class Conv1D(BaseConv):
    """1D convolution over sequences ``(batch, steps, channels)``; see `Conv2D`.

    Example:
        >>> import numpy as np
        >>> Conv1D(8, kernel_size=3, padding=1)(np.zeros((2, 10, 4), "float32")).shape
        (2, 10, 8)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1, **kwargs):
        super().__init__(
            rank=1,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            dilation_rate=dilation_rate,
            **kwargs,
        )
