"""What the forecaster's network reads and predicts, built from stacked series.

Per step ``t`` of a series the network reads ``[y_t, x_t, calendar_t]`` (scaled
targets, scaled covariates, calendar features); its head additionally reads, for
every forecast step ``k = 1..h``, what is known in advance about ``t + k``: the
covariates and calendar of ``t + k`` (future covariates, as in MQ-RNN and
NeuralForecast's decoders) and the last observed value at the same seasonal phase
(``y_{t+k-m*ceil(k/m)}``, the seasonal naive forecast; ``y_t`` without a season)
together with the covariates and calendar of that reference step, so that the
head can learn "as one season ago, corrected for what differs" (a holiday after a
workday, a hotter day).
It predicts ``y_{t+1..t+h}`` (horizon-major: output ``k * n_targets + j``).

Everything is gathered by index arithmetic over the stacked ``data + indptr``
layout, so a training window of any rows costs ``O(rows * h)`` and nothing of size
``N * h`` is ever materialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...data.calendar import calendar_features
from ...data.checks import describe
from ...data.scaling import MAX_SCALED, scaled_problem


def block_steps(block, first=None) -> np.ndarray:
    """Each row's step number in its series (``first[i]`` + offset; default 0)."""
    lengths = np.asarray(block.lengths)
    base = np.zeros(len(lengths), np.int64) if first is None else np.asarray(first)
    offset = np.arange(int(lengths.sum())) - np.repeat(block.indptr[:-1], lengths)
    return np.repeat(base, lengths) + offset


def network_inputs(
    block, scaler, layout, freq, dt, positions=None, season=None, steps=None,
    what="y",
):
    """Scaled targets ``Y`` and known features ``Z`` of a block's rows.

    ``Z`` is the scaled covariates followed by the calendar features.
    ``positions``: the series (schema positions) of the block's rows, for the
    per-series target scaling (default: the block's own series in order).
    ``fit``, ``update`` and ``partial_fit`` all read their rows through here,
    so one check refuses scaled values beyond
    :data:`~tsrnn.data.scaling.MAX_SCALED` (data of another magnitude than the
    training rows: other units, a glitch) for all of them alike; ``what``
    (``"y"`` or ``"y_new"``) names the data in its message.
    ``season`` (a :class:`~.transforms.Seasonal`) is divided out before the
    scaling, at the rows' step numbers ``steps`` (default: from each series'
    first row here, :func:`block_steps`).
    """
    if positions is None:
        positions = np.repeat(np.arange(block.n_series), block.lengths)
    y = block.y
    if season is not None:
        steps = block_steps(block) if steps is None else steps
        y = season.y(y, positions, steps)
    Y = scaler.y(y, positions)
    check_scaled(Y, block.y, what, block, positions, scaler.y_loc, scaler.y_scale)
    Xs = None
    if block.X is not None:
        xwhat = "X" if what == "y" else "X_new"
        Xs = scaler.x(block.X)  # codes: loc 0, scale 1 (Scaler.fit)
        check_scaled(Xs, block.X, xwhat, block, None, scaler.x_loc, scaler.x_scale)
    cal = None
    if layout.n_calendar:
        cal = calendar_features(block.time, freq, layout.holidays)
    Z = arrange(layout, Xs, cal, positions, len(Y))
    return Y.astype(dt), Z.astype(dt)


def arrange(layout, Xs, cal, positions, n, future=False) -> np.ndarray:
    """The per-step features ``Z`` ``(n, n_z)`` from scaled covariates ``Xs``.

    Columns: the known numeric covariates, the known categorical ones as
    one-hot columns (``head_codes``) and the calendar (``n_known``, what the
    head also reads about future steps), the past-only numeric
    covariates, then the codes (categorical covariates, the series id) the
    network embeds. ``future``: rows after the origin, where past-only
    covariates are unknown (0; only a recursive step would read them, and
    that strategy refuses them).
    """
    parts = []
    if Xs is not None:
        parts.append(Xs[:, list(layout.known_columns)])
    for i in layout.head_codes:  # known categories: one-hot for the linear head
        codes = np.rint(Xs[:, layout.code_columns[i]]).astype(np.int64)
        parts.append(np.eye(layout.cardinalities[i])[codes])
    if cal is not None:
        parts.append(cal)
    if layout.past_columns:
        past = Xs[:, list(layout.past_columns)]
        parts.append(np.zeros_like(past) if future else past)
    if layout.code_columns:
        parts.append(Xs[:, list(layout.code_columns)])
    if layout.id_code:
        parts.append(np.asarray(positions, np.float64).reshape(-1, 1))
    return np.concatenate(parts, axis=1) if parts else np.zeros((n, 0))


