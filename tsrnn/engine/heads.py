"""Output heads: a linear map from recurrent features to predictions.

A head reads the top layer's outputs ``(T, B, F)`` and, optionally, extra
features supplied by the estimator (e.g. known future covariates for a direct
multi-horizon forecast). Pooling decides what it reads:

* ``"none"``: every step (many-to-many; the forecaster's teacher-forced loss at
  every step), ``y_t = W [o_t ; e_t] + b``;
* ``"last"``, ``"mean"``, ``"max"``: one pooled vector per sequence
  (many-to-one);
* ``"attention"``: a softmax-weighted sum of the steps with scores
  ``s_t = o_t . a`` (``a`` learned), so the model chooses which steps matter.

All of it is vectorized over time; nothing here loops over steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.head_extras import add_extras_bias, extras_bias_grads
from .layout import ParamLayout
from .workspace import spares

POOLINGS = ("none", "last", "mean", "max", "attention")


@dataclass
class _HeadCache:
    z: np.ndarray  # the features the linear map read
    out_shape: tuple
    argmax: np.ndarray | None = None
    weights: np.ndarray | None = None  # attention weights (T, B)
    out: np.ndarray | None = None  # recurrent outputs, attention only


class LinearHead:
    """Linear read-out with optional pooling over time.

    Parameters
    ----------
    in_features : int
        Features of the recurrent output per step (``D * H``).
    out_features : int
        Outputs per step (``"none"``) or per sequence (pooled).
    pooling : {"none", "last", "mean", "max", "attention"}
    extra_features : int, default=0
        Extra features concatenated to the recurrent ones before the linear
        map (per step for ``"none"``, per sequence when pooled).
    prefix : str, default="head"
        Parameter names are ``{prefix}.weight``, ``{prefix}.bias`` and
        ``{prefix}.attention``.
    """

    def __init__(
        self, in_features, out_features, pooling="none", extra_features=0, prefix="head"
    ):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.pooling = pooling
        self.extra_features = int(extra_features)
        self.prefix = prefix
        rows = [
            (
                f"{prefix}.weight",
                (self.out_features, self.in_features + self.extra_features),
            ),
            (f"{prefix}.bias", (self.out_features,)),
        ]
        if pooling == "attention":
            rows.append((f"{prefix}.attention", (self.in_features,)))
        self.layout = ParamLayout(rows)

    def init_params(self, rng, dtype) -> np.ndarray:
        """Glorot-uniform weights (sklearn MLP's init), zero bias and attention."""
        fan = self.in_features + self.extra_features + self.out_features
        bound = np.sqrt(6.0 / fan)
        theta = np.zeros(self.layout.size, dtype=dtype)
        w = self.layout[f"{self.prefix}.weight"]
        theta[w.start : w.stop] = rng.uniform(-bound, bound, w.stop - w.start)
        return theta

    def dense_weight(self, theta) -> np.ndarray:
        """The ``(out, in + extra)`` weight matrix (a view)."""
        return self.layout.view(theta, f"{self.prefix}.weight")

    def forward(self, theta, out, extra=None):
        """Predictions from recurrent outputs ``out`` of shape ``(T, B, F)``.

        Returns
        -------
        y_hat : ndarray of shape (T, B, out_features) or (B, out_features)
        cache : object
            For :meth:`backward`.
        """
        p = self.layout.recent_views(theta)
        W = p[f"{self.prefix}.weight"]
        b = p[f"{self.prefix}.bias"]
        cache = _HeadCache(z=None, out_shape=out.shape)
        pool = self.pooling
        if pool == "none":
            z = out
        elif pool == "last":
            z = out[-1]
        elif pool == "mean":
            z = out.mean(axis=0)
        elif pool == "max":
            cache.argmax = out.argmax(axis=0)
            z = np.take_along_axis(out, cache.argmax[None], axis=0)[0]
        else:
            a = p[f"{self.prefix}.attention"]
            s = out @ a  # (T, B)
            s = s - s.max(axis=0, keepdims=True)
            w = np.exp(s)
            w /= w.sum(axis=0, keepdims=True)
            cache.weights = w
            cache.out = out
            z = (w[:, :, None] * out).sum(axis=0)
        if self.extra_features:
            z = np.concatenate([z, extra], axis=-1)
        cache.z = z
        # one 2-D GEMM: numpy's matmul of a 3-D array loops over the leading axis
        if z.ndim == 2:  # pooled: the product as it is
            y = z @ W.T
        else:
            y = (z.reshape(-1, z.shape[-1]) @ W.T).reshape(z.shape[:-1] + (W.shape[0],))
        y += b
        return y, cache

    def backward(self, theta, grad, cache, dy):
        """Accumulate parameter gradients into ``grad``; return dL/d out ``(T, B, F)``.

        With ``pooling="last"`` dL/d out is zero but at the last step: the head
        lends a zero array of the outputs' shape for it (one kept per head
        instead of a new one a step: 0.8 MB at H = 64, B = 64, T = 48), which
        the caller only reads and gives back with :meth:`release` when done
        (a caller that does not simply keeps it; the next call makes another).
        """
        p = self.layout.recent_views(theta)
        g = self.layout.recent_views(grad)
        W = p[f"{self.prefix}.weight"]
        F = self.in_features
        z2 = cache.z.reshape(-1, cache.z.shape[-1])
        dy2 = dy.reshape(-1, dy.shape[-1])
        g[f"{self.prefix}.weight"] += dy2.T @ z2
        g[f"{self.prefix}.bias"] += dy2.sum(axis=0)
        dz = (dy2 @ W[:, :F] if self.extra_features else dy2 @ W).reshape(
            dy.shape[:-1] + (F,)
        )
        T, B, _ = cache.out_shape
        pool = self.pooling
        if pool == "none":
            return dz
        if pool == "last":
            d_out = spares(self).get("d_out", cache.out_shape, dy.dtype, np.zeros)
            d_out[-1] = dz
            return d_out
        d_out = np.zeros(cache.out_shape, dtype=dy.dtype)
        if pool == "mean":
            d_out[:] = dz / T
        elif pool == "max":
            np.put_along_axis(d_out, cache.argmax[None], dz[None], axis=0)
        else:
            w, out = cache.weights, cache.out
            a = p[f"{self.prefix}.attention"]
            dw = (out * dz[None]).sum(axis=-1)  # (T, B)
            ds = w * (dw - (w * dw).sum(axis=0, keepdims=True))
            d_out[:] = w[:, :, None] * dz[None] + ds[:, :, None] * a
            g[f"{self.prefix}.attention"] += np.einsum("tb,tbf->f", ds, out)
        return d_out

    def extra_gradient(self, theta, cache, dy) -> np.ndarray:
        """dL/d extra (the shape of the extras :meth:`forward` read) from ``dy``.

        The map is linear: ``dy @ W[:, in_features:]``.
        """
        W = self.layout.view(theta, f"{self.prefix}.weight")
        dy2 = dy.reshape(-1, dy.shape[-1])
        lead = cache.z.shape[:-1]
        return (dy2 @ W[:, self.in_features :]).reshape(lead + (self.extra_features,))


    def release(self, d_out) -> None:
        """Take back the dL/d out :meth:`backward` lent (``pooling="last"``).

        Its last step is zeroed again, so the array kept is all zero for the
        next call; any other pooling's dL/d out was the caller's own: nothing
        to do.
        """
        if self.pooling == "last":
            d_out[-1] = 0
            spares(self).put("d_out", d_out)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_spares", None)  # the lent dL/d out of past calls
        return state


class StepwiseHead:
    """Multi-horizon read-out: every forecast step reads its own known-future features.

    ``y[s, j] = W[s, j] . o_t + E[s, j] . e_{t, s} + b[s, j]`` for forecast step
    ``s`` and target ``j``, where ``e_{t, s}`` are the features known in advance
    about step ``t + s`` (covariates, calendar, seasonal references). Compared
    with a dense map from all ``n_steps * per_step`` extras to all outputs, step
    ``s`` cannot read another step's covariates: ``n_steps`` times fewer extra
    weights, and the structure a forecaster expects ("tomorrow 14:00 depends on
    tomorrow 14:00's temperature").

    Parameters
    ----------
    in_features : int
        Recurrent features per step (``H``).
    n_steps, n_targets : int
        Outputs are ``n_steps * n_targets``, step-major.
    per_step : int
        Extra features per forecast step.
    prefix : str, default="head"
    """

    pooling = "none"

    def __init__(self, in_features, n_steps, n_targets, per_step, prefix="head"):
        self.in_features = int(in_features)
        self.n_steps = int(n_steps)
        self.n_targets = int(n_targets)
        self.per_step = int(per_step)
        self.out_features = self.n_steps * self.n_targets
        self.extra_features = self.n_steps * self.per_step
        self.prefix = prefix
        self.layout = ParamLayout(
            [
                (f"{prefix}.weight", (self.out_features, self.in_features)),
                (f"{prefix}.bias", (self.out_features,)),
                (
                    f"{prefix}.extra_weight",
                    (self.n_steps, self.n_targets, self.per_step),
                ),
            ]
        )

    def init_params(self, rng, dtype) -> np.ndarray:
        """Glorot-uniform recurrent weights; zero bias and extra weights."""
        bound = np.sqrt(6.0 / (self.in_features + self.out_features))
        theta = np.zeros(self.layout.size, dtype=dtype)
        w = self.layout[f"{self.prefix}.weight"]
        theta[w.start : w.stop] = rng.uniform(-bound, bound, w.stop - w.start)
        return theta

    def dense_weight(self, theta) -> np.ndarray:
        """The equivalent dense ``(out, in + extra)`` matrix (for step-by-step inference)."""
        p = self.layout.recent_views(theta)
        S, J, P, F = self.n_steps, self.n_targets, self.per_step, self.in_features
        W = np.zeros((self.out_features, F + self.extra_features), dtype=theta.dtype)
        W[:, :F] = p[f"{self.prefix}.weight"]
        E = p[f"{self.prefix}.extra_weight"]
        for s in range(S):
            W[s * J : (s + 1) * J, F + s * P : F + (s + 1) * P] = E[s]
        return W

    def forward(self, theta, out, extra):
        """Predictions ``(T, B, n_steps * n_targets)`` and a cache."""
        p = self.layout.recent_views(theta)
        lead = out.shape[:-1]
        o2 = out.reshape(-1, self.in_features)
        e3 = extra.reshape(len(o2), self.n_steps, self.per_step)
        # OpenBLAS's small float32 kernels can raise the invalid flag on
        # finite operands (lanes of stale buffer data: numpy#24067), which
        # numpy reports as a RuntimeWarning: seen once in the suite, after a
        # refused update, on finite weights and states. A real NaN still
        # reaches y, whose callers check it.
        with np.errstate(invalid="ignore"):
            y = o2 @ p[f"{self.prefix}.weight"].T
        e3 = np.ascontiguousarray(e3, dtype=y.dtype)
        add_extras_bias(
            y, e3, p[f"{self.prefix}.extra_weight"], p[f"{self.prefix}.bias"]
        )
        return y.reshape(lead + (self.out_features,)), (o2, e3, lead)

    def backward(self, theta, grad, cache, dy):
        """Accumulate parameter gradients into ``grad``; return dL/d out."""
        p = self.layout.recent_views(theta)
        g = self.layout.recent_views(grad)
        o2, e3, lead = cache
        dy2 = np.ascontiguousarray(dy.reshape(-1, self.out_features), dtype=e3.dtype)
        g[f"{self.prefix}.weight"] += dy2.T @ o2
        extras_bias_grads(
            dy2, e3, g[f"{self.prefix}.extra_weight"], g[f"{self.prefix}.bias"]
        )
        return (dy2 @ p[f"{self.prefix}.weight"]).reshape(lead + (self.in_features,))

    def extra_gradient(self, theta, cache, dy) -> np.ndarray:
        """dL/d extra ``(..., n_steps * per_step)`` from ``dy``.

        Step ``s``'s extras reach its outputs alone, through ``E[s]``:
        ``d extra[r, s] = E[s]^T dy[r, s]``.
        """
        E = self.layout.recent_views(theta)[f"{self.prefix}.extra_weight"]
        _, e3, lead = cache
        dy3 = dy.reshape(-1, self.n_steps, self.n_targets)
        d = np.einsum("rsj,sjp->rsp", dy3, E)
        return d.reshape(lead + (self.extra_features,)).astype(e3.dtype, copy=False)
