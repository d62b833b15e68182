"""Resume: a run killed (SIGKILL) or failed mid-training continues in the same MLflow run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipelines import fitting
from pipelines.config import TrainConfig
from pipelines.resume import ResumeError
from pipelines.train import train

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def _cli(*args):
    return [sys.executable, "-m", "pipelines.cli", "train", *args]


def _all_runs(client):
    experiments = client.search_experiments()
    return client.search_runs([e.experiment_id for e in experiments], run_view_type=3)


def start_and_kill_in_epoch_3(command, folder: Path, env, client) -> str:
    """Starts a training command in ``folder`` and SIGKILLs it during its third epoch.

    Returns the run id.
    """
    started = subprocess.Popen(
        command,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        return kill_during_epoch(started, client, folder / "checkpoints", epochs_done=2)
    finally:
        started.stdout.close()


def kill_during_epoch(process, client, checkpoints: Path, epochs_done: int, timeout=300):
    """SIGKILLs a training process group once ``epochs_done`` epochs are saved and logged.

    Returns the run id.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        runs = [r for r in _all_runs(client) if r.info.status == "RUNNING"]
        if runs:
            run_id = runs[0].info.run_id
            saved = list(checkpoints.glob(f"{run_id}/*/epoch-{epochs_done:04d}.weights.h5"))
            steps = [m.step for m in client.get_metric_history(run_id, "val_loss")]
            if saved and len(steps) == epochs_done:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
                return run_id
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"{epochs_done} epochs were not saved within {timeout} s")


def _assert_one_complete_history(client, run_id, epochs):
    for metric in METRICS:
        steps = [m.step for m in client.get_metric_history(run_id, metric)]
        assert steps == list(range(epochs)), (metric, steps)