def future_known(fut, scaler, layout, schema) -> np.ndarray:
    """Features ``(P, h, n_z)`` of the steps a ``predict`` forecasts.

    The known ones (covariates, calendar) and the codes; past-only
    covariates are 0 there (:func:`arrange`).
    """
    P, h = len(fut.positions), fut.horizon
    scaled = None
    if fut.X is not None:
        raw = fut.X.reshape(P * h, -1)
        scaled = scaler.x(raw)
        ids = None if schema.ids is None else schema.ids[fut.positions]
        check_scaled(scaled, raw, "X", None, None, scaler.x_loc, scaler.x_scale,
                     names=schema.covariate_names, per_row=h, ids=ids)
    cal = None
    if layout.n_calendar:
        idx = schema.future_index(h, fut.positions)
        cal = calendar_features(idx, schema.freq, layout.holidays)
    Z = arrange(layout, scaled, cal, np.repeat(fut.positions, h), P * h, future=True)
    return Z.reshape(P, h, -1)


def check_scaled(
    scaled, raw, what, block, positions, loc, scale, names=None, per_row=None,
    ids=None,
):
    """Refuse scaled values beyond ``MAX_SCALED``, naming where and what to do.

    ``block`` (a SeriesSet, or None for ``predict``'s covariates) names the
    series and time step; ``positions`` (rows' series, or None for covariates,
    scaled globally) picks ``loc``/``scale`` for the message. ``per_row``:
    rows per series of ``predict``'s covariates (the row is then a forecast
    step) and ``ids`` the ids of those series (long format).
    """
    first = scaled_problem(scaled)
    if first is None:
        return
    r, c = first
    schema = None if block is None else block.schema
    if names is None and schema is not None:
        names = schema.target_names if positions is not None else (
            schema.covariate_names
        )
    s = None if positions is None else positions[r]
    where = []
    if block is not None:
        i = int(np.searchsorted(block.indptr, r, side="right")) - 1
        if schema.ids is not None:
            where.append(f"series {schema.ids[block.positions[i]]!r}")
        if block.time is not None:
            where.append(f"time {describe(block.time[r])}")
        else:
            where.append(f"row {r - block.indptr[i]}")
    else:
        if ids is not None:
            where.append(f"series {ids[r // per_row]!r}")
        where.append(f"forecast step {r % per_row + 1}" if per_row else f"row {r}")
    if names is not None and len(names) > 1 or positions is None:
        where.append(f"column {names[c]!r}" if names is not None else f"column {c}")
    lv = loc[c] if s is None else loc[s, c]
    sc = scale[c] if s is None else scale[s, c]
    raise ValueError(
        f"{what} has a value of another magnitude than the data the model was "
        f"fitted on: {raw[r, c]:.3g} at {', '.join(where)} lies more than "
        f"{MAX_SCALED:g} training scales ({sc:.3g}) from the training level "
        f"({lv:.3g}), which the network cannot read; check the units of {what}, "
        "or fit on data whose training rows include such values"
        + (" (unscaled: with scaler=None the network reads raw values)"
           if lv == 0 and sc == 1 else "")
    )


