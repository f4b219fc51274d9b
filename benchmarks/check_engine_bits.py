"""Save, or compare, the engine's bits: outputs, losses, gradients, parameters.

For engine changes that must not change a single bit (performance work on the
Python around the kernels): run it on the code before and after, each writing
an ``.npz``, then compare the two byte for byte (``tobytes``: signed zeros and
NaN payloads included, stricter than ``np.array_equal``). Covers RNN, LSTM,
GRU and SRU, float32 and float64, 1 and 2 layers (dropout between them), uni-
and bidirectional, pooled (``"last"``) and per-step heads with a mask, H 16
and 20 (a partial panel), four training steps with clipping and a carried
state, ``loss_grad`` with L2, forwards with and without a cache and a state,
a smaller batch after a larger one, bench_engine's problem (B 64, T 48, H 16
and 64) and a stepwise head with extras and ``extra_grad``.

Usage::

    PYTHONPATH=<old tree> python benchmarks/check_engine_bits.py old.npz
    PYTHONPATH=<new tree> python benchmarks/check_engine_bits.py new.npz
    python benchmarks/check_engine_bits.py --compare old.npz new.npz
"""

from __future__ import annotations

import sys

import numpy as np


def compare(a_path, b_path) -> bool:
    a, b = np.load(a_path), np.load(b_path)

    def same(k):
        if k not in a.files or k not in b.files:
            return False
        x, y = a[k], b[k]
        return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()

    bad = [k for k in sorted(set(a.files) | set(b.files)) if not same(k)]
    for k in bad[:20]:
        print(f"{k:<45} DIFFERENT")
    print(f"{len(a.files)} arrays: " + ("ALL IDENTICAL (byte for byte)" if not bad else f"{len(bad)} DIFFER"))
    return not bad


def record() -> dict:
    from tsrnn.engine import Adam, LinearHead, Network, get_loss
    from tsrnn.engine.heads import StepwiseHead
    from tsrnn.engine.stack import RecurrentStack

    res = {}

    def rec(key, v):
        res[key] = np.asarray(v)

    def rec(key, v):
        res[key] = np.asarray(v)
    for dname in ("float32", "float64"):
        dt = np.dtype(dname).type
        for cell in ("lstm", "gru", "rnn", "sru"):
            for L in (1, 2):
              for bidir in (False, True):
                for pool in ("last", "none"):
                    for H in (16, 20):
                        k = f"{dname}-{cell}-L{L}-bi{int(bidir)}-{pool}-H{H}"
                        rng = np.random.default_rng(1)
                        I, T, B = 3, 9, 11 if H == 20 else 12
                        D = 2 if bidir else 1
                        net = Network(RecurrentStack(cell, I, H, L, dtype=dt, bidirectional=bidir), LinearHead(D * H, 2, pool))
                        theta = net.init_params(rng)
                        opt = Adam(theta.size, 1e-2, dtype=dt)
                        x = rng.standard_normal((T, B, I)).astype(dt)
                        y = rng.standard_normal((B, 2) if pool != "none" else (T, B, 2)).astype(dt)
                        mask = None
                        if pool == "none":
                            mask = (rng.random(y.shape) > 0.2).astype(dt)
                        loss = get_loss("squared_error")
                        s0 = None
                        for step in range(4):
                            r = net.train_step(theta, opt, x, y, mask, loss, s0, clip_norm=1.0,
                                               dropout=0.3 if L == 2 else 0.0, rng=np.random.default_rng(step))
                            rec(f"{k}-s{step}-loss", r.loss); rec(f"{k}-s{step}-gn", r.grad_norm)
                            rec(f"{k}-s{step}-state", r.state); rec(f"{k}-s{step}-dh", r.dh_norm)
                            rec(f"{k}-s{step}-zl", r.zero_loss)
                            rec(f"{k}-s{step}-theta", theta.copy())
                            if step == 1:
                                s0 = r.state
                        l2, g2, st2, dh2 = net.loss_grad(theta, x, y, mask, loss, s0, alpha=0.1, n_samples=5.0)
                        rec(f"{k}-lg-loss", l2); rec(f"{k}-lg-grad", g2); rec(f"{k}-lg-st", st2); rec(f"{k}-lg-dh", dh2)
                        for kc in (False, True):
                            yh, st, _ = net.forward(theta, x, keep_cache=kc)
                            rec(f"{k}-fw{int(kc)}-y", yh); rec(f"{k}-fw{int(kc)}-st", st)
                            yh, st, _ = net.forward(theta, x, s0, keep_cache=kc)
                            rec(f"{k}-fw{int(kc)}s-y", yh); rec(f"{k}-fw{int(kc)}s-st", st)
                        # forward called again on a grown batch / shorter window
                        yh, st, _ = net.forward(theta, x[:5, :7])
                        rec(f"{k}-fwsmall-y", yh)
        # the bench problem itself (B 64 T 48 I 4), both heads
        for cell in ("lstm", "gru"):
            for H in (16, 64):
                rng = np.random.default_rng(0)
                net = Network(RecurrentStack(cell, 4, H, 1, dtype=dt), LinearHead(H, 1, "last"))
                theta = net.init_params(rng); opt = Adam(theta.size, 1e-3, dtype=dt)
                x = rng.standard_normal((48, 64, 4)).astype(dt); y = rng.standard_normal((64, 1)).astype(dt)
                for step in range(3):
                    r = net.train_step(theta, opt, x, y, None, get_loss("squared_error"))
                    rec(f"bench-{dname}-{cell}-{H}-s{step}", [r.loss, r.grad_norm, r.zero_loss])
                    rec(f"bench-{dname}-{cell}-{H}-s{step}-dh", r.dh_norm)
                rec(f"bench-{dname}-{cell}-{H}-theta", theta)
                rec(f"bench-{dname}-{cell}-{H}-infer", net.forward(theta, x, keep_cache=False)[0])
        # stepwise head (forecaster's)
        rng = np.random.default_rng(3)
        net = Network(RecurrentStack("lstm", 2, 16, 1, dtype=dt), StepwiseHead(16, 3, 1, 2))
        theta = net.init_params(rng); opt = Adam(theta.size, 1e-2, dtype=dt)
        x = rng.standard_normal((10, 6, 2)).astype(dt); e = rng.standard_normal((10, 6, 6)).astype(dt)
        y = rng.standard_normal((10, 6, 3)).astype(dt)
        for step in range(3):
            r = net.train_step(theta, opt, x, y, None, get_loss("absolute_error"), None, e, extra_grad=True)
            rec(f"sw-{dname}-s{step}", [r.loss, r.grad_norm, r.zero_loss]); rec(f"sw-{dname}-s{step}-eg", r.extra_grad)
        rec(f"sw-{dname}-theta", theta)
    return res


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[0] == "--compare":
        sys.exit(0 if compare(argv[1], argv[2]) else 1)
    res = record()
    np.savez(argv[0], **res)
    print(len(res), "arrays saved to", argv[0])


if __name__ == "__main__":
    main()
