"""Truncated BPTT: the series as the network reads them, cut into lanes and windows.

Training (``docs/MATH.md``, "Truncated BPTT with carried state") walks the
training rows of every series in windows of ``bptt_length`` steps. With
``stateful=True`` the rows are cut into ``batch_size`` contiguous streams
("lanes", :func:`cut_lanes`) and the state is carried from one window of a
lane to the next (reset where a lane starts a new piece); with
``stateful=False`` every window is drawn at random and read from a zero state
after a burn-in (:func:`random_windows`).

Everything here is a pure function of :class:`ScaledSeries` (the frozen
description of the stacked, scaled rows and where training stops), the
:class:`~.features.FeatureLayout` and a random generator: the estimator calls
them, nothing here keeps state.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ...engine import DivergenceGuard
from .auto import auto_validation_rows
from .features import (
    RANGE_BLOCK,
    FeatureLayout,
    gather,
    gather_features,
    gather_targets,
)

#: Most lanes ``batch_size="auto"`` makes, and fewest windows per epoch it keeps.
AUTO_MAX_LANES = 32
AUTO_MIN_WINDOWS = 16

#: Bytes of gathered features a fit keeps from one epoch (or validation pass)
#: to the next, where they cannot change (stateful windows and batched reads of
#: a collection without missing targets). On a short collection gathering the
#: same windows again every epoch was a fifth of the fit (M3 other: 0.26 of
#: 1.2 s); a long one gathers a window's worth at a time, as before.
FEATURE_CACHE_BYTES = 64 * 2**20


@dataclass(frozen=True, eq=False)
class ScaledSeries:
    """The stacked series as the network reads them, and where training stops.

    Built once per ``fit`` (or re-read of the series); the arrays are shared,
    never copied, and only :attr:`inputs` is written (the training loop imputes
    missing inputs into it).

    Attributes
    ----------
    Y : ndarray of shape (N, n_targets)
        Scaled targets, NaN where missing (what the loss and references read).
    inputs : ndarray of shape (N, n_targets)
        What the network reads as targets: ``Y`` with its gaps filled (zeros,
        then the model's own one-step estimates).
    Z : ndarray of shape (N, n_z)
        Scaled covariates and calendar features, known in advance.
    indptr : ndarray of shape (n_series + 1,)
        Series ``i`` is rows ``indptr[i]:indptr[i + 1]``.
    train_end_series : ndarray of shape (n_series,)
        First held-out row of each series (its end when nothing is held out).
    start, end, train_end : ndarray of shape (N,)
        The same per row: first row, one past the last row and first held-out
        row of the row's series (what :func:`~.features.gather` reads).
    refs : ndarray of shape (N, n_targets, n_refs, 3) or None
        The statistical references' forecast lines at every row
        (:mod:`.references`); None without references.
    weights : ndarray of shape (n_series, n_targets) or None
        Each series' (target's) weight in the training loss
        (:func:`.auto.mase_weights`); None: every target weighs 1.
    tail_weights : ndarray of shape (n_series, n_targets) or None
        The same in the tails' score and the combination's choice; None: 1.
    """

    Y: np.ndarray
    inputs: np.ndarray
    Z: np.ndarray
    indptr: np.ndarray
    train_end_series: np.ndarray
    start: np.ndarray
    end: np.ndarray
    train_end: np.ndarray
    refs: np.ndarray | None = None
    weights: np.ndarray | None = None
    tail_weights: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        Y,
        Z,
        indptr,
        train_end_series=None,
        inputs=None,
        refs=None,
        weights=None,
        tail_weights=None,
    ) -> ScaledSeries:
        """The rows of stacked series; ``train_end_series`` None holds nothing out.

        ``inputs`` defaults to ``Y`` with its gaps set to 0.
        """
        lengths = np.diff(indptr)
        if train_end_series is None:
            train_end_series = indptr[1:]
        if inputs is None:
            inputs = np.where(np.isnan(Y), 0.0, Y).astype(Y.dtype)
        return cls(
            Y=Y,
            inputs=inputs,
            Z=Z,
            indptr=indptr,
            train_end_series=train_end_series,
            start=np.repeat(indptr[:-1], lengths),
            end=np.repeat(indptr[1:], lengths),
            train_end=np.repeat(train_end_series, lengths),
            refs=refs,
            weights=weights,
            tail_weights=tail_weights,
        )

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.indptr) - 1

    @property
    def has_gaps(self) -> bool:
        """Whether any target is missing (the inputs then need imputing)."""
        return bool(np.isnan(self.Y).any())

    def series_rows(self, s: int) -> np.ndarray:
        """Row numbers of series ``s``."""
        return np.arange(self.indptr[s], self.indptr[s + 1])

    def train_rows(self) -> np.ndarray:
        """Mask of the rows trained on (not held out)."""
        return np.arange(len(self.Y)) < self.train_end

    def gather(self, layout: FeatureLayout, rows):
        """:func:`~.features.gather` of ``rows`` on the training rows' targets.

        Inputs, head extras, targets and target mask, the targets stopping at
        each series' first held-out row.
        """
        return gather(
            layout,
            self.inputs,
            self.Z,
            self.start,
            self.end,
            rows,
            limit=self.train_end,
            Y_target=self.Y,
            refs=self.refs,
        )


@dataclass(frozen=True, eq=False)
class RowFeatures:
    """The inputs and head extras of every row of a :class:`ScaledSeries`.

    Training windows and the validation and final passes all read the same
    rows' inputs and extras, each gathered by :func:`~.features.gather` in its
    own shape (windows of lanes, steps of same-length series); every row's
    values depend on that row alone, so they are gathered once here, in the
    network's dtype, and taken by row number (:func:`row_features`).
    """

    x: np.ndarray  # (N, n_inputs)
    extra: np.ndarray  # (N, n_extra)

    def take(self, rows):
        """``(x, extra)`` of ``rows`` (any shape, ``-1``: padding, zeros), as
        :func:`~.features.gather` gives them, cast to the network's dtype."""
        r = rows.reshape(-1)
        pad = r < 0
        if not pad.any():
            return self.x[rows], self.extra[rows]
        rr = np.where(pad, 0, r)
        x, extra = self.x[rr], self.extra[rr]
        x[pad] = 0.0
        extra[pad] = 0.0
        return (
            x.reshape(rows.shape + (x.shape[1],)),
            extra.reshape(rows.shape + (extra.shape[1],)),
        )


