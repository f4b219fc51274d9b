"""tsrnn's engine against PyTorch 2.13 on the CPU, in one process, same threads.

Rows: cells rnn/lstm/gru (SRU on its own: torch has none), hidden sizes, float32
and float64, for (i) a training step (forward + BPTT + linear head on the last
state + MSE + Adam), (ii) forward-only inference over the window, (iii) one
streaming step (batch 1, one time step, state carried; torch's ``nn.*Cell``),
with ``wread``: the time to read that step's packed weights once on one core,
the floor under any one-step kernel (every weight is used once per step).
Problem: B=64 streams, T=48 steps, I=4 inputs. Ratios are tsrnn / torch (below
1 means tsrnn is faster). Then the cold compile time (empty NUMBA_CACHE_DIR) and
cached start-up of one cell's kernels, each in a fresh process.

Usage::

    python benchmarks/bench_engine.py            # full table
    python benchmarks/bench_engine.py --quick    # fewer sizes/repeats
    python benchmarks/bench_engine.py --cells lstm --dtypes float32 --hidden 64
    python benchmarks/bench_engine.py --threads 1   # one thread each
    python benchmarks/bench_engine.py --compile-only
    python benchmarks/bench_engine.py --only step   # streaming rows only

``--only step`` times each streaming step in batches of calls (min and median
over the batches, per call: the min is the figure on a shared machine) beside
``wread`` timed the same way, the ratio step / wread (issue 17: <= 1.5, or
<= 3 us where wread < 2 us), and two call floors: ``empty``, an empty Numba
function (compiled without NRT, as the drivers) called with the driver's six
arguments (Numba's dispatch and argument unboxing), and ``call``, the whole
``pack.run`` with that empty function as its driver (what a step costs
before any arithmetic).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time

# --threads N (read before NumPy/Numba/torch load): 1 thread each compares the
# arithmetic on a loaded machine, where threads waiting for a core distort
# both libraries' times (torch's OpenMP threads most)
THREADS = 2
if "--threads" in sys.argv:
    THREADS = int(sys.argv[sys.argv.index("--threads") + 1])
os.environ.setdefault("NUMBA_NUM_THREADS", str(THREADS))
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))

import numba  # noqa: E402
import numpy as np  # noqa: E402

# bench_engine_apart.py times tsrnn in a process that never loads torch (its
# OpenMP threads and tsrnn's pool take the same two cores from each other)
if os.environ.get("TSRNN_BENCH_NO_TORCH") == "1":
    torch = None
else:
    import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tsrnn.engine import Adam, LinearHead, Network, get_loss  # noqa: E402
from tsrnn.engine.inference import InferencePack  # noqa: E402
from tsrnn.engine.stack import RecurrentStack  # noqa: E402
from tsrnn.engine.threads import run_tasks  # noqa: E402

B, T, I = 64, 48, 4
if torch is None:
    TORCH, TORCH_CELL = {}, {}
else:
    torch.set_num_threads(THREADS)
    TORCH = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    TORCH_CELL = {
        "rnn": torch.nn.RNNCell,
        "lstm": torch.nn.LSTMCell,
        "gru": torch.nn.GRUCell,
    }


def timeit(fn, min_time=0.3, max_reps=200):
    """Median seconds per call after one warm-up call."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (
        time.perf_counter() - start < min_time and len(times) < max_reps
    ):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


@numba.njit(cache=True, error_model="numpy", fastmath=True)
def _read_all(a):
    # fastmath lets LLVM reorder the sum into vector lanes: the value is not
    # used, only the speed of streaming the array through the core
    s = a.dtype.type(0)
    for i in range(a.shape[0]):
        s += a[i]
    return s


def time_batches(fn, reps=40, n=200):
    """(min, median) seconds per call over ``reps`` batches of ``n`` calls."""
    fn()
    per = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        per.append((time.perf_counter() - t0) / n)
    return min(per), float(np.median(per))


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _empty_driver(pack, meta, state, x, extra, out):
    # the streaming drivers' signature, nothing inside: the call floor
    pass


def step_floor(pack, state, x1, reps=40):
    """Call floors of a streaming step: (empty kernel, whole call), seconds.

    The first is an empty Numba function called with the driver's six
    arguments; the second is ``pack.run`` with its driver swapped for that
    empty function: Python, the output's allocation and Numba's dispatch,
    everything a step pays before any arithmetic.
    """
    pack.run(state, x1)
    out = np.empty((1, 1, pack.n_outputs), pack.dtype)
    args = (pack.pack, pack.meta, state, x1, x1, out)
    empty = time_batches(lambda: _empty_driver(*args), reps)[0]
    driver = pack._stream
    pack._stream = _empty_driver
    pack._set_plain()
    try:
        whole = time_batches(lambda: pack.run(state, x1), reps)[0]
    finally:
        pack._stream = driver
        pack._set_plain()
    return empty, whole


