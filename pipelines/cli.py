"""Command line: ``convseq train|tune|export|predict|search|recommend|faces|gradient-flow ...``.

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
import traceback
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines.config import TrainConfig
from pipelines.console import configure_output
from pipelines.export_run import ExportConfig
from pipelines.face_run import FacesConfig
from pipelines.gradient_flow import GradientFlowConfig
from pipelines.options import format_option
from pipelines.predict import PredictConfig
from pipelines.search_run import RecommendConfig, SearchConfig
from pipelines.tasks import TASKS
from pipelines.tune_config import TuneConfig

if typing.TYPE_CHECKING:
    from data import DataLocations


@dataclasses.dataclass(frozen=True)
class Command:
    """One ``convseq`` subcommand: its config class, help and runner.

    ``uses_tensorflow`` is false for a command that never imports TensorFlow
    (it then does not pay for importing it). ``positional`` names the config
    field given as the first argument instead of an option (``convseq faces enroll``).
    """

    config_class: type
    help: str
    run: Callable[[typing.Any], dict[str, str]]
    uses_tensorflow: bool = True
    positional: str = ""


def data_locations_from_environment() -> DataLocations:
    """Dataset locations from ``$KERAS_HOME`` (default ``~/.keras``)."""
    from data import DataLocations

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


def _run_search(config: SearchConfig) -> dict[str, str]:
    from pipelines.search_run import search

    return {"results": str(search(config).resolve())}


def _run_recommend(config: RecommendConfig) -> dict[str, str]:
    from pipelines.search_run import recommend

    return {"results": str(recommend(config).resolve())}


def _run_faces(config: FacesConfig) -> dict[str, str]:
    from pipelines.face_run import enroll, identify

    if config.action == "enroll":
        folder, people = enroll(config)
        return {"enrolled": str(folder.resolve()), "people": str(people)}
    path, known, unknown = identify(config)
    return {"identities": str(path.resolve()), "known": str(known), "unknown": str(unknown)}


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
        f"train, evaluate and export a model for one task ({', '.join(TASKS)}), tracked in MLflow",
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
        uses_tensorflow=False,
    ),
    "predict": Command(
        PredictConfig,
        "predict a folder of images, a text file or a CSV with a SavedModel or MLflow model",
        _run_predict,
    ),
    "search": Command(
        SearchConfig,
        "find the catalog items of a task=search run most like each query image (JSON lines)",
        _run_search,
    ),
    "recommend": Command(
        RecommendConfig,
        "more like this item: the catalog items of a task=search run nearest to given items",
        _run_recommend,
    ),
    "faces": Command(
        FacesConfig,
        "enroll a folder of people with a task=faces run, or identify the people in photos",
        _run_faces,
        positional="action",
    ),
    "gradient-flow": Command(
        GradientFlowConfig,
        "plot ‖∂loss/∂x_t‖ per timestep for RNN, LSTM and GRU, logged to MLflow",
        _run_gradient_flow,
    ),
}


# Shorter spellings of some options, by command.
OPTION_ALIASES = {
    "train": {"resume_run_id": ("resume",)},
    "search": {"run_id": ("run",)},
    "recommend": {"run_id": ("run",)},
    "faces": {"run_id": ("run",)},
}


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
        for field in dataclasses.fields(command.config_class):
            if field.name == command.positional:
                sub.add_argument(field.name, help=field.metadata["help"])
                continue
            sub.add_argument(
                f"--{field.name}",
                *(f"--{alias}" for alias in OPTION_ALIASES.get(name, {}).get(field.name, ())),
                default=format_option(field.default),
                help=field.metadata["help"],
            )
        sub.add_argument(
            "--verbose",
            action="store_true",
            help="show TensorFlow's native start-up log lines",
        )
    return parser


def _raise_keyboard_interrupt_on_sigterm() -> None:
    def handler(signum, frame):
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


LIBRARY_PACKAGES = ("tensorflow", "keras", "keras_tuner", "mlflow", "numpy", "tf_keras")


def raising_library(error: BaseException) -> str:
    """The library (TensorFlow, Keras, MLflow, NumPy) whose code raised ``error``; ``""``: ours.

    An error raised inside a library is a failure to report with its
    traceback, not a usage error.
    """
    frames = traceback.extract_tb(error.__traceback__)
    parts = Path(frames[-1].filename).parts if frames else ()
    if "site-packages" not in parts:
        return ""
    return next((package for package in LIBRARY_PACKAGES if package in parts), "")


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "fix the command or its environment": exit 2 with the message only."""
    from data import DatasetUnavailableError
    from models.pretrained import WeightsUnavailableError
    from pipelines.checkpoints import RunLockedError
    from pipelines.devices import DeviceUnavailableError
    from pipelines.tracking import TrackingUnavailableError

    return (
        DatasetUnavailableError,
        WeightsUnavailableError,
        TrackingUnavailableError,
        RunLockedError,
        DeviceUnavailableError,
        ValueError,
        FileNotFoundError,
    )


def _keep_library_frames() -> None:
    """Keras and TensorFlow drop their own frames from tracebacks; keep them.

    Without them an error raised inside Keras (in ``fit``, in a layer call)
    would end in our frames and be taken for a usage error.
    """
    import keras
    import tensorflow as tf

    keras.config.disable_traceback_filtering()
    tf.debugging.disable_traceback_filtering()


def _run(name: str, command: Command, config) -> int:
    from pipelines.guards import TrainingDivergedError
    from pipelines.processes import ChildFailedError

    if command.uses_tensorflow:
        _keep_library_frames()
    _raise_keyboard_interrupt_on_sigterm()
    try:
        lines = command.run(config)
    except TrainingDivergedError as error:
        print(f"convseq {name}: training diverged: {error}", file=sys.stderr)
        return 1
    except ChildFailedError as error:  # a training worker or a search process
        print(f"convseq {name}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"convseq {name}: interrupted; the MLflow run is marked KILLED.", file=sys.stderr)
        return 130
    except _usage_errors() as error:
        library = raising_library(error)
        if library:
            traceback.print_exception(error)
            print(
                f"convseq {name}: failed inside {library} (traceback above): {error}",
                file=sys.stderr,
            )
            return 1
        print(f"convseq {name}: error: {error}", file=sys.stderr)
        return 2
    for key, value in lines.items():
        print(f"{key}: {value}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``convseq`` command line.

    TensorFlow is imported only once a command runs, so ``--help`` answers
    at once; its start-up lines are hidden unless ``--verbose``.

    Returns:
        The process exit status: 0 on success, 2 on invalid arguments,
        missing data, an unusable tracking URI or device, or a run that cannot
        be resumed (with a message, no traceback), 1 when the training loss
        diverged, a worker of a multi-worker run failed or TensorFlow, Keras
        or MLflow raised an error (shown with its traceback), 130 when
        interrupted.
    """
    parser = build_parser()
    args = vars(parser.parse_args(argv))
    name, verbose = args.pop("command"), args.pop("verbose")
    configure_output(verbose)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    command = COMMANDS[name]
    try:
        config = command.config_class(**args)
    except ValueError as error:
        parser.error(str(error))
    return _run(name, command, config)


if __name__ == "__main__":
    sys.exit(main())
