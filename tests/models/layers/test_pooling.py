import itertools

import keras
import numpy as np
import pytest

from models.layers import (
    AveragePooling1D,
    AveragePooling2D,
    BasePooling,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    conv_output_size,
)

RNG = np.random.default_rng(1)


def numpy_max_pool(x, f, s, pad):
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=-np.inf)
    _, height, width, _ = x.shape
    out_h, out_w = (height - f) // s + 1, (width - f) // s + 1
    out = np.empty((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * s : i * s + f, j * s : j * s + f].max(axis=(1, 2))
    return out


@pytest.mark.parametrize(
    ("f", "s", "padding"), list(itertools.product([1, 2, 3], [1, 2, 3], ["valid", "same"]))
)
def test_equals_keras_max_pool(f, s, padding):
    x = RNG.normal(size=(2, 9, 10, 3)).astype("float32")
    ours = MaxPool2D(f, s, padding)(x)
    reference = keras.layers.MaxPool2D(f, s, padding)(x)
    np.testing.assert_allclose(ours, reference, atol=1e-6)


@pytest.mark.parametrize(("f", "s", "pad"), [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 1), (5, 3, 2)])
def test_integer_padding_equals_numpy_reference(f, s, pad):
    x = RNG.normal(size=(2, 9, 10, 3)).astype("float32") - 5.0  # all negative: pad must not win
    y = MaxPool2D(f, s, pad)(x)
    np.testing.assert_allclose(y, numpy_max_pool(x, f, s, pad), atol=1e-6)
    assert list(y.shape[1:3]) == [conv_output_size(n, f, s, pad) for n in (9, 10)]


def test_config_round_trip_and_defaults():
    layer = MaxPool2D()
    assert layer.pool_size == (2, 2) and layer.strides == (2, 2) and layer.padding == "valid"
    config = MaxPool2D(3, 2, 1, name="p").get_config()
    assert MaxPool2D.from_config(config).get_config() == config


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Received pool_size=0"):
        MaxPool2D(0)
    with pytest.raises(ValueError, match="p <= f // 2"):
        MaxPool2D(2, padding=2)
    with pytest.raises(ValueError, match=r"floor\(\(1 \+ 2\*0 - 2\) / 2\) \+ 1 = 0"):
        MaxPool2D(2)(np.zeros((1, 1, 1, 1), "float32"))


def test_stateless_layers_are_built_on_creation():
    for layer in (MaxPool1D(), MaxPool2D(), MaxPool3D(), AveragePooling2D(2)):
        assert layer.built and not layer.weights


def test_average_with_integer_padding_counts_real_entries_only():
    x = np.array([1.0, 2.0, 3.0, 4.0], "float32").reshape(1, 4, 1)
    y = AveragePooling1D(3, strides=1, padding=1)(x)
    # windows [pad, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, pad]
    np.testing.assert_allclose(np.asarray(y).ravel(), [1.5, 2.0, 3.0, 3.5], atol=1e-6)
    first = AveragePooling2D(3, strides=2, padding=1)(np.ones((1, 5, 5, 2), "float32"))
    np.testing.assert_allclose(first, np.ones((1, 3, 3, 2)), atol=1e-6)  # not 4/9 at corners


def test_channels_first_equals_transposed_channels_last():
    x = RNG.normal(size=(2, 3, 8, 7)).astype("float32")
    for cls in (MaxPool2D, AveragePooling2D):
        first = cls(3, 2, 1, data_format="channels_first")(x)
        last = cls(3, 2, 1, data_format="channels_last")(np.moveaxis(x, 1, -1))
        np.testing.assert_allclose(first, np.moveaxis(np.asarray(last), -1, 1), atol=1e-6)


def test_new_arguments_are_validated():
    with pytest.raises(ValueError, match="Received data_format='NCHW'"):
        MaxPool2D(data_format="NCHW")
    with pytest.raises(ValueError, match="only supported by 1D"):
        MaxPool1D(padding="causal")
    with pytest.raises(ValueError, match="Received pool_mode='min'"):
        BasePooling(2, 2, pool_mode="min")
    with pytest.raises(TypeError):
        AveragePooling2D()  # pool_size is required, as in Keras
    with pytest.raises(ValueError, match="expects inputs of rank 5"):
        MaxPool3D().compute_output_shape((1, 4, 4, 2))
