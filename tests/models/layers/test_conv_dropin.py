"""Our Conv1D/2D/3D as drop-ins for Keras's: arguments, configs, numbers, saving.

Each case runs Keras's own layer harness (`keras.src.testing.TestCase.run_layer_test`)
on our class, and compares ours with the Keras namesake holding the same
weights, or with a NumPy reference where Keras has no counterpart (integer
padding ``p``).

Backend note (TensorFlow on CPU): TF's CPU kernels run 1D/2D convolution
channels-last only, so Keras's own channels-first ``Conv1D``/``Conv2D`` raise
``UnimplementedError`` when called eagerly (its TF backend only switches to
XLA for 3D channels-first and grouped convolutions). The Keras reference for
channels-first is therefore run XLA-compiled (`tf.function(jit_compile=True)`),
which exercises Keras's real channels-first code path. Ours transposes around
a channels-last `ops.conv` on TensorFlow and runs eagerly either way. On a
GPU or another backend Keras's layer runs as is.
"""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src import testing

from models.layers import Conv1D, Conv2D, Conv3D
from tests.models.layers.dropin_harness import (
    FORMATS,
    assert_configs_cross_over,
    assert_signature_is_keras,
    batch_shape,
    case_id,
    config_json,
    save_and_reload,
    tf_same_pads,
)

RNG = np.random.default_rng(16)
OURS = {1: Conv1D, 2: Conv2D, 3: Conv3D}
KERAS = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 6, 4)}


def numpy_conv(x, kernel, bias, strides, pads, dilation, groups):
    """Channels-last N-D grouped, dilated, strided convolution, one kernel tap at a time."""
    rank = x.ndim - 2
    x = np.pad(x.astype("float64"), [(0, 0), *pads, (0, 0)])
    taps, in_per_group, filters = kernel.shape[:rank], kernel.shape[rank], kernel.shape[-1]
    sizes = [
        (x.shape[1 + i] - dilation[i] * (taps[i] - 1) - 1) // strides[i] + 1 for i in range(rank)
    ]
    out = np.zeros((x.shape[0], *sizes, filters))
    per_group = filters // groups
    for tap in itertools.product(*(range(n) for n in taps)):
        index = tuple(
            slice(t * d, t * d + s * (n - 1) + 1, s)
            for t, d, s, n in zip(tap, dilation, strides, sizes)
        )
        window = x[(slice(None), *index)]
        for g in range(groups):
            inputs = window[..., g * in_per_group : (g + 1) * in_per_group]
            weights = kernel[tap][:, g * per_group : (g + 1) * per_group]
            out[..., g * per_group : (g + 1) * per_group] += inputs @ weights
    return out + bias


def numpy_pads(padding, kernel_size, dilation, spatial, strides):
    """``(before, after)`` per dim for integer, causal, valid and TF-"same" padding."""
    effective = [d * (k - 1) + 1 for k, d in zip(kernel_size, dilation)]
    if padding == "valid":
        return [(0, 0)] * len(spatial)
    if padding == "causal":
        return [(effective[0] - 1, 0)]
    if padding == "same":
        return tf_same_pads(spatial, strides, effective)
    per_dim = (padding,) * len(spatial) if isinstance(padding, int) else padding
    return [(p, p) for p in per_dim]


def cases():
    """Rank 1/2/3 x both data formats x groups, dilation, strides, padding, LoRA."""
    out = []
    for rank, data_format in itertools.product((1, 2, 3), FORMATS):
        base = {"rank": rank, "data_format": data_format}
        out += [
            {**base, "padding": "valid", "strides": 1, "dilation": 1, "groups": 1},
            {**base, "padding": "same", "strides": 2, "dilation": 1, "groups": 2},
            {**base, "padding": "same", "strides": 1, "dilation": 2, "groups": 1},
            {**base, "padding": "valid", "strides": 1, "dilation": 2, "groups": 4},
            {**base, "padding": 1, "strides": 2, "dilation": 1, "groups": 2},
            {**base, "padding": (2, 0, 1)[:rank], "strides": 1, "dilation": 1, "groups": 1},
            {**base, "padding": "valid", "strides": 1, "dilation": 1, "groups": 2, "lora": "init"},
            {**base, "padding": "same", "strides": 1, "dilation": 1, "groups": 1, "lora": "enable"},
        ]
        if rank == 1:
            out += [
                {**base, "padding": "causal", "strides": 1, "dilation": 2, "groups": 1},
                {**base, "padding": "causal", "strides": 2, "dilation": 1, "groups": 2},
                {
                    **base,
                    "padding": "causal",
                    "strides": 1,
                    "dilation": 1,
                    "groups": 1,
                    "lora": "init",
                },
            ]
    return out


