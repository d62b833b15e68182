"""The train pipeline: what every task's run shares.

The run's lifecycle in MLflow (params, tags, the task's outcome, FAILED with
a reason), resume of a killed run, devices and distribution strategy,
multi-worker launch, and the task table: the task itself (data, model,
metrics, plots, export) is `pipelines.tasks.TASKS[config.task].train`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from pathlib import Path

import keras
import mlflow
import tensorflow as tf

from data import DataLocations
from pipelines.checkpoints import run_lock
from pipelines.config import TrainConfig
from pipelines.devices import applied, plan_devices, visible_gpu_count
from pipelines.fitting import run_checkpoint_folder
from pipelines.multi_worker import (
    WEIGHTS_TAG,
    launch_local_workers,
    non_chief_scratch,
    worker_role,
)
from pipelines.resume import (
    CHECKPOINT_TAG,
    hand_over_wrapper_run,
    mark_resumed,
    resumable_config,
)
from pipelines.tasks import TASKS
from pipelines.tracking import (
    check_tracking_store,
    environment_tags,
    log_new_params,
    tracked_run,
)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a finished training run produced.

    Attributes:
        run_id: MLflow run id.
        tracking_uri: Where the run is stored.
        export_path: The SavedModel version folder.
        test_metrics: ``test_loss`` and ``test_accuracy``.
        weights_sha256: Digest of the trained weights (multi-worker runs).
        worker_weights_sha256: The same digest from every worker, chief first
            (a local multi-worker run): equal when the replicas agree.
    """

    run_id: str
    tracking_uri: str
    export_path: Path
    test_metrics: dict[str, float]
    weights_sha256: str = ""
    worker_weights_sha256: tuple[str, ...] = ()


def train(config: TrainConfig, locations: DataLocations | None = None) -> TrainResult:
    """Trains, evaluates and exports the config's task in one MLflow run.

    Under ``mlflow run`` the run started by MLflow is continued; otherwise a
    new run is started in the active experiment. The tracking store is
    checked first (`pipelines.tracking.check_tracking_store`). The run logs
    the config (parameters MLflow already logged are left alone; task
    defaults resolved from 0/"" as ``resolved_<name>``), per-epoch train and
    validation metrics, test metrics, environment and device tags, the task's
    plots, the SavedModel folder and, for Keras-loadable models, the Keras
    model with its signature. Every epoch is checkpointed under
    ``<checkpoint_dir>/<run_id>/`` until the run finishes; with
    ``resume_run_id`` a killed or failed run continues from there, in the
    same run (`pipelines.resume`). A failure (a loss turned NaN included)
    ends the run FAILED with the reason as its ``failure_reason`` tag, keeps
    the checkpoints and re-raises.

    Args:
        config: The run's configuration.
        locations: Where to look for local dataset copies.

    Returns:
        A `TrainResult`.

    Raises:
        data.DatasetUnavailableError: If the dataset cannot be found.
        pipelines.tracking.TrackingUnavailableError: If the tracking URI fails.
        pipelines.resume.ResumeError: If ``resume_run_id`` cannot be resumed.
        pipelines.checkpoints.RunLockedError: If a live process trains that run.
        pipelines.guards.TrainingDivergedError: If the loss became NaN or infinite.
        pipelines.devices.DeviceUnavailableError: If ``device=gpu`` finds no GPU.
        ValueError: On invalid geometry for the dataset's input shape, or
            data that does not fit the task.
    """
    role = worker_role()
    if role is None and config.workers > 1:
        return _launch_workers(config)
    if role is not None:
        if role.count != config.workers:
            raise ValueError(
                f"TF_CONFIG describes {role.count} workers but workers={config.workers}: run "
                f"every worker with --workers {role.count}."
            )
        if not role.is_chief:
            with non_chief_scratch(role) as scratch:
                return _train_in_this_process(dataclasses.replace(config, **scratch), locations)
    return _train_in_this_process(config, locations)


def _launch_workers(config: TrainConfig) -> TrainResult:
    arguments = [f"--{name}={value}" for name, value in config.as_params().items()]
    if config.resume_run_id:
        arguments.append(f"--resume_run_id={config.resume_run_id}")
    lines = launch_local_workers(arguments, config.workers)
    metrics = {k: float(v) for k, v in lines.items() if k.startswith("test_")}
    digests = [lines.get(WEIGHTS_TAG, "")]
    digests += [lines.get(f"worker_{i}_{WEIGHTS_TAG}", "") for i in range(1, config.workers)]
    return TrainResult(
        run_id=lines["run_id"],
        tracking_uri=lines["tracking_uri"],
        export_path=Path(lines["export_path"]),
        test_metrics=metrics,
        weights_sha256=digests[0],
        worker_weights_sha256=tuple(digests),
    )


def _train_in_this_process(config: TrainConfig, locations: DataLocations | None) -> TrainResult:
    check_tracking_store()
    if config.resume_run_id:
        config = resumable_config(config)  # the run's own options, from here on
    plan = plan_devices(
        visible_gpu_count(),
        device=config.device,
        precision=config.precision,
        batch_size=config.batch_size,
        workers=max(1, config.workers),
    )
    with contextlib.ExitStack() as stack:
        if config.resume_run_id:
            folder = stack.enter_context(
                run_lock(run_checkpoint_folder(config, config.resume_run_id))
            )
            hand_over_wrapper_run(config.resume_run_id)
            run = stack.enter_context(tracked_run(run_id=config.resume_run_id))
            mark_resumed(run)
        else:
            run = stack.enter_context(tracked_run())
            folder = run_checkpoint_folder(config, run.info.run_id)
            mlflow.set_tag(CHECKPOINT_TAG, str(folder))
            stack.enter_context(run_lock(folder))
        params = config.as_params()
        if config.resume_run_id:  # the same folder, now as an absolute path
            params.pop("checkpoint_dir")
        log_new_params(params)
        mlflow.set_tags({**environment_tags(use_gpus=plan.gpus > 0), **plan.tags()})
        log_new_params({"global_batch_size": plan.global_batch_size})
        if config.deterministic:
            keras.utils.set_random_seed(config.seed)
            tf.config.experimental.enable_op_determinism()
        with applied(plan):
            run_config = dataclasses.replace(config, batch_size=plan.global_batch_size)
            outcome = TASKS[config.task].train(run_config, locations)
    shutil.rmtree(folder, ignore_errors=True)  # finished and exported: nothing to resume
    tags = mlflow.MlflowClient().get_run(run.info.run_id).data.tags
    return TrainResult(
        run_id=run.info.run_id,
        tracking_uri=mlflow.get_tracking_uri(),
        export_path=outcome.export_path,
        test_metrics=outcome.test_metrics,
        weights_sha256=tags.get(WEIGHTS_TAG, ""),
    )
