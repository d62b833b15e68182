"""A real `mlflow server` on 127.0.0.1, and tracking URIs that cannot work, caught early."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipelines.tracking import TrackingUnavailableError, check_tracking_store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def _wait_until_up(url, process, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def mlflow_server(tmp_path):
    """An `mlflow server` (SQLite store, local artifact root) on a free 127.0.0.1 port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
        + ["--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}"]
        + ["--artifacts-destination", str(tmp_path / "server_artifacts"), "--workers", "1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/health", server)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(server)
    assert server.poll() is not None


def _convseq_train(tmp_path, env, *options, timeout=600):
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "train", *options],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return completed, time.monotonic() - started


def _artifacts(client, run_id, path=""):
    found = []
    for item in client.list_artifacts(run_id, path):
        found.extend(_artifacts(client, run_id, item.path) if item.is_dir else [item.path])
    return found


def test_a_pipeline_logs_to_a_real_tracking_server(tmp_path, mlflow_server, process_environment):
    completed, _ = _convseq_train(
        tmp_path,
        process_environment(mlflow_server),
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--seed",
        "4",
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    run_id = next(
        line.split(": ")[1] for line in completed.stdout.splitlines() if line.startswith("run_id")
    )
    assert f"tracking_uri: {mlflow_server}" in completed.stdout
    client = MlflowClient(mlflow_server)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["dataset"] == "digits" and run.data.params["epochs"] == "2"
    assert [m.step for m in client.get_metric_history(run_id, "val_accuracy")] == [0, 1]
    assert run.data.metrics["test_accuracy"] > 0.6
    assert run.data.tags["precision_policy"] == "float32"
    artifacts = _artifacts(client, run_id)
    for expected in (
        "saved_model/saved_model.pb",
        "model/MLmodel",
        "plots/training_curves.png",
        "plots/confusion_matrix.png",
    ):
        assert expected in artifacts
    # the serving model is an MLflow 3 logged model of the run, stored by the server too
    (serving,) = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id='{run_id}' AND name='serving_model'",
    )
    stored_files = {a.path for a in client.list_logged_model_artifacts(serving.model_id)}
    assert {"MLmodel", "serving_model.py"} <= stored_files, stored_files
    # the server stored them in its artifact root, not in the client's folder
    stored = list((tmp_path / "server_artifacts").rglob(f"{run_id}/**/saved_model.pb"))
    assert [p.relative_to(tmp_path).parts[-4:] for p in stored] == [
        (run_id, "artifacts", "saved_model", "saved_model.pb")
    ]
    assert not (tmp_path / "mlruns").exists()


def test_an_unreachable_server_fails_before_training(tmp_path, process_environment):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    completed, seconds = _convseq_train(
        tmp_path, process_environment(uri), "--dataset", "digits", timeout=120
    )
    assert completed.returncode == 2
    assert "Epoch" not in completed.stdout and "Traceback" not in completed.stderr
    message = completed.stderr.strip().splitlines()[-1]
    assert f"Cannot reach the MLflow tracking server at MLFLOW_TRACKING_URI='{uri}'" in message
    assert "mlflow server --host 127.0.0.1" in message
    assert seconds < 60  # the check itself is timed below; this includes starting Python


def test_the_check_answers_within_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(mlflow, "get_tracking_uri", lambda: f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(TrackingUnavailableError, match="Cannot reach"):
        check_tracking_store()
    assert time.monotonic() - started < 10

    # something that is not an MLflow server answers on the port
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/", web, timeout=30)
        monkeypatch.setattr(mlflow, "get_tracking_uri", lambda: f"http://127.0.0.1:{port}")
        started = time.monotonic()
        with pytest.raises(TrackingUnavailableError, match="HTTP 404, not as an MLflow"):
            check_tracking_store()
        assert time.monotonic() - started < 10
    finally:
        _stop(web)

    (tmp_path / "a_file").write_text("a file where a folder should be")
    for wrong, expected in (
        ("htp://127.0.0.1:5000", "Cannot use MLFLOW_TRACKING_URI='htp://127.0.0.1:5000'"),
        (f"sqlite:///{tmp_path / 'a_file' / 'x.db'}", "Cannot use MLFLOW_TRACKING_URI='sqlite"),
    ):
        monkeypatch.setattr(mlflow, "get_tracking_uri", lambda wrong=wrong: wrong)
        started = time.monotonic()
        with pytest.raises(TrackingUnavailableError, match=expected):
            check_tracking_store()
        assert time.monotonic() - started < 10
