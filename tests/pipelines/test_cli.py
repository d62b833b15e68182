import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from data import DataLocations
from pipelines.cli import data_locations_from_environment, main


def test_convseq_train_prints_run_uri_and_export(mlflow_store, tmp_path, capsys):
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--epochs",
            "4",
            "--learning_rate",
            "0.01",
            "--max_examples",
            "600",
            "--filters",
            "8",
            "--export_dir",
            str(tmp_path / "exports"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    lines = dict(line.split(": ", 1) for line in out if line.partition(": ")[0].isidentifier())
    run = MlflowClient(mlflow_store).get_run(lines["run_id"])
    assert run.info.status == "FINISHED"
    assert lines["tracking_uri"] == mlflow_store
    assert Path(lines["export_path"]) == tmp_path / "exports" / "digits_cnn" / "1"
    assert float(lines["test_accuracy"]) == pytest.approx(
        run.data.metrics["test_accuracy"], abs=1e-4
    )
    # four epochs over 600 digits beat chance (0.1) by far
    assert run.data.metrics["test_accuracy"] > 0.7


@pytest.mark.parametrize(
    "argv", [["--help"], ["train", "--help"], ["tune", "--help"], ["predict", "--help"]]
)
def test_help_answers_at_once_without_tensorflow(argv):
    code = (
        "import sys, time\n"
        "from pipelines.cli import main\n"
        "start = time.perf_counter()\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'mlflow', 'keras_tuner')\n"
        "         if m in sys.modules]\n"
        "print('HEAVY', heavy, 'SECONDS', time.perf_counter() - start)\n"
    )
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    whole = time.perf_counter() - started
    assert "usage: convseq" in completed.stdout
    assert "HEAVY [] SECONDS" in completed.stdout, completed.stdout[-300:]
    assert float(completed.stdout.split("SECONDS")[-1]) < 1.0  # import, parse and print
    assert whole < 5  # the whole process, Python start-up included (about 0.5 s alone)


def test_an_error_inside_keras_is_shown_with_its_traceback_not_as_usage(
    monkeypatch, capsys, mlflow_store
):
    import keras

    from pipelines import cli

    def run(config):
        keras.layers.Dense(units=-3)  # Keras raises ValueError deep inside its own code
        return {}

    monkeypatch.setitem(cli.COMMANDS, "train", dataclasses.replace(cli.COMMANDS["train"], run=run))
    assert main(["train", "--dataset", "digits"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "keras" in err and "failed inside keras" in err
    assert "error: " not in err.splitlines()[-1]


def test_an_error_inside_fit_is_not_taken_for_a_usage_error(monkeypatch, capsys):
    import keras
    import numpy as np

    from pipelines import cli

    def run(config):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(loss="mse")
        model.fit(np.zeros((4, 5)), np.zeros((4, 2)), verbose=0)  # 5 features, 3 expected
        return {}

    monkeypatch.setitem(cli.COMMANDS, "train", dataclasses.replace(cli.COMMANDS["train"], run=run))
    try:
        assert main(["train", "--dataset", "digits"]) == 1
    finally:
        keras.config.enable_traceback_filtering()
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "failed inside" in err


def test_our_own_value_errors_are_usage_errors_without_traceback(monkeypatch, capsys):
    from pipelines import cli

    def run(config):
        raise ValueError("Invalid value for argument `dataset`: 'x' is no catalog dataset.")

    monkeypatch.setitem(cli.COMMANDS, "train", dataclasses.replace(cli.COMMANDS["train"], run=run))
    assert main(["train", "--dataset", "digits"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "convseq train: error: Invalid value" in err


def test_bad_option_values_exit_2_with_the_value_named(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--padding", "full"])
    assert exit_info.value.code == 2
    assert "Received padding='full'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--epochs", "-2"])
    assert "Received epochs=-2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--task", "sentiment", "--filters", "8"])
    error = capsys.readouterr().err
    assert (
        "`filters` applies to task classify, search, ocr, speech_commands, speech_digits or "
        "faces, "
        "not task='sentiment'"
    ) in error


def test_data_locations_follow_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert data_locations_from_environment().keras_home == tmp_path / "kh"


def test_missing_data_exits_2_with_where_it_looked(mlflow_store, tmp_path, monkeypatch, capsys):
    offline = DataLocations(
        keras_home=tmp_path / "keras", system_datasets=tmp_path / "none", probe=lambda host: False
    )
    monkeypatch.setattr("pipelines.cli.data_locations_from_environment", lambda: offline)
    code = main(["train", "--export_dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "keras" / "datasets" / "fashion-mnist") in err
    assert "apt-get install dataset-fashion-mnist" in err
    runs = MlflowClient(mlflow_store).search_runs(
        [mlflow.get_experiment_by_name("test").experiment_id]
    )
    assert [r.info.status for r in runs] == ["FAILED"]


@pytest.mark.integration
def test_mlflow_run_train_entry_point(tmp_path, run_mlflow_project):
    """`mlflow run . -e train` runs the same pipeline, logging each parameter once."""
    completed, uri = run_mlflow_project(
        "-e",
        "train",
        "-P",
        "dataset=digits",
        "-P",
        "epochs=2",
        "-P",
        "learning_rate=3e-3",
        "-P",
        "filters=8,16",
        "-P",
        f"export_dir={tmp_path / 'ex'}",
        "-P",
        f"checkpoint_dir={tmp_path / 'checkpoints'}",
    )
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["learning_rate"] == "3e-3"  # as mlflow run logged it
    assert run.data.params["filters"] == "8,16"
    # batch_size 0 means the task's default: the value used is logged next to it
    assert run.data.params["batch_size"] == "0"
    assert run.data.params["resolved_batch_size"] == "128"
    assert "resolved_learning_rate" not in run.data.params  # 3e-3 == 0.003
    assert len(client.get_metric_history(run.info.run_id, "val_accuracy")) == 2
    assert run.data.metrics["test_accuracy"] > 0.5
    assert (tmp_path / "ex" / "digits_cnn" / "1" / "saved_model.pb").is_file()
    assert f"run_id: {run.info.run_id}" in completed.stdout


@pytest.mark.slow  # make test-slow: keeps make test under 15 minutes on 2 cores
@pytest.mark.integration
def test_mlflow_run_train_entry_point_takes_a_sequence_task(tmp_path, run_mlflow_project):
    """`mlflow run . -e train -P task=forecast` trains the forecaster on the default series."""
    completed, uri = run_mlflow_project(
        "-e",
        "train",
        "-P",
        "task=forecast",
        "-P",
        "epochs=3",
        "-P",
        "cell=gru",
        "-P",
        f"export_dir={tmp_path / 'ex'}",
        "-P",
        f"checkpoint_dir={tmp_path / 'checkpoints'}",
    )
    client = MlflowClient(uri)
    run = client.search_runs([client.get_experiment_by_name("Default").experiment_id])[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["task"] == "forecast"
    assert run.data.params["dataset"] in ("", "''")  # mlflow run logs it shell-quoted
    assert run.data.params["resolved_dataset"] == "sunspots"
    assert run.data.metrics["test_mae"] > 0 and "test_mase" in run.data.metrics
    assert (tmp_path / "ex" / "sunspots_gru_forecaster" / "1" / "saved_model.pb").is_file()
