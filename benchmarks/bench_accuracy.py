"""Forecast accuracy on what users forecast: collections, single series, electricity.

Three suites (``--suite``), each against the same anchors:

``collections``
    Every frequency group of the shipped M3 and Tourism shares, official test
    windows (the last ``h`` points of every series; ``h`` and the seasonal
    period ``m`` from the meta files). Score: MASE, M4 style (scale: the
    in-sample seasonal-naive MAE at lag ``m``), and sMAPE (%), averaged over
    the series of a group. tsrnn fits ONE global model per group (long frame);
    the statistical anchors fit one model per series.
``single``
    Every shipped sensor and financial series at its natural horizon
    (``datasets/PROVENANCE.md``), rolling origin: fitted ONCE on the data
    before the first origin, then ``update``-d with the new observations
    between origins (no refit), as a user running it would. Score: MASE with
    the one-step naive scale (the in-sample MAE of the last-value forecast on
    the history before each origin) averaged over the origins, so that the
    naive row is the random walk's own figure and every other row compares
    with it directly. Prices are scored against the random walk.
``elec``
    Victoria half-hourly electricity demand with covariates (temperature and
    the workday flag, the observed values taken as their day-ahead forecasts),
    h = 48, two windows: the last 56 days (origins one day apart) and the
    Christmas 10 (10 origins five days apart, the last one forecasting Dec 31).
    Score: MASE with the seasonal scale m = 48, as in
    ``bench_forecast_elec.py``. Extra anchors: a ridge regression on 336
    lags + temperature + workday (sklearn, direct: one output per step ahead).

Anchors: naive, seasonal naive, ``tsrnn.LinearARForecaster``,
``tsrnn.MarkovChainForecaster`` (order 2, 10 quantile bins: the memoryless
N-gram a recurrent network's memory has to beat) and, with
statsforecast installed (``pip install -e ".[bench]"``), its ``AutoETS``,
``AutoTheta`` and ``MSTL`` (not for m = 1: MSTL then needs the
``supersmoother`` package and is a non-seasonal AutoETS anyway). The
statistical anchors follow the same protocol (``cross_validation`` with
``refit=False``: fitted at the first origin, then run forward); on single
series they see at most the last ``--stats-max-train`` training rows (fitting
AutoTheta on 19,000 half-hours takes minutes), and missing values are filled
forward for them (they cannot read NaN; tsrnn and its baselines read the
gaps as they are).

tsrnn configurations (``--tsrnn``):

``default``
    ``RNNForecaster(horizon=h)`` and nothing else (plus ``season_length=m``
    for the collections' long frames, whose integer time index gives no
    frequency to infer it from, as a user would have to).
``old``
    The README's recipe of 2026-11 (the "before" column): LSTM 32,
    ``differencing=True``, absolute error, early stopping on the last 20 %,
    at most 50 epochs, truncated-BPTT windows of 16 (8 for short series),
    seasonal reference ``m``. See :func:`old_recipe`.
``seq2seq``
    ``RNNForecaster(horizon=h, strategy="seq2seq")``: the defaults with the
    encoder-decoder (``docs/strategies.md``).
``recipe``
    ``RNNForecaster(horizon=h, **settings)`` with the settings given by
    ``--recipe key=value ...`` (Python literals), e.g.
    ``--recipe differencing=True loss=absolute_error``. A seed ensemble is
    ``--recipe n_ensemble=3``: its seconds column is the cost of its three
    members (``RNNForecaster``'s ``n_ensemble``), beside the gain.

Every (suite, case, model, seed) is one record appended to a JSON-lines file
(``--out``, default ``benchmarks/results/accuracy.jsonl``) with its score and
its fit + predict seconds; records already there are not recomputed
(``--rerun`` to recompute), so interrupted runs resume. Records are keyed by
suite, case, model label and seed only: measure changed code (an "after" run)
into a new ``--out`` file, or with ``--rerun``. The markdown tables
are built from that file: per model the mean over seeds, ``[min–max]`` when
there are several, and the seconds (mean fit + predict time).

Usage::

    python benchmarks/bench_accuracy.py --suite collections --seeds 0 1 2
    python benchmarks/bench_accuracy.py --suite single --tsrnn default --seeds 0
    python benchmarks/bench_accuracy.py --suite elec --tsrnn default old
    python benchmarks/bench_accuracy.py --suite collections --tsrnn recipe \\
        --recipe differencing=True loss=absolute_error --no-anchors
    python benchmarks/bench_accuracy.py --quick          # smoke run, all suites
    python benchmarks/bench_accuracy.py --tables-only    # print tables from --out
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import tsrnn  # noqa: E402
from tsrnn import (  # noqa: E402
    LinearARForecaster,
    MarkovChainForecaster,
    NaiveForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)
from tsrnn import datasets as ds  # noqa: E402
from tsrnn.metrics import mae, mase, smape  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "accuracy.jsonl")
STATS = ("AutoETS", "AutoTheta", "MSTL")
RIDGE_ALPHAS = tuple(np.logspace(-2, 4, 13))


class Clock:
    """Wall and CPU seconds (all threads of this process) since creation.

    On the shared development machines other jobs inflate wall time 3-6x;
    the CPU time of the process is the steadier measure of the work done.
    """

    def __init__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall0, time.process_time() - self.cpu0


# --------------------------------------------------------------- tsrnn configs
def old_recipe(h: int, m: int, median_length: float, seed: int) -> RNNForecaster:
    """The README's recipe of 2026-11 (``bench_accuracy.py`` before issue 13).

    Truncated-BPTT windows of 16 steps for series of 64 training points or more
    and of 8 below; the last 20 % of every series picks the epoch (early
    stopping) and is never trained on.
    """
    return RNNForecaster(
        cell="lstm",
        hidden_size=32,
        horizon=h,
        season_length=m,
        differencing=True,
        loss="absolute_error",
        bptt_length=16 if median_length >= 64 else 8,
        max_iter=50,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=5,
        random_state=seed,
    )


def parse_recipe(items: list[str] | None) -> dict[str, Any]:
    """``["differencing=True", "loss=absolute_error"]`` -> keyword settings.

    Values are Python literals when they parse as one, strings otherwise.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--recipe takes key=value settings, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        out[key.strip()] = value
    if out:
        bad = set(out) - set(RNNForecaster().get_params())
        if bad:
            raise SystemExit(f"--recipe: RNNForecaster has no parameter {sorted(bad)}")
    return out


