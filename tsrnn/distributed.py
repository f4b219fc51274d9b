"""The global :class:`~tsrnn.RNNForecaster` trained on a Dask cluster.

:class:`DaskForecaster` wraps an ``RNNForecaster`` and fits it on a
``dask.dataframe`` long frame partitioned by series (every series whole in one
partition), as ``dask.distributed`` runs it: one actor per worker holds that
worker's series (:class:`~tsrnn.estimators.forecaster.shards.ShardTrainer`) and
trains on them; this process (the coordinator) drives the estimator's fit
protocol and keeps the one flat parameter vector in sync.

The synchronisation is *local steps with periodic averaging*: every worker
starts a round from the same weights, makes up to ``sync_every`` optimizer
steps on its own windows (each worker keeps its own Adam moments), and the
coordinator averages the workers' weights, each weighted by the number of
targets its steps scored. ``sync_every=1`` averages after every step (the
communication of synchronous gradient averaging: the parameter vector both
ways per step); the default, ``"epoch"``, once per local epoch. With one
worker there is nothing to average: the fit is the in-process fit, step for
step (``keep_in_memory=True``).

The ``"auto"`` settings are decided once for the collection: first passes
compute per-shard sums (held-out rows, the pooled autocorrelation's lagged
products when ``season_length="auto"`` is detected, persistence votes,
reference errors, lengths; ``shards.shared_statistics``) that add up to the
in-process statistics; ``combination="auto"`` is chosen on the tail forecasts
of every worker. Everything per series (seasonal indices, scaler, references,
the state at each end) stays on the worker that owns the series.

See ``docs/distributed.md`` for how to run it, the model of its cost, and its
limits.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state

from .engine import Diverged, run_epochs
from .engine.trainer import TrainingLog
from .estimators.forecaster import RNNForecaster
from .estimators.forecaster import auto as auto_rules
from .estimators.forecaster import combination
from .estimators.forecaster.head import build_network, reference_only
from .estimators.forecaster.likelihood import output_head
from .estimators.forecaster.shards import ShardTrainer, shared_statistics
from .estimators.forecaster.strategies import strategy_of
from .evaluation.conformal import pool_limit, sample_pool

__all__ = ["DaskForecaster"]

#: early_stopping values the distributed fit runs (the others: see _check).
SUPPORTED_STOPPING = ("auto", "refit", True, False)


class _Partition:
    """Loads one partition of a dask DataFrame in the calling thread.

    The partition's own graph (a Parquet read, for a frame from
    ``dd.read_parquet``) runs with the synchronous scheduler on the worker that
    calls it: the rows never pass through the coordinator or another worker.
    """

    def __init__(self, delayed):
        self.delayed = delayed

    def __call__(self) -> pd.DataFrame:
        return self.delayed.compute(scheduler="synchronous")


class DaskForecaster:
    """Fit one global :class:`~tsrnn.RNNForecaster` over a Dask cluster's workers.

    Parameters
    ----------
    estimator : RNNForecaster
        The model to fit (its parameters; it is cloned, never modified).
    client : distributed.Client, optional
        The cluster (default: the current client, ``distributed.get_client()``).
    n_workers : int, optional
        Workers to train on (default: every worker of the cluster). The result
        is reproducible for a fixed ``random_state``, worker count and
        partitioning.
    sync_every : int or "epoch", default="epoch"
        Local optimizer steps between weight averages (``"epoch"``: one local
        epoch). See the module's notes for the trade-off.
    keep_in_memory : bool, default=True
        True: each worker reads its partitions once and keeps them (one piece:
        with one worker, exactly the in-process fit). False: out of core, each
        worker reads one partition at a time whenever it needs it (every
        epoch), so its memory is bounded by the largest partition, not by its
        share of the data.

    Attributes
    ----------
    estimator_ : RNNForecaster
        The fitted global parameters and fitted settings (``params_``,
        ``loss_curve_``, ``differencing_``, ...), without per-series state
        (that stays on the workers).
    n_workers_ : int
    rounds_ : int
        Weight averages made.
    sync_seconds_ : float
        Wall time spent in rounds (training and communication).

    Examples
    --------
    A cluster and a Parquet dataset with every series whole in one file
    (not run here):

    >>> from dask.distributed import Client, LocalCluster  # doctest: +SKIP
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> from tsrnn import RNNForecaster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2))  # doctest: +SKIP
    >>> ddf = dd.read_parquet("series/")  # doctest: +SKIP
    >>> model = DaskForecaster(RNNForecaster(horizon=6))  # doctest: +SKIP
    >>> model.fit(ddf).predict()  # doctest: +SKIP
    """

    def __init__(
        self,
        estimator: RNNForecaster,
        *,
        client=None,
        n_workers: int | None = None,
        sync_every="epoch",
        keep_in_memory: bool = True,
    ):
        self.estimator = estimator
        self.client = client
        self.n_workers = n_workers
        self.sync_every = sync_every
        self.keep_in_memory = keep_in_memory

    # ================================================================= fit
    def fit(self, ddf) -> DaskForecaster:
        """Train on a dask DataFrame in long format, partitioned by series.

        Parameters
        ----------
        ddf : dask.dataframe.DataFrame
            Columns ``id_col``, ``time_col`` and the target(s); every series
            whole in one partition (``dd.read_parquet`` of a dataset written
            per series group, or ``ddf.shuffle(on=id_col)``).

        Returns
        -------
        self
        """
        est = clone(self.estimator)
        self._check(est)
        if est.random_state is None:  # one seed for every worker
            est.set_params(random_state=int(check_random_state(None).randint(2**31)))
        client = self._client()
        workers = sorted(client.scheduler_info()["workers"])
        n = len(workers) if self.n_workers is None else int(self.n_workers)
        if not 1 <= n <= len(workers):
            raise ValueError(
                f"n_workers={self.n_workers} but the cluster has {len(workers)} "
                "worker(s); pass at most that many, or None for all of them"
            )
        parts = [_Partition(d) for d in ddf.to_delayed()]
        n = min(n, len(parts))
        # contiguous blocks of partitions per worker: one worker reads the
        # partitions in the frame's order, as the in-process fit reads its rows
        blocks = np.array_split(np.arange(len(parts)), n)
        params = est.get_params()
        self._actors = [
            client.submit(
                ShardTrainer,
                params,
                [parts[i] for i in block],
                self.keep_in_memory,
                int(block[0]),
                actor=True,
                workers=[w],
                pure=False,
            ).result()
            for w, block in zip(workers, blocks, strict=False)
        ]
        self.n_workers_ = n
        self.rounds_, self.sync_seconds_ = 0, 0.0
        self.estimator_ = est
        self._fit_protocol(est)
        return self

    def _client(self):
        if self.client is not None:
            return self.client
        from distributed import get_client

        return get_client()

    def _check(self, est) -> None:
        if est.n_ensemble != 1:
            raise ValueError(
                f"DaskForecaster trains one network, not n_ensemble="
                f"{est.n_ensemble!r} members; set n_ensemble=1 (for a seed "
                "ensemble, fit one DaskForecaster per random_state and take the "
                "median of their forecasts)"
            )
        if est.early_stopping not in SUPPORTED_STOPPING:
            raise ValueError(
                f"DaskForecaster does not run early_stopping={est.early_stopping!r} "
                f"yet; use one of {SUPPORTED_STOPPING} (the refit protocol, the "
                "default, or a fixed number of epochs)"
            )
        head = output_head(est)
        if head.kind != "point":
            raise ValueError(
                f"DaskForecaster does not fit loss={est.loss!r} yet (a "
                f"{head.kind} head: its start reads the spread of every series, "
                "which is not merged over the workers); use a point loss "
                "('auto', 'absolute_error', 'squared_error', 'huber') with "
                "conformal intervals, or RNNForecaster in one process"
            )
        if est.id_embedding:
            raise ValueError(
                "DaskForecaster does not fit id_embedding=True yet (the id table "
                "needs one numbering of every series across the workers); set "
                "id_embedding=False, or use RNNForecaster in one process"
            )
        if est.warm_start:
            raise ValueError(
                "DaskForecaster fits from scratch: set warm_start=False (a warm "
                "start would need the previous per-series state on the same workers)"
            )
        if not (self.sync_every == "epoch" or (
            isinstance(self.sync_every, int | np.integer) and self.sync_every >= 1
        )):
            raise ValueError(
                f"sync_every={self.sync_every!r}: pass a positive number of "
                "optimizer steps, or 'epoch'"
            )

    def _all(self, method, *args):
        """Call ``method`` on every worker's trainer at once; the results in order."""
        futures = [getattr(a, method)(*args) for a in self._actors]
        return [f.result() for f in futures]

    def _fit_protocol(self, est) -> None:
        """The estimator's fit protocol (``FitsForecaster._fit_data``) over shards."""
        described = [d for ds in self._all("describe") for d in ds]
        self._check_shards(described)
        n_series = sum(len(d["ids"]) for d in described)
        # as _fit_data: the head decides what the transforms may do
        est.loss_ = "absolute_error" if est.loss == "auto" else est.loss
        stats = shared_statistics(self._all, n_series)
        est.season_length_ = stats["season_length"]
        est._decide_auto(stats)
        # the workers train one model together: the in-sample reference stays
        est.__dict__.pop("_reference_contest", None)
        info = self._all("prepare", stats, False)
        has_val = any(i["has_val"] for i in info)
        self.rows_per_epoch_ = sum(i["rows"] for i in info)
        theta = self._actors[0].initial_weights().result()
        self._net = net = self._network(est)
        mode = est._stopping_mode(False, False, has_val)
        early = mode in ("refit", "continue") and has_val
        ref_theta = ref_score = None
        if early:
            ref_theta = reference_only(net, theta)
            ref_score = self._validate(ref_theta)
        steps = max(i["steps"] for i in info)
        max_iter = (
            int(est.max_iter)
            if est.max_iter != "auto"
            else auto_rules.choose_epochs(steps, selecting=early)
        )
        log = self._run(est, theta, max_iter, early)
        use_reference = (
            ref_score is not None
            and bool(log.validation_scores)
            and np.isfinite(ref_score)
            and ref_score >= max(log.validation_scores)
            and log.stopped not in ("diverged", "interrupted")
        )
        if use_reference:
            theta[:] = ref_theta
        weights = None
        layout = self._actors[0].layout().result()
        if est._combines(layout, has_val, mode, log):
            # the tails of every worker choose one combination (as in process:
            # their forecasts concatenated in the partitions' order)
            weights = self._combination(layout, theta)
            combination.combine_head(net, theta, layout, weights)
        est.combination_weights_ = weights
        refits = mode in ("refit", "continue") and log.stopped not in (
            "diverged",
            "interrupted",
        )
        out = self._all(
            "finish", theta, self._attributes(est, log, max_iter), not refits
        )
        if mode in (False, "max_iter") and has_val:
            num = sum(o["num"] for o in out)
            den = sum(o["den"] for o in out)
            log.validation_scores.append(-num / den if den else float("nan"))
        h, k = int(est.horizon), int(described[0]["n_targets"])
        conformal = self._pooled_errors(out, h, k)
        validation = list(log.validation_scores)
        est.validation_scores_ = validation
        est.best_validation_score_ = max(validation) if validation else None
        if refits:
            selection = log
            n_best = 0 if use_reference else int(np.argmax(log.validation_scores)) + 1
            est.selected_epochs_ = n_best
            self._all("prepare", stats, True)
            theta = self._actors[0].initial_weights().result()
            if use_reference:
                theta[:] = reference_only(net, theta)
            log = self._run(est, theta, n_best, False, warn=False)
            if weights is not None:  # the selection run's combination
                combination.combine_head(net, theta, layout, weights)
            if log.stopped == "max_iter":
                log.stopped = selection.stopped
            max_iter = n_best
            attrs = self._attributes(est, log, n_best)
            attrs.update(
                validation_scores_=validation,
                best_validation_score_=est.best_validation_score_,
            )
            self._all("finish", theta, attrs, True)
            est.validation_scores_ = validation
        note = None if len(conformal) else "no held-out tail to calibrate on"
        self._all("set_conformal", conformal, note)
        est.conformal_errors_ = conformal
        est.conformal_scores_ = np.abs(conformal)
        for name, value in self._attributes(est, log, max_iter).items():
            setattr(est, name, value)
        est.validation_scores_ = validation
        est.best_validation_score_ = max(validation) if validation else None
        est.params_ = theta

    @staticmethod
    def _pooled_errors(out, h: int, k: int) -> np.ndarray:
        """The collection's conformal pool from the workers' samples.

        Each worker sends at most ``pool_limit(h)`` signed residuals and their
        sampling keys; the rows of the smallest keys over all of them are the
        sample the in-process fit keeps of the whole pool (every row, in the
        partitions' order, at or below the limit).
        """
        parts = [o for o in out if o["errors"] is not None and len(o["errors"])]
        if not parts:
            return np.empty((0, h, k))
        errors, _ = sample_pool(
            np.concatenate([o["errors"] for o in parts]),
            np.concatenate([o["keys"] for o in parts]),
            pool_limit(h),
        )
        return errors

    def _combination(self, layout, theta) -> np.ndarray:
        """The combination weights chosen on the tails of every worker.

        Two rounds, so that the coordinator holds at most
        :data:`~tsrnn.estimators.forecaster.combination.MAX_POINTS` tail
        points per target whatever the collection's size: the workers report
        how many points each piece observed, the coordinator picks the
        evenly spaced ones the in-process fit scores (the same points, in the
        same order, their origins numbered across the pieces) and only those
        are sent. The weights equal the in-process fit's.
        """
        if combination.PER_STEP:  # one set per step: every point, as before
            return self._combination_of_every_point(layout, theta)
        counts = self._all("tail_point_counts", theta)  # per worker, per piece
        flat = [c for cs in counts for c in cs]
        k = layout.n_targets
        every = combination.points_of_pieces(
            np.array([c[0] for c in flat], dtype=np.int64).reshape(len(flat), k)
        )
        keep, i = [], 0
        for cs in counts:  # the pieces' choices back to their workers
            keep.append(every[i : i + len(cs)])
            i += len(cs)
        futures = [a.tail_points(kp) for a, kp in zip(self._actors, keep, strict=True)]
        pieces = [p for f in futures for p in f.result()]
        offsets = np.concatenate([[0], np.cumsum([c[1] for c in flat])])
        points = []
        for j in range(k):
            c = [p[j][0] for p in pieces]
            points.append(
                (
                    np.concatenate(c)
                    if c
                    else np.zeros((0, combination.n_candidates(layout))),
                    np.concatenate([p[j][1] for p in pieces]),
                    np.concatenate(
                        [p[j][2] + offsets[i] for i, p in enumerate(pieces)]
                    ),
                )
            )
        return combination.weights_from_points(points, layout.horizon_out)

    def _combination_of_every_point(self, layout, theta) -> np.ndarray:
        """:meth:`_combination` with every tail point sent (one set per step)."""
        parts = [t for ts in self._all("tail_forecasts", theta) for t in ts]
        parts = [t for t in parts if len(t[0])] or parts[:1]
        offset, origins = 0, []
        for t in parts:  # origins numbered across the workers' tails
            origins.append(t[4] + offset)
            offset += int(t[4].max()) + 1 if len(t[4]) else 0
        c, t, m, steps = (np.concatenate([p[i] for p in parts]) for i in range(4))
        origins = np.concatenate(origins)
        return combination.tail_weights(
            c,
            t,
            m,
            steps if combination.PER_STEP else None,
            n_steps=layout.horizon_out,
            origins=origins,
        )

    def _check_shards(self, described) -> None:
        ids = pd.Series([i for d in described for i in d["ids"]], dtype=object)
        twice = ids[ids.duplicated()].unique().tolist()
        if twice:
            raise ValueError(
                f"series {twice[:3]!r} appear in more than one partition: "
                "DaskForecaster needs every series whole in one partition; "
                "repartition by series, e.g. ddf.shuffle(on=id_col), or write "
                "the Parquet dataset partitioned by series"
            )
        freqs = {d["freq"] for d in described}
        if len(freqs) > 1:
            raise ValueError(
                f"the partitions have different frequencies {sorted(freqs)}: "
                "pass freq= to the estimator"
            )
        if any(d["n_covariates"] for d in described):
            raise ValueError(
                "DaskForecaster does not take covariate columns yet (their "
                "scaling is global over the collection): pass only id, time and "
                "target columns"
            )

    def _network(self, est):
        layout = self._actors[0].layout().result()
        return build_network(
            est.cell,
            est.hidden_size_,
            est.num_layers,
            est.nonlinearity,
            layout,
            np.dtype(est.dtype).type,
            decoder=strategy_of(est).decoder,
        )

    def _validate(self, theta) -> float:
        sums = self._all("validation_sums", theta)
        num, den = sum(s[0] for s in sums), sum(s[1] for s in sums)
        return -num / den if den else float("nan")

    def _run(self, est, theta, max_iter, early, warn=None) -> TrainingLog:
        epoch = _AveragedEpoch(self, theta)
        log = run_epochs(
            theta,
            epoch,
            max_iter=max_iter,
            tol=est.tol,
            n_iter_no_change=auto_rules.choose_patience(
                est.n_iter_no_change, early, getattr(est, "short_series_", False)
            ),
            early_stopping=early,
            validate=(lambda: self._validate(theta)) if early else None,
            verbose=est.verbose,
            log=TrainingLog(),
            desc="DaskForecaster",
            warn_max_iter=(est.max_iter != "auto") if warn is None else warn,
        )
        self._grad_norms = epoch.grad_norms
        return log

    def _attributes(self, est, log, n_epochs) -> dict:
        attrs = dict(
            n_iter_=log.n_iter,
            n_epochs_=n_epochs,
            loss_curve_=list(log.loss_curve),
            best_loss_=log.best_loss,
            stopped_=log.stopped,
            grad_norm_curve_=list(getattr(self, "_grad_norms", [])),
            validation_scores_=list(log.validation_scores),
            best_validation_score_=(
                max(log.validation_scores) if log.validation_scores else None
            ),
        )
        for name in (
            "season_length_",
            "combination_weights_",
            "differencing_",
            "reference_",
            "seasons_",
            "bptt_length_",
            "loss_",
            "learning_rate_",
            "short_series_",
            "validation_fraction_",
            "selected_epochs_",
        ):
            if hasattr(est, name):
                attrs[name] = getattr(est, name)
        return attrs

    # ============================================================ forecasts
    def predict(self, horizon=None) -> pd.DataFrame:
        """Forecast every series after its last observation (pandas long frame).

        Each worker forecasts its own series; the frames are concatenated in
        the order of the partitions.
        """
        return pd.concat(self._all("predict", horizon))

    def predict_interval(self, horizon=None, **kwargs) -> pd.DataFrame:
        """Conformal intervals of every series (pandas long frame; see
        :meth:`RNNForecaster.predict_interval`)."""
        return pd.concat(self._all("predict_interval", horizon, kwargs))

    def update(self, y_new) -> DaskForecaster:
        """Advance the series over new observations (a pandas or dask long frame).

        Each worker reads the rows of its own series; a dask frame is computed
        partition by partition on the workers.
        """
        if hasattr(y_new, "to_delayed"):
            for d in y_new.to_delayed():
                self._all("update_from", _Partition(d))
        else:
            self._all("update", y_new)
        return self

    def close(self) -> None:
        """Release the workers' actors (and the series they hold)."""
        self._actors = []


