"""The one parser of a padding value: ``"valid"``, ``"same"`` or an integer ``p``.

Configs, the command line, the tuner and the conv/pool layers all hand their
padding to `parse_padding`; a parsed value passes through it unchanged.
"""

from __future__ import annotations

import numbers

PADDING_MODES = ("valid", "same")


def _invalid(name: str, value) -> ValueError:
    return ValueError(
        f"Invalid value for argument `{name}`. Expected 'valid', 'same' or an integer "
        f">= 0 (zeros added on each side). Received {name}={value!r}."
    )


def parse_padding(value, name: str = "padding") -> str | int:
    """Parses a padding into ``"valid"``, ``"same"`` or an int ``p >= 0``.

    Args:
        value: ``"valid"`` or ``"same"`` in any case, surrounding spaces
            allowed; an integer ``p >= 0`` (``p`` zeros on each side of every
            spatial dimension); or its digits as a string (``"1"``).
        name: Argument name, for the error message.

    Returns:
        ``"valid"``, ``"same"`` or an ``int`` ``p >= 0``.

    Raises:
        ValueError: If ``value`` is none of the above (bools included).

    Example:
        >>> parse_padding(" Same ")
        'same'
        >>> parse_padding("2")
        2
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in PADDING_MODES:
            return text
        if text.isdigit() and text.isascii():
            return int(text)
        raise _invalid(name, value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise _invalid(name, value)