def weight_read(pack):
    """Seconds to read a streaming step's packed weights once, one core.

    A lower bound for any one-step implementation that keeps the weights in
    cache between steps (every weight is used once per step): below it a step
    cannot go, whatever its arithmetic.
    """
    return timeit(lambda: _read_all(pack.pack), 0.2, 5000)


def thread_round_trip():
    """Seconds to hand an empty task to a second thread and wait for it."""

    def noop():
        return None

    return timeit(lambda: run_tasks([[noop], [noop]]), 0.2, 5000)


def tsrnn_fns(cell, H, dtype):
    rng = np.random.default_rng(0)
    net = Network(RecurrentStack(cell, I, H, 1, dtype=dtype), LinearHead(H, 1, "last"))
    theta = net.init_params(rng)
    opt = Adam(theta.size, 1e-3, dtype=dtype)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    y = rng.standard_normal((B, 1)).astype(dtype)
    mse = get_loss("squared_error")

    def train():
        net.train_step(theta, opt, x, y, None, mse)

    def infer():
        net.forward(theta, x, keep_cache=False)  # as torch.no_grad

    snet = Network(RecurrentStack(cell, I, H, 1, dtype=dtype), LinearHead(H, 1, "none"))
    pack = InferencePack(snet, snet.init_params(rng))
    state = snet.stack.zero_state(1)
    x1 = rng.standard_normal((1, 1, I)).astype(dtype)

    def step():
        pack.run(state, x1)

    step.args = (pack, state, x1)
    return train, infer, step, pack


def torch_fns(cell, H, dtype):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    torch.manual_seed(0)
    rnn = TORCH[cell](I, H, 1).to(tdt)
    head = torch.nn.Linear(H, 1).to(tdt)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
    x = torch.randn(T, B, I, dtype=tdt)
    y = torch.randn(B, 1, dtype=tdt)

    def train():
        opt.zero_grad()
        out, _ = rnn(x)
        loss = 0.5 * torch.mean((head(out[-1]) - y) ** 2)
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            out, _ = rnn(x)
            head(out[-1])

    cellm = TORCH_CELL[cell](I, H).to(tdt)
    shead = torch.nn.Linear(H, 1).to(tdt)
    x1 = torch.randn(1, I, dtype=tdt)
    st = {"h": torch.zeros(1, H, dtype=tdt), "c": torch.zeros(1, H, dtype=tdt)}

    def step():
        with torch.no_grad():
            if cell == "lstm":
                st["h"], st["c"] = cellm(x1, (st["h"], st["c"]))
            else:
                st["h"] = cellm(x1, st["h"])
            shead(st["h"])

    return train, infer, step


COMPILE_SNIPPET = textwrap.dedent(
    """
    import time, numpy as np
    t0 = time.perf_counter(); c0 = time.process_time()
    from tsrnn.engine.stack import RecurrentStack
    from tsrnn.engine.inference import InferencePack
    from tsrnn.engine import Adam, LinearHead, Network, get_loss
    t1 = time.perf_counter(); c1 = time.process_time()
    dt = np.{dtype}
    net = Network(RecurrentStack("{cell}", 4, 16, 1, dtype=dt), LinearHead(16, 1, "none"))
    th = net.init_params(np.random.default_rng(0))
    x = np.zeros((8, 2, 4), dt); y = np.zeros((8, 2, 1), dt)
    net.train_step(th, Adam(th.size, dtype=dt), x, y, None, get_loss("squared_error"))
    net.forward(th, x)
    InferencePack(net, th).run(net.stack.zero_state(2), x)
    t2 = time.perf_counter(); c2 = time.process_time()
    print(f"{{t1 - t0:.3f}} {{t2 - t1:.3f}} {{c1 - c0:.3f}} {{c2 - c1:.3f}}")
    """
)


