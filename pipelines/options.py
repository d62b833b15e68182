"""How a command-line option is declared, parsed once and spelled back.

Every option of every ``convseq`` command is a dataclass field made by
`option_field`: its default, its help text and the one function that parses
it from the command line or an MLflow parameter. A config's ``__post_init__``
calls `parse_fields`, the only place a value is parsed; the command line and
`from_params` hand over strings as given. This module imports no TensorFlow,
so printing help stays fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import shlex
import typing
from collections.abc import Callable, Sequence


def parse_bool(text: str | bool) -> bool:
    """Parses ``true``/``false`` (also ``1``/``0``, ``yes``/``no``) for MLflow string parameters.

    Raises:
        ValueError: On another value.
    """
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError("Expected true or false.")


def parse_columns(text: str | Sequence[str]) -> tuple[str, ...]:
    """Parses ``"a,b"`` into ``("a", "b")``; ``""`` is ``()``."""
    if not isinstance(text, str):
        return tuple(text)
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_positive_ints(text: str | Sequence[int]) -> tuple[int, ...]:
    """Parses ``"3,4,5"`` (or a sequence of ints) into ``(3, 4, 5)``.

    Raises:
        ValueError: If it is empty or an entry is not a positive integer.
    """
    try:
        values = tuple(
            int(part)
            for part in (text.split(",") if isinstance(text, str) else text)
            if str(part).strip()
        )
    except (TypeError, ValueError):
        values = ()
    if not values or not all(v > 0 for v in values):
        raise ValueError("Expected comma-separated positive integers, e.g. '3,4,5'.")
    return values


def parse_choice(name: str, text: str, choices: Sequence[str]) -> str:
    """``text`` lower-cased if it is one of ``choices``.

    Raises:
        ValueError: Naming the option, the choices and the value received.
    """
    value = str(text).strip().lower()
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {list(choices)}. "
            f"Received {name}={text!r}."
        )
    return value


def choice_parser(name: str, choices: Sequence[str]) -> Callable[[str], str]:
    """A parser accepting one of ``choices`` for the option ``name``."""

    def parse(text: str) -> str:
        return parse_choice(name, text, choices)

    parse.__name__ = f"parse_{name}"
    return parse


def _parse_int(text) -> int:
    if isinstance(text, bool):
        raise ValueError("Expected an integer.")
    if isinstance(text, int):
        return text
    try:
        return int(str(text).strip())
    except ValueError:
        raise ValueError("Expected an integer.") from None


def _parse_float(text) -> float:
    if isinstance(text, bool):
        raise ValueError("Expected a number.")
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError("Expected a number.") from None


def _parse_str(text) -> str:
    return str(text)


PARSERS_BY_TYPE = {"int": _parse_int, "float": _parse_float, "str": _parse_str, "bool": parse_bool}


def option_field(
    default,
    help_text: str,
    parse: Callable | None = None,
    check: Callable[[str, typing.Any], typing.Any] | None = None,
):
    """A config field that is a command-line option.

    Args:
        default: The default, already parsed (a tuple for list options).
        help_text: One line for ``--help``, the MLproject and the README.
        parse: Turns a command-line string (or an already typed value) into
            the field's value; by default the field's annotation decides
            (``int``, ``float``, ``str``, ``bool``).
        check: ``check(name, value)`` from `common.validation`, run on the
            parsed value (e.g. `common.validation.check_positive_int`).
    """
    metadata = {"help": help_text}
    if parse is not None:
        metadata["parse"] = parse
    if check is not None:
        metadata["check"] = check
    return dataclasses.field(default=default, metadata=metadata)


def field_parser(config_class: type, field: dataclasses.Field) -> Callable:
    """The one parser of a config field (its own, or its annotation's)."""
    if "parse" in field.metadata:
        return field.metadata["parse"]
    hint = _type_hints(config_class)[field.name]
    return PARSERS_BY_TYPE[hint.__name__]


@functools.cache
def _type_hints(config_class: type) -> dict:
    return typing.get_type_hints(config_class)


def parse_value(config_class: type, field: dataclasses.Field, value):
    """``value`` parsed by the field's parser, errors naming the option.

    Raises:
        ValueError: ``Invalid value for argument `name` ...``.
    """
    try:
        value_read = field_parser(config_class, field)(value)
    except ValueError as error:
        message = str(error)
        if message.startswith("Invalid value for argument"):
            raise
        raise ValueError(
            f"Invalid value for argument `{field.name}`. {message} Received {field.name}={value!r}."
        ) from None
    if "check" in field.metadata:
        return field.metadata["check"](field.name, value_read)
    return value_read


def parse_fields(config) -> None:
    """Parses every option field of a frozen config in place, once."""
    for field in dataclasses.fields(config):
        if "help" not in field.metadata:
            continue
        value = parse_value(type(config), field, getattr(config, field.name))
        object.__setattr__(config, field.name, value)


def unquoted(value: str) -> str:
    """A parameter as given: ``mlflow run`` logs ``''`` for an empty string (shell quoting)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        with contextlib.suppress(ValueError):
            (inner,) = shlex.split(value)
            return inner
    return value


def format_option(value) -> str:
    """A config value as the command line (and MLflow) spell it: ``16,32``, ``true``."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
