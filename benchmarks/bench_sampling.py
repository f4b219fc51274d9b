"""Sampled steps per second of ``RNNForecaster.sample`` (issue 15: >= 100,000).

A recursive forecaster (64-unit LSTM, Student-t or normal head) is fitted on a
synthetic series (a few epochs: the speed does not depend on the fit), then
``sample(n_paths, horizon)`` is timed after one warm-up call (the compile):
every step of every path runs the network one step, draws from the head's
distribution and feeds the draw back. The figure is ``n_paths * horizon``
sampled steps per second of wall time, on one thread (NumPy, BLAS and Numba
limited to one core), best of ``--repeats`` (also per CPU second, steadier on a
loaded machine), and whether the same ``random_state`` gives the same paths bit
for bit. The direct strategy (independent marginal draws, no network stepping)
is timed too, for comparison.

Usage::

    python benchmarks/bench_sampling.py                 # LSTM 64, normal + student_t
    python benchmarks/bench_sampling.py --hidden 128 --paths 2000 --horizon 48
"""

from __future__ import annotations

import argparse
import os
import time

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one core, as the target says

import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from tsrnn import RNNForecaster  # noqa: E402


def _fit(loss, strategy, hidden, horizon, dtype):
    rng = np.random.default_rng(0)
    t = np.arange(2000)
    y = np.sin(2 * np.pi * t / 24) + 0.2 * rng.standard_normal(len(t))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return RNNForecaster(
            hidden_size=hidden, horizon=horizon if strategy == "direct" else 1,
            strategy=strategy, loss=loss, max_iter=2, random_state=0,
            season_length=24, dtype=dtype,
        ).fit(y)


def _rate(model, paths, horizon, repeats):
    first = model.sample(paths, horizon=horizon, random_state=0)  # compile, warm
    best, best_cpu = np.inf, np.inf
    for r in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model.sample(paths, horizon=horizon, random_state=r)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    # the same random_state must give the same paths, bit for bit
    again = model.sample(paths, horizon=horizon, random_state=0)
    same = np.array_equal(np.asarray(first), np.asarray(again))
    return paths * horizon / best, best, paths * horizon / best_cpu, same


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--horizon", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", default="float64")
    args = ap.parse_args()
    print(f"LSTM hidden_size={args.hidden}, {args.paths} paths x {args.horizon} "
          f"steps, {args.dtype}, one thread, best of {args.repeats}")
    for strategy in ("recursive", "direct"):
        for loss in ("normal", "student_t"):
            model = _fit(loss, strategy, args.hidden, args.horizon, args.dtype)
            rate, secs, cpu_rate, same = _rate(
                model, args.paths, args.horizon, args.repeats
            )
            print(f"  {strategy:9s} {loss:9s}: {rate:12,.0f} sampled steps/s "
                  f"({secs * 1e3:.1f} ms per call; {cpu_rate:12,.0f} per CPU "
                  f"second); random_state reproducible: {same}")


if __name__ == "__main__":
    main()