def compile_times(cell="lstm", dtype="float64"):
    """First train step + predict + stream in new processes, cold then cached.

    Two rows of (import wall, run wall, import CPU, run CPU) seconds; the CPU
    times (one thread compiles) are the figures to compare on a loaded machine.
    """
    root = os.path.join(os.path.dirname(__file__), "..")
    code = COMPILE_SNIPPET.format(cell=cell, dtype=dtype)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=root)
        res = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", code],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            res.append([float(v) for v in out.stdout.split()])
    return res


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer sizes, shorter timing"
    )
    parser.add_argument("--cells", default="rnn,lstm,gru,sru")
    parser.add_argument("--hidden", default="16,32,64,128,256")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument(
        "--threads", type=int, default=2, help="threads of both libraries"
    )
    parser.add_argument(
        "--no-compile", action="store_true", help="skip the compile-time rows"
    )
    parser.add_argument(
        "--compile-only", action="store_true", help="only the compile-time rows"
    )
    parser.add_argument(
        "--only", choices=["step"], help="only the streaming-step rows (min/median)"
    )
    args = parser.parse_args()
    if args.only == "step":
        return step_rows(args)
    hidden = [int(h) for h in args.hidden.split(",")]
    if args.quick:
        hidden = [h for h in hidden if h in (16, 64, 256)]
    min_time = 0.15 if args.quick else 0.4
    print(
        f"tsrnn engine vs torch {torch.__version__}, {THREADS} threads, "
        f"B={B} T={T} I={I}; times in ms (median), ratio = tsrnn / torch"
    )
    header = (
        f"{'cell':5} {'dtype':7} {'H':>4} | {'train':>8} {'torch':>8} {'ratio':>6} | "
        f"{'infer':>8} {'torch':>8} {'ratio':>6} | {'step us':>8} {'torch':>8} {'ratio':>6}"
        f" {'wread':>6}"
    )
    print(header)
    print("-" * len(header))
    for dname in [] if args.compile_only else args.dtypes.split(","):
        dtype = np.dtype(dname).type
        for cell in args.cells.split(","):
            for H in hidden:
                tr, inf, st, pack = tsrnn_fns(cell, H, dtype)
                a = [timeit(f, min_time) for f in (tr, inf)] + [
                    timeit(st, min_time, 5000)
                ]
                wread = f"{weight_read(pack) * 1e6:6.1f}"
                if cell in TORCH:
                    ttr, tinf, tst = torch_fns(cell, H, dtype)
                    b = [timeit(f, min_time) for f in (ttr, tinf)] + [
                        timeit(tst, min_time, 5000)
                    ]
                    r = [x / y for x, y in zip(a, b)]
                    print(
                        f"{cell:5} {dname:7} {H:4d} | {a[0] * 1e3:8.3f} {b[0] * 1e3:8.3f} {r[0]:6.2f} | "
                        f"{a[1] * 1e3:8.3f} {b[1] * 1e3:8.3f} {r[1]:6.2f} | "
                        f"{a[2] * 1e6:8.1f} {b[2] * 1e6:8.1f} {r[2]:6.3f} {wread}"
                    )
                else:
                    print(
                        f"{cell:5} {dname:7} {H:4d} | {a[0] * 1e3:8.3f} {'-':>8} {'-':>6} | "
                        f"{a[1] * 1e3:8.3f} {'-':>8} {'-':>6} | {a[2] * 1e6:8.1f} {'-':>8} {'-':>6}"
                        f" {wread}"
                    )
            sys.stdout.flush()
    if not args.compile_only:
        print(
            "wread = reading the step's packed weights once on one core (us), the "
            "floor of any one-step kernel; handing a task to a second thread and "
            f"back costs {thread_round_trip() * 1e6:.1f} us here"
        )
    for cell, dname in () if args.no_compile else (
        ("lstm", "float64"),
        ("lstm", "float32"),
    ):
        (imp0, cold, cimp0, ccold), (imp1, warm, cimp1, cwarm) = compile_times(
            cell, dname
        )
        print(
            f"compile {cell} {dname}: cold {cold:.2f} s (CPU {ccold:.2f} s; import "
            f"{imp0:.2f} s, CPU {cimp0:.2f} s), cached start {warm:.2f} s (CPU "
            f"{cwarm:.2f} s; import {imp1:.2f} s, CPU {cimp1:.2f} s)"
        )


def step_rows(args):
    """The streaming rows alone: min and median over batches of calls."""
    hidden = [int(h) for h in args.hidden.split(",")]
    reps = 15 if args.quick else 40
    print(
        f"streaming step, tsrnn vs torch {torch.__version__} cells, I={I}, batch 1; "
        f"us per call, min / median over {reps} batches of 200 calls"
    )
    header = (
        f"{'cell':5} {'dtype':7} {'H':>4} | {'step':>6} {'(med)':>6} | {'torch':>6} "
        f"{'(med)':>6} | {'wread':>6} {'(med)':>6} | {'empty':>5} {'call':>5} | "
        f"{'/wread':>6} {'bar':>5} ok"
    )
    print(header)
    print("-" * len(header))
    for dname in args.dtypes.split(","):
        dtype = np.dtype(dname).type
        for cell in args.cells.split(","):
            for H in hidden:
                st = tsrnn_fns(cell, H, dtype)[2]
                pack, state, x1 = st.args
                s_min, s_med = time_batches(st, reps)
                w_min, w_med = time_batches(lambda: _read_all(pack.pack), reps)
                f_empty, f_call = step_floor(pack, state, x1, reps)
                if cell in TORCH:
                    t_min, t_med = time_batches(torch_fns(cell, H, dtype)[2], reps)
                    tt = f"{t_min * 1e6:6.1f} {t_med * 1e6:6.1f}"
                else:
                    tt = f"{'-':>6} {'-':>6}"
                bar = 3e-6 if w_min < 2e-6 else 1.5 * w_min
                ok = "yes" if s_min <= bar else "NO"
                print(
                    f"{cell:5} {dname:7} {H:4d} | {s_min * 1e6:6.2f} "
                    f"{s_med * 1e6:6.2f} | {tt} | {w_min * 1e6:6.2f} "
                    f"{w_med * 1e6:6.2f} | {f_empty * 1e6:5.2f} {f_call * 1e6:5.2f} | "
                    f"{s_min / w_min:6.2f} {bar * 1e6:5.2f} {ok}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
