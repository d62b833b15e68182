"""Command line: ``convseq train ...`` (the MLproject entry points call this too).

Each option of ``convseq train`` is a field of `TrainConfig`, with the same
name, type and default as the MLproject parameter of the same name.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import typing
from collections.abc import Sequence
from pathlib import Path

from data import DataLocations, DatasetUnavailableError
from pipelines.config import TrainConfig


def data_locations_from_environment() -> DataLocations:
    """Dataset locations from ``$KERAS_HOME`` (default ``~/.keras``)."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return DataLocations(keras_home=Path(keras_home))


def _argparse_type(parse: typing.Callable) -> typing.Callable:
    """Wraps a parser so argparse shows its ValueError message, not a generic one."""

    def convert(text: str):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    convert.parse = parse
    return convert


def _option_type(field: dataclasses.Field):
    if "cli_type" in field.metadata:
        return field.metadata["cli_type"]
    return typing.get_type_hints(TrainConfig)[field.name]


def option_types() -> dict[str, type | typing.Callable]:
    """The parser type of each ``convseq train`` option, by name."""
    return {field.name: _option_type(field) for field in dataclasses.fields(TrainConfig)}


def build_parser() -> argparse.ArgumentParser:
    """The ``convseq`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="convseq", description="Convolutional and recurrent network pipelines."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train, evaluate and export an image classifier, tracked in MLflow",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in dataclasses.fields(TrainConfig):
        default = field.default
        if field.name == "filters":
            default = ",".join(map(str, default))
        train.add_argument(
            f"--{field.name}",
            type=_argparse_type(_option_type(field)),
            default=default,
            help=field.metadata["help"],
        )
    return parser


def _raise_keyboard_interrupt_on_sigterm() -> None:
    def handler(signum, frame):
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``convseq`` command line.

    Returns:
        The process exit status: 0 on success, 2 on invalid arguments or
        missing data (with a message, no traceback), 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("tensorflow").setLevel(logging.WARNING)
    try:
        config = TrainConfig(**{k: v for k, v in vars(args).items() if k != "command"})
    except ValueError as error:
        parser.error(str(error))
    _raise_keyboard_interrupt_on_sigterm()
    from pipelines.train import train

    try:
        result = train(config, data_locations_from_environment())
    except (DatasetUnavailableError, ValueError) as error:
        print(f"convseq train: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("convseq train: interrupted; the MLflow run is marked KILLED.", file=sys.stderr)
        return 130
    print(f"run_id: {result.run_id}")
    print(f"tracking_uri: {result.tracking_uri}")
    print(f"export_path: {result.export_path.resolve()}")
    for name, value in result.test_metrics.items():
        print(f"{name}: {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