def tsrnn_model(
    config: str,
    h: int,
    m: int,
    seed: int,
    recipe: dict,
    median_length: float,
    needs_season: bool,
) -> RNNForecaster:
    """The tsrnn model of a configuration (see the module docstring)."""
    if config == "old":
        return old_recipe(h, m, median_length, seed)
    kw: dict[str, Any] = dict(horizon=h)
    if needs_season:
        kw["season_length"] = m
    if seed is not None:
        kw["random_state"] = seed
    if config == "recipe":
        kw.update(recipe)
    if config == "seq2seq":
        kw["strategy"] = "seq2seq"
    return RNNForecaster(**kw)


def config_label(config: str, recipe: dict) -> str:
    if config == "default":
        return "tsrnn default"
    if config == "old":
        return "tsrnn old recipe"
    if config == "seq2seq":
        return "tsrnn seq2seq"
    return "tsrnn recipe(" + ", ".join(f"{k}={v!r}" for k, v in recipe.items()) + ")"


# ------------------------------------------------------------------- records
@dataclass
class Store:
    """Raw per-seed results, one JSON record a line; the tables read them back."""

    path: str
    rerun: bool = False
    records: list = field(default_factory=list)

    def __post_init__(self):
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.records = [json.loads(line) for line in f if line.strip()]

    @staticmethod
    def key(rec: dict) -> tuple:
        return (rec["suite"], rec["case"], rec["model"], rec.get("seed"))

    def has(self, suite: str, case: str, model: str, seed) -> bool:
        if self.rerun:
            return False
        k = (suite, case, model, seed)
        return any(self.key(r) == k for r in self.records)

    def add(self, rec: dict) -> None:
        rec = {**rec, "tsrnn_version": tsrnn.__version__, "time": time.time()}
        k = self.key(rec)
        self.records = [r for r in self.records if self.key(r) != k] + [rec]
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def latest(self, suite: str) -> list[dict]:
        """The last record of every key of one suite, in first-seen order."""
        seen: dict[tuple, dict] = {}
        for r in self.records:
            if r["suite"] == suite:
                seen[self.key(r)] = r
        return list(seen.values())


def say(rec: dict) -> None:
    seed = "" if rec.get("seed") is None else f" s{rec['seed']}"
    cpu = rec.get("cpu_seconds", float("nan"))
    print(
        f"  {rec['case']:28s} {rec['model'] + seed:34s} {rec['score']:8.3f} "
        f"{rec['seconds']:8.1f} s wall {cpu:8.1f} s CPU",
        flush=True,
    )


# ---------------------------------------------------------------- collections
def collection_groups(collections: list[str], groups: list[str] | None, pairs=None):
    """(collection name, group, Collection) for every group asked for."""
    loaders = {"m3": ds.load_m3, "tourism": ds.load_tourism}
    for cname in collections:
        for group in sorted(loaders[cname]().meta.frequency.unique()):
            if (groups and group not in groups) or (
                pairs and (cname, group) not in pairs
            ):
                continue
            yield cname, group, loaders[cname](frequency=group)


def score_collection(train, test, fc, col: str, m: int):
    """Mean MASE (M4 scale: in-sample seasonal naive at lag m), sMAPE, and
    each series' MASE (``{unique_id: mase}``, for paired comparisons between
    models: ``compare_accuracy.py``)."""
    tr = {u: g.y.to_numpy() for u, g in train.groupby("unique_id", sort=False)}
    te = {u: g.y.to_numpy() for u, g in test.groupby("unique_id", sort=False)}
    pr = {u: g[col].to_numpy() for u, g in fc.groupby("unique_id", sort=False)}
    ma, sm = [], []
    for u, y_train in tr.items():
        ma.append(mase(te[u], pr[u], y_train, m=m if len(y_train) > m else 1))
        sm.append(smape(te[u], pr[u]))
    per_series = {str(u): round(float(v), 6) for u, v in zip(tr, ma)}
    return float(np.mean(ma)), float(np.mean(sm)), per_series


