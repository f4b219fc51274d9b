"""Forecast accuracy on the shipped M3 and Tourism shares, per frequency group.

The official test windows: the last ``h`` points of every series are held out
(``h`` and the seasonal period ``m`` from the meta files), models see the rest.
Scores are averaged over the series of a group: MASE (scale: the in-sample
seasonal-naive error at lag ``m``, M4 style) and sMAPE (percent).

Models:
- ``naive``, ``seasonal naive`` (tsrnn.baselines);
- ``RNNForecaster``: ONE global model per group over all its series (long
  format), direct strategy, ``differencing=True``, seasonal reference ``m``;
- statsforecast's ``AutoETS`` and ``AutoTheta`` (one model per series), when
  statsforecast is installed (``pip install -e ".[bench]"``).

Usage::

    python benchmarks/bench_accuracy.py [--collections m3 tourism]
        [--groups monthly ...] [--seeds 0] [--no-stats]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tsrnn import (  # noqa: E402
    NaiveForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)
from tsrnn.datasets import load_m3, load_tourism  # noqa: E402
from tsrnn.metrics import mase, smape  # noqa: E402

LOADERS = {"m3": load_m3, "tourism": load_tourism}


def rnn_for(h: int, m: int, median_length: float, seed: int) -> RNNForecaster:
    """The global model's settings for a group (the same rule for every group).

    Truncated-BPTT windows of 16 steps for series of 64 training points or more
    and of 8 below: a short series cut into 32-step windows is mostly padding,
    and the epoch then makes few optimizer steps (measured on M3 quarterly,
    20 epochs: MASE 1.64 with 32 steps, 1.23 with 8).
    """
    return RNNForecaster(
        cell="lstm",
        hidden_size=32,
        horizon=h,
        season_length=m,
        differencing=True,
        # MASE and sMAPE are absolute errors: train on absolute errors too
        # (Tourism monthly, 20 epochs: 1.59 with squared error, 1.56 with it)
        loss="absolute_error",
        bptt_length=16 if median_length >= 64 else 8,
        max_iter=50,
        # the last 20 % of every series (when it holds more than h steps) is
        # never trained on: it picks the epoch (short series overfit quickly:
        # Tourism yearly, 20 epochs without it, MASE 3.50 against 3.03 naive)
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=5,
        random_state=seed,
    )


def score(train: pd.DataFrame, test: pd.DataFrame, fc: pd.DataFrame, col: str, m):
    """Mean MASE and sMAPE over the series of one group."""
    tr = {u: g.y.to_numpy() for u, g in train.groupby("unique_id", sort=False)}
    te = {u: g.y.to_numpy() for u, g in test.groupby("unique_id", sort=False)}
    pr = {u: g[col].to_numpy() for u, g in fc.groupby("unique_id", sort=False)}
    ma, sm = [], []
    for u, y_train in tr.items():
        ma.append(mase(te[u], pr[u], y_train, m=m if len(y_train) > m else 1))
        sm.append(smape(te[u], pr[u]))
    return float(np.mean(ma)), float(np.mean(sm))


def run_tsrnn(model, train, h):
    t0 = time.perf_counter()
    model.fit(train)
    fc = model.predict(horizon=h)
    return fc, "y", time.perf_counter() - t0


def run_stats(train, h, m):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    out = {}
    for name, mdl in (
        ("AutoETS", AutoETS(season_length=m)),
        ("AutoTheta", AutoTheta(season_length=m)),
    ):
        t0 = time.perf_counter()
        sf = StatsForecast(models=[mdl], freq=1, n_jobs=1)
        fc = sf.forecast(df=train, h=h).reset_index()
        out[name] = (fc, name, time.perf_counter() - t0)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", nargs="+", default=["m3", "tourism"])
    parser.add_argument("--groups", nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--no-stats", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    try:
        import statsforecast  # noqa: F401

        stats = not args.no_stats
    except ImportError:
        stats = False
        print("statsforecast is not installed: AutoETS/AutoTheta rows skipped")
    header = (
        f"{'collection':10s} {'group':10s} {'n':>5s} {'h':>3s} {'m':>3s}  "
        f"{'model':26s} {'MASE':>7s} {'sMAPE':>7s} {'fit+predict s':>13s}"
    )
    print(header)
    print("-" * len(header))
    for cname in args.collections:
        groups = sorted(LOADERS[cname]().meta.frequency.unique())
        for group in groups:
            if args.groups and group not in args.groups:
                continue
            coll = LOADERS[cname](frequency=group)
            train, test = coll.split()
            h = int(coll.meta.horizon.iloc[0])
            m = int(coll.meta.seasonal_period.iloc[0])
            n = len(coll.meta)
            med = float(coll.meta.n_train.median())
            runs = [
                ("naive", run_tsrnn(NaiveForecaster(), train, h)),
                (
                    f"seasonal naive (m={m})",
                    run_tsrnn(SeasonalNaiveForecaster(season_length=m), train, h),
                ),
            ]
            for seed in args.seeds:
                runs.append(
                    (
                        f"RNNForecaster global s{seed}",
                        run_tsrnn(rnn_for(h, m, med, seed), train, h),
                    )
                )
            if stats:
                runs += list(run_stats(train, h, m).items())
            for name, (fc, col, secs) in runs:
                ma, sm = score(train, test, fc, col, m)
                print(
                    f"{cname:10s} {group:10s} {n:5d} {h:3d} {m:3d}  {name:26s} "
                    f"{ma:7.3f} {sm:7.2f} {secs:13.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
