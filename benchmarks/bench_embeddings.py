"""Categorical embeddings, the id embedding and past-only covariates, measured.

Two cases (``--case``), 3 seeds each, one line per (case, configuration, seed)
and a summary (mean and range over the seeds):

``onehot``
    A panel of 12 daily series whose level depends on a known categorical
    covariate (a 7-category "regime" that changes every few days, effects
    drawn once) plus noise. The same data given three ways: the categorical
    column embedded (``category`` dtype, the default width), the same
    categories as one-hot numeric columns (what a user did before), and no
    covariate. Score: MAE over the last ``h = 7`` rows of every series
    (fitted on the rest), each series' truth given as the future covariate.
``stocks``
    The four shipped US stocks (``load_us_stocks``, log adjusted close),
    h = 5, fitted on all but the last 100 trading days of each series, then
    walked over them (``backtest``-style: forecast, update, repeat) by
    ``score`` per series. Configurations: default, ``id_embedding=True``, and
    the log volume as a past-only covariate (``past_covariates``). Score:
    MAE relative to the random walk's MAE on the same origins.

Run: ``python benchmarks/bench_embeddings.py --case onehot stocks``.
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from tsrnn import RNNForecaster
from tsrnn.datasets import load_us_stocks, market_calendar

H_ONEHOT = 7


def onehot_panel(n_series=12, n=200, seed=123):
    rng = np.random.default_rng(seed)
    effects = rng.normal(0.0, 1.0, 7)
    frames = []
    for i in range(n_series):
        # a regime that holds for 2 to 6 days, then another
        regime = np.repeat(rng.integers(0, 7, n), rng.integers(2, 7, n))[:n]
        y = rng.normal(0, 1) + effects[regime] + 0.3 * rng.standard_normal(n)
        frames.append(pd.DataFrame({
            "unique_id": f"s{i}",
            "ds": pd.date_range("2020-01-01", periods=n, freq="D"),
            "y": y,
            "regime": pd.Categorical([f"r{r}" for r in regime],
                                     categories=[f"r{r}" for r in range(7)]),
        }))
    return pd.concat(frames, ignore_index=True)


def split(df, h):
    test = df.groupby("unique_id", sort=False).tail(h)
    return df.drop(test.index), test


def run_onehot(seed):
    df = onehot_panel()
    hot = pd.get_dummies(df["regime"], prefix="regime", dtype=float)
    variants = {
        "embedded": df,
        "one-hot columns": pd.concat([df.drop(columns="regime"), hot], axis=1),
        "no covariate": df.drop(columns="regime"),
    }
    out = {}
    for name, data in variants.items():
        train, test = split(data, H_ONEHOT)
        model = RNNForecaster(horizon=H_ONEHOT, hidden_size=16, random_state=seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(train)
        fut = test.drop(columns="y")
        pred = model.predict(X=fut if fut.shape[1] > 2 else None)
        err = np.abs(pred["y"].to_numpy() - test["y"].to_numpy()).mean()
        out[name] = (err, time.perf_counter() - t0)
    return out


def run_stocks(seed, tail=100, h=5):
    df = load_us_stocks()
    df = df.assign(y=np.log(df["y"]), volume=np.log1p(df["volume"].astype(float)))
    df = df[["unique_id", "ds", "y", "volume"]]
    df = df[df.groupby("unique_id")["y"].transform("size") > 2 * tail]  # not FB
    configs = {
        "default": (dict(), df.drop(columns="volume")),
        "id_embedding=True": (dict(id_embedding=True), df.drop(columns="volume")),
        "past volume": (dict(past_covariates=["volume"]), df),
    }
    out = {}
    cal = market_calendar("us_stocks")
    for name, (kw, data) in configs.items():
        train, test = split(data, tail)
        model = RNNForecaster(horizon=h, freq=cal, random_state=seed, **kw)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(train)
        ratios = []
        for uid, g in test.groupby("unique_id", sort=False):
            last = train[train["unique_id"] == uid]["y"].iloc[-1]
            truth = g["y"].to_numpy()
            # the random walk's MAE over the same walk (origins every h steps)
            origins = np.arange(0, len(truth), h)
            level = np.r_[last, truth][origins]
            rw = np.mean(np.concatenate([
                np.abs(truth[o : o + h] - lv)
                for o, lv in zip(origins, level, strict=True)
            ]))
            walked = _walk(model, uid, g, h)
            ratios.append(walked / rw)
        out[name] = (float(np.mean(ratios)), time.perf_counter() - t0)
    return out


def _walk(model, uid, g, h):
    """MAE of forecasting ``g`` (one series) ``h`` steps at a time, updating."""
    m = copy.deepcopy(model)
    errs = []
    for a in range(0, len(g), h):
        block = g.iloc[a : a + h]
        pred = m.predict(horizon=len(block))
        pred = pred[pred["unique_id"] == uid]["y"].to_numpy()
        errs.append(np.abs(pred - block["y"].to_numpy()))
        m.update(block)
    return float(np.mean(np.concatenate(errs)))


CASES = {"onehot": run_onehot, "stocks": run_stocks}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", nargs="+", choices=list(CASES), default=list(CASES))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = ap.parse_args()
    for case in args.case:
        rows = {}
        for seed in args.seeds:
            for name, (score, sec) in CASES[case](seed).items():
                rows.setdefault(name, []).append(score)
                print(f"{case:7s} {name:20s} seed {seed}  {score:.4f}  ({sec:.0f} s)",
                      flush=True)
        print(f"\n{case}: mean [min-max] over seeds {args.seeds}")
        for name, s in rows.items():
            print(f"  {name:20s} {np.mean(s):.4f} [{min(s):.4f}-{max(s):.4f}]")
        print(flush=True)


if __name__ == "__main__":
    main()
