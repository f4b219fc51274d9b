"""tsrnn's and PyTorch's training and inference timed in separate processes.

``bench_engine.py`` times both libraries in one process, as a user who has
both installed would see them. On a machine with two cores the two thread
pools then take the cores from each other: torch's OpenMP threads spin after
each of its calls, while tsrnn hands half of a call to its second thread, and
the split rows swing by 2x from one process to the next (``RESULTS.md``,
"The two-thread hand-off and torch"). This script removes that interference:
each library runs alone in a fresh process (tsrnn's never imports torch),
processes alternate over rounds (the order flips every round, so a slow
stretch of the machine falls on both), and each process reports the median
of its calls. Printed per row: each library's median over the rounds with
its range, the ratio of those medians and the range of the per-round ratios.

Usage::

    python benchmarks/bench_engine_apart.py                     # float32 LSTM, H 16-256
    python benchmarks/bench_engine_apart.py --rounds 5 --hidden 32,64
    python benchmarks/bench_engine_apart.py --cells lstm,gru --dtypes float32,float64
    python benchmarks/bench_engine_apart.py --also spin=../other-checkout   # a branch beside
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def child(side, cells, dtypes, hidden, threads, min_time, tree=None):
    """Time one library's rows in this process; print them as JSON.

    ``tree``: the root of another checkout whose ``tsrnn`` is timed (imported
    before ``bench_engine``, which then finds it loaded).
    """
    os.environ["NUMBA_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(threads)
    if side == "tsrnn":
        os.environ["TSRNN_BENCH_NO_TORCH"] = "1"
    sys.argv = [sys.argv[0], "--threads", str(threads)]
    if tree:
        sys.path.insert(0, os.path.abspath(tree))
        import tsrnn  # noqa: F401  (this tree's, before bench_engine's path)
    sys.path.insert(0, HERE)
    import numpy as np

    import bench_engine as be

    rows = {}
    for dname in dtypes:
        dtype = np.dtype(dname).type
        for cell in cells:
            for H in hidden:
                fns = (be.tsrnn_fns if side == "tsrnn" else be.torch_fns)(cell, H, dtype)
                train, infer = fns[0], fns[1]
                rows[f"{cell} {dname} {H}"] = [
                    be.timeit(train, min_time),
                    be.timeit(infer, min_time),
                ]
    print(json.dumps(rows))


def run_child(side, args, tree=None):
    cmd = [
        sys.executable, os.path.abspath(__file__), "--child", side,
        *(["--tree", tree] if tree else []),
        "--cells", args.cells, "--dtypes", args.dtypes, "--hidden", args.hidden,
        "--threads", str(args.threads), "--min-time", str(args.min_time),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="lstm")
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--hidden", default="16,32,64,128,256")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--min-time", type=float, default=0.6)
    parser.add_argument(
        "--also", metavar="NAME=PATH", action="append", default=[],
        help="time the tsrnn of another checkout too (its rows labelled NAME)",
    )
    parser.add_argument("--child", choices=["tsrnn", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(
            args.child, args.cells.split(","), args.dtypes.split(","),
            [int(h) for h in args.hidden.split(",")], args.threads, args.min_time,
            args.tree,
        )
    import numpy as np

    sides = {"tsrnn": ("tsrnn", None), "torch": ("torch", None)}
    for spec in args.also:
        name, path = spec.split("=", 1)
        sides[name] = ("tsrnn", path)
    results = {name: [] for name in sides}
    for r in range(args.rounds):
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        for name in order:
            side, tree = sides[name]
            results[name].append(run_child(side, args, tree))
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    print(
        f"each library alone in its own process, {args.threads} threads, "
        f"{args.rounds} rounds alternated; B=64 T=48 I=4; ms: median over the "
        f"rounds [min-max]; ratio = tsrnn / torch of the medians [per-round range]"
    )
    header = (
        f"{'row':27} | {'train':>20} {'torch':>20} {'ratio':>16} | "
        f"{'infer':>20} {'torch':>20} {'ratio':>16}"
    )
    print(header)
    print("-" * len(header))
    for name, row in [(n, r) for r in results["tsrnn"][0] for n in sides if n != "torch"]:
        cells = []
        for k in (0, 1):
            a = np.array([res[row][k] for res in results[name]]) * 1e3
            b = np.array([res[row][k] for res in results["torch"]]) * 1e3
            ratios = a / b
            cells.append(
                f"{np.median(a):6.3f} [{a.min():5.3f}-{a.max():5.3f}] "
                f"{np.median(b):6.3f} [{b.min():5.3f}-{b.max():5.3f}] "
                f"{np.median(a) / np.median(b):4.2f} [{ratios.min():4.2f}-{ratios.max():4.2f}]"
            )
        label = row if name == "tsrnn" else f"{row} ({name})"
        print(f"{label:27} | {cells[0]} | {cells[1]}")


if __name__ == "__main__":
    main()
