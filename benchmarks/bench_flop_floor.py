"""How fast can a float32 LSTM row of ``bench_engine.py`` go on this machine?

Issue 17 asks for float32 LSTM training and inference at <= 0.5 x PyTorch's
time at H <= 64 (``bench_engine.py``'s problem: B = 64 streams, T = 48 steps,
I = 4 inputs, a linear head on the last state). Whatever the implementation,
a row cannot take less time than its multiply-adds at the machine's best
multiply-add rate. This script measures that rate -- the best of several
large square products through NumPy's BLAS (OpenBLAS: the fastest GEMM on
this machine, packed and tuned for its vector units), on one thread and on
the threads the engine benchmark uses -- counts each row's floating-point
operations, and prints, per row:

* ``GF``: the row's floating-point operations (millions), matrix products
  only (the gates' sigmoids and tanh, Adam and the head are left out, so the
  floor below is an underestimate: the true floor is higher);
* ``floor``: those operations at the measured peak of all threads (ms);
* ``target``: 0.5 x torch's time, timed here in the same process;
* ``need``: the rate the target asks for, as a fraction of the measured peak
  (above 1: no implementation can reach the target on this machine; near 1:
  only a product at the BLAS's own large-matrix efficiency could, which
  these small per-step products, 64 x (I + H) by (I + H) x 4H, one after
  the other, do not reach);
* ``tsrnn`` and ``torch``: both libraries' times (ms) and their ratio.

Operations per row (one layer, no bias work counted):

* inference: the forward scan's product per step,
  ``2 T B 4H (I + H)``;
* training: the forward scan, the backward scan's ``dh`` product
  ``2 T B 4H H``, the weight gradients ``2 T B 4H (I + H)`` (the input's
  gradient is not needed for a first layer; torch skips it too).

Usage::

    python benchmarks/bench_flop_floor.py              # LSTM float32, H 16 32 64
    python benchmarks/bench_flop_floor.py --hidden 16 32 64 128 --threads 2

Needs torch (the ``[bench]`` extra's companion: ``pip install torch==2.13.0``).
"""

from __future__ import annotations

import argparse
import os
import sys

THREADS = 2
if "--threads" in sys.argv:
    THREADS = int(sys.argv[sys.argv.index("--threads") + 1])
os.environ.setdefault("NUMBA_NUM_THREADS", str(THREADS))
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))

import time  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from bench_engine import B, I, T, timeit, torch_fns, tsrnn_fns  # noqa: E402


def gemm_peak(n_threads: int, dtype=np.float32, n: int = 2048, reps: int = 7) -> float:
    """Best floating-point operations per second of an ``n``-square product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    best = np.inf
    with threadpool_limits(n_threads):
        a @ b
        for _ in range(reps):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best


def lstm_flops(H: int) -> tuple[float, float]:
    """(training, inference) floating-point operations of one row."""
    G = 4 * H
    forward = 2.0 * T * B * G * (I + H)
    backward = 2.0 * T * B * G * H + 2.0 * T * B * G * (I + H)
    return forward + backward, forward


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, nargs="+", default=[16, 32, 64])
    p.add_argument("--threads", type=int, default=THREADS)
    args = p.parse_args(argv)
    one = gemm_peak(1)
    peak = gemm_peak(args.threads)
    # the peak of all threads is at least one thread's: a loaded second core
    # must not make the floor look lower than one core alone proves
    peak = max(peak, one)
    print(
        f"float32 GEMM peak (OpenBLAS, 2048-square, best of 7): 1 thread "
        f"{one / 1e9:.1f} GFLOP/s, {args.threads} threads {peak / 1e9:.1f} GFLOP/s"
    )
    print(f"LSTM float32, B={B} T={T} I={I}; ms; need = target rate / peak")
    print(
        f"{'H':>4} {'row':<6} {'GF':>7} {'floor':>7} {'target':>7} {'need':>5}"
        f" {'tsrnn':>7} {'torch':>7} {'ratio':>6}"
    )
    for H in args.hidden:
        train, infer, _, _ = tsrnn_fns("lstm", H, np.float32)
        t_train, t_infer, _ = torch_fns("lstm", H, np.float32)
        flops = dict(zip(("train", "infer"), lstm_flops(H)))
        for row, ours, theirs in (("train", train, t_train), ("infer", infer, t_infer)):
            a, b = timeit(ours), timeit(theirs)
            target = 0.5 * b
            f = flops[row]
            print(
                f"{H:>4} {row:<6} {f / 1e6:>7.1f} {f / peak * 1e3:>7.3f}"
                f" {target * 1e3:>7.3f} {f / target / peak:>5.2f}"
                f" {a * 1e3:>7.3f} {b * 1e3:>7.3f} {a / b:>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
