import numpy as np
import pytest

from models import cnn_feature_map_sizes, small_cnn


@pytest.mark.parametrize(
    ("kwargs", "input_shape"),
    [
        ({}, (28, 28, 1)),
        ({"filters": (8, 16, 32), "kernel_size": 5, "padding": 2}, (32, 32, 3)),
        ({"filters": (4,), "strides": 2, "padding": "valid"}, (8, 8, 1)),
    ],
)
def test_planned_sizes_equal_the_built_layers(kwargs, input_shape):
    model = small_cnn(input_shape=input_shape, **kwargs)
    for name, shape in cnn_feature_map_sizes(input_shape, **kwargs):
        assert model.get_layer(name).output.shape == (None, *shape)


def test_takes_raw_uint8_and_scales_inside():
    model = small_cnn(input_shape=(8, 8, 1), filters=(4,), dense_units=8)
    assert model.input.dtype == "uint8"
    images = np.full((2, 8, 8, 1), 255, np.uint8)
    probabilities = model.predict(images, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert model.get_layer("rescaling").scale == pytest.approx(1 / 255)


def test_parameter_count_of_the_default_training_model():
    model = small_cnn(filters=(16, 32))
    conv = (3 * 3 * 1 * 16 + 16) + (3 * 3 * 16 * 32 + 32)
    dense = (7 * 7 * 32 * 128 + 128) + (128 * 10 + 10)
    assert model.count_params() == conv + dense


def test_without_top_and_with_global_pooling():
    model = small_cnn(include_top=False, pooling="avg", filters=(4, 6))
    assert model.output_shape == (None, 6)


def test_invalid_geometry_names_the_layer_and_the_formula():
    with pytest.raises(ValueError) as error:
        small_cnn(input_shape=(8, 8, 1), filters=(4, 4, 4), padding="valid")
    message = str(error.value)
    assert "layer block2_pool" in message
    assert "floor((1 + 2*0 - 2) / 2) + 1 = 0" in message


def test_per_block_geometry():
    # 28 -> f5 s1 p0: 24 -> no pool -> f3 s2 p1: floor((24 + 2 - 3) / 2) + 1 = 12 -> pool 2: 6
    options = dict(
        filters=(4, 8), kernel_size=(5, 3), strides=(1, 2), padding=("valid", 1), pool_size=(0, 2)
    )
    sizes = cnn_feature_map_sizes((28, 28, 1), **options)
    assert sizes == [
        ("block1_conv1", (24, 24, 4)),
        ("block2_conv1", (12, 12, 8)),
        ("block2_pool", (6, 6, 8)),
    ]
    model = small_cnn(input_shape=(28, 28, 1), dense_units=0, **options)
    assert model.get_layer("block2_pool").output.shape == (None, 6, 6, 8)
    assert "block1_pool" not in [layer.name for layer in model.layers]


def test_per_dimension_padding_is_refused_not_dropped():
    with pytest.raises(ValueError, match=r"Received padding=\(1, 2\)"):
        small_cnn(filters=(4,), padding=[(1, 2)])


def test_per_block_values_must_match_the_blocks():
    with pytest.raises(ValueError, match=r"one per conv block \(2\). Received strides=\(1, 2, 1\)"):
        small_cnn(filters=(4, 8), strides=(1, 2, 1))
    with pytest.raises(ValueError, match="Received pool_size=-1"):
        small_cnn(filters=(4,), pool_size=-1)


def test_invalid_filters():
    with pytest.raises(ValueError, match="Received filters=\\(\\)"):
        small_cnn(filters=())


def test_vgg_style_blocks_stack_convs_and_stride_only_the_first():
    # 28 -> conv1 s2: 14 -> conv2 s1: 14 -> pool: 7 | 7 -> conv1 -> conv2 -> pool: 3
    sizes = cnn_feature_map_sizes((28, 28, 1), (4, 8), strides=(2, 1), convs_per_block=2)
    assert sizes == [
        ("block1_conv1", (14, 14, 4)),
        ("block1_conv2", (14, 14, 4)),
        ("block1_pool", (7, 7, 4)),
        ("block2_conv1", (7, 7, 8)),
        ("block2_conv2", (7, 7, 8)),
        ("block2_pool", (3, 3, 8)),
    ]
    model = small_cnn(input_shape=(28, 28, 1), filters=(4, 8), convs_per_block=(1, 3))
    convs = [layer.name for layer in model.layers if "_conv" in layer.name]
    assert convs == ["block1_conv1", "block2_conv1", "block2_conv2", "block2_conv3"]
    with pytest.raises(ValueError, match=r"Received convs_per_block=0"):
        small_cnn(filters=(4,), convs_per_block=0)
    with pytest.raises(ValueError, match=r"Received convs_per_block=True"):
        small_cnn(filters=(4, 8), convs_per_block=(2, True))
    with pytest.raises(ValueError, match=r"one per conv block \(2\). Received convs_per_block"):
        small_cnn(filters=(4, 8), convs_per_block=(1, 2, 3))


def test_batch_norm_comes_between_a_linear_conv_and_its_relu():
    model = small_cnn(filters=(16, 32), convs_per_block=2, batch_norm=True)
    names = [layer.name for layer in model.layers]
    start = names.index("block1_conv1")
    assert names[start : start + 7] == [
        *("block1_conv1", "block1_bn1", "block1_relu1"),
        *("block1_conv2", "block1_bn2", "block1_relu2"),
        "block1_pool",
    ]
    assert model.get_layer("block1_conv1").activation.__name__ == "linear"
    # The quality preset's model: convs (with bias) + 4 BN parameters per channel + head.
    convs = (9 * 1 * 16 + 16) + (9 * 16 * 16 + 16) + (9 * 16 * 32 + 32) + (9 * 32 * 32 + 32)
    norms = 4 * (16 + 16 + 32 + 32)
    head = (7 * 7 * 32 * 128 + 128) + (128 * 10 + 10)
    assert model.count_params() == convs + norms + head
    with pytest.raises(ValueError, match="Received batch_norm='yes'"):
        small_cnn(filters=(4,), batch_norm="yes")


def test_keras_layers_build_the_same_normalized_model():
    # Same seed, same weights, same outputs: only the conv/pool classes differ.
    import keras

    from models.layers import Conv2D, MaxPool2D

    images = np.random.default_rng(0).integers(0, 256, (2, 12, 12, 1)).astype(np.uint8)
    outputs, models = [], []
    for conv_layer in ("convseq", "keras"):
        keras.utils.set_random_seed(3)
        model = small_cnn(
            input_shape=(12, 12, 1),
            filters=(4, 8),
            convs_per_block=2,
            batch_norm=True,
            dense_units=8,
            conv_layer=conv_layer,
        )
        outputs.append(model.predict(images, verbose=0))
        models.append(model)
    ours, keras_built = models
    assert type(ours.get_layer("block1_conv2")) is Conv2D
    assert type(ours.get_layer("block1_pool")) is MaxPool2D
    assert type(keras_built.get_layer("block1_conv1")) is keras.layers.Conv2D
    assert type(keras_built.get_layer("block1_pool")) is keras.layers.MaxPooling2D
    assert [layer.name for layer in ours.layers] == [layer.name for layer in keras_built.layers]
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6)
