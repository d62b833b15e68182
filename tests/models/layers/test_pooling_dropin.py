"""Our max/average pooling of every rank as drop-ins for Keras's.

Each case runs Keras's own layer harness (`keras.src.testing.TestCase.run_layer_test`,
including "stateless layers are built on creation") on our class, and
compares ours with the Keras namesake, and with a NumPy reference that also
covers integer padding ``p`` (which Keras lacks).

Backend note (TensorFlow): TF pooling kernels are channels-last only; Keras's
TF backend transposes channels-first inputs itself, and so does ours through
`keras.ops.max_pool`/`average_pool`, on CPU and GPU alike.
"""

import itertools

import keras
import numpy as np
import pytest
from keras.src import testing
from numpy.lib.stride_tricks import sliding_window_view

from models.layers import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from tests.models.layers.dropin_harness import (
    FORMATS,
    assert_configs_cross_over,
    assert_signature_is_keras,
    batch_shape,
    case_id,
    save_and_reload,
    tf_same_pads,
)

RNG = np.random.default_rng(17)
OURS = {
    ("max", 1): MaxPool1D,
    ("max", 2): MaxPool2D,
    ("max", 3): MaxPool3D,
    ("average", 1): AveragePooling1D,
    ("average", 2): AveragePooling2D,
    ("average", 3): AveragePooling3D,
}
KERAS = {
    ("max", 1): keras.layers.MaxPooling1D,
    ("max", 2): keras.layers.MaxPooling2D,
    ("max", 3): keras.layers.MaxPooling3D,
    ("average", 1): keras.layers.AveragePooling1D,
    ("average", 2): keras.layers.AveragePooling2D,
    ("average", 3): keras.layers.AveragePooling3D,
}
KINDS = list(OURS)
SPATIAL = {1: (11,), 2: (7, 9), 3: (5, 6, 7)}


def numpy_pool(x, mode, pool_size, strides, pads):
    """Channels-last pooling; padded entries are NaN, so they never count (nanmax/nanmean)."""
    x = np.pad(x.astype("float64"), [(0, 0), *pads, (0, 0)], constant_values=np.nan)
    rank = x.ndim - 2
    axes = tuple(range(1, rank + 1))
    windows = sliding_window_view(x, pool_size, axis=axes)
    windows = windows[(slice(None), *(slice(None, None, s) for s in strides))]
    reduce = np.nanmax if mode == "max" else np.nanmean
    return reduce(windows, axis=tuple(range(-rank, 0)))


def numpy_pads(padding, pool_size, strides, spatial):
    if padding == "valid":
        return [(0, 0)] * len(spatial)
    if padding == "same":
        return tf_same_pads(spatial, strides, pool_size)
    return [(p, p) for p in padding]


def cases():
    out = []
    for (mode, rank), data_format in itertools.product(KINDS, FORMATS):
        base = {"mode": mode, "rank": rank, "data_format": data_format}
        out += [
            {**base, "pool_size": 2, "strides": None, "padding": "valid"},
            {**base, "pool_size": 3, "strides": 2, "padding": "same"},
            {**base, "pool_size": (3, 2, 2)[:rank], "strides": 1, "padding": "same"},
            {**base, "pool_size": 3, "strides": 2, "padding": 1},
            {**base, "pool_size": (2, 3, 3)[:rank], "strides": 1, "padding": (1, 0, 1)[:rank]},
        ]
    return out


CASES = cases()


def make(case):
    kind = (case["mode"], case["rank"])
    kwargs = {k: case[k] for k in ("pool_size", "strides", "padding", "data_format")}
    shape = batch_shape(SPATIAL[case["rank"]], 3, case["data_format"])
    # All negative, so a zero-padded max would show.
    x = RNG.normal(size=shape).astype("float32") - 4.0
    ours = OURS[kind](**kwargs)
    reference = KERAS[kind](**kwargs) if isinstance(case["padding"], str) else None
    return ours, reference, x


def numpy_output(case, ours, x):
    channels_first = case["data_format"] == "channels_first"
    x_last = np.moveaxis(x, 1, -1) if channels_first else x
    pads = numpy_pads(ours.padding, ours.pool_size, ours.strides, x_last.shape[1:-1])
    y = numpy_pool(x_last, case["mode"], ours.pool_size, ours.strides, pads)
    return np.moveaxis(y, -1, 1) if channels_first else y


@pytest.mark.parametrize("kind", KINDS)
def test_constructor_signature_and_defaults_are_keras(kind):
    assert_signature_is_keras(OURS[kind], KERAS[kind])


def test_aliases_are_the_same_classes():
    assert (MaxPooling1D, MaxPooling2D, MaxPooling3D) == (MaxPool1D, MaxPool2D, MaxPool3D)
    assert (AvgPool1D, AvgPool2D, AvgPool3D) == (
        AveragePooling1D,
        AveragePooling2D,
        AveragePooling3D,
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_outputs_equal_keras_and_numpy(case):
    ours, reference, x = make(case)
    assert ours.built  # stateless: built on creation, as Keras's
    y = keras.ops.convert_to_numpy(ours(x))
    expected = numpy_output(case, ours, x)
    assert y.shape == expected.shape == tuple(ours.compute_output_shape(x.shape))
    np.testing.assert_allclose(y, expected, atol=1e-5, rtol=1e-5)
    if reference is not None:
        np.testing.assert_allclose(y, keras.ops.convert_to_numpy(reference(x)), atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_configs_cross_over(case):
    ours, reference, _ = make(case)
    assert_configs_cross_over(ours, reference)


@pytest.mark.parametrize(
    ("kind", "data_format", "padding"),
    [
        (("max", 1), "channels_first", 1),
        (("max", 2), "channels_last", "same"),
        (("max", 3), "channels_first", "valid"),
        (("average", 1), "channels_last", "same"),
        (("average", 2), "channels_first", 1),
        (("average", 3), "channels_last", (1, 0, 1)),
    ],
)
def test_keras_layer_harness(kind, data_format, padding):
    """Keras's `run_layer_test`, with its built-after-instantiation check."""
    shape = batch_shape(SPATIAL[kind[1]], 3, data_format)
    kwargs = {"pool_size": 3, "strides": 2, "padding": padding, "data_format": data_format}
    testing.TestCase().run_layer_test(
        OURS[kind],
        init_kwargs=kwargs,
        input_shape=shape,
        expected_output_shape=OURS[kind](**kwargs).compute_output_shape(shape),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        assert_built_after_instantiation=True,
        run_training_check=False,
        # TF has no float16 MaxPool3D/AvgPool3D kernel on CPU: Keras's own 3D
        # pooling raises NotFoundError under mixed_float16 there too (its
        # tests skip this check).
        run_mixed_precision_check=kind[1] != 3,
    )


@pytest.mark.parametrize(
    "case",
    [
        {
            "mode": "average",
            "rank": 2,
            "data_format": "channels_first",
            "pool_size": 3,
            "strides": 1,
            "padding": 1,
        },
        {
            "mode": "max",
            "rank": 3,
            "data_format": "channels_last",
            "pool_size": 2,
            "strides": None,
            "padding": "same",
        },
    ],
    ids=case_id,
)
def test_keras_file_round_trip(case, tmp_path):
    ours, _, x = make(case)
    _, reloaded = save_and_reload(ours, x, tmp_path)
    np.testing.assert_allclose(reloaded(x), numpy_output(case, ours, x), atol=1e-5)
