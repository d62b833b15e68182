"""The faces task: a short run's metrics, ROC, exports, a verify that answers alone; checks."""

import io
import json
import subprocess
import sys

import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from data.face_images import FaceImages
from pipelines.config import TrainConfig
from pipelines.face_data import load_faces
from pipelines.face_outcome import face_metrics
from pipelines.tasks.faces import (
    build_model,
    embedder_of,
    embedder_to_keep,
    margin_of,
    training_batches,
)
from pipelines.train import train
from tests.mlflow_artifacts import artifact_paths

SMALL = {"train_people": 500, "validation_people": 8, "test_people": 12, "photos_per_person": 6}


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_faces_run_logs_verification_identification_roc_and_a_verify_that_answers_alone(
    mlflow_store, tmp_path
):
    config = TrainConfig(
        task="faces", epochs=4, batch_size=64, export_dir=str(tmp_path / "exports"), **SMALL
    )
    result = train(config)
    metrics = result.test_metrics
    assert set(metrics) == {
        "test_verification_accuracy",
        "test_verification_accuracy_standard_error",
        "test_roc_auc",
        "test_tar_at_far_1pct",
        "test_tar_at_far_0_1pct",
        "test_rank1_accuracy",
    }
    # raw pixels of the same test pairs, centred per photo: what training must beat
    data = load_faces(config)
    pixels = data.test.images.reshape(len(data.test), -1).astype(np.float32)
    raw = face_metrics(pixels - pixels.mean(1, keepdims=True), data.test.labels, data.test_pairs)
    assert metrics["test_verification_accuracy"] > raw["verification_accuracy"] + 0.05
    assert metrics["test_roc_auc"] > raw["roc_auc"] + 0.05
    assert metrics["test_rank1_accuracy"] > 1 / 12 + 0.1  # chance: one of 12 people
    run = mlflow.get_run(result.run_id)
    assert run.data.params["trained_people"] == "500"
    assert run.data.params["resolved_angular_margin"] == "0.35"
    threshold = run.data.metrics["validation_threshold"]
    assert -1 < threshold < 1 and 0 <= run.data.metrics["validation_far"] <= 1
    logged = artifact_paths(mlflow.MlflowClient(), result.run_id)
    for path in (
        "plots/roc.png",
        "plots/training_curves.png",
        "saved_model/saved_model.pb",
        "verify_saved_model/saved_model.pb",
        "verify_saved_model/assets.extra/verification.json",
    ):
        assert path in logged, path

    # verify, in a Python without convseq, agrees with the embed export and the threshold
    verify_path = run.data.tags["verify_export_path"]
    facts = json.loads((tmp_path / verify_path / "assets.extra/verification.json").read_text())
    assert facts["threshold"] == pytest.approx(threshold) and facts["image_size"] == 32
    a, b = data.test.images[0], data.test.images[-1]  # two different people
    (tmp_path / "a.png").write_bytes(png_bytes(a))
    (tmp_path / "b.png").write_bytes(png_bytes(b))
    script = (
        "import sys, tensorflow as tf\n"
        "model = tf.saved_model.load(sys.argv[1])\n"
        "read = lambda name: tf.constant([open(name, 'rb').read()])\n"
        "for x, y in ((2, 3), (2, 2)):\n"
        "    answer = model.serve_image_bytes(read(sys.argv[x]), read(sys.argv[y]))\n"
        "    print(bool(answer['same'][0]), float(answer['score'][0]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, verify_path, "a.png", "b.png"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    (same_ab, score_ab), (same_aa, score_aa) = (
        line.split() for line in done.stdout.split("\n")[:2]
    )
    embed = tf.saved_model.load(str(result.export_path))
    vectors = embed.serve(tf.constant(np.stack([a, b])))["embedding"].numpy()
    assert float(score_ab) == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-4)
    assert same_ab == str(float(score_ab) > threshold)
    assert (same_aa, float(score_aa)) == ("True", pytest.approx(1.0, abs=1e-4))