def fit_predict_long(model, train: pd.DataFrame, h: int):
    clock = Clock()
    model.fit(train)
    fc = model.predict(horizon=h)
    return fc, "y", clock.read()


def stats_models(m: int, names: list[str]) -> list:
    from statsforecast.models import MSTL, AutoETS, AutoTheta

    out = []
    if "AutoETS" in names:
        out.append(AutoETS(season_length=m))
    if "AutoTheta" in names:
        out.append(AutoTheta(season_length=m))
    if "MSTL" in names and m > 1:
        out.append(MSTL(season_length=m))
    return out


def stats_forecast_long(train: pd.DataFrame, h: int, m: int, names: list[str]):
    """One statsforecast run per model (so each has its own seconds)."""
    from statsforecast import StatsForecast

    for mdl in stats_models(m, names):
        name = type(mdl).__name__
        clock = Clock()
        sf = StatsForecast(models=[mdl], freq=1, n_jobs=1)
        fc = sf.forecast(df=train, h=h)
        if "unique_id" not in fc.columns:
            fc = fc.reset_index()
        yield name, (fc, name, clock.read())


def suite_collections(args, store: Store, recipe: dict) -> None:
    for cname, group, coll in collection_groups(
        args.collections, args.groups, args.pairs
    ):
        case = f"{cname} {group}"
        if args.earlier:
            case += f" (earlier {args.earlier})"
        collection_case(args, store, recipe, case, coll)


def earlier_window(train: pd.DataFrame, h: int, k: int):
    """The test window ``k`` horizons before the official one, from ``train``.

    Each series loses its last ``k * h`` training rows; the first ``h`` of
    them are the test. A rule chosen on the official test windows is checked
    here on targets it never saw (the same series, an earlier time). Series
    left with fewer than ``max(h, 7)`` training rows are dropped (7: the
    fewest statsforecast's AutoETS fits).

    Returns
    -------
    train, test : pandas.DataFrame
    """
    n = train.groupby("unique_id", sort=False)["ds"].transform("size")
    pos = train.groupby("unique_id", sort=False).cumcount()
    cut = n - k * h
    keep = cut >= max(h, 7)
    new_train = train[keep & (pos < cut)].copy()
    new_test = train[keep & (pos >= cut) & (pos < cut + h)].copy()
    return new_train, new_test


def collection_case(args, store: Store, recipe: dict, case: str, coll) -> None:
    """Every model on one group of a collection."""
    train, test = coll.split()
    h = int(coll.meta.horizon.iloc[0])
    m = int(coll.meta.seasonal_period.iloc[0])
    if args.earlier:
        train, test = earlier_window(train, h, args.earlier)
    n_series = int(train["unique_id"].nunique())
    med = float(train.groupby("unique_id").size().median())
    base = dict(suite="collections", case=case, n=n_series, h=h, m=m)
    print(f"{case}: {n_series} series, h={h}, m={m}", flush=True)

    def record(model, seed, run, settings=None):
        fc, col, (wall, cpu) = run
        ma, sm, per_series = score_collection(train, test, fc, col, m)
        rec = dict(
            base,
            model=model,
            seed=seed,
            score=ma,
            smape=sm,
            seconds=wall,
            cpu_seconds=cpu,
            settings=settings,
            per_series=per_series,
        )
        store.add(rec)
        say(rec)

    if args.anchors:
        for name, est in anchor_estimators(m, lags=collection_lags(m)):
            if not store.has("collections", case, name, None):
                record(name, None, fit_predict_long(est, train, h))
        todo = [s for s in args.stats if not store.has("collections", case, s, None)]
        if args.statsforecast and todo:
            for name, run in stats_forecast_long(train, h, m, todo):
                record(name, None, run)
    for config in args.tsrnn:
        label = config_label(config, recipe)
        for seed in args.seeds:
            if store.has("collections", case, label, seed):
                continue
            est = tsrnn_model(config, h, m, seed, recipe, med, needs_season=True)
            record(label, seed, fit_predict_long(est, train, h), settings_of(est))


def collection_lags(m: int) -> int:
    """Lags of the linear AR anchor: two seasons (at least 4; series are short)."""
    return max(2 * m, 4)


def anchor_estimators(m: int, lags) -> list[tuple[str, Any]]:
    out = [("naive", NaiveForecaster())]
    if m > 1:
        out.append(
            (f"seasonal naive (m={m})", SeasonalNaiveForecaster(season_length=m))
        )
    n_lags = lags if isinstance(lags, int) else len(lags)
    out.append((f"LinearAR ({n_lags} lags)", LinearARForecaster(lags=lags)))
    out.append((MARKOV_LABEL, markov_anchor()))
    return out


