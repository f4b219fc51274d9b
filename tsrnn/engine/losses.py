"""Losses on head outputs: value and gradient with respect to the prediction.

Every loss takes ``y_hat`` and ``y`` of the same shape and an optional ``mask``
(1 where a target exists, 0 where it is missing or padded) and returns the mean
over the present entries and ``dL/dy_hat``. Missing targets therefore cost
nothing and send no gradient — how gaps in sensor data are trained through.

Classification losses take logits: binary cross-entropy on one logit per
sample, multi-class cross-entropy on one logit per class with integer labels.
"""

from __future__ import annotations

import numpy as np

from ..kernels.losses import masked_abs_error


def _normaliser(mask, shape, dtype):
    if mask is None:
        return np.ones(shape, dtype=dtype), float(np.prod(shape))
    n = float(mask.sum())
    return mask, max(n, 1.0)


def _residual(y_hat, y, mask):
    """``y_hat - y`` where the mask is set, 0 elsewhere, and the entries counted.

    Without a mask the residual is the plain difference (what the masked
    form gives with every entry present, bit for bit), in two NumPy calls
    instead of eight: the losses run at every training step, on arrays small
    enough that the calls, not the arithmetic, were their time.
    """
    if mask is None:
        return y_hat - y, float(y.size)
    present = mask > 0
    r = np.where(present, y_hat - np.where(present, y, 0.0), 0.0)
    return r, max(float(mask.sum()), 1.0)


def squared_error(y_hat, y, mask=None):
    """Half mean squared error ``0.5 * mean((y_hat - y)**2)`` (sklearn's MLP convention)."""
    r, n = _residual(y_hat, y, mask)
    return 0.5 * float((r * r).sum()) / n, (r / n).astype(y_hat.dtype, copy=False)


def _masked_abs_error(y_hat, y, mask, weighted):
    """:func:`~tsrnn.kernels.losses.masked_abs_error` where the arrays allow
    (one dtype, one shape), else None (the NumPy expressions).

    One pass instead of about eleven NumPy calls (the calls, not the
    arithmetic, were a step's loss time); the gradient's bits are the NumPy
    expressions', the value's sum runs in float64 (NumPy's is a pairwise
    float32 sum: the same to a few ulp).
    """
    dt = y_hat.dtype
    if not (y.dtype == dt == mask.dtype and y.shape == y_hat.shape == mask.shape):
        return None
    grad = np.empty(y_hat.shape, dt)
    total, n = masked_abs_error(
        np.ascontiguousarray(y_hat).reshape(-1),
        np.ascontiguousarray(y).reshape(-1),
        np.ascontiguousarray(mask).reshape(-1),
        grad.reshape(-1),
        weighted,
    )
    return total / n, grad


def absolute_error(y_hat, y, mask=None):
    """Mean absolute error; the gradient is ``sign(y_hat - y)`` (0 at a tie)."""
    if mask is not None:
        fast = _masked_abs_error(y_hat, y, mask, weighted=False)
        if fast is not None:
            return fast
    r, n = _residual(y_hat, y, mask)
    return float(np.abs(r).sum()) / n, (np.sign(r) / n).astype(y_hat.dtype, copy=False)


def weighted_absolute_error(y_hat, y, mask=None):
    """Absolute error weighted by the mask's values: ``sum(w |r|) / n``.

    ``mask`` holds a non-negative weight per entry (0: absent); ``n`` is the
    number of present entries (``mask > 0``), not the weights' sum, so a
    batch of low-weight entries counts less than one of high-weight entries
    (the weights act across batches, not only within one). The gradient is
    ``w sign(y_hat - y) / n``. A 0/1 mask gives :func:`absolute_error`'s bits.
    """
    if mask is None:
        return absolute_error(y_hat, y)
    fast = _masked_abs_error(y_hat, y, mask, weighted=True)
    if fast is not None:
        return fast
    present = mask > 0
    r = np.where(present, y_hat - np.where(present, y, 0.0), 0.0)
    n = max(float(np.count_nonzero(present)), 1.0)
    return (
        float((mask * np.abs(r)).sum()) / n,
        ((mask * np.sign(r)) / n).astype(y_hat.dtype, copy=False),
    )


