"""Parsers and checks of the ``convseq tune`` options (`pipelines.tune_config.TuneConfig`).

Each parser takes the command-line spelling (or an already parsed value) and
returns the typed value; `pipelines.options.parse_value` adds the option's
name to the message of a `ValueError`.
"""

from __future__ import annotations

import os

from common.padding import parse_padding
from common.validation import check_positive_int
from pipelines.options import parse_columns

TUNERS = ("random", "hyperband", "bayesian")


def _numbers(text, kind: type) -> tuple:
    parts = parse_columns(text) if isinstance(text, str) else tuple(text)
    try:
        values = tuple(kind(part) for part in parts)
    except (TypeError, ValueError):
        values = ()
    if not values or any(isinstance(v, bool) or not v >= 0 for v in values):
        example = "3,5,7" if kind is int else "0,1,5"
        raise ValueError(f"Expected comma-separated numbers >= 0, e.g. '{example}'.")
    return values


def parse_int_choices(text) -> tuple[int, ...]:
    """Parses ``"3,5,7"`` (integers to try) into ``(3, 5, 7)``.

    Raises:
        ValueError: If the list is empty or an entry is not an integer >= 0.
    """
    return _numbers(text, int)


def parse_float_choices(text) -> tuple[float, ...]:
    """Parses ``"0,1,5"`` (numbers to try) into ``(0.0, 1.0, 5.0)``.

    Raises:
        ValueError: If the list is empty or an entry is not a number >= 0.
    """
    return _numbers(text, float)


def parse_paddings(text) -> tuple[str, ...]:
    """Parses ``"same,valid,1"`` (paddings to try) into ``("same", "valid", "1")``.

    Raises:
        ValueError: If an entry is not ``valid``, ``same`` or an integer >= 0.
    """
    parts = parse_columns(text) if isinstance(text, str) else tuple(text)
    try:
        values = tuple(str(parse_padding(part)) for part in parts)
    except ValueError:
        values = ()
    if not values:
        raise ValueError(
            "Invalid value for argument `paddings`. Expected comma-separated paddings: "
            f"valid, same or integers p, e.g. 'same,valid,1'. Received paddings={text!r}."
        )
    return values


def parse_learning_rate_range(text) -> tuple[float, float]:
    """Parses ``"0.0005,0.01"`` into ``(low, high)`` of the searched learning rate.

    Raises:
        ValueError: Unless two numbers with 0 < low < high.
    """
    try:
        values = _numbers(text, float)
    except ValueError:
        values = ()
    if len(values) != 2 or not 0 < values[0] < values[1]:
        raise ValueError(
            "Invalid value for argument `learning_rate_range`. Expected 'low,high' with "
            f"0 < low < high. Received learning_rate_range={text!r}."
        )
    return values


def check_factor(name: str, value) -> int:
    """Returns ``value`` if it is an integer >= 2 (hyperband's reduction factor).

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if check_positive_int(name, value) < 2:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected an integer >= 2. "
            f"Received {name}={value!r}."
        )
    return value


def check_folder_name(name: str, value: str) -> str:
    """Returns ``value`` if it is empty or one folder name (not a path, ``.`` or ``..``).

    Raises:
        ValueError: Otherwise, naming ``name`` and ``value``.
    """
    if value and (os.sep in value or value in (".", "..")):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a folder name, not a path. "
            f"Received {name}={value!r}."
        )
    return value


def check_folder(name: str, value: str) -> str:
    """Returns ``value`` if it is a non-empty folder path.

    Raises:
        ValueError: Otherwise, naming ``name``.
    """
    if not value:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a folder path. Received {name}=''."
        )
    return value