MARKOV_LABEL = "Markov chain (order 2, 10 bins)"


def markov_anchor() -> MarkovChainForecaster:
    """The memoryless anchor: an order-2 chain over 10 quantile bins (defaults).

    What a network's memory has to beat (issue 16): the next bin from the last
    two by smoothed transition counts, the mean of the exact predictive
    distribution as the point forecast.
    """
    return MarkovChainForecaster(order=2, n_bins=10)


def settings_of(est: RNNForecaster) -> dict:
    """The non-default settings of a model (what the record ran with)."""
    ref = RNNForecaster().get_params()
    out = {
        k: v
        for k, v in est.get_params().items()
        if k in ref and v != ref[k] and k != "random_state"
    }
    # what the reference rule chose (and, with a contest, each candidate's
    # score on the tails): not settings, but what a record needs to be read
    if isinstance(est, RNNForecaster) and hasattr(est, "reference_"):
        r = est.reference_
        out["fitted_reference"] = list(r) if isinstance(r, tuple) else r
        if getattr(est, "reference_scores_", None):
            out["reference_scores"] = dict(est.reference_scores_)
        w = getattr(est, "combination_weights_", None)
        if w is not None:  # the first step's (pooled: every step's), per target
            out["combination_weights"] = np.round(w[0], 2).tolist()
        if hasattr(est, "strategy_"):  # and which strategy the fit ran
            out["fitted_strategy"] = est.strategy_
        if getattr(est, "strategy_scores_", None):
            out["strategy_scores"] = dict(est.strategy_scores_)
    return out


# ------------------------------------------------------------- single series
@dataclass
class Case:
    """One series of the single-series suite at its natural horizon."""

    name: str
    load: Callable[[], pd.Series]
    h: int
    m: int
    kind: str  # "sensor" or "price"
    step: int | None = None  # steps between origins (default h)
    n_origins: int = 10
    note: str = ""


def _positions(s: pd.Series) -> pd.Series:
    """Rows as consecutive steps (the index has no frequency to infer)."""
    return s.reset_index(drop=True)


def _column(loader, col, positions=False, **kw):
    def load():
        s = loader(**kw)[col]
        return _positions(s) if positions else s

    return load


def _stock(ticker):
    def load():
        df = ds.load_us_stocks()
        return _positions(df.loc[df.unique_id == ticker, "y"].rename(ticker))

    return load


def single_cases() -> list[Case]:
    """The sensor and financial series, natural horizons from PROVENANCE.md.

    Series whose index has no regular frequency (trading days with holidays
    left out, the bank's business hours) are given as positions, as the
    forecaster's error message tells a user to; those with a regularizing
    loader are regularized (NaN rows at the gaps).
    """
    c = [
        Case(
            "elec demand (30 min)",
            _column(ds.load_elec_demand, "demand_gw"),
            48,
            48,
            "sensor",
            note="no covariates here; see the elec suite",
        ),
        Case(
            "sea-surface temp (30 min)",
            _column(ds.load_sea_surface_temperature, "temperature_c", regularize=True),
            48,
            48,
            "sensor",
            note="fast horizon: one day of half-hours",
        ),
        Case(
            "CO2 Mauna Loa (weekly)", _column(ds.load_co2, "co2_ppm"), 52, 52, "sensor"
        ),
        Case(
            "sunspots (monthly)",
            _column(ds.load_sunspots, "sunspot_number"),
            24,
            1,
            "sensor",
        ),
        Case(
            "Clemson tmax (daily)",
            _column(ds.load_clemson_temperature, "tmax_f", regularize=True),
            7,
            365,
            "sensor",
        ),
        Case(
            "Clemson tmin (daily)",
            _column(ds.load_clemson_temperature, "tmin_f", regularize=True),
            7,
            365,
            "sensor",
        ),
        Case(
            "bank calls (5 min), h=169",
            _column(ds.load_bank_calls, "calls", positions=True),
            169,
            169,
            "sensor",
        ),
        Case(
            "bank calls (5 min), h=12",
            _column(ds.load_bank_calls, "calls", positions=True),
            12,
            169,
            "sensor",
            step=60,
            note="fast horizon: one hour ahead, origins 5 h apart",
        ),
        Case(
            "S&P 500 close",
            _column(ds.load_sp500, "close", positions=True),
            20,
            1,
            "price",
        ),
        Case("VIX", _column(ds.load_vix, "vix"), 20, 1, "price"),
        Case("WTI crude", _column(ds.load_wti, "wti_usd_per_bbl"), 20, 1, "price"),
    ]
    for col in ("dax", "smi", "cac", "ftse"):
        c.append(
            Case(
                f"EU {col.upper()}",
                _column(ds.load_eu_stock_markets, col),
                20,
                1,
                "price",
            )
        )
    for col in ("dem", "gbp", "cad", "jpy", "chf"):
        c.append(
            Case(
                f"USD per {col.upper()}",
                _column(ds.load_usd_exchange_rates, f"usd_per_{col}", positions=True),
                20,
                1,
                "price",
            )
        )
    for t in ("AAPL", "GOOG", "IBM"):
        c.append(Case(f"{t} adj. close", _stock(t), 20, 1, "price"))
    c.append(
        Case(
            "FB adj. close",
            _stock("FB"),
            20,
            1,
            "price",
            step=5,
            note="196 rows: origins 5 days apart",
        )
    )
    return c


