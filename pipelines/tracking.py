"""MLflow bookkeeping shared by the pipelines: runs, parameters, tags, metrics."""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator, Mapping
from typing import Any

import keras
import mlflow
import tensorflow as tf
from mlflow.entities import RunStatus

FAILURE_TAG = "failure_reason"


@contextlib.contextmanager
def tracked_run(run_name: str | None = None) -> Iterator[mlflow.ActiveRun]:
    """Starts (or, under ``mlflow run``, resumes) an MLflow run and always ends it.

    The run ends FINISHED on success, KILLED on ``KeyboardInterrupt`` or
    ``SystemExit`` (e.g. SIGTERM turned into an exit by the CLI), and FAILED
    on any other exception, with the reason in the ``failure_reason`` tag. The
    exception propagates. A run is never left RUNNING.

    Args:
        run_name: Name of a new run; ignored when resuming ``$MLFLOW_RUN_ID``.

    Yields:
        The active run.
    """
    run = mlflow.start_run(run_name=run_name)
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


def log_new_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Logs the parameters the active run does not have yet.

    ``mlflow run`` logs the MLproject parameters itself, in its own spelling;
    logging them again with another spelling would fail, so they are skipped.

    Args:
        params: Parameter names and values.

    Returns:
        The parameters that were logged, as strings.
    """
    run = mlflow.active_run()
    existing = mlflow.get_run(run.info.run_id).data.params
    new = {key: str(value) for key, value in params.items() if key not in existing}
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
