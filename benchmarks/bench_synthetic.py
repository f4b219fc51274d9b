"""The defaults on generated series of kinds we do not ship: pathologies first.

Issue 13 is checked on data we do not have, so the shipped series are not the
only test: this suite generates series of the kinds users forecast (a
random-walk-like sensor with a weak daily cycle, an airline-like monthly
series, daily retail with two cycles, an hourly sensor with gaps and a level
shift, white noise, a random walk with drift, intermittent counts, a
business-day exchange rate, a 15-minute series given as positions; and three
collections: weekly-like and daily-like random walks, hourly series with a
daily cycle) and scores ``RNNForecaster(horizon=h, random_state=seed)`` with
nothing else against the better of naive and seasonal naive (MASE with the
naive scale; single series: fit once, ``update`` between origins a horizon
apart; collections: one global model, the last ``h`` rows of each series held
out). A ratio above 1 is a loss to a naive forecast. The generators are
seeded: the same figures on every run of the same code.

(Found with it: the reference contest traded a random-walk sensor's last
value, 0.19 in-sample error, for the mix of a day and a week back, 0.90, on a
1e-4 difference of tail scores; the contest now runs only where the mix
leads in sample. See ``docs/defaults.md``.)

Usage::

    python benchmarks/bench_synthetic.py              # every case, seed 0
    python benchmarks/bench_synthetic.py --seeds 0 1 2 --cases sensor fx
    python benchmarks/bench_synthetic.py --covariates --seeds 0 1 2

``--covariates``: two series with covariates known ahead (an hourly load
driven by the square of temperature, daily sales with promotions and
price), the defaults (``strategy="auto"``: the encoder-decoder there)
against ``strategy="direct"`` and a ridge on lags and the covariates.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tsrnn import RNNForecaster  # noqa: E402
from tsrnn.metrics import mase  # noqa: E402


# ------------------------------------------------------------ single series
def sensor(rng):
    """5-minute sensor: AR(1) of 0.995 (nearly a random walk), weak daily cycle."""
    n = 20000
    e = rng.normal(size=n)
    level = np.zeros(n)
    for t in range(1, n):
        level[t] = 0.995 * level[t - 1] + 0.3 * e[t]
    y = 20 + level + 0.3 * np.sin(2 * np.pi * np.arange(n) / 288)
    y += rng.normal(0, 0.05, n)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq="5min"))


def noisy_sensor(rng):
    """5-minute sensor read through measurement noise: a random walk (0.05 a
    step) plus white noise (0.1) plus a weak daily cycle (0.2). The noise
    makes the last value a worse start than a smoothed level: for the local
    level model the optimal forecast (SES) has an RMSE 6 % below naive's one
    hour ahead (the issue's sensor: naive 0.084, AutoTheta 0.078)."""
    n = 20000
    level = np.cumsum(rng.normal(0, 0.05, n))
    y = 20 + level + 0.2 * np.sin(2 * np.pi * np.arange(n) / 288)
    y += rng.normal(0, 0.1, n)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq="5min"))


def airline(rng):
    t = np.arange(240)
    walk = np.cumsum(rng.normal(0, 0.02, 240))
    y = np.exp(4 + 0.01 * t + 0.15 * np.sin(2 * np.pi * t / 12) + walk)
    return pd.Series(y, index=pd.date_range("2000-01", periods=240, freq="MS"))


def retail(rng):
    n = 1461
    t = np.arange(n)
    y = 100 + 0.02 * t + 15 * np.sin(2 * np.pi * t / 7)
    y += 25 * np.sin(2 * np.pi * t / 365.25) + rng.normal(0, 8, n)
    return pd.Series(y, index=pd.date_range("2020-01-01", periods=n, freq="D"))


def gappy(rng):
    n = 24 * 200
    t = np.arange(n)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) + np.where(t > 0.6 * n, 8, 0)
    y += np.cumsum(rng.normal(0, 0.2, n)) + rng.normal(0, 1, n)
    y[rng.random(n) < 0.02] = np.nan
    return pd.Series(y, index=pd.date_range("2023-01-01", periods=n, freq="h"))


def noise(rng):
    y = 10 + rng.normal(0, 1, 3000)
    return pd.Series(y, index=pd.date_range("2015-01-01", periods=3000, freq="D"))


def drift(rng):
    return pd.Series(100 + np.cumsum(0.1 + rng.normal(0, 1, 3000)))


