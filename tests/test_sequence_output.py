"""Per-step outputs (``output="sequence"``) and ragged batches against references.

References nobody here wrote: torch's ``pack_padded_sequence`` (each sequence
run to its own length, a bidirectional layer reading it from its own end)
with autograd for the gradients of ragged batches, for one output per window
and for one output per step; and central finite differences of the loss.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import tsrnn
from tsrnn.engine import LinearHead, Network, RecurrentStack, get_loss
from tsrnn.estimators import RNNClassifier, RNNRegressor

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

LENGTHS = [5, 2, 7, 5, 3, 7, 1]


def network(cell, pooling, bidirectional, n_out, I=2, H=3, num_layers=1):
    stack = RecurrentStack(cell, I, H, num_layers, "tanh", True, bidirectional,
                           np.float64)
    head = LinearHead((2 if bidirectional else 1) * H, n_out, pooling=pooling)
    return Network(stack, head)


def ragged(lengths=LENGTHS, n_features=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((T, n_features)) for T in lengths]


def step_groups(seqs, targets, rows, per_step):
    """Groups as the window models build them (weights: windows or steps)."""
    lengths = np.array([len(seqs[i]) for i in rows])
    w = lengths if per_step else np.ones(len(rows))
    for T in np.unique(lengths):
        picked = [r for r, L in zip(rows, lengths) if L == T]
        x = np.ascontiguousarray(np.stack([seqs[r] for r in picked], axis=1))
        if per_step:
            y = np.ascontiguousarray(np.stack([targets[r] for r in picked], axis=1))
        else:
            y = targets[picked]
        yield x, y, None, w[lengths == T].sum() / w.sum()


# ------------------------------------------------------------ torch reference
@pytest.mark.parametrize("per_step", [False, True], ids=["window", "sequence"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_ragged_gradients_match_torch_packed_sequences(cell, per_step):
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    seqs = ragged()
    k = 2
    net = network(cell, "none" if per_step else "last", True, k, num_layers=2)
    theta = net.init_params(np.random.default_rng(1))
    theta[-k:] = [0.3, -0.2]  # head bias
    rng = np.random.default_rng(2)
    if per_step:
        targets = [rng.standard_normal((len(s), k)) for s in seqs]
    else:
        targets = rng.standard_normal((len(seqs), k))
    rows = list(range(len(seqs)))
    loss, grad, _ = net.grouped_loss_grad(
        theta, step_groups(seqs, targets, rows, per_step),
        get_loss("squared_error"),
    )

    # torch: the same weights, sequences packed to their own lengths
    views = net.layout.views(theta)
    module = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](
        2, 3, num_layers=2, bidirectional=True, dtype=torch.float64
    )
    module.load_state_dict({n: torch.tensor(views[n]) for n in module.state_dict()})
    W = torch.tensor(views["head.weight"], requires_grad=True)
    b = torch.tensor(views["head.bias"], requires_grad=True)
    T = max(LENGTHS)
    padded = np.zeros((T, len(seqs), 2))
    for i, s in enumerate(seqs):
        padded[: len(s), i] = s
    packed = pack_padded_sequence(torch.tensor(padded), torch.tensor(LENGTHS),
                                  enforce_sorted=False)
    out, _ = pad_packed_sequence(module(packed)[0])  # (T, B, 2H), zero past ends
    if per_step:
        y_hat = out @ W.T + b  # (T, B, k)
        valid = torch.tensor(np.arange(T)[:, None] < np.array(LENGTHS)[None, :])
        yt = np.zeros((T, len(seqs), k))
        for i, t in enumerate(targets):
            yt[: len(t), i] = t
        r = (y_hat - torch.tensor(yt))[valid]  # valid steps only
        ref = 0.5 * (r**2).sum() / (valid.sum() * k)
    else:
        # "last": each sequence's own last step (the backward direction there
        # has read that step only, as output[-1] of an unpadded sequence)
        last = out[torch.tensor(LENGTHS) - 1, torch.arange(len(seqs))]
        y_hat = last @ W.T + b
        ref = 0.5 * ((y_hat - torch.tensor(targets)) ** 2).mean()
    ref.backward()
    assert_allclose(loss, ref.item(), rtol=1e-12)
    g = net.layout.views(grad)
    for name, p in module.named_parameters():
        assert_allclose(g[name], p.grad.numpy(), rtol=1e-10, atol=1e-13,
                        err_msg=name)
    assert_allclose(g["head.weight"], W.grad.numpy(), rtol=1e-10, atol=1e-13)
    assert_allclose(g["head.bias"], b.grad.numpy(), rtol=1e-10, atol=1e-13)


# --------------------------------------------------------- finite differences
@pytest.mark.parametrize("loss_name", ["squared_error", "cross_entropy",
                                       "binary_cross_entropy"])
def test_per_step_ragged_gradient_matches_finite_differences(loss_name):
    seqs = ragged(lengths=[4, 2, 4, 3])
    rng = np.random.default_rng(5)
    if loss_name == "cross_entropy":
        n_out, targets = 3, [rng.integers(0, 3, len(s)) for s in seqs]
    elif loss_name == "binary_cross_entropy":
        n_out = 1
        targets = [rng.integers(0, 2, (len(s), 1)).astype(float) for s in seqs]
    else:
        n_out, targets = 2, [rng.standard_normal((len(s), 2)) for s in seqs]
    net = network("lstm", "none", True, n_out)
    theta = net.init_params(np.random.default_rng(6))
    loss_fn = get_loss(loss_name)

    def loss_at(t):
        return net.grouped_loss_grad(t, step_groups(seqs, targets, [0, 1, 2, 3], True),
                                     loss_fn, alpha=0.05, n_samples=4)

    _, grad, _ = loss_at(theta)
    for _ in range(5):
        v = rng.standard_normal(theta.size)
        eps = 1e-6
        fd = (loss_at(theta + eps * v)[0] - loss_at(theta - eps * v)[0]) / (2 * eps)
        assert_allclose(grad @ v, fd, rtol=1e-7, atol=1e-9)


def test_estimator_training_gradient_matches_finite_differences():
    """The fitted model's own network, loss and encoded per-step labels."""
    seqs = ragged(lengths=[6] * 5)
    labels = [np.where(s[:, 0] > 0, "up", np.where(s[:, 1] > 0, "flat", "down"))
              for s in seqs]
    clf = RNNClassifier("gru", 3, output="sequence", max_iter=1, random_state=0)
    clf.fit(seqs, labels)
    net, theta = clf._network, clf.params_.copy()
    x = np.ascontiguousarray(np.stack(seqs, axis=1))
    y = np.searchsorted(clf.classes_, np.stack(labels, axis=1))  # (T, B)
    fn = clf._training_loss()
    _, grad, _, _ = net.loss_grad(theta, x, y, None, fn, training=False)
    for i in np.random.default_rng(0).choice(theta.size, 25, replace=False):
        up, down = theta.copy(), theta.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        fd = (net.loss_grad(up, x, y, None, fn, training=False)[0]
              - net.loss_grad(down, x, y, None, fn, training=False)[0]) / 2e-6
        assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-9)


