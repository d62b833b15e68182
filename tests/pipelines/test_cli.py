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
            "1",
            "--max_examples",
            "300",
            "--filters",
            "8",
            "--export_dir",
            str(tmp_path / "exports"),
        ]
    )
    assert code == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    run = MlflowClient(mlflow_store).get_run(lines["run_id"])
    assert run.info.status == "FINISHED"
    assert lines["tracking_uri"] == mlflow_store
    assert Path(lines["export_path"]) == tmp_path / "exports" / "digits_cnn" / "1"
    assert float(lines["test_accuracy"]) == pytest.approx(
        run.data.metrics["test_accuracy"], abs=1e-4
    )


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
    assert "`filters` applies to task classify, not task='sentiment'" in capsys.readouterr().err


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
