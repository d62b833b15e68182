"""The outcome of a search, logged to its parent run: best trial, scores, table, plot, export."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import keras
import keras_tuner
import mlflow

from pipelines.plots import trials_figure
from pipelines.tracking import TaskOutcome, log_new_params
from pipelines.trial_runs import TrialRuns
from pipelines.tune_config import TuneConfig


@dataclasses.dataclass(frozen=True)
class SearchTask:
    """What a search needs of its task: the hypermodel, the data, and how to finish the best.

    Attributes:
        hypermodel: `CNNHyperModel`, `TextRNNHyperModel`, `EmbeddingHyperModel` or
            `TextReaderHyperModel`.
        train: Training batches (shuffled, seeded).
        validation: Validation batches.
        finish: Evaluates, exports and logs a trained model in the active run.
        plot_groups: Hyperparameters compared in ``plots/trials.png``.
        callbacks: Callbacks every trial's ``fit`` runs first (e.g. one that
            adds the objective to the epoch's logs).
    """

    hypermodel: keras_tuner.HyperModel
    train: object
    validation: object
    finish: Callable[[keras.Model], TaskOutcome]
    plot_groups: tuple[str, ...]
    callbacks: tuple[keras.callbacks.Callback, ...] = ()


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


def trial_rows(tuner, hypermodel) -> list[dict]:
    """One row per trial, by id: ``trial_id``, ``status``, ``score`` and ``values``.

    A trial that failed for invalid geometry has the status ``SKIPPED``.
    """
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


def default_score(rows: list[dict], hypermodel) -> float | None:
    """The score of the trial whose values are the hypermodel's defaults, if it ran."""
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
    rows = trial_rows(tuner, task.hypermodel)
    best_trials = tuner.oracle.get_best_trials(1)
    if not best_trials or best_trials[0].score is None:
        raise RuntimeError(
            f"No trial of search {config.search_name!r} finished with a score "
            f"({len(rows)} trials); see the failure_reason tags of its child runs."
        )
    best = best_trials[0]
    best_values = dict(best.hyperparameters.values)
    default = default_score(rows, task.hypermodel)
    log_new_params({f"best_{name}": value for name, value in best_values.items()})
    metrics = {
        "best_score": float(best.score),
        "trials_completed": sum(r["status"] == "COMPLETED" for r in rows),
        "trials_skipped": sum(r["status"] == "SKIPPED" for r in rows),
        "trials_failed": sum(r["status"] in ("FAILED", "INVALID") for r in rows),
    }
    if default is not None:
        metrics["default_score"] = default
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
        default_score=default,
        export_path=outcome.export_path,
        test_metrics=outcome.test_metrics,
        trials=rows,
    )