class _AveragedEpoch:
    """One epoch of :func:`run_epochs` over the workers, averaging their weights."""

    def __init__(self, owner: DaskForecaster, theta: np.ndarray):
        self.owner, self.theta = owner, theta
        every = owner.sync_every
        self.every = None if every == "epoch" else int(every)
        self.grad_norms = []

    def __call__(self) -> float:
        owner, theta = self.owner, self.theta
        active = list(range(len(owner._actors)))
        losses, norms = [], []
        while active:
            start = time.perf_counter()
            futures = [owner._actors[i].train(theta, self.every) for i in active]
            results = [f.result() for f in futures]
            for r in results:
                if "diverged" in r:
                    raise Diverged(r["diverged"], steps_done=r["steps_done"])
            ran = [r for r in results if r["losses"]]
            if ran:
                total = sum(r["samples"] for r in ran)
                weights = [
                    (r["samples"] / total) if total else 1.0 / len(ran) for r in ran
                ]
                avg = weights[0] * ran[0]["theta"]
                for w, r in zip(weights[1:], ran[1:], strict=True):
                    avg += w * r["theta"]
                theta[:] = avg
                owner.rounds_ += 1
            for r in results:
                losses.extend(r["losses"])
                norms.extend(r["norms"])
            active = [
                i for i, r in zip(active, results, strict=True) if not r["finished"]
            ]
            owner.sync_seconds_ += time.perf_counter() - start
        self.grad_norms.append(float(np.mean(norms)) if norms else float("nan"))
        return float(np.mean(losses)) if losses else float("nan")

