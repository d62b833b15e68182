"""The tune pipeline: a Keras Tuner search, one parent MLflow run, one child run per trial.

``convseq tune`` / ``mlflow run . -e tune`` searches the CNN (filter size,
stride, padding, filters, pooling per block; dense units, dropout, learning
rate), the sentiment RNN (cell, units, bidirectional, depth, embedding
size, learning rate, clipnorm), the search task's embedder (vector length,
triplet margin, learning rate; objective ``val_map_at_10``,
`pipelines.search_tuning`) or the ocr task's reader (filter size, stride and
filters of the conv blocks, recurrent units, learning rate; objective
``val_cer``, `pipelines.ocr_tuning`). The first trial is the default configuration
(the train options). The parent run logs the best hyperparameters
(``best_<name>``), ``best_score`` and ``default_score``, ``plots/trials.png``,
``search/trials.json``, then evaluates and exports the best trial's model
(its best-epoch checkpoint) like ``train`` does (`pipelines.tune_summary`).

Resuming: the search state lives in ``directory/<project_name>``; rerunning
the same search continues it, and a rerun with a larger ``max_trials`` adds
trials to it. Completed trials are not rerun, the trial that was running when
the process died runs again once, its orphaned child run is marked KILLED,
and the children stay under one parent run (`pipelines.tune_record`). A rerun
whose trials would be trained differently (other epochs, data, search space,
tracking store, ...) is refused before any work.

Distributed: ``search_workers=N`` starts a chief (the oracle) and N workers
on 127.0.0.1 (Keras Tuner's ``KERASTUNER_TUNER_ID``/``KERASTUNER_ORACLE_IP``/
``KERASTUNER_ORACLE_PORT`` protocol) and waits for them; on a cluster, set
those variables on each machine and run the same ``convseq tune`` command:
the chief owns the parent run, workers find it by its project tag
(`pipelines.tune_launch`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import keras
import keras_tuner
import mlflow
import tensorflow as tf

from data import DataLocations
from models.hypermodels import CNNHyperModel, TextRNNHyperModel
from pipelines.devices import DevicePlan, applied, plan_devices, visible_gpu_count
from pipelines.tracking import check_tracking_store
from pipelines.trial_runs import TrialRuns
from pipelines.tune_config import TuneConfig
from pipelines.tune_launch import (
    PARENT_ENV,
    TUNER_ENV,
    distributed_role,
    find_parent,
    launch_search_processes,
)
from pipelines.tune_record import claim_search_folder, search_parent_run
from pipelines.tune_summary import SearchTask, TuneResult, summarize
from pipelines.tuners import make_tuner

__all__ = ["SearchTask", "TuneResult", "device_plan", "search_task", "tune"]


def search_task(config: TuneConfig, locations: DataLocations | None = None) -> SearchTask:
    """Loads the config's data and builds the hypermodel whose defaults are the train options."""
    if config.task == "search":
        from pipelines.search_tuning import search_tuning_task

        return search_tuning_task(config, locations)
    if config.task == "ocr":
        from pipelines.ocr_tuning import ocr_tuning_task

        return ocr_tuning_task(config, locations)
    train_config = config.train_config()
    space = config.search_space()
    if config.task == "classify":
        from pipelines.image_classifier import finish_image_classifier, load_input_pipelines

        spec, _, pipes = load_input_pipelines(train_config, locations)
        hypermodel = CNNHyperModel(
            spec.input_shape, spec.num_classes, name=f"{spec.name}_cnn_tuned", **space
        )
        return SearchTask(
            hypermodel,
            pipes.train,
            pipes.validation,
            lambda model: finish_image_classifier(
                model, pipes, spec, config.export_dir, None, config.registered_model_name
            ),
            ("kernel_size", "stride", "padding"),
        )
    from pipelines.tasks.sentiment import finish_sentiment, vectorized_text_data

    text = vectorized_text_data(train_config, locations)
    hypermodel = TextRNNHyperModel(
        text.vectorizer.vocabulary_size(),
        len(text.data.class_names),
        name=f"{text.data.name}_rnn_tuned",
        **space,
    )
    return SearchTask(
        hypermodel,
        text.batches("train", config.batch_size, config.seed),
        text.batches("validation", config.batch_size),
        lambda model: finish_sentiment(
            model, text, config.export_dir, None, config.registered_model_name
        ),
        ("cell", "units", "layers"),
    )


