"""The global RNNForecaster trained on a Dask cluster (tsrnn.distributed, issue 17).

Four measurements, each printed with everything needed to judge it:

``throughput``
    M3 monthly (the shipped share) replicated ``--copies`` times with 2 %
    multiplicative noise, as a dask frame of ``--partitions`` partitions.
    A fresh ``LocalCluster`` (processes, one thread each) per worker count
    (``--workers``, default 1 and 2) and per sync period (``--sync``, default
    ``epoch`` and ``1``); ``max_iter`` fixed, no early stopping, so every run
    does the same work. Printed: rows trained per second (training rows per
    epoch x epochs / wall time of the training rounds), the whole fit's time,
    rounds, the time per round, the measured round trip of the parameter vector
    (an empty round: the vector to every worker and back), the parameter count,
    and the peak RSS of each worker process (``ru_maxrss``). The speed-up of
    2 workers over 1 is printed per sync period.
``accuracy``
    M3 monthly, official test window: MASE (M4 style, scale = in-sample
    seasonal naive at m = 12) of the in-process global model and of the
    2-worker Dask fit, same parameters (defaults, ``random_state=0``).
``out-of-core``
    A Parquet dataset of ``--ooc-copies`` noisy copies of M3 monthly, one file
    per copy, larger in memory than ``--memory-limit`` (the limit each worker
    gets), trained with ``keep_in_memory=False`` (one partition at a time on
    the worker); printed: the data's in-memory size, the limit, peak RSS per
    worker, the fit's time, the rows of the pooled conformal residuals and
    the bytes of them each worker holds (at most ``pool_limit(h)`` rows).
``inprocess``
    ``RNNForecaster.fit`` on M3 monthly in a fresh subprocess with this tree
    and with ``--baseline-root`` (a checkout before the change): the
    in-process path must lose nothing.

The scaling model (communication per round = the parameter vector, each way,
per worker) and its extrapolation to 8/32/128 workers are printed from the
measured figures. The machine this was written on has 2 cores shared with
other jobs: rerun on a quiet machine for figures worth quoting.

Usage::

    python benchmarks/bench_distributed.py [--suite throughput accuracy
        out-of-core inprocess] [--copies 4] [--workers 1 2] [--sync epoch 1]
        [--max-iter 3] [--ooc-copies 60] [--memory-limit 600MB]
        [--baseline-root /path/to/checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

warnings.simplefilter("ignore")


def replicated(copies: int, seed: int = 0, noise: float = 0.02) -> pd.DataFrame:
    """M3 monthly (training part) ``copies`` times, each copy with noise."""
    from tsrnn.datasets import load_m3

    train, _ = load_m3(frequency="monthly").split()
    rng = np.random.default_rng(seed)
    frames = [
        train.assign(
            unique_id=train["unique_id"] + f"_{c}",
            y=train["y"] * (1 + noise * rng.normal(size=len(train))),
        )
        for c in range(copies)
    ]
    return pd.concat(frames, ignore_index=True)


def by_series(df: pd.DataFrame, npartitions: int):
    """A dask frame of ``npartitions`` partitions, every series whole in one."""
    import dask
    import dask.dataframe as dd

    ids = df["unique_id"].unique()
    blocks = np.array_split(ids, npartitions)
    parts = [dask.delayed(df[df["unique_id"].isin(b)]) for b in blocks]
    return dd.from_delayed(parts, meta=df.iloc[:0])


def _rss_peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s():
    """CPU seconds (user + system) of the calling process so far."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


#: Compute threads per worker (NUMBA_NUM_THREADS: tsrnn's row threads). One
#: core per worker is the unit of scaling; set by --worker-threads.
WORKER_THREADS = 1


def _cluster(n, memory_limit=None):
    import dask
    from distributed import Client, LocalCluster

    dask.config.set({"distributed.worker.profile.enabled": False})
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit or "auto",
        dashboard_address=":0",
        env={"NUMBA_NUM_THREADS": str(WORKER_THREADS)},
    )
    return cluster, Client(cluster)


def _warm(client):
    """Load (or compile) the kernels in every worker before timing."""

    def warm():
        from tsrnn import RNNForecaster

        RNNForecaster(hidden_size=8, horizon=2, max_iter=1, random_state=0).fit(
            np.sin(np.arange(200) / 3.0)
        )
        return True

    client.run(warm)


