"""The recurrent vocabulary: the names of our recurrent layers, and their checks.

`models.recurrent.RECURRENT_LAYERS` maps each name to its layer class; the
names live here, free of Keras, so configs and the command line can check a
cell name without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

CELL_NAMES = ("lstm", "gru", "simple_rnn")
"""Our recurrent layers, by name: `models.layers.LSTM`, `GRU`, `SimpleRNN`."""

GATED_CELL_NAMES = ("lstm", "gru")
"""The cells with gates, which an attention decoder needs to carry its state."""


def check_cell(cell: str, name: str = "cell") -> str:
    """Returns ``cell`` if it names one of our recurrent layers.

    Args:
        cell: A name from `CELL_NAMES`.
        name: Argument name, for the error message.

    Returns:
        ``cell``.

    Raises:
        ValueError: Otherwise, listing the names.

    Example:
        >>> check_cell("gru")
        'gru'
    """
    if cell not in CELL_NAMES:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {list(CELL_NAMES)}. "
            f"Received {name}={cell!r}."
        )
    return cell


def parse_cells(value: str | Sequence[str], name: str = "cells") -> tuple[str, ...]:
    """Parses ``"lstm,gru"`` (or a sequence of names) into a tuple of cell names.

    Args:
        value: Comma-separated names, or a sequence of them; spaces around a
            name are ignored.
        name: Argument name, for the error message.

    Returns:
        The names, in the order given, at least one.

    Raises:
        ValueError: On an empty list or an unknown name, listing the names.

    Example:
        >>> parse_cells("simple_rnn, lstm")
        ('simple_rnn', 'lstm')
    """
    parts = value.split(",") if isinstance(value, str) else value
    try:
        cells = tuple(part.strip() for part in parts if part.strip())
    except (AttributeError, TypeError):
        cells = ()
    if not cells or any(cell not in CELL_NAMES for cell in cells):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one or more names from "
            f"{list(CELL_NAMES)}, comma-separated. Received {name}={value!r}."
        )
    return cells
