"""The ``"auto"`` defaults of RNNForecaster: each rule where its answer is obvious.

Every rule (``tsrnn/estimators/forecaster/auto.py``) is checked on synthetic
data whose right answer nobody disputes (a random walk is differenced, a strong
daily cycle starts the head at seasonal naive, a fast noisy sensor at the last
value), through the fitted attributes ``fit`` leaves; explicit values must be
used exactly as given; and the refit protocol of early stopping must be what
it says: a fresh fit on every row for the selected number of epochs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import RNNForecaster, SeasonalNaiveForecaster
from tsrnn.estimators.forecaster import auto

FAST = dict(hidden_size=5, random_state=0)


def _daily(n, noise=0.05, seed=0):
    """Hourly, a strong daily cycle."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + np.sin(2 * np.pi * t / 24) + noise * rng.normal(size=n)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq="h"))


def _fast_sensor(n, seed=0):
    """5-minute readings: a persistent AR(1) with a weak daily cycle and noise."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.98 * x[t - 1] + e[t]
    t = np.arange(n)
    y = 20 + x + 0.3 * np.sin(2 * np.pi * t / 288) + 0.2 * rng.normal(size=n)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq="5min"))


# ------------------------------------------------------------ the rules alone
def test_random_walk_crossing_rate_matches_the_constant():
    # the constant is a simulation's: check it on fresh draws
    rng = np.random.default_rng(1)
    for n in (30, 300, 3000):
        rates = [auto.crossing_rate(np.cumsum(rng.normal(size=n))) for _ in range(300)]
        assert np.mean(rates) == pytest.approx(auto.RW_CROSSING / np.sqrt(n), rel=0.15)
    noise = rng.normal(size=20000)
    assert auto.crossing_rate(noise) == pytest.approx(0.5, abs=0.02)


def test_persistence_threshold_is_the_midpoint_between_noise_and_random_walk():
    for n in (20, 100, 20000):
        rw = auto.RW_CROSSING / np.sqrt(n)
        assert auto.persistence_threshold(n) == pytest.approx(np.sqrt(0.5 * rw))
    assert 0.05 < auto.persistence_threshold(20000) < 0.06  # ~ a fixed 0.05 when long


def test_random_walk_and_trend_are_persistent_noise_and_cycle_are_not():
    rng = np.random.default_rng(0)
    assert auto.is_persistent(np.cumsum(rng.normal(size=500)))
    assert auto.is_persistent(np.arange(60.0) + rng.normal(size=60))  # a trend
    assert not auto.is_persistent(rng.normal(size=500))
    ar = np.zeros(2000)
    for t in range(1, 2000):
        ar[t] = 0.5 * ar[t - 1] + rng.normal()
    assert not auto.is_persistent(ar)
    # a slow regular cycle looks persistent unless its season is known
    cycle = np.sin(2 * np.pi * np.arange(960) / 48) + 0.1 * rng.normal(size=960)
    assert auto.is_persistent(cycle, season=1)
    assert not auto.is_persistent(cycle, season=48)


@pytest.mark.parametrize(
    "median, expected", [(14, 8), (18, 8), (44, 8), (64, 16), (115, 32), (20000, 32)]
)
def test_bptt_length_rule(median, expected):
    # clip(2 ** round(log2(median / 4)), 8, 32)
    assert auto.choose_bptt_length([median]) == expected


def test_epochs_rule():
    assert auto.choose_epochs(10) == 100  # 1000 steps, at most 100 epochs
    assert auto.choose_epochs(50) == 20
    assert auto.choose_epochs(186) == 6  # M3 monthly: about five passes
    assert auto.choose_epochs(10_000) == 5  # at least five
    # a run the tails stop: three times the budget, at most 100
    assert auto.choose_epochs(186, selecting=True) == 18
    assert auto.choose_epochs(20, selecting=True) == 100


def test_learning_rate_rule():
    # short series (the window rule's windows under 32 steps): the larger step
    assert auto.choose_learning_rate([18] * 10) == 1e-2  # M3 yearly
    assert auto.choose_learning_rate([63, 63, 70]) == 1e-2  # M3 other
    assert auto.choose_learning_rate([90] * 5 + [91] * 4) == 1e-2
    assert auto.choose_learning_rate([91] * 5 + [90] * 4) == 3e-3
    assert auto.choose_learning_rate([103, 115, 306]) == 3e-3  # the long groups
    assert auto.choose_learning_rate([20_000]) == 3e-3  # a long single series
    assert auto.choose_learning_rate([]) == 3e-3
    # the threshold is where the window rule reaches its cap
    assert auto.choose_bptt_length([90]) == 16 and auto.choose_bptt_length([91]) == 32


def test_hidden_size_rule():
    # short series (the same threshold as the step size): half the units
    assert auto.choose_hidden_size("auto", [18] * 10) == 32  # M3 yearly
    assert auto.choose_hidden_size("auto", [63, 63, 70]) == 32  # M3 other
    assert auto.choose_hidden_size("auto", [103, 115, 306]) == 64  # long groups
    assert auto.choose_hidden_size("auto", [20_000]) == 64  # a long single series
    assert auto.choose_hidden_size("auto", []) == 64
    assert auto.choose_hidden_size(8, [18] * 10) == 8  # an integer as given


def test_hidden_size_is_fitted_and_kept(tmp_path):
    """``hidden_size="auto"`` resolves at fit (``hidden_size_``, the network's
    width), survives a save and load, and an explicit width is used as given."""
    rng = np.random.default_rng(0)
    n = 30  # a short collection: 32 units
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b", "c"], n),
            "ds": np.tile(np.arange(n), 3),
            "y": np.cumsum(rng.normal(size=3 * n)) + 50,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RNNForecaster(horizon=3, max_iter=1, random_state=0).fit(frame)
        assert m.hidden_size == "auto" and m.hidden_size_ == 32
        assert m._net.stack.hidden_size == 32
        m.save(tmp_path / "m.npz")
        back = tsrnn.load(tmp_path / "m.npz")
        assert back.hidden_size_ == 32
        pd.testing.assert_frame_equal(back.predict(), m.predict())
        long = RNNForecaster(horizon=3, max_iter=1, random_state=0).fit(
            np.sin(np.arange(400) / 5)
        )
        assert long.hidden_size_ == 64 and long._net.stack.hidden_size == 64
        given = RNNForecaster(horizon=3, max_iter=1, hidden_size=8).fit(frame)
        assert given.hidden_size_ == 8


def test_patience_rule():
    # the tails' U curve of short series
    assert auto.choose_patience("auto", early=True, short=True) == 3
    assert auto.choose_patience("auto", early=True, short=False) == 10
    assert auto.choose_patience("auto", early=False, short=True) == 10  # sklearn's
    assert auto.choose_patience(7, early=True, short=True) == 7  # as given
    assert auto.is_short([18, 23, 44, 63]) and not auto.is_short([103, 115])
    assert not auto.is_short([])


def test_validation_rows_rule():
    n = np.array([18, 40, 300, 8])
    # 10 %, at least horizon + ceil(9 / 4 series) = 9 (9 origins in all) where
    # half the series stays for training
    np.testing.assert_array_equal(auto.auto_validation_rows(n, 6), [9, 9, 30, 0])
    # one series: 9 origins of its own, else one, else 10 %
    for length, rows in ((40, 15), (20, 7), (11, 1)):
        assert auto.auto_validation_rows([length], 6)[0] == rows
    # many series: one origin each
    np.testing.assert_array_equal(auto.auto_validation_rows([18] * 20, 6), [7] * 20)


def test_validation_rows_of_long_series_span_three_horizons(monkeypatch):
    """With TAIL_HORIZONS = 3, a series of at least ten horizons holds out
    three: its tail's origins cover three stretches of time (the collections'
    tails are otherwise one horizon of one calendar period); shorter series
    keep the rule above."""
    assert auto.TAIL_HORIZONS == 0  # off by default (docs/defaults.md)
    monkeypatch.setattr(auto, "TAIL_HORIZONS", 3)
    n = np.array([100, 60, 59, 18] + [18] * 16)
    rows = auto.auto_validation_rows(n, 6)
    np.testing.assert_array_equal(rows[:4], [18, 18, 7, 7])
    # where 10 % is already more, 10 %
    assert auto.auto_validation_rows([1000], 6)[0] == 100
    monkeypatch.setattr(auto, "TAIL_HORIZONS", 0)  # the default
    np.testing.assert_array_equal(auto.auto_validation_rows(n, 6)[:4], [10, 7, 7, 7])


def test_reference_errors_against_a_loop():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 1)).cumsum(axis=0)
    indptr, train_end, h = np.array([0, 20, 50]), np.array([18, 50]), 5
    got = auto.reference_errors(y, indptr, train_end, [1, 4], h)
    for i, m in enumerate([1, 4]):
        errs = []
        for s in range(2):
            seg = y[indptr[s] : train_end[s], 0]
            seg = seg / seg.std()
            for t in range(len(seg)):
                for k in range(1, h + 1):
                    ref = t + k - m * int(np.ceil(k / m))
                    if t + k < len(seg) and ref >= 0:
                        errs.append(abs(seg[t + k] - seg[ref]))
        assert got[i] == pytest.approx(np.mean(errs))


# ---------------------------------------------------- through fit: attributes
def _quiet_fit(model, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(y)


def test_random_walk_is_differenced_and_noise_is_not():
    rng = np.random.default_rng(0)
    rw = _quiet_fit(
        RNNForecaster(horizon=3, max_iter=2, **FAST), np.cumsum(rng.normal(size=400))
    )
    assert rw.differencing_ is True
    noise = _quiet_fit(
        RNNForecaster(horizon=3, max_iter=2, **FAST), rng.normal(size=400)
    )
    assert noise.differencing_ is False


def test_daily_cycle_starts_at_seasonal_naive():
    est = _quiet_fit(RNNForecaster(horizon=12, max_iter=2, **FAST), _daily(24 * 40))
    # with noise, the mean of yesterday and last week errs less than either
    # (their noise averages): the mix of the two seasonal naives
    assert est.reference_ == (24, 168) and est.seasons_[:2] == (24, 168)
    est = _quiet_fit(
        RNNForecaster(horizon=12, max_iter=2, season_length=24, **FAST), _daily(24 * 40)
    )
    assert est.reference_ == 24 and est.seasons_[0] == 24
    assert est._layout.seasons == est.seasons_


def test_fast_noisy_sensor_starts_at_the_last_value():
    est = _quiet_fit(
        RNNForecaster(horizon=12, max_iter=2, **FAST), _fast_sensor(288 * 14)
    )
    assert est.reference_ == 1
    assert est.seasons_[0] == 1 and set(est.seasons_[1:]) == {288, 2016}


def test_head_starts_at_the_chosen_reference():
    # no training at all (one epoch at a tiny learning rate): the forecast is the
    # reference's forecast
    y = _fast_sensor(288 * 8)
    est = _quiet_fit(
        RNNForecaster(
            horizon=6,
            max_iter=1,
            learning_rate_init=1e-12,
            differencing=False,
            early_stopping=False,
            **FAST,
        ),
        y,
    )
    assert est.reference_ == 1
    # the head's output starts at the reference value plus the (random) state's
    # contribution, whose initial weights are small; the last value is far nearer
    # than the seasonal naive forecast
    last = y.iloc[-1]
    snaive = y.iloc[-288 : -288 + 6].to_numpy()
    fc = est.predict().to_numpy()
    assert np.abs(fc - last).mean() < np.abs(fc - snaive).mean()


def test_fitted_attributes_after_default_fit():
    est = _quiet_fit(RNNForecaster(horizon=4, **FAST), _daily(24 * 20))
    for name in (
        "differencing_",
        "reference_",
        "seasons_",
        "bptt_length_",
        "loss_",
        "n_epochs_",
        "selected_epochs_",
        "validation_fraction_",
        "learning_rate_",
        "n_iter_no_change_",
    ):
        assert hasattr(est, name), name
    assert est.loss_ == "absolute_error"
    # 480 rows: a long series, the former step and patience
    assert est.learning_rate_ == 3e-3 and est.n_iter_no_change_ == 10
    assert est.short_series_ is False
    assert est.bptt_length_ == 32
    assert est.n_epochs_ == est.selected_epochs_ == est.n_iter_
    assert 0 < est.validation_fraction_ < 0.5


def test_explicit_values_are_used_as_given():
    y = np.cumsum(np.random.default_rng(0).normal(size=300))  # auto would difference
    est = _quiet_fit(
        RNNForecaster(
            horizon=3,
            differencing=False,
            bptt_length=16,
            loss="squared_error",
            max_iter=3,
            early_stopping=False,
            validation_fraction=0.1,
            learning_rate_init=5e-3,
            n_iter_no_change=4,
            **FAST,
        ),
        y,
    )
    assert est.learning_rate_ == 5e-3 and est._optimizer.learning_rate == 5e-3
    assert est.n_iter_no_change_ == 4
    assert est.differencing_ is False and not est._layout.relative
    assert est.bptt_length_ == 16 and est.loss_ == "squared_error"
    assert est.n_epochs_ == est.n_iter_ == 3 and est.validation_fraction_ == 0.1
    # the old reference: the first season's seasonal naive, whatever the data say
    sensor = _fast_sensor(288 * 8)
    old = _quiet_fit(
        RNNForecaster(horizon=3, max_iter=1, reference="seasonal", **FAST), sensor
    )
    assert old.reference_ == 288 and old.seasons_ == (288, 2016)
    assert (
        _quiet_fit(
            RNNForecaster(horizon=3, max_iter=1, differencing=True, **FAST), _daily(500)
        ).differencing_
        is True
    )


def test_explicit_old_settings_reproduce_the_old_defaults_bit_for_bit():
    # the old defaults spelled out: what fit did before the auto values
    y = _daily(24 * 15)
    old = dict(
        bptt_length=32,
        differencing=False,
        reference="seasonal",
        loss="squared_error",
        max_iter=4,
        early_stopping=False,
        validation_fraction=0.1,
    )
    a = _quiet_fit(RNNForecaster(horizon=3, **old, **FAST), y)
    # the same by the low-level pieces: levels, seasonal reference first, held-out
    # tail of 10 % never trained on, 4 epochs
    assert a.n_iter_ == 4 and len(a.validation_scores_) == 1
    assert a.seasons_ == (24, 168) and not a._layout.relative
    b = _quiet_fit(RNNForecaster(horizon=3, **old, **FAST), y)
    np.testing.assert_array_equal(a.params_, b.params_)


# ------------------------------------------------------- the refit protocol
def test_refit_protocol_is_a_fresh_fit_on_every_row_for_the_selected_epochs():
    y = _daily(24 * 20, noise=0.3)
    # the network alone (test_combination: the combined head is this one's)
    est = _quiet_fit(RNNForecaster(horizon=4, max_iter=12, combination=None, **FAST), y)
    n = est.selected_epochs_
    assert 1 <= n <= 12 and len(est.validation_scores_) >= n
    assert est.n_iter_ == n
    assert n == int(np.argmax(est.validation_scores_)) + 1
    ref = _quiet_fit(
        RNNForecaster(
            horizon=4,
            max_iter=n,
            early_stopping=False,
            validation_fraction=0.0,
            tol=0.0,
            n_iter_no_change=1000,
            **FAST,
        ).set_params(
            differencing=est.differencing_,
            bptt_length=est.bptt_length_,
        ),
        y,
    )
    np.testing.assert_array_equal(est.params_, ref.params_)
    np.testing.assert_array_equal(est.predict(), ref.predict())
    # ... and the tail it selected on gave the conformal residuals
    assert len(est.conformal_scores_) and not len(ref.conformal_scores_)


def test_the_recent_past_is_trained_on():
    y = _daily(24 * 20, noise=0.3)
    other = y.copy()
    other.iloc[-30:] += 3.0  # a different recent past
    a = _quiet_fit(RNNForecaster(horizon=4, max_iter=3, **FAST), y)
    b = _quiet_fit(RNNForecaster(horizon=4, max_iter=3, **FAST), other)
    assert not np.array_equal(a.params_, b.params_)


def test_continue_protocol_trains_the_selected_weights_on_every_row():
    y = _daily(24 * 20, noise=0.3)
    est = _quiet_fit(
        RNNForecaster(horizon=4, max_iter=8, early_stopping="continue", **FAST), y
    )
    sel = _quiet_fit(
        RNNForecaster(horizon=4, max_iter=8, early_stopping="holdout", **FAST), y
    )
    assert est.selected_epochs_ == int(np.argmax(sel.validation_scores_)) + 1
    assert est.n_iter_ >= 1 and not np.array_equal(est.params_, sel.params_)
    np.testing.assert_array_equal(est.conformal_scores_, sel.conformal_scores_)


def test_intervals_work_with_the_defaults_on_a_short_series():
    y = np.cumsum(np.random.default_rng(0).normal(size=40)) + 50
    est = _quiet_fit(RNNForecaster(horizon=3, **FAST), y)
    lo, hi = est.predict_interval(coverage=0.8)
    assert np.all(lo <= hi) and len(est.conformal_scores_) >= 4


# -------------------------------------------------------------- end to end
def test_defaults_beat_seasonal_naive_on_a_seasonal_trending_collection():
    rng = np.random.default_rng(0)
    rows, truth = [], []
    n, h = 120, 12
    for i in range(30):
        t = np.arange(n + h)
        level = rng.uniform(50, 500)
        y = level * (
            1
            + rng.uniform(-0.004, 0.01) * t
            + rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * (t + i) / 12)
        ) + level * 0.03 * rng.normal(size=n + h)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": t[:n], "y": y[:n]}))
        truth.append(y[n:])
    df = pd.concat(rows, ignore_index=True)
    model = _quiet_fit(RNNForecaster(horizon=h, season_length=12, random_state=0), df)
    fc = model.predict()
    snaive = SeasonalNaiveForecaster(season_length=12).fit(df).predict(horizon=h)
    err = [
        np.abs(truth[i] - g.y.to_numpy()).mean()
        for i, (_, g) in enumerate(fc.groupby("unique_id", sort=False))
    ]
    err_sn = [
        np.abs(truth[i] - g.y.to_numpy()).mean()
        for i, (_, g) in enumerate(snaive.groupby("unique_id", sort=False))
    ]
    assert model.differencing_ and model.reference_ == 12
    assert np.mean(err) < 0.9 * np.mean(err_sn)


def test_resolved_values_survive_save_and_load(tmp_path):
    import tsrnn

    est = _quiet_fit(RNNForecaster(horizon=12, max_iter=2, **FAST), _fast_sensor(2000))
    est.save(tmp_path / "m.npz")
    back = tsrnn.load(tmp_path / "m.npz")
    for name in (
        "differencing_",
        "reference_",
        "seasons_",
        "bptt_length_",
        "loss_",
        "n_epochs_",
        "selected_epochs_",
        "validation_fraction_",
        "learning_rate_",
        "n_iter_no_change_",
        "short_series_",
    ):
        assert getattr(back, name) == getattr(est, name), name
    np.testing.assert_array_equal(back.predict(), est.predict())
    # and a continued fit reads them (partial_fit: the resolved window and loss)
    back.partial_fit(_fast_sensor(2100).iloc[2000:])


def test_short_series_train_with_the_larger_step():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(6), 30),
            "ds": np.tile(np.arange(30), 6),
            "y": np.cumsum(rng.normal(size=180)) + 50,
        }
    )
    est = _quiet_fit(RNNForecaster(horizon=3, max_iter=2, **FAST), frame)
    assert est.learning_rate_ == 1e-2 and est._optimizer.learning_rate == 1e-2
    assert est.short_series_ and est.n_iter_no_change_ == 3
    # a warm fit continues with the resolved step, an explicit one wins
    _quiet_fit(est.set_params(warm_start=True), frame)
    assert est._optimizer.learning_rate == 1e-2
    _quiet_fit(est.set_params(learning_rate_init=1e-3), frame)
    assert est._optimizer.learning_rate == 1e-3


def test_the_reference_alone_is_kept_when_no_epoch_beats_it_on_the_tails():
    # an exactly repeating day: seasonal naive is perfect, training cannot beat it
    t = np.arange(24 * 30)
    y = pd.Series(
        10 + np.sin(2 * np.pi * t / 24) + 0.5 * np.cos(2 * np.pi * t / 8),
        index=pd.date_range("2024-01-01", periods=len(t), freq="h"),
    )
    est = _quiet_fit(RNNForecaster(horizon=6, max_iter=3, **FAST), y)
    # a day and a week back are both exact
    assert est.reference_ in (24, 168)
    assert est.selected_epochs_ == 0 and est.n_iter_ == 0
    np.testing.assert_allclose(est.predict().to_numpy(), y.iloc[-24:-18], atol=1e-9)
    # its residuals on the tails are the reference's: zero
    np.testing.assert_allclose(np.nan_to_num(est.conformal_scores_), 0.0, atol=1e-9)


def test_explicit_season_with_the_last_value_chosen_saves_and_loads(tmp_path):
    import tsrnn

    est = _quiet_fit(
        RNNForecaster(horizon=6, max_iter=1, season_length=288, **FAST),
        _fast_sensor(288 * 6),
    )
    assert est.reference_ == 1 and est.seasons_ == (1, 288)
    est.save(tmp_path / "m.npz")
    back = tsrnn.load(tmp_path / "m.npz")
    assert back.seasons_ == (1, 288)
    np.testing.assert_array_equal(back.predict(), est.predict())


# ------------------------------------------------- seasons found in the data
def _calls(n_days, per_day=60, seed=0, scale=1.0, ar=0.7):
    """Counts over business hours given as positions: a daily profile (5 days a
    week, Fridays busier), day-to-day level changes (AR ``ar``) and Poisson
    noise (relatively smaller for a larger ``scale``)."""
    rng = np.random.default_rng(seed)
    p = np.arange(per_day)
    profile = scale * (50 + 40 * np.sin(np.pi * p / per_day))
    days = []
    level = 0.0
    for d in range(n_days):
        level = ar * level + rng.normal(scale=5 * scale)
        friday = 15.0 * scale if d % 5 == 4 else 0.0
        days.append(rng.poisson(np.maximum(profile + level + friday, 1.0)))
    return pd.Series(np.concatenate(days).astype(float))


def _one(y):
    y = np.asarray(y, float).reshape(len(y), -1)
    return y, np.array([0, len(y)]), np.array([len(y)])


def test_detect_seasons_finds_a_day_and_a_week_without_a_frequency():
    y = _calls(60)
    assert auto.detect_seasons(*_one(y)) == (60, 300)
    # a trend does not hide the day (the least-squares line is removed first)
    y2 = _calls(60).to_numpy() + 0.05 * np.arange(len(y))
    assert auto.detect_seasons(*_one(y2))[0] == 60


def test_detect_seasons_finds_nothing_in_noise_and_random_walks():
    rng = np.random.default_rng(3)
    found = 0
    for _ in range(30):
        found += bool(auto.detect_seasons(*_one(rng.normal(size=600))))
        found += bool(auto.detect_seasons(*_one(np.cumsum(rng.normal(size=600)))))
    # the test's familywise level is 10 % per series of noise
    assert found <= 4


def test_detect_seasons_needs_three_seasons_of_history():
    t = np.arange(250)
    y = np.sin(2 * np.pi * t / 100)  # 2.5 cycles: lags up to 83 only
    assert auto.detect_seasons(*_one(y)) == ()
    # the bound is Bartlett's under "correlated up to m - 1": a smooth cycle
    # needs many repeats to be told from a slow wander (4 are not enough)
    y = np.sin(2 * np.pi * np.arange(400) / 100)
    assert auto.detect_seasons(*_one(y)) == ()
    # and its multiples (200, 300, ...) are no second season: they only decay
    y = np.sin(2 * np.pi * np.arange(3000) / 100)
    assert auto.detect_seasons(*_one(y)) == (100,)


def test_detect_seasons_pools_a_collection():
    # short series (too noisy alone) that share a period of 12 find it together
    rng = np.random.default_rng(0)
    parts = [
        np.sin(2 * np.pi * (np.arange(48) + rng.integers(12)) / 12)
        + rng.normal(scale=1.5, size=48)
        for _ in range(200)
    ]
    y = np.concatenate(parts)[:, None]
    indptr = np.arange(0, 48 * 201, 48)
    assert auto.detect_seasons(y, indptr, indptr[1:])[0] == 12


def test_season_peaks_significance_follows_bartlett():
    # a peak of 0.2 at lag 10 is significant with 10 000 observations, not 50
    r = np.zeros(21)
    r[0], r[10] = 1.0, 0.2
    assert auto.season_peaks(r, 10_000) == [10]
    assert auto.season_peaks(r, 50) == []
    # a slowly decaying autocorrelation (a trend) has no rise: no season
    assert auto.season_peaks(np.exp(-np.arange(50) / 40.0), 10_000) == []


def _walk_with_cycle(seed, n=2400, period=24, amplitude=3.0, week=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.cumsum(rng.normal(size=n)) + amplitude * np.sin(2 * np.pi * t / period)
    return y + week * ((t // period) % 7 == 6)


def test_detect_seasons_finds_a_cycle_in_the_changes_of_a_random_walk():
    # a sea temperature at positions: a random walk with a daily cycle; the
    # levels' slowly decaying autocorrelation hides the day, its changes show it
    for seed in range(3):
        y = _walk_with_cycle(seed)
        assert auto._seasons_in(*_one(y), 800, repeats=1) == ()
        assert auto.detect_seasons(*_one(y)) == (24,)
    # a week of days in the changes: the seventh day back rises above the sixth
    y = _walk_with_cycle(0, n=6000, week=8.0)
    assert auto.detect_seasons(*_one(y)) == (24, 168)


def test_detect_seasons_ignores_lone_peaks_in_clustered_changes():
    # prices: changes whose volatility clusters (GARCH(1, 1)) make lone
    # autocorrelation peaks beyond Bartlett's bound; a cycle must repeat
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(10):
        n = 3000
        e, r, s2 = rng.standard_normal(n), np.zeros(n), np.ones(n)
        for t in range(1, n):
            s2[t] = 0.05 + 0.1 * r[t - 1] ** 2 + 0.85 * s2[t - 1]
            r[t] = np.sqrt(s2[t]) * e[t]
        found += bool(auto.detect_seasons(*_one(np.cumsum(r))))
    assert found <= 1


def test_season_peaks_repeats_asks_for_significant_multiples():
    r = np.zeros(41)
    r[0], r[10] = 1.0, 0.2
    assert auto.season_peaks(r, 10_000) == [10]
    assert auto.season_peaks(r, 10_000, repeats=3) == []  # a lone peak
    r[20] = r[30] = 0.2
    # 10 repeats at 20 and 30; 20 and 30 have no third multiple within the lags
    assert auto.season_peaks(r, 10_000, repeats=3) == [10]


def test_season_length_is_detected_without_a_frequency_and_levels_are_kept():
    # the persistence vote sees the detected day: a cycle around a level is not
    # differenced (without the season its slow daily swings look persistent)
    y = _calls(40, per_day=96, scale=20.0, ar=0.3)
    # the vote without the season says persistent, with it not
    assert auto.is_persistent(y.to_numpy()) and not auto.is_persistent(y.to_numpy(), 96)
    est = _quiet_fit(RNNForecaster(horizon=6, max_iter=1, **FAST), y)
    assert est.season_length_[0] == 96
    assert est.differencing_ is False
    assert set(est.seasons_) >= set(est.season_length_)
    assert est.deseasonalized_.all()


def test_season_length_from_the_frequency_or_as_given():
    est = _quiet_fit(RNNForecaster(horizon=4, max_iter=1, **FAST), _daily(24 * 20))
    assert est.season_length_ == (24, 168)
    y = _calls(30)
    est = _quiet_fit(RNNForecaster(horizon=4, max_iter=1, season_length=7, **FAST), y)
    assert est.season_length_ == (7,)
    est = _quiet_fit(
        RNNForecaster(horizon=4, max_iter=1, season_length=None, **FAST), y
    )
    assert est.season_length_ == (1,)
    rng = np.random.default_rng(0)
    est = _quiet_fit(
        RNNForecaster(horizon=4, max_iter=1, **FAST), np.cumsum(rng.normal(size=500))
    )
    assert est.season_length_ == (1,)


def test_detected_season_survives_save_load_and_update(tmp_path):
    import tsrnn

    y = _calls(30)
    est = _quiet_fit(RNNForecaster(horizon=6, max_iter=1, **FAST), y.iloc[:1500])
    assert est.season_length_[0] == 60
    est.save(tmp_path / "m.npz")
    back = tsrnn.load(tmp_path / "m.npz")
    assert back.season_length_ == est.season_length_
    np.testing.assert_array_equal(back.predict(), est.predict())
    est.update(y.iloc[1500:1560])
    back.update(y.iloc[1500:1560])
    np.testing.assert_allclose(back.predict(), est.predict())


# ------------------------------------------- the mix of two seasonal naives
def _day_and_week(n_weeks, seed=0):
    """Hourly: a daily profile, a weekly one (quiet weekends) and a level that
    wanders from week to week; yesterday and last week each miss by their own
    accidents, their mean by less."""
    rng = np.random.default_rng(seed)
    t = np.arange(24 * 7 * n_weeks)
    day = np.sin(2 * np.pi * t / 24)
    weekend = ((t // 24) % 7 >= 5) * -1.0
    level = np.repeat(np.cumsum(rng.normal(scale=0.1, size=7 * n_weeks)), 24)
    y = 10 + day + weekend + level + 0.5 * rng.normal(size=len(t))
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=len(t), freq="h"))


def test_reference_errors_of_a_mix_against_a_loop():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(60, 1))
    indptr, end = np.array([0, 60]), np.array([50])
    got = auto.reference_errors(y, indptr, end, [(3, 7)], horizon=4)
    sd = np.nanstd(y[:50, 0])
    errs = []
    for t in range(50):  # origin t: forecasts of rows t + k within the training rows
        for k in range(1, 5):
            r = t + k
            lags = [3 * int(np.ceil(k / 3)), 7 * int(np.ceil(k / 7))]
            if r < 50 and r - max(lags) >= 0:
                fc = np.mean([y[r - g, 0] for g in lags])
                errs.append(abs(y[r, 0] - fc) / sd)
    assert got[0] == pytest.approx(np.mean(errs))


def test_mix_of_a_day_and_a_week_is_chosen_when_it_errs_least():
    y = _day_and_week(12)
    Y, indptr, end = _one(y)
    err = auto.reference_errors(Y, indptr, end, [1, 24, 168, (24, 168)], horizon=24)
    assert np.argmin(err) == 3
    assert auto.choose_reference(Y, indptr, end, (24, 168), 24) == (24, 168)
    # one season: no mix candidate
    assert auto.choose_reference(Y, indptr, end, (24,), 24) == 24
    assert auto.order_seasons((24, 168), (24, 168)) == (24, 168)
    assert auto.order_seasons((1, 168, 24), (24, 168)) == (24, 168, 1)


def test_head_starts_at_the_mean_of_the_mixed_seasonal_naives(tmp_path):
    import tsrnn

    y = _day_and_week(12)
    est = _quiet_fit(
        RNNForecaster(
            horizon=24,
            max_iter=1,
            learning_rate_init=1e-12,
            differencing=False,
            early_stopping=False,
            references=None,
            **FAST,
        ),
        y,
    )
    assert est.reference_ == (24, 168) and est.seasons_[:2] == (24, 168)
    E = est._net.layout.views(est.params_)["head.extra_weight"]
    c, k = est._layout.n_known, est._layout.n_targets
    np.testing.assert_allclose(E[:, 0, 2 * c], 0.5)
    np.testing.assert_allclose(E[:, 0, c + (c + k) + c], 0.5)
    # the untrained forecast is near the mean of yesterday and last week
    mix = (y.iloc[-24:].to_numpy() + y.iloc[-168:-144].to_numpy()) / 2
    fc = est.predict().to_numpy()
    assert np.abs(fc - mix).mean() < np.abs(fc - y.iloc[-24:].to_numpy()).mean()
    est.save(tmp_path / "m.npz")
    back = tsrnn.load(tmp_path / "m.npz")
    assert back.reference_ == (24, 168)
    np.testing.assert_array_equal(back.predict(), est.predict())


@pytest.mark.parametrize(
    "frequency, expected", [("monthly", (12,)), ("quarterly", (4,)), ("yearly", ())]
)
def test_detect_seasons_finds_the_m3_periods_in_an_integer_indexed_long_frame(
    frequency, expected
):
    from tsrnn.datasets import load_m3

    train, _ = load_m3(frequency=frequency).split()
    parts = [g.to_numpy(float) for _, g in train.groupby("unique_id", sort=False).y]
    y = np.concatenate(parts)[:, None]
    indptr = np.r_[0, np.cumsum([len(p) for p in parts])]
    assert auto.detect_seasons(y, indptr, indptr[1:]) == expected


# ------------------------------------------- the reference chosen on the tails
def test_reference_contest_only_where_the_mix_leads_in_sample():
    # one season: the in-sample error decides alone (M3, Tourism: unchanged)
    assert auto.reference_contest([1, 12], np.array([0.5, 0.4])) == [12]
    # a day and a week: the two best in-sample, best first (ties: earlier)
    lags = [1, 24, 168, (24, 168)]
    assert auto.reference_contest(lags, np.array([0.9, 0.4, 0.37, 0.33])) == [
        (24, 168),
        168,
    ]
    assert auto.reference_contest(lags, np.array([0.9, 0.4, 0.4, np.nan])) == [24]
    # a single lag errs least in sample: it decides alone, the mix gets no
    # run (a random walk's last value against a mix far behind it)
    assert auto.reference_contest(lags, np.array([0.19, 1.03, 1.13, 0.9])) == [1]
    assert auto.reference_contest(lags, np.array([0.9, 0.35, 0.4, 0.37])) == [24]
    assert auto.reference_contest(lags, np.full(4, np.nan)) == [1]


def _week_and_covariate(seed, days=70):
    """Hourly: a day, weekday levels, and a known covariate added hour by hour.

    Alone, the mean of a day and a week back errs least (it halves the
    covariate's noise); corrected by the covariate, the week back is exact
    but the mix keeps half of the weekday differences.
    """
    rng = np.random.default_rng(seed)
    n = 24 * days
    t = np.arange(n)
    dow = rng.normal(0, 0.5, 7)
    x = rng.normal(0, 1.0, n)
    y = 10 + np.sin(2 * np.pi * t / 24) + dow[(t // 24) % 7] + x
    y = y + 0.05 * rng.normal(size=n)
    idx = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.Series(y, index=idx), pd.DataFrame({"x": x}, index=idx)


@pytest.mark.parametrize("seed", [0, 1])
def test_tails_choose_the_week_where_a_covariate_explains_its_error(seed):
    y, X = _week_and_covariate(seed)
    lags = auto.reference_candidates((24, 168))
    err = auto.reference_errors(
        y.to_numpy()[:, None], np.array([0, len(y)]), np.array([len(y)]), lags, 12
    )
    assert auto.reference_from_errors(lags, err) == (24, 168)  # in-sample: the mix
    kw = dict(horizon=12, max_iter=10, hidden_size=5, random_state=seed)
    est = _quiet_fit_x(RNNForecaster(**kw), y, X)
    assert est.reference_ == 168 and est.seasons_[0] == 168
    scores = est.reference_scores_
    assert set(scores) == {"(24, 168)", "168"} and scores["168"] > scores["(24, 168)"]
    # without the covariate nothing explains the week's error: the mix stays
    plain = _quiet_fit(RNNForecaster(**kw), y)
    assert plain.reference_ == (24, 168)


def test_no_contest_with_one_season_or_a_forced_reference():
    y, X = _week_and_covariate(0, days=40)
    kw = dict(horizon=6, max_iter=2, hidden_size=5, random_state=0)
    one = _quiet_fit_x(RNNForecaster(season_length=24, **kw), y, X)
    assert not hasattr(one, "reference_scores_")
    forced = _quiet_fit_x(RNNForecaster(reference="seasonal", **kw), y, X)
    assert forced.reference_ == 24 and not hasattr(forced, "reference_scores_")


def test_no_contest_without_covariates_or_calendar():
    # positions (no calendar) and no covariates: nothing known about the
    # target step to correct a start with; the in-sample choice stays
    y, _ = _week_and_covariate(0, days=40)
    est = _quiet_fit(
        RNNForecaster(horizon=6, max_iter=2, hidden_size=5, random_state=0),
        y.reset_index(drop=True),
    )
    assert len(est.season_length_) == 2  # a day and a week detected
    assert not hasattr(est, "reference_scores_")


def _quiet_fit_x(model, y, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(y, X)


# --------------------------------------------- seasonality of a persistent series
def test_season_in_changes_sees_a_cycle_riding_on_a_random_walk():
    # a strong cycle on a walk: the changes' phase means differ
    rng = np.random.default_rng(0)
    t = np.arange(24 * 60)
    y = np.cumsum(rng.normal(size=len(t))) + 5 * np.sin(2 * np.pi * t / 24)
    assert auto.season_in_changes(y, 24)
    # quarterly, short: a strong seasonal pattern on a walk, 12 years
    q = np.cumsum(rng.normal(size=48)) + np.tile([4.0, -2.0, 3.0, -5.0], 12)
    assert auto.season_in_changes(q, 4)


def test_season_in_changes_is_a_test_at_its_level_on_random_walks():
    # no cycle: the F test of independent changes rejects about `level` of walks,
    # while M4's levels test passes nearly every one by persistence alone
    from tsrnn.smoothing.seasonality import seasonality_test

    rng = np.random.default_rng(1)
    walks = [np.cumsum(rng.normal(size=24 * 30)) for _ in range(200)]
    found = np.mean([auto.season_in_changes(w, 24) for w in walks])
    assert 0.04 < found < 0.17
    assert np.mean([seasonality_test(w, 24) for w in walks]) > 0.9


def test_season_in_changes_misses_a_faint_cycle_under_a_walk():
    # a weak daily cycle (0.3) under a walk of 0.3 a step: invisible in the
    # changes at 5-minute resolution (its change per step is 0.0065)
    rng = np.random.default_rng(2)
    t = np.arange(288 * 40)
    y = np.cumsum(0.3 * rng.normal(size=len(t))) + 0.3 * np.sin(2 * np.pi * t / 288)
    assert not auto.season_in_changes(y, 288)


def test_season_in_changes_edge_cases():
    assert not auto.season_in_changes(np.arange(10.0), 1)  # no season
    assert not auto.season_in_changes(np.array([1.0, 2.0]), 4)  # one phase seen
    cycle = np.tile([0.0, 1.0, 3.0, 1.0], 10)  # noiseless: every phase exact
    assert auto.season_in_changes(cycle, 4)
    gappy = np.cumsum(np.random.default_rng(3).normal(size=400)) + np.tile(
        [6.0, 0.0, -6.0, 0.0], 100
    )
    gappy[::7] = np.nan
    assert auto.season_in_changes(gappy, 4)


def test_persistent_series_without_a_seasonal_change_is_not_deseasonalized():
    from tsrnn.estimators.forecaster import transforms

    rng = np.random.default_rng(4)
    t = np.arange(24 * 40)
    walk = 50 + np.cumsum(rng.normal(size=len(t)))
    faint = walk + 0.05 * np.sin(2 * np.pi * t / 24)  # passes M4's test by persistence
    strong = walk + 8 * np.sin(2 * np.pi * t / 24)
    noisy_cycle = 50 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(size=len(t))
    y = np.concatenate([faint, strong, noisy_cycle])[:, None]
    indptr = np.array([0, len(t), 2 * len(t), 3 * len(t)])
    train_end = indptr[1:]
    got = transforms.Seasonal.fit("auto", 24, y, indptr, train_end).active[:, 0]
    assert got.tolist() == [0.0, 1.0, 1.0]
    old = transforms.SEASON_IN_CHANGES
    try:
        transforms.SEASON_IN_CHANGES = False  # M4's levels test alone
        got = transforms.Seasonal.fit("auto", 24, y, indptr, train_end).active[:, 0]
    finally:
        transforms.SEASON_IN_CHANGES = old
    assert got.tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------- a smooth cycle over a few seasons
def _sine_months(rng, n=42, noise=0.5):
    t = np.arange(n)
    return 10 + np.sin(2 * np.pi * t / 12) + noise * rng.normal(size=n)


def test_season_in_levels_sees_a_smooth_cycle_the_m4_test_misses():
    from tsrnn.smoothing.seasonality import seasonality_test

    rng = np.random.default_rng(5)
    series = [_sine_months(rng) for _ in range(100)]
    # 42 months, 3.5 seasons: Bartlett's bound, inflated by the cycle's own
    # short-lag autocorrelations, swamps the peak at lag 12
    assert np.mean([seasonality_test(y, 12) for y in series]) < 0.25
    assert np.mean([auto.season_in_levels(y, 12) for y in series]) > 0.95
    # a trend under the cycle is removed first
    trend = [y + 0.3 * np.arange(42) for y in series[:20]]
    assert all(auto.season_in_levels(y, 12) for y in trend)


def test_season_in_levels_is_a_test_at_its_level():
    rng = np.random.default_rng(6)
    noise = [10 + rng.normal(size=48) for _ in range(400)]
    found = np.mean([auto.season_in_levels(y, 12) for y in noise])
    assert 0.05 < found < 0.15
    # persistence inflates the within-phase variance: walks pass less often
    walks = [np.cumsum(rng.normal(size=48)) for _ in range(400)]
    assert np.mean([auto.season_in_levels(y, 12) for y in walks]) < 0.06


def test_season_in_levels_against_a_naive_anova():
    # the F statistic and its p-value by hand: residuals of the line, phase
    # means, between and within mean squares, scipy's F survival function
    from scipy import stats

    rng = np.random.default_rng(7)
    y = _sine_months(rng, n=40, noise=2.0)
    t = np.arange(40.0)
    slope, intercept = np.polyfit(t, y, 1)
    r = y - (intercept + slope * t)
    groups = [r[t.astype(int) % 12 == p] for p in range(12)]
    f, _ = stats.f_oneway(*groups)  # within df n - k; ours n - k - 1 (the line)
    f_ours = f * (40 - 12 - 1) / (40 - 12)
    p = stats.f.sf(f_ours, 11, 40 - 12 - 1)
    for level in (0.01, 0.1, 0.5):
        assert auto.season_in_levels(y, 12, level) == (p < level)


def test_season_in_levels_edge_cases():
    assert not auto.season_in_levels(np.arange(40.0), 1)  # no season
    assert not auto.season_in_levels(np.ones(20), 12)  # under three seasons
    cycle = np.tile([0.0, 1.0, 3.0, 1.0], 10)  # noiseless: exact phases
    assert auto.season_in_levels(cycle, 4)
    assert not auto.season_in_levels(np.full(40, 3.0), 4)  # constant
    gappy = _sine_months(np.random.default_rng(8), n=60, noise=0.3)
    gappy[::5] = np.nan
    assert auto.season_in_levels(gappy, 12)


def test_seasonal_fit_second_test_switch():
    from tsrnn.estimators.forecaster import transforms

    rng = np.random.default_rng(9)
    y = np.concatenate([_sine_months(rng), 10 + rng.normal(size=42) * 0.01 + 0.0])[:, None]
    indptr = np.array([0, 42, 84])
    train_end = indptr[1:]
    old = transforms.SEASON_IN_LEVELS
    try:
        transforms.SEASON_IN_LEVELS = False
        off = transforms.Seasonal.fit("auto", 12, y, indptr, train_end)
        transforms.SEASON_IN_LEVELS = True
        on = transforms.Seasonal.fit("auto", 12, y, indptr, train_end)
    finally:
        transforms.SEASON_IN_LEVELS = old
    assert off.active[0, 0] == 0.0
    assert on.active[0, 0] == 1.0
    # the indices are the classical ones decompose gives where M4's test passes
    from tsrnn.smoothing import indices_of

    idx, mult = indices_of(y[:42, 0] / np.nanmax(np.abs(y[:42, 0])), 12)
    np.testing.assert_allclose(on.indices[0, :, 0], idx)
    assert on.multiplicative[0, 0] == float(mult)
