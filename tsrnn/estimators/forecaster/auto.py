"""The ``"auto"`` settings of :class:`RNNForecaster`: one documented rule each.

Every rule is a pure function of the training data (the rows ``fit`` trains
on, never the held-out tails) and of the other settings; the estimator calls
them at the start of ``fit`` and keeps what they decide in fitted attributes
(``differencing_``, ``bptt_length_``, ``n_epochs_``, ``loss_``, ``reference_``,
``validation_fraction_``). The same rule runs for one series and for a long
frame of thousands; nothing here knows which dataset it reads.

The rules and the measurements behind them are in the estimator's docstring
("How the auto values are chosen") and in ``docs/defaults.md``.
"""

from __future__ import annotations

import numpy as np

#: A Gaussian random walk of ``n`` steps crosses its own sample mean at about
#: ``RW_CROSSING / sqrt(n)`` of its steps (simulated, n from 8 to 20000: 0.77-0.91);
#: white noise at half of them.
RW_CROSSING = 0.85
NOISE_CROSSING = 0.5

#: Truncated-BPTT windows: a quarter of the median training length, rounded to a
#: power of two, within these bounds.
BPTT_MIN, BPTT_MAX = 8, 32

#: Epochs: as many as make about this many optimizer steps, within these bounds.
TARGET_STEPS = 1000
MIN_EPOCHS, MAX_EPOCHS = 5, 100
#: A run stopped by the held-out tails may go this many times further.
SELECTION_FACTOR = 3

#: Held-out tail per series with ``validation_fraction="auto"``: this share,
#: and enough rows for ``MIN_ORIGINS`` forecast origins over the collection
#: where that leaves each series at least half of its rows
#: (:func:`auto_validation_rows`).
AUTO_VALIDATION_SHARE = 0.1
MIN_ORIGINS = 9


# ---------------------------------------------------------------- persistence
def crossing_rate(y: np.ndarray) -> float:
    """Fraction of consecutive observed steps at which ``y`` crosses its mean.

    Steps exactly at the mean are skipped; NaN steps are dropped. Returns NaN
    for fewer than three observations.
    """
    y = np.asarray(y, np.float64)
    y = y[np.isfinite(y)]
    if len(y) < 3:
        return np.nan
    with np.errstate(all="ignore"):  # huge values: the scaler reports them
        side = np.sign(y - y.mean())
    side = side[side != 0]
    if len(side) < 2:
        return 0.0
    return float(np.mean(side[1:] != side[:-1]))


def persistence_threshold(n: int) -> float:
    """The crossing rate below which a series of ``n`` steps counts as persistent.

    The geometric midpoint between white noise (``0.5``) and a random walk of
    the same length (``0.85 / sqrt(n)``): about 0.05 for 20 000 steps, 0.2
    for 100, 0.3 for 20. A fixed threshold would call every short random walk
    stationary (a 100-step random walk crosses its mean at 8 % of its steps).
    """
    return float(np.sqrt(NOISE_CROSSING * RW_CROSSING / np.sqrt(max(n, 1))))


def remove_phase_means(y: np.ndarray, season: int) -> np.ndarray:
    """``y`` minus the mean of its seasonal phase (needs two full seasons)."""
    y = np.asarray(y, np.float64)
    if season <= 1 or len(y) < 2 * season:
        return y
    phase = np.arange(len(y)) % season
    sums = np.bincount(phase, np.where(np.isnan(y), 0.0, y), minlength=season)
    counts = np.bincount(phase, ~np.isnan(y), minlength=season)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return y - np.where(np.isfinite(means), means, 0.0)[phase]


def is_persistent(y: np.ndarray, season: int = 1) -> bool:
    """Whether one series behaves like a trend or a random walk.

    The series (its seasonal-phase means removed when a season is known, so
    that a regular cycle does not count as crossings) crosses its mean less
    often than :func:`persistence_threshold` allows.
    """
    r = crossing_rate(remove_phase_means(y, season))
    if not np.isfinite(r):
        return False
    n = int(np.isfinite(np.asarray(y, np.float64)).sum())
    return r < persistence_threshold(n)


