"""seed + deterministic=true: two runs of the same pipeline give bit-identical metrics."""

import subprocess
import sys

from mlflow.tracking import MlflowClient

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def _start(folder, env, *options):
    folder.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "train", *options],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_id(process):
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    return next(line.split(": ")[1] for line in stdout.splitlines() if line.startswith("run_id"))


def test_two_deterministic_runs_log_identical_metrics(tmp_path, process_environment):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # the CNN has dropout: randomness in every training step, seeded
    options = ("--dataset", "digits", "--epochs", "2", "--seed", "7", "--deterministic", "true")
    client = MlflowClient(uri)
    client.search_experiments()  # creates the store once, before two processes use it
    # two processes at once, each in its own folder, logging to one store
    processes = [_start(tmp_path / name, process_environment(uri), *options) for name in ("a", "b")]
    try:
        first, second = (_run_id(process) for process in processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for metric in METRICS:
        ours = [(m.step, m.value) for m in client.get_metric_history(first, metric)]
        theirs = [(m.step, m.value) for m in client.get_metric_history(second, metric)]
        assert len(ours) == 2 and ours == theirs, metric  # exact, not approximate
    one, two = client.get_run(first).data, client.get_run(second).data
    for name in ("test_accuracy", "test_loss"):
        assert one.metrics[name] == two.metrics[name]
    assert one.params["deterministic"] == "true"
