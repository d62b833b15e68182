from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
from PIL import Image

from models import small_cnn
from pipelines.config import TrainConfig
from pipelines.image_diagnostics import log_image_diagnostics, worst_mistakes
from pipelines.train import train

CLASSES = ("zero", "one", "two")


def test_worst_mistakes_are_the_confident_errors_first():
    probabilities = np.array(
        [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3], [0.05, 0.95]], dtype=np.float32
    )
    labels = np.array([0, 0, 0, 1, 1])
    # Wrong: 1 (0.8 sure), 2 (0.6), 3 (0.7); 0 and 4 are right.
    assert worst_mistakes(probabilities, labels, 10).tolist() == [1, 3, 2]
    assert worst_mistakes(probabilities, labels, 2).tolist() == [1, 3]
    assert worst_mistakes(probabilities[[0, 4]], labels[[0, 4]], 5).tolist() == []


def _logged(run_id: str) -> dict[str, tuple[int, int]]:
    """Logged PNGs under plots/ and their sizes in pixels."""
    folder = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="plots"))
    sizes = {}
    for path in sorted(folder.glob("*.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as image:
            sizes[f"plots/{path.name}"] = image.size
    return sizes


def _predictions(model, count=40, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 12, 12, 1)).astype(np.uint8)
    labels = rng.integers(0, len(CLASSES), count)
    return images, labels, model.predict(images, verbose=0)


def test_a_cnn_gets_filters_feature_maps_grad_cam_and_mistakes(mlflow_store):
    keras.utils.set_random_seed(0)
    model = small_cnn(
        input_shape=(12, 12, 1), classes=3, filters=(4, 6, 8), pool_size=(2, 2, 0), dense_units=8
    )
    images, labels, probabilities = _predictions(model)
    with mlflow.start_run() as run:
        logged = log_image_diagnostics(model, images, labels, probabilities, CLASSES)
    names = ["first_conv_filters", "feature_maps", "grad_cam", "mistakes"]
    assert logged == [f"plots/{name}.png" for name in names]
    sizes = _logged(run.info.run_id)
    assert sorted(sizes) == sorted(logged)
    # Feature maps: one row per conv block; Grad-CAM: 8 images x 3 rows; mistakes: 16 in 2 rows.
    assert sizes["plots/feature_maps.png"][1] > sizes["plots/first_conv_filters.png"][1]
    width, height = sizes["plots/grad_cam.png"]
    assert width > 1000 and height > 400
    assert np.sum(probabilities.argmax(axis=1) != labels) >= 16  # untrained: many mistakes


def test_a_model_without_conv_blocks_gets_its_mistakes_only(mlflow_store):
    inputs = keras.Input((12, 12, 1), dtype="uint8")
    flat = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(flat))
    images, labels, probabilities = _predictions(model)
    with mlflow.start_run() as run:
        logged = log_image_diagnostics(model, images, labels, probabilities, CLASSES)
    assert logged == ["plots/mistakes.png"]
    assert list(_logged(run.info.run_id)) == logged


@pytest.mark.slow  # a whole classify run: finish_image_classifier logs the figures above
def test_a_classify_run_logs_filters_feature_maps_grad_cam_and_mistakes(mlflow_store, tmp_path):
    config = TrainConfig(
        dataset="digits",
        epochs=1,
        batch_size=32,
        max_examples=300,
        seed=3,
        export_dir=str(tmp_path / "exports"),
    )
    sizes = _logged(train(config).run_id)
    for name in ("first_conv_filters", "feature_maps", "grad_cam", "mistakes"):
        assert f"plots/{name}.png" in sizes
    width, height = sizes["plots/grad_cam.png"]
    assert width > 500 and height > 300  # 8 images x (image, Grad-CAM, HiResCAM)
    width, height = sizes["plots/feature_maps.png"]
    assert height > 200  # one row per conv block (2)