def test_the_trainer_learns_a_centre_per_person_and_the_embedder_gives_unit_vectors():
    config = TrainConfig(task="faces", **SMALL)
    data = load_faces(config)
    trainer = build_model(config, data)
    assert trainer.output_shape == (None, 500)
    embedder = embedder_of(trainer)
    vectors = embedder.predict(data.test.images[:5], verbose=0)
    assert vectors.shape == (5, 128)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert embedder.count_params() < trainer.count_params()  # the centres are left behind
    assert margin_of(TrainConfig(task="faces", face_loss="arcface")) == 0.5
    assert margin_of(TrainConfig(task="faces", angular_margin=0.2)) == 0.2
    kept = embedder_to_keep(trainer, config)  # flip_average: true by default
    mirrored = data.test.images[:5, :, ::-1]
    np.testing.assert_allclose(
        kept.predict(mirrored, verbose=0), kept.predict(data.test.images[:5], verbose=0), atol=1e-5
    )
    assert np.abs(embedder.predict(mirrored, verbose=0) - vectors).max() > 1e-3
    single = embedder_to_keep(trainer, TrainConfig(task="faces", **SMALL, flip_average=False))
    np.testing.assert_allclose(single.predict(data.test.images[:5], verbose=0), vectors, atol=1e-6)
    keras.backend.clear_session()


def test_training_batches_are_the_same_each_run_new_each_epoch_and_move_photos_two_pixels():
    config = TrainConfig(task="faces", batch_size=8, seed=3)
    photos = np.zeros((16, 32, 32, 3), np.uint8)
    photos[:, 12:20, 8:14] = 255  # an off-centre square: a flip or shift moves it
    faces = FaceImages(photos, np.arange(16), tuple(f"person_{i}" for i in range(16)))

    def placements(batches):
        """Two epochs of ``{person: (top row, left column, pixels)}``, and the raw batches."""
        iterator, epochs, raw = iter(batches.repeat(2)), [], []
        for _ in range(2):
            placed = {}
            for _ in range(2):
                images, labels = (np.asarray(part) for part in next(iterator))
                raw.append(images)
                for image, label in zip(images, labels, strict=True):
                    rows, columns = np.nonzero(image[..., 0])
                    assert np.ptp(rows) == 7 and np.ptp(columns) == 5  # moved whole, not cut
                    placed[int(label)] = (rows.min(), columns.min(), int(image.sum()))
            epochs.append(placed)
        return epochs, raw

    (first, second), raw = placements(training_batches(faces, config))
    _, raw_again = placements(training_batches(faces, config))
    for images, images_again in zip(raw, raw_again, strict=True):
        np.testing.assert_array_equal(images, images_again)  # the same seed, the same batches
    assert sorted(first) == sorted(second) == list(range(16))
    assert first != second  # new draws each epoch, not only a new order
    placed = list(first.values()) + list(second.values())
    assert all(pixels == photos[0].sum() for _, _, pixels in placed)
    assert all(abs(top - 12) <= 2 for top, _, _ in placed)
    plain = [left for _, left, _ in placed if abs(left - 8) <= 2]
    mirrored = [left for _, left, _ in placed if abs(left - 18) <= 2]  # 32 - 14 = 18
    assert len(plain) + len(mirrored) == len(placed) and plain and mirrored
    assert {top for top, _, _ in placed} != {12}  # some photos moved up or down


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pairs_file": "pairs.txt"}, "Option `pairs_file` applies to a face folder"),
        ({"align": "true"}, "Option `align` applies to a face folder"),
        ({"data_dir": "faces", "train_people": 5}, "Option `train_people` sizes the synthetic"),
        ({"max_examples": 100}, "counts people: set train_people"),
        ({"dataset": "fashion_mnist"}, "'fashion_mnist' is a image_classification dataset"),
        ({"image_size": 4}, "expected at least 8 pixels, or fewer blocks. Received image_size=4"),
        ({"stride": 2}, "shrink the photo 64 times: expected at least 64 pixels"),
        ({"face_loss": "triplet"}, "face_loss"),
        ({"validation_people": 1}, "need two people at least. Received validation_people=1"),
        ({"photos_per_person": 1}, "Received photos_per_person=1"),
        (
            {"data_dir": "faces", "pairs_file": "pairs.txt", "test_people": 20},
            "the test people are those the pairs name",
        ),
    ],
)
def test_options_that_do_not_fit_the_people_are_refused_by_name(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(task="faces", **options)
