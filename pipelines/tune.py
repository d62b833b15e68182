"""The tune pipeline: a Keras Tuner search, one parent MLflow run, one child run per trial.

``convseq tune`` / ``mlflow run . -e tune`` searches the CNN (filter size,
stride, padding, filters, pooling per block; dense units, dropout, learning
rate) or the sentiment RNN (cell, units, bidirectional, depth, embedding
size, learning rate, clipnorm). The first trial is the default configuration
(the train options). The parent run logs the best hyperparameters
(``best_<name>``), ``best_score`` and ``default_score``, ``plots/trials.png``,
``search/trials.json``, then evaluates and exports the best trial's model
(its best-epoch checkpoint) like ``train`` does.

Resuming: the search state lives in ``directory/<project_name>``; rerunning
the same search continues it. Completed trials are not rerun, the trial that
was running when the process died runs again once, its orphaned child run is
marked KILLED, and the children stay under one parent run (the same run from
``convseq tune``; under ``mlflow run``, the new run adopts the earlier one's
children).

Distributed: ``workers=N`` starts a chief (the oracle) and N workers on
127.0.0.1 (Keras Tuner's ``KERASTUNER_TUNER_ID``/``KERASTUNER_ORACLE_IP``/
``KERASTUNER_ORACLE_PORT`` protocol) and waits for them; on a cluster, set
those variables on each machine and run the same ``convseq tune`` command:
the chief owns the parent run, workers find it by its project tag.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import keras
import keras_tuner
import mlflow
import tensorflow as tf
from mlflow.entities import RunStatus

from data import DataLocations
from models.hypermodels import CNNHyperModel, TextRNNHyperModel
from pipelines.config import format_option
from pipelines.devices import DevicePlan, applied, plan_devices, visible_gpu_count
from pipelines.plots import trials_figure
from pipelines.tracking import (
    TaskOutcome,
    check_tracking_store,
    environment_tags,
    log_new_params,
    tracked_run,
)
from pipelines.trial_runs import PROJECT_TAG, TrialRuns
from pipelines.tune_config import TuneConfig
from pipelines.tuners import RECYCLE_EXIT_CODE, make_tuner

logger = logging.getLogger(__name__)

PARENT_RECORD = "mlflow_parent_run.json"
PARENT_ENV = "CONVSEQ_TUNE_PARENT_RUN_ID"
CHIEF_ID = "chief"
TUNER_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
PARENT_WAIT_S = 120.0
CHIEF_EXIT_WAIT_S = 60.0


@dataclasses.dataclass(frozen=True)
class SearchTask:
    """What a search needs of its task: the hypermodel, the data, and how to finish the best.

    Attributes:
        hypermodel: `CNNHyperModel` or `TextRNNHyperModel`.
        train: Training batches (shuffled, seeded).
        validation: Validation batches.
        finish: Evaluates, exports and logs a trained model in the active run.
        plot_groups: Hyperparameters compared in ``plots/trials.png``.
    """

    hypermodel: keras_tuner.HyperModel
    train: object
    validation: object
    finish: Callable[[keras.Model], TaskOutcome]
    plot_groups: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """What a search produced (the chief's or single process's view).

    Attributes:
        run_id: The parent MLflow run.
        tracking_uri: Where it is stored.
        role: ``search`` (it ran and summarized), ``worker`` or ``chief``
            (served the oracle for a launcher that summarizes).
        best_values: The best trial's hyperparameters.
        best_score: Its objective value.
        default_score: The default configuration's, if it ran.
        export_path: The best model's SavedModel folder.
        test_metrics: The best model's test metrics.
        trials: One row per trial (id, status, score, values).
    """

    run_id: str
    tracking_uri: str
    role: str = "search"
    best_values: dict = dataclasses.field(default_factory=dict)
    best_score: float | None = None
    default_score: float | None = None
    export_path: Path | None = None
    test_metrics: dict = dataclasses.field(default_factory=dict)
    trials: list = dataclasses.field(default_factory=list)


def search_task(config: TuneConfig, locations: DataLocations | None = None) -> SearchTask:
    """Loads the config's data and builds the hypermodel whose defaults are the train options."""
    train_config = config.train_config()
    space = config.search_space()
    if config.task == "classify":
        from pipelines.train import finish_image_classifier, load_input_pipelines

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
    from pipelines.sentiment import finish_sentiment, vectorized_text_data

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


