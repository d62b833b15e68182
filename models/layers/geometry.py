"""Sliding-window geometry shared by convolution and pooling layers, of any rank."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np

from common.padding import PADDING_MODES, parse_padding

__all__ = [
    "DATA_FORMATS",
    "PADDING_MODES",
    "conv_output_size",
    "explicit_padding",
    "normalize_data_format",
    "normalize_padding",
    "normalize_tuple",
    "spatial_dims",
    "spatial_pad_widths",
]

Padding = str | int | Sequence[int]
DATA_FORMATS = ("channels_last", "channels_first")


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


def normalize_data_format(data_format: str | None) -> str:
    """A layer's ``data_format``: ``None`` means ``keras.config.image_data_format()``.

    Args:
        data_format: ``"channels_last"``, ``"channels_first"`` (any case) or ``None``.

    Returns:
        ``"channels_last"`` or ``"channels_first"``.

    Raises:
        ValueError: If ``data_format`` is none of the above.

    Example:
        >>> normalize_data_format("Channels_First")
        'channels_first'
    """
    if data_format is None:
        return keras.config.image_data_format()
    text = data_format.lower() if isinstance(data_format, str) else None
    if text not in DATA_FORMATS:
        raise ValueError(
            "Invalid value for argument `data_format`. Expected 'channels_last', "
            "'channels_first' or None (keras.config.image_data_format()). "
            f"Received data_format={data_format!r}."
        )
    return text


def normalize_padding(
    padding: Padding, rank: int, allow_causal: bool = False
) -> str | tuple[int, ...]:
    """A conv/pool layer's padding: `common.padding.parse_padding`, or one int per dimension.

    Args:
        padding: Anything `parse_padding` takes (``"valid"``, ``"same"`` in
            any case, an int ``p >= 0`` or its digits: ``p`` zeros on both
            sides of every spatial dimension), or a tuple of ``rank`` ints
            ``p >= 0``, one per spatial dimension; ``"causal"`` too where
            ``allow_causal``.
        rank: Number of spatial dimensions.
        allow_causal: Whether ``"causal"`` (left padding by ``d * (k - 1)``,
            as `keras.layers.Conv1D`) is accepted. It is a layer's mode, not a
            general one, so `parse_padding` does not know it.

    Returns:
        ``"valid"``, ``"same"``, ``"causal"`` or a tuple of ``rank`` ints.

    Raises:
        ValueError: If ``padding`` is none of the above.
    """
    modes = "'valid', 'same', 'causal'" if allow_causal else "'valid', 'same'"
    if isinstance(padding, str) and padding.strip().lower() == "causal":
        if allow_causal:
            return "causal"
        raise ValueError(
            "Invalid value for argument `padding`. 'causal' is only supported by 1D "
            f"convolutions (Conv1D); expected {modes} or integers >= 0 here. "
            f"Received padding={padding!r}."
        )
    try:
        if isinstance(padding, str) or _is_int(padding):
            mode = parse_padding(padding)
            return mode if isinstance(mode, str) else (mode,) * rank
        return normalize_tuple(padding, rank, "padding", minimum=0)
    except ValueError:
        raise ValueError(
            f"Invalid value for argument `padding`. Expected {modes}, an integer "
            f">= 0 (zeros added on each side) or a tuple of {rank} such integers. "
            f"Received padding={padding!r}."
        ) from None


def spatial_pad_widths(pads: Sequence[tuple[int, int]], data_format: str) -> list[list[int]]:
    """The ``ops.pad`` widths that pad only the spatial dims of a batch.

    Args:
        pads: ``(before, after)`` per spatial dimension.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        One ``[before, after]`` per axis of ``(batch, *spatial, channels)`` or
        ``(batch, channels, *spatial)``.
    """
    spatial = [[int(before), int(after)] for before, after in pads]
    if data_format == "channels_first":
        return [[0, 0], [0, 0], *spatial]
    return [[0, 0], *spatial, [0, 0]]


def explicit_padding(
    padding: str | tuple[int, ...], data_format: str, causal_pad: int = 0
) -> tuple[str, tuple[tuple[int, int], ...] | None]:
    """How a layer runs its normalized ``padding``: ``(op_padding, pad_widths)``.

    ``"valid"`` and ``"same"`` go to the backend op as they are. Integer
    padding, and ``"causal"`` (``causal_pad`` zeros before the one spatial
    dim), become `ops.pad` widths for the batch and a ``"valid"`` op.

    Args:
        padding: A value returned by `normalize_padding`.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        causal_pad: Zeros before the sequence for ``"causal"``: ``d * (k - 1)``.

    Returns:
        The op's ``padding`` and the widths to `ops.pad` the batch with first,
        or ``None`` when there is nothing to pad.

    Example:
        >>> explicit_padding((1, 0), "channels_last")
        ('valid', ((0, 0), (1, 1), (0, 0), (0, 0)))
    """
    if padding in PADDING_MODES:
        return padding, None
    pads = [(causal_pad, 0)] if padding == "causal" else [(p, p) for p in padding]
    if not any(before or after for before, after in pads):
        return "valid", None
    return "valid", tuple(map(tuple, spatial_pad_widths(pads, data_format)))


def spatial_dims(shape: Sequence[int | None], data_format: str) -> tuple[int | None, ...]:
    """The spatial part of a batch shape in ``data_format``.

    Args:
        shape: ``(batch, *spatial, channels)`` or ``(batch, channels, *spatial)``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``spatial`` as a tuple.
    """
    shape = tuple(shape)
    return shape[1:-1] if data_format == "channels_last" else shape[2:]


def _output_size(size, kernel_size, stride, mode, dilation_rate):
    if size is None:
        return None
    if mode in ("same", "causal"):
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


def conv_output_size(
    size: int | None | Sequence[int | None],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation_rate: int | Sequence[int] = 1,
) -> int | None | tuple[int | None, ...]:
    """Output length of a sliding window along one dimension, or along each of several.

    For an integer padding ``p`` this is ``floor((H + 2p - f) / s) + 1`` with
    the effective filter size ``f = d * (kernel_size - 1) + 1`` for dilation
    ``d``. ``"valid"`` means ``p = 0``; ``"same"`` means ``ceil(H / s)`` (the
    Keras/TensorFlow convention, which pads as needed, more at the end);
    ``"causal"`` pads ``d * (kernel_size - 1)`` at the start only, which also
    gives ``ceil(H / s)``.

    Args:
        size: Input length ``H``, or a tuple of lengths, one per spatial
            dimension; ``None`` (unknown) gives ``None`` for that dimension.
        kernel_size: Filter size ``f >= 1``: an int, or one per dimension.
        stride: Stride ``s >= 1``: an int, or one per dimension.
        padding: ``"valid"``, ``"same"``, ``"causal"``, an integer ``p >= 0``
            (parsed by `common.padding.parse_padding`), or one int per dimension.
        dilation_rate: Dilation ``d >= 1``: an int, or one per dimension.

    Returns:
        The output length (or ``None``) for an int ``size``; a tuple of them
        for a tuple ``size``.

    Raises:
        ValueError: If an argument is invalid or an output would be empty;
            the message shows the formula with the values.

    Example:
        >>> conv_output_size(28, kernel_size=5, stride=1, padding=2)
        28
        >>> conv_output_size(227, kernel_size=11, stride=4, padding=0)
        55
        >>> conv_output_size((32, 32, None), kernel_size=3, stride=(1, 2, 2), padding="same")
        (32, 16, None)
    """
    scalar = size is None or _is_int(size) or isinstance(size, (str, bytes))
    try:
        sizes = (size,) if scalar else tuple(size)
    except TypeError:  # not iterable (a float, ...): reported as an invalid size below
        scalar, sizes = True, (size,)
    rank = len(sizes)
    kernel_sizes = normalize_tuple(kernel_size, rank, "kernel_size")
    strides = normalize_tuple(stride, rank, "stride")
    dilations = normalize_tuple(dilation_rate, rank, "dilation_rate")
    mode = normalize_padding(padding, rank, allow_causal=True)
    if rank == 0 or not all(s is None or (_is_int(s) and s >= 1) for s in sizes):
        raise ValueError(
            "Invalid value for argument `size`. Expected an integer >= 1, None, or a tuple "
            f"of such values (one per spatial dimension). Received size={size!r}."
        )
    modes = (mode,) * rank if isinstance(mode, str) else mode
    outputs = tuple(
        _output_size(None if s is None else int(s), k, st, m, d)
        for s, k, st, m, d in zip(sizes, kernel_sizes, strides, modes, dilations)
    )
    return outputs[0] if scalar else outputs
