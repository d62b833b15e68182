"""Checks of a hypermodel's search space: choices, defaults among them, ranges."""

from __future__ import annotations

from collections.abc import Sequence


def check_choices(name: str, values: Sequence, kind: type | tuple[type, ...]) -> tuple:
    """Returns ``values`` as a tuple if it is non-empty, distinct and all of ``kind``.

    Raises:
        ValueError: Otherwise (bools are refused), naming ``name`` and ``values``.
    """
    try:
        chosen = tuple(values)
    except TypeError:
        chosen = ()
    if (
        not chosen
        or len(set(chosen)) != len(chosen)
        or not all(isinstance(v, kind) and not isinstance(v, bool) for v in chosen)
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a non-empty sequence of distinct "
            f"values of type {getattr(kind, '__name__', kind)}. Received {name}={values!r}."
        )
    return chosen


def check_default_in(name: str, default, choices: tuple):
    """Returns ``default`` if it is one of ``choices`` (the search starts from it).

    Raises:
        ValueError: Otherwise, naming ``name``, the default and the choices.
    """
    if default not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`: the default {default!r} must be one of the "
            f"choices {list(choices)} (the search starts from the default model)."
        )
    return default


def check_range(name: str, bounds: Sequence[float], default: float) -> tuple[float, float]:
    """Returns ``(low, high)`` if ``0 < low < high`` and ``low <= default <= high``.

    Raises:
        ValueError: Otherwise, naming ``name`` and ``bounds``.
    """
    try:
        low, high = (float(v) for v in bounds)
    except (TypeError, ValueError):
        low = high = -1.0
    if not 0 < low < high or not low <= default <= high:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected (low, high) with 0 < low < high "
            f"around the default {default}. Received {name}={bounds!r}."
        )
    return low, high