def distributed_role() -> str | None:
    """``chief``, ``worker`` or None, from Keras Tuner's environment variables.

    Raises:
        ValueError: If ``KERASTUNER_TUNER_ID`` is set without the oracle's
            address, or the other way round.
    """
    present = {name: os.environ.get(name) for name in TUNER_ENV}
    if not any(present.values()):
        return None
    missing = [name for name, value in present.items() if not value]
    if missing:
        raise ValueError(
            f"A distributed search needs all of {list(TUNER_ENV)}; {missing} are not set. "
            "Set them on every machine (chief: KERASTUNER_TUNER_ID=chief), or unset them all "
            "for a one-process search."
        )
    return "chief" if present["KERASTUNER_TUNER_ID"] == CHIEF_ID else "worker"


def _tuner(
    config: TuneConfig,
    hypermodel,
    trial_runs: TrialRuns | None,
    directory: Path,
    trials_per_process: int = 0,
):
    objective = keras_tuner.Objective(config.objective, config.objective_direction)
    return make_tuner(
        config.tuner,
        hypermodel,
        objective=objective,
        max_trials=config.max_trials,
        epochs=config.epochs,
        seed=config.seed,
        trial_runs=trial_runs,
        directory=str(directory),
        project_name=config.search_name,
        overwrite=False,  # `overwrite` is handled before any process starts
        executions_per_trial=config.executions_per_trial,
        hyperband_factor=config.hyperband_factor,
        trials_per_process=trials_per_process,
    )


def device_plan(config: TuneConfig) -> DevicePlan:
    """How this process trains its trials (`pipelines.devices.plan_devices`)."""
    return plan_devices(
        visible_gpu_count(),
        device=config.device,
        precision=config.precision,
        batch_size=config.batch_size,
    )


def _search(tuner, task: SearchTask, config: TuneConfig, extra_callbacks=()) -> None:
    callbacks = list(extra_callbacks)
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