def counts(rng):
    lam = 0.3 * (1 + 0.5 * np.sin(2 * np.pi * np.arange(1500) / 7))
    y = rng.poisson(lam).astype(float)
    return pd.Series(y, index=pd.date_range("2019-01-01", periods=1500, freq="D"))


def fx(rng):
    y = np.exp(np.cumsum(rng.normal(0, 0.006, 4000)))
    return pd.Series(y, index=pd.bdate_range("2005-01-03", periods=4000))


def quarter_hours(rng):
    n = 96 * 60
    t = np.arange(n)
    y = 20 + 5 * np.sin(2 * np.pi * t / 96) + 2 * ((t // 96) % 7 >= 5)
    y += np.cumsum(rng.normal(0, 0.05, n)) + rng.normal(0, 0.5, n)
    return pd.Series(y)  # positions: the seasons come from the data


# name: (generator, horizon, seasonal lag of the seasonal naive anchor, origins)
SINGLE = {
    "sensor": (sensor, 12, 288, 100),
    "noisy-sensor": (noisy_sensor, 12, 288, 100),
    "airline": (airline, 12, 12, 10),
    "retail": (retail, 14, 7, 10),
    "gappy": (gappy, 24, 24, 10),
    "noise": (noise, 7, 7, 10),
    "drift": (drift, 20, 1, 30),
    "counts": (counts, 28, 7, 10),
    "fx": (fx, 20, 1, 30),
    "quarter-hours": (quarter_hours, 96, 96, 10),
}


def naive_forecasts(v, origins, h, m):
    """The last observed value, and the seasonal naive forecast (lag m)."""
    out = []
    for lag in (1, m) if m > 1 else (1,):
        rows = []
        for o in origins:
            if lag == 1:
                seen = v[:o][~np.isnan(v[:o])]
                rows.append(np.repeat(seen[-1], h))
            else:
                past = v[o - lag : o]
                # a missing value: the last observed one before it
                filled = pd.Series(np.r_[v[:o - lag], past]).ffill().to_numpy()[-lag:]
                rows.append(np.array([filled[k % lag] for k in range(h)]))
        out.append(np.array(rows))
    return out


def score(v, preds, origins, h):
    return float(
        np.mean([mase(v[o : o + h], p, v[:o], m=1) for p, o in zip(preds, origins)])
    )


def theta_anchor(y, h, m, n_orig):
    """statsforecast's AutoTheta (season ``m``) on the same origins: fitted
    once before the first, run forward (``cross_validation(refit=False)``),
    as the single-series suite of ``bench_accuracy.py`` does. NaN without
    statsforecast (the ``[bench]`` extra)."""
    try:
        sys.path.insert(0, os.path.dirname(__file__))
        from bench_accuracy import stats_rolling
    except ImportError:
        return float("nan")
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return float("nan")
    v = y.to_numpy(dtype=float)
    ((_, preds, origins, _),) = stats_rolling(
        y.reset_index(drop=True), h, m, n_orig, h, ["AutoTheta"], len(y)
    )
    return score(v, preds, origins, h)


def single(name, seed, theta=False):
    gen, h, m, n_orig = SINGLE[name]
    y = gen(np.random.default_rng(1000 + seed))
    v = y.to_numpy(dtype=float)
    first = len(y) - h - (n_orig - 1) * h
    origins = [first + j * h for j in range(n_orig)]
    anchors = [score(v, p, origins, h) for p in naive_forecasts(v, origins, h, m)]
    if theta:
        anchors.append(theta_anchor(y, h, m, n_orig))
    start = time.process_time()
    est = RNNForecaster(horizon=h, random_state=seed)
    est.fit(y.iloc[:first])
    preds = []
    for j, o in enumerate(origins):
        preds.append(np.asarray(est.predict(h), dtype=float).reshape(-1)[:h])
        if j < n_orig - 1:
            est.update(y.iloc[o : o + h])
    cpu = time.process_time() - start
    return anchors, score(v, preds, origins, h), cpu, est


# -------------------------------------------------------------- collections
def weekly_walks(rng):
    out = []
    for _ in range(200):
        n = int(rng.integers(100, 500))
        t = np.arange(n)
        cycle = rng.uniform(0, 40) * np.sin(2 * np.pi * t / 52.18 + rng.uniform(0, 6))
        out.append(1000 + np.cumsum(rng.normal(rng.normal(0, 2), 20, n)) + cycle)
    return out, "W-MON"


def daily_walks(rng):
    out = [
        5000 + np.cumsum(rng.normal(rng.normal(0, 3), 50, int(rng.integers(200, 1000))))
        for _ in range(200)
    ]
    return out, "D"


def hourly_cycles(rng):
    out = []
    for _ in range(100):
        t = np.arange(700)
        cycle = rng.uniform(5, 20) * np.sin(2 * np.pi * t / 24 + rng.uniform(0, 6))
        out.append(100 + cycle + np.cumsum(rng.normal(0, 1, 700)) + rng.normal(0, 2, 700))
    return out, "h"


COLLECTIONS = {
    "weekly-walks": (weekly_walks, 13, 52),
    "daily-walks": (daily_walks, 14, 7),
    "hourly-cycles": (hourly_cycles, 48, 24),
}


def collection(name, seed):
    gen, h, m = COLLECTIONS[name]
    series, freq = gen(np.random.default_rng(2000 + seed))
    df = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2000-01-03", periods=len(y), freq=freq),
                    "y": y,
                }
            )
            for i, y in enumerate(series)
        ],
        ignore_index=True,
    )
    held = df.groupby("unique_id").cumcount(ascending=False) < h
    train, test = df[~held], df[held]
    tr = {u: g.y.to_numpy() for u, g in train.groupby("unique_id", sort=False)}
    te = {u: g.y.to_numpy() for u, g in test.groupby("unique_id", sort=False)}

    def mean_mase(pred):
        return float(np.mean([mase(te[u], pred[u], tr[u], m=1) for u in tr]))

    anchors = [mean_mase({u: np.repeat(v[-1], h) for u, v in tr.items()})]
    anchors.append(
        mean_mase({u: np.array([v[len(v) - m + k % m] for k in range(h)]) for u, v in tr.items()})
    )
    start = time.process_time()
    est = RNNForecaster(horizon=h, random_state=seed).fit(train)
    fc = est.predict(h)
    cpu = time.process_time() - start
    pred = {u: g.y.to_numpy() for u, g in fc.groupby("unique_id", sort=False)}
    return anchors, mean_mase(pred), cpu, est


