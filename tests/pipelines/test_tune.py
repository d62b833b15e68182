import json
import os
import signal
import subprocess
import sys
import time

import keras
import mlflow
import numpy as np
import psutil
import pytest
import tensorflow as tf

from data import load_dataset
from pipelines.processes import ChildFailedError
from pipelines.trial_runs import SKIPPED_TAG, TRIAL_TAG, TUNER_TAG, TrialRuns
from pipelines.tune import tune
from pipelines.tune_config import TuneConfig
from pipelines.tune_launch import distributed_role, launch_search_processes

# Digits are 8x8: with one block, "valid" padding and f=9 the map would be
# floor((8 - 9) / 1) + 1 = 0 pixels, so the search meets trials it must skip.
DIGITS_SEARCH = dict(
    task="classify",
    dataset="digits",
    filters="8",
    padding="valid",
    kernel_sizes="3,9",
    strides="1",
    paddings="valid",
    filter_choices="8,16",
    dense_units="32",
    epochs=3,
    batch_size=64,
)


def children_of(run_id, uri):
    return TrialRuns(run_id, uri).children()


def test_search_logs_every_trial_under_one_parent_and_exports_the_best(mlflow_store, tmp_path):
    config = TuneConfig(
        **DIGITS_SEARCH,
        max_trials=6,
        seed=3,
        directory=str(tmp_path / "tuning"),
        export_dir=str(tmp_path / "exports"),
    )
    result = tune(config)
    assert len(result.trials) == 6
    children = children_of(result.run_id, mlflow_store)
    assert len(children) == 6
    assert sorted(run.data.tags[TRIAL_TAG] for run in children) == sorted(
        row["trial_id"] for row in result.trials
    )
    skipped = [run for run in children if run.data.tags.get(SKIPPED_TAG)]
    finished = [run for run in children if run.info.status == "FINISHED"]
    assert skipped and len(skipped) + len(finished) == 6
    for run in skipped:
        assert run.info.status == "FAILED"
        assert run.data.params["block1_kernel_size"] == "9"
        assert "floor((8 + 2*0 - 9) / 1) + 1 = 0" in run.data.tags["failure_reason"]
    for run in finished:
        assert len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "val_accuracy")) == 3

    parent = mlflow.get_run(result.run_id)
    assert parent.info.status == "FINISHED"
    # the best score is the best child run's, as logged
    best_logged = max(run.data.metrics["score"] for run in finished)
    assert result.best_score == pytest.approx(best_logged)
    assert parent.data.metrics["best_score"] == pytest.approx(best_logged)
    # the first trial trains the train options, and its score is the default score
    default = children[0]
    assert default.data.tags[TRIAL_TAG] == result.trials[0]["trial_id"]
    assert {name: default.data.params[f"block1_{name}"] for name in ("kernel_size", "padding")} == {
        "kernel_size": str(config.kernel_size),
        "padding": config.padding,
    }
    assert default.data.params["block1_filters"] == "8"
    assert float(default.data.params["learning_rate"]) == pytest.approx(config.learning_rate)
    assert result.default_score == pytest.approx(default.data.metrics["score"])
    assert parent.data.metrics["default_score"] == pytest.approx(result.default_score)
    assert result.default_score > 0.5
    assert parent.data.metrics["trials_skipped"] == len(skipped)
    assert parent.data.params["best_block1_kernel_size"] == str(
        result.best_values["block1_kernel_size"]
    )
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result.run_id, "plots")}
    assert "plots/trials.png" in artifacts
    rows = json.loads(mlflow.artifacts.load_text(f"runs:/{result.run_id}/search/trials.json"))[
        "trials"
    ]
    assert [r["status"] for r in rows].count("SKIPPED") == len(skipped)

    # The export serves raw uint8 images and scores the test split as logged.
    _, splits = load_dataset("digits")
    loaded = tf.saved_model.load(str(result.export_path))
    served = loaded.serve(tf.constant(splits["test"].images))
    accuracy = np.mean(served["class_id"].numpy() == splits["test"].labels)
    assert accuracy == pytest.approx(result.test_metrics["test_accuracy"], abs=1e-6)
    assert accuracy > 0.8


def test_sentiment_search_tries_recurrent_stacks(mlflow_store, tmp_path):
    config = TuneConfig(
        task="sentiment",
        max_examples=400,
        epochs=1,
        sequence_length=24,
        encoder="rnn",  # the search is over the recurrent encoder
        units=16,
        embedding_dim=16,
        units_choices="16",
        embedding_dims="16",
        cells="gru,lstm",
        max_trials=2,
        directory=str(tmp_path / "tuning"),
        export_dir=str(tmp_path / "exports"),
    )
    result = tune(config)
    children = children_of(result.run_id, mlflow_store)
    assert [run.info.status for run in children] == ["FINISHED", "FINISHED"]
    assert children[0].data.params["cell"] == "lstm"  # the default configuration first
    assert {"cell", "units", "layers", "bidirectional", "clipnorm"} <= set(children[1].data.params)
    loaded = tf.saved_model.load(str(result.export_path))
    served = loaded.serve(tf.constant(["a tender, funny film", "dull and lifeless"]))
    assert served["probabilities"].shape == (2, 2)


