"""Argument checks shared by every package: one definition each.

Each returns the value, converted, or raises `ValueError` naming the argument,
what was expected and what was received, e.g. ``Invalid value for argument
`window`. Expected a strictly positive integer. Received window=0.``
Booleans are never numbers here. NumPy scalars pass (they register as
`numbers.Integral` / `numbers.Real`), without NumPy being imported.
"""

from __future__ import annotations

import numbers


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_positive_int(name: str, value) -> int:
    """Returns ``value`` as an int if it is an integer >= 1.

    Args:
        name: Argument name, for the error message.
        value: The value received.

    Returns:
        ``int(value)``.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.

    Example:
        >>> check_positive_int("units", 3)
        3
    """
    if not _is_int(value) or value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive integer. "
            f"Received {name}={value!r}."
        )
    return int(value)


def check_non_negative_int(name: str, value) -> int:
    """Returns ``value`` as an int if it is an integer >= 0.

    Args:
        name: Argument name, for the error message.
        value: The value received.

    Returns:
        ``int(value)``.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if not _is_int(value) or value < 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected an integer >= 0. "
            f"Received {name}={value!r}."
        )
    return int(value)


def check_fraction(name: str, value) -> float:
    """Returns ``value`` as a float if it lies strictly between 0 and 1 (a split share).

    Args:
        name: Argument name, for the error message.
        value: The value received.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if not _is_real(value) or not 0.0 < value < 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a value in (0, 1). "
            f"Received {name}={value!r}."
        )
    return float(value)


def check_rate(name: str, value) -> float:
    """Returns ``value`` as a float if it lies in [0, 1) (a dropout-like rate).

    Args:
        name: Argument name, for the error message.
        value: The value received.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if not _is_real(value) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a rate in [0, 1). "
            f"Received {name}={value!r}."
        )
    return float(value)


def check_non_negative(name: str, value) -> float:
    """Returns ``value`` as a float if it is a number >= 0 (0 switches the feature off).

    Args:
        name: Argument name, for the error message.
        value: The value received.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: Otherwise (NaN included), naming ``name`` and ``value``.
    """
    if not _is_real(value) or not value >= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected 0 (off) or a positive number. "
            f"Received {name}={value!r}."
        )
    return float(value)


def check_positive(name: str, value) -> float:
    """Returns ``value`` as a float if it is a number > 0 (a learning rate).

    Args:
        name: Argument name, for the error message.
        value: The value received.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: Otherwise (NaN included), naming ``name`` and ``value``.
    """
    if not _is_real(value) or not value > 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a positive number. "
            f"Received {name}={value!r}."
        )
    return float(value)
