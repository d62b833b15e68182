"""Time series: CSV files with a time column and value columns, and the offline catalog series.

Sunspots and CO2 are the CSV files statsmodels ships; monthly stock prices
are the ``stocks.csv`` of vega_datasets (long format: symbol, date, price),
pivoted to one column per symbol; daily stock prices are the
``stocks.csv.gz`` of bokeh_sampledata (long format: ticker, date, OHLC,
volume), whose closing prices are pivoted the same way. Files are read
directly, without importing the packages.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from data.package_files import package_file
from data.specs import FULL
from data.splits_types import Series

SUNSPOTS_FILE = ("statsmodels", "datasets/sunspots/sunspots.csv")
CO2_FILE = ("statsmodels", "datasets/co2/co2.csv")
STOCKS_FILE = ("vega_datasets", "_data/stocks.csv")
DAILY_STOCKS_FILE = ("bokeh_sampledata", "_data/stocks.csv.gz")
DAILY_SYMBOLS = ("IBM", "AAPL", "MSFT")
"""The daily series' columns, target first: the symbols with every trading day 2000-2013."""


def read_series_csv(
    path: str | os.PathLike,
    time_column: str,
    value_columns: tuple[str, ...] = (),
    *,
    time_format: str | None = None,
) -> Series:
    """Reads a CSV file of a time column and numeric value columns, oldest first.

    Rows are sorted by time. Missing values inside the series are filled by
    linear interpolation (leading and trailing gaps by the nearest value), so
    a window never sees a NaN.

    Args:
        path: The CSV file.
        time_column: Header of the time column.
        value_columns: Headers of the value columns (empty: every other
            numeric column).
        time_format: ``strftime`` format of the time column, when pandas
            cannot infer it (e.g. ``"%Y%m%d"``).

    Returns:
        A `Series`.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If a named column is missing (the message lists the
            header), a value column is not numeric, or a column has no value.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Time-series file {str(path)!r} does not exist.")
    frame = pd.read_csv(path)
    header = list(frame.columns)
    missing = [name for name in (time_column, *value_columns) if name not in header]
    if missing:
        raise ValueError(
            f"{path} has no column {', '.join(map(repr, missing))}; its header is {header}. "
            "Pass time_column=/columns= naming the right columns."
        )
    if not value_columns:
        value_columns = tuple(
            name
            for name in header
            if name != time_column and pd.api.types.is_numeric_dtype(frame[name])
        )
        if not value_columns:
            raise ValueError(f"{path} has no numeric column besides {time_column!r}.")
    times = frame[time_column]
    if time_format or not pd.api.types.is_numeric_dtype(times):
        times = pd.to_datetime(times.astype(str), format=time_format)
    frame = frame.assign(**{time_column: times}).sort_values(time_column)
    return _series(frame, time_column, tuple(value_columns), str(path))


def _series(frame: pd.DataFrame, time_column: str, columns: tuple[str, ...], where: str) -> Series:
    values = frame[list(columns)]
    for name in columns:
        if not pd.api.types.is_numeric_dtype(values[name]):
            raise ValueError(
                f"Column {name!r} of {where} is not numeric (dtype {values[name].dtype}); "
                "name numeric value columns."
            )
        if values[name].isna().all():
            raise ValueError(f"Column {name!r} of {where} has no value.")
    values = values.interpolate(limit_direction="both")
    times = frame[time_column]
    if pd.api.types.is_datetime64_any_dtype(times):
        times = times.dt.strftime("%Y-%m-%d")
    return Series(
        times=np.asarray(times.astype(str)),
        values=values.to_numpy(dtype=np.float32),
        columns=columns,
    )


def sunspots() -> dict[str, Series]:
    """Yearly sunspot activity 1700-2008 (statsmodels' ``sunspots.csv``)."""
    path = package_file(*SUNSPOTS_FILE)
    return {FULL: read_series_csv(path, "YEAR", ("SUNACTIVITY",))}


def co2() -> dict[str, Series]:
    """Weekly Mauna Loa CO2 in ppm, 1958-2001 (statsmodels' ``co2.csv``), gaps interpolated."""
    path = package_file(*CO2_FILE)
    return {FULL: read_series_csv(path, "date", ("co2",), time_format="%Y%m%d")}


def stocks() -> dict[str, Series]:
    """Monthly closing prices 2000-2010 of five symbols (vega_datasets' ``stocks.csv``).

    Columns are ``IBM`` (first, the default target), then ``AAPL``, ``AMZN``,
    ``GOOG`` and ``MSFT``; GOOG starts in 2004 and is back-filled before.
    """
    path = package_file(*STOCKS_FILE)
    frame = pd.read_csv(path)
    frame["date"] = pd.to_datetime(frame["date"], format="%b %d %Y")
    wide = frame.pivot(index="date", columns="symbol", values="price").reset_index()
    symbols = sorted(name for name in wide.columns if name != "date")
    columns = ("IBM", *[name for name in symbols if name != "IBM"])
    return {FULL: _series(wide.sort_values("date"), "date", columns, str(path))}


def stocks_daily() -> dict[str, Series]:
    """Daily adjusted closing prices of IBM, AAPL and MSFT, 2000-03-01 to 2013-03-01.

    3,270 trading days, read from bokeh_sampledata's ``stocks.csv.gz``
    (Quandl WIKI prices, public domain): the ``Adj Close`` column, adjusted
    for splits and dividends, so AAPL's splits (2000, 2005) and MSFT's (2003)
    make no jump. ``IBM`` is first, the default target. GOOG (from 2004) and
    FB (from 2012) are left out so that no column is back-filled.
    """
    path = package_file(*DAILY_STOCKS_FILE)
    frame = pd.read_csv(path, usecols=["Ticker", "Date", "Adj Close"])
    frame = frame[frame["Ticker"].isin(DAILY_SYMBOLS)]
    frame["Date"] = pd.to_datetime(frame["Date"], format="%Y-%m-%d")
    wide = frame.pivot(index="Date", columns="Ticker", values="Adj Close").reset_index()
    return {FULL: _series(wide.sort_values("Date"), "Date", DAILY_SYMBOLS, str(path))}