def _read_record(project_dir: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        return json.loads((project_dir / PARENT_RECORD).read_text(encoding="utf-8"))
    return {}


@contextlib.contextmanager
def search_parent_run(config: TuneConfig, project_dir: Path) -> Iterator[TrialRuns]:
    """The parent run of a search: new, or the one an earlier attempt of it left.

    Child runs left RUNNING by a killed attempt are marked KILLED. Under
    ``mlflow run`` (a new run each time) the new parent adopts the earlier
    parent's children and the earlier parent is marked KILLED with a
    ``resumed_by`` tag. The run ends like any tracked run (FINISHED, FAILED
    with the reason, KILLED on an interrupt).

    Yields:
        The `TrialRuns` of the parent.
    """
    project_dir.mkdir(parents=True, exist_ok=True)
    record = _read_record(project_dir)
    tracking_uri = mlflow.get_tracking_uri()
    earlier = record.get("run_id") if record.get("tracking_uri") == tracking_uri else None
    with tracked_run(run_name=config.search_name, run_id=earlier) as run:
        run_id = run.info.run_id
        (project_dir / PARENT_RECORD).write_text(
            json.dumps({"run_id": run_id, "tracking_uri": tracking_uri}), encoding="utf-8"
        )
        log_new_params(config.as_params())
        plan = device_plan(config)
        log_new_params({"global_batch_size": plan.global_batch_size})
        mlflow.set_tags(
            {
                **environment_tags(use_gpus=plan.gpus > 0),
                **plan.tags(),
                PROJECT_TAG: config.search_name,
            }
        )
        trial_runs = TrialRuns(run_id, tracking_uri)
        if earlier and earlier != run_id:
            client = mlflow.MlflowClient(tracking_uri)
            with contextlib.suppress(mlflow.exceptions.MlflowException):
                moved = trial_runs.adopt(earlier)
                mlflow.set_tag("resumed_from", earlier)
                client.set_tag(earlier, "resumed_by", run_id)
                if client.get_run(earlier).info.status == "RUNNING":
                    client.set_terminated(earlier, RunStatus.to_string(RunStatus.KILLED))
                logger.info("Resuming search %s: adopted %d child runs", config.search_name, moved)
        closed = trial_runs.close_interrupted()
        if closed:
            logger.info("Marked %d interrupted trial runs KILLED: %s", len(closed), closed)
        yield trial_runs


def _trial_rows(tuner, hypermodel) -> list[dict]:
    rows = []
    for trial_id in sorted(tuner.oracle.trials):
        trial = tuner.oracle.trials[trial_id]
        values = dict(trial.hyperparameters.values)
        status = str(trial.status)
        if status == "FAILED" and hypermodel.geometry_problem(values):
            status = "SKIPPED"
        rows.append(
            {
                "trial_id": trial_id,
                "status": status,
                "score": None if trial.score is None else float(trial.score),
                "values": values,
            }
        )
    return rows


def _default_score(rows: list[dict], hypermodel) -> float | None:
    defaults = hypermodel.default_values()
    for row in rows:
        if all(row["values"].get(name) == value for name, value in defaults.items()):
            return row["score"]
    return None


def summarize(tuner, task: SearchTask, config: TuneConfig, trial_runs: TrialRuns) -> TuneResult:
    """Logs the search's outcome to the active parent run and exports the best model.

    Raises:
        RuntimeError: If no trial finished with a score.
    """
    rows = _trial_rows(tuner, task.hypermodel)
    best_trials = tuner.oracle.get_best_trials(1)
    if not best_trials or best_trials[0].score is None:
        raise RuntimeError(
            f"No trial of search {config.search_name!r} finished with a score "
            f"({len(rows)} trials); see the failure_reason tags of its child runs."
        )
    best = best_trials[0]
    best_values = dict(best.hyperparameters.values)
    default_score = _default_score(rows, task.hypermodel)
    log_new_params({f"best_{name}": value for name, value in best_values.items()})
    metrics = {
        "best_score": float(best.score),
        "trials_completed": sum(r["status"] == "COMPLETED" for r in rows),
        "trials_skipped": sum(r["status"] == "SKIPPED" for r in rows),
        "trials_failed": sum(r["status"] in ("FAILED", "INVALID") for r in rows),
    }
    if default_score is not None:
        metrics["default_score"] = default_score
    mlflow.log_metrics(metrics)
    mlflow.set_tags(
        {
            "best_trial_id": best.trial_id,
            "objective": config.objective,
            "direction": config.objective_direction,
        }
    )
    mlflow.log_dict({"objective": config.objective, "trials": rows}, "search/trials.json")
    mlflow.log_figure(trials_figure(rows, config.objective, task.plot_groups), "plots/trials.png")
    model = tuner.get_best_models(1)[0]
    outcome = task.finish(model)
    return TuneResult(
        run_id=trial_runs.parent_run_id,
        tracking_uri=trial_runs.tracking_uri,
        best_values=best_values,
        best_score=float(best.score),
        default_score=default_score,
        export_path=outcome.export_path,
        test_metrics=outcome.test_metrics,
        trials=rows,
    )


def _project_dir(config: TuneConfig) -> Path:
    project_dir = Path(config.directory) / config.search_name
    if config.overwrite and project_dir.exists():
        shutil.rmtree(project_dir)
    return project_dir


def _find_parent(config: TuneConfig) -> str:
    """The parent run id a worker logs under: from the launcher, or the chief's project tag."""
    given = os.environ.get(PARENT_ENV)
    if given:
        return given
    deadline = time.monotonic() + PARENT_WAIT_S
    while True:
        runs = mlflow.search_runs(
            search_all_experiments=True,
            filter_string=f"tags.`{PROJECT_TAG}` = '{config.search_name}' "
            "and attributes.status = 'RUNNING'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
            output_format="list",
        )
        if runs:
            return runs[0].info.run_id
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"No RUNNING parent run tagged {PROJECT_TAG}={config.search_name!r} at "
                f"{mlflow.get_tracking_uri()} after {PARENT_WAIT_S:.0f} s: start the chief "
                "(KERASTUNER_TUNER_ID=chief) with the same project_name and tracking URI first."
            )
        time.sleep(2.0)


def cli_arguments(config: TuneConfig) -> list[str]:
    """``--name value`` pairs that rebuild ``config`` on the ``convseq tune`` command line."""
    arguments = []
    for field in dataclasses.fields(config):
        arguments += [f"--{field.name}", format_option(getattr(config, field.name))]
    return arguments


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10.0
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.1, deadline - time.monotonic()))
        if process.poll() is None:
            process.kill()
            process.wait()


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    return ""


