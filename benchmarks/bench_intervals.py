"""Calibration of prediction intervals and quantiles: rolling origin, several seeds.

Every method is fitted ONCE on the data before the first origin, then walked
forward as a user runs it: forecast ``h`` steps, score against the truth,
``update`` with the next ``step`` observations (``tsrnn.backtest`` with
``return_forecasts=True`` for the forecasters). Scores come from
``tsrnn.metrics`` (``coverage``, ``interval_width``, ``winkler``, ``pinball``,
``crps``) on the pooled forecasts of all origins.

Series (``--series``)
    ``elec``   Victoria half-hourly demand with temperature and the workday flag
               (observed values as their day-ahead forecasts, as
               ``bench_accuracy.py``'s elec suite), h = 48, origins one day apart.
    ``sst``    sea-surface temperature (half-hourly, gaps as NaN rows), h = 48,
               origins one day apart.
    ``sp1``    S&P 500 daily log returns (%), h = 1, origins one day apart.
    ``sp5``    the same, h = 5, origins five days apart.

Methods (``--methods``)
    ``conformal``  ``RNNForecaster(horizon=h)`` (defaults) and its
                   ``predict_interval`` (split-conformal bands around the point
                   forecast, one conformal quantile per tail of the signed
                   errors since 2026-12-07 (records tagged ``signed``; the
                   untagged ones before were symmetric, of the absolute
                   errors), refreshed by every ``update``), walked by
                   ``tsrnn.backtest(level=..., return_forecasts=True)``.
    ``normal``, ``student_t``, ``quantile``
                   ``RNNForecaster(horizon=h, loss=...)``: the likelihood heads'
                   own quantiles (``method="distribution"``), the quantile
                   head's (levels ``HEAD_QUANTILES``).
    ``student_t+conformal``
                   the Student-t model's conformal bands around its mean.
    ``window-t``, ``window-q``
                   ``RNNRegressor(loss="student_t")`` / ``loss="quantile"`` on
                   windows of the past (``--window`` steps), one output per step
                   ahead; fitted once, then fed each origin's latest window (a
                   window model has no state to ``update``).

Scores per (series, method, seed): for each level of ``--levels`` (percent)
the empirical coverage, mean width and mean Winkler score; the mean pinball
loss over the quantiles 0.025, 0.1, 0.5, 0.9, 0.975 (the 80 % and 95 % bounds
and the median; for conformal bands the point forecast stands as the median)
and the CRPS from the 19 quantiles 0.05, 0.10, ..., 0.95 (2 x mean pinball,
``tsrnn.metrics.crps(quantiles=...)``); fit seconds (CPU and wall). On ``sp1``
also the one-day value-at-risk at 95 % and 99 % (the 5 % and 1 % quantiles),
its exceedances and Kupiec's unconditional-coverage test, against historical
simulation on the last 250 days.

One JSON line per (series, method, seed) is appended to ``--out`` (default
``benchmarks/results/intervals.jsonl``); the tables are printed from it.

Usage::

    python benchmarks/bench_intervals.py --quick                 # smoke run
    python benchmarks/bench_intervals.py --seeds 0 1 2           # the full run
    python benchmarks/bench_intervals.py --series sp1 --methods conformal
    python benchmarks/bench_intervals.py --tables-only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import tsrnn  # noqa: E402
from tsrnn import (  # noqa: E402
    RNNForecaster,
    RNNRegressor,
    backtest,
    metrics,  # noqa: E402
)
from tsrnn import datasets as ds  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "intervals.jsonl")
#: The levels whose coverage is reported, and those the CRPS grid needs.
REPORT_LEVELS = (80, 95)
GRID_LEVELS = tuple(range(10, 100, 10))  # quantiles 0.05, 0.10, ..., 0.95
PINBALL_Q = (0.025, 0.1, 0.5, 0.9, 0.975)
CRPS_Q = tuple(np.round(np.arange(1, 20) / 20, 2))
VAR_P = (0.05, 0.01)


# ------------------------------------------------------------------ the series
@dataclass
class Series:
    name: str
    y: pd.Series
    X: pd.DataFrame | None
    h: int
    step: int
    n_origins: int
    freq: object = None


def load_series(name: str, quick: bool) -> Series:
    if name == "elec":
        df = ds.load_elec_demand()
        X = df[["temperature_c", "workday"]].astype(float)
        return Series(name, df["demand_gw"], X, 48, 48, 14 if quick else 56)
    if name == "sst":
        y = ds.load_sea_surface_temperature(regularize=True)["temperature_c"]
        return Series(name, y, None, 48, 48, 14 if quick else 56)
    if name in ("sp1", "sp5"):
        prices = ds.load_sp500()["close"]
        r = (100 * np.log(prices).diff()).iloc[1:].rename("return_pct")
        h = 1 if name == "sp1" else 5
        n = (250 if quick else 2000) // h
        return Series(name, r, None, h, h, n, freq=prices.index.freq)
    raise SystemExit(f"unknown series {name!r}")


# ------------------------------------------------------------------- scoring
def quantiles_from_bands(fc: pd.DataFrame, model: str) -> dict[float, np.ndarray]:
    """Quantile level -> forecast column, from central bands and the point."""
    out = {0.5: fc[model].to_numpy()}
    for col in fc.columns:
        if col.startswith(f"{model}-lo-") or col.startswith(f"{model}-hi-"):
            pct = float(col.rsplit("-", 1)[1])
            a = (1 - pct / 100) / 2
            q = round(a if "-lo-" in col else 1 - a, 4)
            out[q] = fc[col].to_numpy()
    return out


def score(y: np.ndarray, qs: dict[float, np.ndarray], levels) -> dict:
    """Coverage/width/Winkler per level, pinball and CRPS (tsrnn.metrics)."""
    rec: dict = {"n_points": int(np.sum(~np.isnan(y)))}
    for pct in levels:
        a = round((1 - pct / 100) / 2, 4)
        lo, hi = qs[a], qs[round(1 - a, 4)]
        rec[f"coverage_{pct}"] = metrics.coverage(y, lo, hi)
        rec[f"width_{pct}"] = metrics.interval_width(lo, hi)
        rec[f"winkler_{pct}"] = metrics.winkler(y, lo, hi, pct)
    ok = ~np.isnan(y)
    rec["pinball"] = metrics.pinball(
        y[ok], np.stack([qs[q][ok] for q in PINBALL_Q], 1), PINBALL_Q
    )
    rec["crps"] = metrics.crps(
        y[ok], quantiles=np.stack([qs[q][ok] for q in CRPS_Q], 1), levels=CRPS_Q
    )
    return rec


def kupiec(exceed: np.ndarray, p: float) -> tuple[int, float, float]:
    """Exceedances, likelihood ratio and p-value of Kupiec's test at rate p."""
    T, x = len(exceed), int(exceed.sum())
    pi = x / T
    ll_p = (T - x) * math.log(1 - p) + x * math.log(p)
    ll_hat = (T - x) * math.log(1 - pi) if x < T else 0.0
    ll_hat += x * math.log(pi) if x else 0.0
    lr = max(0.0, -2 * (ll_p - ll_hat))
    return x, lr, math.erfc(math.sqrt(lr / 2))  # chi-square(1) survival


