import keras
import numpy as np
import pytest

from models.conv_front import ConvSpec, ZeroMaskedSteps
from models.layers import Conv1D


def test_zero_masked_steps_zeroes_padding_and_ends_the_mask():
    x = np.arange(1, 13, dtype="float32").reshape(2, 3, 2)
    mask = np.array([[True, True, False], [True, False, False]])
    layer = ZeroMaskedSteps()
    out = layer(x, mask=mask).numpy()
    np.testing.assert_array_equal(out, x * mask[..., None])
    np.testing.assert_array_equal(out[0, 2], [0.0, 0.0])
    assert layer.compute_mask(x, mask) is None
    np.testing.assert_array_equal(layer(x).numpy(), x)  # no mask: unchanged
    assert ZeroMaskedSteps.from_config(layer.get_config()).name == layer.name


def test_the_front_is_off_by_default():
    inputs = keras.Input((5, 3))
    spec = ConvSpec()
    assert not spec.enabled
    assert spec(inputs, padding="same") is inputs


def test_the_front_stacks_our_conv1d_layers():
    inputs = keras.Input((None, 3))
    outputs = ConvSpec(filters=4, kernel_size=2, layers=3, activation="tanh")(
        inputs, padding="same"
    )
    model = keras.Model(inputs, outputs)
    convs = [layer for layer in model.layers if isinstance(layer, Conv1D)]
    assert [(c.name, c.filters, c.kernel_size) for c in convs] == [
        ("conv1d_1", 4, (2,)),
        ("conv1d_2", 4, (2,)),
        ("conv1d_3", 4, (2,)),
    ]
    assert model.count_params() == (2 * 3 * 4 + 4) + 2 * (2 * 4 * 4 + 4)
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype("float32")
    assert model(x).shape == (2, 7, 4)
    assert np.abs(model(x).numpy()).max() <= 1.0  # tanh


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Received filters=-1"):
        ConvSpec(filters=-1)
    with pytest.raises(ValueError, match="Received kernel_size=0"):
        ConvSpec(filters=4, kernel_size=0)
    with pytest.raises(ValueError, match="Received layers=0"):
        ConvSpec(filters=4, layers=0)
    with pytest.raises(ValueError, match="Received activation='nope'"):
        ConvSpec(filters=4, activation="nope")
