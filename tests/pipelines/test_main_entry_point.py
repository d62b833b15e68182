"""The README's main job, end to end: `mlflow run .` on the full Fashion-MNIST."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.integration
def test_main_entry_point_reaches_the_accuracy_floor(tmp_path, fashion_mnist_dir):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlflow",
            "run",
            str(REPO_ROOT),
            "--env-manager",
            "local",
            "-P",
            f"export_dir={tmp_path / 'exports'}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    lines = dict(line.split(": ", 1) for line in completed.stdout.splitlines() if ": " in line)
    run = MlflowClient(uri).get_run(lines["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["train_examples"] == "54000"
    assert run.data.params["test_examples"] == "10000"
    assert run.data.metrics["test_accuracy"] >= 0.90
    assert Path(lines["export_path"]) == tmp_path / "exports" / "fashion_mnist_cnn" / "1"
