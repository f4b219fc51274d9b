"""Replay conformal-band rules on recorded forecasts (why a series over-covers).

``record`` fits ``RNNForecaster(horizon=h)`` (the defaults) once on the data
before the first origin of ``bench_intervals.py``'s walk, keeps its fit-time
conformal pool, then walks the origins as ``tsrnn.backtest`` does (forecast,
``predict_interval(level=[80, 95])``, ``update``) and saves the point
forecasts, the library's bands and the series to ``--dir``. The point
forecasts do not depend on how the bands are made, so ``replay`` can then
rebuild the bands of the walk under other rules in seconds:

``global``     the library's rule: the weighted pool of ``|error| / scale``
               (one scale per series), refreshed by every update
               (``tsrnn.evaluation.conformal.refresh_scores``); replayed, it
               must give the library's coverage (printed beside it);
``window/4``, ``window/2``
               the same pool keeping a quarter / half the weight (faster
               adaptation, noisier quantiles);
``local W``    studentized scores: errors divided by the mean absolute
               one-step change over the last ``W`` rows before their origin,
               the band multiplied by that scale now (Lei et al., 2018's
               locally weighted split conformal, with a volatility proxy);
``blend W``    the geometric mean of that local scale and the series' one;
``ACI``        adaptive conformal inference (Gibbs & Candès, 2021) on the
               library's pool, ``alpha += 0.005 (alpha* - misses)`` per origin.

It also prints the persistence forecast's error quantiles over the training
part, the calibration tail and the test origins: a test period calmer (or
wilder) than the calibration tail shows there, with no network involved.

Usage::

    python benchmarks/replay_conformal.py record sst elec sp1
    python benchmarks/replay_conformal.py replay sst elec sp1
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_intervals import CRPS_Q, PINBALL_Q, kupiec, load_series  # noqa: E402

from tsrnn import RNNForecaster, metrics  # noqa: E402
from tsrnn.evaluation.conformal import (  # noqa: E402
    conformal_quantile,
    refresh_scores,
)

LEVELS = (80, 95, 98)  # 98: its lower bound is the 1 % quantile (99 % VaR)
#: bench_intervals' scoring grid: its pinball and CRPS levels come from these
GRID = tuple(range(10, 100, 10))


def record(name: str, seed: int, out_dir: str) -> None:
    s = load_series(name, False)
    n, h = len(s.y), s.h
    first = n - h - (s.n_origins - 1) * s.step

    def X(a, b):
        return None if s.X is None else s.X.iloc[a:b]

    clock = time.process_time()
    model = RNNForecaster(horizon=h, random_state=seed, freq=s.freq)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(s.y.iloc[:first], X(0, first))
    pool0, scale0 = model.conformal_scores_.copy(), model.conformal_scale_.copy()
    preds, bands = [], []
    for k in range(s.n_origins):
        o = first + k * s.step
        preds.append(np.asarray(model.predict(horizon=h, X=X(o, o + h)), float))
        iv = model.predict_interval(horizon=h, X=X(o, o + h), level=[80, 95])
        iv = pd.DataFrame(iv)
        cols = [c for c in iv.columns if "-lo-" in str(c) or "-hi-" in str(c)]
        bands.append(iv[sorted(cols)].to_numpy(float))  # hi80 hi95 lo80 lo95
        if k < s.n_origins - 1:
            model.update(s.y.iloc[o : o + s.step], X(o, o + s.step))
    print(f"{name} seed {seed}: recorded, {time.process_time() - clock:.0f} CPU s")
    np.savez(
        os.path.join(out_dir, f"replay-{name}-{seed}.npz"),
        pool0=pool0[:, :, 0],
        scale0=float(scale0.ravel()[0]),
        pred=np.array(preds).reshape(s.n_origins, h),
        bands=np.array(bands),
        first=first,
        y=s.y.to_numpy(float),
        h=h,
        step=s.step,
    )


def _mean_abs_change(y, o, W):
    d = np.abs(np.diff(y[max(0, o - W) : o + 1]))
    return float(np.nanmean(d)) if np.isfinite(d).any() else np.nan


def replay(z, rule: str, W: int = 0, shrink: float = 1.0, gamma: float = 0.0):
    """Bands of the recorded walk under ``rule``; scores per level."""
    y, first, h, step = z["y"], int(z["first"]), int(z["h"]), int(z["step"])
    sc, pred = float(z["scale0"]), z["pred"]
    pool = z["pool0"][:, :, None].copy()
    n0 = len(pool)

    def scale(o):
        if rule == "local":
            return _mean_abs_change(y, o, W)
        if rule == "blend":
            return np.sqrt(_mean_abs_change(y, o, W) * sc)
        return sc

    if rule in ("local", "blend"):  # pool row i: last observed row first-h-n0+i
        origins = first - h - n0 + np.arange(n0)
        pool = pool * sc / np.array([scale(o) for o in origins])[:, None, None]
    window = max(float((~np.isnan(pool)).sum(0).max()), 100.0) * shrink
    weights = None
    levels = sorted(set(LEVELS) | set(GRID))
    alpha = {lv: 1 - lv / 100 for lv in levels}
    ys, lows, highs = [], {lv: [] for lv in levels}, {lv: [] for lv in levels}
    for k in range(len(pred)):
        o = first + k * step - 1  # last observed row
        s_now, truth = scale(o), y[o + 1 : o + 1 + h]
        ys.append(truth)
        for lv in levels:
            c = min(max(1 - alpha[lv], 0.05), 0.999)
            q = conformal_quantile(pool, c, weights)[:, 0]
            lo, hi = pred[k] - q * s_now, pred[k] + q * s_now
            lows[lv].append(lo)
            highs[lv].append(hi)
            if gamma:
                miss = np.nanmean((truth < lo) | (truth > hi))
                alpha[lv] += gamma * ((1 - lv / 100) - miss)
        new = (np.abs(truth - pred[k]) / s_now)[None, :, None]
        pool, weights = refresh_scores(pool, weights, new, step, window)
    Y = np.concatenate(ys)
    half = len(Y) // 2
    out = {}
    for lv in LEVELS:
        lo, hi = np.concatenate(lows[lv]), np.concatenate(highs[lv])
        out[lv] = dict(
            cov=metrics.coverage(Y, lo, hi),
            width=metrics.interval_width(lo, hi),
            winkler=metrics.winkler(Y, lo, hi, lv),
            first_half=metrics.coverage(Y[:half], lo[:half], hi[:half]),
            second_half=metrics.coverage(Y[half:], lo[half:], hi[half:]),
        )
    qs = {0.5: np.concatenate([p for p in pred])}
    for lv in levels:
        a = round((1 - lv / 100) / 2, 4)
        qs[a], qs[round(1 - a, 4)] = np.concatenate(lows[lv]), np.concatenate(highs[lv])
    ok = ~np.isnan(Y)
    out["pinball"] = metrics.pinball(
        Y[ok], np.stack([qs[q][ok] for q in PINBALL_Q], 1), PINBALL_Q
    )
    out["crps"] = metrics.crps(
        Y[ok], quantiles=np.stack([qs[q][ok] for q in CRPS_Q], 1), levels=CRPS_Q
    )
    x, _, p = kupiec(Y < np.concatenate(lows[98]), 0.01)
    out["var99"] = (x, p)
    b = z["bands"]
    out["library"] = (
        metrics.coverage(Y, b[:, :, 2].ravel(), b[:, :, 0].ravel()),
        metrics.coverage(Y, b[:, :, 3].ravel(), b[:, :, 1].ravel()),
    )
    return out


def persistence(z) -> list[str]:
    """Persistence errors (all h steps) over periods: is the test calmer?"""
    y, first, h = z["y"], int(z["first"]), int(z["h"])
    n, n0 = len(y), len(z["pool0"])
    periods = {
        "training": (h + 1, first - h - n0, 1),
        "calibration tail": (first - h - n0, first - h, 1),
        "test origins": (first, n - h + 1, int(z["step"])),
    }
    lines = []
    for label, (a, b, st) in periods.items():
        E = np.array([np.abs(y[o : o + h] - y[o - 1]) for o in range(a, b, st)])
        q = np.nanmean(np.nanquantile(E, [0.5, 0.8, 0.95], axis=0), axis=1)
        d = np.nanstd(np.diff(y[a : b + h]))
        lines.append(
            f"  {label:16s}: persistence |error| q50/q80/q95 "
            f"{q[0]:.3f}/{q[1]:.3f}/{q[2]:.3f}, sd of one-step change {d:.4f}"
        )
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["record", "replay"])
    ap.add_argument("series", nargs="+")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default="/tmp")
    args = ap.parse_args(argv)
    for name in args.series:
        if args.action == "record":
            record(name, args.seed, args.dir)
            continue
        z = np.load(os.path.join(args.dir, f"replay-{name}-{args.seed}.npz"))
        h = int(z["h"])
        w_short, w_long = max(h, 20), 8 * max(h, 20)
        print(f"{name} (h = {h}, seed {args.seed})")
        print("\n".join(persistence(z)))
        print(
            "| rule | 80 %: coverage (1st / 2nd half) | width | Winkler "
            "| 95 %: coverage | width | Winkler | 99 % VaR exceedances, Kupiec p "
            "| pinball | CRPS |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        rules = [
            ("global (library)", "global", 0, 1.0, 0.0),
            ("window/2", "global", 0, 0.5, 0.0),
            ("window/4", "global", 0, 0.25, 0.0),
            (f"local W={w_short}", "local", w_short, 1.0, 0.0),
            (f"local W={w_long}", "local", w_long, 1.0, 0.0),
            (f"blend W={w_short}", "blend", w_short, 1.0, 0.0),
            ("ACI 0.005", "global", 0, 1.0, 0.005),
        ]
        for label, rule, W, shrink, gamma in rules:
            r = replay(z, rule, W, shrink, gamma)
            a, b = r[80], r[95]
            print(
                f"| {label} | {100 * a['cov']:.1f} ({100 * a['first_half']:.1f} / "
                f"{100 * a['second_half']:.1f}) | {a['width']:.3f} | "
                f"{a['winkler']:.3f} | {100 * b['cov']:.1f} | {b['width']:.3f} | "
                f"{b['winkler']:.3f} | {r['var99'][0]} ({r['var99'][1]:.3f}) "
                f"| {r['pinball']:.4f} | {r['crps']:.4f} |"
            )
        lib = replay(z, "global")["library"]
        print(f"  library's own bands: {100 * lib[0]:.1f} / {100 * lib[1]:.1f} %\n")


if __name__ == "__main__":
    main()