def huber(y_hat, y, mask=None, delta=1.0):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond."""
    r, n = _residual(y_hat, y, mask)
    a = np.abs(r)
    quad = a <= delta
    value = np.where(quad, 0.5 * r * r, delta * (a - 0.5 * delta)).sum()
    grad = np.where(quad, r, delta * np.sign(r))
    return float(value) / n, (grad / n).astype(y_hat.dtype)


def pinball(y_hat, y, mask=None, quantiles=(0.1, 0.5, 0.9)):
    """Quantile (pinball) loss averaged over quantiles.

    ``y_hat`` has a trailing axis ``n_targets * n_quantiles`` (quantile-major
    within each target: ``[t0q0, t0q1, ..., t1q0, ...]``); ``y`` and ``mask``
    have ``n_targets`` there.
    """
    q = np.asarray(quantiles, dtype=y_hat.dtype)
    nq = q.size
    yq = np.repeat(y, nq, axis=-1)
    mq = None if mask is None else np.repeat(mask, nq, axis=-1)
    qq = np.tile(q, y.shape[-1])
    m, n = _normaliser(mq, yq.shape, y_hat.dtype)
    r = np.where(m > 0, np.where(m > 0, yq, 0.0) - y_hat, 0.0)  # y - y_hat
    value = np.maximum(qq * r, (qq - 1.0) * r).sum()
    grad = np.where(r > 0, -qq, np.where(r < 0, 1.0 - qq, 0.0)) * (m > 0)
    return float(value) / n, (grad / n).astype(y_hat.dtype)


def check_quantile_levels(quantiles, default) -> tuple:
    """Sorted quantile levels of a quantile head (``default`` for None), checked.

    Every level must lie strictly between 0 and 1, none repeated.
    """
    q = default if quantiles is None else quantiles
    try:
        levels = tuple(float(v) for v in np.asarray(q, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        levels = ()
    if not levels or not all(0.0 < v < 1.0 for v in levels):
        raise ValueError(
            f"quantiles must be levels strictly between 0 and 1, got {q!r}; "
            "e.g. quantiles=(0.1, 0.5, 0.9)"
        )
    if len(set(levels)) != len(levels):
        raise ValueError(f"quantiles has repeated levels: {q!r}")
    return tuple(sorted(levels))


def binary_cross_entropy(logits, y, mask=None):
    """Log-loss of ``sigmoid(logits)`` against labels in {0, 1}, computed stably."""
    m, n = _normaliser(mask, y.shape, logits.dtype)
    z = logits
    # log(1 + e^{-|z|}) + max(z, 0) - z y  ==  -[y log p + (1 - y) log(1 - p)]
    value = (np.logaddexp(0.0, -np.abs(z)) + np.maximum(z, 0.0) - z * y) * m
    p = 0.5 * (1.0 + np.tanh(0.5 * z))
    return float(value.sum()) / n, ((p - y) * m / n).astype(logits.dtype)


def cross_entropy(logits, y, mask=None):
    """Softmax cross-entropy; ``logits`` is ``(..., n_classes)``, ``y`` integer labels ``(...)``."""
    z = logits - logits.max(axis=-1, keepdims=True)
    logsum = np.log(np.exp(z).sum(axis=-1, keepdims=True))
    logp = z - logsum
    labels = y.astype(np.int64)
    m = np.ones(labels.shape, logits.dtype) if mask is None else mask
    n = max(float(m.sum()), 1.0)
    picked = np.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]
    value = -(picked * m).sum() / n
    grad = np.exp(logp)
    np.put_along_axis(
        grad,
        labels[..., None],
        np.take_along_axis(grad, labels[..., None], axis=-1) - 1.0,
        axis=-1,
    )
    return float(value), (grad * (m / n)[..., None]).astype(logits.dtype)


_LOSSES = {
    "squared_error": squared_error,
    "absolute_error": absolute_error,
    "huber": huber,
    "pinball": pinball,
    "binary_cross_entropy": binary_cross_entropy,
    "cross_entropy": cross_entropy,
}


def get_loss(name: str):
    """The loss function called ``name``."""
    try:
        return _LOSSES[name]
    except KeyError:
        raise ValueError(
            f"unknown loss {name!r}; choose one of {sorted(_LOSSES)}"
        ) from None
