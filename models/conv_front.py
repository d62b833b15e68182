"""A front of our `Conv1D` layers before the recurrent stack of a sequence model.

The sentiment and forecasting factories take a `ConvSpec`: ``layers`` layers
of `models.layers.Conv1D` whose features the recurrent stack then reads (a
hybrid conv -> recurrent model). Each factory picks the padding that keeps
its model honest: ``"same"`` over a text, with padding steps zeroed so that
a text's features do not depend on how much padding follows it, and
``"causal"`` over a forecast window, so that step t sees steps <= t only.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

from common.validation import check_non_negative_int, check_positive_int
from models.layers import Conv1D

__all__ = ["ConvSpec", "ZeroMaskedSteps"]


@keras.saving.register_keras_serializable(package="convseq")
class ZeroMaskedSteps(keras.layers.Layer):
    """Sets the steps its mask marks as padding to zero, and outputs no mask.

    Keras's convolutions drop masks and read whatever a padding step holds
    (an embedding's vector for id 0 is not zero). Zeroed, the padding steps
    after a text look to a ``"same"`` convolution like its own zero padding,
    so the features of the text's steps are those of the text alone.

    Example:
        >>> import numpy as np
        >>> x = np.ones((1, 3, 2), "float32")
        >>> ZeroMaskedSteps()(x, mask=np.array([[True, True, False]]))[0, :, 0].numpy()
        array([1., 1., 0.], dtype=float32)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs
        return inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)

    def compute_mask(self, inputs, mask=None):
        # The mask ends here: the convolution after this layer would drop it
        # (with a warning); the factory hands it to the recurrent stack itself.
        return None


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    """The convolutional front of a sequence model (off while ``filters`` is 0).

    Attributes:
        filters: Filters of each Conv1D layer; 0: no front.
        kernel_size: Steps each filter spans.
        layers: Stacked Conv1D layers.
        activation: Activation of each layer (a Keras name), or None.

    Example:
        >>> spec = ConvSpec(filters=8, kernel_size=3)
        >>> spec(keras.Input((24, 2)), padding="causal").shape
        (None, 24, 8)
    """

    filters: int = 0
    kernel_size: int = 3
    layers: int = 1
    activation: str | None = "relu"

    def __post_init__(self):
        check_non_negative_int("filters", self.filters)
        check_positive_int("kernel_size", self.kernel_size)
        check_positive_int("layers", self.layers)
        try:
            keras.activations.get(self.activation)
        except ValueError:
            raise ValueError(
                "Invalid value for argument `activation`. Expected the name of a Keras "
                f"activation (relu, tanh, ...) or None. Received activation={self.activation!r}."
            ) from None

    @property
    def enabled(self) -> bool:
        """Whether there is a front (``filters`` > 0)."""
        return self.filters > 0

    def __call__(self, inputs, padding: str, mask=None):
        """Applies the front; returns ``inputs`` unchanged when it is off.

        Args:
            inputs: Steps ``[batch, time, features]``.
            padding: The `Conv1D` padding: ``"same"`` or ``"causal"`` keep the
                number of steps.
            mask: Boolean ``[batch, time]``, False on padding steps; those
                steps are zeroed before each convolution.

        Returns:
            ``[batch, time, filters]`` features (for a length-keeping padding).
        """
        if not self.enabled:
            return inputs
        outputs = inputs
        for index in range(self.layers):
            if mask is not None:
                outputs = ZeroMaskedSteps(name=f"zero_padding_steps_{index + 1}")(
                    outputs, mask=mask
                )
            outputs = Conv1D(
                self.filters,
                self.kernel_size,
                padding=padding,
                activation=self.activation,
                name=f"conv1d_{index + 1}",
            )(outputs)
        return outputs
