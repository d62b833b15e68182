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
TRACKING_CHECK_SECONDS = 8.0


class TrackingUnavailableError(RuntimeError):
    """The MLflow tracking URI cannot be used; the message names it and the fix."""


def _tracking_fixes() -> str:
    return (
        "Start a server (mlflow server --host 127.0.0.1 --port 5000) and set "
        "MLFLOW_TRACKING_URI=http://127.0.0.1:5000, or unset MLFLOW_TRACKING_URI to log to "
        "sqlite:///mlflow.db in this folder."
    )


def _check_http_tracking_server(uri: str, timeout: float) -> None:
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    try:
        response = http_request(
            get_default_host_creds(uri),
            "/api/2.0/mlflow/experiments/search",
            "GET",
            params={"max_results": 1},
            max_retries=0,
            timeout=timeout,
            raise_on_status=False,
        )
    except Exception as error:  # connection refused, DNS, timeout: requests' many errors
        raise TrackingUnavailableError(
            f"Cannot reach the MLflow tracking server at MLFLOW_TRACKING_URI={uri!r} "
            f"({type(error).__name__}: {str(error)[:200]}). {_tracking_fixes()}"
        ) from None
    if response.status_code in (401, 403):
        raise TrackingUnavailableError(
            f"The MLflow tracking server at {uri!r} refused access (HTTP "
            f"{response.status_code}): set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or "
            "MLFLOW_TRACKING_TOKEN."
        )
    if response.status_code != 200 or "experiments" not in response.text:
        raise TrackingUnavailableError(
            f"{uri!r} answered HTTP {response.status_code}, not as an MLflow tracking server "
            f"does (GET /api/2.0/mlflow/experiments/search). Check the host, port and path of "
            f"MLFLOW_TRACKING_URI. {_tracking_fixes()}"
        )


def check_tracking_store(timeout: float = TRACKING_CHECK_SECONDS) -> str:
    """Checks, before any training, that the tracking URI answers; fails within seconds.

    An ``http(s)`` URI gets one request with no retries (MLflow's own client
    retries for minutes); any other store (``sqlite:``, ``file:``, ...)
    is opened and listed once.

    Args:
        timeout: Seconds to wait for a server.

    Returns:
        The tracking URI.

    Raises:
        TrackingUnavailableError: Naming the URI, what went wrong and the fix.
    """
    uri = mlflow.get_tracking_uri()
    if uri.startswith(("http://", "https://")):
        _check_http_tracking_server(uri, timeout)
        return uri
    try:
        mlflow.MlflowClient(uri).search_experiments(max_results=1)
    except Exception as error:
        raise TrackingUnavailableError(
            f"Cannot use MLFLOW_TRACKING_URI={uri!r} ({type(error).__name__}: "
            f"{str(error)[:300]}). {_tracking_fixes()}"
        ) from None
    return uri


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


def device_description(use_gpus: bool = True) -> dict[str, str]:
    """Which accelerators a run uses: ``device`` and ``device_count`` tags.

    Args:
        use_gpus: False when the run keeps to the CPU although GPUs are there.
    """
    gpus = tf.config.list_physical_devices("GPU") if use_gpus else []
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


def environment_tags(use_gpus: bool = True) -> dict[str, str]:
    """Tags describing the software and hardware of a run (see `device_description`)."""
    return {
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "python_version": platform.python_version(),
        **device_description(use_gpus),
    }


class MlflowMetricsCallback(keras.callbacks.Callback):
    """Logs every epoch's Keras metrics (train and ``val_``) to the active run.

    Epochs are MLflow steps, starting at 0. Without an active run it logs
    nothing.

    Args:
        skip_steps: Epochs whose metrics the run already has (a resumed run
            that reruns the epoch it was killed in): not logged twice.
    """

    def __init__(self, skip_steps=()):
        super().__init__()
        self.skip_steps = frozenset(skip_steps)

    def on_epoch_end(self, epoch, logs=None):
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        # outside a run nothing is logged (MLflow would start a run of its own)
        if metrics and epoch not in self.skip_steps and mlflow.active_run():
            mlflow.log_metrics(metrics, step=epoch)


