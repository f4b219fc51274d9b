"""Ragged sequences in the window models: padding never reaches anything.

The reference everywhere is each sequence run alone: its gradient from
``Network.loss_grad`` on that sequence only (no padding exists), its
prediction from a call with that one sequence. Batched ragged training must
give the sample-weighted mean of the single-sequence gradients; predictions
must be those of each sequence alone; the NaN-padded 3-D form must be the list
form bit for bit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn.data.sequences import is_sequence_input, read_sequences
from tsrnn.engine import LinearHead, Network, RecurrentStack, get_loss, make_optimizer
from tsrnn.estimators import RNNClassifier, RNNRegressor
from tsrnn.estimators.window.base import _epoch_batches

LENGTHS = [5, 3, 7, 3, 5, 6, 2, 7, 1]
POOLINGS = ["last", "mean", "max", "attention"]

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def ragged(lengths=LENGTHS, n_features=2, seed=0):
    rng = np.random.default_rng(seed)
    seqs = [rng.standard_normal((T, n_features)) for T in lengths]
    # a target that needs the whole sequence (its sum), not its last steps
    y = np.array([s.sum() + 0.1 * T for s, T in zip(seqs, lengths)])
    return seqs, y


def padded(seqs, extra=2):
    T = max(len(s) for s in seqs) + extra
    out = np.full((len(seqs), T, seqs[0].shape[1]), np.nan)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out


# ----------------------------------------------------------------- the engine
def network(cell, pooling, bidirectional, n_out, num_layers=1):
    stack = RecurrentStack(cell, 2, 3, num_layers, "tanh", True, bidirectional,
                           np.float64)
    head = LinearHead((2 if bidirectional else 1) * 3, n_out, pooling=pooling)
    return Network(stack, head)


def groups_of(seqs, Y, rows):
    lengths = np.array([len(seqs[i]) for i in rows])
    for T in np.unique(lengths):
        picked = [r for r, L in zip(rows, lengths) if L == T]
        x = np.ascontiguousarray(np.stack([seqs[r] for r in picked], axis=1))
        yield x, Y[picked], None, len(picked) / len(rows)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_grouped_gradient_is_the_weighted_sum_of_single_sequence_gradients(
    cell, pooling, bidirectional
):
    seqs, y = ragged()
    net = network(cell, pooling, bidirectional, 1, num_layers=2)
    theta = net.init_params(np.random.default_rng(1))
    theta[-net.head.layout.size :] += 0.3  # attention and bias not at zero
    Y = y.reshape(-1, 1)
    rows = list(range(len(seqs)))
    loss_fn = get_loss("squared_error")
    alpha, n = 0.01, len(rows)
    loss, grad, dh = net.grouped_loss_grad(theta, groups_of(seqs, Y, rows), loss_fn,
                                           alpha=alpha, n_samples=n)
    ref_loss, ref_grad = 0.0, np.zeros_like(theta)
    for i in rows:
        x = np.ascontiguousarray(seqs[i][:, None, :])
        li, gi, _, _ = net.loss_grad(theta, x, Y[i : i + 1], None, loss_fn,
                                     alpha=alpha, n_samples=n)
        ref_loss += li / n
        ref_grad += gi / n
    assert_allclose(loss, ref_loss, rtol=1e-12)
    assert_allclose(grad, ref_grad, rtol=1e-11, atol=1e-13)
    assert dh.shape == (4 if bidirectional else 2, max(LENGTHS))
    assert np.isfinite(dh).all() and (dh >= 0).all()


@pytest.mark.parametrize("pooling", POOLINGS)
def test_grouped_gradient_matches_finite_differences(pooling):
    """The combined loss is a function of theta; its gradient is the grouped one."""
    seqs, y = ragged(lengths=[4, 2, 4, 3])
    net = network("gru", pooling, True, 3)
    theta = net.init_params(np.random.default_rng(2))
    labels = np.array([0, 2, 1, 2])
    loss_fn = get_loss("cross_entropy")

    def loss_at(t):
        return net.grouped_loss_grad(t, groups_of(seqs, labels, [0, 1, 2, 3]),
                                     loss_fn, alpha=0.1, n_samples=4)

    _, grad, _ = loss_at(theta)
    rng = np.random.default_rng(3)
    for _ in range(4):
        v = rng.standard_normal(theta.size)
        eps = 1e-6
        fd = (loss_at(theta + eps * v)[0] - loss_at(theta - eps * v)[0]) / (2 * eps)
        assert_allclose(grad @ v, fd, rtol=1e-7, atol=1e-9)


def test_one_group_step_is_the_plain_train_step():
    seqs, y = ragged(lengths=[4, 4, 4])
    net = network("lstm", "mean", False, 1)
    theta = net.init_params(np.random.default_rng(0))
    Y = y.reshape(-1, 1)
    x = np.ascontiguousarray(np.stack(seqs, axis=1))
    a, b = theta.copy(), theta.copy()
    loss_fn = get_loss("squared_error")
    opt_a = make_optimizer("adam", net.size, 0.01, np.float64)
    opt_b = make_optimizer("adam", net.size, 0.01, np.float64)
    ra = net.train_step(a, opt_a, x, Y, None, loss_fn, clip_norm=1.0, alpha=0.1,
                        n_samples=3)
    rb = net.grouped_train_step(b, opt_b, [(x, Y, None, 1.0)], loss_fn, clip_norm=1.0,
                                alpha=0.1, n_samples=3)
    assert ra.loss == rb.loss and ra.grad_norm == rb.grad_norm
    assert_array_equal(a, b)
    assert_array_equal(ra.dh_norm, rb.dh_norm)


# ------------------------------------------------------------ the estimators
@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_each_prediction_is_that_of_the_sequence_alone(pooling, bidirectional):
    seqs, y = ragged()
    reg = RNNRegressor("gru", 4, pooling=pooling, bidirectional=bidirectional,
                       max_iter=3, batch_size=4, random_state=0).fit(seqs, y)
    together = reg.predict(seqs)
    alone = np.array([reg.predict([s])[0] for s in seqs])
    assert_allclose(together, alone, rtol=1e-12, atol=1e-14)
    # and a sequence is read from its own end: its padded twin in a 3-D array
    # of longer windows predicts the same
    assert_allclose(reg.predict(padded(seqs, extra=3)), together, rtol=0, atol=0)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_3d_equals_the_list_form(bidirectional):
    seqs, y = ragged()
    make = dict(hidden_size=4, pooling="attention", bidirectional=bidirectional,
                max_iter=3, batch_size=3, random_state=0)
    a = RNNRegressor("lstm", **make).fit(seqs, y)
    b = RNNRegressor("lstm", **make).fit(padded(seqs), y)
    assert_array_equal(a.params_, b.params_)
    assert a.loss_curve_ == b.loss_curve_
    assert a.window_ == b.window_ == max(LENGTHS)
    assert_array_equal(a.predict(padded(seqs)), a.predict(seqs))
    # tuples and nested lists are lists of sequences too
    c = RNNRegressor("lstm", **make).fit(tuple(s.tolist() for s in seqs), y)
    assert_array_equal(a.params_, c.params_)


def initial_params(est):
    """The parameters ``est`` starts training from (its fit's seeding)."""
    seed = np.random.RandomState(est.random_state).randint(np.iinfo(np.int32).max)
    return est._network.init_params(np.random.default_rng(seed))


@pytest.mark.parametrize("pooling", POOLINGS)
def test_full_batch_fit_steps_on_the_mean_of_single_sequence_gradients(pooling):
    """One SGD step on the whole ragged set = theta0 - lr * mean of alone-gradients."""
    seqs, y = ragged()
    lr = 0.05
    reg = RNNRegressor("lstm", 3, pooling=pooling, bidirectional=True, solver="sgd",
                       momentum=0.0, learning_rate_init=lr, clip_norm=None,
                       alpha=0.01, batch_size=len(seqs), shuffle=False, max_iter=1,
                       random_state=4).fit(seqs, y)
    net = reg._network
    theta0 = initial_params(reg)
    Y = ((y - reg._y_mean) / reg._y_scale).reshape(-1, 1)
    grad = np.zeros_like(theta0)
    n = len(seqs)
    for i, s in enumerate(seqs):
        _, g, _, _ = net.loss_grad(theta0, np.ascontiguousarray(s[:, None]),
                                   Y[i : i + 1], None, get_loss("squared_error"),
                                   alpha=0.01, n_samples=n)
        grad += g / n
    assert_allclose(reg.params_, theta0 - lr * grad, rtol=1e-12, atol=1e-14)


def test_fit_one_sequence_per_batch_equals_feeding_them_one_at_a_time():
    """batch_size=1: Adam steps on each sequence alone, in order of their lengths."""
    seqs, y = ragged()
    labels = np.where(y > np.median(y), "high", "low")
    params = dict(cell="gru", hidden_size=4, pooling="max", bidirectional=True,
                  batch_size=1, shuffle=False, random_state=0)
    clf = RNNClassifier(max_iter=2, **params).fit(seqs, labels)
    one = RNNClassifier(**params)
    order = np.argsort([len(s) for s in seqs], kind="stable")
    for _ in range(2):
        for i in order:
            one.partial_fit([seqs[i]], labels[i : i + 1], classes=["high", "low"])
    assert_array_equal(clf.params_, one.params_)
    assert_array_equal(clf.predict_proba(seqs), one.predict_proba(seqs))


def test_equal_length_list_equals_the_3d_array():
    seqs, y = ragged(lengths=[6] * 12)
    make = dict(hidden_size=4, max_iter=3, batch_size=5, random_state=0)
    a = RNNRegressor("gru", **make).fit(seqs, y)
    b = RNNRegressor("gru", **make).fit(np.stack(seqs), y)
    assert_array_equal(a.params_, b.params_)
    assert_array_equal(a.predict(seqs), b.predict(np.stack(seqs)))


def test_ragged_fitted_model_attributes_and_other_inputs():
    seqs, y = ragged()
    reg = RNNRegressor("lstm", 4, max_iter=2, random_state=0).fit(seqs, y)
    assert reg.input_size_ == 2 and reg.window_ == max(LENGTHS)
    assert reg.n_features_in_ == 2 * max(LENGTHS)
    # fixed windows of window_ steps, 2-D or 3-D, are still read as before
    full = np.stack([s for s in seqs if len(s) == max(LENGTHS)])
    assert_array_equal(reg.predict(full.reshape(len(full), -1)), reg.predict(full))
    # sequences longer than any seen at fit are fine: the network has no length
    longer = [np.ones((12, 2)), np.ones((3, 2))]
    assert np.isfinite(reg.predict(longer)).all()
    # partial_fit continues on sequences of other lengths
    reg.partial_fit(longer, [1.0, 2.0])
    assert reg.n_iter_ == 3
    # 1-D sequences are univariate (input_size features per step)
    uni = RNNClassifier("rnn", 3, max_iter=2, random_state=0).fit(
        [np.arange(float(T)) for T in LENGTHS], np.arange(len(LENGTHS)) % 2
    )
    assert uni.input_size_ == 1
    assert uni.predict_proba([np.ones(4), np.ones(9)]).shape == (2, 2)
    wide = RNNRegressor("rnn", 3, input_size=2, max_iter=1, random_state=0).fit(
        [s.ravel() for s in seqs], y
    )
    assert_array_equal(
        wide.params_,
        RNNRegressor("rnn", 3, input_size=2, max_iter=1, random_state=0)
        .fit(seqs, y).params_,
    )


def test_a_model_fitted_on_ragged_input_saves_and_loads(tmp_path):
    seqs, y = ragged()
    clf = RNNClassifier("sru", 4, pooling="mean", bidirectional=True, max_iter=2,
                        random_state=0).fit(seqs, y > 0)
    path = tmp_path / "ragged.npz"
    clf.save(path)
    back = tsrnn.load(path)
    assert back.window_ == clf.window_ and back.input_size_ == 2
    assert_array_equal(back.predict_proba(seqs), clf.predict_proba(seqs))
    assert_array_equal(back.predict_proba(padded(seqs)), clf.predict_proba(seqs))
    # training continues exactly after loading
    clf.partial_fit(seqs, y > 0)
    back.partial_fit(seqs, y > 0)
    assert_array_equal(back.params_, clf.params_)


def test_early_stopping_validates_on_the_ragged_tail():
    seqs, y = ragged(lengths=[3, 8, 4, 6, 5, 7, 2, 9, 4, 6, 3, 5] * 2)
    reg = RNNRegressor("gru", 4, early_stopping=True, validation_fraction=0.25,
                       max_iter=4, n_iter_no_change=10, random_state=0).fit(seqs, y)
    assert len(reg.validation_scores_) == 4
    assert np.isfinite(reg.validation_scores_).all()


def test_float32_ragged_fit_and_predict():
    seqs, y = ragged()
    reg = RNNRegressor("lstm", 4, dtype="float32", max_iter=2, random_state=0)
    reg.fit(seqs, y)
    assert reg.params_.dtype == np.float32
    assert_allclose(reg.predict(seqs), [reg.predict([s])[0] for s in seqs],
                    rtol=1e-5, atol=1e-6)


def test_user_inputs_are_not_modified():
    seqs, y = ragged()
    pad = padded(seqs)
    copies = [s.copy() for s in seqs], pad.copy(), y.copy()
    reg = RNNRegressor("gru", 3, max_iter=1, random_state=0).fit(seqs, y)
    reg.fit(pad, y)
    reg.predict(pad)
    for a, b in zip(copies[0], seqs):
        assert_array_equal(a, b)
    assert_array_equal(copies[1], pad)
    assert_array_equal(copies[2], y)


def test_batches_sort_by_length_and_cover_every_row_once():
    lengths = np.array([5, 3, 7, 3, 5, 6, 2, 7, 1, 4, 4])
    rng = np.random.default_rng(0)
    batches = _epoch_batches(len(lengths), 3, lengths, rng, shuffle=True)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    # sorted by length before the cut: a batch spans a run of the sorted lengths
    spans = sorted((lengths[b].min(), lengths[b].max()) for b in batches)
    for (lo, hi), (lo2, _) in zip(spans, spans[1:]):
        assert hi <= lo2
    # one length: sklearn's permutation, untouched
    same = _epoch_batches(6, 4, np.full(6, 3), np.random.default_rng(1), True)
    plain = _epoch_batches(6, 4, None, np.random.default_rng(1), True)
    assert [b.tolist() for b in same] == [b.tolist() for b in plain]


def test_what_counts_as_ragged_input():
    seqs, _ = ragged()
    assert is_sequence_input(seqs) and is_sequence_input(padded(seqs))
    assert is_sequence_input([[1.0, 2.0], [3.0]])  # nested lists, ragged
    assert not is_sequence_input([[1.0, 2.0], [3.0, 4.0]])  # 2-D rows
    assert not is_sequence_input(np.zeros((3, 4, 2)))  # windows, no NaN
    assert not is_sequence_input(np.full((3, 4), np.nan))  # 2-D: sklearn's NaN error
    s = read_sequences(padded(seqs), 1, np.float64)
    assert s.lengths.tolist() == LENGTHS
    assert s.max_length == max(LENGTHS)  # all-padding steps are dropped
    with pytest.raises(ValueError, match="X is an empty list: pass at least one"):
        read_sequences([], 1, np.float64)


@pytest.mark.parametrize(
    "X, match",
    [
        ([np.ones((3, 2)), np.ones((0, 2))], r"X\[1\] is empty"),
        ([np.ones((3, 2)), np.ones((4, 1))],
         r"X\[1\] has 1 feature\(s\) per step but X\[0\] has 2"),
        ([np.ones(3), np.array([1.0, np.nan, 2.0])],
         r"X\[1\] contains NaN \(first at step 1\)"),
        ([np.ones(3), np.array([1.0, np.inf])], r"X\[1\] contains infinity"),
        ([np.ones(3), np.array(["a", "b"])],
         r"X\[1\] holds text \(e\.g\. 'a'\), not numbers"),
        ([np.ones(3), np.ones((2, 2, 2))], r"X\[1\] has shape \(2, 2, 2\)"),
    ],
)
def test_bad_sequences_are_refused_clearly(X, match):
    with pytest.raises((ValueError, TypeError), match=match):
        RNNRegressor(max_iter=1).fit(X, np.arange(float(len(X) or 1)))


def test_nan_inside_a_padded_sequence_is_refused():
    seqs, y = ragged()
    pad = padded(seqs)
    pad[2, 1] = np.nan  # sequence 2 goes on to step 6
    with pytest.raises(ValueError, match=r"X\[2\] is NaN at step 1, before its last "
                       r"value at step 6: NaN inside a sequence rather than trailing"):
        RNNRegressor(max_iter=1).fit(pad, y)
    pad = padded(seqs)
    pad[0, 4, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[0\] is NaN in some but not all features "
                       r"of step 4"):
        RNNRegressor(max_iter=1).fit(pad, y)
    pad = padded(seqs)
    pad[3] = np.nan
    with pytest.raises(ValueError, match=r"X\[3\] is NaN at every step: an empty "
                       r"sequence"):
        RNNRegressor(max_iter=1).fit(pad, y)


def test_warnings_free_and_deterministic():
    seqs, y = ragged()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = RNNRegressor("gru", 3, max_iter=2, random_state=5).fit(seqs, y)
        b = RNNRegressor("gru", 3, max_iter=2, random_state=5).fit(seqs, y)
    assert_array_equal(a.params_, b.params_)
