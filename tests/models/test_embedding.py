import keras
import numpy as np
import pytest

from models import small_cnn
from models.embedding import embedding_model, flip_averaged, penultimate_model


@pytest.mark.parametrize(
    ("pooling", "dense_inputs"), [("flatten", 7 * 7 * 8), ("avg", 8), ("max", 8)]
)
def test_unit_vectors_from_raw_pixels(pooling, dense_inputs):
    backbone = small_cnn(include_top=False, input_shape=(28, 28, 1), filters=(4, 8))
    model = embedding_model(backbone, dimension=12, pooling=pooling)
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28, 1)).astype("uint8")
    vectors = model.predict(images, verbose=0)
    assert vectors.shape == (5, 12) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.get_layer("embedding_dense").kernel.shape == (dense_inputs, 12)
    assert model.layers[-1].name == "embedding"


def test_a_vector_backbone_is_projected_as_is():
    inputs = keras.Input((6,))
    backbone = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    model = embedding_model(backbone, dimension=3)
    assert model.get_layer("embedding_dense").kernel.shape == (4, 3)


def test_penultimate_features_are_the_classifiers_own_normalised():
    classifier = small_cnn(input_shape=(28, 28, 1), filters=(4,), dense_units=16)
    features = penultimate_model(classifier)
    images = np.random.default_rng(1).integers(0, 256, size=(3, 28, 28, 1)).astype("uint8")
    fc1 = keras.Model(classifier.inputs, classifier.get_layer("fc1").output).predict(
        images, verbose=0
    )
    expected = fc1 / np.maximum(np.linalg.norm(fc1, axis=1, keepdims=True), 1e-12)
    np.testing.assert_allclose(features.predict(images, verbose=0), expected, atol=1e-5)
    assert features.name == f"{classifier.name}_penultimate"
    assert features.get_layer("fc1") is classifier.get_layer("fc1")  # weights shared


def test_bad_arguments_are_named():
    backbone = small_cnn(include_top=False, input_shape=(28, 28, 1), filters=(4,))
    with pytest.raises(ValueError, match="`dimension`.*Received dimension=0"):
        embedding_model(backbone, dimension=0)
    with pytest.raises(ValueError, match="`pooling`.*Received pooling='mean'"):
        embedding_model(backbone, pooling="mean")
    steps = keras.Input((5, 3))
    sequence = keras.Model(steps, keras.layers.Dense(2, name="dense")(steps))
    with pytest.raises(ValueError, match=r"`backbone`.*\(None, 5, 2\)"):
        embedding_model(sequence)
    with pytest.raises(ValueError, match="`classifier`.*'dense"):
        penultimate_model(sequence)


@pytest.mark.parametrize("copy_weight", [1.0, 3.0])
def test_a_copy_head_adds_a_second_unit_part_and_similarity_is_the_parts_weighted_mean(
    copy_weight,
):
    backbone = small_cnn(include_top=False, input_shape=(28, 28, 1), filters=(4,))
    model = embedding_model(backbone, dimension=6, copy_dimension=10, copy_weight=copy_weight)
    images = np.random.default_rng(1).integers(0, 256, size=(4, 28, 28, 1)).astype("uint8")
    vectors = model.predict(images, verbose=0)
    assert vectors.shape == (4, 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    parts = keras.Model(
        model.inputs, [model.get_layer("class_unit").output, model.get_layer("copy_unit").output]
    ).predict(images, verbose=0)
    weighted_mean = (parts[0] @ parts[0].T + copy_weight * parts[1] @ parts[1].T) / (
        1 + copy_weight
    )
    np.testing.assert_allclose(vectors @ vectors.T, weighted_mean, atol=1e-5)
    with pytest.raises(ValueError, match="copy_dimension"):
        embedding_model(backbone, dimension=6, copy_dimension=-1)
    with pytest.raises(ValueError, match="copy_weight=0"):
        embedding_model(backbone, dimension=6, copy_dimension=10, copy_weight=0)


def test_the_flip_averaged_embedder_adds_each_image_and_its_mirror_and_round_trips(tmp_path):
    backbone = small_cnn(include_top=False, input_shape=(16, 16, 3), filters=(8,))
    embedder = embedding_model(backbone, dimension=6, copy_dimension=4, copy_weight=3.0)
    averaged = flip_averaged(embedder)
    images = np.random.default_rng(3).integers(0, 256, size=(3, 16, 16, 3)).astype(np.uint8)
    plain, mirrored = (embedder.predict(x, verbose=0) for x in (images, images[:, :, ::-1]))
    expected = (plain + mirrored) / np.linalg.norm(plain + mirrored, axis=1, keepdims=True)
    vectors = averaged.predict(images, verbose=0)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert np.abs(vectors - plain).max() > 1e-3  # the mirror image changed something
    np.testing.assert_allclose(averaged.predict(images[:, :, ::-1], verbose=0), vectors, atol=1e-5)
    assert averaged.count_params() == embedder.count_params()
    assert averaged.name == embedder.name and averaged.layers[-1].name == "embedding"
    averaged.save(tmp_path / "averaged.keras")
    reloaded = keras.saving.load_model(tmp_path / "averaged.keras")
    np.testing.assert_allclose(reloaded.predict(images, verbose=0), vectors, atol=1e-6)
