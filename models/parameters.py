"""Parameter accounting: per-layer reports and the classic design comparisons."""

from __future__ import annotations

import dataclasses

import keras

from common.validation import check_positive_int
from models.layers import conv_output_size


@dataclasses.dataclass(frozen=True)
class LayerParameters:
    """One row of a parameter report."""

    name: str
    kind: str
    output_shape: tuple
    parameters: int
    trainable: bool


def parameter_report(model: keras.Model) -> list[LayerParameters]:
    """Per-layer output shapes and parameter counts of a built model.

    Returns:
        One `LayerParameters` per layer, in order; their ``parameters`` sum to
        ``model.count_params()``.

    Example:
        >>> rows = parameter_report(vgg16())  # doctest: +SKIP
        >>> [r.parameters for r in rows if r.name == "block1_conv1"]  # doctest: +SKIP
        [1792]
    """
    rows = []
    for layer in model.layers:
        shape = layer.output.shape if hasattr(layer, "output") else ()
        rows.append(
            LayerParameters(
                name=layer.name,
                kind=type(layer).__name__,
                output_shape=tuple(shape),
                parameters=int(layer.count_params()) if layer.built else 0,
                trainable=bool(layer.trainable),
            )
        )
    return rows


def format_parameter_report(model: keras.Model) -> str:
    """`parameter_report` as an aligned text table with a total line."""
    rows = parameter_report(model)
    lines = [f"{'layer':<24}{'type':<24}{'output shape':<24}{'parameters':>14}"]
    for row in rows:
        shape = str(row.output_shape)
        lines.append(f"{row.name:<24}{row.kind:<24}{shape:<24}{row.parameters:>14,}")
    lines.append(f"{'total':<72}{sum(r.parameters for r in rows):>14,}")
    return "\n".join(lines)


def single_conv_weights(channels: int, kernel_size: int = 7) -> int:
    """Weights of one ``f x f`` conv from C to C channels: ``f^2 C^2`` (no bias).

    ``single_conv_weights(C, 7) == 49 * C**2``.
    """
    check_positive_int("channels", channels)
    check_positive_int("kernel_size", kernel_size)
    return kernel_size**2 * channels**2


def stacked_conv_weights(channels: int, kernel_size: int = 3, layers: int = 3) -> int:
    """Weights of ``layers`` stacked ``f x f`` convs, C to C channels: ``n f^2 C^2``.

    Three 3x3 convs see the same 7x7 field as one 7x7 conv with
    ``27 C^2`` instead of ``49 C^2`` weights (and two more non-linearities).
    """
    check_positive_int("layers", layers)
    return layers * single_conv_weights(channels, kernel_size)


def receptive_field(kernel_size: int, layers: int) -> int:
    """Receptive field of ``layers`` stacked stride-1 ``f x f`` convs: ``n (f - 1) + 1``."""
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("layers", layers)
    return layers * (kernel_size - 1) + 1


def conv_vs_dense_parameters(
    input_shape=(32, 32, 3), filters: int = 6, kernel_size: int = 5
) -> dict[str, int]:
    """Parameters of a conv layer vs a dense layer producing the same output size.

    For 32x32x3 inputs and six 5x5 filters (valid, stride 1): the conv has
    ``(5*5*3 + 1) * 6 = 456`` parameters; a dense layer from the 3,072 inputs to
    the same 28x28x6 = 4,704 outputs has ``3,072 * 4,704 = 14,450,688`` weights.

    Returns:
        ``conv_parameters`` (weights and biases), ``dense_weights``,
        ``output_units``, ``input_units``.
    """
    height, width, channels = input_shape
    check_positive_int("filters", filters)
    out_h = conv_output_size(height, kernel_size, 1, 0)
    out_w = conv_output_size(width, kernel_size, 1, 0)
    inputs = height * width * channels
    outputs = out_h * out_w * filters
    return {
        "conv_parameters": (kernel_size * kernel_size * channels + 1) * filters,
        "dense_weights": inputs * outputs,
        "input_units": inputs,
        "output_units": outputs,
    }