QUICK_SINGLE = ("VIX", "CO2 Mauna Loa (weekly)", "bank calls (5 min), h=12")


def single_lags(m: int) -> list[int]:
    """Linear AR lags: 1..max(8, m + 1), or 1..14 plus m-1..m+1 for long seasons."""
    if m + 1 <= 200:
        return list(range(1, max(8, m + 1) + 1))
    return list(range(1, 15)) + [m - 1, m, m + 1]


def rolling(model, y: pd.Series, h: int, n_origins: int, step: int, X=None):
    """Fit once before the first origin, then forecast / update at every origin.

    Returns the forecasts (n_origins, h), the origins (rows seen) and the
    seconds of fit + every predict and update.
    """
    n = len(y)
    first = n - h - (n_origins - 1) * step
    clock = Clock()
    if X is None:
        model.fit(y.iloc[:first])
    else:
        model.fit(y.iloc[:first], X.iloc[:first])
    preds, origins = [], []
    for j in range(n_origins):
        o = first + j * step
        if X is None:
            p = model.predict(h)
        else:
            p = model.predict(h, X=X.iloc[o : o + h])
        preds.append(np.asarray(p, dtype=float).reshape(-1)[:h])
        origins.append(o)
        if j < n_origins - 1:
            if X is None:
                model.update(y.iloc[o : o + step])
            else:
                model.update(y.iloc[o : o + step], X.iloc[o : o + step])
    return np.array(preds), origins, clock.read()


def stats_rolling(
    y: pd.Series,
    h: int,
    m: int,
    n_origins: int,
    step: int,
    names: list[str],
    max_train: int,
):
    """statsforecast's anchors on the same origins (fitted once, run forward)."""
    from statsforecast import StatsForecast

    values = y.ffill().bfill().to_numpy(dtype=float)
    first = len(values) - h - (n_origins - 1) * step
    start = max(0, first - max_train)
    df = pd.DataFrame(
        {"unique_id": "s", "ds": np.arange(start, len(values)), "y": values[start:]}
    )
    for mdl in stats_models(m, names):
        name = type(mdl).__name__
        clock = Clock()
        cv = StatsForecast(models=[mdl], freq=1, n_jobs=1).cross_validation(
            df=df, h=h, n_windows=n_origins, step_size=step, refit=False
        )
        secs = clock.read()
        cv = cv.sort_values(["cutoff", "ds"])
        preds = cv[name].to_numpy().reshape(n_origins, h)
        origins = (np.sort(cv.cutoff.unique()) + 1).tolist()
        yield name, preds, origins, secs


def score_single(y: pd.Series, preds, origins, h: int, scale_m: int):
    """Mean over origins of MASE (scale lag ``scale_m``) and of MAE."""
    v = y.to_numpy(dtype=float)
    ma, ab = [], []
    for p, o in zip(preds, origins, strict=True):
        truth = v[o : o + h]
        ma.append(mase(truth, p, v[:o], m=scale_m))
        ab.append(mae(truth, p))
    return float(np.mean(ma)), float(np.mean(ab))


def suite_single(args, store: Store, recipe: dict) -> None:
    cases = single_cases()
    if args.series:
        cases = [c for c in cases if c.name in args.series]
    elif args.quick:
        cases = [c for c in cases if c.name in QUICK_SINGLE]
    for c in cases:
        single_case(args, store, recipe, c)


def single_case(args, store: Store, recipe: dict, c: Case) -> None:
    """Every model on one series of the single-series suite."""
    y = c.load()
    step = c.step or c.h
    base = dict(
        suite="single",
        case=c.name,
        kind=c.kind,
        n=len(y),
        h=c.h,
        m=c.m,
        n_origins=c.n_origins,
        step=step,
    )
    print(
        f"{c.name}: {len(y)} rows, h={c.h}, m={c.m}, {c.n_origins} origins "
        f"{step} apart",
        flush=True,
    )

    def record(model, seed, preds, origins, secs, settings=None):
        sc, ab = score_single(y, preds, origins, c.h, 1)
        rec = dict(
            base,
            model=model,
            seed=seed,
            score=sc,
            mae=ab,
            seconds=secs[0],
            cpu_seconds=secs[1],
            settings=settings,
        )
        store.add(rec)
        say(rec)

    if args.anchors:
        for name, est in anchor_estimators(c.m, lags=single_lags(c.m)):
            if not store.has("single", c.name, name, None):
                record(name, None, *rolling(est, y, c.h, c.n_origins, step))
        todo = [s for s in args.stats if not store.has("single", c.name, s, None)]
        if args.statsforecast and todo:
            for name, p, o, secs in stats_rolling(
                y, c.h, c.m, c.n_origins, step, todo, args.stats_max_train
            ):
                record(name, None, p, o, secs)
    for config in args.tsrnn:
        label = config_label(config, recipe)
        for seed in args.seeds:
            if store.has("single", c.name, label, seed):
                continue
            est = tsrnn_model(
                config, c.h, c.m, seed, recipe, len(y), needs_season=False
            )
            record(
                label,
                seed,
                *rolling(est, y, c.h, c.n_origins, step),
                settings=settings_of(est),
            )


