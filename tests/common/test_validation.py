import fractions

import pytest

from common.validation import (
    check_fraction,
    check_non_negative,
    check_non_negative_int,
    check_positive_int,
    check_rate,
    check_warp,
)


class _NumpyLikeInt(int):  # numbers.Integral, like numpy.int64
    pass


def test_positive_ints():
    assert check_positive_int("units", 3) == 3
    value = check_positive_int("units", _NumpyLikeInt(2))
    assert value == 2 and type(value) is int
    for bad in (0, -1, 2.0, True, "4", None):
        with pytest.raises(ValueError) as info:
            check_positive_int("units", bad)
        assert str(info.value) == (
            "Invalid value for argument `units`. Expected a strictly positive integer. "
            f"Received units={bad!r}."
        )


def test_positive_int_accepts_numpy_integers():
    np = pytest.importorskip("numpy")
    value = check_positive_int("units", np.int64(5))
    assert value == 5 and type(value) is int


def test_non_negative_ints():
    assert check_non_negative_int("index", 0) == 0
    assert check_non_negative_int("index", 7) == 7
    for bad in (-1, 1.0, False, "0", None):
        with pytest.raises(ValueError, match=rf"`index`. Expected an integer >= 0. .*={bad!r}\."):
            check_non_negative_int("index", bad)


def test_fractions():
    assert check_fraction("validation_split", 0.25) == 0.25
    assert check_fraction("validation_split", fractions.Fraction(1, 4)) == 0.25
    for bad in (0, 1, 1.5, -0.1, True, "0.2", None, float("nan")):
        with pytest.raises(ValueError) as info:
            check_fraction("validation_split", bad)
        assert str(info.value) == (
            "Invalid value for argument `validation_split`. Expected a value in (0, 1). "
            f"Received validation_split={bad!r}."
        )


def test_rates():
    assert check_rate("dropout", 0) == 0.0
    assert check_rate("dropout", 0.5) == 0.5
    for bad in (1.0, -0.1, "0.2", None, True, float("nan")):
        with pytest.raises(ValueError, match=r"`dropout`. Expected a rate in \[0, 1\)"):
            check_rate("dropout", bad)


def test_warps():
    assert check_warp("frequency_warp", 0) == 0.0
    assert check_warp("frequency_warp", 0.5) == 0.5
    for bad in (0.51, -0.1, "0.2", None, True, float("nan")):
        with pytest.raises(ValueError) as info:
            check_warp("frequency_warp", bad)
        assert str(info.value) == (
            "Invalid value for argument `frequency_warp`. Expected a number in [0, 0.5]. "
            f"Received frequency_warp={bad!r}."
        )


def test_rate_accepts_numpy_floats():
    np = pytest.importorskip("numpy")
    value = check_rate("dropout", np.float32(0.25))
    assert value == 0.25 and type(value) is float


def test_non_negative_numbers():
    assert check_non_negative("l2", 0) == 0.0
    assert check_non_negative("l2", 1e-4) == 1e-4
    for bad in (-1e-9, float("nan"), True, "0.1", None):
        with pytest.raises(ValueError, match=r"`l2`. Expected 0 \(off\) or a positive number"):
            check_non_negative("l2", bad)


def test_check_bool_takes_only_true_or_false():
    from common.validation import check_bool

    assert check_bool("batch_norm", True) is True and check_bool("batch_norm", False) is False
    for value in (1, 0, "true", None):
        with pytest.raises(ValueError, match=rf"`batch_norm`. Expected True or False.*{value!r}"):
            check_bool("batch_norm", value)


def test_check_filters_takes_a_list_of_positive_ints():
    from common.validation import check_filters

    assert check_filters("filters", [8, 16]) == (8, 16)
    for bad in ((), (8, 0), (8, True), "8,16", (8.0,)):
        with pytest.raises(ValueError, match="one positive int per conv block"):
            check_filters("filters", bad)