def var_scores(s: Series, y: np.ndarray, ds_: pd.Index, qs: dict) -> dict:
    """One-day VaR at 95/99 %: exceedances and Kupiec, method and historical."""
    past = s.y.rolling(250).quantile
    rec = {}
    for p in VAR_P:
        pct = f"{100 * (1 - p):g}"
        x, lr, pval = kupiec(y < qs[p], p)
        rec[f"var{pct}_exceed"], rec[f"var{pct}_pvalue"] = x, pval
        hist = past(p).shift(1).reindex(ds_).to_numpy()
        x, lr, pval = kupiec(y < hist, p)
        rec[f"var{pct}_hist_exceed"], rec[f"var{pct}_hist_pvalue"] = x, pval
    rec["var_days"] = len(y)
    return rec


# ------------------------------------------------------------------- methods
def levels_needed(s: Series) -> list[int]:
    lv = set(GRID_LEVELS) | set(REPORT_LEVELS)
    if s.name == "sp1":
        lv |= {98}  # the 1 % quantile: 99 % VaR
    return sorted(lv)


#: Levels of the quantile heads: the CRPS grid, the 95 % bounds, the 1 % / 99 %.
HEAD_QUANTILES = tuple(sorted(set(CRPS_Q) | {0.01, 0.025, 0.975, 0.99}))