@dataclass
class FeatureLayout:
    """Sizes of the network's inputs, head extras and outputs (see :func:`gather`)."""

    n_targets: int
    n_covariates: int
    n_calendar: int
    horizon_out: int  # forecast steps produced per step (h direct, 1 recursive)
    seasons: tuple  # seasonal lags of the reference values ((1,) = last value;
    # () for the recursive strategy, whose future references would be its own
    # predictions, which the step kernel feeds back as inputs instead)
    relative: bool = False  # differencing: inputs are changes y_t - y_{t-1},
    # targets and reference values are relative to the origin's level y_t
    holidays: Any = None  # a holidays-package code or a tuple of ISO dates:
    # two holiday columns after the cyclic calendar features
    n_refs: int = 0  # statistical references per target (.references.NAMES)
    # the output head (.likelihood.OutputHead): raw outputs per target and step
    # (distribution parameters or quantiles; 1 for a point forecast), which of
    # them is fed back as the target's value, and through which link (0: as
    # is, 1: softplus, a count's mean)
    n_params: int = 1
    point_param: int = 0
    feedback_link: int = 0
    quantile_head: bool = False  # the n_params outputs are quantiles
    # covariates the network reads but the head does not read about future
    # steps: columns (of the schema's covariates) of the past-only numeric
    # ones, of the categorical ones (codes, embedded), and whether the series
    # id is embedded too; n_covariates counts the other (known numeric) ones
    past_columns: tuple = ()
    code_columns: tuple = ()
    id_code: bool = False
    cardinalities: tuple = ()  # rows of each embedding table (codes, then id)
    embedding_dims: tuple = ()  # their widths
    # known categorical covariates (indices into code_columns) the head also
    # reads about future steps, one-hot: a linear head reading an embedding
    # would be a rank-limited one-hot; small tables only (see .embeddings)
    head_codes: tuple = ()

    @property
    def known_columns(self) -> list:
        """Columns of the known numeric covariates among the schema's."""
        other = set(self.past_columns) | set(self.code_columns)
        n = self.n_covariates + len(other)
        return [j for j in range(n) if j not in other]

    @property
    def n_known(self) -> int:
        """Known-in-advance features per future step (covariates + calendar)."""
        hot = sum(self.cardinalities[i] for i in self.head_codes)
        return self.n_covariates + hot + self.n_calendar

    @property
    def n_codes(self) -> int:
        """Embedded code columns (categorical covariates, the series id)."""
        return len(self.code_columns) + int(self.id_code)

    @property
    def n_z(self) -> int:
        """Features per step: known, past-only, codes (:func:`arrange`)."""
        return self.n_known + len(self.past_columns) + self.n_codes

    @property
    def n_inputs(self) -> int:
        """Input columns before embedding (targets, then ``n_z`` features)."""
        return self.n_targets + self.n_z

    @property
    def n_per_step(self) -> int:
        """Head extras per forecast step: known future, per season (known, y), refs."""
        return self.ref_offset + self.n_refs * self.n_targets

    @property
    def ref_offset(self) -> int:
        """Column of the first statistical reference in a step's extras.

        Reference ``r`` of target ``j`` is column ``ref_offset + r * n_targets + j``.
        """
        return self.n_known + len(self.seasons) * (self.n_known + self.n_targets)

    @property
    def n_extra(self) -> int:
        return self.horizon_out * self.n_per_step

    @property
    def history(self) -> int:
        """Rows of history the head's reference values need."""
        return max(self.seasons, default=1)

    @property
    def n_outputs(self) -> int:
        return self.horizon_out * self.n_targets * self.n_params

    @property
    def feedback_map(self) -> np.ndarray:
        """``(input column, output column, link)`` rows for the stream kernel.

        Where a target input is missing (NaN), the step reads the network's own
        one-step forecast of it instead: input column ``j`` is fed from output
        column ``j * n_params + point_param`` (the first forecast step's target
        ``j``: its value, location or median), through ``link`` (1: softplus,
        a count's mean).
        """
        k = np.arange(self.n_targets)
        link = np.full(self.n_targets, self.feedback_link)
        return np.stack([k, k * self.n_params + self.point_param, link], axis=1)


