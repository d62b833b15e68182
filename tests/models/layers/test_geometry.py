import itertools
import math
import re

import keras
import numpy as np
import pytest

from models.layers.geometry import (
    conv_output_size,
    explicit_padding,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    spatial_dims,
    spatial_pad_widths,
)


@pytest.mark.parametrize(
    ("size", "f", "s", "p", "expected"),
    [
        (28, 3, 1, 0, 26),
        (28, 5, 1, 2, 28),
        (227, 11, 4, 0, 55),  # AlexNet conv1
        (224, 3, 1, 1, 224),  # VGG16 CONV3
        (224, 2, 2, 0, 112),  # VGG16 POOL2
        (7, 3, 2, 1, 4),
        (5, 5, 1, 0, 1),
    ],
)
def test_conv_output_size_is_the_formula(size, f, s, p, expected):
    assert conv_output_size(size, f, s, p) == expected
    assert expected == math.floor((size + 2 * p - f) / s) + 1


def test_valid_is_zero_padding_and_same_is_ceil():
    for size in range(1, 20):
        for stride in (1, 2, 3):
            assert conv_output_size(size, 1, stride, "valid") == conv_output_size(
                size, 1, stride, 0
            )
            assert conv_output_size(size, 3, stride, "same") == math.ceil(size / stride)


def test_dilation_uses_effective_filter_size():
    # d=2, k=3 -> effective f = 5
    assert conv_output_size(10, 3, 1, 0, dilation_rate=2) == 6


def test_unknown_size_stays_unknown():
    assert conv_output_size(None, 3, 2, "same") is None


def test_empty_output_names_the_values_and_formula():
    with pytest.raises(ValueError) as error:
        conv_output_size(5, 7, 1, 0)
    message = str(error.value)
    assert "floor((H + 2p - f) / s) + 1" in message
    assert "floor((5 + 2*0 - 7) / 1) + 1 = -1" in message
    assert "H=5" in message and "s=1" in message


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"stride": 0}, "stride"),
        ({"padding": -1}, "padding"),
        ({"padding": "full"}, "padding"),
        ({"dilation_rate": 0}, "dilation_rate"),
    ],
)
def test_invalid_arguments_are_named(kwargs, name):
    arguments = {"size": 10, "kernel_size": 3, "stride": 1, "padding": 0, **kwargs}
    with pytest.raises(ValueError, match=f"argument `{name}`"):
        conv_output_size(**arguments)


def test_normalizers():
    assert normalize_tuple(3, 2, "kernel_size") == (3, 3)
    assert normalize_tuple([2, 4], 2, "kernel_size") == (2, 4)
    assert normalize_padding("SAME", 2) == "same"
    assert normalize_padding("2", 2) == (2, 2)
    assert normalize_padding((1, 0), 2) == (1, 0)
    with pytest.raises(ValueError, match="Received kernel_size=True"):
        normalize_tuple(True, 2, "kernel_size")


def test_layer_padding_builds_on_the_one_parser():
    # every form parse_padding takes, spread over the spatial dimensions
    assert normalize_padding(" Valid ", 3) == "valid"
    assert normalize_padding(np.int64(1), 2) == (1, 1)
    assert normalize_padding(0, 1) == (0,)
    for bad in ("full", -1, "-1", True, 1.5, (1,), (1, -1), None):
        with pytest.raises(
            ValueError, match=rf"`padding`.*Received padding={re.escape(repr(bad))}\."
        ):
            normalize_padding(bad, 2)


def test_conv_output_size_takes_parsed_and_unparsed_padding():
    assert conv_output_size(28, 5, 1, "2") == conv_output_size(28, 5, 1, 2) == 28
    assert conv_output_size(28, 5, 2, " SAME ") == 14
    with pytest.raises(ValueError, match="Received padding='full'"):
        conv_output_size(28, 5, 1, "full")


def test_conv_output_size_of_every_rank():
    assert conv_output_size((28, 28), 5, 1, 2) == (28, 28)
    assert conv_output_size((32, 32, None), 3, (1, 2, 2), "same") == (32, 16, None)
    assert conv_output_size((10, 9, 8), (3, 2, 1), (1, 2, 3), (1, 0, 2), (2, 1, 1)) == (8, 4, 4)
    assert conv_output_size([7], 3) == (5,)
    # per dim it is the 1-D formula
    for size, f, s, p in itertools.product((5, 8), (1, 3), (1, 2), (0, 1)):
        assert conv_output_size((size, size + 1), f, s, p) == (
            conv_output_size(size, f, s, p),
            conv_output_size(size + 1, f, s, p),
        )


def test_causal_is_ceil_of_size_over_stride():
    for size, stride, dilation in itertools.product(range(1, 12), (1, 2, 3), (1, 2)):
        expected = math.ceil(size / stride)
        assert conv_output_size(size, 3, stride, "causal", dilation) == expected
        # causal pads d*(k-1) in front: a "valid" window over the longer input
        assert conv_output_size(size + dilation * 2, 3, stride, "valid", dilation) == expected


def test_multi_rank_errors_name_the_value():
    with pytest.raises(ValueError, match=r"Received kernel_size=\(3, 3\)"):
        conv_output_size((5, 5, 5), (3, 3))
    with pytest.raises(ValueError, match=r"Received size=\(5, 0\)"):
        conv_output_size((5, 0), 3)
    with pytest.raises(ValueError, match=r"floor\(\(4 \+ 2\*0 - 5\) / 1\) \+ 1 = 0"):
        conv_output_size((9, 4), 5)


def test_causal_padding_only_where_allowed():
    assert normalize_padding(" Causal ", 1, allow_causal=True) == "causal"
    with pytest.raises(ValueError, match=r"only supported by 1D.*Received padding='causal'\."):
        normalize_padding("causal", 2)
    with pytest.raises(ValueError, match=r"'valid', 'same', 'causal'.*Received padding='full'\."):
        normalize_padding("full", 1, allow_causal=True)


def test_data_format_and_pad_widths():
    assert normalize_data_format("Channels_First") == "channels_first"
    assert normalize_data_format(None) == keras.config.image_data_format()
    for bad in ("nchw", 1, ""):
        with pytest.raises(ValueError, match=rf"Received data_format={re.escape(repr(bad))}\."):
            normalize_data_format(bad)
    assert spatial_pad_widths([(1, 2), (0, 3)], "channels_last") == [
        [0, 0],
        [1, 2],
        [0, 3],
        [0, 0],
    ]
    assert spatial_pad_widths([(4, 0)], "channels_first") == [[0, 0], [0, 0], [4, 0]]


def test_explicit_padding_runs_integer_and_causal_padding_as_pad_then_valid():
    assert explicit_padding("same", "channels_first") == ("same", None)
    assert explicit_padding("valid", "channels_last", causal_pad=2) == ("valid", None)
    assert explicit_padding((0, 0), "channels_last") == ("valid", None)
    assert explicit_padding((1, 2), "channels_first") == (
        "valid",
        ((0, 0), (0, 0), (1, 1), (2, 2)),
    )
    assert explicit_padding("causal", "channels_last", causal_pad=4) == (
        "valid",
        ((0, 0), (4, 0), (0, 0)),
    )
    assert explicit_padding("causal", "channels_last", causal_pad=0) == ("valid", None)


def test_spatial_dims_of_either_layout():
    assert spatial_dims((2, 7, 6, 3), "channels_last") == (7, 6)
    assert spatial_dims([2, 3, None, 6], "channels_first") == (None, 6)