def device_plan(config: TuneConfig) -> DevicePlan:
    """How this process trains its trials (`pipelines.devices.plan_devices`)."""
    return plan_devices(
        visible_gpu_count(),
        device=config.device,
        precision=config.precision,
        batch_size=config.batch_size,
    )


def _tuner(
    config: TuneConfig,
    hypermodel,
    trial_runs: TrialRuns | None,
    trials_per_process: int = 0,
):
    return make_tuner(
        config.tuner,
        hypermodel,
        objective=keras_tuner.Objective(config.objective, config.objective_direction),
        max_trials=config.max_trials,
        epochs=config.epochs,
        seed=config.seed,
        trial_runs=trial_runs,
        directory=str(Path(config.directory)),
        project_name=config.search_name,
        overwrite=False,  # `overwrite` is handled before any process starts
        executions_per_trial=config.executions_per_trial,
        hyperband_factor=config.hyperband_factor,
        trials_per_process=trials_per_process,
    )


def _search(tuner, task: SearchTask, config: TuneConfig, extra_callbacks=()) -> None:
    callbacks = [*task.callbacks, *extra_callbacks]
    if config.early_stopping_patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.early_stopping_patience, verbose=1
            )
        )
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    with applied(device_plan(config)):
        tuner.search(
            task.train,
            validation_data=task.validation,
            epochs=config.epochs,
            callbacks=callbacks,
            shuffle=False,  # the input pipeline shuffles, seeded
            verbose=2,
        )


def tune(
    config: TuneConfig,
    locations: DataLocations | None = None,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TuneResult:
    """Runs (or resumes) a search and logs it to MLflow; see the module docstring.

    Args:
        config: The search and its default configuration.
        locations: Where to look for local dataset copies.
        extra_callbacks: Callbacks for every trial's ``fit`` in this process
            (deep-copied per trial, as Keras Tuner does).

    Returns:
        A `TuneResult` (for a worker or a launched chief, without a summary).

    Raises:
        ValueError: On a bad config, data that does not fit, an inconsistent
            distributed environment, or a saved search of the same name whose
            trials were trained with other settings.
        RuntimeError: If no trial finished.
        pipelines.processes.ChildFailedError: If a search process failed.
    """
    role = distributed_role()
    if config.search_workers and role:
        raise ValueError(
            f"search_workers={config.search_workers} starts its own chief and workers on "
            f"127.0.0.1; unset {list(TUNER_ENV)} or run without search_workers."
        )
    check_tracking_store()
    # the input pipelines take the global batch: batch_size per replica
    data_config = dataclasses.replace(config, batch_size=device_plan(config).global_batch_size)
    if role == "worker":
        task = search_task(data_config, locations)
        trial_runs = TrialRuns(find_parent(config), mlflow.get_tracking_uri())
        _search(
            _tuner(config, task.hypermodel, trial_runs, config.trials_per_process), task, config
        )
        return TuneResult(trial_runs.parent_run_id, trial_runs.tracking_uri, role="worker")
    if role == "chief" and os.environ.get(PARENT_ENV):
        task = search_task(data_config, locations)
        _search(_tuner(config, task.hypermodel, None), task, config)  # serves the oracle
        return TuneResult(os.environ[PARENT_ENV], mlflow.get_tracking_uri(), role="chief")

    project_dir = claim_search_folder(config)
    task = search_task(data_config, locations)
    workers = config.search_workers or (1 if config.trials_per_process and not role else 0)
    with search_parent_run(config, project_dir, device_plan(config)) as trial_runs:
        if workers:
            logs = launch_search_processes(config, workers, trial_runs, project_dir)
            for log in logs.values():
                mlflow.log_artifact(str(log), "search/logs")
            tuner = _tuner(config, task.hypermodel, trial_runs)
        else:
            # One process, or the chief of a cluster search: it serves the oracle.
            serving = role == "chief"
            tuner = _tuner(config, task.hypermodel, None if serving else trial_runs)
            _search(tuner, task, config, extra_callbacks)
            if serving:
                tuner = _tuner(config, task.hypermodel, trial_runs)
        return summarize(tuner, task, config, trial_runs)
