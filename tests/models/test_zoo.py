"""Model factories: exact parameter counts, layer names, geometry errors, layer choice."""

import keras
import numpy as np
import pytest

from models import alexnet, lenet, small_cnn, small_vgg, vgg16
from models.alexnet import ALEXNET_PLAN
from models.applications import feature_map_sizes

RNG = np.random.default_rng(3)


def test_alexnet_shape_and_parameter_count():
    model = alexnet()
    assert model.count_params() == 62_378_344
    assert model.get_layer("block1_conv1").output.shape == (None, 55, 55, 96)
    assert model.get_layer("block3_pool").output.shape == (None, 6, 6, 256)
    assert model.get_layer("flatten").output.shape == (None, 9216)
    assert model.output_shape == (None, 1000)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [4096, 4096, 1000]


def test_alexnet_minimum_input_and_too_small_input():
    sizes = feature_map_sizes((67, 67, 3), ALEXNET_PLAN, "alexnet")
    assert sizes[-1] == ("block3_pool", (1, 1, 256))
    with pytest.raises(ValueError) as error:
        alexnet(input_shape=(66, 66, 3), include_top=False)
    message = str(error.value)
    assert "input_shape=(66, 66, 3) is too small for alexnet" in message
    assert "layer block3_pool" in message and "= 0" in message


@pytest.mark.parametrize("bad", [(227, 227), (1, 227, 227, 3), (227, 0, 3), "227x227"])
def test_wrong_input_rank_or_size_is_named(bad):
    with pytest.raises(ValueError, match="Expected \\(height, width, channels\\)"):
        alexnet(input_shape=bad)


def test_vgg16_matches_keras_applications_names_and_count():
    ours = vgg16()
    reference = keras.applications.VGG16(weights=None)
    assert ours.count_params() == reference.count_params() == 138_357_544
    weighted = [layer.name for layer in ours.layers if layer.weights]
    assert weighted == [layer.name for layer in reference.layers if layer.weights]
    assert "block5_conv3" in weighted and "fc2" in weighted


def test_vgg16_loads_keras_vgg16_weights_file_and_gives_identical_outputs(tmp_path):
    reference = keras.applications.VGG16(weights=None)
    path = tmp_path / "vgg16.weights.h5"
    reference.save_weights(path)
    ours = vgg16(weights=str(path))
    images = RNG.uniform(0, 255, size=(2, 224, 224, 3)).astype("float32")
    images = keras.applications.vgg16.preprocess_input(images)
    np.testing.assert_allclose(ours(images), reference(images), atol=1e-6)
    no_top = vgg16(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    assert no_top.output_shape == (None, 512)


@pytest.mark.parametrize(
    ("factory", "kwargs", "count"),
    [
        (lenet, {}, 61_706),
        (small_vgg, {}, 591_274),
        (alexnet, {"input_shape": (67, 67, 3), "classes": 7}, None),
        (small_cnn, {"rescale": None, "padding": 1, "filters": (4, 8)}, None),
    ],
)
def test_our_layers_equal_keras_layers_in_every_factory(factory, kwargs, count):
    ours = factory(conv_layer="convseq", **kwargs)
    reference = factory(conv_layer="keras", **kwargs)
    if count is not None:
        assert ours.count_params() == count
    assert ours.count_params() == reference.count_params()
    reference.set_weights(ours.get_weights())
    x = RNG.uniform(0, 1, size=(2, *ours.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(ours(x), reference(x), atol=1e-5)


def test_weights_round_trip_through_a_file(tmp_path):
    model = small_vgg(input_shape=(28, 28, 1))
    path = tmp_path / "small.weights.h5"
    model.save_weights(path)
    again = small_vgg(input_shape=(28, 28, 1), weights=str(path))
    x = RNG.uniform(0, 1, size=(3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(again(x), model(x), atol=1e-6)


@pytest.mark.parametrize("factory", [alexnet, vgg16, lenet, small_vgg, small_cnn])
def test_bad_arguments_name_the_value(factory, tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        factory(weights=str(tmp_path / "missing.weights.h5"))
    with pytest.raises(ValueError, match="Received pooling='mean'"):
        factory(include_top=False, pooling="mean")


def test_conv_layer_choice_is_validated():
    with pytest.raises(ValueError, match="Received conv_layer='torch'"):
        lenet(conv_layer="torch")
