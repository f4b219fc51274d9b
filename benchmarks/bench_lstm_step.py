"""The LSTM scans' element-wise step: speed per variant and float32 accuracy.

The forward step (gates, cell, ``tanh(c)``, ``h``: :mod:`tsrnn.kernels._cellrows`)
bounds the float32 scans next to their products. This script times its
variants compiled side by side in one process (rounds alternated, so a
loaded machine slows all of them alike), 64 rows, one thread:

* ``scalar``: the scalar code's arithmetic (``lstm_step_rows_exact``);
* ``default``: the scans' step (short float32 exp, four rows a pass at
  ``H <= 16``, the division);
* ``estimate``: the default with the reciprocal estimate and one Newton step
  instead of the division (``RECIP_ESTIMATE``; measure it on a new CPU before
  switching ``RECIP32``);

and the backward cell step. ``--accuracy`` prints the float32 sigmoid's and
tanh's largest errors against float64 on a dense grid, per variant.

Usage::

    python benchmarks/bench_lstm_step.py                  # H 16 32 64 128
    python benchmarks/bench_lstm_step.py --accuracy
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from numba import njit

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tsrnn.kernels import _cellrows as cr  # noqa: E402

VARIANTS = {
    "scalar": cr.lstm_step_rows_exact,
    "default": cr.lstm_step_rows,
    "estimate": cr._make_step_rows(cr.RECIP_ESTIMATE, True, 4),
}


def _caller(kernel):
    @njit
    def run(rec, gates, cp, cn, tc, h, xh, col0, reps):
        for _ in range(reps):
            kernel(rec, gates, cp, cn, tc, h, xh, col0, 0, rec.shape[0])

    return run


@njit
def _back(g0, g, cp, tc, dh, dc, reps):
    for _ in range(reps):
        g[:] = g0  # in place: gradients of gradients would underflow
        cr.lstm_back_rows(g, cp, tc, dh, dc, 0, g.shape[0])


def speed(hidden, rounds=15, reps=1000, B=64):
    rng = np.random.default_rng(0)
    runners = {name: _caller(k) for name, k in VARIANTS.items()}
    print(f"us per step, {B} rows, float32, min / median of {rounds} rounds")
    for H in hidden:
        rec = (rng.standard_normal((B, 4 * H)) * 2).astype(np.float32)
        cp, tc, dh = (rng.standard_normal((B, H)).astype(np.float32) for _ in range(3))
        out = [np.empty_like(rec)] + [np.empty_like(cp) for _ in range(3)]
        args = (rec, out[0], cp, *out[1:], np.empty((B, 5 + H), np.float32), 4)
        g0 = rng.uniform(0.1, 0.9, (B, 4 * H)).astype(np.float32)
        bargs = (g0, g0.copy(), cp, tc, dh, np.ones((B, H), np.float32))
        fns = {n: (lambda r, f=f: f(*args, r)) for n, f in runners.items()}
        fns["backward"] = lambda r: _back(*bargs, r)
        for f in fns.values():
            f(1)
        res = {n: [] for n in fns}
        for _ in range(rounds):
            for n, f in fns.items():
                t0 = time.perf_counter()
                f(reps)
                res[n].append((time.perf_counter() - t0) / reps * 1e6)
        print(
            f"H {H:>4}: "
            + ", ".join(f"{n} {min(v):.3f}/{np.median(v):.3f}" for n, v in res.items()),
            flush=True,
        )


def _ulps(got, ref):
    spacing = np.spacing(np.abs(ref.astype(np.float32))).astype(np.float64)
    spacing = np.maximum(spacing, np.finfo(np.float32).tiny)
    return np.abs(got.astype(np.float64) - ref) / spacing


def accuracy(H=64):
    x = np.concatenate(
        [np.arange(-30, 30, 2.0**-12), np.arange(-87, 87, 2.0**-6)]
    ).astype(np.float32)
    x = np.concatenate([x, np.zeros(-x.size % H, np.float32)])
    X = x.reshape(-1, H)
    B = X.shape[0]
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x64))
    sig = np.where(x64 < 0, e / (1.0 + e), 1.0 / (1.0 + e))
    print(f"{x.size} points, x in [-87, 87] (step 2^-12 on [-30, 30], 2^-6 beyond)")
    print("variant: sigmoid max rel err, ulp (|x| <= 20); tanh max abs err, rel for"
          " |x| >= 0.5; tanh(c) max abs err")
    for name, kernel in VARIANTS.items():
        run = _caller(kernel)
        rec = np.empty((B, 4 * H), np.float32)
        rec[:, :H], rec[:, H : 2 * H], rec[:, 2 * H : 3 * H], rec[:, 3 * H :] = (
            X, 100.0, X, -100.0,  # i = sigmoid(x), f = 1, g = tanh(x), o ~ 0
        )
        out = [np.empty_like(rec)] + [np.empty((B, H), np.float32) for _ in range(4)]
        run(rec, out[0], np.zeros((B, H), np.float32), *out[1:], 0, 1)
        s = out[0][:, :H].ravel()
        g = out[0][:, 2 * H : 3 * H].ravel().astype(np.float64)
        rel = np.abs(s - sig) / sig
        u = _ulps(s, sig)
        mid = np.abs(x64) <= 20
        t_abs = np.abs(g - np.tanh(x64))
        big = np.abs(x64) >= 0.5
        t_rel = t_abs[big] / np.abs(np.tanh(x64[big]))
        rec[:, :H] = -100.0  # c = c_prev: tanh(c) of the grid
        run(rec, out[0], X.copy(), *out[1:], 0, 1)
        c, tc = (a.ravel().astype(np.float64) for a in out[1:3])
        print(
            f"{name:>9}: sigmoid {rel.max():.3g}, {u.max():.2f} ulp"
            f" ({u[mid].max():.2f});"
            f" tanh {t_abs.max():.3g}, {t_rel.max():.3g}; tanh(c)"
            f" {np.abs(tc - np.tanh(c)).max():.3g}"
        )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, nargs="+", default=[16, 32, 64, 128])
    p.add_argument("--accuracy", action="store_true")
    args = p.parse_args(argv)
    print(f"reciprocal estimate here: {cr.RECIP_ESTIMATE}; the scans': {cr.RECIP32}")
    if args.accuracy:
        accuracy()
    else:
        speed(args.hidden)


if __name__ == "__main__":
    main()
