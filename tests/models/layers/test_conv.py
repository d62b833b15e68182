import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers import Conv1D, Conv2D, Conv3D, conv_output_size

RNG = np.random.default_rng(0)


def numpy_conv2d(x, kernel, bias, stride, pad, dilation=1):
    """Sliding-window reference: y[n,i,j,o] = sum x[n,i*s+a*d,j*s+b*d,c] * w[a,b,c,o] + b."""
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, height, width, _ = x.shape
    f_h, f_w, _, filters = kernel.shape
    out_h = (height - dilation * (f_h - 1) - 1) // stride + 1
    out_w = (width - dilation * (f_w - 1) - 1) // stride + 1
    out = np.zeros((n, out_h, out_w, filters))
    for i in range(out_h):
        for j in range(out_w):
            for a in range(f_h):
                for b in range(f_w):
                    patch = x[:, i * stride + a * dilation, j * stride + b * dilation, :]
                    out[:, i, j, :] += patch @ kernel[a, b]
    return out + bias


def keras_pair(filters, f, s, padding, input_shape):
    """Our layer and Keras's Conv2D with copied weights, plus Keras's padded input fn."""
    ours = Conv2D(filters, f, strides=s, padding=padding)
    ours.build(input_shape)
    ours.kernel.assign(RNG.normal(size=ours.kernel.shape).astype("float32"))
    ours.bias.assign(RNG.normal(size=ours.bias.shape).astype("float32"))
    if isinstance(padding, int):
        reference = keras.layers.Conv2D(filters, f, strides=s, padding="valid")
        pad = keras.layers.ZeroPadding2D(padding)
    else:
        reference = keras.layers.Conv2D(filters, f, strides=s, padding=padding)
        pad = keras.layers.Identity()
    padded_shape = pad.compute_output_shape(input_shape)
    reference.build(padded_shape)
    reference.set_weights(ours.get_weights())
    return ours, reference, pad


GRID = list(itertools.product([1, 2, 3, 5], [1, 2, 3], ["valid", "same", 1, 2]))