def _wait_for(
    processes: dict[str, subprocess.Popen],
    logs: dict[str, Path],
    restart: Callable[[str], subprocess.Popen],
) -> int:
    """Waits for the workers, then the chief; stops every process if one fails.

    A worker that exits with `RECYCLE_EXIT_CODE` (it ran its
    ``trials_per_process``) is started again while the chief still serves.

    Returns:
        How many times workers were restarted.
    """
    restarts = 0
    try:
        while True:
            for name in list(processes):
                code = processes[name].poll()
                if code == RECYCLE_EXIT_CODE and name != CHIEF_ID:
                    if processes[CHIEF_ID].poll() is None:
                        processes[name] = restart(name)
                        restarts += 1
                    continue
                if code not in (None, 0):
                    raise RuntimeError(
                        f"Search process {name} (pid {processes[name].pid}) exited with status "
                        f"{code}; the end of {logs[name]}:\n{_tail(logs[name])}"
                    )
            workers = [p for name, p in processes.items() if name != CHIEF_ID]
            if all(p.poll() in (0, RECYCLE_EXIT_CODE) for p in workers) and (
                all(p.poll() == 0 for p in workers) or processes[CHIEF_ID].poll() is not None
            ):
                break
            time.sleep(0.5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            # The chief exits once every worker has been told to stop (it
            # checks every 20 s); its oracle state is already saved.
            processes[CHIEF_ID].wait(CHIEF_EXIT_WAIT_S)
    finally:
        _stop(processes)
    return restarts


def _launch(
    config: TuneConfig, workers: int, trial_runs: TrialRuns, project_dir: Path
) -> dict[str, Path]:
    """Starts the chief and ``workers`` workers on 127.0.0.1 and waits for them."""
    child_config = dataclasses.replace(config, workers=0, overwrite=False)
    command = [sys.executable, "-m", "pipelines.cli", "tune", *cli_arguments(child_config)]
    environment = {key: value for key, value in os.environ.items() if key != "MLFLOW_RUN_ID"}
    experiment_id = mlflow.get_run(trial_runs.parent_run_id).info.experiment_id
    environment.update(
        {
            "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(_free_port()),
            PARENT_ENV: trial_runs.parent_run_id,
            "MLFLOW_TRACKING_URI": trial_runs.tracking_uri,
            "MLFLOW_EXPERIMENT_ID": experiment_id,
        }
    )
    log_dir = project_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    names = [CHIEF_ID] + [f"tuner{i}" for i in range(workers)]
    processes, logs = {}, {}

    def start(name: str) -> subprocess.Popen:
        with open(logs[name], "a", encoding="utf-8") as log:
            return subprocess.Popen(
                command,
                env={**environment, "KERASTUNER_TUNER_ID": name},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    try:
        for name in names:
            logs[name] = log_dir / f"{name}.log"
            logs[name].write_text("", encoding="utf-8")
            processes[name] = start(name)
            if name == CHIEF_ID:
                time.sleep(1.0)  # let the oracle server bind before workers call it
        restarts = _wait_for(processes, logs, start)
        if restarts:
            mlflow.log_metric("worker_restarts", restarts)
    finally:
        _stop(processes)
    return logs


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
        ValueError: On a bad config, data that does not fit, or an
            inconsistent distributed environment.
        RuntimeError: If no trial finished, or a search process failed.
    """
    role = distributed_role()
    if config.workers and role:
        raise ValueError(
            f"workers={config.workers} starts its own chief and workers on 127.0.0.1; unset "
            f"{list(TUNER_ENV)} or run without workers."
        )
    check_tracking_store()
    # the input pipelines take the global batch: batch_size per replica
    data_config = dataclasses.replace(config, batch_size=device_plan(config).global_batch_size)
    if role == "worker":
        task = search_task(data_config, locations)
        trial_runs = TrialRuns(_find_parent(config), mlflow.get_tracking_uri())
        tuner = _tuner(
            config, task.hypermodel, trial_runs, Path(config.directory), config.trials_per_process
        )
        _search(tuner, task, config)
        return TuneResult(trial_runs.parent_run_id, trial_runs.tracking_uri, role="worker")
    if role == "chief" and os.environ.get(PARENT_ENV):
        task = search_task(data_config, locations)
        tuner = _tuner(config, task.hypermodel, None, Path(config.directory))
        _search(tuner, task, config)  # serves the oracle until the search ends
        return TuneResult(os.environ[PARENT_ENV], mlflow.get_tracking_uri(), role="chief")

    project_dir = _project_dir(config)
    task = search_task(data_config, locations)
    workers = config.workers or (1 if config.trials_per_process and not role else 0)
    with search_parent_run(config, project_dir) as trial_runs:
        if workers:
            logs = _launch(config, workers, trial_runs, project_dir)
            for log in logs.values():
                mlflow.log_artifact(str(log), "search/logs")
            tuner = _tuner(config, task.hypermodel, trial_runs, Path(config.directory))
        else:
            # One process, or the chief of a cluster search: it serves the oracle.
            serving = role == "chief"
            tuner = _tuner(
                config, task.hypermodel, None if serving else trial_runs, Path(config.directory)
            )
            _search(tuner, task, config, extra_callbacks)
            if serving:
                tuner = _tuner(config, task.hypermodel, trial_runs, Path(config.directory))
        return summarize(tuner, task, config, trial_runs)
