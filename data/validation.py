"""Argument checks shared by the data package and (through `models.validation`) the models.

Each raises `ValueError` naming the argument, what was expected and what was
received, e.g. ``Invalid value for argument `window`. Expected a strictly
positive integer. Received window=0.``
"""

from __future__ import annotations

import numpy as np


def check_positive_int(name: str, value) -> int:
    """Returns ``value`` if it is an integer >= 1 (bools are not integers here).

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive integer. "
            f"Received {name}={value!r}."
        )
    return int(value)


def check_fraction(name: str, value) -> float:
    """Returns ``value`` as a float if it lies strictly between 0 and 1.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a value in (0, 1). "
            f"Received {name}={value!r}."
        )
    return float(value)