def run_forecaster(
    s: Series, seed: int, quick: bool, loss: str = "auto", method: str = "auto"
) -> tuple[dict, dict]:
    """``RNNForecaster(horizon=h, loss=loss)`` walked by ``tsrnn.backtest``."""
    settings: dict = dict(horizon=s.h, random_state=seed, freq=s.freq)
    if loss != "auto":
        settings["loss"] = loss
    if loss == "quantile":
        settings["quantiles"] = HEAD_QUANTILES
    model = RNNForecaster(**settings)
    levels = levels_needed(s)
    clock = time.process_time(), time.perf_counter()
    scores, fc = backtest(
        model,
        s.y,
        s.X,
        n_origins=s.n_origins,
        step=s.step,
        level=levels,
        return_forecasts=True,
        metrics=("mae",),
        method=method,
    )
    cpu, wall = time.process_time() - clock[0], time.perf_counter() - clock[1]
    name = "RNNForecaster"
    qs = quantiles_from_bands(fc, name)
    rec = score(fc["y"].to_numpy(), qs, REPORT_LEVELS)
    rec.update(
        fit_seconds=float(scores["fit_time"].iloc[0]),
        update_seconds=float(scores["fit_time"].iloc[1:].sum()),
        cpu_seconds=cpu,
        wall_seconds=wall,
        mae=metrics.mae(fc["y"], fc[name]),
    )
    rec.update(coverage_by_step(fc, name, s.h))
    if s.name == "sp1":
        rec.update(var_scores(s, fc["y"].to_numpy(), pd.Index(fc["ds"]), qs))
    settings.pop("freq")
    return rec, settings