def test_search_task_search_tunes_vector_length_and_margin_by_retrieval_map(
    mlflow_store, tmp_path, fashion_mnist_dir
):
    config = TuneConfig(
        task="search",
        dataset="fashion_mnist",
        max_examples=500,
        epochs=2,
        batch_size=50,
        filters="8",
        embedding_sizes="16,32",
        margins="0.2,0.5",
        max_trials=3,
        directory=str(tmp_path / "tuning"),
        export_dir=str(tmp_path / "exports"),
    )
    assert config.objective == "val_map_at_10" and config.objective_direction == "max"
    result = tune(config)
    children = children_of(result.run_id, mlflow_store)
    assert [run.info.status for run in children] == ["FINISHED"] * 3
    first = children[0].data
    assert (first.params["embedding_size"], first.params["margin"]) == ("128", "0.5")  # default
    for run in children:  # every epoch scored by retrieval on the held-out images
        history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "val_map_at_10")
        assert len(history) == 2 and all(0 < point.value <= 1 for point in history)
    assert 0 < result.best_score <= 1
    assert result.best_score == max(row["score"] for row in result.trials)
    assert result.test_metrics["test_precision_at_10"] > 0.4  # 10 classes: chance is 0.1
    loaded = tf.saved_model.load(str(result.export_path))
    _, splits = load_dataset("fashion_mnist")
    found = loaded.serve(tf.constant(splits["test"].images[:3]))
    size = int(result.best_values["embedding_size"])
    assert found["item_ids"].shape == (3, 10)
    embed = tf.saved_model.load(mlflow.get_run(result.run_id).data.tags["embed_export_path"])
    assert embed.serve(tf.constant(splits["test"].images[:1]))["embedding"].shape == (1, size)


def test_invalid_settings_are_refused_before_any_work(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="searches \\['classify', 'sentiment', 'search', 'ocr'\\]"):
        TuneConfig(task="forecast")
    with pytest.raises(ValueError, match="Received objective='val_auc'"):
        TuneConfig(objective="val_auc")
    with pytest.raises(ValueError, match="Task search trials report val_map_at_10"):
        TuneConfig(task="search", objective="val_accuracy")
    with pytest.raises(ValueError, match="Task classify trials report val_accuracy"):
        TuneConfig(objective="val_map_at_10")
    with pytest.raises(ValueError, match="not the classifier's features"):
        TuneConfig(task="search", embedder="classifier")
    with pytest.raises(ValueError, match="searched for task search"):
        TuneConfig(margins="0.3")
    with pytest.raises(ValueError, match="Received tuner='grid'"):
        TuneConfig(tuner="grid")
    with pytest.raises(ValueError, match="Received paddings='same,full'"):
        TuneConfig(paddings="same,full")
    with pytest.raises(ValueError, match="learning_rate=0.05 .* outside"):
        TuneConfig(learning_rate=0.05)
    with pytest.raises(ValueError, match="`resume_run_id` applies to train, not tune"):
        TuneConfig(resume_run_id="0123")
    with pytest.raises(ValueError, match="`checkpoint_dir` applies to train, not tune"):
        TuneConfig(checkpoint_dir="elsewhere")
    with pytest.raises(ValueError, match="`kernel_sizes` is searched for task classify or ocr"):
        TuneConfig(task="sentiment", kernel_sizes="3")
    with pytest.raises(ValueError, match="`units_choices` is searched for task sentiment or ocr"):
        TuneConfig(task="classify", units_choices="16")
    # the train option `workers` (processes training one model) is not the search's processes
    with pytest.raises(ValueError, match="use search_workers. Received workers=2"):
        TuneConfig(dataset="digits", filters="8", workers=2)
    assert TuneConfig(task="sentiment", search_workers=2).train_config().workers == 1
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_IP"):
        distributed_role()
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    assert distributed_role() == "worker"
    with pytest.raises(ValueError, match="search_workers=2 starts its own chief"):
        tune(TuneConfig(dataset="digits", filters="8", search_workers=2, directory=str(tmp_path)))


class CountTrainings(keras.callbacks.Callback):
    """Counts every model fit in this process (Keras Tuner deep-copies callbacks per trial)."""

    fits = []  # a class attribute: the copies share it

    def on_train_begin(self, logs=None):
        CountTrainings.fits.append(1)