CASES = cases()


def make_pair(case, channels=4, filters=8):
    """Ours and (unless integer padding) Keras's layer, built, with identical random weights.

    ``filters=8`` equals no output spatial size of `CASES`: see
    `test_channels_first_bias_when_last_dim_equals_filters` for why that matters.
    """
    rank, data_format = case["rank"], case["data_format"]
    kwargs = {
        "filters": filters,
        "kernel_size": 3 if rank < 3 else (3, 2, 2),
        "strides": case["strides"],
        "padding": case["padding"],
        "data_format": data_format,
        "dilation_rate": case["dilation"],
        "groups": case["groups"],
        "activation": "tanh",
    }
    if case.get("lora") == "init":
        kwargs.update(lora_rank=2, lora_alpha=3.0)
    shape = batch_shape(SPATIAL[rank], channels, data_format)
    ours = OURS[rank](**kwargs)
    ours.build(shape)
    layers = [ours]
    if isinstance(case["padding"], str):
        reference = KERAS[rank](**kwargs)
        reference.build(shape)
        layers.append(reference)
    else:
        reference = None
    if case.get("lora") == "enable":
        for layer in layers:
            layer.enable_lora(2, lora_alpha=5.0)
    # Random values everywhere, B included, so the LoRA delta is not zero.
    ours_weights = {v.path.split("/")[-1]: v for v in ours.weights}
    for name, variable in ours_weights.items():
        value = RNG.normal(size=variable.shape).astype("float32") * 0.5
        variable.assign(value)
        if reference is not None:
            [target] = [v for v in reference.weights if v.path.split("/")[-1] == name]
            target.assign(value)
    x = RNG.normal(size=shape).astype("float32")
    return ours, reference, x


def keras_output(layer, x):
    if layer.data_format == "channels_first" and keras.backend.backend() == "tensorflow":
        # TF CPU has no NCW/NCHW conv kernel; see the module docstring.
        return tf.function(layer, jit_compile=True)(x).numpy()
    return keras.ops.convert_to_numpy(layer(x))


def numpy_output(case, ours, x):
    channels_first = case["data_format"] == "channels_first"
    x_last = np.moveaxis(x, 1, -1) if channels_first else x
    pads = numpy_pads(
        case["padding"], ours.kernel_size, ours.dilation_rate, x_last.shape[1:-1], ours.strides
    )
    kernel = keras.ops.convert_to_numpy(ours.kernel)
    bias = keras.ops.convert_to_numpy(ours.bias)
    y = np.tanh(
        numpy_conv(x_last, kernel, bias, ours.strides, pads, ours.dilation_rate, case["groups"])
    )
    return np.moveaxis(y, -1, 1) if channels_first else y


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_constructor_signature_and_defaults_are_keras(rank):
    assert_signature_is_keras(OURS[rank], KERAS[rank])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_outputs_equal_keras_and_numpy(case):
    ours, reference, x = make_pair(case)
    y = keras.ops.convert_to_numpy(ours(x))
    expected = numpy_output(case, ours, x)
    assert y.shape == expected.shape == tuple(ours.compute_output_shape(x.shape))
    np.testing.assert_allclose(y, expected, atol=1e-5, rtol=1e-5)
    if reference is not None:
        np.testing.assert_allclose(y, keras_output(reference, x), atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(ours.kernel),
            keras.ops.convert_to_numpy(reference.kernel),
            atol=1e-6,
        )
    if case.get("lora"):
        assert ours.lora_enabled and not ours._kernel.trainable
        names = sorted(v.path.split("/")[-1] for v in ours.trainable_weights)
        assert names == ["bias", "lora_kernel_a", "lora_kernel_b"]
        rank_ = ours.lora_rank
        assert tuple(ours.lora_kernel_a.shape) == (*ours._kernel.shape[:-1], rank_)
        assert tuple(ours.lora_kernel_b.shape) == (rank_, ours.filters)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_configs_cross_over(case):
    ours, reference, _ = make_pair(case)
    assert_configs_cross_over(ours, reference)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_every_keras_argument_crosses_over_non_default(rank):
    kwargs = {
        "filters": 6,
        "kernel_size": (3, 2, 2)[:rank],
        "strides": (2, 1, 1)[:rank],
        "padding": "causal" if rank == 1 else "same",
        "data_format": "channels_first",
        "dilation_rate": 1,
        "groups": 3,
        "activation": "relu",
        "use_bias": False,
        "kernel_initializer": "he_normal",
        "bias_initializer": "ones",
        "kernel_regularizer": "l2",
        "bias_regularizer": "l1",
        "activity_regularizer": "l1",
        "kernel_constraint": "non_neg",
        "bias_constraint": "unit_norm",
        "name": "conv_x",
        "dtype": "float64",
        "trainable": False,
        "lora_rank": 2,
        "lora_alpha": 0.5,
    }
    with pytest.raises(ValueError, match="kernel constraints"):
        OURS[rank](**kwargs).build((None, 6, *SPATIAL[rank]))
    del kwargs["kernel_constraint"]
    keras_config = config_json(KERAS[rank](**kwargs))
    assert config_json(OURS[rank](**kwargs)) == keras_config
    assert config_json(OURS[rank].from_config(keras_config)) == keras_config


