import numpy as np
import pytest

from models.validation import check_positive_int, check_rate


def test_positive_ints():
    assert check_positive_int("units", 3) == 3
    assert check_positive_int("units", np.int64(2)) == 2
    for bad in (0, -1, 2.0, True, "4", None):
        with pytest.raises(ValueError, match=rf"argument `units`.*Received units={bad!r}\."):
            check_positive_int("units", bad)


def test_rates():
    assert check_rate("dropout", 0) == 0.0
    assert check_rate("dropout", 0.5) == 0.5
    for bad in (1.0, -0.1, "0.2", None):
        with pytest.raises(ValueError, match=r"Expected a rate in \[0, 1\)"):
            check_rate("dropout", bad)
