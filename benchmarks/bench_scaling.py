"""How RNNForecaster's fit time and memory grow with the data.

Two sweeps on synthetic data (daily-like season of 24 steps plus noise and a
random walk level), each configuration in a fresh subprocess so that its peak
resident memory (``ru_maxrss``) is its own:

- number of series: 100, 1,000, 10,000 series of 200 steps (long format, one
  global model);
- length of one series: 10^4, 10^5, 10^6 steps.

Every run is ``RNNForecaster(hidden_size=16, horizon=12, max_iter=2)`` (two
epochs: enough to show the per-epoch cost; the time per epoch is what grows),
then ``predict``. Printed: rows, fit seconds, seconds per epoch per million
rows (flat if time is linear), peak RSS, and peak RSS minus the same process's
RSS after building the data (the model's own memory; flat if memory does not
grow beyond the data itself). The kernels are compiled (cached) before timing.

Usage::

    python benchmarks/bench_scaling.py [--series 100 1000 10000]
        [--lengths 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_CHILD = r"""
import json, resource, sys, time, warnings
sys.path.insert(0, {root!r})
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
from tsrnn import RNNForecaster

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

kind, n = sys.argv[1], int(sys.argv[2])
# compile (or load the cached kernels) on a small problem first
RNNForecaster(hidden_size=16, horizon=12, max_iter=1, random_state=0).fit(
    np.sin(np.arange(300) / 4.0))
rng = np.random.default_rng(0)
if kind == "series":
    L = 200
    t = np.arange(L)
    level = np.cumsum(rng.normal(size=(n, L)), axis=1) * 0.1
    y = np.sin(2 * np.pi * t / 24)[None] + level + 0.1 * rng.normal(size=(n, L))
    data = pd.DataFrame({{"unique_id": np.repeat(np.arange(n), L),
                         "ds": np.tile(t, n), "y": y.ravel()}})
    rows = n * L
else:
    t = np.arange(n)
    data = np.sin(2 * np.pi * t / 24) + 0.1 * rng.normal(size=n)
    rows = n
base = rss_mb()
f = RNNForecaster(hidden_size=16, horizon=12, max_iter=2, tol=0.0,
                  season_length=24, random_state=0)
t0 = time.perf_counter()
f.fit(data)
fit = time.perf_counter() - t0
t0 = time.perf_counter()
f.predict()
pred = time.perf_counter() - t0
print(json.dumps(dict(rows=rows, fit=fit, predict=pred, epochs=f.n_iter_,
                      peak=rss_mb(), base=base)))
"""


def run(kind: str, n: int) -> dict:
    code = _CHILD.format(root=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", code, kind, str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="*", default=[100, 1000, 10000])
    parser.add_argument(
        "--lengths", type=int, nargs="*", default=[10_000, 100_000, 1_000_000]
    )
    args = parser.parse_args()
    head = (
        f"{'sweep':8s} {'n':>9s} {'rows':>10s} {'fit s':>8s} {'s/epoch/Mrow':>13s} "
        f"{'predict s':>10s} {'peak MB':>8s} {'model MB':>9s}"
    )
    print("RNNForecaster(hidden_size=16, horizon=12, max_iter=2), one process per row")
    print(head)
    print("-" * len(head))
    for kind, values in (("series", args.series), ("length", args.lengths)):
        for n in values:
            r = run(kind, n)
            per = r["fit"] / r["epochs"] / (r["rows"] / 1e6)
            print(
                f"{kind:8s} {n:9d} {r['rows']:10d} {r['fit']:8.2f} {per:13.2f} "
                f"{r['predict']:10.3f} {r['peak']:8.0f} {r['peak'] - r['base']:9.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
