"""Fit + predict CPU time of the defaults against statsforecast's AutoETS, paired.

Issue 13 asks for forecasts no slower than AutoETS on the same group. On the
shared development machines other jobs inflate both libraries' times, and by
different amounts from one minute to the next, so the two are timed
alternately in one process: per group, ``--reps`` rounds of (AutoETS fit +
forecast, then ``RNNForecaster(horizon=h, season_length=m, random_state=0)``
fit + predict), after one warm-up of each (Numba's on-disk cache loaded, not
compiled). Printed per group: the minimum CPU seconds of each over the rounds
and their ratio (below 1: the RNN is faster), and the ratio of the minimum
wall seconds (what a user waits). CPU time of the process, both
libraries on their default threads (AutoETS ``n_jobs=1``).

Usage::

    python benchmarks/bench_fit_time.py                  # the three short groups
    python benchmarks/bench_fit_time.py --groups m3:monthly tourism:quarterly
    python benchmarks/bench_fit_time.py --all --reps 2

Needs the ``[bench]`` extra (statsforecast).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import tsrnn.datasets as ds  # noqa: E402
from tsrnn import RNNForecaster  # noqa: E402

SHORT = ["m3:other", "m3:yearly", "tourism:yearly"]
LOADERS = {"m3": ds.load_m3, "tourism": ds.load_tourism}


def all_groups() -> list[str]:
    return [
        f"{c}:{g}"
        for c, load in LOADERS.items()
        for g in sorted(load().meta.frequency.unique())
    ]


def cpu(fn) -> tuple[float, float]:
    """CPU and wall seconds of ``fn()``."""
    start, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - start, time.perf_counter() - wall


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--groups", nargs="+", default=SHORT, metavar="COLLECTION:GROUP")
    p.add_argument("--all", action="store_true", help="every M3 and Tourism group")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument(
        "--dtype",
        default=None,
        choices=["float32", "float64"],
        help="the forecaster's dtype (default: its own default)",
    )
    args = p.parse_args(argv)
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    warnings.simplefilter("ignore")
    print(
        f"{'group':<18} {'series':>6} {'AutoETS s':>10} {'tsrnn s':>8} {'ratio':>6}"
        f" {'wall ratio':>10}   (every round: AutoETS / tsrnn CPU s)",
        flush=True,
    )
    for spec in all_groups() if args.all else args.groups:
        cname, group = spec.split(":")
        coll = LOADERS[cname](frequency=group)
        train, _ = coll.split()
        h = int(coll.meta.horizon.iloc[0])
        m = int(coll.meta.seasonal_period.iloc[0])

        def ets():
            sf = StatsForecast(models=[AutoETS(season_length=m)], freq=1, n_jobs=1)
            sf.forecast(df=train, h=h)

        def rnn():
            kw = {} if args.dtype is None else {"dtype": args.dtype}
            est = RNNForecaster(horizon=h, season_length=m, random_state=0, **kw)
            est.fit(train).predict(h)

        ets(), rnn()  # warm-up: caches loaded, not timed
        rounds = [(cpu(ets), cpu(rnn)) for _ in range(args.reps)]
        e = min(r[0][0] for r in rounds)
        t = min(r[1][0] for r in rounds)
        # wall time: what a user waits (tsrnn may use its second thread,
        # AutoETS runs on one); noisier than CPU on a shared machine
        ew = min(r[0][1] for r in rounds)
        tw = min(r[1][1] for r in rounds)
        detail = "  ".join(f"{a[0]:.2f}/{b[0]:.2f}" for a, b in rounds)
        print(
            f"{spec:<18} {len(coll.meta):>6} {e:>10.2f} {t:>8.2f} {t / e:>6.2f}"
            f" {tw / ew:>10.2f}   ({detail})",
            flush=True,
        )


if __name__ == "__main__":
    main()
