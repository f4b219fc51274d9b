"""One worker's share of a collection: the fit protocol's steps on its series.

:mod:`tsrnn.distributed` trains one global :class:`RNNForecaster` over series
spread on several workers. Each worker holds a :class:`ShardTrainer`: its
series, cut into *pieces* (the rows loaded at once: all of the worker's series
when they fit in memory, else one partition at a time), each piece read by a
:class:`ShardForecaster` (the estimator's own transforms, references and
epochs, with the ``"auto"`` settings decided from the whole collection). A
coordinator drives the steps -- statistics, preparation, local training from
the weights it sends, validation sums, reading to the ends -- and keeps the
weights in sync. Nothing here knows Dask: a trainer is a plain object whose
methods take and return arrays and small dicts.

A worker with one piece holding every series runs exactly the in-process fit:
the same seasonal indices, scaler, lanes, random draws and optimizer steps.
"""

from __future__ import annotations

import functools
import os
import pickle
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..._constraints import validate_params
from ...engine import Diverged, make_optimizer
from ...engine.threads import single_threaded_blas
from ...evaluation.conformal import pool_limit, sample_pool
from .. import fitted_config
from . import auto, combination
from .estimator import RNNForecaster
from .fitting import merge_auto_statistics
from .likelihood import output_head
from .reader import SeriesReader, validation_sums
from .strategies import strategy_of
from .training import ScaledSeries, cut_lanes, hold_out, steps_per_epoch

__all__ = [
    "ShardForecaster",
    "ShardTrainer",
    "merge_auto_statistics",
    "shared_statistics",
]


class ShardForecaster(RNNForecaster):
    """An :class:`RNNForecaster` on part of a collection.

    Its ``"auto"`` settings come from the statistics of the whole collection
    (``shared``, :func:`merge_auto_statistics`), so that every shard decides
    alike; everything per series (seasonal indices, scaler, references, the
    state at each series' end) is its own.
    """

    shared: dict | None = None

    def _resolve_auto(self, data, strategy, train_end) -> None:
        if self.shared is None:
            super()._resolve_auto(data, strategy, train_end)
        else:
            self._decide_auto(self.shared)
            # the shards train one model together: the in-sample choice stays
            self.__dict__.pop("_reference_contest", None)

    def _resolve_season_length(self, data, train_end) -> tuple[int, ...]:
        # detected (season_length="auto" without a frequency) from the pooled
        # autocorrelation of the whole collection: its merged sums
        if self.shared is None:
            return super()._resolve_season_length(data, train_end)
        return tuple(self.shared["season_length"])


_PICKLING = threading.Lock()