def store_runs(uri):
    client = mlflow.MlflowClient(uri)
    return client.search_runs([e.experiment_id for e in client.search_experiments()])


def test_a_rerun_continues_only_a_comparable_search(mlflow_store, tmp_path, monkeypatch):
    small = dict(
        DIGITS_SEARCH,
        kernel_sizes="3,5",
        pool_sizes="2",
        epochs=1,
        max_examples=400,
        seed=7,
        directory=str(tmp_path / "tuning"),
        export_dir=str(tmp_path / "exports"),
    )
    CountTrainings.fits.clear()
    first = tune(TuneConfig(**small, max_trials=2), extra_callbacks=[CountTrainings()])
    assert len(CountTrainings.fits) == 2
    first_children = children_of(first.run_id, mlflow_store)
    assert len(first_children) == 2
    runs_before = len(store_runs(mlflow_store))

    # other epochs: refused before any work, naming the option, both values and the ways out
    with pytest.raises(ValueError) as refused:
        tune(TuneConfig(**{**small, "epochs": 2}, max_trials=2))
    message = str(refused.value)
    assert "epochs: '1' -> '2'" in message
    assert "--project_name <other>" in message and "--overwrite true" in message
    assert "max_trials" not in message.split("would not be comparable")[1].split(". Rerun")[0]
    # another tracking store would hold new trials apart from the saved ones
    other_uri = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", other_uri)
    mlflow.set_tracking_uri(other_uri)
    with pytest.raises(ValueError, match=f"tracking_uri: '{mlflow_store}' -> '{other_uri}'"):
        tune(TuneConfig(**small, max_trials=2))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    mlflow.set_tracking_uri(mlflow_store)
    assert len(store_runs(mlflow_store)) == runs_before

    # more trials: the search continues; the two saved trials are not trained again
    CountTrainings.fits.clear()
    more = tune(TuneConfig(**small, max_trials=4), extra_callbacks=[CountTrainings()])
    assert len(CountTrainings.fits) == 2
    assert [row["trial_id"] for row in more.trials] == ["0", "1", "2", "3"]
    children = children_of(more.run_id, mlflow_store)
    assert sorted(run.data.tags[TRIAL_TAG] for run in children) == ["0", "1", "2", "3"]
    assert {run.info.run_id for run in first_children} < {run.info.run_id for run in children}
    assert all(run.info.status == "FINISHED" for run in children)
    parent = mlflow.get_run(more.run_id)
    assert parent.data.params["max_trials"] == "4"
    assert parent.data.tags["resumed_from"] == first.run_id
    assert more.best_score == pytest.approx(max(r.data.metrics["score"] for r in children))


@pytest.mark.slow  # two processes importing TensorFlow: about 30 s on 2 cores
@pytest.mark.integration
def test_a_failed_search_process_stops_the_others_and_shows_its_end(
    mlflow_store, tmp_path, monkeypatch
):
    # Every process is handed an option argparse refuses, so each exits with status 2.
    monkeypatch.setattr("pipelines.tune_launch.cli_arguments", lambda config: ["--epochs", "none"])
    config = TuneConfig(**DIGITS_SEARCH, directory=str(tmp_path / "tuning"))
    with mlflow.start_run() as parent:
        trial_runs = TrialRuns(parent.info.run_id, mlflow_store)
        with pytest.raises(ChildFailedError) as raised:
            launch_search_processes(config, 1, trial_runs, tmp_path / "tuning" / "search")
    message = str(raised.value)
    assert message.startswith("A search process failed; all were stopped.")
    assert "exited with status 2; the end of " in message
    assert "Received epochs='none'" in message  # the last lines of its log
    failed = raised.value.failures[0]
    assert failed.name in ("chief", "tuner0")
    assert failed.log == tmp_path / "tuning" / "search" / "logs" / f"{failed.name}.log"
    leftovers = [
        p
        for p in psutil.Process().children(recursive=True)
        if "pipelines.cli" in " ".join(p.cmdline())
    ]
    assert not leftovers