# -------------------------------------------------------------- the estimators
def running_sum(n=60, T=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, 2))
    return X, np.cumsum(X[..., 0], axis=1)


def test_regressor_learns_a_per_step_target_that_needs_memory():
    X, Y = running_sum()
    reg = RNNRegressor("gru", 8, output="sequence", max_iter=60,
                       learning_rate_init=0.02, random_state=0).fit(X[:45], Y[:45])
    assert reg.predict(X).shape == Y.shape
    # a step's target is the sum of all steps so far: no single step tells it
    assert reg.score(X[45:], Y[45:]) > 0.9
    # 2-D rows of window * input_size values are the same windows
    assert_array_equal(reg.predict(X.reshape(60, -1)), reg.predict(X))


def test_per_step_shapes_of_every_method():
    X, Y = running_sum(n=20, T=5)
    Y2 = np.stack([Y, -Y], axis=-1)
    reg = RNNRegressor("lstm", 4, output="sequence", max_iter=2,
                       random_state=0).fit(X, Y2)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (20, 5, 2)
    normal = RNNRegressor("gru", 4, output="sequence", loss="normal", max_iter=2,
                          random_state=0).fit(X, Y)
    assert normal.predict(X).shape == (20, 5)
    assert normal.predict_quantiles(X, [0.1, 0.5, 0.9]).shape == (20, 5, 3)
    lo, hi = normal.predict_interval(X, level=[50, 90])
    assert lo.shape == hi.shape == (2, 20, 5) and np.all(lo[1] <= lo[0])
    assert normal.sample(X, 7, random_state=0).shape == (20, 5, 7)
    clf = RNNClassifier("gru", 4, output="sequence", max_iter=2,
                        random_state=0).fit(X, (Y > 0).astype(int))
    assert clf.predict(X).shape == (20, 5)
    assert clf.predict_proba(X).shape == (20, 5, 2)
    assert clf.decision_function(X).shape == (20, 5)
    assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_ragged_per_step_predictions_are_those_of_each_sequence_alone(bidirectional):
    seqs = ragged()
    labels = [np.array(["a", "b", "c"])[(np.abs(s[:, 0]) * 2).astype(int) % 3]
              for s in seqs]
    clf = RNNClassifier("lstm", 4, output="sequence", bidirectional=bidirectional,
                        max_iter=3, batch_size=3, random_state=0).fit(seqs, labels)
    together = clf.predict_proba(seqs)
    assert [p.shape for p in together] == [(T, 3) for T in LENGTHS]
    for s, p in zip(seqs, together):
        assert_allclose(clf.predict_proba([s])[0], p, rtol=1e-12, atol=1e-14)
    # the padded form of targets and inputs trains the same model
    T = max(LENGTHS)
    Xp = np.full((len(seqs), T + 1, 2), np.nan)
    yp = np.full((len(seqs), T), "", dtype=object)
    for i, (s, lab) in enumerate(zip(seqs, labels)):
        Xp[i, : len(s)] = s
        yp[i, : len(s)] = lab
    other = RNNClassifier("lstm", 4, output="sequence", bidirectional=bidirectional,
                          max_iter=3, batch_size=3, random_state=0).fit(Xp, yp)
    assert_array_equal(other.params_, clf.params_)
    acc = np.mean(np.concatenate(clf.predict(seqs)) == np.concatenate(labels))
    assert clf.score(seqs, labels) == pytest.approx(acc)