def gather(
    layout: FeatureLayout,
    Y,
    Z,
    start,
    end,
    rows,
    limit=None,
    Y_target=None,
    origin=None,
    refs=None,
):
    """Inputs, head extras, targets and target mask for ``rows``.

    With ``layout.relative`` (``differencing=True``) the network reads changes
    ``Y[t] - Y[t-1]`` (0 at a series' first row, NaN next to a missing step) and
    targets and reference values are taken relative to the origin's level
    ``Y_target[t]`` (or ``origin``): translation-invariant per series, and the
    head's seasonal-naive start stays exact (reference minus origin level).

    Parameters
    ----------
    layout : FeatureLayout
    Y : ndarray of shape (N, k)
        Scaled targets as the network reads them (NaN kept: the stream kernel
        fills them with its own estimates; training passes imputed values).
    Z : ndarray of shape (N, n_z)
        Scaled covariates and calendar features, then past-only covariates
        and codes (:func:`arrange`); the head reads the first ``n_known``.
    start, end : ndarray of shape (N,)
        First row and one-past-last row of each row's series.
    rows : int ndarray of any shape
        Rows to gather; ``-1`` marks padding (everything zero, mask 0).
    limit : ndarray of shape (N,), optional
        Targets at or beyond ``limit[row]`` are masked (the training/validation
        boundary); default ``end``.
    Y_target : ndarray of shape (N, k), optional
        Observed scaled targets (NaN where missing) for targets and the seasonal
        lag; default ``Y``.
    origin : ndarray of shape rows.shape + (k,), optional
        The level at each row (default ``Y_target[rows]``; a forecast from a
        missing step passes the last observed level). With ``layout.relative``
        targets and references are relative to it; without, it stands in for
        a missing reference value.
    refs : ndarray of shape (N, k, n_refs, 3), optional
        The statistical references' forecast lines ``(a, b, phi)`` at each row
        (:mod:`.references`): step ``s``'s value ``a + b (phi + ... + phi**s)``,
        relative to the origin's level with ``layout.relative``. Omitted
        (callers that read only targets), the reference extras are 0.

    Returns
    -------
    x : (..., n_inputs)  with NaN kept in target columns
    extra : (..., n_extra)
    target : (..., n_outputs)  (0 where masked)
    mask : (..., n_outputs)
    """
    Yt = Y if Y_target is None else Y_target
    shape = rows.shape
    r = rows.reshape(-1)
    pad = r < 0
    rr = np.where(pad, 0, r)
    k = Y.shape[1]
    base = Yt[rr] if origin is None else origin.reshape(-1, k)
    x, extra = _features(layout, Y, Yt, Z, start, end, rr, pad, base, refs)
    target, mask = _targets(layout, Yt, end, rr, pad, base, limit, Y.dtype)
    return (
        x.reshape(shape + (x.shape[1],)),
        extra.reshape(shape + (extra.shape[1],)),
        target.reshape(shape + (target.shape[1],)),
        mask.reshape(shape + (mask.shape[1],)),
    )


def gather_features(layout: FeatureLayout, Y, Z, start, end, rows, Y_target=None,
                    refs=None):
    """The inputs and head extras of :func:`gather` alone (``origin`` None).

    The same arrays as ``gather(layout, Y, Z, start, end, rows,
    Y_target=Y_target, refs=refs)[:2]``, without the targets.
    """
    Yt = Y if Y_target is None else Y_target
    shape = rows.shape
    r = rows.reshape(-1)
    pad = r < 0
    rr = np.where(pad, 0, r)
    x, extra = _features(layout, Y, Yt, Z, start, end, rr, pad, Yt[rr], refs)
    return (
        x.reshape(shape + (x.shape[1],)),
        extra.reshape(shape + (extra.shape[1],)),
    )


def gather_targets(layout: FeatureLayout, Y_target, start, end, rows, limit=None):
    """The targets and target mask of :func:`gather` alone (``origin`` None).

    The same arrays as ``gather(layout, Y, Z, start, end, rows, limit,
    Y_target)[2:]`` for any ``Y`` of ``Y_target``'s dtype: what a caller
    needs when it has the rows' inputs and extras already
    (:func:`row_features`).
    """
    shape = rows.shape
    r = rows.reshape(-1)
    pad = r < 0
    rr = np.where(pad, 0, r)
    target, mask = _targets(
        layout, Y_target, end, rr, pad, Y_target[rr], limit, Y_target.dtype
    )
    return (
        target.reshape(shape + (target.shape[1],)),
        mask.reshape(shape + (mask.shape[1],)),
    )


