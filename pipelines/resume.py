"""Continuing a killed, interrupted or failed training run in the same MLflow run.

``convseq train --resume <run_id>`` (MLproject: ``-P resume_run_id=<run_id>``)
takes the run's own options from its logged parameters, finds its
checkpoint folder from the run's ``checkpoint_dir`` tag, and continues
training from the newest per-epoch checkpoint (`pipelines.fitting.fit`).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import mlflow
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException

from pipelines.config import NOT_RUN_PARAMETERS, TrainConfig
from pipelines.tracking import FAILURE_TAG

CHECKPOINT_TAG = "checkpoint_dir"
RESUMES_TAG = "resumes"


class ResumeError(ValueError):
    """A run cannot be resumed; the message says why and what to do instead."""


def _given_options(config: TrainConfig) -> dict[str, object]:
    """The options of ``config`` set away from the defaults of its task."""
    defaults = TrainConfig(task=config.task)
    given = {}
    for field in dataclasses.fields(TrainConfig):
        if field.name in NOT_RUN_PARAMETERS:
            continue
        value = getattr(config, field.name)
        if value != getattr(defaults, field.name):
            given[field.name] = value
    return given


def resumable_config(config: TrainConfig) -> TrainConfig:
    """The config of the run named by ``config.resume_run_id``, checked for resuming.

    The run's logged options are used; an option also given on the command
    line must agree with the run's value (a resumed run cannot change what it
    is). ``checkpoint_dir`` becomes the one the run used.

    Args:
        config: Holds ``resume_run_id`` and the options given with it.

    Returns:
        The run's config, with ``resume_run_id`` set.

    Raises:
        ResumeError: If the run does not exist, is deleted or finished, has no
            checkpoint folder, or an option given disagrees with the run's.
    """
    run_id = config.resume_run_id
    try:
        run = mlflow.MlflowClient().get_run(run_id)
    except MlflowException as error:
        raise ResumeError(
            f"No MLflow run {run_id!r} at {mlflow.get_tracking_uri()} ({error.message}). "
            "Check the run id and MLFLOW_TRACKING_URI."
        ) from None
    if run.info.lifecycle_stage == "deleted":
        raise ResumeError(f"Run {run_id} is deleted; restore it in the MLflow UI to resume it.")
    if run.info.status == RunStatus.to_string(RunStatus.FINISHED):
        raise ResumeError(
            f"Run {run_id} already FINISHED; there is nothing to resume. Its export is "
            f"{run.data.tags.get('export_path', 'in its artifacts')}."
        )
    folder = run.data.tags.get(CHECKPOINT_TAG)
    if not folder:
        raise ResumeError(
            f"Run {run_id} has no {CHECKPOINT_TAG!r} tag: it was not started by convseq train, "
            "so it has no checkpoints to resume from."
        )
    if not Path(folder).is_dir():
        raise ResumeError(
            f"The checkpoints of run {run_id} are not at {folder} (removed, or the run was "
            "trained on another machine). Copy the folder there, or start a new run."
        )
    resumed = TrainConfig.from_params(run.data.params)
    if resumed.workers > 1:
        # A multi-worker run resumes in one process: its checkpoint is a whole
        # model. The global batch becomes batch_size (it was batch_size x workers).
        print(
            f"Run {run_id} trained on {resumed.workers} workers; it resumes in this process "
            f"with a global batch of {resumed.batch_size}."
        )
        resumed = dataclasses.replace(resumed, workers=1)
    for name, value in _given_options(config).items():
        if value != getattr(resumed, name):
            raise ResumeError(
                f"Option `{name}` was {getattr(resumed, name)!r} in run {run_id}; a resumed run "
                f"keeps its options. Received {name}={value!r}: leave it out, or start a new "
                "run with it."
            )
    return dataclasses.replace(
        resumed, checkpoint_dir=str(Path(folder).parent), resume_run_id=run_id
    )


_DELETE_WHEN_GONE = """
import sys
import mlflow
import psutil
pid, run_id, tracking_uri = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    psutil.Process(pid).wait()
except psutil.NoSuchProcess:
    pass
mlflow.MlflowClient(tracking_uri).delete_run(run_id)
"""


def _mlflow_run_process():
    """The ``mlflow run`` process above this one, or None."""
    import psutil

    for parent in psutil.Process().parents():
        try:
            command = " ".join(parent.cmdline())
        except psutil.Error:
            continue
        if "mlflow" in command and " run " in f"{command} ":
            return parent
    return None


def hand_over_wrapper_run(run_id: str) -> None:
    """Under ``mlflow run -P resume_run_id=...``: folds the run MLflow just started away.

    ``mlflow run`` starts a new run before the pipeline sees
    ``resume_run_id``. That run is ended FINISHED and tagged with the run it
    resumed, and deleted (still restorable) so that the resumed run stays the
    only one. ``mlflow run`` sets its run's status once the command has exited
    (MLflow 3.17 does so even when the run already ended) and fails on a
    deleted run, so the deletion waits for the ``mlflow run`` process to exit:
    a small detached process does it.
    """
    wrapper = os.environ.get("MLFLOW_RUN_ID")
    if not wrapper or wrapper == run_id:
        return
    client = mlflow.MlflowClient()
    client.set_tag(wrapper, "resumed_run_id", run_id)
    client.set_terminated(wrapper, RunStatus.to_string(RunStatus.FINISHED))
    launcher = _mlflow_run_process()
    if launcher is None:
        client.delete_run(wrapper)
    else:
        subprocess.Popen(
            [sys.executable, "-c", _DELETE_WHEN_GONE, str(launcher.pid), wrapper]
            + [mlflow.get_tracking_uri()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    del os.environ["MLFLOW_RUN_ID"]


def mark_resumed(run) -> None:
    """Counts the resume in the run's ``resumes`` tag and clears an earlier failure reason."""
    tags = mlflow.MlflowClient().get_run(run.info.run_id).data.tags
    mlflow.set_tag(RESUMES_TAG, int(tags.get(RESUMES_TAG, 0)) + 1)
    if FAILURE_TAG in tags:
        mlflow.MlflowClient().delete_tag(run.info.run_id, FAILURE_TAG)