#: :func:`row_features` per series: ``(layout, dtype, RowFeatures)``.
_ROW_FEATURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def row_features(layout: FeatureLayout, series: ScaledSeries):
    """The :class:`RowFeatures` of ``series`` (None where they cannot be kept).

    Kept while ``series`` lives, for one ``layout`` at a time, where its
    inputs cannot change (no missing target: nothing is imputed in place)
    and the table fits in :data:`FEATURE_CACHE_BYTES`; built a block of
    :data:`~.features.RANGE_BLOCK` rows at a time. The values are those
    :func:`~.features.gather` gives (``Y`` the inputs, ``Y_target`` the
    targets, the references' lines), cast to the targets' dtype.
    """
    dt = series.Y.dtype
    cached = _ROW_FEATURES.get(series)
    if cached is not None and cached[0] is layout and cached[1] == dt:
        return cached[2]
    n = len(series.Y)
    if window_bytes(layout, n, dt) > FEATURE_CACHE_BYTES or series.has_gaps:
        return None
    x = np.empty((n, layout.n_inputs), dt)
    extra = np.empty((n, layout.n_extra), dt)
    for a in range(0, n, RANGE_BLOCK):
        rows = np.arange(a, min(n, a + RANGE_BLOCK))
        xa, ea = gather_features(
            layout,
            series.inputs,
            series.Z,
            series.start,
            series.end,
            rows,
            Y_target=series.Y,
            refs=series.refs,
        )
        x[rows] = xa
        extra[rows] = ea
    table = RowFeatures(x, extra)
    _ROW_FEATURES[series] = (layout, dt, table)
    return table


