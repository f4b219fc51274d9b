"""Paired comparisons of two models on the collections, series by series.

A group's mean MASE is a sample of its collection: the issue's checks run the
same models on *other* series of the same competitions. This script asks how
a comparison would go on another sample: for every group, the per-series MASE
of model A (averaged over its seeds) and of model B on the same series, the
relative difference of the group means ``mean(A) / mean(B) - 1``, a bootstrap
interval of it over the series (resampled with replacement, pairs kept
together) and the share of resamples where A's mean is the lower one
(``P(A wins)``), and the range of the difference over A's seeds taken one
by one. The interval and P see the sampling of series only: between two
configurations of the network, the seeds' training noise (the last column)
can be as large as the rule's effect, so read both. Against "best" (the better of AutoETS and AutoTheta) the
better of the two is taken on each resample. It reads the ``per_series`` field of ``bench_accuracy.py``'s
collection records.

Usage::

    python benchmarks/compare_accuracy.py RECORDS.jsonl [MORE.jsonl ...] \\
        --a "tsrnn default" --b best          # best: the better of AutoETS / AutoTheta
    python benchmarks/compare_accuracy.py R.jsonl --a "tsrnn default" --b AutoETS \\
        --a-file other.jsonl                   # A's records from another file
    python benchmarks/compare_accuracy.py R.jsonl --a "tsrnn default" --wins 0.5
                                               # the issue's count on resampled halves
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np


def load(paths):
    """Records with per-series scores: {(case, model): [per_series dicts]}."""
    out = defaultdict(dict)
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                if r.get("suite") != "collections" or "per_series" not in r:
                    continue
                out[(r["case"], r["model"])][r.get("seed")] = r["per_series"]
    return out


def per_series_mean(seed_dicts):
    """Each series' MASE averaged over the seeds: {unique_id: mase}."""
    ids = set.intersection(*(set(d) for d in seed_dicts.values()))
    return {u: float(np.mean([d[u] for d in seed_dicts.values()])) for u in ids}


def paired(a: dict, b, n_boot: int, rng):
    """(relative difference, 5 %, 95 %, P(A wins), series) of group means.

    ``b`` is one model's ``{unique_id: mase}`` or a list of several: then A
    is compared with the better of them *on each resample* (the check "beat
    the better of AutoETS and AutoTheta" on another sample of series, where
    either may be the better one).
    """
    bs = b if isinstance(b, list) else [b]
    ids = sorted(set(a).intersection(*bs))
    x = np.array([a[u] for u in ids])
    ys = [np.array([bb[u] for u in ids]) for bb in bs]
    rel = x.mean() / min(y.mean() for y in ys) - 1
    idx = rng.integers(0, len(ids), size=(n_boot, len(ids)))
    xb = x[idx].mean(axis=1)
    yb = np.min([y[idx].mean(axis=1) for y in ys], axis=0)
    rb = xb / yb - 1
    return rel, np.quantile(rb, 0.05), np.quantile(rb, 0.95), float(np.mean(xb < yb)), len(ids)


def count_wins(recs, recs_a, a_label, fraction, n_boot, rng):
    """The issue's count on resampled collections: wins of A over the better
    of AutoETS and AutoTheta, every group resampled at once.

    Each group draws ``fraction`` times its series (with replacement); a
    group is won where A's mean is lower than the better of the two
    statistical means on the same draw. Returns the per-resample win counts
    and whether every group not won was within 3 %.
    """
    cases = sorted({c for c, m in recs_a if m == a_label})
    wins, within = [], []
    for case in cases:
        names = [n for n in ("AutoETS", "AutoTheta") if (case, n) in recs]
        if not names:
            continue
        a = per_series_mean(recs_a[(case, a_label)])
        bs = [per_series_mean(recs[(case, n)]) for n in names]
        ids = sorted(set(a).intersection(*bs))
        x = np.array([a[u] for u in ids])
        ys = [np.array([b[u] for u in ids]) for b in bs]
        idx = rng.integers(0, len(ids), size=(n_boot, max(2, int(fraction * len(ids)))))
        xm = x[idx].mean(axis=1)
        ym = np.min([y[idx].mean(axis=1) for y in ys], axis=0)
        wins.append(xm < ym)
        within.append(xm <= 1.03 * ym)
    wins, within = np.array(wins), np.array(within)
    return wins.sum(axis=0), within.all(axis=0), len(cases)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="+")
    parser.add_argument("--a", required=True, help="model label of A")
    parser.add_argument("--a-file", nargs="*", help="read A's records from these files instead")
    parser.add_argument(
        "--b", default="best",
        help="model label of B; 'best': the better mean of AutoETS and AutoTheta",
    )
    parser.add_argument("--boot", type=int, default=4000)
    parser.add_argument(
        "--wins", type=float, metavar="FRACTION",
        help="instead: the count of groups A wins against the better of AutoETS "
        "and AutoTheta on resampled collections of FRACTION times each group's "
        "series (0.5: the hidden third of M3/Tourism beside the shipped two thirds)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    recs = load(args.records)
    recs_a = load(args.a_file) if args.a_file else recs
    rng = np.random.default_rng(args.seed)
    if args.wins:
        count, within, n = count_wins(recs, recs_a, args.a, args.wins, args.boot, rng)
        print(
            f"A = {args.a}; {n} groups resampled at {args.wins:g} x their series, "
            f"{args.boot} times: expected wins {count.mean():.2f}; P(>= 5 wins) "
            f"{np.mean(count >= 5):.2f}; P(>= 5 wins and the rest within 3 %) "
            f"{np.mean((count >= 5) & within):.2f}"
        )
        return
    cases = sorted({c for c, m in recs_a if m == args.a})
    print(
        f"A = {args.a}; B = {args.b}; relative difference of the group means "
        f"(A / B - 1), 90 % bootstrap interval over series, P(A wins)"
    )
    print(
        f"{'case':34} {'series':>6} {'B':>18} {'A/B-1':>8} {'90 % interval':>18} "
        f"{'P(A wins)':>9} {'A seeds alone':>16}"
    )
    for case in cases:
        a = per_series_mean(recs_a[(case, args.a)])
        if args.b == "best":
            names = [n for n in ("AutoETS", "AutoTheta") if (case, n) in recs]
            if not names:
                continue
            b = [per_series_mean(recs[(case, n)]) for n in names]
            bname = min(zip((np.mean(list(d.values())) for d in b), names))[1]
        else:
            bname = args.b
            if (case, bname) not in recs:
                continue
            b = per_series_mean(recs[(case, bname)])
        rel, lo, hi, p, n = paired(a, b, args.boot, rng)
        # each of A's seeds alone against B: the training noise the
        # resampling of series does not see (two configurations of one
        # network differ by their seeds' chaos as much as by their rule)
        bb = b if isinstance(b, list) else [b]
        per_seed = [
            np.mean([d[u] for u in d]) / min(np.mean([x[u] for u in d]) for x in bb) - 1
            for d in recs_a[(case, args.a)].values()
        ]
        print(
            f"{case:34} {n:6d} {bname:>18} {100 * rel:+7.1f}% "
            f"[{100 * lo:+6.1f}%, {100 * hi:+6.1f}%] {p:9.2f} "
            f"[{100 * min(per_seed):+5.1f}%, {100 * max(per_seed):+5.1f}%]"
        )


if __name__ == "__main__":
    main()
