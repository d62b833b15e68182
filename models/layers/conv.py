"""Convolution layers of every rank: thin layers over one rank-generic `BaseConv`.

Drop-ins for `keras.layers.Conv1D`/`Conv2D`/`Conv3D`: the same constructor
arguments, defaults, `get_config` keys, weight names and shapes (LoRA
included), so configs and weights cross over both ways. Each layer only
forwards its arguments; the math lives in `models.layers.base_conv`.
"""

from __future__ import annotations

import keras

from models.layers.base_conv import BaseConv

__all__ = ["BaseConv", "Conv1D", "Conv2D", "Conv3D"]


@keras.saving.register_keras_serializable(package="convseq")
class Conv1D(BaseConv):
    """1D convolution over sequences; a drop-in for `keras.layers.Conv1D`. Arguments: `BaseConv`.

    The only rank that takes ``padding="causal"``; output length
    ``ceil(H / s)``, as ``"same"`` (see `conv_output_size`).

    Example:
        >>> import numpy as np
        >>> tuple(Conv1D(8, kernel_size=3, padding=1)(np.zeros((2, 10, 4), "float32")).shape)
        (2, 10, 8)
        >>> tuple(Conv1D(8, 3, padding="causal", dilation_rate=2)(np.zeros((2, 10, 4))).shape)
        (2, 10, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
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
            rank=1,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
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
class Conv2D(BaseConv):
    """2D convolution over images; a drop-in for `keras.layers.Conv2D`. Arguments: `BaseConv`.

    Example:
        >>> import numpy as np
        >>> layer = Conv2D(8, kernel_size=5, strides=1, padding=2)
        >>> tuple(layer(np.zeros((1, 28, 28, 3), "float32")).shape)
        (1, 28, 28, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
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
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
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
class Conv3D(BaseConv):
    """3D convolution over volumes; a drop-in for `keras.layers.Conv3D`. Arguments: `BaseConv`.

    Example:
        >>> import numpy as np
        >>> tuple(Conv3D(4, kernel_size=3, padding=1)(np.zeros((1, 6, 6, 6, 2), "float32")).shape)
        (1, 6, 6, 6, 4)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
        groups=1,
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
            rank=3,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
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
