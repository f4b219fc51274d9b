"""RNNForecaster on half-hourly Victoria electricity demand, against the baselines.

Rolling-origin backtest, h = 48 (one day ahead), origins one day apart; the
models are fitted once on the data before the first origin and then ``update``d
between origins (no refit). Covariates: temperature and the workday flag (both
known a day ahead in practice: a temperature forecast, the holiday calendar).
Prints MASE (scale: seasonal naive at m = 48 on the training data), MAE and the
fit time of each model, for two windows: the last 10 days of the year (the
Christmas holidays) and the last 8 weeks.

Usage::

    python benchmarks/bench_forecast_elec.py [--origins 10 56] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numpy as np  # noqa: E402

from tsrnn import (  # noqa: E402
    LinearARForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
    backtest,
)
from tsrnn.datasets import load_elec_demand  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, nargs="+", default=[10, 56])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    df = load_elec_demand()
    y = df["demand_gw"]
    X = df[["temperature_c", "workday"]]
    print(
        f"Victoria electricity demand, {len(y)} half-hours; h=48, origins 1 day apart"
    )
    print(f"{'model':44s} {'origins':>7s} {'MASE':>7s} {'MAE GW':>7s} {'fit s':>7s}")
    for n in args.origins:
        kw = dict(horizon=48, n_origins=n, season_length=48)
        rows = [
            ("seasonal naive (m=48)", SeasonalNaiveForecaster(season_length=48), None),
            (
                "linear AR, 336 lags + temperature, workday",
                LinearARForecaster(lags=336),
                X,
            ),
        ]
        rows += [
            (f"RNNForecaster() seed {s}", RNNForecaster(random_state=s), X)
            for s in args.seeds
        ]
        rows.append(
            (
                "RNNForecaster() seed 0, temperature only",
                RNNForecaster(random_state=0),
                X[["temperature_c"]],
            )
        )
        mases = []
        for name, est, Xc in rows:
            t0 = time.perf_counter()
            res = backtest(est, y, Xc, **kw)
            elapsed = time.perf_counter() - t0
            fit = float(res["fit_time"].iloc[0])
            print(
                f"{name:44s} {n:7d} {res['mase'].mean():7.3f} {res['mae'].mean():7.4f} "
                f"{fit:7.1f}   (backtest {elapsed:.1f} s)",
                flush=True,
            )
            if name.startswith("RNN") and "only" not in name:
                mases.append(res["mase"].mean())
        if mases:
            print(f"{'RNNForecaster mean over seeds':44s} {n:7d} {np.mean(mases):7.3f}")


if __name__ == "__main__":
    main()