# -------------------------------------------------------------- electricity
class RidgeDirect:
    """Ridge regression on the last ``lags`` values + the day-ahead covariates.

    The statistician's day-ahead load model: at origin ``t`` the features are
    ``y[t-lags+1..t]`` and the covariates of the ``h`` steps ahead (their
    observed values standing in for their forecasts); one output per step
    ahead (direct strategy, no recursion). Standardized features; the penalty
    is chosen per step ahead by efficient leave-one-out (``RidgeCV``) on the
    training windows only. ``update`` appends the new observations (no
    refit), so the next forecast reads the latest lags.

    (Tried: one ridge per step ahead reading only that step's temperature and
    workday, 336 + 2 features: Christmas 10 MASE 0.634 against 0.588, and 30x
    the CPU time.)
    """

    def __init__(self, lags: int = 336, horizon: int = 48, alphas=RIDGE_ALPHAS):
        self.lags, self.horizon, self.alphas = lags, horizon, alphas

    def _features(self, y, X, origins):
        lag_idx = origins[:, None] - np.arange(self.lags)[None, :]  # t, t-1, ...
        fut = origins[:, None] + 1 + np.arange(self.horizon)[None, :]
        return np.hstack([y[lag_idx], X[fut].reshape(len(origins), -1)])

    def fit(self, y: pd.Series, X: pd.DataFrame):
        from sklearn.linear_model import RidgeCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        yv, Xv = y.to_numpy(float), X.to_numpy(float)
        origins = np.arange(self.lags - 1, len(yv) - self.horizon)
        target = yv[origins[:, None] + 1 + np.arange(self.horizon)[None, :]]
        self.model_ = make_pipeline(
            StandardScaler(), RidgeCV(alphas=self.alphas, alpha_per_target=True)
        ).fit(self._features(yv, Xv, origins), target)
        self.y_ = yv[-self.lags :].copy()
        return self

    def update(self, y_new: pd.Series, X_new: pd.DataFrame):
        self.y_ = np.concatenate([self.y_, y_new.to_numpy(float)])[-self.lags :]
        return self

    def predict(self, h: int, X: pd.DataFrame):
        if h != self.horizon:
            raise ValueError(f"RidgeDirect was fitted for horizon {self.horizon}")
        yv = np.concatenate([self.y_, np.zeros(h)])
        Xv = np.vstack([np.zeros((self.lags, X.shape[1])), X.to_numpy(float)])
        return self.model_.predict(self._features(yv, Xv, np.array([self.lags - 1])))[0]


def elec_windows(quick: bool) -> list[tuple[str, int, int]]:
    """(name, origins, step): the last 56 days and the Christmas 10."""
    w = [("Christmas 10 (5 days apart)", 10, 240), ("last 56 days", 56, 48)]
    return w[:1] if quick else w


def suite_elec(args, store: Store, recipe: dict) -> None:
    df = ds.load_elec_demand()
    y = df["demand_gw"]
    X = df[["temperature_c", "workday"]].astype(float)
    for wname, n_orig, step in elec_windows(args.quick):
        elec_case(args, store, recipe, f"elec {wname}", n_orig, step, y, X)


def elec_case(args, store, recipe, case, n_orig, step, y, X) -> None:
    """Every model on one window of the electricity suite."""
    h, m = 48, 48
    base = dict(
        suite="elec", case=case, n=len(y), h=h, m=m, n_origins=n_orig, step=step
    )
    print(f"{case}: h={h}, {n_orig} origins {step} apart", flush=True)

    def record(model, seed, preds, origins, secs, settings=None):
        sc, ab = score_single(y, preds, origins, h, m)
        rec = dict(
            base,
            model=model,
            seed=seed,
            score=sc,
            mae=ab,
            seconds=secs[0],
            cpu_seconds=secs[1],
            settings=settings,
        )
        store.add(rec)
        say(rec)

    if args.anchors:
        plain = [
            ("naive", NaiveForecaster()),
            (
                "seasonal naive day (m=48)",
                SeasonalNaiveForecaster(season_length=48),
            ),
            (
                "seasonal naive week (m=336)",
                SeasonalNaiveForecaster(season_length=336),
            ),
            (MARKOV_LABEL, markov_anchor()),
        ]
        for name, est in plain:
            if not store.has("elec", case, name, None):
                record(name, None, *rolling(est, y, h, n_orig, step))
        with_x = [
            ("LinearAR (336 lags) + temp, workday", LinearARForecaster(lags=336)),
            ("ridge (336 lags) + day-ahead temp, workday", RidgeDirect(336, h)),
        ]
        for name, est in with_x:
            if not store.has("elec", case, name, None):
                record(name, None, *rolling(est, y, h, n_orig, step, X=X))
        if (
            args.statsforecast
            and "MSTL" in args.stats
            and not store.has("elec", case, "MSTL", None)
        ):
            # daily and weekly seasons; no covariates (statsforecast's MSTL
            # has none)
            from statsforecast.models import MSTL

            for name, p, o, secs in _mstl_elec(
                y, h, n_orig, step, MSTL, args.stats_max_train
            ):
                record(name, None, p, o, secs)
    for config in args.tsrnn:
        label = config_label(config, recipe) + " + temp, workday"
        for seed in args.seeds:
            if store.has("elec", case, label, seed):
                continue
            est = tsrnn_model(config, h, m, seed, recipe, len(y), needs_season=False)
            record(
                label,
                seed,
                *rolling(est, y, h, n_orig, step, X=X),
                settings=settings_of(est),
            )


