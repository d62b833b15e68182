"""MLflow child runs of a hyperparameter search: one per trial attempt, under one parent run.

Everything goes through `mlflow.MlflowClient` with explicit run ids, so a
worker process that never opened the parent run logs its trials under it
just the same, and nothing here depends on the fluent "active run".
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping

import keras
import mlflow
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

TRIAL_TAG = "convseq.trial_id"
TUNER_TAG = "convseq.tuner_id"
SKIPPED_TAG = "convseq.skipped"
PROJECT_TAG = "convseq.tune_project"
FAILURE_TAG = "failure_reason"
SCORE_METRIC = "score"
PROCESS_RSS_METRIC = "process_rss_mb"  # resident memory of the trial's process at its end


def _param_value(value) -> str:
    return str(value)[:6000]


@dataclasses.dataclass(frozen=True)
class TrialRuns:
    """The child runs of one search's parent run.

    Attributes:
        parent_run_id: The search's parent run.
        tracking_uri: Where it is stored.
    """

    parent_run_id: str
    tracking_uri: str

    @property
    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(self.tracking_uri)

    def start(self, trial_id: str, values: Mapping, tuner_id: str) -> str:
        """Opens the child run of a trial attempt with its hyperparameters as params.

        Returns:
            The child run id.
        """
        client = self.client
        parent = client.get_run(self.parent_run_id)
        run = client.create_run(
            parent.info.experiment_id,
            run_name=f"trial_{trial_id}",
            tags={
                MLFLOW_PARENT_RUN_ID: self.parent_run_id,
                MLFLOW_RUN_NAME: f"trial_{trial_id}",
                TRIAL_TAG: str(trial_id),
                TUNER_TAG: tuner_id,
            },
        )
        params = [Param(name, _param_value(value)) for name, value in sorted(values.items())]
        for start in range(0, len(params), 100):
            client.log_batch(run.info.run_id, params=params[start : start + 100])
        return run.info.run_id

    def log_epoch(self, run_id: str, epoch: int, logs: Mapping[str, float]) -> None:
        """Logs one epoch's metrics at step ``epoch``."""
        now = int(time.time() * 1000)
        metrics = [
            Metric(name, float(value), now, epoch)
            for name, value in logs.items()
            if isinstance(value, (int, float)) or hasattr(value, "__float__")
        ]
        if metrics:
            self.client.log_batch(run_id, metrics=metrics)

    def finish(self, run_id: str, score: float | None) -> None:
        """Logs the trial's score and ends its run FINISHED."""
        client = self.client
        if score is not None:
            client.log_metric(run_id, SCORE_METRIC, float(score))
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))

    def fail(self, run_id: str, error: BaseException, *, skipped: bool = False) -> None:
        """Ends a trial's run FAILED (KILLED on an interrupt) with the reason as a tag."""
        client = self.client
        reason = f"{type(error).__name__}: {error}"[:4000]
        tags = [RunTag(FAILURE_TAG, reason)]
        if skipped:
            tags.append(RunTag(SKIPPED_TAG, "invalid_geometry"))
        client.log_batch(run_id, tags=tags)
        interrupted = isinstance(error, (KeyboardInterrupt, SystemExit))
        status = RunStatus.KILLED if interrupted else RunStatus.FAILED
        client.set_terminated(run_id, RunStatus.to_string(status))

    def children(self) -> list[mlflow.entities.Run]:
        """Every child run of the parent, oldest first."""
        parent = self.client.get_run(self.parent_run_id)
        runs = self.client.search_runs(
            [parent.info.experiment_id],
            filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{self.parent_run_id}'",
            max_results=10000,
            order_by=["attributes.start_time ASC"],
        )
        return list(runs)

    def close_interrupted(self) -> list[str]:
        """Marks child runs left RUNNING by a killed process KILLED; returns their ids.

        Call it only while no trial of this search is running (before a
        search resumes).
        """
        closed = []
        for run in self.children():
            if run.info.status == RunStatus.to_string(RunStatus.RUNNING):
                self.client.set_tag(
                    run.info.run_id,
                    FAILURE_TAG,
                    "interrupted: the search process stopped during this trial; the trial "
                    "runs again when the search resumes",
                )
                self.client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
                closed.append(run.info.run_id)
        return closed

    def adopt(self, other_parent_run_id: str) -> int:
        """Moves the children of another parent run (an earlier attempt) under this one."""
        earlier = TrialRuns(other_parent_run_id, self.tracking_uri)
        moved = 0
        for run in earlier.children():
            self.client.set_tag(run.info.run_id, MLFLOW_PARENT_RUN_ID, self.parent_run_id)
            moved += 1
        return moved


class TrialMetricsCallback(keras.callbacks.Callback):
    """Logs every epoch's logs to a trial's child run (deep-copyable: holds ids only)."""

    def __init__(self, trial_runs: TrialRuns, run_id: str):
        super().__init__()
        self.trial_runs = trial_runs
        self.run_id = run_id

    def on_epoch_end(self, epoch, logs=None):
        self.trial_runs.log_epoch(self.run_id, epoch, logs or {})
