"""Does having torch in the process change tsrnn's float32 LSTM times?

A session measured the two-thread hand-off faster once torch was imported;
this script checks it: the float32 LSTM of ``bench_engine.py`` (B 64, T 48,
I 4, a linear head on the last state) timed by tsrnn alone, in one of three
processes. Run each mode several times, alternating, and compare:

* ``none``: torch never imported;
* ``import``: ``import torch`` first, nothing run;
* ``ops``: a torch product run first (its OpenMP threads started).

Prints, per hidden size, the median milliseconds of a training step and of an
inference forward, and the CPU / wall time ratio of inference (about 1: the
call ran on one thread; towards 2: it was split between two).

Usage::

    for r in 1 2 3; do for m in none import ops; do
        python benchmarks/check_torch_import.py $m; done; done
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")

MODE = sys.argv[1] if len(sys.argv) > 1 else "none"
if MODE not in ("none", "import", "ops"):
    raise SystemExit("usage: check_torch_import.py none|import|ops")
if MODE in ("import", "ops"):
    import torch

    if MODE == "ops":
        a = torch.randn(256, 256)
        (a @ a).sum().item()

import numpy as np  # noqa: E402

from tsrnn.engine import Adam, LinearHead, Network, get_loss  # noqa: E402
from tsrnn.engine.stack import RecurrentStack  # noqa: E402

T, B, I = 48, 64, 4


def median_ms(fn, n=60) -> float:
    """Median milliseconds of ``n`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main() -> None:
    out = []
    for H in (16, 32, 64):
        rng = np.random.default_rng(0)
        stack = RecurrentStack("lstm", I, H, 1, dtype=np.float32)
        net = Network(stack, LinearHead(H, 1, "last"))
        theta = net.init_params(rng)
        opt = Adam(theta.size, 1e-3, dtype=np.float32)
        x = rng.standard_normal((T, B, I)).astype(np.float32)
        y = rng.standard_normal((B, 1)).astype(np.float32)
        mse = get_loss("squared_error")
        train = median_ms(lambda: net.train_step(theta, opt, x, y, None, mse))
        infer = median_ms(lambda: net.forward(theta, x, keep_cache=False))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(50):
            net.forward(theta, x, keep_cache=False)
        ratio = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        out.append(f"H{H} train {train:.3f} infer {infer:.3f} (cpu/wall {ratio:.2f})")
    print(MODE.ljust(7), " | ".join(out), flush=True)


if __name__ == "__main__":
    main()
