"""The direct head against the encoder-decoder on the single series, and what
the held-out tails would choose.

``strategy="auto"`` fits both strategies where the series are long and
seasonal (or come with known covariates) and keeps the one whose selection
run scored best on the tails (``auto.strategy_contest``). The contest keeps
the explicit strategy's fit bit for bit (``tests/test_auto_strategy.py``), so
one explicit fit of each strategy per seed shows both what the contest chose
and what the other choice would have scored: this script fits
``strategy="direct"`` and ``strategy="seq2seq"`` with the single-series
protocol of ``bench_accuracy.py`` (fit once, ``update`` between the origins)
and prints each one's test MASE (naive scale), its contest score (the best of
its epochs' tail scores and its reference alone's) and CPU seconds; ``*``
marks the contest's choice (ties: direct). Whether a case holds a contest at
all is the rule's business (season confirmed by the data, median length),
not this script's: it fits both wherever asked.

Usage::

    python benchmarks/bench_strategies.py --seeds 0 1 2 \\
        --series "elec demand (30 min)" "CO2 Mauna Loa (weekly)"
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_accuracy as ba  # noqa: E402

from tsrnn import RNNForecaster  # noqa: E402

SEASONAL = [
    "elec demand (30 min)",
    "CO2 Mauna Loa (weekly)",
    "sea-surface temp (30 min)",
    "sunspots (monthly)",
    "Clemson tmax (daily)",
    "Clemson tmin (daily)",
    "bank calls (5 min), h=12",
    "bank calls (5 min), h=169",
]


def contest_score(est) -> float:
    """The tails' best score of the fit's selection run (as the contest reads it)."""
    return float(est._contest_score())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="+", default=SEASONAL)
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = p.parse_args(argv)
    cases = {c.name: c for c in ba.single_cases()}
    print(
        f"{'series':28s} seed  {'direct':>8s} {'seq2seq':>8s}  "
        "tail scores (direct, seq2seq)  CPU s"
    )
    for name in args.series:
        c = cases[name]
        y = c.load()
        step = c.step or c.h
        for seed in args.seeds:
            res = {}
            for strategy in ("direct", "seq2seq"):
                start = time.process_time()
                est = RNNForecaster(horizon=c.h, random_state=seed, strategy=strategy)
                preds, origins, _ = ba.rolling(est, y, c.h, c.n_origins, step)
                score, _ = ba.score_single(y, preds, origins, c.h, 1)
                res[strategy] = (score, contest_score(est), time.process_time() - start)
            pick = "seq2seq" if res["seq2seq"][1] > res["direct"][1] else "direct"
            cells = [
                f"{res[s][0]:7.3f}{'*' if s == pick else ' '}"
                for s in ("direct", "seq2seq")
            ]
            print(
                f"{name:28s} {seed:4d}  {cells[0]} {cells[1]}  "
                f"{res['direct'][1]:.5f} {res['seq2seq'][1]:.5f}  "
                f"{res['direct'][2]:.0f} / {res['seq2seq'][2]:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
