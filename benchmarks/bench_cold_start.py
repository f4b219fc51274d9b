"""Cold start: the first default fit of a process, with an empty and a warm Numba cache.

``python benchmarks/bench_cold_start.py [--reps 3] [ROOT ...]``

For each repetition and each source tree ``ROOT`` (default: this checkout;
give two to compare, e.g. an unpacked ``git archive`` of the base), in turn:
a fresh interpreter with an empty ``NUMBA_CACHE_DIR`` runs
``RNNForecaster(horizon=4, max_iter=1).fit(y).predict()`` (compiling every
kernel it needs), then a second one on that cache (loading them). Printed per
process: the import time, the first fit + predict, the process's wall and
CPU time and the number of kernels compiled; ``-v`` adds each kernel's own
compile time (Numba's compile events, callees' time subtracted).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

CHILD = r"""
import sys, time
t0 = time.perf_counter(); c0 = time.process_time()
from numba.core import event
recs = []


class L(event.Listener):
    def on_start(self, ev):
        recs.append(("s", time.perf_counter(), ev.data["dispatcher"]))

    def on_end(self, ev):
        recs.append(("e", time.perf_counter(), ev.data["dispatcher"]))


event.register("numba:compile", L())
import warnings
import numpy as np
from tsrnn import RNNForecaster
t_imp = time.perf_counter() - t0
rng = np.random.default_rng(0)
t = np.arange(120)
y = np.sin(2 * np.pi * t / 12) + 0.1 * t / 12 + 0.3 * rng.standard_normal(120) + 5
t1 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    RNNForecaster(horizon=4, max_iter=1).fit(y).predict()
t_fit = time.perf_counter() - t1
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
stack, own = [], {}
for kind, ts, d in recs:
    name = f"{d.py_func.__module__}.{d.py_func.__name__}"
    if kind == "s":
        stack.append([name, ts, 0.0])
    else:
        n, start, child = stack.pop()
        own[n] = own.get(n, 0.0) + (ts - start) - child
        if stack:
            stack[-1][2] += ts - start
n = sum(r[0] == "s" for r in recs)
print(f"import {t_imp:.2f} s, first fit+predict {t_fit:.2f} s, process wall "
      f"{wall:.2f} s CPU {cpu:.2f} s, compiled {n}")
if "-v" in sys.argv:
    for k, v in sorted(own.items(), key=lambda kv: -kv[1]):
        print(f"    {v:6.3f} {k}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "roots", nargs="*", default=[str(pathlib.Path(__file__).parents[1])]
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("-v", action="store_true", help="compile time per kernel")
    args = parser.parse_args()
    extra = ["-v"] if args.v else []
    for _ in range(args.reps):
        for root in args.roots:
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=root)
                for label in ("cold", "cached"):
                    out = subprocess.run(
                        [sys.executable, "-c", CHILD, *extra],
                        env=env,
                        cwd=cache,  # not a checkout: PYTHONPATH's tsrnn
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    print(f"{root} {label}: {out.rstrip()}", flush=True)


if __name__ == "__main__":
    main()