def _estimator(**kw):
    from tsrnn import RNNForecaster

    params = dict(random_state=0)
    params.update(kw)
    return RNNForecaster(**params)


def throughput(args):
    from tsrnn.distributed import DaskForecaster

    df = replicated(args.copies)
    ddf = by_series(df, args.partitions)
    print(f"\n## throughput (worker threads {WORKER_THREADS}): {len(df):,} rows, "
          f"{df['unique_id'].nunique():,} series, "
          f"{args.partitions} partitions, max_iter={args.max_iter}, "
          f"hidden_size={args.hidden}")
    out = {}
    for sync in args.sync:
        for n in args.workers:
            cluster, client = _cluster(n)
            try:
                _warm(client)
                est = _estimator(
                    horizon=18, hidden_size=args.hidden, max_iter=args.max_iter,
                    early_stopping=False,
                )
                model = DaskForecaster(
                    est, client=client,
                    sync_every=sync if sync == "epoch" else int(sync),
                )
                cpu0 = client.run(_cpu_s)
                t0 = time.perf_counter()
                model.fit(ddf)
                fit_s = time.perf_counter() - t0
                cpu = client.run(_cpu_s)
                # CPU seconds of every worker in the fit: rows per CPU-second
                # is what the wall time would show on free cores
                cpu_s = [cpu[w] - cpu0[w] for w in cpu]
                theta = model.estimator_.params_
                # an empty round: the vector to every worker and back
                trips = []
                for _ in range(20):
                    t = time.perf_counter()
                    [f.result() for f in [a.train(theta, 0) for a in model._actors]]
                    trips.append(time.perf_counter() - t)
                rows = model.rows_per_epoch_ * model.estimator_.n_iter_
                rss = client.run(_rss_peak_mb)
                r = dict(
                    workers=n, sync=sync, rows_per_s=rows / model.sync_seconds_,
                    train_s=model.sync_seconds_, fit_s=fit_s, rounds=model.rounds_,
                    s_per_round=model.sync_seconds_ / max(model.rounds_, 1),
                    round_trip_ms=1e3 * float(np.median(trips)),
                    n_params=int(theta.size),
                    peak_rss_mb=[round(v) for v in rss.values()],
                    worker_cpu_fit_s=[round(c, 2) for c in cpu_s],
                    rows_per_cpu_s_slowest=rows / max(cpu_s),
                    final_loss=model.estimator_.loss_curve_[-1],
                )
                out[(sync, n)] = r
                print(json.dumps(r))
            finally:
                client.close()
                cluster.close()
        if (sync, 1) in out and (sync, 2) in out:
            s = out[(sync, 2)]["rows_per_s"] / out[(sync, 1)]["rows_per_s"]
            print(f"speed-up 2 workers / 1 worker, sync_every={sync}: {s:.2f}x")
            c = (out[(sync, 2)]["rows_per_cpu_s_slowest"]
                 / out[(sync, 1)]["rows_per_cpu_s_slowest"])
            print(f"  by the slowest worker's CPU seconds in the fit (what free "
                  f"cores would show, before waiting): {c:.2f}x")
    _model_of_scaling(out)
    return out


def _model_of_scaling(out):
    """Extrapolate the measured one-worker run to W workers, on paper.

    Each worker makes its share of the epoch's optimizer steps (the lanes
    saturate at ``batch_size``: the steps per worker fall as 1/W), so

        T(W) = T1 / W + rounds(W) * (t_rt + W * 8P / bandwidth)

    with rounds(W) = epochs (sync per epoch) or steps1 / W (sync every step),
    t_rt the measured round trip of the parameter vector (coordinator <->
    one worker, overlapped across workers) and the W vectors of 8P bytes each
    way serialised at the coordinator's link (assumed 1 GB/s).
    """
    one = {s: r for (s, n), r in out.items() if n == 1}
    if "epoch" not in one:
        return
    r1 = one["epoch"]
    P, T1 = r1["n_params"], r1["train_s"]
    trip = float(np.median([r["round_trip_ms"] for r in out.values()])) / 1e3
    step = next((r for s, r in one.items() if s != "epoch"), None)
    if step is not None:
        overhead = step["s_per_round"] - T1 / step["rounds"]
        print(f"\n## per-step overhead, sync every step, 1 worker: "
              f"{1e3 * overhead:.1f} ms per round ({step['rounds']} rounds; "
              f"compute {1e3 * T1 / step['rounds']:.1f} ms per step)")
    print(f"\n## scaling model: P = {P} parameters = {8 * P / 1e3:.1f} kB each way "
          f"per worker per round; round trip t_rt = {1e3 * trip:.2f} ms (median "
          "measured); 1 GB/s at the coordinator")
    print("   T(W) = T1/W + rounds(W) * (t_rt + W * 8P / 1e9)")
    for W in (1, 2, 8, 32, 128):
        for label, rounds in (("epoch", r1["rounds"]),
                              ("every step", step and step["rounds"] / W)):
            if not rounds:
                continue
            comm = rounds * (trip + W * 8 * P / 1e9)
            t = T1 / W + comm
            print(f"   W={W:4d} sync={label:10s}: {t:8.2f} s, speed-up "
                  f"{T1 / t:6.1f}x (communication {100 * comm / t:4.1f} %)")


