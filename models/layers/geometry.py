"""Sliding-window geometry shared by convolution and pooling layers."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from common.padding import PADDING_MODES, parse_padding

__all__ = ["PADDING_MODES", "conv_output_size", "normalize_padding", "normalize_tuple"]

Padding = str | int | Sequence[int]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def normalize_tuple(value, rank: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    """Turns an int or a sequence of ``rank`` ints into a tuple, validated.

    Args:
        value: An int or a sequence of ``rank`` ints.
        rank: Number of spatial dimensions.
        name: Argument name, for error messages.
        minimum: Smallest allowed value.

    Returns:
        A tuple of ``rank`` ints.

    Raises:
        ValueError: Naming the argument, what was expected and what was received.
    """
    values = (value,) * rank if _is_int(value) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != rank or not all(_is_int(v) and v >= minimum for v in values):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected an integer >= {minimum} or a "
            f"tuple of {rank} such integers. Received {name}={value!r}."
        )
    return tuple(int(v) for v in values)


def normalize_padding(padding: Padding, rank: int) -> str | tuple[int, ...]:
    """A conv/pool layer's padding: `common.padding.parse_padding`, or one int per dimension.

    Args:
        padding: Anything `parse_padding` takes (``"valid"``, ``"same"`` in
            any case, an int ``p >= 0`` or its digits: ``p`` zeros on both
            sides of every spatial dimension), or a tuple of ``rank`` ints
            ``p >= 0``, one per spatial dimension.
        rank: Number of spatial dimensions.

    Returns:
        ``"valid"``, ``"same"`` or a tuple of ``rank`` ints.

    Raises:
        ValueError: If ``padding`` is none of the above.
    """
    if isinstance(padding, str) or _is_int(padding):
        mode = parse_padding(padding)
        return mode if isinstance(mode, str) else (mode,) * rank
    try:
        return normalize_tuple(padding, rank, "padding", minimum=0)
    except ValueError:
        raise ValueError(
            "Invalid value for argument `padding`. Expected 'valid', 'same', an integer "
            f">= 0 (zeros added on each side) or a tuple of {rank} such integers. "
            f"Received padding={padding!r}."
        ) from None


def conv_output_size(
    size: int | None,
    kernel_size: int,
    stride: int = 1,
    padding: str | int = 0,
    dilation_rate: int = 1,
) -> int | None:
    """Output length of a sliding window along one dimension.

    For an integer padding ``p`` this is ``floor((H + 2p - f) / s) + 1`` with
    the effective filter size ``f = d * (kernel_size - 1) + 1`` for dilation
    ``d``. ``"valid"`` means ``p = 0``; ``"same"`` means ``ceil(H / s)`` (the
    Keras/TensorFlow convention, which pads as needed, more at the end).

    Args:
        size: Input length ``H``; ``None`` (unknown) gives ``None``.
        kernel_size: Filter size ``f >= 1``.
        stride: Stride ``s >= 1``.
        padding: ``"valid"``, ``"same"`` or an integer ``p >= 0`` (parsed by
            `common.padding.parse_padding`).
        dilation_rate: Dilation ``d >= 1``.

    Returns:
        The output length, or ``None`` if ``size`` is ``None``.

    Raises:
        ValueError: If an argument is invalid or the output would be empty;
            the message shows the formula with the values.

    Example:
        >>> conv_output_size(28, kernel_size=5, stride=1, padding=2)
        28
        >>> conv_output_size(227, kernel_size=11, stride=4, padding=0)
        55
    """
    kernel_size = normalize_tuple(kernel_size, 1, "kernel_size")[0]
    stride = normalize_tuple(stride, 1, "stride")[0]
    dilation_rate = normalize_tuple(dilation_rate, 1, "dilation_rate")[0]
    mode = parse_padding(padding)
    if size is None:
        return None
    size = normalize_tuple(size, 1, "size")[0]
    if mode == "same":
        return math.ceil(size / stride)
    pad = 0 if mode == "valid" else mode
    effective = dilation_rate * (kernel_size - 1) + 1
    output = (size + 2 * pad - effective) // stride + 1
    if output < 1:
        f_text = "f" if dilation_rate == 1 else f"f (= d*(k-1)+1 = {effective})"
        raise ValueError(
            f"Invalid convolution geometry: output size floor((H + 2p - f) / s) + 1 = "
            f"floor(({size} + 2*{pad} - {effective}) / {stride}) + 1 = {output} for "
            f"H={size}, {f_text}={effective}, s={stride}, p={pad}; it must be at least 1. "
            "Use a smaller kernel or stride, more padding, or a larger input."
        )
    return output
