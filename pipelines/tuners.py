"""Keras Tuner tuners (random, hyperband, bayesian) that log every trial as an MLflow child run.

Two rules are added to Keras Tuner's oracles:

- the first trial of a new search is the hypermodel's default configuration,
  so the search always measures the baseline it should beat;
- a trial skipped for invalid geometry (`models.hypermodels.InvalidGeometryError`)
  does not count toward ``max_consecutive_failed_trials``: the oracle
  recomputes the verdict from the trial's values, which also works when the
  trial ran in a worker process (the gRPC protocol does not carry messages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import keras_tuner
from keras_tuner.src.engine import tuner_utils
from keras_tuner.src.engine.trial import TrialStatus

from models.hypermodels import InvalidGeometryError
from pipelines.trial_runs import PROCESS_RSS_METRIC, TrialMetricsCallback, TrialRuns
from pipelines.tune_parsers import TUNERS

RECYCLE_EXIT_CODE = 75  # a worker that ran its share of trials; the launcher starts a fresh one


class WorkerRecycle(SystemExit):
    """Ends a worker process after its share of trials (see ``trials_per_process``)."""

    def __init__(self):
        super().__init__(RECYCLE_EXIT_CODE)


class _SearchRules:
    """Oracle mixin: the default configuration first; skipped geometry is not a failure."""

    def __init__(
        self,
        *args,
        default_values: Mapping,
        geometry_problem: Callable[[Mapping], str | None],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.default_values = dict(default_values)
        self.geometry_problem = geometry_problem

    def _random_values(self):
        if not self.trials:
            values = {
                hp.name: self.default_values.get(hp.name, hp.default)
                for hp in self.hyperparameters.space
            }
            if not self._duplicate(values):
                return values
        return super()._random_values()

    def _check_consecutive_failures(self):
        consecutive = 0
        for trial_id in self.end_order:
            trial = self.trials[trial_id]
            if trial.status == TrialStatus.FAILED:
                if self.geometry_problem(trial.hyperparameters.values):
                    continue  # skipped before training: neither a failure nor a success
                consecutive += 1
            else:
                consecutive = 0
            if consecutive >= self.max_consecutive_failed_trials:
                raise RuntimeError(
                    f"{consecutive} consecutive trials failed (the limit is "
                    f"{self.max_consecutive_failed_trials}); the last said:\n"
                    f"{trial.message or '(no message)'}"
                )


class RandomOracle(_SearchRules, keras_tuner.oracles.RandomSearchOracle):
    """Random search with the default configuration first."""


class HyperbandOracle(_SearchRules, keras_tuner.oracles.HyperbandOracle):
    """Hyperband with the default configuration among its first candidates."""


class BayesianOracle(_SearchRules, keras_tuner.oracles.BayesianOptimizationOracle):
    """Bayesian optimization whose initial random points start with the default."""


class LoggedTuner(keras_tuner.Tuner):
    """A `keras_tuner.Tuner` that records each trial attempt as an MLflow child run.

    The child run holds the trial's hyperparameters as params, per-epoch
    metrics, the final ``score``, and ends FINISHED; a trial that raises ends
    FAILED with the reason in ``failure_reason`` (and ``convseq.skipped`` =
    ``invalid_geometry`` for a skipped geometry), KILLED on an interrupt.

    Args:
        oracle: One of this module's oracles.
        hypermodel: The hypermodel.
        trial_runs: Where child runs go; None logs nothing (the chief of a
            distributed search only serves the oracle).
        **kwargs: `keras_tuner.Tuner` arguments (directory, project_name,
            overwrite, executions_per_trial, ...).
    """

    def __init__(
        self,
        oracle,
        hypermodel,
        trial_runs: TrialRuns | None = None,
        trials_per_process: int = 0,
        **kwargs,
    ):
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.trial_runs = trial_runs
        self.trials_per_process = trials_per_process
        self.trials_in_process = 0

    def on_trial_end(self, trial):
        super().on_trial_end(trial)  # the oracle has the result before anything else
        self.trials_in_process += 1
        if self.trials_per_process and self.trials_in_process >= self.trials_per_process:
            raise WorkerRecycle()

    def run_trial(self, trial, *args, **kwargs):
        if self.trial_runs is None:
            return super().run_trial(trial, *args, **kwargs)
        run_id = self.trial_runs.start(trial.trial_id, trial.hyperparameters.values, self.tuner_id)
        kwargs["callbacks"] = [
            *kwargs.get("callbacks", []),
            TrialMetricsCallback(self.trial_runs, run_id),
        ]
        try:
            results = super().run_trial(trial, *args, **kwargs)
        except BaseException as error:
            self.trial_runs.fail(run_id, error, skipped=isinstance(error, InvalidGeometryError))
            raise
        metrics = tuner_utils.convert_to_metrics_dict(results, self.oracle.objective)
        self.trial_runs.log_epoch(run_id, 0, {PROCESS_RSS_METRIC: _rss_mb()})
        self.trial_runs.finish(run_id, self.oracle.objective.get_value(metrics))
        return results


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class LoggedHyperband(LoggedTuner, keras_tuner.Hyperband):
    """Hyperband's tuner (epochs per round, weights carried between rounds), logged."""


def make_tuner(
    kind: str,
    hypermodel,
    *,
    objective: keras_tuner.Objective,
    max_trials: int,
    epochs: int,
    seed: int,
    trial_runs: TrialRuns | None,
    directory: str,
    project_name: str,
    overwrite: bool = False,
    executions_per_trial: int = 1,
    hyperband_factor: int = 3,
    trials_per_process: int = 0,
) -> LoggedTuner:
    """A logged tuner of ``kind`` over ``hypermodel``.

    Args:
        kind: ``random``, ``hyperband`` or ``bayesian``.
        hypermodel: A hypermodel with ``default_values()`` and
            ``geometry_problem(values)`` (`models.hypermodels`).
        objective: What to optimize and in which direction.
        max_trials: Trials of random and bayesian search. Hyperband sizes its
            brackets from ``epochs`` and ``hyperband_factor`` instead; it stops
            at ``max_trials`` too.
        epochs: Epochs per trial (hyperband: the most a model gets).
        seed: Seed of the search.
        trial_runs: Where trials are logged.
        directory: Folder of the search state (resumable).
        project_name: Subfolder of this search.
        overwrite: Start afresh instead of resuming.
        executions_per_trial: Models trained per trial (scores averaged).
        hyperband_factor: Hyperband's reduction factor.
        trials_per_process: End the process (`WorkerRecycle`) after this many
            trials (0: never); for workers that a launcher restarts.

    Raises:
        ValueError: On an unknown ``kind``.
    """
    rules = {
        "objective": objective,
        "seed": seed,
        "default_values": hypermodel.default_values(),
        "geometry_problem": hypermodel.geometry_problem,
        "max_trials": max_trials,
    }
    if kind == "random":
        oracle, tuner_class = RandomOracle(**rules), LoggedTuner
    elif kind == "bayesian":
        oracle, tuner_class = BayesianOracle(**rules), LoggedTuner
    elif kind == "hyperband":
        rules.pop("max_trials")
        oracle = HyperbandOracle(max_epochs=epochs, factor=hyperband_factor, **rules)
        oracle.max_trials = max_trials
        tuner_class = LoggedHyperband
    else:
        raise ValueError(
            f"Invalid value for argument `tuner`. Expected one of {list(TUNERS)}. "
            f"Received tuner={kind!r}."
        )
    return tuner_class(
        oracle,
        hypermodel,
        trial_runs,
        trials_per_process,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        executions_per_trial=executions_per_trial,
    )