def test_kill_9_during_epoch_3_then_resume_finishes_the_same_run(
    tmp_path, fashion_mnist_dir, monkeypatch, process_environment
):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    options = ("--max_examples", "3000", "--epochs", "5", "--seed", "3")
    run_id = start_and_kill_in_epoch_3(
        _cli(*options, "--export_dir", "exports"), tmp_path, process_environment(uri), client
    )
    killed = client.get_run(run_id)
    assert killed.info.status == "RUNNING"  # SIGKILL: nobody could end it
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [0, 1]

    resumed = subprocess.run(
        _cli("--resume", run_id),
        cwd=tmp_path,
        env=process_environment(uri),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming train after epoch 2" in resumed.stdout
    assert f"run_id: {run_id}" in resumed.stdout
    assert "Epoch 1/5" not in resumed.stdout and "Epoch 3/5" in resumed.stdout

    runs = _all_runs(client)
    assert [r.info.run_id for r in runs] == [run_id]  # no second run
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["resumes"] == "1"
    _assert_one_complete_history(client, run_id, 5)
    assert run.data.metrics["test_accuracy"] > 0.7
    assert not (tmp_path / "checkpoints" / run_id).exists()  # finished: checkpoints removed
    assert (tmp_path / "exports" / "fashion_mnist_cnn" / "1" / "saved_model.pb").is_file()


class _FailAtEpoch:
    """Wraps `fitting.callbacks` to raise at the start of one epoch, once."""

    def __init__(self, epoch):
        import keras

        outer = self

        class Fail(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == outer.epoch:
                    raise RuntimeError(f"machine lost at epoch {epoch + 1}")

        self.epoch = epoch
        self.callback = Fail()
        self.original = fitting.callbacks

    def __call__(self, config, skip_steps=()):
        return [*self.original(config, skip_steps), self.callback]


def test_a_failed_run_resumed_under_mlflow_run_stays_the_only_run(
    mlflow_store, tmp_path, monkeypatch
):
    config = TrainConfig(dataset="digits", epochs=4, batch_size=64, seed=2, export_dir="ex")
    failing = _FailAtEpoch(2)
    monkeypatch.setattr(fitting, "callbacks", failing)
    with pytest.raises(RuntimeError, match="machine lost at epoch 3"):
        train(config)
    monkeypatch.setattr(fitting, "callbacks", failing.original)
    client = MlflowClient(mlflow_store)
    (failed,) = _all_runs(client)
    assert failed.info.status == "FAILED"
    assert "machine lost" in failed.data.tags["failure_reason"]
    folder = Path(failed.data.tags["checkpoint_dir"])
    assert sorted(p.name for p in (folder / "train").glob("epoch-*")) == [
        "epoch-0002.json",
        "epoch-0002.weights.h5",
    ]

    # `mlflow run -P resume_run_id=...` starts a run of its own before we get control
    wrapper = client.create_run(failed.info.experiment_id)
    monkeypatch.setenv("MLFLOW_RUN_ID", wrapper.info.run_id)
    result = train(TrainConfig(resume_run_id=failed.info.run_id))
    assert result.run_id == failed.info.run_id
    assert "MLFLOW_RUN_ID" not in os.environ
    run = client.get_run(failed.info.run_id)
    assert run.info.status == "FINISHED"
    assert "failure_reason" not in run.data.tags
    # resumed with the run's own batch size (64), not the task default (128)
    assert run.data.params["global_batch_size"] == "64"
    assert not [name for name in run.data.params if name.startswith("resolved_")]
    _assert_one_complete_history(client, run.info.run_id, 4)
    active = client.search_runs([failed.info.experiment_id])
    assert [r.info.run_id for r in active] == [failed.info.run_id]
    handed_over = client.get_run(wrapper.info.run_id)
    assert handed_over.info.lifecycle_stage == "deleted"
    assert handed_over.data.tags["resumed_run_id"] == failed.info.run_id
    assert run.data.metrics["test_accuracy"] > 0.85
    assert not folder.exists()


def test_what_cannot_be_resumed_says_why(mlflow_store, tmp_path):
    with pytest.raises(ResumeError, match="No MLflow run 'nope'"):
        train(TrainConfig(resume_run_id="nope"))
    with mlflow.start_run() as plain:
        pass
    with pytest.raises(ResumeError, match="already FINISHED"):
        train(TrainConfig(resume_run_id=plain.info.run_id))
    client = MlflowClient(mlflow_store)
    with mlflow.start_run() as killed:
        mlflow.log_params(TrainConfig(dataset="digits", epochs=3).as_params())
    client.update_run(killed.info.run_id, status="KILLED")
    with pytest.raises(ResumeError, match="no 'checkpoint_dir' tag"):
        train(TrainConfig(resume_run_id=killed.info.run_id))
    client.set_tag(killed.info.run_id, "checkpoint_dir", str(tmp_path / "gone"))
    with pytest.raises(ResumeError, match="not at .*gone"):
        train(TrainConfig(resume_run_id=killed.info.run_id))
    (tmp_path / "gone").mkdir()
    with pytest.raises(ResumeError, match=r"Option `epochs` was 3 .* Received epochs=7"):
        train(TrainConfig(resume_run_id=killed.info.run_id, epochs=7))
    # nothing was touched: the run is still KILLED, no run was added
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    assert len(_all_runs(client)) == 2


@pytest.mark.slow
@pytest.mark.integration
def test_mlflow_run_killed_then_resumed_with_resume_run_id(
    tmp_path, fashion_mnist_dir, process_environment
):
    """The MLflow entry point: kill -9 `mlflow run` in epoch 3, then `-P resume_run_id`."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    env = process_environment(uri)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    project = [sys.executable, "-m", "mlflow", "run", str(Path(__file__).parents[2])]
    project += ["--env-manager", "local", "-e", "train"]
    # `mlflow run` runs in the project folder: relative paths would land there
    options = ["-P", "max_examples=3000", "-P", "epochs=5"]
    options += ["-P", f"export_dir={tmp_path / 'exports'}"]
    options += ["-P", f"checkpoint_dir={tmp_path / 'checkpoints'}"]
    run_id = start_and_kill_in_epoch_3(project + options, tmp_path, env, client)
    resumed = subprocess.run(
        project + ["-P", f"resume_run_id={run_id}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # MLflow's own new run is folded away once `mlflow run` has exited
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        active = client.search_runs([e.experiment_id for e in client.search_experiments()])
        if len(active) == 1:
            break
        time.sleep(0.5)
    assert [r.info.run_id for r in active] == [run_id]
    (wrapper,) = [r for r in _all_runs(client) if r.info.run_id != run_id]
    assert wrapper.info.lifecycle_stage == "deleted" and wrapper.info.status == "FINISHED"
    assert wrapper.data.tags["resumed_run_id"] == run_id
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    _assert_one_complete_history(client, run_id, 5)
    assert run.data.metrics["test_accuracy"] > 0.7
