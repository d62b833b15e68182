import keras
import numpy as np
import pytest

from models import small_vgg, vgg16
from models.layers.preprocessing import VGGPreprocess
from models.transfer import block_numbers, frozen_layers, transfer_model, unfreeze_top_blocks

RNG = np.random.default_rng(5)


def test_vgg_preprocess_equals_keras_preprocess_input():
    images = RNG.uniform(0, 255, size=(2, 5, 6, 3)).astype("float32")
    expected = keras.applications.vgg16.preprocess_input(images.copy())
    np.testing.assert_allclose(VGGPreprocess()(images), expected, atol=1e-4)
    gray = images[..., :1]
    np.testing.assert_allclose(
        VGGPreprocess()(gray),
        keras.applications.vgg16.preprocess_input(np.repeat(gray, 3, axis=-1)),
        atol=1e-4,
    )


@pytest.fixture
def base():
    keras.utils.set_random_seed(0)
    return vgg16(include_top=False, input_shape=(32, 32, 3))


def test_base_is_frozen_and_raw_images_of_any_size_work(base):
    model = transfer_model(base, classes=4, hidden_units=16)
    head = [w.path for w in model.trainable_weights]
    assert len(head) == 4 and all("head_dense" in p or "predictions" in p for p in head)
    assert frozen_layers(model) == [layer.name for layer in base.layers if layer.weights]
    for shape in ((3, 20, 20, 3), (2, 64, 48, 3)):
        images = RNG.integers(0, 256, size=shape, dtype=np.uint8)
        probabilities = model.predict(images, verbose=0)
        assert probabilities.shape == (shape[0], 4)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_training_changes_only_the_head(base):
    model = transfer_model(base, classes=3, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    images = RNG.integers(0, 256, size=(12, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(12) % 3
    before = [w.copy() for w in base.get_weights()]
    head_before = model.get_layer("predictions").get_weights()[0].copy()
    model.fit(images, labels, epochs=2, verbose=0)
    for old, new in zip(before, base.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert not np.allclose(head_before, model.get_layer("predictions").get_weights()[0])


def test_unfreezing_the_top_block_for_fine_tuning(base):
    model = transfer_model(base, classes=2)
    assert block_numbers(base) == [1, 2, 3, 4, 5]
    unfrozen = unfreeze_top_blocks(base, 1)
    assert unfrozen == ["block5_conv1", "block5_conv2", "block5_conv3"]
    assert len(model.trainable_weights) == 3 * 2 + 2  # three convs + the classifier
    assert "block4_conv3" in frozen_layers(model) and "block5_conv1" not in frozen_layers(model)
    assert unfreeze_top_blocks(base, 0) == []
    with pytest.raises(ValueError, match="Expected 0..5"):
        unfreeze_top_blocks(base, 6)


def test_grayscale_small_backbone_saves_and_reloads(tmp_path):
    backbone = small_vgg(include_top=False, input_shape=(28, 28, 3))
    model = transfer_model(backbone, classes=5, input_channels=1, preprocessing="rescale")
    images = RNG.integers(0, 256, size=(2, 28, 28, 1), dtype=np.uint8)
    model.save(tmp_path / "transfer.keras")
    reloaded = keras.saving.load_model(tmp_path / "transfer.keras")
    np.testing.assert_allclose(
        reloaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6
    )


def test_flatten_head_keeps_the_feature_map_layout():
    backbone = small_vgg(include_top=False, input_shape=(28, 28, 1), blocks=((4, 1), (8, 1)))
    model = transfer_model(
        backbone, 5, input_channels=1, preprocessing="rescale", pooling="flatten", dropout=0.0
    )
    assert model.get_layer("flatten").output.shape == (None, 7 * 7 * 8)
    assert model.get_layer("predictions").count_params() == 7 * 7 * 8 * 5 + 5
    assert model(np.zeros((2, 28, 28, 1), np.uint8)).shape == (2, 5)


def test_bad_arguments(base):
    with pytest.raises(ValueError, match="Received preprocessing='imagenet'"):
        transfer_model(base, 3, preprocessing="imagenet")
    with pytest.raises(ValueError, match="Received classes=0"):
        transfer_model(base, 0)
    with pytest.raises(ValueError, match="Received pooling='max'"):
        transfer_model(base, 3, pooling="max")
    with pytest.raises(ValueError, match="input_channels=2 cannot feed"):
        transfer_model(base, 3, input_channels=2)
    flexible = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="needs a fixed input size"):
        transfer_model(flexible, 3)
