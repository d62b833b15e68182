"""Command line: ``convseq train|tune|export|predict|gradient-flow ...``.

The MLproject entry points call this module. Each option of a command is a
field of that command's config dataclass, with the same name, type and
default as the MLproject parameter of the same name.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

from data import DataLocations, DatasetUnavailableError
from models.pretrained import WeightsUnavailableError
from pipelines.checkpoints import RunLockedError
from pipelines.config import TrainConfig
from pipelines.devices import DeviceUnavailableError
from pipelines.export_run import ExportConfig
from pipelines.gradient_flow import GradientFlowConfig
from pipelines.guards import TrainingDivergedError
from pipelines.multi_worker import WorkerFailedError
from pipelines.predict import PredictConfig
from pipelines.tracking import TrackingUnavailableError
from pipelines.tune_config import TuneConfig


@dataclasses.dataclass(frozen=True)
class Command:
    """One ``convseq`` subcommand: its config class, help and runner."""

    config_class: type
    help: str
    run: Callable[[typing.Any], dict[str, str]]


def data_locations_from_environment() -> DataLocations:
    """Dataset locations from ``$KERAS_HOME`` (default ``~/.keras``)."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return DataLocations(keras_home=Path(keras_home))


def _run_train(config: TrainConfig) -> dict[str, str]:
    from pipelines.train import train

    result = train(config, data_locations_from_environment())
    lines = {
        "run_id": result.run_id,
        "tracking_uri": result.tracking_uri,
        "export_path": str(result.export_path.resolve()),
    }
    lines.update({name: f"{value:.4f}" for name, value in result.test_metrics.items()})
    if result.weights_sha256:
        lines["weights_sha256"] = result.weights_sha256
    for index, digest in enumerate(result.worker_weights_sha256):
        lines[f"worker_{index}_weights_sha256"] = digest
    return lines


def _run_tune(config: TuneConfig) -> dict[str, str]:
    from pipelines.tune import tune

    result = tune(config, data_locations_from_environment())
    lines = {"role": result.role, "run_id": result.run_id, "tracking_uri": result.tracking_uri}
    if result.role != "search":
        return lines
    lines["trials"] = str(len(result.trials))
    lines["best_score"] = f"{result.best_score:.4f}"
    if result.default_score is not None:
        lines["default_score"] = f"{result.default_score:.4f}"
    lines.update({f"best_{name}": str(value) for name, value in result.best_values.items()})
    lines["export_path"] = str(result.export_path.resolve())
    lines.update({name: f"{value:.4f}" for name, value in result.test_metrics.items()})
    return lines


def _run_export(config: ExportConfig) -> dict[str, str]:
    from pipelines.export_run import export_run

    return {"export_path": str(export_run(config).resolve())}


def _run_predict(config: PredictConfig) -> dict[str, str]:
    from pipelines.predict import predict

    return {"predictions": str(predict(config).resolve())}


def _run_gradient_flow(config: GradientFlowConfig) -> dict[str, str]:
    from pipelines.gradient_flow import first_to_last_ratio, gradient_flow

    result = gradient_flow(config)
    lines = {"run_id": result.run_id}
    for name, norms in result.norms.items():
        lines[f"{name}_first_to_last_ratio"] = f"{first_to_last_ratio(norms):.3e}"
    return lines


COMMANDS = {
    "train": Command(
        TrainConfig,
        "train, evaluate and export an image classifier, tracked in MLflow",
        _run_train,
    ),
    "tune": Command(
        TuneConfig,
        "search hyperparameters with Keras Tuner, every trial a nested MLflow run",
        _run_tune,
    ),
    "export": Command(
        ExportConfig,
        "export a training run's SavedModel as the next version of <export_dir>/<model_name>",
        _run_export,
    ),
    "predict": Command(
        PredictConfig,
        "predict a folder of images, a text file or a CSV with a SavedModel or MLflow model",
        _run_predict,
    ),
    "gradient-flow": Command(
        GradientFlowConfig,
        "plot ‖∂loss/∂x_t‖ per timestep for RNN, LSTM and GRU, logged to MLflow",
        _run_gradient_flow,
    ),
}


# Shorter spellings of some options, by command.
OPTION_ALIASES = {"train": {"resume_run_id": ("resume",)}}


def _argparse_type(parse: Callable) -> Callable:
    """Wraps a parser so argparse shows its ValueError message, not a generic one."""

    def convert(text: str):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    return convert


def option_types(config_class: type = TrainConfig) -> dict[str, Callable]:
    """The parser type of each option of a config class's command, by name."""
    hints = typing.get_type_hints(config_class)
    return {
        field.name: field.metadata.get("cli_type", hints[field.name])
        for field in dataclasses.fields(config_class)
    }


def _cli_default(value):
    return ",".join(map(str, value)) if isinstance(value, tuple) else value


def build_parser() -> argparse.ArgumentParser:
    """The ``convseq`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="convseq", description="Convolutional and recurrent network pipelines."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(
            name, help=command.help, formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )
        types = option_types(command.config_class)
        for field in dataclasses.fields(command.config_class):
            sub.add_argument(
                f"--{field.name}",
                *(f"--{alias}" for alias in OPTION_ALIASES.get(name, {}).get(field.name, ())),
                type=_argparse_type(types[field.name]),
                default=_cli_default(field.default),
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
        The process exit status: 0 on success, 2 on invalid arguments,
        missing data, an unusable tracking URI or device, or a run that cannot
        be resumed (with a message, no traceback), 1 when the training loss
        diverged or a worker of a multi-worker run failed, 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("tensorflow").setLevel(logging.WARNING)
    command = COMMANDS[args.command]
    try:
        config = command.config_class(**{k: v for k, v in vars(args).items() if k != "command"})
    except ValueError as error:
        parser.error(str(error))
    _raise_keyboard_interrupt_on_sigterm()
    try:
        lines = command.run(config)
    except (
        DatasetUnavailableError,
        WeightsUnavailableError,
        ValueError,
        FileNotFoundError,
    ) as error:
        print(f"convseq {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (TrackingUnavailableError, RunLockedError, DeviceUnavailableError) as error:
        print(f"convseq {args.command}: error: {error}", file=sys.stderr)
        return 2
    except TrainingDivergedError as error:
        print(f"convseq {args.command}: training diverged: {error}", file=sys.stderr)
        return 1
    except WorkerFailedError as error:
        print(f"convseq {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"convseq {args.command}: interrupted; the MLflow run is marked KILLED.",
            file=sys.stderr,
        )
        return 130
    for key, value in lines.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
