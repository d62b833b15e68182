"""Export entry point, batch prediction and `mlflow models serve`, on one trained model each."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from data import load_dataset
from models.sentiment import text_vectorizer
from pipelines.config import TrainConfig
from pipelines.export import export_text_classifier
from pipelines.export_run import ExportConfig, export_run
from pipelines.predict import PredictConfig, predict
from pipelines.tracking import log_export
from pipelines.train import train
from tests.pipelines.test_export import tree_digest


@pytest.fixture
def trained_digits(mlflow_store, tmp_path):
    """A digits CNN trained for one epoch, exported and registered as ``digits_cnn``."""
    config = TrainConfig(
        dataset="digits",
        epochs=2,
        filters="8",
        export_dir=str(tmp_path / "exports"),
        registered_model_name="digits_cnn",
    )
    return train(config)


@pytest.fixture
def text_export(mlflow_store, tmp_path):
    """A tiny text classifier exported and registered as ``moods`` (fresh/rotten words)."""
    texts = ["good great fine", "bad awful poor"] * 20
    labels = np.array([1, 0] * 20)
    vectorizer = text_vectorizer(50, 6)
    vectorizer.adapt(texts)
    keras.utils.set_random_seed(0)
    ids = keras.Input((None,), dtype="int64")
    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(50, 8)(ids))
    model = keras.Model(ids, keras.layers.Dense(1, activation="sigmoid")(x), name="moods")
    model.compile("adam", "binary_crossentropy")
    model.fit(vectorizer(np.array(texts)), labels, epochs=60, verbose=0)
    path = export_text_classifier(vectorizer, model, tmp_path / "exports", "moods", ["bad", "good"])
    with mlflow.start_run():
        log_export(path, registered_model_name="moods")
    return path


def test_export_entry_point_adds_a_version_and_never_touches_the_first(trained_digits, tmp_path):
    first = trained_digits.export_path
    before = tree_digest(first)
    second = export_run(
        ExportConfig(run_id=trained_digits.run_id, export_dir=str(tmp_path / "exports"))
    )
    assert (first.parent.name, first.name, second.name) == ("digits_cnn", "1", "2")
    assert tree_digest(first) == before
    assert tree_digest(second) == before  # the same SavedModel, byte for byte
    metadata = json.loads((second / "assets.extra" / "metadata.json").read_text())
    assert metadata["training_run_id"] == trained_digits.run_id
    assert metadata["task"] == "classify"
    assert metadata["metrics"]["test_accuracy"] == pytest.approx(
        trained_digits.test_metrics["test_accuracy"]
    )


def test_interrupted_export_entry_point_leaves_no_version(trained_digits, tmp_path, monkeypatch):
    def broken_download(run_id, artifact_path, dst_path):
        os.makedirs(os.path.join(dst_path, artifact_path))
        open(os.path.join(dst_path, artifact_path, "saved_model.pb"), "wb").close()
        raise OSError("connection reset")

    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", broken_download)
    with pytest.raises(OSError, match="connection reset"):
        export_run(ExportConfig(run_id=trained_digits.run_id, export_dir=str(tmp_path / "exports")))
    assert sorted(p.name for p in (tmp_path / "exports" / "digits_cnn").iterdir()) == ["1"]


def test_export_entry_point_refuses_unknown_or_unexported_runs(mlflow_store, tmp_path):
    with pytest.raises(ValueError, match="No run 'nope'"):
        export_run(ExportConfig(run_id="nope", export_dir=str(tmp_path)))
    with mlflow.start_run() as bare:
        pass
    with pytest.raises(ValueError, match="logged no SavedModel"):
        export_run(ExportConfig(run_id=bare.info.run_id, export_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="Received run_id=''"):
        ExportConfig()


def test_batch_prediction_of_an_image_folder(trained_digits, tmp_path):
    _, splits = load_dataset("digits")
    images = splits["test"].images[:70]
    folder = tmp_path / "images"
    folder.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image[..., 0]).save(folder / f"digit_{index:03d}.png")
    (folder / "notes.txt").write_text("not an image")
    output = predict(
        PredictConfig(
            model=str(trained_digits.export_path),
            input=str(folder),
            output=str(tmp_path / "out" / "predictions.csv"),
            batch_size=32,
        )
    )
    rows = rows_of(output)
    assert [r["input"] for r in rows] == [f"digit_{i:03d}.png" for i in range(70)]
    loaded = tf.saved_model.load(str(trained_digits.export_path))
    expected = loaded.serve(tf.constant(images))
    assert [int(r["class_id"]) for r in rows] == expected["class_id"].numpy().tolist()
    assert float(rows[0]["probabilities_3"]) == pytest.approx(
        float(expected["probabilities"][0, 3]), abs=1e-5
    )
    # The registered MLflow model gives the same classes.
    by_uri = predict(
        PredictConfig(
            model="models:/digits_cnn/1", input=str(folder), output=str(tmp_path / "u.csv")
        )
    )
    uri_rows = rows_of(by_uri)
    assert [r["class_id"] for r in uri_rows] == [r["class_id"] for r in rows]


def test_batch_prediction_of_texts_and_csv_columns(text_export, tmp_path, capsys):
    lines = tmp_path / "texts.txt"
    lines.write_text("good great\n\nawful poor bad\n", encoding="utf-8")
    rows = rows_of(
        predict(
            PredictConfig(model=str(text_export), input=str(lines), output=str(tmp_path / "a.csv"))
        )
    )
    assert [(r["input"], r["class_name"]) for r in rows] == [("line 1", "good"), ("line 3", "bad")]
    assert {"probabilities_bad", "probabilities_good"} <= set(rows[0])
    assert "predict [" in capsys.readouterr().err
    table = tmp_path / "reviews.csv"
    table.write_text("id,review\n1,fine good\n2,poor\n", encoding="utf-8")
    config = PredictConfig(model=str(text_export), input=str(table), output=str(tmp_path / "b.csv"))
    with pytest.raises(ValueError, match="no column 'text'; its header is \\['id', 'review'\\]"):
        predict(config)
    by_column = PredictConfig(
        model=str(text_export), input=str(table), output=str(tmp_path / "b.csv"), column="review"
    )
    rows = rows_of(predict(by_column))
    assert [r["class_name"] for r in rows] == ["good", "bad"]
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / "a.png")
    with pytest.raises(ValueError, match="does not take images"):
        predict(
            PredictConfig(model=str(text_export), input=str(folder), output=str(tmp_path / "c.csv"))
        )
    assert not (tmp_path / "c.csv").exists()


def rows_of(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(port, payload):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _serve(model_uri, tracking_uri):
    port = _free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            model_uri,
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return process, port
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"mlflow models serve exited with {process.returncode}")
            time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail("mlflow models serve did not answer /ping within 120 s")


def _stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow  # make test-slow: keeps make test under 15 minutes on 2 cores
@pytest.mark.integration
def test_mlflow_models_serve_answers_for_image_and_text_models(
    trained_digits, text_export, mlflow_store
):
    _, splits = load_dataset("digits")
    images = splits["test"].images[:3]
    loaded = tf.saved_model.load(str(trained_digits.export_path))
    expected = loaded.serve(tf.constant(images))
    process, port = _serve("models:/digits_cnn/1", mlflow_store)
    try:
        status, body = _post(port, {"inputs": images.tolist()})
        assert status == 200
        assert body["predictions"]["class_id"] == expected["class_id"].numpy().tolist()
        np.testing.assert_allclose(
            body["predictions"]["probabilities"], expected["probabilities"], atol=1e-5
        )
        status, body = _post(port, {"inputs": [[1, 2, 3]]})
        assert 400 <= status < 500
        assert "does not match expected shape (-1, 8, 8, 1)" in body["message"]
        status, body = _post(port, {"inputs": images[:1].tolist()})  # still serving
        assert status == 200 and len(body["predictions"]["class_id"]) == 1
    finally:
        _stop(process)
    process, port = _serve("models:/moods/1", mlflow_store)
    try:
        status, body = _post(port, {"inputs": ["great good", "awful bad"]})
        assert status == 200
        assert body["predictions"]["class_name"] == ["good", "bad"]
    finally:
        _stop(process)