def _features(layout, Y, Yt, Z, start, end, rr, pad, base, refs):
    """Inputs ``(R, n_inputs)`` and extras ``(R, n_extra)`` of :func:`gather`."""
    k = Y.shape[1]
    ho = layout.horizon_out
    x = np.concatenate([Y[rr], Z[rr]], axis=1)
    if layout.relative:
        prev = rr - 1
        first = prev < start[rr]
        x[:, :k] -= Y[np.where(first, rr, prev)]  # 0 at a series' first row
    x[pad] = 0.0
    steps = np.arange(1, ho + 1)
    idx = rr[:, None] + steps  # (R, ho)
    inside = idx < end[rr][:, None]
    idx_c = np.where(inside, idx, rr[:, None])
    Zk = Z[:, : layout.n_known]  # what is known in advance
    zf = Zk[idx_c] * inside[..., None]  # known future features, 0 past the end
    blocks = [zf]
    for m in layout.seasons:
        # the last step at the same phase that is known at t
        sidx = idx - m * ((steps + m - 1) // m)
        ok = sidx >= start[rr][:, None]
        sidx = np.where(ok, sidx, rr[:, None])
        yref = Yt[sidx]
        # a missing reference: the model's own estimate where the inputs hold
        # one (training imputes them), else the origin's (last observed) level;
        # 0, the series' mean, would pull the forecast there for one step
        yref = np.where(np.isnan(yref), Y[sidx], yref)
        if layout.relative:
            yref = yref - base[:, None, :]  # still missing: no change
        else:
            yref = np.where(np.isnan(yref), base[:, None, :], yref)
        blocks.append(Zk[sidx])  # what was known about the reference step
        blocks.append(np.where(np.isnan(yref), 0.0, yref))
    if layout.n_refs:
        blocks.append(_reference_values(layout, refs, rr, base))
    extra = np.concatenate(blocks, axis=2).reshape(len(rr), ho * layout.n_per_step)
    extra[pad] = 0.0
    return x, extra


def _targets(layout, Yt, end, rr, pad, base, limit, dtype):
    """Targets and mask ``(R, n_outputs)`` of :func:`gather` (mask in ``dtype``)."""
    k = Yt.shape[1]
    ho = layout.horizon_out
    idx = rr[:, None] + np.arange(1, ho + 1)  # (R, ho)
    lim = (end if limit is None else limit)[rr][:, None]
    inside = idx < end[rr][:, None]
    idx_c = np.where(inside, idx, rr[:, None])
    tgt = Yt[idx_c]
    if layout.relative:
        tgt = tgt - base[:, None, :]  # NaN base (a missing origin): no target
    mask = (idx < lim)[..., None] & inside[..., None] & ~np.isnan(tgt)
    mask &= ~pad[:, None, None]
    target = np.where(mask, tgt, 0.0).reshape(len(rr), ho * k)
    mask = mask.reshape(len(rr), ho * k).astype(dtype)
    return target, mask


#: Rows one call of :func:`gather_ranges` gathers at most (bounded memory).
RANGE_BLOCK = 8192


def gather_ranges(layout: FeatureLayout, Y, Z, start, end, first, stop, **kw):
    """:func:`gather` over the row ranges ``[first[i], stop[i])``, a block at a time.

    One call per :data:`RANGE_BLOCK` rows instead of one per range (a
    collection's held-out tails: one short range per series); each row's
    features depend on that row alone, so the values are those of one call
    per range. ``kw``: :func:`gather`'s ``limit``, ``Y_target``, ``refs``.

    Yields
    ------
    i, rows, x, extra, target, mask
        Per range ``i`` with at least one row, in order.
    """
    first, stop = np.asarray(first), np.asarray(stop)
    counts = np.maximum(stop - first, 0)
    live = np.flatnonzero(counts)
    i0 = 0
    while i0 < len(live):
        i1, n = i0, 0
        while i1 < len(live) and (i1 == i0 or n + counts[live[i1]] <= RANGE_BLOCK):
            n += counts[live[i1]]
            i1 += 1
        idx = live[i0:i1]
        c = counts[idx]
        ends = np.cumsum(c)
        rows = np.arange(ends[-1]) - np.repeat(ends - c, c) + np.repeat(first[idx], c)
        parts = gather(layout, Y, Z, start, end, rows, **kw)
        for j, i in enumerate(idx):
            sl = slice(ends[j] - c[j], ends[j])
            yield (i, rows[sl]) + tuple(p[sl] for p in parts)
        i0 = i1


@dataclass(frozen=True)
class OriginRows:
    """Each forecast series' kept history followed by its future rows, stacked.

    Series ``p`` of the forecast is rows ``p * length : (p + 1) * length`` of
    ``Y`` and ``Z``: ``keep`` rows of history (the references), then the future
    steps (targets unknown, NaN; known features given). ``start`` and ``end``
    are per row, as :func:`gather` reads them.
    """

    Y: np.ndarray
    Z: np.ndarray
    start: np.ndarray
    end: np.ndarray
    length: int
    keep: int
    refs: np.ndarray | None = None  # (rows, k, n_refs, 3): at the origins only

    @property
    def last_rows(self) -> np.ndarray:
        """The origin row (the last observed step) of every series."""
        n = len(self.Y) // self.length
        return np.arange(n) * self.length + self.keep - 1

    def future_rows(self, steps: int) -> np.ndarray:
        """Rows ``(steps, n_series)`` of the first ``steps`` future steps."""
        n = len(self.Y) // self.length
        return (np.arange(n) * self.length)[None, :] + self.keep + np.arange(steps)[
            :, None
        ]


def origin_rows(
    layout: FeatureLayout, tail_y, tail_z, n_seen, Zf: np.ndarray, ref_last=None
) -> OriginRows:
    """History tails and future features ``Zf`` ``(P, h, n_z)`` stacked.

    ``tail_y``/``tail_z`` ``(P, keep, .)`` are the series' last rows and
    ``n_seen`` ``(P,)`` the rows each has seen: a series shorter than the kept
    history starts at its first real row, so that a season longer than the
    series falls back to the last value, as in training (not to the padding).
    ``ref_last`` ``(P, k, n_refs, 3)``: the references' lines at each origin.
    """
    P, keep = tail_y.shape[:2]
    pad = max(layout.horizon_out - Zf.shape[1], 0)
    if pad:
        Zf = np.concatenate([Zf, np.zeros((P, pad, Zf.shape[2]))], axis=1)
    L = keep + Zf.shape[1]
    Y = np.full((P, L, layout.n_targets), np.nan)
    Y[:, :keep] = tail_y
    Z = np.zeros((P, L, layout.n_z))
    Z[:, :keep] = tail_z
    Z[:, keep:] = Zf
    block = np.repeat(np.arange(P) * L, L)
    n_real = np.minimum(keep, np.asarray(n_seen))
    refs = None
    if ref_last is not None:
        refs = np.full((P, L) + ref_last.shape[1:], np.nan)
        refs[:, keep - 1] = ref_last
        refs = refs.reshape((P * L,) + ref_last.shape[1:])
    return OriginRows(
        Y=Y.reshape(P * L, -1),
        Z=Z.reshape(P * L, -1),
        start=block + np.repeat(keep - n_real, L),
        end=block + L,
        length=L,
        keep=keep,
        refs=refs,
    )


def _reference_values(layout: FeatureLayout, refs, rr, base) -> np.ndarray:
    """Statistical references ``(R, ho, n_refs * k)`` of rows ``rr``, by reference."""
    R, ho, k, nr = len(rr), layout.horizon_out, layout.n_targets, layout.n_refs
    if refs is None:
        return np.zeros((R, ho, nr * k))
    lines = refs[rr]  # (R, k, nr, 3)
    a, b, phi = lines[..., 0], lines[..., 1], lines[..., 2]
    vals = a[..., None] + b[..., None] * step_weights(phi, ho)
    vals = vals.transpose(0, 3, 2, 1)  # (R, ho, nr, k)
    if layout.relative:
        vals = vals - base[:, None, None, :]  # no origin level: no change (0)
    else:
        vals = np.where(np.isnan(vals), base[:, None, None, :], vals)
    return np.where(np.isnan(vals), 0.0, vals).reshape(R, ho, nr * k)


def step_weights(phi: np.ndarray, ho: int) -> np.ndarray:
    """``phi + phi**2 + ... + phi**s`` for ``s = 1..ho``: ``phi.shape + (ho,)``.

    ``phi`` takes a few values (the damping of each series' damped trend, 1
    for the other references), so the powers and their sums are computed once
    per distinct value (bit pattern) and taken for every row: the same values
    as for every element (each one's ``pow`` and running sum are its own),
    a fraction of the work on a collection's rows.
    """
    steps = np.arange(1, ho + 1)
    flat = np.ascontiguousarray(phi).reshape(-1)
    if flat.dtype != np.float64 or len(flat) < 64:
        return np.cumsum(phi[..., None] ** steps, axis=-1)
    values, inverse = np.unique(flat.view(np.uint64), return_inverse=True)
    if 4 * len(values) > len(flat):  # mostly distinct: nothing to share
        return np.cumsum(phi[..., None] ** steps, axis=-1)
    sums = np.cumsum(values.view(np.float64)[:, None] ** steps, axis=-1)
    return sums[inverse].reshape(phi.shape + (ho,))
