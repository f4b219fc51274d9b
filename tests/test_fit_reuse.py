"""The fit's shortcuts change no bit: each against the work it skips.

The refit protocol reads the series many times (a validation pass per epoch,
the ends after the selection run, again after the combination); these tests
fit with each shortcut and with it turned off (the naive reference: the
work done again) and compare every fitted array and forecast bit for bit.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest

from tsrnn import RNNForecaster
from tsrnn.estimators.forecaster import reader as reader_mod
from tsrnn.estimators.forecaster.reader import SeriesReader, same_bits


def _collection(n=12, gaps=False, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        length = 40 + 4 * (i % 5)
        t = np.arange(length)
        y = 10 + 0.1 * (i + 1) * t + 2 * np.sin(2 * np.pi * t / 4)
        y = y + rng.normal(0, 0.5, length)
        if gaps and i % 3 == 0:
            y[length // 2] = np.nan
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": t, "y": y}))
    return pd.concat(rows, ignore_index=True)


def _digest(model, pred):
    out = {}
    for name in ("params_", "conformal_errors_", "validation_scores_",
                 "combination_weights_", "_state", "_top"):
        v = getattr(model, name, None)
        if v is not None:
            a = np.ascontiguousarray(np.asarray(v))
            out[name] = hashlib.sha256(a.tobytes()).hexdigest()
    a = np.ascontiguousarray(pred.select_dtypes("number").to_numpy())
    out["predict"] = hashlib.sha256(a.tobytes()).hexdigest()
    return out


def _fit(df, dtype, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RNNForecaster(horizon=4, season_length=4, random_state=0,
                          hidden_size=8, dtype=dtype, **kw).fit(df)
        return m, _digest(m, m.predict(4))


def test_same_bits_is_a_bytewise_comparison():
    a = np.array([1.0, -0.0, np.nan, 3.5], np.float32)
    for b, naive in [
        (a.copy(), True),
        (np.array([1.0, 0.0, np.nan, 3.5], np.float32), False),  # -0.0 is not 0.0
        (a.astype(np.float64), False),
        (a[:3], False),
        (np.array([1.0, -0.0, np.nan, 3.25], np.float32), False),
    ]:
        expect = naive and a.dtype == b.dtype and a.tobytes() == b.tobytes()
        assert same_bits(a, b) is expect
    c = np.arange(12.0).reshape(3, 4)
    assert same_bits(c[:, 1], c[:, 1].copy())  # not contiguous


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("gaps", [False, True])
def test_kept_validation_reads_change_nothing(monkeypatch, dtype, gaps):
    df = _collection(gaps=gaps)
    calls = []
    real = SeriesReader.read_all

    def counting(self, *a, **k):
        calls.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(SeriesReader, "read_all", counting)
    fast, fast_digest = _fit(df, dtype)
    n_fast = len(calls)
    calls.clear()
    # the naive reference: nothing kept, every read done again
    monkeypatch.setattr(SeriesReader, "keep_read", lambda self, *a, **k: None)
    slow, slow_digest = _fit(df, dtype)
    assert fast_digest == slow_digest
    assert fast.early_stopping == "auto" and fast.validation_scores_
    if not gaps:  # the best epoch's validation pass is the selection run's read
        assert n_fast < len(calls)


def test_kept_read_recalled_for_the_same_bits_only(monkeypatch):
    """A kept pass is recalled for the weights it read, never for others."""
    captured = {}
    real = SeriesReader.keep_read

    def capture(self, label, score, theta, series, decode_from, result):
        real(self, label, score, theta, series, decode_from, result)
        reads = reader_mod._KEPT_READS.get(series, (None, {}))[1]
        if label in reads and same_bits(reads[label][1], theta):  # kept
            captured["args"] = (self, theta.copy(), series, decode_from)

    monkeypatch.setattr(SeriesReader, "keep_read", capture)
    m, _ = _fit(_collection(), "float64")
    reader, theta, series, dec = captured["args"]
    assert reader._kept_read(theta, series, dec) is not None
    other = theta.copy()
    other[0] = np.nextafter(other[0], np.inf)
    assert reader._kept_read(other, series, dec) is None
    assert reader._kept_read(theta, series, dec + 1) is None
    assert reader._kept_read(theta, series, None) is None
    # another network over the same series: nothing to recall
    assert SeriesReader(m._net, m._layout)._kept_read(theta, series, dec) is None
    # the recalled read is the read itself
    pack = None
    ref = reader.read_all(theta, pack, series.Y, series, decode_from=dec)
    got = reader._kept_read(theta, series, dec)
    for a, b in zip(ref[0], got[0], strict=True):
        assert same_bits(a, b)
    assert same_bits(ref[1], got[1]) and same_bits(ref[2], got[2])


def test_kept_reads_go_with_the_fit():
    import gc

    _fit(_collection(), "float64")
    gc.collect()
    assert len(reader_mod._KEPT_READS) == 0


def _fitted_series(monkeypatch, df, dtype="float64", **kw):
    """A fit's selection-run series and layout (captured at its validation)."""
    from tsrnn.estimators.forecaster import fitting

    captured = {}
    real = fitting.FitsForecaster._validation_sums

    def capture(self, theta, series, reader, **k):
        captured.setdefault("args", (self, theta.copy(), series, reader))
        return real(self, theta, series, reader, **k)

    monkeypatch.setattr(fitting.FitsForecaster, "_validation_sums", capture)
    _fit(df, dtype, **kw)
    return captured["args"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("differencing", [False, True])
def test_row_features_are_gather(monkeypatch, dtype, differencing):
    from tsrnn.estimators.forecaster import training
    from tsrnn.estimators.forecaster.features import (
        gather,
        gather_features,
        gather_targets,
    )

    _, _, series, reader = _fitted_series(
        monkeypatch, _collection(), dtype, differencing=differencing
    )
    lay = reader.layout
    assert lay.relative == differencing and lay.n_refs
    # a small block size: the table built in several blocks
    monkeypatch.setattr(training, "RANGE_BLOCK", 37)
    training._ROW_FEATURES.pop(series, None)
    table = training.row_features(lay, series)
    assert table is not None
    rng = np.random.default_rng(0)
    n = len(series.Y)
    for shape in [(n,), (7, 5), (3, 11)]:
        rows = rng.integers(-1, n, size=shape)  # -1: padding
        x, ex, tg, mk = gather(
            lay, series.inputs, series.Z, series.start, series.end, rows,
            limit=series.train_end, Y_target=series.Y, refs=series.refs,
        )
        tx, tex = table.take(rows)
        assert same_bits(tx, np.ascontiguousarray(x, series.Y.dtype))
        assert same_bits(tex, np.ascontiguousarray(ex, series.Y.dtype))
        gt, gm = gather_targets(
            lay, series.Y, series.start, series.end, rows, limit=series.train_end
        )
        assert same_bits(gt, tg) and same_bits(gm, mk)
        fx, fex = gather_features(
            lay, series.inputs, series.Z, series.start, series.end, rows,
            Y_target=series.Y, refs=series.refs,
        )
        assert same_bits(fx, x) and same_bits(fex, ex)
    # no padding: the rows themselves
    rows = np.arange(n)[::-1].reshape(-1, 1)
    x, ex, _, _ = gather(lay, series.inputs, series.Z, series.start, series.end,
                         rows, Y_target=series.Y, refs=series.refs)
    tx, tex = table.take(rows)
    assert same_bits(tx, np.ascontiguousarray(x, series.Y.dtype))
    assert same_bits(tex, np.ascontiguousarray(ex, series.Y.dtype))


def test_no_row_features_where_inputs_change(monkeypatch):
    from tsrnn.estimators.forecaster import training

    _, _, series, reader = _fitted_series(monkeypatch, _collection(gaps=True))
    assert series.has_gaps
    assert training.row_features(reader.layout, series) is None
    _, _, series, reader = _fitted_series(monkeypatch, _collection())
    monkeypatch.setattr(training, "FEATURE_CACHE_BYTES", 100)
    training._ROW_FEATURES.pop(series, None)
    assert training.row_features(reader.layout, series) is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize(
    "kw", [{}, {"stateful": False}, {"differencing": True, "early_stopping": False}]
)
def test_row_features_change_nothing(monkeypatch, dtype, gaps, kw):
    from tsrnn.estimators.forecaster import reader as rd
    from tsrnn.estimators.forecaster import training

    df = _collection(gaps=gaps)
    fast = _fit(df, dtype, **kw)[1]
    monkeypatch.setattr(training, "row_features", lambda layout, series: None)
    monkeypatch.setattr(rd, "row_features", lambda layout, series: None)
    assert _fit(df, dtype, **kw)[1] == fast


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("differencing", [False, True])
def test_reference_tails_are_the_pass(monkeypatch, dtype, gaps, differencing):
    """The reference's score without the recurrent layers: the full pass's."""
    from tsrnn.engine import InferencePack
    from tsrnn.estimators.forecaster.head import reference_only
    from tsrnn.estimators.forecaster.reader import tail_targets

    model, theta, series, reader = _fitted_series(
        monkeypatch, _collection(gaps=gaps), dtype, differencing=differencing
    )
    ref = reference_only(reader.net, theta)
    fast = reader.reference_tails(ref, series)
    assert fast is not None
    dec = series.train_end_series - 1
    full = reader.read_all(
        ref, InferencePack(reader.net, ref), series.inputs, series, series.Y,
        decode_from=dec,
    )[0]
    for s, offsets, _, _ in tail_targets(reader.layout, series):
        # equal up to the sign of a zero (==, not the bits)
        np.testing.assert_array_equal(fast[s][offsets], full[s][offsets])
    a = model._validation_sums(ref, series, reader, reference=True)
    b = model._validation_sums(ref, series, reader)
    assert same_bits(np.array(a), np.array(b))
    # state weights not all zero: no shortcut
    other = ref.copy()
    reader.net.layout.views(other)["head.weight"][0, 0] = 0.5
    assert reader.reference_tails(other, series) is None


@pytest.mark.parametrize("n,steps", [(1, 10), (2, 10), (3, 4), (5, 10), (4, 1)])
def test_simplex_grid_is_the_filtered_cube(n, steps):
    import itertools

    from tsrnn.estimators.forecaster.combination import simplex_grid

    pts = [
        c for c in itertools.product(range(steps + 1), repeat=n - 1)
        if sum(c) <= steps
    ]
    naive = np.array([(*c, steps - sum(c)) for c in pts], dtype=float) / steps
    g = simplex_grid(n, steps)
    assert same_bits(g, naive)
    g[0] = -1.0  # a copy: the kept grid is not changed
    assert same_bits(simplex_grid(n, steps), naive)


def test_standard_scaling_by_length_is_series_by_series():
    """The stacked standard scaling gives each series' own location_spread."""
    from tsrnn.data.scaling import location_spread
    from tsrnn.estimators.forecaster.transforms import Scaler

    rng = np.random.default_rng(3)
    parts, te = [], []
    lengths = [1, 2, 7, 8, 9, 100, 128, 129, 300, 9000, 300, 7, 1, 129, 40, 40, 40]
    for i, n in enumerate(lengths):
        v = rng.normal(size=n) * 10.0 ** rng.integers(-200, 200)
        if i % 7 == 3:
            v[:] = 5.0  # constant
        if i % 7 == 4:
            v[:] = 0.0
        if i % 7 == 5:
            v = np.zeros(n)
            v[-1] = 3.0  # a spike: zero spread, the largest deviation instead
        if i % 5 == 1 and n > 2:
            v[1] = np.nan  # a gap: series by series
        parts.append(v)
        te.append(max(0, n - (i % 3)))
    y = np.concatenate(parts)[:, None]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    train_end = indptr[:-1] + np.array(te)
    fitted = Scaler.fit("standard", y, None, indptr, train_end)
    for i in range(len(lengths)):
        seg = y[indptr[i] : train_end[i]]
        if not len(seg) or np.isnan(seg).all():
            seg = y[indptr[i] : indptr[i + 1]]
        loc, sc = location_spread(seg, "standard", lambda j: "y")
        assert same_bits(fitted.y_loc[i], loc) and same_bits(fitted.y_scale[i], sc)


def _naive_tail_forecasts(layout, outputs, series):
    """combination.tail_forecasts one series at a time (its former loop)."""
    from tsrnn.estimators.forecaster.combination import n_seasonal
    from tsrnn.estimators.forecaster.features import gather

    k, ho, R = layout.n_targets, layout.horizon_out, layout.n_refs
    S, nk = n_seasonal(layout), layout.n_known
    cands, tgs, mks, stp, org = [], [], [], [], []
    n_origins = 0
    a, b = series.indptr[:-1], series.indptr[1:]
    te = series.train_end_series
    for s in range(series.n_series):
        if not te[s] < b[s]:
            continue
        rows = np.arange(te[s] - 1, b[s])
        _, ex, tg, mk = gather(layout, series.Y, series.Z, series.start,
                               series.end, rows, Y_target=series.Y,
                               refs=series.refs)
        n = len(rows)
        ex = ex.reshape(n, ho, layout.n_per_step)
        cols = layout.ref_offset + np.arange(R)[:, None] * k + np.arange(k)
        refs = np.moveaxis(ex[:, :, cols], 2, 3)
        # each season's value: after the known future and the seasons before it
        naive = np.stack(
            [ex[:, :, nk + q * (nk + k) + nk : nk + q * (nk + k) + nk + k]
             for q in range(S)],
            axis=3,
        ) if S else np.zeros((n, ho, k, 0))
        net = np.asarray(outputs[s][rows - a[s]], dtype=float).reshape(n, ho, k)
        both = np.concatenate([net[..., None], naive, refs], axis=3)
        tg = tg.reshape(n, ho, k)
        if series.tail_weights is not None:  # MASE weights: this series' own
            w = np.asarray(series.tail_weights[s])
            both, tg = both * w[:, None], tg * w
        cands.append(both.reshape(-1, k, 1 + S + R))
        tgs.append(tg.reshape(-1, k))
        mks.append(mk.reshape(-1, k))
        stp.append(np.tile(np.arange(ho), n))
        org.append(np.repeat(n_origins + np.arange(n), ho))
        n_origins += n
    c, t = np.concatenate(cands), np.concatenate(tgs)
    m = np.concatenate(mks).astype(float)
    ok = np.isfinite(c).all(axis=2) & np.isfinite(t)
    m = np.where(ok, m, 0.0)
    c, t = np.where(np.isfinite(c), c, 0.0), np.where(np.isfinite(t), t, 0.0)
    return c, t, m, np.concatenate(stp), np.concatenate(org)


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("differencing", [False, True])
def test_tail_forecasts_are_series_by_series(monkeypatch, gaps, differencing):
    from tsrnn.estimators.forecaster.combination import tail_forecasts

    _, _, series, reader = _fitted_series(
        monkeypatch, _collection(gaps=gaps), "float32", differencing=differencing
    )
    rng = np.random.default_rng(1)
    lay = reader.layout
    outputs = [
        rng.normal(size=(series.indptr[s + 1] - series.indptr[s], lay.n_outputs))
        .astype(np.float32)
        for s in range(series.n_series)
    ]
    outputs[2][-1, 0] = np.nan  # a non-finite candidate: masked
    got = tail_forecasts(lay, outputs, series)
    naive = _naive_tail_forecasts(lay, outputs, series)
    for g, n in zip(got, naive, strict=True):
        assert same_bits(g, n)


@pytest.mark.parametrize("shape,ho", [((7933, 1, 4), 8), ((50, 2, 4), 3),
                                       ((20000, 1, 4), 18), ((9, 1, 4), 1),
                                       ((300, 3, 4), 24)])
def test_step_weights_are_the_powers_of_every_row(shape, ho):
    from tsrnn.estimators.forecaster.features import step_weights

    rng = np.random.default_rng(4)
    R = shape[0]
    distinct = np.concatenate([rng.uniform(0.8, 0.98, max(1, R // 60)),
                               [1.0, 0.8, 0.98, np.nan, -0.0, 0.0]])
    lines = np.empty(shape + (3,))
    lines[..., 2] = distinct[rng.integers(0, len(distinct), size=shape)]
    phi = lines[..., 2]  # strided, as the references' lines give it
    naive = np.cumsum(phi[..., None] ** np.arange(1, ho + 1), axis=-1)
    assert same_bits(step_weights(phi, ho), naive)
    mostly_distinct = rng.uniform(0.8, 0.98, shape)
    naive = np.cumsum(mostly_distinct[..., None] ** np.arange(1, ho + 1), axis=-1)
    assert same_bits(step_weights(mostly_distinct, ho), naive)


def _ragged(seed=5):
    rng = np.random.default_rng(seed)
    lengths = [1, 2, 3, 3, 4, 8, 8, 8, 30, 30, 129, 129, 500, 24, 24, 7]
    parts = []
    for i, n in enumerate(lengths):
        v = np.cumsum(rng.normal(size=n)) if i % 2 else rng.normal(size=n)
        v = v * 10.0 ** rng.integers(-5, 5)
        if i % 5 == 2 and n > 3:
            v[2] = np.nan
        if i % 7 == 6:
            v[:] = 4.0  # constant: no crossing, zero spread
        parts.append(v)
    y = np.concatenate(parts)[:, None]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    te = indptr[:-1] + np.maximum(np.array(lengths) - 2, 0)
    return y, indptr, te


@pytest.mark.parametrize("season", [1, 4, 12])
def test_persistence_votes_are_series_by_series(season):
    from tsrnn.estimators.forecaster import auto

    y, indptr, te = _ragged()
    yes = total = 0
    for s in range(len(indptr) - 1):  # the naive reference: one vote at a time
        col = y[indptr[s] : te[s], 0]
        if np.isfinite(col).sum() >= 3:
            yes += int(auto.is_persistent(col, season))
            total += 1
    assert auto.persistence_votes(y, indptr, te, season) == (yes, total)
    assert 0 < yes < total


def test_reference_scales_are_series_by_series():
    from tsrnn.estimators.forecaster import auto

    y, indptr, te = _ragged()
    S = len(indptr) - 1
    naive = np.ones((S, 1))
    for s in range(S):
        seg = y[indptr[s] : te[s]]
        if np.isfinite(seg).sum() > 1:
            with np.errstate(all="ignore"):
                sd = np.nanstd(seg, axis=0)
            naive[s] = np.where(np.isfinite(sd) & (sd > 1e-12), sd, 1.0)
    got = np.ones((S, 1))
    assert auto._plain_scales(y, indptr, te, got).all()
    assert same_bits(got, naive)
    # two targets: series by series (nothing done here)
    assert not auto._plain_scales(np.hstack([y, y]), indptr, te, np.ones((S, 2))).any()


def _old_fit_ses(y):
    """fit_ses as it was: one ses_sse per grid point (the naive reference)."""
    from tsrnn.smoothing._filters import ses_sse
    from tsrnn.smoothing.fitting import _ses_golden

    lo, hi, n_grid = 0.01, 0.99, 25
    best, best_a = np.inf, lo
    step = (hi - lo) / (n_grid - 1)
    for i in range(n_grid):
        a = lo + i * step
        s = ses_sse(y, a)
        if s < best:
            best, best_a = s, a
    lo2, hi2 = max(lo, best_a - step), min(hi, best_a + step)
    a = _ses_golden(y, lo2, hi2, 30)
    return a if ses_sse(y, a) <= best else best_a


def _old_fit_holt(y, l0, b0):
    """fit_holt as it was: one _holt_eval per grid point (the naive reference)."""
    from tsrnn.smoothing.fitting import _INV_PHI, _holt_eval

    lo, hi = (0.01, 0.001, 0.8), (0.99, 0.99, 0.98)
    p = np.empty(3)
    best = np.inf
    b_a, b_f, b_p = 0.5, 0.1, 0.9
    for a in (0.05, 0.2, 0.5, 0.8, 0.95):
        for f in (0.01, 0.1, 0.3, 0.7):
            for ph in (0.8, 0.9, 0.98):
                p[0], p[1], p[2] = a, f, ph
                s = _holt_eval(y, p, l0, b0)
                if s < best:
                    best = s
                    b_a, b_f, b_p = a, f, ph
    p[0], p[1], p[2] = b_a, b_f, b_p
    for _sweep in range(2):
        for j in range(3):
            w = (hi[j] - lo[j]) / 3.0
            a = max(lo[j], p[j] - w)
            b = min(hi[j], p[j] + w)
            q = p.copy()
            c = b - _INV_PHI * (b - a)
            d = a + _INV_PHI * (b - a)
            q[j] = c
            fc = _holt_eval(y, q, l0, b0)
            q[j] = d
            fd = _holt_eval(y, q, l0, b0)
            for _ in range(20):
                if fc <= fd:
                    b, d, fd = d, c, fc
                    c = b - _INV_PHI * (b - a)
                    q[j] = c
                    fc = _holt_eval(y, q, l0, b0)
                else:
                    a, c, fc = c, d, fd
                    d = a + _INV_PHI * (b - a)
                    q[j] = d
                    fd = _holt_eval(y, q, l0, b0)
            cand = c if fc <= fd else d
            fbest = fc if fc <= fd else fd
            if fbest < best:
                best = fbest
                p[j] = cand
    return p[0], p[0] * p[1], p[2]


def _smoothing_cases():
    rng = np.random.default_rng(6)
    cases = [np.zeros(0), np.array([np.nan, np.nan]), np.array([3.0]),
             np.array([np.nan, 2.0, np.nan, 5.0]), np.full(30, 7.0)]
    for n in (5, 18, 70, 300):
        y = np.cumsum(rng.normal(size=n)) + 0.1 * np.arange(n)
        cases.append(y)
        g = y.copy()
        g[rng.integers(0, n, size=max(1, n // 10))] = np.nan
        cases.append(g)
        cases.append(1e150 * rng.normal(size=n))
    return cases


def test_sse_grids_are_one_pass_per_point():
    from tsrnn.smoothing._filters import holt_sse, ses_sse
    from tsrnn.smoothing.fitting import _holt_sse_grid, _ses_sse_grid

    rng = np.random.default_rng(7)
    for y in _smoothing_cases():
        alphas = rng.uniform(0.01, 0.99, 11)
        out = np.empty(11)
        _ses_sse_grid(y, alphas, out)
        assert same_bits(out, np.array([ses_sse(y, a) for a in alphas]))
        fr, ph = rng.uniform(0.001, 0.99, 11), rng.uniform(0.8, 0.98, 11)
        l0, b0 = float(rng.normal()), float(rng.normal())
        _holt_sse_grid(y, alphas, fr, ph, l0, b0, out)
        naive = [holt_sse(y, a, a * f, p, l0, b0)
                 for a, f, p in zip(alphas, fr, ph, strict=True)]
        assert same_bits(out, np.array(naive))


def test_fitted_smoothing_parameters_unchanged():
    from tsrnn.smoothing.fitting import fit_holt, fit_ses

    for y in _smoothing_cases():
        assert same_bits(np.array(fit_ses(y)), np.array(_old_fit_ses(y)))
        first = float(np.nan_to_num(y[:1].sum()))
        for l0, b0 in [(0.0, 0.0), (0.3, -0.1), (first, 1.0)]:
            got = np.array(fit_holt(y, l0, b0))
            assert same_bits(got, np.array(_old_fit_holt(y, l0, b0)))


def _old_cut_lanes(series, bptt_length, batch_size):
    """training.cut_lanes as it was (np.argmin over the loads)."""
    from tsrnn.estimators.forecaster.training import n_lanes, window_length

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
        size = n // k
        off = int(first[s]) + n - k * size
        for j in range(k):
            pieces.append((off + j * size, size))
    pieces.sort(key=lambda p: -p[1])
    loads = [0] * B
    lane_pieces = [[] for _ in range(B)]
    for p in pieces:
        i = int(np.argmin(loads))
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
    return rows, reset


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cut_lanes_as_before(seed):
    from tsrnn.estimators.forecaster.training import ScaledSeries, cut_lanes

    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 200, size=int(rng.integers(1, 60)))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    Y = rng.normal(size=(int(indptr[-1]), 1))
    te = indptr[:-1] + (lengths * 0.8).astype(np.int64)
    series = ScaledSeries.build(Y, np.zeros((len(Y), 0)), indptr, te)
    for T, batch in [(8, "auto"), (16, 4), (32, 1), (7, 64)]:
        lanes = cut_lanes(series, T, batch)
        rows, reset = _old_cut_lanes(series, T, batch)
        assert np.array_equal(lanes.rows, rows)
        assert np.array_equal(lanes.reset, reset)


def test_holt_rows_are_fit_holt_per_series():
    from tsrnn.smoothing.fitting import fit_holt, fit_holt_rows

    rng = np.random.default_rng(8)
    for T, G in [(0, 3), (1, 2), (5, 7), (55, 40), (200, 3)]:
        YT = np.cumsum(rng.normal(size=(T, G)), axis=0) + rng.normal(size=G)
        if T > 3:
            YT[rng.integers(0, T, size=G), np.arange(G)] = np.nan
            YT[:, 0] = 2.5  # a constant
        YT = np.ascontiguousarray(YT)
        l0, b0 = rng.normal(size=G), rng.normal(size=G) * 0.1
        out = np.empty((G, 3))
        fit_holt_rows(YT, l0, b0, out)
        for g in range(G):
            y = np.ascontiguousarray(YT[:, g])
            assert same_bits(out[g], np.array(_old_fit_holt(y, l0[g], b0[g])))
            assert same_bits(out[g], np.array(fit_holt(y, l0[g], b0[g])))


def test_fit_references_are_series_by_series():
    from tsrnn.smoothing import fit_parameters, fit_references
    from tsrnn.smoothing.fitting import initial_trends

    y, indptr, te = _ragged()
    y = y[:, 0]
    for m in (1, 4):
        params, states = fit_references(y, indptr, te, m)
        levels, trends = initial_trends(y, indptr, te, m)
        for s in range(len(indptr) - 1):
            p, st = fit_parameters(y[indptr[s] : te[s]], m,
                                   start=(levels[s], trends[s]))
            assert same_bits(params[s], p) and same_bits(states[s], st)