class _Piece:
    """Rows loaded at once, and the forecaster that reads them."""

    def __init__(self, load: Callable[[], pd.DataFrame], params: dict, keep: bool):
        self.load, self.keep = load, keep
        self._model, self._parked = None, None
        self.model = ShardForecaster(**params)
        validate_params(self.model)
        # as _fit_data: the head decides what the transforms may do
        loss = self.model.loss
        self.model.loss_ = "absolute_error" if loss == "auto" else loss
        self._data = None
        self.series = self.n_val = self.saved = None
        self.spilled = None  # out of core, after the fit: the model's file
        self.bounds = None  # the smallest and largest series id of a spilled model

    @property
    def model(self):
        """The piece's forecaster (read back from its file when parked)."""
        if self._model is None and self._parked is not None:
            # the worker's own file, written by release(): trusted
            with open(self._parked, "rb") as f:
                self._model = pickle.load(f)
        return self._model

    @model.setter
    def model(self, model) -> None:
        self._model = model

    def data(self):
        if self._data is not None:
            return self._data
        data = self.model._read(self.load(), None)
        if self.keep:
            self._data = data
        return data

    def release(self, directory: str | None = None) -> None:
        """Drop the rows (out-of-core: reloaded when next needed).

        ``directory``: out of core, the forecaster (its transforms: scaler,
        seasonal indices, references, schema, per series) is parked there
        too, and read back at its next use (:attr:`model`): during the fit a
        worker then holds one partition's, not every partition's.
        """
        if self.keep:
            return
        self.series = None
        if directory is not None and self._model is not None:
            self._parked = os.path.join(directory, f"model-{id(self)}.pkl")
            with _PICKLING, open(self._parked, "wb") as f:
                pickle.dump(self._model, f, protocol=pickle.HIGHEST_PROTOCOL)
            self._model = None

    def spill(self, path: str) -> None:
        """Write the fitted forecaster (its per-series state) to ``path`` and
        drop it from memory: out of core, what a worker keeps between calls
        is then a file name per partition, not the series' state.

        The series ids go to a file of their own beside it (``path + ".ids"``,
        read to route ``update`` rows without reading the forecaster); the
        piece keeps only the smallest and largest id (:meth:`rows_of`).
        """
        self.spilled = path
        ids = list(self.model.schema_.ids)
        with open(self._ids_path(), "wb") as f:
            pickle.dump(ids, f, protocol=pickle.HIGHEST_PROTOCOL)
        self.bounds = _bounds(ids)
        self.keep_fitted(self.model)
        self.model = self._data = self.series = None
        if self._parked is not None:  # superseded by the spilled file
            os.remove(self._parked)
            self._parked = None

    def _ids_path(self) -> str:
        return self.spilled + ".ids"

    def ids(self) -> list:
        """The series ids of the piece (read from their file when spilled)."""
        if self.spilled is None:
            return list(self.model.schema_.ids)
        # the worker's own file, written by spill(): trusted
        with open(self._ids_path(), "rb") as f:
            return pickle.load(f)

    def rows_of(self, frame: pd.DataFrame, id_col: str) -> pd.DataFrame:
        """The rows of ``frame`` whose series belong to this piece.

        A spilled piece first compares the ids with its smallest and largest
        one (no file read: a frame of other partitions' series, contiguous ids
        as a Parquet dataset written per group of series has them, is skipped
        there), then reads its ids file for the rows in that range.
        """
        col = frame[id_col]
        if self.spilled is not None and self.bounds is not None:
            near = _within(col, *self.bounds)
            if near is not None:
                if not near.any():
                    return frame.iloc[:0]
                frame, col = frame[near], col[near]
        return frame[col.isin(self.ids())]

    def fitted(self, pooled=None):
        """The fitted forecaster (read back from its file when spilled).

        ``pooled``: the collection's residuals ``(scores, errors)``, given
        back to a forecaster whose file was written without them
        (:meth:`keep_fitted`).
        """
        if self.spilled is None:
            return self.model
        # the worker's own file, written by keep_fitted() below: trusted
        with open(self.spilled, "rb") as f:
            without_pooled, model = pickle.load(f)
        if without_pooled:
            scores, errors = (None, None) if pooled is None else pooled
            model.conformal_scores_, model.conformal_errors_ = scores, errors
        return model

    def keep_fitted(self, model, pooled=None) -> None:
        """Store a forecaster :meth:`fitted` returned (after ``update``, ...).

        The collection's pooled residuals (``pooled``, ``(scores, errors)``,
        the same arrays on every piece) are left out of the file: one copy per
        worker, not one per partition. Residuals an ``update`` refreshed are
        the piece's own and stay in it.
        """
        if self.spilled is None:
            self.model = model
            return
        kept = (
            model.__dict__.get("conformal_scores_"),
            model.__dict__.get("conformal_errors_"),
        )
        without = pooled is not None and kept[0] is pooled[0]
        if without:
            model.conformal_scores_ = model.conformal_errors_ = None
        try:
            # workers as threads of one process (LocalCluster(processes=False))
            # spill at once: numba names a kernel on its first pickling, which
            # is not thread-safe
            with _PICKLING, open(self.spilled, "wb") as f:
                pickle.dump((without, model), f, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            if without:
                model.conformal_scores_, model.conformal_errors_ = kept

    def save(self, path: str, every_row: bool) -> None:
        """Keep the scaled rows on the worker's disk (out of core: read back
        instead of reparsing the partition and refitting its transforms)."""
        s = self.series
        arrays = dict(Y=s.Y, Z=s.Z, indptr=s.indptr, train_end=s.train_end_series)
        # the MASE weights (None when off) travel with the rows: read back
        # without them, a spilled piece would train unweighted from then on
        for name in ("refs", "weights", "tail_weights"):
            if getattr(s, name) is not None:
                arrays[name] = getattr(s, name)
        np.savez(path, **arrays)
        self.saved = (path, every_row)

    def restore(self, every_row: bool):
        """The scaled rows :meth:`save` kept for this stage, or None."""
        saved = getattr(self, "saved", None)
        if saved is None or saved[1] != every_row:
            return None
        with np.load(saved[0]) as f:
            got = {k: (f[k] if k in f.files else None)
                   for k in ("refs", "weights", "tail_weights")}
            return ScaledSeries.build(
                f["Y"], f["Z"], f["indptr"], f["train_end"], **got
            )


class ShardTrainer:
    """A worker's series and its side of the distributed fit protocol.

    Parameters
    ----------
    params : dict
        The :class:`RNNForecaster` parameters (``get_params()``).
    loaders : list of callable
        Each returns one partition of the long frame (whole series).
    keep_in_memory : bool
        True: the partitions are read once, concatenated into one piece and
        kept (with one worker, exactly the in-process fit). False: each
        partition is a piece, read again whenever it is needed and dropped
        after (memory bounded by the largest partition).
    first_piece : int
        The number of this worker's first piece in the collection (its first
        partition's): the pieces' conformal samples draw their keys by it
        (:func:`~tsrnn.evaluation.conformal.pool_keys`).
    """

    def __init__(
        self, params: dict, loaders, keep_in_memory: bool = True, first_piece: int = 0
    ):
        self.params = dict(params)
        if self.params.get("references") == "learned":
            raise ValueError(
                "references='learned' is not offered over shards (each shard's "
                "coefficients would need their own optimizer state); use "
                "references='auto'"
            )
        self.first_piece = int(first_piece)
        if keep_in_memory:
            loaders = [_concatenated(list(loaders))]
        self.pieces = [_Piece(ld, self.params, keep_in_memory) for ld in loaders]
        self.keep = keep_in_memory
        self._epoch = None
        self._disk = None  # out of core: the pieces' scaled rows, on local disk
        # out of core, after the fit: the directory of the pieces' forecasters
        self._models = None
        self._layout = None
        self._pooled = None  # the collection's residuals (scores, errors)

    # ------------------------------------------------------------ first pass
    def describe(self) -> list:
        """Per piece: its series ids, lengths and what must agree across shards."""
        out = []
        for p in self.pieces:
            data = p.data()
            s = data.schema
            out.append(
                dict(
                    ids=list(s.ids) if s.ids is not None else [None],
                    lengths=np.asarray(data.lengths),
                    freq=str(s.freq),
                    n_targets=int(s.n_targets),
                    n_covariates=int(s.n_covariates),
                )
            )
        return out

    def hold_out(self, n_series: int) -> dict:
        """The held-out tails of every piece; the training lengths.

        ``n_series``: the size of the whole collection (the held-out tails of
        ``validation_fraction="auto"`` read it). Returns the training rows of
        each series and whether ``season_length`` is detected from the data
        (then :meth:`autocorrelation_sums` over the longest lag searched).
        """
        lengths, detects = [], False
        for p in self.pieces:
            data, m = p.data(), p.model
            strategy = strategy_of(m)
            p.n_val = hold_out(
                data,
                m._validation_fraction(),
                strategy.horizon_out(m.horizon),
                horizon=int(m.horizon),
                n_series=n_series,
            )
            lengths.append(np.asarray(data.lengths - p.n_val))
            detects = detects or m._detects_seasons(data.schema.freq)
        return dict(train_lengths=np.concatenate(lengths), detects=detects)

    def _train_end(self, p: _Piece, data):
        return data.indptr[:-1] + data.lengths - p.n_val

    def autocorrelation_sums(self, max_lag: int, changes: bool = False):
        """``(total, n_obs)`` of :func:`.auto.autocorrelation_sums` over pieces.

        ``changes``: of the series' first differences (where the levels show
        no season, :func:`.auto.detect_seasons` searches them).
        """
        total, n_obs = np.zeros(int(max_lag) + 1), 0
        for p in self.pieces:
            data = p.data()
            y, ptr, end = data.y, data.indptr, self._train_end(p, data)
            if changes:
                y, ptr, end = auto._changes(y, ptr, end)
            t, n = auto.autocorrelation_sums(y, ptr, end, int(max_lag))
            total, n_obs = total + t, n_obs + n
        return total, n_obs

    def statistics(self, season_length=None) -> dict:
        """The ``"auto"`` rules' statistics of the training rows, merged over pieces.

        ``season_length``: the seasons detected from the whole collection's
        merged autocorrelation (``season_length="auto"`` without a
        frequency); None: resolved from the parameters and the frequency.
        Call :meth:`hold_out` first.
        """
        parts = []
        for p in self.pieces:
            data, m = p.data(), p.model
            m.shared = None
            if season_length is None:
                m.season_length_ = m._resolve_season_length(
                    data, self._train_end(p, data)
                )
            else:
                m.season_length_ = tuple(int(x) for x in season_length)
            parts.append(
                m._auto_statistics(
                    data, strategy_of(m), self._train_end(p, data)
                )
            )
        return merge_auto_statistics(parts)

    # ----------------------------------------------------------- preparation
    def prepare(self, shared: dict, every_row: bool) -> dict:
        """Transforms and scaled rows of every piece; a fresh optimizer.

        ``every_row``: the refit protocol's final run (no held-out tail);
        else the selection run (tails held out). Returns the optimizer steps
        of one local epoch, whether any tail can validate, and the training
        rows.
        """
        steps = rows = 0
        has_val = False
        for p in self.pieces:
            p.model.shared = shared
            p.series = p.saved = None  # another stage: transforms refitted
            series = self._prepare(p, every_row)
            n_val = p.n_val if not every_row else np.zeros_like(p.n_val)
            if n_val.any() and not np.isnan(series.Y[~series.train_rows()]).all():
                has_val = True
            m = p.model
            T = int(m.bptt_length_)
            lanes = cut_lanes(series, T, m.batch_size) if m.stateful else None
            steps += steps_per_epoch(series, T, m.batch_size, lanes)
            rows += int(series.train_rows().sum())
            self._release(p)
        first = self.pieces[0].model
        net = first._net
        self.optimizer = make_optimizer(
            first.solver, net.size, first._learning_rate(), net.dtype
        )
        self.rng = np.random.default_rng(first._seed(offset=1))
        self.theta = np.zeros(net.size, net.dtype)
        self.grad_norms = []
        self._epoch = None
        self.every_row = every_row
        return dict(steps=steps, has_val=has_val, rows=rows)

    def _disk_dir(self) -> str:
        """The worker's local directory for this fit (out of core)."""
        if self._disk is None:
            self._disk = tempfile.TemporaryDirectory(prefix="tsrnn-shard-")
        return self._disk.name

    def _release(self, p: _Piece) -> None:
        """:meth:`_Piece.release`, parking the forecaster out of core."""
        p.release(None if self.keep else self._disk_dir())

    def _prepare(self, p: _Piece, every_row: bool):
        """The piece's scaled series (kept, read back, or rebuilt from its rows)."""
        if p.series is not None:
            return p.series
        restored = p.restore(every_row)
        if restored is not None:
            p.series = restored
            return restored
        m, data = p.model, p.data()
        strategy = strategy_of(m)
        if every_row:
            train_end = data.indptr[1:]
        else:
            train_end = data.indptr[:-1] + data.lengths - p.n_val
        layout, series, scaler = m._prepare_series(data, strategy, train_end, False)
        if getattr(m, "_layout", None) != layout:
            m._net = m._network_and_weights(
                layout, np.dtype(m.dtype).type, False, series
            )[0]
        m._layout, m._scaler = layout, scaler
        m._fit_config = fitted_config.record(m, m._fit_config_params)
        m.schema_ = data.schema
        p.series = series
        if not self.keep:
            p.save(os.path.join(self._disk_dir(), f"{id(p)}.npz"), every_row)
        return series

    def initial_weights(self) -> np.ndarray:
        """The starting weights (seeded, the head at its reference)."""
        p = self.pieces[0]
        series = self._prepare(p, self.every_row)
        m = p.model
        _, theta = m._network_and_weights(
            m._layout, np.dtype(m.dtype).type, False, series
        )
        self._release(p)
        return theta

    # -------------------------------------------------------------- training
    def train(self, theta: np.ndarray, max_windows: int | None = None) -> dict:
        """Local optimizer steps from ``theta``, at most ``max_windows`` of them.

        The steps stop at the end of this worker's epoch.

        Returns the local weights, the windows' losses and gradient norms, the
        number of targets they scored (the weight of these weights in the
        average) and whether this worker's epoch is over. A divergence
        (:class:`~tsrnn.engine.Diverged`) is returned, not raised: the
        coordinator stops every worker.
        """
        self.theta[:] = theta
        losses, norms, samples = [], [], 0.0
        try:
            while max_windows is None or len(losses) < max_windows:
                step = self._next_window()
                if step is None:
                    break
                epoch, w = step
                res = epoch.step(w)
                losses.append(res.loss)
                norms.append(res.grad_norm)
                samples += float(w.mask.sum())
        except Diverged as exc:
            self._epoch = None
            steps = None if exc.steps_done is None else self._done + exc.steps_done
            return dict(diverged=str(exc), steps_done=steps)
        return dict(
            theta=self.theta.copy(),
            losses=losses,
            norms=norms,
            samples=samples,
            finished=self._epoch is None,
        )

    def _next_window(self):
        """The next window of this worker's epoch (None: the epoch is over)."""
        if self._epoch is None:
            self._epoch = [0, None, None]  # piece, Epoch, windows
            self._done = 0  # windows of the pieces this epoch finished
        while True:
            i, epoch, windows = self._epoch
            if i >= len(self.pieces):
                self._epoch = None
                return None
            if epoch is None:
                p = self.pieces[i]
                series = self._prepare(p, self.every_row)
                m = p.model
                epoch = m._make_epoch(
                    self.theta,
                    series,
                    self.optimizer,
                    SeriesReader(m._net, m._layout),
                    False,
                )
                epoch.rng = self.rng  # one stream of draws per worker
                epoch.grad_norms = self.grad_norms
                windows = iter(epoch.begin())
                self._epoch = [i, epoch, windows]
            w = next(windows, None)
            if w is not None:
                return epoch, w
            epoch.end()
            self._done += len(epoch.losses)
            self._release(self.pieces[i])
            self._epoch = [i + 1, None, None]

    def validation_sums(self, theta: np.ndarray) -> tuple[float, float]:
        """``(num, den)`` of the validation score of ``theta`` on the tails."""
        num = den = 0.0
        for p in self.pieces:
            series = self._prepare(p, self.every_row)
            m = p.model
            _, n, d = m._validation_sums(theta, series, SeriesReader(m._net, m._layout))
            num, den = num + n, den + d
            self._release(p)
        return num, den

    # ----------------------------------------------------------- combination
    def tail_forecasts(self, theta: np.ndarray):
        """The network's and the references' forecasts on the tails, per piece.

        Reads every series to its end with ``theta`` (as the in-process fit
        does before it combines) and returns, per piece,
        :func:`.combination.tail_forecasts` (the coordinator concatenates
        them and chooses the weights).
        """
        out = []
        for p in self.pieces:
            series = self._prepare(p, self.every_row)
            m = p.model
            outputs = m._read_to_ends(SeriesReader(m._net, m._layout), theta, series)
            out.append(combination.tail_forecasts(m._layout, outputs, series))
            self._release(p)
        return out

    def tail_point_counts(self, theta: np.ndarray) -> list:
        """Per piece: its observed tail points per target, and its origins.

        Reads every series to its end with ``theta`` (as :meth:`tail_forecasts`)
        and keeps each piece's tail forecasts for :meth:`tail_points`, so that
        the coordinator can choose which points it needs (at most
        :data:`.combination.MAX_POINTS` per target over the whole collection)
        without receiving every one.
        """
        self._tails, out = [], []
        for c, t, mk, _, origins in self.tail_forecasts(theta):
            self._tails.append((c, t, mk, origins))
            n_origins = int(origins.max()) + 1 if len(origins) else 0
            out.append(((mk > 0).sum(axis=0), n_origins))
        return out

    def tail_points(self, keep) -> list:
        """Per piece and target: ``(candidates, target, origins)`` of the points
        ``keep[piece][target]`` (positions among that target's observed points,
        in order); frees what :meth:`tail_point_counts` kept."""
        out = []
        for (c, t, mk, origins), kp in zip(self._tails, keep, strict=True):
            per = []
            for j, pos in enumerate(kp):
                rows = np.flatnonzero(mk[:, j] > 0)[pos]
                per.append((c[rows, j], t[rows, j], origins[rows]))
            out.append(per)
        self._tails = None
        return out

    # ---------------------------------------------------------------- finish
    def finish(self, theta: np.ndarray, attributes: dict, last: bool = False) -> dict:
        """Read every series to its end with ``theta``; the tails' residuals.

        ``attributes``: the fitted attributes of the whole fit (curves,
        epochs, ...) every piece's forecaster takes. ``last``: the fit's
        final weights; out of core, each piece's forecaster then goes to
        local disk as soon as it is read (:meth:`_Piece.spill`), so that the
        per-series state never accumulates in the worker. Returns the
        worker's sample of the signed conformal residuals and their sampling
        keys (selection run: at most
        :func:`~tsrnn.evaluation.conformal.pool_limit` rows, merged piece by
        piece, in the pieces' order) and the validation sums of the final
        weights.
        """
        if last and not self.keep and self._models is None:
            self._models = tempfile.mkdtemp(prefix="tsrnn-models-")
            # removed with the trainer (the actor released, the worker closed)
            weakref.finalize(self, shutil.rmtree, self._models, ignore_errors=True)
        limit = pool_limit(int(self.params["horizon"]))
        errors = keys = None
        num = den = 0.0
        # the pieces share one copy of the weights and, where their layouts
        # agree (always: the same settings), one network and inference pack:
        # out of core, what a worker keeps per piece is then its series' state
        weights, first = theta.copy(), None
        for i, p in enumerate(self.pieces):
            series = self._prepare(p, self.every_row)
            m = p.model
            m.params_ = weights
            for k, v in attributes.items():
                setattr(m, k, v)
            outputs = m._read_to_ends(SeriesReader(m._net, m._layout), theta, series)
            if first is None:
                first = m
            elif first._layout == m._layout:
                m._net, m._pack_cache = first._net, first._pack_cache
            if not self.every_row:
                data = p.data()
                strategy = strategy_of(m)
                piece = self.first_piece + i  # one piece when kept in memory
                new = m._calibrate(strategy, data, outputs, series, p.n_val, piece)
                if errors is None:
                    errors, keys = m.conformal_errors_, new
                else:  # the smallest keys of the two: the sample of both
                    errors, keys = sample_pool(
                        np.concatenate([errors, m.conformal_errors_]),
                        np.concatenate([keys, new]),
                        limit,
                    )
                n, d = validation_sums(
                    m._layout,
                    outputs,
                    series,
                    absolute=m.loss_ == "absolute_error",
                    head=output_head(m),
                )
                num, den = num + n, den + d
            self._layout = m._layout
            if last and not self.keep:  # the rows dropped, the forecaster kept
                p.spill(os.path.join(self._models, f"piece-{i:05d}.pkl"))
            else:
                self._release(p)
        return dict(errors=errors, keys=keys, num=num, den=den)

    def set_conformal(self, errors: np.ndarray, note: str | None) -> None:
        """The collection's pooled signed residuals, for every piece's intervals."""
        self._pooled = pooled = (np.abs(errors), errors)
        for p in self.pieces:
            m = p.fitted()
            m.conformal_scores_, m.conformal_errors_ = pooled
            if note is not None:
                m._conformal_note = note
            p.keep_fitted(m, pooled)
            p.saved = p.n_val = None  # the fit's: a partition keeps no per-series array
        if self._disk is not None:  # the fit is over: free the worker's disk
            self._disk.cleanup()
            self._disk = None

    # ------------------------------------------------------------- forecasts
    def predict(self, horizon=None) -> pd.DataFrame:
        """Forecasts of every series of this worker (long format)."""
        return pd.concat(
            [p.fitted(self._pooled).predict(horizon) for p in self.pieces]
        )

    def layout(self):
        """What the network reads and predicts (the same on every worker)."""
        if self._layout is not None:
            return self._layout
        return self.pieces[0].model._layout

    def predict_interval(self, horizon=None, kwargs=None) -> pd.DataFrame:
        """Intervals of every series of this worker (long format)."""
        return pd.concat(
            [
                p.fitted(self._pooled).predict_interval(horizon, **(kwargs or {}))
                for p in self.pieces
            ]
        )

    def update_from(self, load) -> int:
        """:meth:`update` with the frame ``load()`` returns (read on this worker)."""
        return self.update(load())

    def update(self, frame: pd.DataFrame) -> int:
        """Advance the series of this worker present in ``frame``; rows read."""
        n = 0
        id_col = self.params["id_col"]
        for p in self.pieces:
            part = p.rows_of(frame, id_col)
            if len(part):  # a spilled forecaster is read only where rows came
                model = p.fitted(self._pooled)
                model.update(part)
                p.keep_fitted(model, self._pooled)
                n += len(part)
        return n

    def ids(self) -> list:
        """The series ids of this worker (out of core: read from the files)."""
        return [i for p in self.pieces for i in p.ids()]


def shared_statistics(call, n_series: int) -> dict:
    """The ``"auto"`` statistics of a collection spread over trainers.

    ``call(method, *args)`` calls ``method`` on every :class:`ShardTrainer`
    and returns their results in order. Three rounds: the held-out tails
    (and the training lengths), the autocorrelation sums when
    ``season_length`` is detected from the data (the longest lag searched
    read from every training length; the sums and counts add up), then the
    merged statistics of every ``"auto"`` rule under the resolved seasons
    (``"season_length"`` in the result).
    """
    held = call("hold_out", n_series)
    season_length = None
    if any(h["detects"] for h in held):
        lengths = np.concatenate([h["train_lengths"] for h in held])
        max_lag = auto.season_max_lag(lengths)
        seasons = ()
        # the levels first, then (none found) the changes, as detect_seasons
        for changes, repeats in ((False, 1), (True, auto.CHANGE_REPEATS)):
            if max_lag < 2 or seasons:
                break
            sums = call("autocorrelation_sums", max_lag, changes)
            total, n_obs = sums[0]
            for t, n in sums[1:]:
                total, n_obs = total + t, n_obs + n
            r = total / n_obs if n_obs else np.zeros(max_lag + 1)
            seasons = auto.seasons_from_autocorrelation(r, n_obs, max_lag, repeats)
        season_length = tuple(int(m) for m in (seasons or (1,)))
    return merge_auto_statistics(call("statistics", season_length))


def _one_blas_thread(method):
    """Run ``method`` on one BLAS thread, as ``RNNForecaster.fit`` trains."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return method(*args, **kwargs)

    return wrapper


for _name in ("hold_out", "autocorrelation_sums", "statistics", "prepare",
              "initial_weights", "train", "validation_sums", "tail_forecasts",
              "tail_point_counts",
              "finish", "update", "update_from"):
    setattr(ShardTrainer, _name, _one_blas_thread(getattr(ShardTrainer, _name)))


def _bounds(ids):
    """``(smallest, largest)`` of ids that order as they compare (numbers,
    strings), else None (mixed types, NaN)."""
    try:
        if any(i != i for i in ids):  # NaN: min and max would skip it
            return None
        lo, hi = min(ids), max(ids)
        return (lo, hi) if lo <= hi else None
    except (TypeError, ValueError):
        return None


def _within(col: pd.Series, lo, hi):
    """Which entries of ``col`` lie in ``[lo, hi]`` (bool array), or None
    where that is not decidable by comparison (categories, mixed types)."""
    if isinstance(col.dtype, pd.CategoricalDtype):  # ordered by the categories
        return None
    try:
        near = ((col >= lo) & (col <= hi)).to_numpy(dtype=bool, na_value=False)
    except (TypeError, ValueError):
        return None
    return near


def _concatenated(loaders):
    def load():
        frames = [ld() for ld in loaders]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    return load
