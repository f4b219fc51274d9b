"""Paired comparisons of two models on the collections, series by series.

A group's mean MASE is a sample of its collection: the issue's checks run the
same models on *other* series of the same competitions. This script asks how
a comparison would go on another sample: for every group, the per-series MASE
of model A (averaged over its seeds) and of model B on the same series, the
relative difference of the group means ``mean(A) / mean(B) - 1``, a bootstrap
interval of it over the series (resampled with replacement, pairs kept
together) and the share of resamples where A's mean is the lower one
(``P(A wins)``). It reads the ``per_series`` field of ``bench_accuracy.py``'s
collection records.

Usage::

    python benchmarks/compare_accuracy.py RECORDS.jsonl [MORE.jsonl ...] \\
        --a "tsrnn default" --b best          # best: the better of AutoETS / AutoTheta
    python benchmarks/compare_accuracy.py R.jsonl --a "tsrnn default" --b AutoETS \\
        --a-file other.jsonl                   # A's records from another file
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


def paired(a: dict, b: dict, n_boot: int, rng):
    """(relative difference, 5 %, 95 %, P(A wins), series) of group means."""
    ids = sorted(set(a) & set(b))
    x = np.array([a[u] for u in ids])
    y = np.array([b[u] for u in ids])
    rel = x.mean() / y.mean() - 1
    idx = rng.integers(0, len(ids), size=(n_boot, len(ids)))
    xb, yb = x[idx].mean(axis=1), y[idx].mean(axis=1)
    rb = xb / yb - 1
    return rel, np.quantile(rb, 0.05), np.quantile(rb, 0.95), float(np.mean(xb < yb)), len(ids)


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
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    recs = load(args.records)
    recs_a = load(args.a_file) if args.a_file else recs
    rng = np.random.default_rng(args.seed)
    cases = sorted({c for c, m in recs_a if m == args.a})
    print(
        f"A = {args.a}; B = {args.b}; relative difference of the group means "
        f"(A / B - 1), 90 % bootstrap interval over series, P(A wins)"
    )
    print(f"{'case':34} {'series':>6} {'B':>18} {'A/B-1':>8} {'90 % interval':>18} {'P(A wins)':>9}")
    for case in cases:
        a = per_series_mean(recs_a[(case, args.a)])
        if args.b == "best":
            cands = [
                (np.mean(list(per_series_mean(recs[(case, n)]).values())), n)
                for n in ("AutoETS", "AutoTheta") if (case, n) in recs
            ]
            if not cands:
                continue
            bname = min(cands)[1]
        else:
            bname = args.b
        if (case, bname) not in recs:
            continue
        b = per_series_mean(recs[(case, bname)])
        rel, lo, hi, p, n = paired(a, b, args.boot, rng)
        print(
            f"{case:34} {n:6d} {bname:>18} {100 * rel:+7.1f}% "
            f"[{100 * lo:+6.1f}%, {100 * hi:+6.1f}%] {p:9.2f}"
        )


if __name__ == "__main__":
    main()
