"""Argument checks shared by layers, factories and pipeline configs.

Each raises `ValueError` naming the argument, what was expected and what was
received, e.g. ``Invalid value for argument `units`. Expected a strictly
positive integer. Received units=0.``
"""

from __future__ import annotations

import numpy as np

from data.validation import check_positive_int

__all__ = ["check_positive_int", "check_rate"]


def check_rate(name: str, value) -> float:
    """Returns ``value`` as a float if it lies in [0, 1) (dropout-like rates).

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if not isinstance(value, (int, float, np.floating)) or not 0.0 <= float(value) < 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a rate in [0, 1). "
            f"Received {name}={value!r}."
        )
    return float(value)
