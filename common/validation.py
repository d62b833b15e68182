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


def _checked(name: str, value, accepted: bool, expected: str):
    """``value`` if ``accepted``; otherwise the standard error naming ``name`` and ``value``."""
    if not accepted:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected {expected}. Received {name}={value!r}."
        )
    return value


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
    return int(_checked(name, value, _is_int(value) and value >= 1, "a strictly positive integer"))


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
    return int(_checked(name, value, _is_int(value) and value >= 0, "an integer >= 0"))


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
    return float(_checked(name, value, _is_real(value) and 0.0 < value < 1.0, "a value in (0, 1)"))


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
    return float(_checked(name, value, _is_real(value) and 0.0 <= value < 1.0, "a rate in [0, 1)"))


def check_warp(name: str, value) -> float:
    """Returns ``value`` as a float if it is in [0, 0.5]: how far a scale factor may stray from 1.

    Args:
        name: Argument name, for the error message.
        value: The value received.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: If ``value`` is not a number in [0, 0.5].
    """
    accepted = _is_real(value) and 0.0 <= value <= 0.5
    return float(_checked(name, value, accepted, "a number in [0, 0.5]"))


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
    return float(
        _checked(name, value, _is_real(value) and value >= 0, "0 (off) or a positive number")
    )


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
    return float(_checked(name, value, _is_real(value) and value > 0, "a positive number"))


def check_bool(name: str, value) -> bool:
    """Returns ``value`` if it is ``True`` or ``False`` (not 0, 1 or a string).

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    return _checked(name, value, isinstance(value, bool), "True or False")


def check_filters(name: str, value) -> tuple[int, ...]:
    """Returns ``value`` as a tuple of ints if it is a non-empty list or tuple of positive ints.

    Args:
        name: Argument name, for the error message.
        value: The value received (filters per conv block).

    Returns:
        ``tuple(int(count) for count in value)``.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    accepted = (
        isinstance(value, tuple | list)
        and bool(value)
        and all(_is_int(count) and count >= 1 for count in value)
    )
    return tuple(
        int(count) for count in _checked(name, value, accepted, "one positive int per conv block")
    )
