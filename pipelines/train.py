"""The train pipeline: one MLflow run per task; the image tasks (classify, transfer) live here."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import keras
import mlflow
import numpy as np
import tensorflow as tf
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec

from data import DataLocations, load_dataset
from data.image_folder import load_image_folder
from data.pipeline import InputPipelines, build_input_pipelines
from data.sources import Splits
from data.specs import IMAGE_CLASSIFICATION, DatasetSpec
from models import small_cnn
from pipelines.checkpoints import run_lock
from pipelines.config import IMAGE_TASKS, TrainConfig
from pipelines.devices import applied, plan_devices, visible_gpu_count
from pipelines.export import export_image_classifier
from pipelines.fitting import fit, run_checkpoint_folder
from pipelines.multi_worker import (
    WEIGHTS_TAG,
    launch_local_workers,
    non_chief_scratch,
    weights_digest,
    worker_role,
)
from pipelines.plots import confusion_matrix, confusion_matrix_figure, training_curves_figure
from pipelines.resume import (
    CHECKPOINT_TAG,
    hand_over_wrapper_run,
    mark_resumed,
    resumable_config,
)
from pipelines.tracking import (
    TaskOutcome,
    check_tracking_store,
    environment_tags,
    log_export,
    log_keras_model,
    log_new_params,
    tracked_run,
)
from pipelines.transfer import (
    build_transfer_model,
    compile_classifier,
    log_frozen_layers,
    start_fine_tuning,
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


def load_input_pipelines(
    config: TrainConfig, locations: DataLocations | None = None
) -> tuple[DatasetSpec, Splits, InputPipelines]:
    """The data of a config (catalog dataset or image folder) and its tf.data pipelines."""
    if config.data_dir:
        spec, splits = _image_folder_dataset(config)
    else:
        spec, splits = load_dataset(config.dataset, locations)
    pipes = build_input_pipelines(
        splits,
        batch_size=config.batch_size,
        validation_fraction=config.validation_fraction,
        seed=config.seed,
        max_examples=config.max_examples,
    )
    return spec, splits, pipes


def _image_folder_dataset(config: TrainConfig) -> tuple[DatasetSpec, Splits]:
    size = config.image_size or 64
    folder = load_image_folder(config.data_dir, image_size=(size, size), seed=config.seed)
    name = re.sub(r"[^0-9A-Za-z_]+", "_", Path(config.data_dir).resolve().name) or "images"
    spec = DatasetSpec(
        name=name,
        task=IMAGE_CLASSIFICATION,
        input_shape=(size, size, 3),
        class_names=folder.class_names,
        splits=tuple(folder.splits),
    )
    return spec, folder.splits


def build_model(config: TrainConfig, spec: DatasetSpec) -> keras.Model:
    """The compiled CNN that `train` fits, for a config and a dataset spec."""
    model = small_cnn(
        input_shape=spec.input_shape,
        classes=spec.num_classes,
        filters=config.filters,
        kernel_size=config.kernel_size,
        strides=config.stride,
        padding=config.padding,
        name=f"{spec.name}_cnn",
    )
    compile_classifier(model, config, config.learning_rate)
    return model


def _predict_split(model: keras.Model, dataset) -> tuple[np.ndarray, np.ndarray]:
    probabilities, labels = [], []
    for images, batch_labels in dataset:
        probabilities.append(model(images, training=False).numpy())
        labels.append(batch_labels.numpy())
    return np.concatenate(probabilities), np.concatenate(labels)


def _evaluate(
    model: keras.Model, pipes: InputPipelines, spec: DatasetSpec
) -> tuple[dict[str, float], np.ndarray]:
    probabilities, labels = _predict_split(model, pipes.test)
    picked = probabilities[np.arange(len(labels)), labels]
    metrics = {
        "test_loss": float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0)))),
        "test_accuracy": float(np.mean(probabilities.argmax(axis=-1) == labels)),
    }
    matrix = confusion_matrix(labels, probabilities.argmax(axis=-1), spec.num_classes)
    return metrics, matrix


def _signature(model: keras.Model) -> ModelSignature:
    image_shape = tuple(-1 if n is None else n for n in model.input_shape)
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.uint8), image_shape, "images")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, model.output_shape[-1]))]),
    )


def _fit_transfer(config, spec, pipes, keras_home) -> tuple[keras.Model, dict]:
    model, base = build_transfer_model(config, spec, keras_home)
    log_frozen_layers(model, "head")
    history = fit(model, pipes.train, pipes.validation, config, phase="head")
    if config.fine_tune_blocks and config.fine_tune_epochs:
        start_fine_tuning(model, base, config)
        log_frozen_layers(model, "fine_tune")
        mlflow.log_param("fine_tune_start_epoch", len(history["loss"]))
        more = fit(
            model,
            pipes.train,
            pipes.validation,
            config,
            initial_epoch=len(history["loss"]),
            epochs=len(history["loss"]) + config.fine_tune_epochs,
            phase="fine_tune",
        )
        history = {key: history[key] + more.get(key, []) for key in history}
    return model, history


def _train_image_classifier(config: TrainConfig, locations: DataLocations | None) -> TaskOutcome:
    spec, _, pipes = load_input_pipelines(config, locations)
    keras.utils.set_random_seed(config.seed)
    if config.task == "transfer":
        keras_home = locations.keras_home if locations else None
        model, history = _fit_transfer(config, spec, pipes, keras_home)
    else:
        model = build_model(config, spec)
        history = fit(model, pipes.train, pipes.validation, config)
    if config.workers > 1:
        mlflow.set_tag(WEIGHTS_TAG, weights_digest(model))
    return finish_image_classifier(
        model, pipes, spec, config.export_dir, history, config.registered_model_name
    )


def finish_image_classifier(
    model: keras.Model,
    pipes: InputPipelines,
    spec: DatasetSpec,
    export_dir: str,
    history: dict[str, list[float]] | None = None,
    registered_model_name: str = "",
) -> TaskOutcome:
    """Evaluates, plots, exports and logs a trained image classifier in the active run.

    Logs the example counts, ``test_loss``/``test_accuracy``, the confusion
    matrix (and the training curves when ``history`` is given), the
    SavedModel and the Keras model with a uint8 image signature.
    """
    log_new_params(
        {
            "model_parameters": model.count_params(),
            "train_examples": pipes.train_size,
            "validation_examples": pipes.validation_size,
            "test_examples": pipes.test_size,
        }
    )
    test_metrics, matrix = _evaluate(model, pipes, spec)
    mlflow.log_metrics(test_metrics)
    if history:
        mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    mlflow.log_figure(
        confusion_matrix_figure(matrix, spec.class_names), "plots/confusion_matrix.png"
    )
    export_path = export_image_classifier(model, export_dir, model.name, spec.class_names)
    examples = next(iter(pipes.test))[0][:2].numpy()
    log_export(export_path, examples, registered_model_name)
    log_keras_model(model, _signature(model), examples)
    return TaskOutcome(export_path, test_metrics)


def _task_runner(task: str) -> Callable[[TrainConfig, DataLocations | None], TaskOutcome]:
    if task in IMAGE_TASKS:
        return _train_image_classifier
    if task == "sentiment":
        from pipelines.sentiment import train_sentiment

        return train_sentiment
    if task == "tagging":
        from pipelines.tagging import train_tagger

        return train_tagger
    if task == "captioning":
        from pipelines.captioning import train_captioner

        return train_captioner
    if task == "translation":
        from pipelines.translation import train_translator

        return train_translator
    from pipelines.forecast import train_forecaster

    return train_forecaster


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
            outcome = _task_runner(config.task)(run_config, locations)
    shutil.rmtree(folder, ignore_errors=True)  # finished and exported: nothing to resume
    tags = mlflow.MlflowClient().get_run(run.info.run_id).data.tags
    return TrainResult(
        run_id=run.info.run_id,
        tracking_uri=mlflow.get_tracking_uri(),
        export_path=outcome.export_path,
        test_metrics=outcome.test_metrics,
        weights_sha256=tags.get(WEIGHTS_TAG, ""),
    )