def persistence_votes(y, indptr, train_end, season: int = 1) -> tuple[int, int]:
    """``(persistent, votes)``: :func:`is_persistent` votes of the training rows.

    One vote per series and target with at least three observations. Counts
    add up over shards of a collection (:mod:`tsrnn.distributed`).
    """
    yes = total = 0
    for s in range(len(indptr) - 1):
        seg = y[indptr[s] : train_end[s]]
        for j in range(seg.shape[1]):
            col = seg[:, j]
            if np.isfinite(col).sum() >= 3:
                yes += int(is_persistent(col, season))
                total += 1
    return yes, total


def differencing_from_votes(persistent: int, votes: int) -> bool:
    """At least half of the votes say persistent (and there is a vote)."""
    return votes > 0 and persistent / votes >= 0.5


def choose_differencing(y, indptr, train_end, season: int = 1) -> bool:
    """``differencing="auto"``: model changes when most series are persistent.

    Each series' training rows (every target) vote with :func:`is_persistent`;
    differencing is chosen when at least half of the votes say persistent
    (one model, one decision: a global model over a collection differences
    all of its series or none).
    """
    return differencing_from_votes(*persistence_votes(y, indptr, train_end, season))


# -------------------------------------------------------------------- windows
def choose_bptt_length(train_lengths) -> int:
    """``bptt_length="auto"``: ``clip(2 ** round(log2(median / 4)), 8, 32)``.

    A quarter of the median series length, as a power of two: a short
    series cut into long windows is mostly padding and makes few optimizer
    steps per epoch (M3 yearly, median 18 rows: 8; M3 quarterly, 44: 8;
    M3 monthly, 115: 32; a long sensor series: 32).
    """
    med = float(np.median(np.asarray(train_lengths, np.float64)))
    p = 2.0 ** np.round(np.log2(max(med, 1.0) / 4.0))
    return int(np.clip(p, BPTT_MIN, BPTT_MAX))


def choose_epochs(steps_per_epoch: int, selecting: bool = False) -> int:
    """``max_iter="auto"``: epochs that make about ``TARGET_STEPS`` optimizer steps.

    ``ceil(1000 / steps_per_epoch)`` within ``[5, 100]``: a long frame of
    thousands of series gets about five passes, a short single series enough
    passes for a thousand small steps. ``selecting``: the budget of a run that
    the held-out tails stop (early stopping), ``SELECTION_FACTOR`` times as
    many (at most 100): there the tails decide, the budget only bounds them
    (M3 monthly: the tails still improved at the 10th epoch, MASE 0.942 with
    10 epochs at most, 0.927 with 30).
    """
    n = int(np.ceil(TARGET_STEPS / max(int(steps_per_epoch), 1)))
    n = int(np.clip(n, MIN_EPOCHS, MAX_EPOCHS))
    return min(MAX_EPOCHS, SELECTION_FACTOR * n) if selecting else n


def auto_validation_rows(lengths, horizon: int, n_series=None) -> np.ndarray:
    """``validation_fraction="auto"``: held-out rows per series.

    10 % of each series, and more where the series can spare it (the tail at
    most half of it): ``horizon + ceil(9 / n_series)`` rows, so that the tails
    of the collection hold at least 9 forecast origins (a 90 % conformal
    interval needs 9 residuals), else ``horizon + 1`` (one origin). The final
    model trains on every row anyway (the refit protocol): the tail only
    picks the number of epochs and gives the residuals. ``n_series``: the
    size of the whole collection when ``lengths`` are one shard of it
    (default: ``len(lengths)``).
    """
    n = np.asarray(lengths, np.int64)
    h = int(horizon)
    share = np.floor(n * AUTO_VALIDATION_SHARE).astype(np.int64)
    n_all = len(n) if n_series is None else int(n_series)
    extra = int(np.ceil(MIN_ORIGINS / max(n_all, 1)))
    out = share
    for wanted in (h + 1, h + extra):  # the larger one wins where it fits
        w = np.maximum(share, wanted)
        out = np.where(n - w >= n / 2, w, out)
    return out