def test_channels_first_bias_when_last_dim_equals_filters():
    """The bias goes on the channel axis even when the last spatial dim equals ``filters``.

    Keras 3.15 on TensorFlow gets this case wrong: its backend's ``ops.add``
    turns Keras's ``(1, filters, 1, 1)`` bias into an NHWC ``bias_add``
    whenever ``outputs.shape[-1] == filters``
    (``keras/src/backend/tensorflow/numpy.py``, ``add``), so its channels-first
    ``Conv2D`` adds the bias along the width. Hence the NumPy reference here.
    """
    case = {
        "rank": 2,
        "data_format": "channels_first",
        "padding": "valid",
        "strides": 1,
        "dilation": 1,
        "groups": 1,
    }
    ours, _, x = make_pair(case, filters=4)  # (7, 6) -> (5, 4): width 4 == filters
    y = keras.ops.convert_to_numpy(ours(x))
    assert y.shape == (2, 4, 5, 4)
    np.testing.assert_allclose(y, numpy_output(case, ours, x), atol=1e-5, rtol=1e-5)


LAYER_TEST_CASES = [
    (1, "channels_last", {"padding": "causal", "dilation_rate": 2}),
    (1, "channels_first", {"padding": 1, "groups": 2, "lora_rank": 2}),
    (2, "channels_last", {"padding": (1, 0), "strides": 2, "lora_rank": 3, "lora_alpha": 6}),
    (2, "channels_first", {"padding": "same", "groups": 2}),
    (3, "channels_last", {"padding": "same", "dilation_rate": 2}),
    (3, "channels_first", {"padding": 1, "strides": 2, "groups": 4}),
]


@pytest.mark.parametrize(("rank", "data_format", "extra"), LAYER_TEST_CASES)
def test_keras_layer_harness(rank, data_format, extra):
    """Keras's `run_layer_test`: serialization, build, symbolic/eager call, training, float16."""
    shape = batch_shape(SPATIAL[rank], 4, data_format)
    kwargs = {"filters": 8, "kernel_size": 2, "data_format": data_format, **extra}
    expected = OURS[rank](**kwargs).compute_output_shape(shape)
    lora = "lora_rank" in extra
    testing.TestCase().run_layer_test(
        OURS[rank],
        init_kwargs=kwargs,
        input_shape=shape,
        expected_output_shape=expected,
        expected_num_trainable_weights=3 if lora else 2,
        expected_num_non_trainable_weights=1 if lora else 0,
    )


@pytest.mark.parametrize(
    "case",
    [
        {
            "rank": 2,
            "data_format": "channels_first",
            "padding": "same",
            "strides": 1,
            "dilation": 1,
            "groups": 2,
            "lora": "enable",
        },
        {
            "rank": 1,
            "data_format": "channels_last",
            "padding": "causal",
            "strides": 1,
            "dilation": 2,
            "groups": 1,
        },
        {
            "rank": 3,
            "data_format": "channels_last",
            "padding": 1,
            "strides": 2,
            "dilation": 1,
            "groups": 1,
        },
    ],
    ids=case_id,
)
def test_keras_file_round_trip(case, tmp_path):
    ours, _, x = make_pair(case)
    model, reloaded = save_and_reload(ours, x, tmp_path)
    np.testing.assert_allclose(reloaded(x), model(x), atol=1e-5)
    if case.get("lora"):
        # As Keras: the merged kernel is saved; the LoRA factors restart at zero.
        layer = reloaded.layers[0]
        assert layer.lora_enabled
        np.testing.assert_array_equal(layer.lora_kernel_b.numpy(), 0.0)
        np.testing.assert_allclose(layer._kernel.numpy(), ours.kernel.numpy(), atol=1e-6)