def _mstl_elec(y, h, n_orig, step, MSTL, max_train):
    from statsforecast import StatsForecast

    values = y.to_numpy(float)
    first = len(values) - h - (n_orig - 1) * step
    start = max(0, first - max_train)
    df = pd.DataFrame(
        {"unique_id": "s", "ds": np.arange(start, len(values)), "y": values[start:]}
    )
    clock = Clock()
    cv = StatsForecast(
        models=[MSTL(season_length=[48, 336])], freq=1, n_jobs=1
    ).cross_validation(df=df, h=h, n_windows=n_orig, step_size=step, refit=False)
    secs = clock.read()
    cv = cv.sort_values(["cutoff", "ds"])
    yield (
        "MSTL (48, 336)",
        cv["MSTL"].to_numpy().reshape(n_orig, h),
        (np.sort(cv.cutoff.unique()) + 1).tolist(),
        secs,
    )


# -------------------------------------------------------------------- tables
def fmt_cell(recs: list[dict]) -> str:
    """``mean [min–max] · CPU seconds`` over the seeds of one model."""
    if not recs:
        return "–"
    s = np.array([r["score"] for r in recs], float)
    secs = float(np.mean([r.get("cpu_seconds", r["seconds"]) for r in recs]))
    cell = f"{s.mean():.3f}"
    if len(s) > 1:
        cell += f" [{s.min():.3f}–{s.max():.3f}]"
    return cell + f" · {secs:.0f} s" if secs >= 1 else cell + f" · {secs:.1f} s"


def model_order(records: list[dict]) -> list[str]:
    """Anchors first (in a fixed order), then tsrnn configurations as seen."""
    names = list(dict.fromkeys(r["model"] for r in records))

    def rank(n):
        for i, p in enumerate(
            (
                "naive",
                "seasonal naive",
                "LinearAR",
                "ridge",
                "AutoETS",
                "AutoTheta",
                "MSTL",
                "tsrnn",
            )
        ):
            if n.startswith(p):
                return i
        return 99

    return sorted(names, key=lambda n: (rank(n), names.index(n)))


def anchor_column(name: str) -> str:
    """One column per anchor, whatever its m or lags on the row."""
    return re.sub(r" \((m=\d+|\d+ lags)\)", "", name)