# ----------------------------------------------------- known covariates
def load_temperature(rng):
    """Hourly load driven by the square of temperature (heating and cooling),
    a workday-scaled daily profile and AR(1) noise; temperature and workday
    known ahead (their observed values standing in for forecasts)."""
    n = 24 * 500
    t = np.arange(n)
    hour, doy, dow = t % 24, (t // 24) % 365, (t // 24) % 7
    weather = np.zeros(n)
    shocks = rng.normal(0, 0.7, n)
    for i in range(1, n):
        weather[i] = 0.98 * weather[i - 1] + shocks[i]
    temp = (
        15 + 8 * np.sin(2 * np.pi * doy / 365) + 5 * np.sin(2 * np.pi * (hour - 9) / 24)
        + weather
    )
    work = (dow < 5).astype(float)
    profile = np.sin(2 * np.pi * (hour - 6) / 24) + 0.5 * np.sin(4 * np.pi * (hour - 3) / 24)
    noise = np.zeros(n)
    e = rng.normal(0, 0.25, n)
    for i in range(1, n):
        noise[i] = 0.9 * noise[i - 1] + e[i]
    y = 10 + 1.5 * profile * (0.6 + 0.4 * work) + 0.8 * work + 0.03 * (temp - 17) ** 2
    idx = pd.date_range("2021-01-01", periods=n, freq="h")
    X = pd.DataFrame({"temperature": temp, "workday": work}, index=idx)
    return pd.Series(y + noise, idx), X


def promotions(rng):
    """Daily sales: a slow random-walk level, a weekly cycle, promotions (+4,
    15 % of days) and price (-3 per unit above 1), both known ahead: effects
    a linear head reads as well as a decoder."""
    n = 1200
    dow = np.arange(n) % 7
    promo = (rng.random(n) < 0.15).astype(float)
    price = 1 + 0.1 * rng.normal(size=n)
    level = np.cumsum(rng.normal(0, 0.05, n))
    y = (
        20 + level + 2 * np.sin(2 * np.pi * dow / 7) + 4 * promo - 3 * (price - 1)
        + rng.normal(0, 0.8, n)
    )
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.Series(y, idx), pd.DataFrame({"promo": promo, "price": price}, index=idx)


#: name: (generator, horizon, season, origins, the ridge's lags)
WITH_COVARIATES = {
    "load-temperature": (load_temperature, 24, 24, 20, 168),
    "promotions": (promotions, 14, 7, 20, 28),
}


def with_covariates(name, seed):
    """The defaults, ``strategy="direct"`` and a ridge on lags + covariates.

    Fit once on the rows before the first origin, ``update`` between origins
    (the covariates of the new rows too). Returns (naive, seasonal naive,
    ridge), {label: (MASE, CPU s, strategy_)}.
    """
    sys.path.insert(0, os.path.dirname(__file__))
    from bench_accuracy import RidgeDirect

    gen, h, m, n_orig, lags = WITH_COVARIATES[name]
    y, X = gen(np.random.default_rng(3000))  # one series; seeds vary the fit
    v = y.to_numpy(dtype=float)
    first = len(y) - h - (n_orig - 1) * h
    origins = [first + j * h for j in range(n_orig)]
    anchors = [score(v, p, origins, h) for p in naive_forecasts(v, origins, h, m)]

    def walk(est, ridge=False):
        start = time.process_time()
        est.fit(y.iloc[:first], X.iloc[:first])
        preds = []
        for j, o in enumerate(origins):
            fut = X.iloc[o : o + h]
            p = est.predict(h, fut) if ridge else est.predict(h, X=fut)
            preds.append(np.asarray(p, dtype=float).reshape(-1)[:h])
            if j < n_orig - 1:
                est.update(y.iloc[o : o + h], X.iloc[o : o + h])
        return score(v, preds, origins, h), time.process_time() - start

    anchors.append(walk(RidgeDirect(lags, h), ridge=True)[0])
    out = {}
    for label, kw in (("default", {}), ("direct", {"strategy": "direct"})):
        est = RNNForecaster(horizon=h, random_state=seed, **kw)
        out[label] = walk(est) + (est.strategy_,)
    return anchors, out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument(
        "--cases", nargs="+", default=list(SINGLE) + list(COLLECTIONS),
        choices=list(SINGLE) + list(COLLECTIONS),
    )
    p.add_argument(
        "--covariates", action="store_true",
        help="the cases with known covariates: the defaults (strategy='auto') "
        "against strategy='direct' and a ridge autoregression",
    )
    p.add_argument(
        "--theta", action="store_true",
        help="single series: statsforecast's AutoTheta on the same origins too "
        "(a column after the ratio; needs the [bench] extra)",
    )
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.covariates:
        print(
            f"{'case':<17} {'seed':>4} {'naive':>7} {'snaive':>7} {'ridge':>7} "
            f"{'default':>8} {'(CPU s)':>8} {'direct':>7} {'(CPU s)':>8}  strategy_",
            flush=True,
        )
        for name in WITH_COVARIATES:
            for seed in args.seeds:
                a, out = with_covariates(name, seed)
                d, r = out["default"], out["direct"]
                print(
                    f"{name:<17} {seed:>4} {a[0]:7.3f} {a[1]:7.3f} {a[2]:7.3f} "
                    f"{d[0]:8.3f} {d[1]:8.1f} {r[0]:7.3f} {r[1]:8.1f}  {d[2]}",
                    flush=True,
                )
        return
    print(
        f"{'case':<14} {'seed':>4} {'naive':>7} {'snaive':>7} {'tsrnn':>7} "
        f"{'ratio':>6} {'CPU s':>6}  "
        + (f"{'theta':>7} " if args.theta else "")
        + "fitted (season, differencing, reference)",
        flush=True,
    )
    for name in args.cases:
        for seed in args.seeds:
            if name in SINGLE:
                anchors, ours, cpu, est = single(name, seed, args.theta)
            else:
                anchors, ours, cpu, est = collection(name, seed)
            theta = anchors.pop() if args.theta and name in SINGLE else None
            sn = f"{anchors[1]:7.3f}" if len(anchors) > 1 else f"{'-':>7}"
            th = "" if not args.theta else (
                f"{theta:7.3f} " if theta is not None else f"{'-':>7} "
            )
            print(
                f"{name:<14} {seed:>4} {anchors[0]:7.3f} {sn} {ours:7.3f} "
                f"{ours / min(anchors):6.3f} {cpu:6.1f}  {th}{est.season_length_}, "
                f"{est.differencing_}, {est.reference_}",
                flush=True,
            )


if __name__ == "__main__":
    main()
