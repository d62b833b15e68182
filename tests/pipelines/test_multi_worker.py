"""Multi-worker training: real worker processes on 127.0.0.1 under MultiWorkerMirroredStrategy."""

import glob
import json
import os
import subprocess
import sys
import tempfile

import keras
import mlflow
import psutil
import pytest
from mlflow.tracking import MlflowClient

from pipelines.config import TrainConfig
from pipelines.multi_worker import (
    WorkerFailedError,
    WorkerRole,
    launch_local_workers,
    weights_digest,
    worker_role,
)
from pipelines.train import train


def _tf_config(index, workers=2):
    cluster = {"worker": [f"127.0.0.1:{2000 + i}" for i in range(workers)]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def test_the_role_comes_from_tf_config():
    assert worker_role({}) is None
    assert worker_role({"TF_CONFIG": _tf_config(0)}) == WorkerRole(0, 2)
    assert worker_role({"TF_CONFIG": _tf_config(1)}).is_chief is False
    with pytest.raises(ValueError, match="not a cluster description"):
        worker_role({"TF_CONFIG": "{not json"})
    with pytest.raises(ValueError, match="index into cluster.worker"):
        worker_role({"TF_CONFIG": _tf_config(2)})
    chief_task = json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}})
    with pytest.raises(ValueError, match="no separate chief task"):
        worker_role({"TF_CONFIG": chief_task})
    with pytest.raises(ValueError, match="applies to task classify"):
        TrainConfig(task="sentiment", workers=2)


def test_the_weights_digest_changes_with_any_weight():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    before = weights_digest(model)
    assert before == weights_digest(model) and len(before) == 64
    kernel = model.layers[0].kernel
    kernel.assign(kernel + 1e-7)
    assert weights_digest(model) != before


def test_two_workers_train_one_model_like_one_process(mlflow_store, tmp_path, process_environment):
    common = {"dataset": "digits", "epochs": 4, "batch_size": 32, "learning_rate": 3e-3, "seed": 5}
    single = train(TrainConfig(**common, export_dir=str(tmp_path / "single")))
    scratch_before = set(glob.glob(os.path.join(tempfile.gettempdir(), "convseq-worker*")))

    uri = f"sqlite:///{tmp_path / 'workers.db'}"
    options = [f"--{name}={value}" for name, value in common.items()]
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "train", *options, "--workers=2"]
        + [f"--export_dir={tmp_path / 'exports'}"],
        cwd=tmp_path,
        env=process_environment(uri),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in completed.stdout.splitlines() if ": " in line)
    # both workers end with bit-identical weights
    assert lines["worker_0_weights_sha256"] == lines["worker_1_weights_sha256"]
    assert lines["weights_sha256"] == lines["worker_0_weights_sha256"]
    assert completed.stdout.count("run_id: ") == 1  # result lines printed once

    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [r.info.run_id for r in runs] == [lines["run_id"]]  # exactly one MLflow run
    run = runs[0]
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["distribution_strategy"] == "multi_worker" and tags["workers"] == "2"
    assert tags["replicas"] == "2" and run.data.params["global_batch_size"] == "64"
    assert tags["weights_sha256"] == lines["weights_sha256"]
    for metric in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, metric)] == [0, 1, 2, 3]
    # exactly one export, by the chief
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["digits_cnn"]
    assert sorted(p.name for p in (tmp_path / "exports" / "digits_cnn").iterdir()) == ["1"]
    # the same accuracy floor as one process on the same data
    floor = 0.85
    assert single.test_metrics["test_accuracy"] >= floor
    assert run.data.metrics["test_accuracy"] >= floor
    # the non-chief's scratch store and the checkpoints are gone
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "convseq-worker*"))) == scratch_before
    assert not (tmp_path / "checkpoints" / run.info.run_id).exists()
    assert mlflow.get_tracking_uri() == mlflow_store


def test_a_failing_worker_stops_the_run_with_its_message(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    monkeypatch.chdir(tmp_path)
    # every worker refuses: TF_CONFIG will describe 2 workers, the option says 3
    with pytest.raises(WorkerFailedError, match="run every worker with --workers 2") as raised:
        launch_local_workers(["--dataset=digits", "--workers=3"], 2)
    message = str(raised.value)
    assert message.startswith("A worker of the multi-worker run failed; all were stopped.")
    assert "exited with status 2; the end of its output:" in message
    assert {failure.name for failure in raised.value.failures} <= {"worker 0", "worker 1"}
    assert all(failure.status == 2 for failure in raised.value.failures)
    leftovers = [
        p
        for p in psutil.Process().children(recursive=True)
        if "pipelines.cli" in " ".join(p.cmdline())
    ]
    assert not leftovers
    with pytest.raises(ValueError, match="Expected 2 or more workers. Received count=1"):
        launch_local_workers(["--dataset=digits"], 1)