def table(records: list[dict], suite: str) -> str:
    """A markdown table: one row per case, one column per model."""
    recs = [r for r in records if r["suite"] == suite]
    if not recs:
        return ""
    cols = list(dict.fromkeys(anchor_column(n) for n in model_order(recs)))
    cases = list(dict.fromkeys(r["case"] for r in recs))
    head = ["case", "h", "m"] + cols + ["best anchor"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in cases:
        rc = [r for r in recs if r["case"] == case]
        row = [case, str(rc[0]["h"]), str(rc[0]["m"])]
        for col in cols:
            row.append(fmt_cell([r for r in rc if anchor_column(r["model"]) == col]))
        row.append(best_anchor(rc))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def best_anchor(rc: list[dict]) -> str:
    anchors = [r for r in rc if not r["model"].startswith("tsrnn")]
    if not anchors:
        return ""
    b = min(anchors, key=lambda r: r["score"])
    return f"{b['model']} {b['score']:.3f}"


def wins_summary(records: list[dict], suite: str) -> str:
    """Per tsrnn configuration and kind of series: how it compares with the anchors.

    Counts the cases where the mean over seeds (and where every seed) beats the
    better of naive and seasonal naive, and where the mean beats every anchor;
    the geometric means of its ratio to the better naive and to the best anchor.
    """
    recs = [r for r in records if r["suite"] == suite]
    cases = list(dict.fromkeys(r["case"] for r in recs))
    configs = [n for n in model_order(recs) if n.startswith("tsrnn")]
    kinds = sorted({r.get("kind", "") for r in recs})
    out = []
    for cfg in configs:
        for kind in kinds:
            rn, ra, every, worst = [], [], 0, []
            for case in cases:
                rc = [
                    r for r in recs if r["case"] == case and r.get("kind", "") == kind
                ]
                mine = [r["score"] for r in rc if r["model"] == cfg]
                naives = [
                    r["score"]
                    for r in rc
                    if r["model"] == "naive" or r["model"].startswith("seasonal naive")
                ]
                others = [r["score"] for r in rc if not r["model"].startswith("tsrnn")]
                if not mine or not naives:
                    continue
                mean = float(np.mean(mine))
                rn.append(mean / min(naives))
                ra.append(mean / min(others))
                every += max(mine) < min(naives)
                worst.append((mean / min(naives), case))
            if not rn:
                continue
            rn, ra = np.array(rn), np.array(ra)
            w = max(worst)
            label = f"{cfg}" + (f", {kind} series" if kind else "")
            out.append(
                f"- {label}: beats the better naive in {int((rn < 1).sum())}/{len(rn)} "
                f"(every seed: {every}), every anchor in {int((ra < 1).sum())}/"
                f"{len(ra)}; geometric mean ratio to the better naive "
                f"{np.exp(np.log(rn).mean()):.3f}, to the best anchor "
                f"{np.exp(np.log(ra).mean()):.3f}; worst {w[0]:.2f} ({w[1]})"
            )
    return "\n".join(out)


def print_tables(store: Store, suites: list[str]) -> None:
    titles = {
        "collections": "Collections: mean MASE (M4 scale), official test windows",
        "single": "Single series: MASE, naive scale, mean over origins "
        "(fit once, then update)",
        "elec": "Victoria electricity, h=48, covariates: MASE (scale m=48)",
    }
    for suite in suites:
        recs = store.latest(suite)
        if not recs:
            continue
        print(f"\n### {titles[suite]}\n")
        print(table(recs, suite))
        print()
        print(wins_summary(recs, suite))


# ---------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--suite",
        nargs="+",
        choices=["collections", "single", "elec"],
        default=None,
        help="default: all three",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 groups, 3 series, the Christmas window, 1 seed",
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--tsrnn",
        nargs="*",
        choices=["default", "old", "seq2seq", "recipe"],
        default=None,
        help="tsrnn configurations (default: default old "
        "[recipe when --recipe is given]); none: anchors only",
    )
    p.add_argument(
        "--recipe",
        nargs="+",
        default=None,
        metavar="KEY=VALUE",
        help="settings of the 'recipe' configuration",
    )
    p.add_argument(
        "--no-anchors",
        dest="anchors",
        action="store_false",
        help="skip naive, seasonal naive, LinearAR and statsforecast",
    )
    p.add_argument(
        "--stats",
        nargs="*",
        default=list(STATS),
        choices=STATS,
        help="statsforecast anchors to run",
    )
    p.add_argument(
        "--no-stats",
        action="store_true",
        help="no statsforecast anchors (the same as --stats with no names)",
    )
    p.add_argument(
        "--stats-max-train",
        type=int,
        default=3000,
        help="single series: training rows the statistical anchors see",
    )
    p.add_argument("--collections", nargs="+", default=["m3", "tourism"])
    p.add_argument("--groups", nargs="+", default=None)
    p.add_argument(
        "--earlier",
        type=int,
        default=0,
        metavar="K",
        help="collections: test on the window K horizons before the official "
        "one (series left with fewer than max(h, 7) training rows dropped): a check "
        "of a rule on targets the official windows never showed",
    )
    p.add_argument(
        "--series",
        nargs="+",
        default=None,
        help="single suite: case names (see single_cases)",
    )
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON-lines results file")
    p.add_argument(
        "--rerun", action="store_true", help="recompute records already in --out"
    )
    p.add_argument("--tables-only", action="store_true")
    args = p.parse_args(argv)
    args.suite = args.suite or ["collections", "single", "elec"]
    if args.no_stats:
        args.stats = []
    if args.tsrnn is None:
        args.tsrnn = ["default", "old"] + (["recipe"] if args.recipe else [])
    if "recipe" in args.tsrnn and not args.recipe:
        p.error("--tsrnn recipe needs --recipe key=value ...")
    args.pairs = None
    if args.quick:
        args.seeds = args.seeds[:1]
        if args.groups is None:  # the two smallest groups
            args.pairs = {("m3", "other"), ("tourism", "yearly")}
    return args


def main(argv=None):
    args = parse_args(argv)
    warnings.simplefilter("ignore")
    recipe = parse_recipe(args.recipe)
    store = Store(args.out, rerun=args.rerun)
    try:
        import statsforecast  # noqa: F401

        args.statsforecast = bool(args.stats)
    except ImportError:
        args.statsforecast = False
        print("statsforecast is not installed: AutoETS/AutoTheta/MSTL skipped")
    if not args.tables_only:
        suites = {
            "collections": suite_collections,
            "single": suite_single,
            "elec": suite_elec,
        }
        for s in args.suite:
            print(f"== suite {s} (results appended to {args.out})", flush=True)
            suites[s](args, store, recipe)
    print_tables(store, args.suite)


if __name__ == "__main__":
    main()