def coverage_by_step(fc: pd.DataFrame, name: str, h: int) -> dict:
    """95 % coverage over the first and the last third of the horizon."""
    if h < 3:
        return {}
    step = fc.groupby("cutoff").cumcount().to_numpy()
    out = {}
    for label, sel in (("first", step < h // 3), ("last", step >= h - h // 3)):
        g = fc[sel]
        out[f"coverage_95_{label}_third"] = metrics.coverage(
            g["y"], g[f"{name}-lo-95"], g[f"{name}-hi-95"]
        )
    return out


def window_data(s: Series, W: int):
    """Windows of the past (scaled target, covariates of the forecast steps).

    Row t's window ends at observation t - 1 and its targets are t .. t+h-1.
    Known future covariates (elec) enter as extra features of the window's
    last h rows shifted by h, i.e. the window carries the covariates of the
    steps it forecasts; NaN targets are filled forward in the inputs.
    """
    y = s.y.to_numpy(np.float64)
    mu, sd = np.nanmean(y), np.nanstd(y)
    z = pd.Series((y - mu) / sd).ffill().fillna(0.0).to_numpy()
    feats = [z]
    if s.X is not None:
        Xa = s.X.to_numpy(np.float64)
        Xa = (Xa - Xa.mean(0)) / (Xa.std(0) + 1e-12)
        # column c at row r: covariate of row r + h (the window's forecast steps)
        fut = np.vstack([Xa[s.h :], np.repeat(Xa[-1:], s.h, 0)])
        feats += [fut[:, c] for c in range(Xa.shape[1])]
    F = np.stack(feats, 1)
    n = len(y)
    starts = np.arange(0, n - W - s.h + 1)
    Xw = np.lib.stride_tricks.sliding_window_view(F, W, axis=0).transpose(0, 2, 1)
    Xw = Xw[starts]
    tgt = np.lib.stride_tricks.sliding_window_view(y, s.h)[starts + W]
    return Xw, tgt, starts + W  # window i forecasts rows origin_i .. +h-1


def run_window(s: Series, seed: int, quick: bool, loss: str) -> tuple[dict, dict]:
    W = 20 if s.name.startswith("sp") else 96
    Xw, tgt, origin = window_data(s, W)
    n = len(s.y)
    first = n - s.h - (s.n_origins - 1) * s.step  # backtest's first origin
    train = origin + s.h <= first  # targets seen before the first origin
    keep = train & ~np.isnan(tgt).any(1)
    test = np.searchsorted(origin, first + s.step * np.arange(s.n_origins))
    settings = dict(
        hidden_size=16,
        loss=loss,
        max_iter=20 if quick else 60,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=5,
        random_state=seed,
    )
    if loss == "quantile":
        settings["quantiles"] = tuple(sorted(set(CRPS_Q) | set(PINBALL_Q) | {0.01}))
    model = RNNRegressor(**settings)
    clock = time.process_time(), time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = tgt[keep] if s.h > 1 else tgt[keep, 0]
        model.fit(Xw[keep], yt)
    fit_wall = time.perf_counter() - clock[1]
    qlist = sorted(set(CRPS_Q) | set(PINBALL_Q) | {0.01})
    Q = model.predict_quantiles(Xw[test], qlist)  # (n_test, [h,] n_q)
    Q = Q.reshape(len(test), s.h, len(qlist))
    cpu, wall = time.process_time() - clock[0], time.perf_counter() - clock[1]
    y = tgt[test].reshape(-1)
    qs = {q: Q[:, :, j].reshape(-1) for j, q in enumerate(qlist)}
    rec = score(y, qs, REPORT_LEVELS)
    rec.update(
        fit_seconds=fit_wall,
        update_seconds=0.0,
        cpu_seconds=cpu,
        wall_seconds=wall,
        mae=metrics.mae(y, qs[0.5]),
        window=W,
        epochs=int(model.n_iter_),
    )
    if s.h >= 3:
        step = np.tile(np.arange(s.h), len(test))
        for label, sel in (
            ("first", step < s.h // 3),
            ("last", step >= s.h - s.h // 3),
        ):
            rec[f"coverage_95_{label}_third"] = metrics.coverage(
                y[sel], qs[0.025][sel], qs[0.975][sel]
            )
    if s.name == "sp1":
        idx = s.y.index[origin[test]]
        rec.update(var_scores(s, y, idx, qs))
    return rec, settings


METHODS = {
    # point head (the defaults), split-conformal bands (refreshed by update)
    "conformal": run_forecaster,
    # likelihood / quantile heads: their own quantiles
    "normal": lambda s, seed, q: run_forecaster(s, seed, q, "normal"),
    "student_t": lambda s, seed, q: run_forecaster(s, seed, q, "student_t"),
    "quantile": lambda s, seed, q: run_forecaster(s, seed, q, "quantile"),
    # the Student-t model's conformal bands around its mean
    "student_t+conformal": lambda s, seed, q: run_forecaster(
        s, seed, q, "student_t", "conformal"
    ),
    "window-t": lambda s, seed, q: run_window(s, seed, q, "student_t"),
    "window-q": lambda s, seed, q: run_window(s, seed, q, "quantile"),
}


# -------------------------------------------------------------------- output
def table(records: list[dict]) -> str:
    """Mean over seeds [min-max] per (series, method, level)."""
    df = pd.DataFrame(records)
    lines = [
        "| series | method | level | coverage | mean width | Winkler | pinball "
        "| CRPS | fit s | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(v, fmt):
        v = np.asarray(v, float)
        if len(v) == 1:
            return format(v[0], fmt)
        return (
            f"{format(v.mean(), fmt)} [{format(v.min(), fmt)}–{format(v.max(), fmt)}]"
        )

    for (series, method), g in df.groupby(["series", "method"], sort=False):
        for pct in REPORT_LEVELS:
            lines.append(
                f"| {series} | {method} | {pct} % "
                f"| {cell(100 * g[f'coverage_{pct}'], '.1f')} "
                f"| {cell(g[f'width_{pct}'], '.3g')} "
                f"| {cell(g[f'winkler_{pct}'], '.3g')} "
                f"| {cell(g['pinball'], '.4g')} | {cell(g['crps'], '.4g')} "
                f"| {cell(g['fit_seconds'], '.0f')} | {len(g)} |"
            )
    return "\n".join(lines)


def var_table(records: list[dict]) -> str:
    rows = [r for r in records if "var_days" in r]
    if not rows:
        return ""
    lines = [
        "| method | seed | days | VaR | exceedances (expected) | Kupiec p | "
        "historical exceedances | historical p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for p in VAR_P:
            pct = f"{100 * (1 - p):g}"
            lines.append(
                f"| {r['method']} | {r['seed']} | {r['var_days']} | {pct} % "
                f"| {r[f'var{pct}_exceed']} ({p * r['var_days']:.1f}) "
                f"| {r[f'var{pct}_pvalue']:.3f} | {r[f'var{pct}_hist_exceed']} "
                f"| {r[f'var{pct}_hist_pvalue']:.3f} |"
            )
    return "\n".join(lines)


def step_table(records: list[dict]) -> str:
    rows = [r for r in records if "coverage_95_first_third" in r]
    if not rows:
        return ""
    df = pd.DataFrame(rows)
    lines = [
        "| series | method | 95 % coverage, steps 1..h/3 | last third |",
        "|---|---|---|---|",
    ]
    for (series, method), g in df.groupby(["series", "method"], sort=False):
        lines.append(
            f"| {series} | {method} | {100 * g['coverage_95_first_third'].mean():.1f} "
            f"| {100 * g['coverage_95_last_third'].mean():.1f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", nargs="+", default=["elec", "sst", "sp1", "sp5"])
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--quick", action="store_true", help="few origins, one seed")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--tag", default="", help="label stored with every record")
    ap.add_argument("--tables-only", action="store_true")
    args = ap.parse_args(argv)
    if args.quick and args.out == DEFAULT_OUT:
        args.out = DEFAULT_OUT.replace(".jsonl", "-quick.jsonl")
    seeds = args.seeds[:1] if args.quick else args.seeds
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    if not args.tables_only:
        for name in args.series:
            s = load_series(name, args.quick)
            for method in args.methods:
                for seed in seeds:
                    rec, settings = METHODS[method](s, seed, args.quick)
                    rec = dict(
                        series=name,
                        method=method,
                        seed=seed,
                        h=s.h,
                        step=s.step,
                        n_origins=s.n_origins,
                        tag=args.tag,
                        quick=args.quick,
                        version=tsrnn.__version__,
                        settings=settings,
                        **rec,
                    )
                    with open(args.out, "a") as f:
                        f.write(json.dumps(rec) + "\n")
                    print(
                        f"{name} {method} seed {seed}: "
                        f"cov80 {100 * rec['coverage_80']:.1f} "
                        f"cov95 {100 * rec['coverage_95']:.1f} "
                        f"pinball {rec['pinball']:.4g} crps {rec['crps']:.4g} "
                        f"fit {rec['fit_seconds']:.0f}s",
                        flush=True,
                    )
    with open(args.out) as f:
        records = [json.loads(line) for line in f if line.strip()]
    if args.tag:
        records = [r for r in records if r.get("tag") == args.tag]
    print(table(records))
    print()
    print(step_table(records))
    print()
    print(var_table(records))


if __name__ == "__main__":
    main()