def test_a_long_sequence_weighs_its_steps():
    """A batch's loss is the mean over its steps (as a masked padded batch)."""
    seqs = ragged(lengths=[6, 2])
    ys = [np.ones(6), np.zeros(2)]
    reg = RNNRegressor("rnn", 3, output="sequence", solver="sgd", momentum=0.0,
                       clip_norm=None, alpha=0.0, batch_size=2, shuffle=False,
                       max_iter=1, random_state=0).fit(seqs, ys)
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    net = reg._network
    theta0 = net.init_params(np.random.default_rng(seed))
    Y = [((y - reg._y_mean) / reg._y_scale).reshape(-1, 1, 1) for y in ys]
    g = sum(
        len(s) / 8 * net.loss_grad(theta0, np.ascontiguousarray(s[:, None]), y, None,
                                   get_loss("squared_error"))[1]
        for s, y in zip(seqs, Y)
    )
    assert_allclose(reg.params_, theta0 - 0.001 * g, rtol=1e-12, atol=1e-15)


def test_save_load_and_parameters_frozen(tmp_path):
    seqs = ragged()
    ys = [np.cumsum(s[:, 1]) for s in seqs]
    reg = RNNRegressor("gru", 4, output="sequence", max_iter=2,
                       random_state=0).fit(seqs, ys)
    reg.save(tmp_path / "m.npz")
    back = tsrnn.load(tmp_path / "m.npz")
    assert back.output == "sequence"
    for a, b in zip(back.predict(seqs), reg.predict(seqs)):
        assert_array_equal(a, b)
    reg.set_params(output="window")
    with pytest.raises(ValueError, match="parameters changed since fit.*output"):
        reg.predict(seqs)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, Y: (X, Y[:, 0]),
         r"output='sequence' labels every step: y must hold one target per step.*"
         r"got shape \(20,\).*For one target per window, use output='window'"),
        (lambda X, Y: (X, Y[:, :4]), r"got shape \(20, 4\) for 20 window\(s\) of 5"),
        (lambda X, Y: (list(X[:3]), [Y[0], Y[1, :3], Y[2]]),
         r"y\[1\] has 3 step\(s\) but the matching window of X has 5"),
        (lambda X, Y: (X, np.where(np.arange(5) == 2, np.nan, Y)),
         r"y\[0\] is not finite at step 2 \(NaN or infinity inside a sequence\)"),
        (lambda X, Y: (list(X[:2]), [Y[0]]),
         r"X has 2 sequence\(s\) but y has 1"),
    ],
)
def test_bad_per_step_targets(make, match):
    X, Y = running_sum(n=20, T=5)
    X, y = make(X, Y)
    with pytest.raises(ValueError, match=match):
        RNNRegressor(output="sequence", max_iter=1).fit(X, y)


def test_per_step_models_compose_with_sklearn_tools():
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, Y = running_sum(n=30, T=5)
    reg = RNNRegressor("gru", 4, output="sequence", max_iter=3, random_state=0)
    scores = cross_val_score(reg, X, Y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    grid = GridSearchCV(reg, {"hidden_size": [2, 4]}, cv=2).fit(X, Y)
    assert grid.best_estimator_.predict(X).shape == Y.shape
    pipe = make_pipeline(FunctionTransformer(lambda a: a * 0.5), reg).fit(X, Y)
    assert pipe.predict(X).shape == Y.shape
    # ragged lists go through cross-validation too (sklearn indexes lists)
    seqs = ragged(lengths=[3, 5, 4, 6, 2, 5] * 2)
    ys = [np.cumsum(s[:, 0]) for s in seqs]
    assert np.isfinite(cross_val_score(reg, seqs, ys, cv=2)).all()


def test_per_step_early_stopping_and_partial_fit():
    seqs = ragged(lengths=[3, 5, 4, 6, 2, 5] * 3)
    labels = [(s[:, 0] > 0).astype(int) for s in seqs]
    clf = RNNClassifier("gru", 4, output="sequence", early_stopping=True,
                        validation_fraction=0.3, max_iter=3, random_state=0)
    clf.fit(seqs, labels)
    assert len(clf.validation_scores_) == 3
    assert all(0.0 <= s <= 1.0 for s in clf.validation_scores_)
    inc = RNNClassifier("gru", 4, output="sequence", random_state=0)
    inc.partial_fit(seqs[:6], labels[:6], classes=[0, 1])
    inc.partial_fit(seqs[6:], labels[6:])
    assert inc.n_iter_ == 2
    assert [p.shape for p in inc.predict(seqs[:2])] == [(3,), (5,)]