def hold_out(
    data, validation_fraction, horizon_out, horizon=None, n_series=None
) -> np.ndarray:
    """Rows held out at the end of each series (validation, calibration).

    ``floor(length * validation_fraction)`` rows (``"auto"``:
    :func:`.auto.auto_validation_rows` for ``horizon``), or none where that is
    too few for one target (``horizon_out + 1``). Raises when no series is
    long enough to train on, or its training rows hold no observation.
    ``n_series``: the size of the whole collection when ``data`` is one shard
    of it (``"auto"`` reads it).
    """
    ho = horizon_out
    lengths = data.lengths
    if isinstance(validation_fraction, str):  # "auto"
        n_val = auto_validation_rows(
            lengths, ho if horizon is None else horizon, n_series
        )
    else:
        n_val = np.floor(lengths * validation_fraction).astype(np.int64)
    n_val = np.where(n_val >= ho + 1, n_val, 0)
    train_len = lengths - n_val
    need = ho + 1  # one step plus the ho values that follow it
    if train_len.max() < need:
        raise ValueError(
            f"the series are too short to train on: the longest training part "
            f"has {int(train_len.max())} row(s), but "
            + (f"horizon={ho} needs" if ho > 1 else "training needs")
            + f" at least {need} (one step and the {ho} value(s) after it); "
            "pass longer series, lower horizon (or use strategy='recursive') "
            "or lower validation_fraction"
        )
    train_end = np.repeat(data.indptr[:-1] + train_len, lengths)
    if np.isnan(data.y[np.arange(len(data.y)) < train_end]).all():
        raise ValueError(
            "y has no observed (non-NaN) values in its training part, so there "
            "is nothing to learn from; pass observations (NaN only marks missing "
            "steps)"
        )
    return n_val


@dataclass(frozen=True)
class Window:
    """One training window, time-major: ``(T, B, features)``."""

    x: np.ndarray  # network inputs
    extra: np.ndarray  # the head's known-future features
    target: np.ndarray  # (T, B, n_outputs), 0 where masked
    mask: np.ndarray  # 1 where a target counts in the loss
    reset: np.ndarray | None  # (B,) lanes that start a new piece; None: stateless
    # the mask's sum (the step's n_samples) where the mask is final at
    # creation (stateful windows, kept between epochs); None: sum it
    mask_sum: float | None = None
    rows: np.ndarray | None = None  # (T, B) the rows gathered (-1: padding)


@dataclass(frozen=True)
class Lanes:
    """Training rows cut into lanes of window-aligned pieces (:func:`cut_lanes`)."""

    rows: np.ndarray  # (B, n_steps) row numbers, -1 = padding
    reset: np.ndarray  # (B, n_windows) True where a lane starts a new piece

    @property
    def n_lanes(self) -> int:
        """Parallel streams per window."""
        return self.rows.shape[0]

    @property
    def window(self) -> int:
        """Steps per window (:func:`window_length`)."""
        return self.rows.shape[1] // self.reset.shape[1]


def window_length(series: ScaledSeries, bptt_length: int) -> int:
    """Steps per training window: ``bptt_length``, at most the longest training part.

    A series shorter than ``bptt_length`` is trained on as one window (full
    BPTT), padded to the window; past the longest series the padding is all a
    longer window would add (masked steps after every target, which change
    neither the loss nor the gradient), so windows never outgrow the data:
    ``bptt_length=10**7`` on 60 rows allocates windows of 60 steps, not 10**7.
    The number of lanes still follows ``bptt_length`` (:func:`n_lanes`).
    """
    n_tr = series.train_end_series - series.indptr[:-1]
    return int(max(1, min(int(bptt_length), int(n_tr.max()))))


