"""Where a streaming step's time goes: in the kernel, in the call, in Python.

For each cell, dtype and hidden size (batch 1, one layer, I = 4, one output),
min over batches of calls, one thread:

* ``kernel``: the driver advancing 500 steps in one call, per step (the
  arithmetic and weight traffic alone, no call cost);
* ``read``: reading the packed weights once, inside one call that reads them
  200 times, per read (the floor of ``kernel``);
* ``driver``: one call of the driver for one step, from Python (kernel plus
  Numba's dispatch and unboxing of six arguments);
* ``run``: ``InferencePack.run`` for one step (plus Python and the output's
  allocation), what ``bench_engine.py --only step`` times;
* ``wread``: one call reading the weights once (the benchmark's floor).

Usage::

    python benchmarks/profile_stream.py --cells lstm --dtypes float32 --hidden 64,128
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tsrnn.engine import LinearHead, Network  # noqa: E402
from tsrnn.engine.inference import InferencePack  # noqa: E402
from tsrnn.engine.stack import RecurrentStack  # noqa: E402
from tsrnn.kernels._linalg import aligned_copy  # noqa: E402


def tmin(fn, n, reps):
    """Min over ``reps`` batches of ``n`` calls, seconds per call."""
    fn()
    best = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def _read_k(a, k):
    # fastmath: the sum goes into vector lanes; only the traffic matters
    s = a.dtype.type(0)
    for _ in range(k):
        for i in range(a.shape[0]):
            s += a[i]
        a[0] = s * 0  # a store, so that the k reads are not folded into one
    return s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="rnn,lstm,gru,sru")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--hidden", default="16,64,128,256")
    parser.add_argument("--reps", type=int, default=40)
    args = parser.parse_args()
    S = 500
    print(f"us per step, min of {args.reps} batches")
    print(f"{'cell':5} {'dtype':7} {'H':>4} | {'kernel':>7} {'read':>7} | "
          f"{'driver':>7} {'run':>7} {'wread':>7} | {'KB':>6}")
    for dname in args.dtypes.split(","):
        dt = np.dtype(dname).type
        for cell in args.cells.split(","):
            for H in (int(h) for h in args.hidden.split(",")):
                rng = np.random.default_rng(0)
                net = Network(RecurrentStack(cell, 4, H, 1, dtype=dt),
                              LinearHead(H, 1, "none"))
                pack = InferencePack(net, net.init_params(rng))
                state = net.stack.zero_state(1)
                xs = rng.standard_normal((S, 1, 4)).astype(dt)
                x1 = xs[:1].copy()
                pack.run(state, x1)
                out = np.empty((S, 1, 1), dt)
                f = pack._stream
                many = (pack.pack, pack.meta, state, xs, xs, out)
                one = (pack.pack, pack.meta, state, x1, x1, out[:1])
                w = aligned_copy(pack.pack)
                r = args.reps
                kernel = tmin(lambda: f(*many), 2, r) / S
                read = tmin(lambda: _read_k(w, 200), 1, r) / 200
                driver = tmin(lambda: f(*one), 300, r)
                run = tmin(lambda: pack.run(state, x1), 300, r)
                wread = tmin(lambda: _read_k(w, 1), 300, r)
                print(
                    f"{cell:5} {dname:7} {H:4d} | {kernel * 1e6:7.3f} "
                    f"{read * 1e6:7.3f} | {driver * 1e6:7.3f} {run * 1e6:7.3f} "
                    f"{wread * 1e6:7.3f} | {pack.pack.nbytes / 1024:6.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