@pytest.mark.parametrize(("f", "s", "padding"), GRID)
def test_outputs_and_gradients_equal_keras_conv2d(f, s, padding):
    input_shape = (2, 11, 13, 3)
    ours, reference, pad = keras_pair(4, f, s, padding, input_shape)
    x = tf.constant(RNG.normal(size=input_shape).astype("float32"))
    upstream = None
    results = []
    for layer, prepare in ((ours, lambda t: t), (reference, pad)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(prepare(x))
            if upstream is None:
                upstream = tf.constant(RNG.normal(size=y.shape).astype("float32"))
            loss = tf.reduce_sum(y * upstream)
        grads = tape.gradient(loss, [x, layer.kernel, layer.bias])
        results.append((y, grads))
    (y_ours, g_ours), (y_ref, g_ref) = results
    assert y_ours.shape == y_ref.shape
    np.testing.assert_allclose(y_ours, y_ref, atol=1e-5, rtol=1e-5)
    for grad_ours, grad_ref in zip(g_ours, g_ref):
        np.testing.assert_allclose(grad_ours, grad_ref, atol=1e-5, rtol=1e-5)
    # The output-size contract: floor((H + 2p - f) / s) + 1 per spatial dim.
    expected = [conv_output_size(size, f, s, padding) for size in input_shape[1:3]]
    assert list(y_ours.shape[1:3]) == expected
    assert tuple(ours.compute_output_shape(input_shape)) == tuple(y_ours.shape)


@pytest.mark.parametrize(
    ("f", "s", "pad", "dilation"),
    [(1, 1, 0, 1), (2, 1, 0, 1), (3, 2, 1, 1), (3, 1, 2, 1), (2, 3, 1, 1), (3, 1, 0, 2)],
)
def test_equals_numpy_sliding_window_reference(f, s, pad, dilation):
    x = RNG.normal(size=(2, 7, 6, 2)).astype("float32")
    layer = Conv2D(3, f, strides=s, padding=pad, dilation_rate=dilation)
    layer.build(x.shape)
    kernel = RNG.normal(size=layer.kernel.shape).astype("float32")
    bias = RNG.normal(size=(3,)).astype("float32")
    layer.set_weights([kernel, bias])
    expected = numpy_conv2d(x, kernel, bias, s, pad, dilation)
    np.testing.assert_allclose(layer(x), expected, atol=1e-5)


def test_basics_shape_weights_config_and_training_step():
    layer = Conv2D(8, (3, 5), strides=(2, 1), padding=1, activation="relu", name="c")
    y = layer(np.zeros((4, 10, 12, 3), "float32"))
    assert y.shape == (4, 5, 10, 8)
    assert [tuple(w.shape) for w in layer.weights] == [(3, 5, 3, 8), (8,)]
    assert layer.count_params() == 3 * 5 * 3 * 8 + 8

    config = layer.get_config()
    assert config["padding"] == (1, 1) and config["kernel_size"] == (3, 5)
    clone = Conv2D.from_config(config)
    assert clone.get_config() == config

    no_bias = Conv2D(2, 3, use_bias=False)
    no_bias.build((None, 5, 5, 1))
    assert len(no_bias.weights) == 1

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            Conv2D(2, 3, padding=1),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x = RNG.normal(size=(16, 6, 6, 1)).astype("float32")
    target = RNG.normal(size=(16, 1)).astype("float32")
    before = model.layers[0].kernel.numpy().copy()
    first = model.train_on_batch(x, target)
    for _ in range(5):
        last = model.train_on_batch(x, target)
    assert not np.allclose(before, model.layers[0].kernel.numpy())
    assert last < first


def test_keras_file_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((9, 9, 2)), Conv2D(3, 3, strides=2, padding=2)])
    x = RNG.normal(size=(2, 9, 9, 2)).astype("float32")
    path = tmp_path / "conv.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded.layers[0], Conv2D)
    np.testing.assert_allclose(reloaded(x), model(x), atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": 0, "kernel_size": 3}, "Received filters=0"),
        ({"filters": 4, "kernel_size": 0}, "Received kernel_size=0"),
        ({"filters": 4, "kernel_size": 3, "strides": 0}, "Received strides=0"),
        ({"filters": 4, "kernel_size": 3, "padding": "full"}, "Received padding='full'"),
        ({"filters": 4, "kernel_size": 3, "padding": -2}, "Received padding=-2"),
        ({"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ],
)
def test_invalid_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2D(**kwargs)


def test_input_too_small_reports_the_computed_size():
    layer = Conv2D(4, 5, strides=1, padding=0, name="tiny")
    with pytest.raises(ValueError) as error:
        layer(np.zeros((1, 3, 3, 1), "float32"))
    message = str(error.value)
    assert "'tiny'" in message
    assert "floor((3 + 2*0 - 5) / 1) + 1 = -1" in message


def test_wrong_input_rank_is_reported():
    with pytest.raises(ValueError, match="rank 4"):
        Conv2D(4, 3).build((None, 28, 28))


@pytest.mark.parametrize(
    ("layer", "input_shape", "output_shape", "kernel_shape"),
    [
        (
            Conv1D(6, 3, padding="causal", dilation_rate=2, groups=2),
            (2, 9, 4),
            (2, 9, 6),
            (3, 2, 6),
        ),
        (Conv1D(4, 2, strides=2, padding=1), (2, 7, 3), (2, 4, 4), (2, 3, 4)),
        (
            Conv3D(4, (3, 1, 2), padding=(1, 0, 0)),
            (1, 5, 4, 3, 2),
            (1, 5, 4, 2, 4),
            (3, 1, 2, 2, 4),
        ),
        (
            Conv2D(4, 3, strides=2, padding="same", data_format="channels_first", groups=2),
            (1, 6, 9, 8),
            (1, 4, 5, 4),
            (3, 3, 3, 4),
        ),
    ],
)
def test_every_rank_shapes_and_weights(layer, input_shape, output_shape, kernel_shape):
    y = layer(np.ones(input_shape, "float32"))
    assert y.shape == output_shape == tuple(layer.compute_output_shape(input_shape))
    assert tuple(layer.kernel.shape) == kernel_shape
    assert [w.path.split("/")[-1] for w in layer.weights] == ["kernel", "bias"]


def test_causal_output_never_sees_the_future():
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = RNG.normal(size=(1, 12, 3)).astype("float32")
    changed = x.copy()
    changed[:, 7:] += 1.0
    y, y_changed = np.asarray(layer(x)), np.asarray(layer(changed))
    np.testing.assert_allclose(y[:, :7], y_changed[:, :7], atol=1e-6)
    assert not np.allclose(y[:, 7:], y_changed[:, 7:])


def test_data_format_none_follows_the_keras_config():
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        layer = Conv2D(3, 2)
    finally:
        keras.config.set_image_data_format(previous)
    assert layer.data_format == "channels_first"
    assert layer(np.zeros((1, 2, 5, 5), "float32")).shape == (1, 3, 4, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"groups": 0}, "Received groups=0"),
        ({"groups": 3}, "Received groups=3 and filters=4"),
        ({"padding": "causal"}, r"only supported by 1D .*Received padding='causal'"),
        ({"data_format": "NHWC"}, "Received data_format='NHWC'"),
        ({"lora_rank": 0}, "Received lora_rank=0"),
        ({"lora_rank": 2, "lora_alpha": "big"}, "Received lora_alpha='big'"),
    ],
)
def test_new_arguments_raise_value_errors_naming_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2D(4, 3, **kwargs)


def test_input_channels_must_divide_by_groups():
    with pytest.raises(ValueError, match=r"divisible by groups=2\. Received 3 channels"):
        Conv2D(4, 3, groups=2).build((None, 8, 8, 3))


def test_lora_trains_only_the_low_rank_factors():
    layer = Conv2D(4, 3, padding=1, name="lora")
    x = RNG.normal(size=(2, 6, 6, 2)).astype("float32")
    with pytest.raises(AttributeError, match="build it"):
        _ = layer.kernel
    with pytest.raises(ValueError, match="not built"):
        layer.enable_lora(2)
    before = np.asarray(layer(x))
    frozen = layer._kernel.numpy().copy()
    layer.enable_lora(2, lora_alpha=4)
    assert (layer.lora_rank, layer.lora_alpha) == (2, 4)
    assert layer.get_config()["lora_rank"] == 2 and layer.get_config()["lora_alpha"] == 4
    np.testing.assert_allclose(layer(x), before, atol=1e-6)  # B starts at zero
    with pytest.raises(ValueError, match="already has LoRA enabled"):
        layer.enable_lora(2)

    model = keras.Sequential([keras.Input((6, 6, 2)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.train_on_batch(x, np.ones((2, 6, 6, 4), "float32"))
    np.testing.assert_array_equal(layer._kernel.numpy(), frozen)
    assert np.abs(layer.lora_kernel_b.numpy()).sum() > 0
    scale = 4 / 2
    merged = frozen + scale * layer.lora_kernel_a.numpy() @ layer.lora_kernel_b.numpy()
    np.testing.assert_allclose(layer.kernel.numpy(), merged, atol=1e-6)
    expected = numpy_conv2d(x, merged, layer.bias.numpy(), 1, 1)
    np.testing.assert_allclose(layer(x), expected, atol=1e-5)
