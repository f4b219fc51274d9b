"""Fit the defaults on collection groups and save, or compare, the results' bits.

For changes that must not change a single bit (performance work): run it on the
code before and after, each writing an ``.npz`` of every group's ``params_``,
point forecasts, loss curve and validation scores (seed 0), then compare the
two files with ``np.array_equal``. A group spec is ``collection:group`` with
optional ``:name=value`` estimator parameters (values read as Python literals).

Usage::

    PYTHONPATH=<old tree> python benchmarks/check_fit_bits.py old.npz
    PYTHONPATH=<new tree> python benchmarks/check_fit_bits.py new.npz
    python benchmarks/check_fit_bits.py --compare old.npz new.npz
    python benchmarks/check_fit_bits.py out.npz m3:other m3:other:dtype=float64 \\
        m3:other:cell=gru m3:yearly:stateful=False m3:other:n_ensemble=2
"""

from __future__ import annotations

import ast
import sys
import time
import warnings

import numpy as np

DEFAULT = ["m3:other", "m3:yearly", "tourism:yearly", "m3:quarterly"]


def compare(a_path, b_path) -> bool:
    a, b = np.load(a_path), np.load(b_path)
    ok = True
    for k in sorted(set(a.files) | set(b.files)):
        same = (
            k in a.files
            and k in b.files
            and a[k].dtype == b[k].dtype
            and np.array_equal(a[k], b[k], equal_nan=True)
        )
        ok &= same
        print(f"{k:<45} {'identical' if same else 'DIFFERENT'}")
    print("ALL IDENTICAL" if ok else "MISMATCH")
    return ok


def _literal(v):
    try:
        return ast.literal_eval(v)
    except (ValueError, SyntaxError):
        return v


def fit_all(out, specs) -> None:
    import tsrnn.datasets as ds
    from tsrnn import RNNForecaster

    loaders = {"m3": ds.load_m3, "tourism": ds.load_tourism}
    warnings.simplefilter("ignore")
    res = {}
    for spec in specs:
        cname, group, *extra = spec.split(":")
        kw = {k: _literal(v) for k, v in (e.split("=", 1) for e in extra)}
        coll = loaders[cname](frequency=group)
        train, _ = coll.split()
        h = int(coll.meta.horizon.iloc[0])
        m = int(coll.meta.seasonal_period.iloc[0])
        start = time.perf_counter()
        est = RNNForecaster(horizon=h, season_length=m, random_state=0, **kw)
        pred = est.fit(train).predict(h)
        print(f"{spec}: {time.perf_counter() - start:.2f} s", file=sys.stderr)
        res[f"{spec}/params"] = np.asarray(est.params_)
        res[f"{spec}/pred"] = np.asarray(pred.select_dtypes("number"), dtype=float)
        for attr in ("loss_curve_", "validation_scores_"):
            v = getattr(est, attr, None)
            if v is not None:
                res[f"{spec}/{attr}"] = np.asarray(v, dtype=float)
    np.savez(out, **res)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--compare":
        sys.exit(0 if compare(sys.argv[2], sys.argv[3]) else 1)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    fit_all(sys.argv[1], sys.argv[2:] or DEFAULT)
