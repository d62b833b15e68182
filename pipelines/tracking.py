"""MLflow bookkeeping shared by the pipelines: runs, parameters, tags, metrics."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import keras
import mlflow
import tensorflow as tf
from mlflow.entities import RunStatus
from mlflow.models import ModelSignature

FAILURE_TAG = "failure_reason"


@contextlib.contextmanager
def tracked_run(
    run_name: str | None = None, run_id: str | None = None
) -> Iterator[mlflow.ActiveRun]:
    """Starts (or, under ``mlflow run``, resumes) an MLflow run and always ends it.

    The run ends FINISHED on success, KILLED on ``KeyboardInterrupt`` or
    ``SystemExit`` (e.g. SIGTERM turned into an exit by the CLI), and FAILED
    on any other exception, with the reason in the ``failure_reason`` tag. The
    exception propagates. A run is never left RUNNING.

    Args:
        run_name: Name of a new run; ignored when resuming a run.
        run_id: A run to resume (set RUNNING again); ``$MLFLOW_RUN_ID``, set
            by ``mlflow run``, takes precedence.

    Yields:
        The active run.
    """
    if os.environ.get("MLFLOW_RUN_ID") or not run_id:
        run = mlflow.start_run(run_name=run_name)
    else:
        run = mlflow.start_run(run_id=run_id)
    try:
        yield run
    except (KeyboardInterrupt, SystemExit):
        mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
        raise
    except BaseException as error:
        with contextlib.suppress(Exception):
            mlflow.set_tag(FAILURE_TAG, f"{type(error).__name__}: {error}"[:4000])
        mlflow.end_run(RunStatus.to_string(RunStatus.FAILED))
        raise
    else:
        mlflow.end_run(RunStatus.to_string(RunStatus.FINISHED))


def _same_value(logged: str, value: str) -> bool:
    if logged.strip().lower() == value.strip().lower():
        return True
    try:
        return float(logged) == float(value)
    except ValueError:
        return False


def log_new_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Logs the parameters the active run does not have yet.

    ``mlflow run`` logs the MLproject parameters itself, in its own spelling;
    logging them again would fail, so they are skipped. Where the run's value
    means something else than the one given (``epochs`` 0, resolved to the
    task's default 3), the given value is logged as ``resolved_<name>``.

    Args:
        params: Parameter names and values.

    Returns:
        The parameters that were logged, as strings.
    """
    run = mlflow.active_run()
    existing = mlflow.get_run(run.info.run_id).data.params
    new = {}
    for key, value in params.items():
        value = str(value)
        if key not in existing:
            new[key] = value
        elif not _same_value(existing[key], value) and f"resolved_{key}" not in existing:
            new[f"resolved_{key}"] = value
    if new:
        mlflow.log_params(new)
    return new


def device_description() -> dict[str, str]:
    """Which accelerators TensorFlow sees: ``device`` and ``device_count`` tags."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return {
            "device": f"CPU ({platform.processor() or platform.machine()})",
            "device_count": "0",
        }
    names = []
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return {"device": ", ".join(names), "device_count": str(len(gpus))}


def environment_tags() -> dict[str, str]:
    """Tags describing the software and hardware of a run."""
    return {
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "python_version": platform.python_version(),
        **device_description(),
    }


class MlflowMetricsCallback(keras.callbacks.Callback):
    """Logs every epoch's Keras metrics (train and ``val_``) to the active run.

    Epochs are MLflow steps, starting at 0.
    """

    def on_epoch_end(self, epoch, logs=None):
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        if metrics:
            mlflow.log_metrics(metrics, step=epoch)


@dataclasses.dataclass(frozen=True)
class TaskOutcome:
    """What a task's training produced inside its MLflow run.

    Attributes:
        export_path: The SavedModel version folder.
        test_metrics: Test metrics by name (also logged to the run).
    """

    export_path: Path
    test_metrics: dict[str, float]


def log_export(export_path: Path) -> None:
    """Logs a SavedModel folder as the ``saved_model`` artifacts and tags its path."""
    mlflow.log_artifacts(str(export_path), "saved_model")
    mlflow.set_tag("export_path", str(export_path.resolve()))


def log_keras_model(model: keras.Model, signature: ModelSignature) -> None:
    """Logs a Keras model as the run's ``model`` with a signature (no input example).

    MLflow 3.17's ``input_example`` path crashes on Keras models, so the
    signature is given explicitly.
    """
    from importlib.metadata import version

    mlflow.keras.log_model(
        model,
        name="model",
        signature=signature,
        pip_requirements=[f"tensorflow=={version('tensorflow')}", f"keras=={keras.__version__}"],
    )
