"""Shared fixtures: a temporary MLflow store and the offline Fashion-MNIST files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
# What `mlflow run` and a cluster set for a process; a test's processes start without them.
RUN_VARIABLES = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "TF_CONFIG")
SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    """A fresh SQLite MLflow store in a temporary folder, used by this test only.

    Yields the tracking URI. The variables `mlflow run` sets are cleared so a
    test never continues someone else's run.
    """
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    for name in RUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.create_experiment("test", artifact_location=str(tmp_path / "artifacts"))
    mlflow.set_experiment(experiment_id=experiment_id)
    yield uri
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


@pytest.fixture
def process_environment():
    """``(tracking_uri) -> env`` for a subprocess: this environment, logging to that store.

    The variables `mlflow run` or a cluster would set are removed.
    """

    def environment(tracking_uri: str) -> dict[str, str]:
        env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "TF_CPP_MIN_LOG_LEVEL": "2"}
        for name in RUN_VARIABLES:
            env.pop(name, None)
        return env

    return environment


def running_in_ci() -> bool:
    """Whether ``CI=true`` (set by GitHub Actions, GitLab CI and most CI services)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


@pytest.fixture
def fashion_mnist_dir() -> Path:
    """The Debian package's Fashion-MNIST folder (``make test`` installs it).

    Missing, a test needing it is skipped on a workstation but fails under
    ``CI=true``: CI promises the checks the README lists, so a missing file
    must not pass as a skip.
    """
    if not (SYSTEM_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file():
        remedy = (
            f"{SYSTEM_FASHION_MNIST} holds no Fashion-MNIST files: run `make test` as root "
            "(it installs dataset-fashion-mnist with apt-get) or "
            "`sudo apt-get install dataset-fashion-mnist`"
        )
        if running_in_ci():
            pytest.fail(f"CI=true: {remedy}.", pytrace=False)
        pytest.skip(remedy)
    return SYSTEM_FASHION_MNIST


_SERVE_SCRIPT = """
import sys
import numpy as np
import tensorflow as tf

export_path, inputs_path, output_path, signature_input = sys.argv[1:]
loaded = tf.saved_model.load(export_path)
inputs = tf.constant(np.load(inputs_path))
outputs = loaded.serve(inputs)
if not isinstance(outputs, dict):
    outputs = {"output": outputs}
if signature_input:
    by_signature = loaded.signatures["serving_default"](**{signature_input: inputs})
    for name, tensor in outputs.items():
        np.testing.assert_array_equal(by_signature[name], tensor)
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("pipelines", "models", "data"))
assert not ours, f"convseq modules were imported: {ours}"
arrays = {name: tensor.numpy() for name, tensor in outputs.items()}
np.savez(output_path, **{k: v.astype("S") if v.dtype == object else v for k, v in arrays.items()})
"""


@pytest.fixture
def serve_in_fresh_process(tmp_path):
    """Runs a SavedModel's ``serve`` function in a new Python that never imports convseq.

    Returns a function ``(export_path, inputs, signature_input="") -> dict of
    arrays`` (key ``"output"`` when ``serve`` returns one tensor). With
    ``signature_input``, the ``serving_default`` signature is called with that
    input name too and must agree.
    """
    import subprocess
    import sys

    import numpy as np

    def serve(export_path, inputs, signature_input=""):
        work = tmp_path / "fresh_process"
        work.mkdir(exist_ok=True)
        np.save(work / "inputs.npy", inputs)
        script = work / "serve.py"
        script.write_text(_SERVE_SCRIPT)
        completed = subprocess.run(
            [
                sys.executable,
                "-I",
                str(script),
                str(export_path),
                str(work / "inputs.npy"),
                str(work / "outputs.npz"),
                signature_input,
            ],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        with np.load(work / "outputs.npz") as outputs:
            return {name: outputs[name] for name in outputs.files}

    return serve


@pytest.fixture
def run_mlflow_project(tmp_path):
    """Runs ``mlflow run <repo> --env-manager local ARGS`` with a temporary store.

    Returns a function ``(*args) -> (completed_process, tracking_uri)``; the
    process runs in ``tmp_path`` with this interpreter's folder first on PATH.
    """
    import subprocess
    import sys

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    for name in RUN_VARIABLES:
        env.pop(name, None)

    def run(*args):
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "mlflow",
                "run",
                str(REPO_ROOT),
                "--env-manager",
                "local",
                *args,
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert completed.returncode == 0, completed.stderr[-4000:]
        return completed, uri

    return run
