"""Reading series through a trained network: full passes, imputation, the ends.

After (and during) training the forecaster reads whole series from a zero
state: to score the held-out tails, to fill missing inputs with the model's own
one-step estimates, and to end at the state ``predict`` forecasts from
(:class:`SeriesEnds`). A series without missing inputs is read by the batched
scan (same-length series together, ``GROUP`` at a time, in chunks of
``CHUNK`` steps); a series with gaps runs through the stream kernel, which
fills each missing input with the previous step's forecast (the feedback map
of :class:`~.features.FeatureLayout`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from ...engine import InferencePack, Network, StepwiseHead
from .features import RANGE_BLOCK, FeatureLayout, gather, gather_ranges
from .training import FEATURE_CACHE_BYTES, ScaledSeries, row_features

CHUNK = 4096  # steps per batched pass over a long series (bounded memory)
GROUP = 256  # series of one length read together by a full pass


@dataclass
class SeriesEnds:
    """Where every series ends: what ``predict`` and ``update`` start from.

    Attributes
    ----------
    state : ndarray of shape (n_states, L, S, H)
        The recurrent state after each series' last row.
    top : ndarray of shape (S, H)
        The top layer's output there (what the head reads).
    tail_y : ndarray of shape (S, history, n_targets)
        The last scaled targets (NaN where missing or before the start): the
        head's reference values.
    tail_z : ndarray of shape (S, history, n_z)
        The known features of the same rows.
    level : ndarray of shape (S, n_targets)
        The last observed scaled level per target (NaN: none yet).
    """

    state: np.ndarray
    top: np.ndarray
    tail_y: np.ndarray
    tail_z: np.ndarray
    level: np.ndarray


def last_observed(Y: np.ndarray, before=None) -> np.ndarray:
    """Last non-NaN row of ``Y`` (n, k) per target, else ``before`` (or NaN)."""
    seen = ~np.isnan(Y)
    idx = len(Y) - 1 - np.argmax(seen[::-1], axis=0)  # (k,)
    lv = Y[idx, np.arange(Y.shape[1])] if len(Y) else np.full(Y.shape[1], np.nan)
    fallback = np.full(Y.shape[1], np.nan) if before is None else before
    return np.where(seen.any(axis=0), lv, fallback)


# Declared mirror (form only): a two-argument constructor and its docstring, as
# engine.network.Network's; unrelated classes.
class SeriesReader:
    """Runs a network over whole series (see the module docstring).

    Parameters
    ----------
    network : Network
    layout : FeatureLayout
    """

    def __init__(self, network: Network, layout: FeatureLayout):
        self.net = network
        self.layout = layout
        self.hidden_size = network.stack.hidden_size
        # the batched passes' gathered inputs, kept between calls of read_all
        # on the same rows (the validation pass of every epoch): (key, passes)
        self._kept = None

    def run_rows(
        self,
        theta,
        pack,
        inputs,
        Z,
        start,
        end,
        rows,
        state,
        top,
        Y_target=None,
        last_out=None,
        refs=None,
        decode=None,
    ):
        """Run the network over ``rows`` (one series, in order) from ``state``.

        ``decode`` ``(len(rows),)`` bool: the rows whose outputs are needed
        (an encoder-decoder forecasts from those only, NaN elsewhere; a
        stack and its head ignore it).

        NaN in ``inputs`` is filled by the network's own one-step estimates
        (stream kernel; ``last_out`` ``(1, n_outputs)``: the forecast made at
        the row before ``rows[0]``, zeros if omitted); without NaN the batched
        scan runs in chunks. ``state`` (n_states, L, 1, H) and ``top`` (1, H)
        are updated in place.

        Returns
        -------
        ndarray of shape (len(rows), n_outputs)
            Head outputs at every row.
        """
        lay, net = self.layout, self.net
        dt = net.dtype
        n = len(rows)
        out = np.empty((n, lay.n_outputs), dtype=dt)
        has_nan = bool(np.isnan(inputs[rows]).any())
        for a in range(0, n, CHUNK):
            r = rows[a : a + CHUNK]
            x, ex, _, _ = gather(
                lay, inputs, Z, start, end, r, Y_target=Y_target, refs=refs
            )
            x = np.ascontiguousarray(x[:, None, :], dt)
            ex = np.ascontiguousarray(ex[:, None, :], dt)
            # with differencing the first row's input is a change from the row
            # before ``rows``: missing when that row was, though ``rows`` are not
            dec = None if decode is None else decode[a : a + len(r), None]
            missing = has_nan or np.isnan(x).any()
            if hasattr(net, "fill_missing"):
                # an encoder-decoder: its stand-in for the step's forecast is
                # the reference value, read without the recurrence
                if missing:
                    x = net.fill_missing(x, ex, last_out)
                last_out = net.head.forward(None, None, ex[-1])[0]
                missing = False
            if missing:
                if last_out is None:
                    last_out = np.zeros((1, lay.n_outputs), dt)
                o = pack.run(state, x, ex, lay.feedback_map, last_out, top)
            else:
                o, st, cache = net.forward(
                    theta, x, state, ex, keep_cache=False, decode=dec
                )
                state[...] = st
                top[...] = cache.last_output
            out[a : a + len(r)] = o[:, 0]
        return out

    def impute(self, theta, series: ScaledSeries) -> None:
        """Fill missing inputs (``series.inputs``) with the model's own estimates."""
        pack = InferencePack(self.net, theta)
        Y, inputs = series.Y, series.inputs
        k = Y.shape[1]
        for s in range(series.n_series):
            rows = series.series_rows(s)
            if not np.isnan(Y[rows]).any():
                continue
            state = self.net.stack.zero_state(1)
            top = np.zeros((1, self.hidden_size), Y.dtype)
            out = self.run_rows(
                theta,
                pack,
                Y.copy(),
                series.Z,
                series.start,
                series.end,
                rows,
                state,
                top,
                Y_target=Y,
                refs=series.refs,
                # the estimates read: the rows before a missing one
                decode=np.append(np.isnan(Y[rows[1:]]).any(axis=1), False),
            )
            miss = np.isnan(Y[rows])
            # the first step's value as the kernel feeds it back (.features)
            lay = self.layout
            first = out[:-1, : k * lay.n_params].reshape(-1, k, lay.n_params)
            first = first[:, :, lay.point_param]
            if lay.feedback_link:
                first = np.logaddexp(0.0, first) + 1e-6
            est = np.vstack([np.zeros((1, k)), first])
            fill = inputs[rows]
            if self.layout.relative:
                # the estimates are changes from the step before, which may
                # itself be filled: walk the missing steps in order
                for i, j in zip(*np.nonzero(miss), strict=True):
                    fill[i, j] = (fill[i - 1, j] if i else 0.0) + est[i, j]
            else:
                fill[miss] = est[miss]
            inputs[rows] = fill

    def read_all(
        self, theta, pack, inputs, series: ScaledSeries, Y_target=None,
        decode_from=None,
    ):
        """Run every series from a zero state to its end.

        ``pack`` (an :class:`~tsrnn.engine.InferencePack` of ``theta``) is
        read only by the series with missing inputs (the stream kernel);
        None where ``inputs`` has none. ``decode_from`` ``(n_series,)``: the first row (absolute) of each
        series whose outputs are needed (an encoder-decoder forecasts from
        those rows only; NaN before them); None: every row.

        Series of one length without missing inputs are read together, up to
        ``GROUP`` at a time, by the batched scan (one call per chunk of steps
        instead of one per series: a global model over thousands of series);
        a series with missing inputs runs alone through the stream kernel,
        which fills them with the model's own estimates.

        Returns
        -------
        outputs : list of ndarray (len_s, n_outputs), one per series
        states : ndarray (n_states, L, S, H)
        tops : ndarray (S, H)
        """
        net, lay = self.net, self.layout
        dt = net.dtype
        indptr = series.indptr
        S = series.n_series
        lengths = np.diff(indptr)
        states = net.stack.zero_state(S)
        tops = np.zeros((S, self.hidden_size), dt)
        outputs = [None] * S
        missing = np.isnan(inputs).any(axis=1)
        seen = np.concatenate([[0], np.cumsum(missing)])
        has_nan = seen[indptr[1:]] > seen[indptr[:-1]]
        for s in np.flatnonzero(has_nan):
            state = net.stack.zero_state(1)
            top = np.zeros((1, self.hidden_size), dt)
            rows_s = series.series_rows(s)
            outputs[s] = self.run_rows(
                theta,
                pack,
                inputs,
                series.Z,
                series.start,
                series.end,
                rows_s,
                state,
                top,
                Y_target=Y_target,
                refs=series.refs,
                decode=None if decode_from is None else rows_s >= decode_from[s],
            )
            states[:, :, s] = state[:, :, 0]
            tops[s] = top[0]
        clean = np.flatnonzero(~has_nan)
        passes = self._passes(inputs, series, Y_target, clean, lengths)
        for grp, rows, chunks in passes:
            G = len(grp)
            n = rows.shape[0]
            state = net.stack.zero_state(G)
            out = np.empty((n, G, lay.n_outputs), dt)
            for a, x, ex in chunks:
                r = rows[a : a + len(x)]
                dec = None if decode_from is None else r >= decode_from[grp][None, :]
                o, state, cache = net.forward(
                    theta, x, state, ex, keep_cache=False, decode=dec
                )
                out[a : a + len(x)] = o
            states[:, :, grp] = state
            tops[grp] = cache.last_output
            for j, s in enumerate(grp):
                outputs[s] = out[:, j]
        return outputs, states, tops

    def _passes(self, inputs, series: ScaledSeries, Y_target, clean, lengths):
        """The batched passes over the ``clean`` series: ``(group, rows, chunks)``.

        ``rows`` ``(n, G)``: the group's rows, step-major; ``chunks``: ``(a, x,
        extra)``, the gathered inputs of steps ``a, a + 1, ...``. Kept for the
        next call on the same arrays where they cannot change (no missing
        targets: nothing is imputed in place) and fit in
        :data:`~.training.FEATURE_CACHE_BYTES`; else gathered lazily, a chunk
        at a time (bounded memory).
        """
        key = (inputs, series, Y_target)
        if self._kept is not None and all(
            a is b for a, b in zip(self._kept[0], key, strict=True)
        ):
            return self._kept[1]
        lay = self.layout
        dt = self.net.dtype
        indptr = series.indptr
        # the inputs and extras of every row, gathered once (training.row_features)
        # where this pass reads what they hold: the inputs, or the targets when
        # no target is missing (the inputs are then the targets)
        table = None
        as_inputs = inputs is series.inputs and Y_target is series.Y
        as_targets = inputs is series.Y and (Y_target is None or Y_target is inputs)
        if dt == series.Y.dtype and (as_inputs or as_targets):
            table = row_features(lay, series)  # None where a target is missing

        def gathered():
            for n in np.unique(lengths[clean]):
                members = clean[lengths[clean] == n]
                for g0 in range(0, len(members), GROUP):
                    grp = members[g0 : g0 + GROUP]
                    rows = indptr[grp][None, :] + np.arange(n)[:, None]  # (n, G)
                    step = max(1, CHUNK // len(grp))
                    yield grp, rows, chunks(rows, step)

        def chunks(rows, step):
            for a in range(0, len(rows), step):
                if table is not None:
                    yield (a, *table.take(rows[a : a + step]))
                    continue
                x, ex, _, _ = gather(
                    lay,
                    inputs,
                    series.Z,
                    series.start,
                    series.end,
                    rows[a : a + step],
                    Y_target=Y_target,
                    refs=series.refs,
                )
                yield a, np.ascontiguousarray(x, dt), np.ascontiguousarray(ex, dt)

        per_row = (lay.n_inputs + lay.n_extra) * np.dtype(dt).itemsize
        size = int(lengths[clean].sum()) * per_row
        if series.has_gaps or size > FEATURE_CACHE_BYTES:
            return gathered()
        # writable, as the windows kept by training.Epoch (why: there)
        passes = [(grp, rows, list(ch)) for grp, rows, ch in gathered()]
        self._kept = (key, passes)
        return passes

    def reference_tails(self, theta, series: ScaledSeries):
        """What :meth:`read_all` gives at the tails' origins for reference weights.

        ``theta`` from :func:`~.head.reference_only`: the head's state
        weights zero, so its outputs read the known-future features alone
        (the starting reference) and the recurrent layers, whose outputs they
        multiply by zero, need not run. The head runs on the rows
        :func:`validation_sums` reads (each series' last training row
        onwards), the other rows NaN. None where that would not be the pass's
        values: another head than a point forecast's stepwise read-out, an
        encoder-decoder, state weights not all zero.

        The values are the pass's up to the sign of a zero output (``0 * o``
        is ``-0.0`` for a negative state ``o``), which no score reads.
        """
        net, lay = self.net, self.layout
        head = net.head
        if (
            hasattr(net, "fill_missing")
            or type(head) is not StepwiseHead
            or lay.n_params != 1
            or lay.quantile_head
        ):
            return None
        th = net.split(theta)[1]
        if head.layout.views(th)[f"{head.prefix}.weight"].any():
            return None
        dt = net.dtype
        a, b = series.indptr[:-1], series.indptr[1:]
        te = series.train_end_series
        first, stop = te - 1, np.where(te < b, b, te - 1)  # as tail_targets
        counts = np.maximum(stop - first, 0)
        ends = np.cumsum(counts)
        rows = np.arange(ends[-1] if len(ends) else 0) - np.repeat(
            ends - counts, counts
        ) + np.repeat(first, counts)
        out = np.full((len(series.Y), lay.n_outputs), np.nan, dt)
        for r0 in range(0, len(rows), RANGE_BLOCK):
            r = rows[r0 : r0 + RANGE_BLOCK]
            _, ex, _, _ = gather(
                lay, series.inputs, series.Z, series.start, series.end, r,
                Y_target=series.Y, refs=series.refs,
            )
            top = np.zeros((len(r), self.hidden_size), dt)
            out[r] = head.forward(th, top, np.ascontiguousarray(ex, dt))[0]
        return [out[a[s] : b[s]] for s in range(series.n_series)]

    def keep_read(self, label, score, theta, series: ScaledSeries, decode_from,
                  result) -> None:
        """Offer a :meth:`read_all` of the observed targets for :meth:`read_to_ends`.

        A validation pass of early stopping reads every series to its end
        with the weights of an epoch; the weights training keeps are those of
        its best epoch (or the reference alone), which the fit then reads to
        the ends again: the same pass. Kept per ``label`` (``"epoch"``,
        ``"reference"``): the read of the best ``score`` so far (strictly
        greater, as :func:`~tsrnn.engine.run_epochs` keeps its best weights),
        while ``series`` lives, where the validation pass and
        :meth:`read_to_ends` read the same values (no missing target: the
        inputs are then the targets) and the outputs fit in
        :data:`~.training.FEATURE_CACHE_BYTES`.
        """
        if not score > _best_kept_score(series, self.net, label):
            return
        outputs, states, tops = result
        size = sum(o.nbytes for o in outputs) + states.nbytes + tops.nbytes
        if size > FEATURE_CACHE_BYTES or series.has_gaps:
            return
        net, reads = _KEPT_READS.get(series, (None, None))
        if net is not self.net:  # another network: nothing to recall
            reads = {}
            _KEPT_READS[series] = (self.net, reads)
        dec = None if decode_from is None else np.array(decode_from)
        reads[label] = (score, theta.copy(), dec, result)

    def _kept_read(self, theta, series: ScaledSeries, decode_from):
        """The kept :meth:`read_all` of exactly these weights (None: none kept)."""
        net, reads = _KEPT_READS.get(series, (None, None))
        if net is not self.net or series.has_gaps:
            return None
        for _, th, dec, result in reads.values():
            if same_bits(th, theta) and (
                (dec is None and decode_from is None)
                or (
                    dec is not None
                    and decode_from is not None
                    and np.array_equal(dec, decode_from)
                )
            ):
                outputs, states, tops = result
                # the caller keeps the ends: its own copies of them
                return outputs, states.copy(), tops.copy()
        return None

    def read_to_ends(self, theta, pack, series: ScaledSeries, decode_from=None):
        """Read every series to its end: the outputs and the :class:`SeriesEnds`.

        ``decode_from``: as :meth:`read_all`. A validation pass of the same
        weights kept by :meth:`keep_read` is not read again.
        """
        lay = self.layout
        dt = self.net.dtype
        S = series.n_series
        keep = lay.history
        tail_y = np.full((S, keep, lay.n_targets), np.nan, dt)
        # the known features of the same rows: the head compares the future with them
        tail_z = np.zeros((S, keep, lay.n_z), dt)
        level = np.full((S, lay.n_targets), np.nan)
        Y = series.Y
        kept = self._kept_read(theta, series, decode_from)
        outputs, state, top = kept or self.read_all(
            theta, pack, Y, series, decode_from=decode_from
        )
        first, end = series.indptr[:-1], series.indptr[1:]
        # each series' last `keep` rows, right-aligned (NaN / 0 before its start)
        rows = end[:, None] - keep + np.arange(keep)  # (S, keep)
        inside = rows >= first[:, None]
        tail_y[inside] = Y[rows[inside]]
        tail_z[inside] = series.Z[rows[inside]]
        # the last observed row of each target at or before each series' end
        n, k = Y.shape
        seen = np.where(np.isnan(Y), -1, np.arange(n)[:, None])
        last = np.full((S, k), -1, np.int64)
        if n:
            last = np.maximum.accumulate(seen, axis=0)[np.maximum(end - 1, 0)]
        ok = last >= first[:, None]
        level[ok] = Y[last[ok], np.nonzero(ok)[1]]
        return outputs, SeriesEnds(state, top, tail_y, tail_z, level)


#: Validation passes kept for :meth:`SeriesReader.read_to_ends`, per series:
#: ``(network, {label: (score, theta, decode_from, read)})``.
_KEPT_READS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _best_kept_score(series: ScaledSeries, net, label) -> float:
    kept_net, reads = _KEPT_READS.get(series, (None, None))
    if kept_net is not net or label not in reads:
        return -np.inf
    return reads[label][0]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` hold the same bits (``-0.0`` is not ``0.0``;
    a NaN is itself): what makes two reads of the same network identical."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    view = np.dtype(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a.dtype
    return bool(
        np.array_equal(
            np.ascontiguousarray(a).view(view), np.ascontiguousarray(b).view(view)
        )
    )


def validation_score(
    layout: FeatureLayout,
    outputs,
    series: ScaledSeries,
    absolute: bool = False,
    head=None,
) -> float:
    """Negative scaled MSE (MAE if ``absolute``) of the forecasts on the tails.

    ``outputs``: the head outputs of a full pass per series
    (:meth:`SeriesReader.read_all`). ``absolute``: score what an
    absolute-error loss trains for (the median), so that early stopping
    picks the epoch that loss would. ``head`` (a likelihood or quantile
    :class:`~.likelihood.OutputHead`): the negative mean training loss on the
    tails instead (negative log-likelihood, pinball), what that head trains.
    """
    num, den = validation_sums(layout, outputs, series, absolute, head)
    return -num / den if den else float("nan")


def validation_sums(
    layout: FeatureLayout,
    outputs,
    series: ScaledSeries,
    absolute: bool = False,
    head=None,
) -> tuple[float, float]:
    """``(num, den)`` of :func:`validation_score`: sums that add up over shards."""
    num, den = 0.0, 0.0
    tails = tail_targets(layout, series)
    if head is not None and head.kind != "point":
        for s, offsets, tg, mk in tails:
            value, n = head.tail_score(outputs[s][offsets], tg, mk)
            num, den = num + value, den + n
        return num, den
    # the series of one tail length together: each one's sums are those it
    # would give alone (a row of the reduction sums as one array), added up
    # in the series' order, as one at a time
    sums, counts = np.empty(len(tails)), np.empty(len(tails))
    tw = series.tail_weights
    for pos, which, offsets, tg, mk in _tail_groups(layout, series):
        pred = np.stack([outputs[s][o] for s, o in zip(which, offsets, strict=True)])
        if tw is not None:  # each series' weight (per target), every step
            k = tw.shape[1]
            wk = np.tile(tw[np.asarray(which)], mk.shape[-1] // k)[:, None, :]
            mk = mk * wk.astype(mk.dtype, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged model
            err = (pred - tg) * mk
            sums[pos] = (np.abs(err) if absolute else err**2).sum(axis=(1, 2))
        counts[pos] = mk.sum(axis=(1, 2))
    for a, b in zip(sums.tolist(), counts.tolist(), strict=True):
        num += a
        den += b
    return num, den


def _tail_groups(layout: FeatureLayout, series: ScaledSeries) -> list:
    """:func:`tail_targets` by tail length: ``(positions, series, offsets,
    targets, mask)``, the last three stacked; kept as the tails are."""
    tails = tail_targets(layout, series)
    cached = _TAIL_GROUPS.get(series)
    if cached is not None and cached[0] is tails:
        return cached[1]
    sizes = np.array([len(t[1]) for t in tails], dtype=np.int64)
    groups = []
    for n in np.unique(sizes):
        pos = np.flatnonzero(sizes == n)
        groups.append(
            (
                pos,
                [tails[i][0] for i in pos],
                [tails[i][1] for i in pos],
                np.stack([tails[i][2] for i in pos]),
                np.stack([tails[i][3] for i in pos]),
            )
        )
    _TAIL_GROUPS[series] = (tails, groups)
    return groups


#: The held-out targets of a collection, per (series, layout): they do not
#: change between the epochs that score them (only the outputs do).
_TAIL_TARGETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TAIL_GROUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tail_targets(layout: FeatureLayout, series: ScaledSeries) -> list:
    """``(s, offsets, targets, mask)`` of every series with a held-out tail.

    ``offsets``: the tail's origins (the last training row onwards) within
    series ``s``'s outputs; targets and mask as :func:`~.features.gather`
    gives them. Gathered once per ``series`` and ``layout`` (early stopping
    scores the same tails every epoch) and kept while ``series`` lives.
    """
    cached = _TAIL_TARGETS.get(series)
    if cached is not None and cached[0] is layout:
        return cached[1]
    a, b = series.indptr[:-1], series.indptr[1:]
    te = series.train_end_series
    # the last training row onwards; nothing where no row is held out
    first, stop = te - 1, np.where(te < b, b, te - 1)
    out = [
        (s, rows - a[s], tg, mk)
        for s, rows, _, _, tg, mk in gather_ranges(
            layout, series.Y, series.Z, series.start, series.end, first, stop
        )
    ]
    _TAIL_TARGETS[series] = (layout, out)
    return out
