"""Face embeddings: cosine classifier, CosFace / ArcFace losses, against NumPy."""

import keras
import numpy as np
import pytest

from models.face import (
    CosineClassifier,
    MarginSoftmaxLoss,
    face_embedder,
    margin_trainer,
)


def _softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(labels)), labels]


def test_the_cosine_classifier_gives_cosines_to_unit_centres_and_round_trips():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    layer = CosineClassifier(3, name="people")
    cosines = keras.ops.convert_to_numpy(layer(vectors))
    centres = layer.centres.numpy()
    expected = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (
        centres / np.linalg.norm(centres, axis=0, keepdims=True)
    )
    np.testing.assert_allclose(cosines, expected, rtol=1e-5, atol=1e-6)
    again = CosineClassifier.from_config(layer.get_config())
    again.build((None, 8))
    again.set_weights(layer.get_weights())
    assert again.classes == 3 and again.name == "people" and again.count_params() == 8 * 3
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(vectors)), cosines, rtol=1e-6)
    with pytest.raises(ValueError, match="classes=0"):
        CosineClassifier(0)


@pytest.mark.parametrize("kind", ["cosface", "arcface"])
def test_margin_losses_hold_the_right_cosine_to_a_margin(kind):
    rng = np.random.default_rng(1)
    cosines = rng.uniform(-0.95, 0.95, size=(6, 4)).astype(np.float32)
    cosines[0, 2] = -0.99  # an angle past pi - m: ArcFace's fallback
    labels = np.array([2, 0, 3, 1, 1, 0])
    loss = MarginSoftmaxLoss(scale=16.0, margin=0.4, kind=kind, reduction=None)
    found = keras.ops.convert_to_numpy(loss(labels, cosines))
    right = cosines[np.arange(6), labels]
    if kind == "cosface":
        held = right - 0.4
    else:
        angles = np.arccos(right)
        held = np.where(angles + 0.4 < np.pi, np.cos(angles + 0.4), right - 0.4 * np.sin(0.4))
    logits = cosines.astype(np.float64).copy()
    logits[np.arange(6), labels] = held
    np.testing.assert_allclose(found, _softmax_cross_entropy(16.0 * logits, labels), rtol=1e-4)
    plain = MarginSoftmaxLoss(scale=16.0, margin=0.0, kind=kind, reduction=None)
    assert np.all(found > keras.ops.convert_to_numpy(plain(labels, cosines)))
    config = loss.get_config()
    assert (config["scale"], config["margin"], config["kind"]) == (16.0, 0.4, kind)
    again = MarginSoftmaxLoss.from_config(config)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(labels, cosines)), found)
    with pytest.raises(ValueError, match="kind='sphereface'"):
        MarginSoftmaxLoss(kind="sphereface")


def test_the_embedder_maps_raw_faces_to_unit_vectors_and_trains_behind_the_classifier():
    embedder = face_embedder(32, filters=(8, 16), dimension=12)
    trainer = margin_trainer(embedder, people=5)
    faces = np.random.default_rng(2).integers(0, 256, size=(4, 32, 32, 3)).astype(np.uint8)
    vectors = embedder.predict(faces, verbose=0)
    assert vectors.shape == (4, 12)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert trainer.output_shape == (None, 5) and trainer.layers[-1].name == "person_cosines"
    trainer.compile(optimizer="adam", loss=MarginSoftmaxLoss())
    history = trainer.fit(faces, np.array([0, 1, 2, 3]), epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