def accuracy(args):
    from tsrnn.datasets import load_m3
    from tsrnn.distributed import DaskForecaster
    from tsrnn.metrics import mase

    train, test = load_m3(frequency="monthly").split()
    h, m = 18, 12

    def score(fc):
        fc = fc.set_index("unique_id")
        errs = []
        for uid, g in test.groupby("unique_id", sort=False):
            y_train = train.loc[train["unique_id"] == uid, "y"].to_numpy()
            errs.append(mase(g["y"].to_numpy(), fc.loc[uid, "y"].to_numpy()[:h],
                             y_train, m))
        return float(np.mean(errs))

    for seed in args.seeds:
        est = _estimator(horizon=h, random_state=seed)
        t0 = time.perf_counter()
        local = est.fit(train)
        t_local = time.perf_counter() - t0
        s_local = score(local.predict())
        cluster, client = _cluster(2)
        try:
            _warm(client)
            ddf = by_series(train, 4)
            t0 = time.perf_counter()
            model = DaskForecaster(
                _estimator(horizon=h, random_state=seed), client=client
            ).fit(ddf)
            t_dist = time.perf_counter() - t0
            s_dist = score(model.predict())
        finally:
            client.close()
            cluster.close()
        print(f"\n## accuracy, M3 monthly (shipped share), MASE, seed {seed}")
        print(json.dumps(dict(
            seed=seed, in_process=s_local, in_process_s=t_local,
            in_process_epochs=local.n_epochs_,
            in_process_selected=local.selected_epochs_,
            dask_2_workers=s_dist, dask_s=t_dist,
            dask_epochs=model.estimator_.n_epochs_,
            dask_selected=model.estimator_.selected_epochs_,
            relative_change_pct=100 * (s_dist / s_local - 1),
        )))


def _fit_bytes_per_row(est, frame) -> float:
    """Bytes per row the in-memory fit holds (series set + scaled rows + refs)."""
    from tsrnn.estimators.forecaster.shards import ShardTrainer, shared_statistics

    trainer = ShardTrainer(est.get_params(), [lambda: frame], True)
    stats = shared_statistics(
        lambda method, *a: [getattr(trainer, method)(*a)],
        frame["unique_id"].nunique(),
    )
    trainer.prepare(stats, False)
    piece = trainer.pieces[0]
    s, data = piece.series, piece.data()
    arrays = [s.Y, s.inputs, s.Z, s.start, s.end, s.train_end, data.y]
    arrays += [a for a in (s.refs, data.time) if a is not None]
    return sum(a.nbytes for a in arrays) / len(frame)


def _held_pool(dask_worker):
    """Bytes of pooled conformal residuals the worker's trainers hold."""
    actors = getattr(getattr(dask_worker, "state", dask_worker), "actors", {})
    total = 0
    for a in actors.values():
        pooled = getattr(a, "_pooled", None)
        if pooled is not None:
            total += sum(x.nbytes for x in pooled)
    return total


