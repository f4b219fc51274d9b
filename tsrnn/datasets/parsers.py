"""Reading the shipped CSV files: one parser per file layout.

Every column's dtype is fixed, so a corrupted file fails loudly instead of
coming back as strings; a header that differs from the expected one is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.calendar import trading_calendar


def read_frame(
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
    check_header(df, path, ["timestamp", *dtypes])
    stamps = pd.to_datetime(df.pop("timestamp"), format="ISO8601")
    df.index = pd.DatetimeIndex(stamps, freq=freq, name="timestamp")
    return df


def with_trading_calendar(df: pd.DataFrame, holidays: str) -> pd.DataFrame:
    """``df`` with ``index.freq`` set to its trading calendar.

    The weekdays the file skips are the calendar's holidays (so the rows are
    exactly regular), and after the last row the ``holidays`` rules continue
    it; see :func:`tsrnn.data.calendar.trading_calendar`.
    """
    df.index = pd.DatetimeIndex(
        df.index, freq=trading_calendar(df.index, holidays), name=df.index.name
    )
    return df


def read_long(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    check_header(df, path, list(dtypes))
    return df


def check_header(df: pd.DataFrame, path: Path, expected: list[str]) -> None:
    if list(df.columns) != expected:
        raise ValueError(
            f"{path.name} has columns {list(df.columns)}, expected {expected}; "
            "the file does not match this version of tsrnn"
        )


_F = "float64"
_I = "int64"
_S = "str"  # plain strings: object on pandas 2, the string dtype on pandas 3


def parse_elec(path: Path) -> pd.DataFrame:
    return read_frame(
        path, {"demand_gw": _F, "temperature_c": _F, "workday": _I}, freq="30min"
    )


def parse_sst(path: Path) -> pd.DataFrame:
    return read_frame(path, {"temperature_c": _F})


def parse_co2(path: Path) -> pd.DataFrame:
    return read_frame(path, {"co2_ppm": _F}, freq="W-SAT", na_values=("",))


def parse_sunspots(path: Path) -> pd.DataFrame:
    return read_frame(path, {"sunspot_number": _F}, freq="MS")


def parse_clemson(path: Path) -> pd.DataFrame:
    return read_frame(path, {"tmin_f": _F, "tmax_f": _F}, na_values=("",))


def parse_bank_calls(path: Path) -> pd.DataFrame:
    return read_frame(path, {"calls": _I})


def parse_sp500(path: Path) -> pd.DataFrame:
    cols = {"open": _F, "high": _F, "low": _F, "close": _F, "volume": _I}
    return with_trading_calendar(read_frame(path, cols), "nyse")


def parse_vix(path: Path) -> pd.DataFrame:
    # The file marks market holidays with "." (FRED style), not an empty field.
    return read_frame(path, {"vix": _F}, freq="B", na_values=("", "."))


def parse_wti(path: Path) -> pd.DataFrame:
    return read_frame(path, {"wti_usd_per_bbl": _F}, freq="B", na_values=("",))


def parse_eu_stocks(path: Path) -> pd.DataFrame:
    df = read_long(path, {"t": _I, "dax": _F, "smi": _F, "cac": _F, "ftse": _F})
    t = df.pop("t")
    if not np.array_equal(t.to_numpy(), np.arange(1, len(t) + 1)):
        raise ValueError(f"{path.name}: column t is not 1..{len(t)}")
    df.index = pd.RangeIndex(1, len(t) + 1, name="t")
    return df


def parse_usd_fx(path: Path) -> pd.DataFrame:
    cur = ("dem", "gbp", "cad", "jpy", "chf")
    # the rates are the Federal Reserve's noon fixings: US federal holidays
    return with_trading_calendar(
        read_frame(path, {f"usd_per_{c}": _F for c in cur}), "us_federal"
    )


def parse_us_stocks(path: Path) -> pd.DataFrame:
    cols = {"series_id": _S, "timestamp": _S, "open": _F, "high": _F, "low": _F}
    cols |= {"close": _F, "volume": _I, "adj_close": _F}
    df = read_long(path, cols)
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="ISO8601")
    return df.rename(columns={"series_id": "unique_id", "timestamp": "ds"})


def parse_collection(path: Path, meta_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = read_long(path, {"series_id": _S, "t": _I, "value": _F})
    df.columns = ["unique_id", "ds", "y"]
    meta = read_long(
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
