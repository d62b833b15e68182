import numpy as np
import pytest

from data.specs import Series
from data.timeseries import read_series_csv


def test_rows_are_sorted_and_gaps_interpolated(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("day,temp,rain\n2020-01-03,3,0\n2020-01-01,1,1\n2020-01-02,,2\n")
    series = read_series_csv(path, "day")
    assert series.columns == ("temp", "rain")
    assert series.times.tolist() == ["2020-01-01", "2020-01-02", "2020-01-03"]
    np.testing.assert_allclose(series.values, [[1, 1], [2, 2], [3, 0]])


def test_a_missing_column_lists_the_header(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("day,temp\n1,2\n")
    with pytest.raises(ValueError, match=r"no column 'price'; its header is \['day', 'temp'\]"):
        read_series_csv(path, "day", ("price",))


def test_a_text_value_column_is_an_error(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("day,city\n1,Oslo\n2,Rome\n")
    with pytest.raises(ValueError, match="Column 'city' .* is not numeric"):
        read_series_csv(path, "day", ("city",))


def test_select_names_missing_columns():
    series = Series(np.array(["1", "2"]), np.zeros((2, 2), np.float32), ("a", "b"))
    assert series.select(("b",)).columns == ("b",)
    with pytest.raises(ValueError, match=r"no column 'c'; its columns are \['a', 'b'\]"):
        series.select(("c",))