# ------------------------------------------------------------------ reference
def reference_errors(y, indptr, train_end, lags, horizon: int) -> np.ndarray:
    """In-sample mean absolute ``h``-step error of each reference lag.

    :func:`reference_error_sums` divided: the pooled mean (NaN for a lag no
    series is long enough to score).
    """
    total, count = reference_error_sums(y, indptr, train_end, lags, horizon)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def reference_error_sums(y, indptr, train_end, lags, horizon: int):
    """In-sample mean absolute ``h``-step error of each reference lag.

    Lag ``m`` forecasts ``y[t + k]`` from origin ``t`` by
    ``y[t + k - m * ceil(k / m)]`` (``m = 1``: the last value; ``m > 1``: the
    seasonal naive forecast), for ``k = 1..horizon``, over every origin of the
    training rows. Errors are divided by each series' (and target's) standard
    deviation so that series of different scales weigh alike, then pooled:
    the sums and counts add up over shards of a collection.

    Returns
    -------
    total, count : ndarray of shape (len(lags),)
        Sum of the scaled absolute errors and their number, per lag.
    """
    y = np.asarray(y, np.float64)
    N, k_t = y.shape
    lengths = np.diff(indptr)
    start = np.repeat(indptr[:-1], lengths)
    stop = np.repeat(np.asarray(train_end), lengths)
    scale = np.ones((len(lengths), k_t))
    for s in range(len(lengths)):
        seg = y[indptr[s] : train_end[s]]
        if np.isfinite(seg).sum() > 1:
            with np.errstate(all="ignore"):
                sd = np.nanstd(seg, axis=0)
            scale[s] = np.where(np.isfinite(sd) & (sd > 1e-12), sd, 1.0)
    with np.errstate(all="ignore"):
        yz = y / np.repeat(scale, lengths, axis=0)
    rows = np.arange(N)
    in_train = rows < stop
    totals, counts = np.zeros(len(lags)), np.zeros(len(lags), np.int64)
    for i, m in enumerate(lags):
        total, count = 0.0, 0
        for k in range(1, int(horizon) + 1):
            lag = int(m) * int(np.ceil(k / m))
            # row r is the target t + k; its origin t = r - k and reference r - lag
            ok = in_train & (rows - lag >= start)
            if not ok.any():
                continue
            r = rows[ok]
            with np.errstate(all="ignore"):
                e = np.abs(yz[r] - yz[r - lag])
            e = e[np.isfinite(e)]
            total += float(e.sum())
            count += len(e)
        totals[i], counts[i] = total, count
    return totals, counts


def choose_reference(y, indptr, train_end, seasons, horizon: int) -> int:
    """``reference="auto"``: the lag whose forecast the head starts from.

    Candidates: the last value (lag 1) and the seasonal naive forecast of
    each season; the one with the smallest in-sample ``horizon``-step error
    (:func:`reference_errors`) wins; ties go to the earlier candidate (the
    last value first). A season no series can score is skipped.
    """
    lags = reference_lags(seasons)
    return reference_from_errors(
        lags, reference_errors(y, indptr, train_end, lags, horizon)
    )


def reference_lags(seasons) -> list:
    """The candidates of :func:`choose_reference`: lag 1, then each season > 1."""
    return [1] + [int(m) for m in seasons if int(m) > 1]


def reference_from_errors(lags, err) -> int:
    """The lag of smallest error (the first on ties; 1 when none is finite)."""
    if not np.isfinite(err).any():
        return 1
    return int(lags[int(np.nanargmin(err))])


def order_seasons(seasons: tuple, reference: int) -> tuple:
    """The seasons with the reference first (the head starts at the first one).

    The last value (``reference == 1``) is added as lag 1 when it is not
    among them; the other seasons keep their order.
    """
    rest = tuple(m for m in seasons if m != reference)
    return (int(reference),) + rest