def logged_steps(metric: str = "loss") -> list[int]:
    """The steps of ``metric`` the active run has logged."""
    run = mlflow.active_run()
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, metric)
    return sorted(m.step for m in history)


@dataclasses.dataclass(frozen=True)
class TaskOutcome:
    """What a task's training produced inside its MLflow run.

    Attributes:
        export_path: The SavedModel version folder.
        test_metrics: Test metrics by name (also logged to the run).
    """

    export_path: Path
    test_metrics: dict[str, float]


SERVING_MODEL = "serving_model"
_SERVING_CODE = Path(__file__).with_name("serving_model.py")


def _serving_signature(export_path: Path) -> tuple[ModelSignature, object]:
    """The MLflow signature of an export's ``serving_default`` input, and an input example.

    Read from the export's ``assets.extra/metadata.json`` (`pipelines.export`),
    so the SavedModel is not loaded again.
    """
    import json

    import numpy as np
    from mlflow.types import Schema, TensorSpec

    metadata = json.loads((export_path / "assets.extra" / "metadata.json").read_text("utf-8"))
    inputs = metadata["signatures"][metadata["serving_default"]]["inputs"]
    ((name, spec),) = inputs.items()
    shape = tuple(-1 if n is None else int(n) for n in spec["shape"])
    if spec["dtype"] == "string":
        dtype, example = np.dtype(object), np.array(["an example"] * 2, dtype=object)
    else:
        dtype = np.dtype(tf.as_dtype(spec["dtype"]).as_numpy_dtype)
        example = np.zeros((2, *(8 if n == -1 else n for n in shape[1:])), dtype)
    return ModelSignature(inputs=Schema([TensorSpec(dtype, shape, name)])), example


def log_export(export_path: Path, input_example=None, registered_model_name: str = "") -> None:
    """Logs an export: its folder, its path as a tag, and an MLflow model that serves it.

    The SavedModel folder goes to the ``saved_model`` artifacts. The MLflow
    model ``serving_model`` (a pyfunc "model from code",
    `pipelines.serving_model`) calls the export's ``serving_default``
    signature and needs TensorFlow and MLflow only; it carries a signature
    and an input example, and is registered under ``registered_model_name``
    when given, ready for ``mlflow models serve -m models:/<name>/<version>``.

    Args:
        export_path: The SavedModel version folder.
        input_example: Up to a few real inputs (default: zeros or a short
            text of the signature's shape).
        registered_model_name: Model registry name ("": not registered).
    """
    mlflow.log_artifacts(str(export_path), "saved_model")
    mlflow.set_tag("export_path", str(export_path.resolve()))
    signature, default_example = _serving_signature(export_path)
    mlflow.pyfunc.log_model(
        name=SERVING_MODEL,
        python_model=str(_SERVING_CODE),
        artifacts={"saved_model": str(export_path)},
        signature=signature,
        input_example=default_example if input_example is None else input_example,
        registered_model_name=registered_model_name or None,
        pip_requirements=_requirements(),
    )


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"tensorflow=={version('tensorflow')}", f"mlflow=={version('mlflow')}"]


def log_keras_model(model: keras.Model, signature: ModelSignature, input_example=None) -> None:
    """Logs a Keras model as the run's ``model`` artifacts, with a signature and input example.

    MLflow 3.17's ``mlflow.keras.log_model(..., input_example=...)`` writes the
    example before it creates the model folder and crashes; saving into a
    folder made beforehand, then logging that folder, avoids it. Loading the
    model back (``mlflow.keras.load_model``) needs convseq's layers imported.
    Under a distribution strategy the example is left out: MLflow checks it by
    loading the model back inside the strategy's scope, which TensorFlow
    refuses (the signature is still logged).
    """
    if tf.distribute.has_strategy():
        input_example = None
    import tempfile
    from importlib.metadata import version

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model"
        path.mkdir()
        mlflow.keras.save_model(
            model,
            str(path),
            signature=signature,
            input_example=input_example,
            pip_requirements=[
                f"tensorflow=={version('tensorflow')}",
                f"keras=={keras.__version__}",
            ],
        )
        mlflow.log_artifacts(str(path), "model")