def n_lanes(total_rows: int, bptt_length: int, batch_size) -> int:
    """Parallel streams per window for ``total_rows`` training rows.

    ``batch_size="auto"``: as many as leave at least ``AUTO_MIN_WINDOWS``
    windows (optimizer steps) per epoch, at most ``AUTO_MAX_LANES``.
    """
    T = int(bptt_length)
    if batch_size == "auto":
        return int(max(1, min(AUTO_MAX_LANES, total_rows // (T * AUTO_MIN_WINDOWS))))
    return int(max(1, min(batch_size, total_rows // T or 1)))


def steps_per_epoch(series: ScaledSeries, bptt_length: int, batch_size, lanes) -> int:
    """Optimizer steps one epoch makes (windows per lane, or random batches)."""
    T = int(bptt_length)
    if lanes is not None:
        return int(lanes.rows.shape[1] // T)
    n_tr = int((series.train_end_series - series.indptr[:-1]).sum())
    return max(1, n_tr // (n_lanes(n_tr, T, batch_size) * T))


def cut_lanes(series: ScaledSeries, bptt_length: int, batch_size) -> Lanes:
    """Cut the training rows into lanes of window-aligned pieces.

    Each series' training rows become equal pieces of at most one lane's share
    (the remainder dropped from the oldest end); the pieces, longest first,
    go to the least loaded lane, each starting on a window boundary.
    """
    T = int(bptt_length)
    first = series.indptr[:-1]
    n_tr = series.train_end_series - first
    total = int(n_tr.sum())
    B = n_lanes(total, T, batch_size)
    T = window_length(series, T)
    seg = max(T, -(-total // B))
    pieces = []
    for s in range(len(first)):
        n = int(n_tr[s])
        if n < 2:
            continue
        k = -(-n // seg)
        # equal pieces, the remainder dropped from the oldest end
        size = n // k
        off = int(first[s]) + n - k * size
        for j in range(k):
            pieces.append((off + j * size, size))
    pieces.sort(key=lambda p: -p[1])
    loads = [0] * B
    lane_pieces = [[] for _ in range(B)]
    for p in pieces:
        # the least loaded lane, the first of equals (as np.argmin)
        i = min(range(B), key=loads.__getitem__)
        lane_pieces[i].append(p)
        loads[i] += -(-p[1] // T) * T
    lane_pieces = [lp for lp in lane_pieces if lp]
    B = len(lane_pieces)
    n_steps = max(sum(-(-size // T) * T for _, size in lp) for lp in lane_pieces)
    rows = np.full((B, n_steps), -1, np.int64)
    reset = np.zeros((B, n_steps // T), bool)
    for i, lp in enumerate(lane_pieces):
        pos = 0
        for begin, size in lp:
            rows[i, pos : pos + size] = np.arange(begin, begin + size)
            reset[i, pos // T] = True
            pos += -(-size // T) * T
    return Lanes(rows, reset)


def window_bytes(layout: FeatureLayout, n_rows: int, dtype) -> int:
    """Bytes of the gathered features of ``n_rows`` training rows (a Window's)."""
    per_row = layout.n_inputs + layout.n_extra + 2 * layout.n_outputs
    return int(n_rows) * per_row * np.dtype(dtype).itemsize


def _window(layout: FeatureLayout, series: ScaledSeries, rows, reset) -> Window:
    dt = series.Y.dtype
    table = row_features(layout, series)
    if table is not None:  # the same values, gathered once for every window
        x, extra = table.take(rows)
        target, mask = gather_targets(
            layout, series.Y, series.start, series.end, rows, limit=series.train_end
        )
    else:
        x, extra, target, mask = series.gather(layout, rows)
        x, extra = np.ascontiguousarray(x, dt), np.ascontiguousarray(extra, dt)
    mask = mask.astype(dt)
    if series.weights is not None:
        mask *= row_weights(series, rows, mask.shape[-1])
    return Window(
        x, extra, target.astype(dt), mask, reset, _mask_sum(mask, reset), rows
    )


def row_weights(series: ScaledSeries, rows, n_outputs: int) -> np.ndarray:
    """The loss weight of every target of ``rows`` ``(*rows.shape, n_outputs)``.

    Each row's series' weights (:attr:`ScaledSeries.weights`, per target)
    repeated over the forecast steps (the outputs are step-major); padding
    (``-1``) weighs 0.
    """
    r = np.asarray(rows)
    s = np.searchsorted(series.indptr, np.where(r < 0, 0, r), side="right") - 1
    w = series.weights[s]  # (*rows.shape, k)
    w = np.tile(w, n_outputs // w.shape[-1])
    w[r < 0] = 0.0
    return w.astype(series.Y.dtype, copy=False)


def _mask_sum(mask, reset):
    """``float(mask.sum())`` of a stateful window (``reset`` given), else None."""
    return None if reset is None else float(mask.sum())


def stateful_windows(
    layout: FeatureLayout, series: ScaledSeries, lanes: Lanes, bptt_length: int
) -> Iterator[Window]:
    """One epoch of consecutive windows along the lanes.

    The windows are ``lanes.window`` steps long: ``bptt_length``, or less when
    every series is shorter (:func:`window_length`).
    """
    T = lanes.window
    for w in range(lanes.rows.shape[1] // T):
        rows = lanes.rows[:, w * T : (w + 1) * T].T
        yield _window(layout, series, rows, lanes.reset[:, w])


def random_windows(
    layout: FeatureLayout,
    series: ScaledSeries,
    rng: np.random.Generator,
    bptt_length: int,
    batch_size,
) -> Iterator[Window]:
    """One epoch of random windows, each a burn-in plus ``bptt_length`` steps.

    The burn-in (``bptt_length`` steps, fewer at a series' start) feeds the
    zero initial state but not the loss. Series are drawn in proportion to
    their training rows.
    """
    T = burn = int(bptt_length)
    indptr = series.indptr
    n_tr = series.train_end_series - indptr[:-1]
    ok = np.flatnonzero(n_tr >= 2)
    weights = n_tr[ok] / n_tr[ok].sum()
    B = n_lanes(int(n_tr.sum()), T, batch_size)
    n_batches = max(1, int(n_tr.sum()) // (B * T))
    T = burn = window_length(series, T)
    L = burn + T
    steps = np.arange(L)
    for _ in range(n_batches):
        s = rng.choice(ok, size=B, p=weights)
        span = np.minimum(L, n_tr[s])
        begin = indptr[s] + (rng.random(B) * (n_tr[s] - span + 1)).astype(np.int64)
        rows = begin[None, :] + steps[:, None]
        rows = np.where(steps[:, None] < span[None, :], rows, -1)
        window = _window(layout, series, rows, None)
        window.mask[: L - T] = 0.0  # burn-in steps feed the state but not the loss
        yield window


class Epoch:
    """One epoch of truncated BPTT per call: the ``run_epoch`` of ``run_epochs``.

    Stateful (``lanes`` given): the windows of every lane in order, the state
    carried from window to window and zeroed where a lane starts a new piece;
    stateless (``lanes`` None): random windows from a zero state. Every epoch
    starts from a zero state, after ``impute`` has refreshed the missing inputs
    with the current weights. Updates ``theta`` in place.

    Attributes
    ----------
    grad_norms : list of float
        Mean gradient norm (before clipping) per epoch.
    dh_norms : list of ndarray
        ``||dL/dh_t||`` of every window of the last epoch.
    """

    def __init__(
        self,
        net,
        theta,
        optimizer,
        layout: FeatureLayout,
        series: ScaledSeries,
        lanes: Lanes | None,
        *,
        bptt_length,
        batch_size,
        loss_fn,
        rng,
        step_options: dict,
        impute,
        grad_norms: list,
        learned=None,
        readers=(),
    ):
        self.net, self.theta, self.optimizer = net, theta, optimizer
        self.layout, self.series, self.lanes = layout, series, lanes
        self.T, self.batch_size = int(bptt_length), batch_size
        self.loss_fn, self.rng, self.step_options = loss_fn, rng, step_options
        self.impute = impute
        self.grad_norms = grad_norms
        self.guard = DivergenceGuard()  # one per fit: its reference spans epochs
        self.dh_norms = []
        self.n_lanes = lanes.n_lanes if lanes is not None else 1
        # steps per window actually trained: bptt_length, at most the longest
        # series (window_length)
        self.window = (
            lanes.window if lanes is not None else window_length(series, self.T)
        )
        self.carried = net.stack.zero_state(self.n_lanes)
        self._kept = None  # the stateful windows, once gathered (_windows)
        # the loss of predicting 0 on each kept window (the divergence rule's
        # reference), by id: their targets and mask never change, so it is
        # computed in the first epoch only
        self._zero_loss = {}
        # references="learned" (.learned.LearnedReferences): the coefficients'
        # gradient accumulated over the epoch, one step at its end; the
        # readers whose kept passes the new lines make stale
        self.learned = learned
        self.readers = tuple(readers)

    def _windows(self):
        if self.lanes is None:  # stateless: every window from a zero state
            return random_windows(
                self.layout, self.series, self.rng, self.T, self.batch_size
            )
        if self._kept is not None:
            return iter(self._kept)
        windows = stateful_windows(self.layout, self.series, self.lanes, self.T)
        # the same rows every epoch; their features change only where missing
        # inputs are imputed again with the current weights
        size = window_bytes(self.layout, self.lanes.rows.size, self.series.Y.dtype)
        if self.series.has_gaps or size > FEATURE_CACHE_BYTES:
            return windows
        # kept writable: a read-only array is another type to Numba, which
        # would compile (and cache) every kernel a second time for it; nothing
        # downstream writes a window (the fits with and without the cache give
        # the same bits, tests/test_determinism.py)
        self._kept = list(windows)
        return iter(self._kept)

    def __call__(self) -> float:
        """Train one epoch; its mean loss."""
        windows = self.begin()
        for w in windows:
            self.step(w)
        return self.end()

    # One epoch in parts, for a caller that interleaves other work between
    # windows (tsrnn.distributed averages the weights of several shards).
    def begin(self):
        """Start an epoch: refresh the imputed inputs; the epoch's windows."""
        if self.series.has_gaps:
            self.impute(self.theta, self.series)
        self.losses, self._gn, self._dh = [], [], []
        if self.learned is not None:
            self.learned.begin()
        return self._windows()

    def state_for(self, w: Window):
        """The state window ``w`` starts from (None: a zero state)."""
        if w.reset is None:
            return None
        # carried, zeroed where a lane starts a new piece (most windows: none)
        if w.reset.any():
            self.carried[:, :, w.reset] = 0.0
        return self.carried

    def step(self, w: Window):
        """One optimizer step on window ``w`` (in place on ``theta``)."""
        kept = self._kept is not None
        res = self.net.train_step(
            self.theta,
            self.optimizer,
            w.x,
            w.target,
            w.mask,
            self.loss_fn,
            self.state_for(w),
            w.extra,
            rng=self.rng,
            n_samples=(float(w.mask.sum()) if w.mask_sum is None else w.mask_sum)
            or 1.0,
            **self.step_options,
            extra_grad=self.learned is not None,
            zero_loss=self._zero_loss.get(id(w)) if kept else None,
        )
        if kept:
            self._zero_loss[id(w)] = res.zero_loss
        self.record(w, res)
        if self.learned is not None and res.finite:
            self.learned.accumulate(w.rows, res.extra_grad)
        return res

    def record(self, w: Window, res) -> None:
        """Check a step's result (:class:`DivergenceGuard`), carry its state."""
        self.guard.check(res, len(self.losses) + 1)
        if w.reset is not None:
            self.carried[...] = res.state
        self.losses.append(res.loss)
        self._gn.append(res.grad_norm)
        self._dh.append(res.dh_norm)

    def end(self) -> float:
        """Close the epoch: its curves, a zero state; its mean loss."""
        self.grad_norms.append(float(np.mean(self._gn)))
        self.dh_norms = self._dh
        self.carried[...] = 0.0  # every epoch starts from a zero state
        if self.learned is not None:
            self.refresh_references(step=True)
        return float(np.mean(self.losses))

    def refresh_references(self, step: bool = False) -> None:
        """``references="learned"``: (one step of the coefficients, then) their
        lines in every row, the kept windows and the readers' passes."""
        windows = self._kept or ()
        if step:
            self.learned.step(windows, self.readers)
        else:
            self.learned.refresh(windows, self.readers)


def windows_after(layout: FeatureLayout, Y, Z, keep: int, bptt_length: int, refs=None):
    """Windows over the new rows of one series (``partial_fit``), in order.

    ``Y`` and ``Z`` are the series' kept history (``keep`` rows, already read
    by the state) followed by the new rows; windows start at the first new row
    and hold one series (batch of 1); ``refs``: the references' lines of
    the same rows. Yields ``(x, extra, target, mask)``,
    skipping windows without an observed target.
    """
    n = len(Y)
    inputs = np.where(np.isnan(Y), 0.0, Y)
    start, end = np.zeros(n, np.int64), np.full(n, n, np.int64)
    T = int(bptt_length)
    for w0 in range(keep, n - 1, T):
        rows = np.arange(w0, min(w0 + T, n - 1))[:, None]
        x, ex, tg, mk = gather(
            layout, inputs, Z, start, end, rows, Y_target=Y, refs=refs
        )
        if mk.any():
            yield np.ascontiguousarray(x), np.ascontiguousarray(ex), tg, mk