def out_of_core(args):
    import dask.dataframe as dd
    from dask.utils import parse_bytes

    from tsrnn.distributed import DaskForecaster

    limit = parse_bytes(args.memory_limit)
    with tempfile.TemporaryDirectory() as tmp:
        rows = nbytes = 0
        base = replicated(1)
        rng = np.random.default_rng(1)
        for c in range(args.ooc_copies):  # one copy at a time: never all at once
            part = base.assign(
                unique_id=base["unique_id"] + f"_{c}",
                y=base["y"] * (1 + 0.02 * rng.normal(size=len(base))),
            )
            part.to_parquet(os.path.join(tmp, f"part-{c:04d}.parquet"), index=False)
            rows += len(part)
            nbytes += int(part.memory_usage(deep=True).sum())
        per_row = _fit_bytes_per_row(
            _estimator(horizon=18, hidden_size=args.hidden), base
        )
        print(f"\n## out of core: {rows:,} rows, {nbytes / 2**20:.0f} MiB in memory "
              f"as a pandas frame, {per_row:.0f} bytes a row = "
              f"{rows * per_row / 2**20:.0f} MiB as the in-memory fit holds it; "
              f"{args.ooc_copies} Parquet files; memory_limit per worker "
              f"{limit / 2**20:.0f} MiB")
        for n in args.workers:
            cluster, client = _cluster(n, memory_limit=args.memory_limit)
            try:
                _warm(client)
                base_rss = client.run(_rss_peak_mb)
                est = _estimator(horizon=18, hidden_size=args.hidden, max_iter=1,
                                 early_stopping=False)
                model = DaskForecaster(est, client=client, keep_in_memory=False)
                t0 = time.perf_counter()
                model.fit(dd.read_parquet(tmp))
                fit_s = time.perf_counter() - t0
                rss = client.run(_rss_peak_mb)
                held = client.run(_held_pool)
                print(json.dumps(dict(
                    workers=n, fit_s=fit_s, n_iter=model.estimator_.n_iter_,
                    series=int(base["unique_id"].nunique()) * args.ooc_copies,
                    pool_rows=len(model.estimator_.conformal_errors_),
                    pooled_bytes_per_worker=list(held.values()),
                    rows_per_s_training=rows / model.sync_seconds_,
                    peak_rss_mb_after_warmup=[round(v) for v in base_rss.values()],
                    peak_rss_mb=[round(v) for v in rss.values()],
                    data_mb=round(nbytes / 2**20), limit_mb=round(limit / 2**20),
                )))
            finally:
                client.close()
                cluster.close()


_CHILD = r"""
import sys, time, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import tsrnn
from tsrnn import RNNForecaster
from tsrnn.datasets import load_m3
train, _ = load_m3(frequency="monthly").split()
RNNForecaster(horizon=18, max_iter=1, random_state=0).fit(train.iloc[:3000])
best = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    RNNForecaster(horizon=18, max_iter=5, early_stopping=False,
                  random_state=0).fit(train)
    best.append(time.perf_counter() - t)
print(tsrnn.__file__, min(best))
"""


def inprocess(args):
    print("\n## in-process fit, M3 monthly, max_iter=5 (best of "
          f"{args.repeat}, fresh subprocess per tree)")
    roots = [("this tree", ROOT)]
    if args.baseline_root:
        roots.append(("baseline", args.baseline_root))
    for label, root in roots * 2:  # interleaved twice: the machine's load drifts
        r = subprocess.run([sys.executable, "-c", _CHILD, root, str(args.repeat)],
                           capture_output=True, text=True, check=True)
        print(f"  {label:10s} {r.stdout.strip()}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", nargs="+",
                   default=["throughput", "accuracy", "out-of-core", "inprocess"])
    p.add_argument("--copies", type=int, default=4)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--sync", nargs="+", default=["epoch", "1"])
    p.add_argument("--max-iter", type=int, default=3)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--ooc-copies", type=int, default=60)
    p.add_argument("--memory-limit", default="600MB")
    p.add_argument("--baseline-root", default=None)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0],
                   help="random_state of the accuracy fits (one line each)")
    p.add_argument("--worker-threads", type=int, default=1,
                   help="NUMBA_NUM_THREADS of each worker (tsrnn's row threads)")
    args = p.parse_args(argv)
    global WORKER_THREADS
    WORKER_THREADS = args.worker_threads
    print(f"workers: {WORKER_THREADS} compute thread(s) each; machine: "
          f"{os.cpu_count()} cores, load average {os.getloadavg()}")
    for suite in args.suite:
        {"throughput": throughput, "accuracy": accuracy,
         "out-of-core": out_of_core, "inprocess": inprocess}[suite](args)


if __name__ == "__main__":
    main()