def cli_command(tmp_path, **options):
    arguments = [sys.executable, "-m", "pipelines.cli", "tune"]
    for name, value in {**DIGITS_SEARCH, **options}.items():
        arguments += [f"--{name}", str(value)]
    arguments += [
        "--directory",
        str(tmp_path / "tuning"),
        "--export_dir",
        str(tmp_path / "exports"),
    ]
    return arguments


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow  # make test-slow: keeps make test under 15 minutes on 2 cores
def test_a_search_killed_mid_trial_resumes_without_duplicates(mlflow_store, tmp_path):
    # Six trials of 6 epochs on the full fashion_mnist would take minutes: a
    # trial of digits takes a few seconds, long enough to be killed in.
    command = cli_command(tmp_path, max_trials=5, epochs=12, seed=5, kernel_sizes="3,5")
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store}
    first = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        client = mlflow.MlflowClient(mlflow_store)

        def mid_trial():
            runs = client.search_runs(
                [e.experiment_id for e in client.search_experiments()],
                filter_string=f"tags.`{TRIAL_TAG}` != ''",
            )
            statuses = [r.info.status for r in runs]
            return statuses.count("FINISHED") >= 2 and "RUNNING" in statuses

        wait_for(mid_trial, 240, "two finished trials and a running one")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    resumed = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in resumed.stdout.splitlines() if ": " in line)
    parents = [
        r
        for r in mlflow.search_runs(search_all_experiments=True, output_format="list")
        if TRIAL_TAG not in r.data.tags
    ]
    assert [p.info.run_id for p in parents] == [lines["run_id"]]  # the same parent run
    assert parents[0].info.status == "FINISHED"
    children = children_of(lines["run_id"], mlflow_store)
    by_status = {}
    for run in children:
        by_status.setdefault(run.info.status, []).append(run.data.tags[TRIAL_TAG])
    assert "RUNNING" not in by_status
    finished = by_status["FINISHED"] + by_status.get("FAILED", [])
    assert sorted(finished) == sorted(set(finished))  # no trial ran to the end twice
    assert len(finished) == 5 == int(lines["trials"])
    killed = by_status["KILLED"]
    assert len(killed) == 1 and killed[0] in by_status["FINISHED"]  # rerun once, to the end


@pytest.mark.slow  # make test-slow: keeps make test under 15 minutes on 2 cores
def test_two_workers_share_one_search_and_exit(mlflow_store, tmp_path):
    # Each worker also ends after 2 trials and is started afresh (trials_per_process).
    config = TuneConfig(
        **DIGITS_SEARCH,
        max_trials=5,
        seed=11,
        search_workers=2,
        trials_per_process=2,
        directory=str(tmp_path / "tuning"),
        export_dir=str(tmp_path / "exports"),
    )
    result = tune(config)
    children = children_of(result.run_id, mlflow_store)
    assert len(children) == 5 == len(result.trials)
    assert len({run.data.tags[TRIAL_TAG] for run in children}) == 5
    assert {run.data.tags[TUNER_TAG] for run in children} == {"tuner0", "tuner1"}
    assert all(run.info.status in ("FINISHED", "FAILED") for run in children)
    parent = mlflow.get_run(result.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["worker_restarts"] >= 1
    finished = [run for run in children if run.info.status == "FINISHED"]
    assert all(run.data.metrics["process_rss_mb"] > 100 for run in finished)
    leftovers = [
        p
        for p in psutil.Process().children(recursive=True)
        if "pipelines.cli" in " ".join(p.cmdline())
    ]
    assert not leftovers
    assert result.export_path.is_dir()


@pytest.mark.slow  # make test-slow: keeps make test under 15 minutes on 2 cores
@pytest.mark.integration
def test_mlflow_run_tune_entry_point_and_rerun_adopts_the_trials(tmp_path, run_mlflow_project):
    """`mlflow run . -e tune` logs the search; a rerun continues it under its new run."""
    parameters = []
    for name, value in {
        **DIGITS_SEARCH,
        "max_trials": 2,
        "epochs": 1,
        "directory": tmp_path / "tuning",
        "export_dir": tmp_path / "exports",
    }.items():
        parameters += ["-P", f"{name}={value}"]
    first, uri = run_mlflow_project("-e", "tune", *parameters)
    lines = dict(line.split(": ", 1) for line in first.stdout.splitlines() if ": " in line)
    assert lines["trials"] == "2" and "best_score" in lines
    first_parent = lines["run_id"]
    assert len(children_of(first_parent, uri)) == 2

    second, _ = run_mlflow_project("-e", "tune", *parameters)
    lines = dict(line.split(": ", 1) for line in second.stdout.splitlines() if ": " in line)
    second_parent = lines["run_id"]
    assert second_parent != first_parent  # mlflow run starts a new run each time
    children = children_of(second_parent, uri)
    assert sorted(run.data.tags[TRIAL_TAG] for run in children) == ["0", "1"]  # nothing rerun
    client = mlflow.MlflowClient(uri)
    assert client.get_run(first_parent).data.tags["resumed_by"] == second_parent
    assert client.get_run(second_parent).data.tags["resumed_from"] == first_parent
    assert client.get_run(second_parent).info.status == "FINISHED"
    assert (tmp_path / "exports" / "digits_cnn_tuned" / "2" / "saved_model.pb").is_file()
