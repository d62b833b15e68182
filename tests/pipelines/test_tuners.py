import keras_tuner
import mlflow
import numpy as np
import pytest
from keras_tuner.src.engine.trial import Trial, TrialStatus
from sklearn.datasets import load_digits

from models.hypermodels import CNNHyperModel
from pipelines.trial_runs import SKIPPED_TAG, TRIAL_TAG, TrialRuns
from pipelines.tuners import RandomOracle, make_tuner


def digits_arrays():
    digits = load_digits()
    images = (digits.images * 16).clip(0, 255).astype("uint8")[..., None]
    return images[:1200], digits.target[:1200], images[1200:], digits.target[1200:]


def small_space(**overrides):
    options = dict(
        blocks=1,
        kernel_sizes=(3, 9),
        strides=(1,),
        paddings=("valid",),
        filters=(8,),
        dense_units=(16, 32),
        defaults={"padding": "valid", "filters": (8,), "dense_units": 16, "learning_rate": 0.01},
    )
    options.update(overrides)
    return CNNHyperModel((8, 8, 1), 10, **options)


def oracle_with(statuses_and_kernels, hypermodel):
    oracle = RandomOracle(
        objective=keras_tuner.Objective("val_accuracy", "max"),
        max_trials=20,
        default_values=hypermodel.default_values(),
        geometry_problem=hypermodel.geometry_problem,
    )
    for index, (status, kernel) in enumerate(statuses_and_kernels):
        hp = keras_tuner.HyperParameters()
        hypermodel.declare_hyperparameters(hp)
        hp.values["block1_kernel_size"] = kernel
        trial = Trial(hp, trial_id=str(index), status=status)
        oracle.trials[trial.trial_id] = trial
        oracle.end_order.append(trial.trial_id)
    return oracle


def test_skipped_geometry_never_counts_toward_the_failure_limit():
    hypermodel = small_space()
    # Five skipped trials in a row (kernel 9 on an 8x8 image) and two real failures.
    oracle = oracle_with(
        [(TrialStatus.FAILED, 9)] * 5 + [(TrialStatus.FAILED, 3)] * 2 + [(TrialStatus.FAILED, 9)],
        hypermodel,
    )
    oracle._check_consecutive_failures()  # does not raise
    oracle = oracle_with(
        [(TrialStatus.FAILED, 3), (TrialStatus.FAILED, 9)] * 2 + [(TrialStatus.FAILED, 3)],
        hypermodel,
    )
    with pytest.raises(RuntimeError, match="3 consecutive trials failed"):
        oracle._check_consecutive_failures()


def test_a_completed_trial_resets_the_failure_count():
    hypermodel = small_space()
    oracle = oracle_with(
        [(TrialStatus.FAILED, 3)] * 2
        + [(TrialStatus.COMPLETED, 3)]
        + [(TrialStatus.FAILED, 3)] * 2,
        hypermodel,
    )
    oracle._check_consecutive_failures()


@pytest.mark.parametrize(
    "kind",
    [
        "random",
        # make test-slow: keeps make test under 15 minutes on 2 cores
        pytest.param("bayesian", marks=pytest.mark.slow),
        pytest.param("hyperband", marks=pytest.mark.slow),
    ],
)
def test_every_tuner_type_runs_and_logs_each_trial(kind, mlflow_store, tmp_path):
    x, y, x_val, y_val = digits_arrays()
    hypermodel = small_space()
    with mlflow.start_run() as parent:
        runs = TrialRuns(parent.info.run_id, mlflow_store)
        tuner = make_tuner(
            kind,
            hypermodel,
            objective=keras_tuner.Objective("val_accuracy", "max"),
            max_trials=4,
            epochs=3,
            seed=1,
            trial_runs=runs,
            directory=str(tmp_path / "search"),
            project_name=kind,
        )
        tuner.search(x, y, validation_data=(x_val, y_val), epochs=3, batch_size=64, verbose=0)
    trials = [tuner.oracle.trials[t] for t in sorted(tuner.oracle.trials)]
    # The learning rate and dropout are continuous, so no tuner runs out of new
    # values: each stops at max_trials (hyperband's brackets would hold more).
    assert len(trials) == 4
    # The first trial is the default configuration: the baseline the search must beat.
    first = trials[0].hyperparameters.values
    assert {k: first[k] for k in hypermodel.default_values()} == hypermodel.default_values()
    children = runs.children()
    assert len(children) == len(trials)
    assert {run.data.tags[TRIAL_TAG] for run in children} == set(tuner.oracle.trials)
    for run, trial in zip(children, trials):
        if trial.status == TrialStatus.COMPLETED:
            assert run.info.status == "FINISHED"
            assert run.data.metrics["score"] == pytest.approx(trial.score)
            history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "val_accuracy")
            assert len(history) >= 1
            assert run.data.params["block1_kernel_size"] == str(
                trial.hyperparameters["block1_kernel_size"]
            )
        else:
            assert run.info.status == "FAILED"
            assert run.data.tags[SKIPPED_TAG] == "invalid_geometry"
            assert "floor((8 + 2*0 - 9) / 1) + 1 = 0" in run.data.tags["failure_reason"]
    best = tuner.oracle.get_best_trials(1)[0]
    # the oracle's best is the best score the child runs logged
    logged = [run.data.metrics["score"] for run in children if "score" in run.data.metrics]
    assert len(logged) == sum(t.status == TrialStatus.COMPLETED for t in trials) >= 1
    assert best.score == pytest.approx(max(logged))
    assert next(r for r in children if r.data.tags[TRIAL_TAG] == best.trial_id).data.metrics[
        "score"
    ] == pytest.approx(best.score)
    # Ten digit classes (chance 0.1); hyperband's first rounds train one epoch only.
    assert best.score > (0.25 if kind == "hyperband" else 0.5)
    assert np.isfinite(best.score)
