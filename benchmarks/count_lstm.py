"""Instruction counts of the float32 LSTM training step and inference (callgrind).

Wall-clock times are noise on a loaded shared machine; instruction counts are
not. This driver builds bench_engine.py's problem (B=64 streams, T=48, I=4, one
layer, linear head on the last state, MSE, Adam), warms every kernel up, then
runs ``--reps`` calls inside one C function (``functools.reduce``) so that
callgrind collects only them::

    valgrind --tool=callgrind --toggle-collect='*functools_reduce*' \\
        --callgrind-out-file=/tmp/cg.out \\
        python benchmarks/count_lstm.py --hidden 32 --mode train --reps 5
    callgrind_annotate /tmp/cg.out | head -40

Valgrind does not decode AVX-512: on AVX-512 machines set NUMBA_CPU_NAME and
NUMBA_CPU_FEATURES to an AVX2 target and a NUMBA_CACHE_DIR of its own (see
``--avx2-env``). One thread unless NUMBA_NUM_THREADS is set (callgrind's
collection toggle is per thread).

Without valgrind it prints the CPU time per call (``time.process_time``).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tsrnn.engine import Adam, LinearHead, Network, get_loss  # noqa: E402
from tsrnn.engine.stack import RecurrentStack  # noqa: E402

B, T, I = 64, 48, 4


def avx2_env() -> str:
    """Shell exports that make Numba compile for this CPU without AVX-512."""
    from llvmlite import binding as llvm

    feats = llvm.get_host_cpu_features()
    flags = ",".join(
        ("+" if on and not k.startswith("avx512") else "-") + k
        for k, on in sorted(feats.items())
    )
    return f"export NUMBA_CPU_NAME=znver3 NUMBA_CPU_FEATURES='{flags}'"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--mode", choices=("train", "infer"), default="train")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--avx2-env", action="store_true")
    args = parser.parse_args()
    if args.avx2_env:
        print(avx2_env())
        return
    dtype = np.dtype(args.dtype).type
    H = args.hidden
    rng = np.random.default_rng(0)
    net = Network(
        RecurrentStack(args.cell, I, H, 1, dtype=dtype), LinearHead(H, 1, "last")
    )
    theta = net.init_params(rng)
    opt = Adam(theta.size, 1e-3, dtype=dtype)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    y = rng.standard_normal((B, 1)).astype(dtype)
    mse = get_loss("squared_error")

    if args.mode == "train":

        def call(acc, _):
            net.train_step(theta, opt, x, y, None, mse)

    else:

        def call(acc, _):
            net.forward(theta, x)

    call(None, None)
    call(None, None)
    t0 = time.process_time()
    functools.reduce(call, range(args.reps), None)
    dt = (time.process_time() - t0) / args.reps
    print(f"{args.cell} {args.dtype} H={H} {args.mode}: {dt * 1e3:.3f} ms CPU per call")


if __name__ == "__main__":
    main()
