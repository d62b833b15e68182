import numpy as np
import pytest

from data.splits_types import Series
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


def test_daily_stocks_load_offline_with_every_trading_day():
    from data.catalog import get_spec, load_dataset
    from data.specs import FULL

    spec, splits = load_dataset("stocks_daily")
    series = splits[FULL]
    assert spec.value_columns == ("IBM",) and spec.season == 0
    assert series.columns == ("IBM", "AAPL", "MSFT")
    assert len(series) == 3270  # trading days from 2000-03-01 to 2013-03-01
    assert (series.times[0], series.times[-1]) == ("2000-03-01", "2013-03-01")
    assert list(series.times) == sorted(set(series.times))
    assert not np.isnan(series.values).any()
    # adjusted closes: IBM opened the series at 73.67 (100.25 unadjusted), closed it at 175.27
    np.testing.assert_allclose(series.values[[0, -1], 0], [73.66772, 175.27118], rtol=1e-6)
    # split-adjusted: AAPL's 2:1 split of 2005-02-28 is no jump (unadjusted close: -50%)
    day = list(series.times).index("2005-02-28")
    assert abs(series.values[day, 1] / series.values[day - 1, 1] - 1) < 0.05
    assert get_spec("stocks_daily").task == "time_series"
