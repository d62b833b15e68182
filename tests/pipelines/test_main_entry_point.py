"""The README's main job, end to end: `mlflow run .` on the full Fashion-MNIST."""

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient


@pytest.mark.slow
@pytest.mark.integration
def test_main_entry_point_reaches_the_accuracy_floor(
    tmp_path, fashion_mnist_dir, run_mlflow_project
):
    completed, uri = run_mlflow_project("-P", f"export_dir={tmp_path / 'exports'}")
    lines = dict(line.split(": ", 1) for line in completed.stdout.splitlines() if ": " in line)
    run = MlflowClient(uri).get_run(lines["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["train_examples"] == "54000"
    assert run.data.params["test_examples"] == "10000"
    assert run.data.metrics["test_accuracy"] >= 0.90
    assert Path(lines["export_path"]) == tmp_path / "exports" / "fashion_mnist_cnn" / "1"
