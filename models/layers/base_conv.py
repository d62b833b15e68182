"""The rank-generic convolution base of `Conv1D`, `Conv2D` and `Conv3D`.

Keras's ``BaseConv`` semantics (read ``keras/src/layers/convolutional/base_conv.py``),
plus argument validation that names the value, integer padding ``p`` (Keras
has only ``"valid"``, ``"same"`` and, in 1D, ``"causal"``) and the output-size
contract of `conv_output_size`. The hot path calls the backend's optimized
`keras.ops.conv`.
"""

from __future__ import annotations

import keras
from keras import ops

from common.validation import check_positive_int
from models.layers.geometry import (
    conv_output_size,
    explicit_padding,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    spatial_dims,
)
from models.layers.lora import LoraKernel


class BaseConv(LoraKernel, keras.layers.Layer):
    """Rank-generic convolution: ``y = activation(conv(pad(x), kernel) + bias)``.

    The kernel has shape ``(*kernel_size, input_channels // groups, filters)``,
    the layout of Keras's convolutions, so weights copy across.

    Args:
        rank: Number of spatial dimensions.
        filters: Number of output channels, ``>= 1`` and divisible by ``groups``.
        kernel_size: Filter size ``f``: an int or a tuple of ``rank`` ints.
        strides: Stride ``s``: an int or a tuple of ``rank`` ints.
        padding: ``"valid"``, ``"same"``, ``"causal"`` (rank 1 only: ``d * (f - 1)``
            zeros before the sequence, so ``output[t]`` never sees ``input[t + 1:]``),
            or an int ``p >= 0`` (or a tuple of ``rank`` ints) of zeros added on
            both sides of each spatial dim.
        data_format: ``"channels_last"`` (``(batch, *spatial, channels)``),
            ``"channels_first"`` (``(batch, channels, *spatial)``) or ``None``
            for ``keras.config.image_data_format()``.
        dilation_rate: Dilation ``d``: an int or a tuple of ``rank`` ints.
        groups: Number of channel groups, each convolved separately with
            ``filters // groups`` filters; input channels and ``filters`` must
            both be divisible by it.
        activation: Activation function or its name; ``None`` for linear.
        use_bias: Whether to add a bias per filter.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the kernel (e.g. ``"l2"``).
        bias_regularizer: Regularizer of the bias.
        activity_regularizer: Regularizer of the output.
        kernel_constraint: Constraint on the kernel.
        bias_constraint: Constraint on the bias.
        lora_rank: If set, LoRA of this rank is enabled when the layer is built
            (see `enable_lora`); concrete layers take it through ``**kwargs``.
        lora_alpha: LoRA scale numerator; ``None`` means ``lora_rank``.
        **kwargs: Base `keras.layers.Layer` arguments (``name``, ``dtype``, ...).

    Raises:
        ValueError: On an invalid argument (in the constructor), or when the
            input shape gives an empty output or a channel count not divisible
            by ``groups`` (in ``build``).
    """

    def __init__(
        self,
        rank,
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
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = check_positive_int("filters", filters)
        self.groups = check_positive_int("groups", groups)
        if self.filters % self.groups:
            raise ValueError(
                "Invalid value for argument `groups`. Expected a divisor of `filters`, "
                f"so each group gets filters // groups filters. Received groups={groups} "
                f"and filters={filters}."
            )
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` is not compatible with `dilation_rate > 1`. Received "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}."
            )
        self.padding = normalize_padding(padding, rank, allow_causal=rank == 1)
        self.data_format = normalize_data_format(data_format)
        # TensorFlow's CPU kernels run 1D/2D convolution channels-last only
        # (Keras's own channels-first Conv1D/Conv2D fail there unless
        # XLA-compiled), so on that backend channels-first inputs are
        # transposed around a channels-last convolution; TensorFlow's layout
        # optimizer picks the GPU layout by itself.
        self._compute_format = self.data_format
        if keras.backend.backend() == "tensorflow":
            self._compute_format = "channels_last"
        self._op_padding, self._pad_widths = explicit_padding(
            self.padding,
            self._compute_format,
            causal_pad=self.dilation_rate[0] * (self.kernel_size[0] - 1),
        )
        # The bias is added in the compute layout: on channels-first outputs
        # the TensorFlow backend's `ops.add` turns a (1, filters, 1, ...) bias
        # into an NHWC `bias_add` whenever the last spatial dim equals
        # `filters`, adding it along the wrong axis.
        self._bias_shape = (1,) * (rank + 1) + (self.filters,)
        if self._compute_format == "channels_first":
            self._bias_shape = (1, self.filters) + (1,) * rank
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self._init_lora(lora_rank, lora_alpha)
        self.input_spec = keras.layers.InputSpec(min_ndim=rank + 2)

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _output_spatial_shape(self, spatial_shape):
        try:
            return conv_output_size(
                tuple(spatial_shape),
                self.kernel_size,
                self.strides,
                self.padding,
                self.dilation_rate,
            )
        except ValueError as error:
            raise ValueError(
                f"Layer {self.name!r} cannot convolve an input of spatial shape "
                f"{tuple(spatial_shape)}: {error}"
            ) from None

    def _check_input_shape(self, input_shape):
        layout = "channels, " + "spatial, " * self.rank
        if self.data_format == "channels_last":
            layout = "spatial, " * self.rank + "channels"
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"Layer {self.name!r} expects inputs of rank {self.rank + 2} "
                f"(batch, {layout.rstrip(', ')}). Received input_shape={tuple(input_shape)}."
            )
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f"Layer {self.name!r} needs a known number of input channels "
                f"(axis {self._channel_axis}, data_format={self.data_format!r}). "
                f"Received input_shape={tuple(input_shape)}."
            )
        if channels % self.groups:
            raise ValueError(
                f"Layer {self.name!r}: the number of input channels must be divisible by "
                f"groups={self.groups}. Received {channels} channels "
                f"(input_shape={tuple(input_shape)})."
            )
        return channels

    def build(self, input_shape):
        input_channels = self._check_input_shape(input_shape)
        self._output_spatial_shape(spatial_dims(input_shape, self.data_format))
        self._kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, input_channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                trainable=True,
                dtype=self.dtype,
            )
        else:
            self.bias = None
        self.input_spec = keras.layers.InputSpec(
            ndim=self.rank + 2, axes={self._channel_axis: input_channels}
        )
        self.built = True
        self._build_lora()

    def _convolve(self, inputs, kernel, bias=None):
        transpose = self._compute_format != self.data_format
        if transpose:
            inputs = ops.moveaxis(inputs, 1, -1)
        if self._pad_widths is not None:
            inputs = ops.pad(inputs, self._pad_widths)
        outputs = ops.conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self._op_padding,
            dilation_rate=self.dilation_rate,
            data_format=self._compute_format,
        )
        if bias is not None:
            outputs = ops.add(outputs, ops.reshape(bias, self._bias_shape))
        return ops.moveaxis(outputs, -1, 1) if transpose else outputs

    def convolution_op(self, inputs, kernel):
        """Pads as ``padding`` says, then calls `keras.ops.conv` once.

        On TensorFlow a channels-first input is transposed around a
        channels-last convolution (TensorFlow's CPU kernels are channels-last
        only); other backends get ``data_format`` as is.

        Args:
            inputs: A batch in the layer's ``data_format``.
            kernel: ``(*kernel_size, input_channels // groups, filters)``.

        Returns:
            The convolution, before bias and activation, in ``data_format``.
        """
        return self._convolve(inputs, kernel)

    def call(self, inputs):
        outputs = self._convolve(inputs, self.kernel, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        spatial = self._output_spatial_shape(spatial_dims(input_shape, self.data_format))
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, self.filters)
        return (input_shape[0], self.filters, *spatial)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "groups": self.groups,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                **self._lora_config(),
            }
        )
        return config
