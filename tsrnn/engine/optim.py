"""Optimizers and gradient clipping on flat parameter vectors (updated in place).

Because every model keeps its parameters in one contiguous vector, an optimizer
step is a handful of vector operations, whatever the architecture.
"""

from __future__ import annotations

import numpy as np

from ..kernels.optim import adam_step


def clip_grad_norm(grad: np.ndarray, max_norm: float | None) -> float:
    """Scale ``grad`` in place by ``min(1, max_norm / ||grad||_2)``.

    Parameters
    ----------
    grad : ndarray of shape (n_params,)
    max_norm : float or None
        None or ``inf`` disables clipping (the norm is still returned).

    Returns
    -------
    float
        The global norm before clipping (``nan``/``inf`` if the gradient is not
        finite; then nothing is scaled and the caller decides).
    """
    # an elementwise reduction, not BLAS ddot: waking a multi-threaded BLAS
    # pool here made the next step's scans compete with its spinning threads
    # (the engine's own products run in kernels._linalg.panel_matmul)
    norm = float(np.sqrt(np.add.reduce(grad * grad)))
    if max_norm is not None and np.isfinite(norm) and norm > max_norm:
        grad *= max_norm / (norm + 1e-12)
    return norm


class Adam:
    """Adam (Kingma & Ba, 2015), step for step as ``torch.optim.Adam``.

    Parameters
    ----------
    n_params : int
    learning_rate : float, default=1e-3
    beta_1, beta_2, epsilon : float
    dtype : numpy dtype
    """

    def __init__(
        self,
        n_params,
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        dtype=np.float64,
    ):
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self.t = 0

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Update ``theta`` in place from ``grad``."""
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        dt = self.m.dtype
        if (
            theta.dtype == grad.dtype == dt == self.v.dtype
            and dt in (np.float32, np.float64)
            and theta.ndim == grad.ndim == 1
            and theta.flags.c_contiguous
            and grad.flags.c_contiguous
            and theta.flags.writeable
        ):
            # one pass, the same operations and bits as the expressions below
            f = dt.type
            adam_step(
                theta, grad, self.m, self.v, f(b1), f(1.0 - b1), f(b2), f(1.0 - b2),
                f(self.learning_rate / (1.0 - b1**self.t)),
                float(np.sqrt(1.0 - b2**self.t)), self.epsilon,
            )
            return
        self.m *= b1
        self.m += (1.0 - b1) * grad
        self.v *= b2
        self.v += (1.0 - b2) * (grad * grad)
        # torch.optim.Adam's form (epsilon added to the bias-corrected sqrt(v))
        bc1 = 1.0 - b1**self.t
        bc2 = 1.0 - b2**self.t
        denom = np.sqrt(self.v) / np.sqrt(bc2) + self.epsilon
        theta -= ((self.learning_rate / bc1) * self.m / denom).astype(theta.dtype)


class SGD:
    """Stochastic gradient descent with (Nesterov) momentum, as sklearn's MLP.

    Parameters
    ----------
    n_params : int
    learning_rate : float, default=1e-3
    momentum : float, default=0.9
    nesterov : bool, default=True
    dtype : numpy dtype
    """

    def __init__(
        self,
        n_params,
        learning_rate=1e-3,
        momentum=0.9,
        nesterov=True,
        dtype=np.float64,
    ):
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = np.zeros(n_params, dtype=dtype)
        self.t = 0

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Update ``theta`` in place from ``grad``."""
        self.t += 1
        v = self.velocity
        v *= self.momentum
        v -= self.learning_rate * grad
        if self.nesterov:
            theta += (self.momentum * v - self.learning_rate * grad).astype(theta.dtype)
        else:
            theta += v.astype(theta.dtype, copy=False)


def make_optimizer(
    solver: str,
    n_params: int,
    learning_rate: float,
    dtype,
    momentum: float = 0.9,
    nesterov: bool = True,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
):
    """Build the optimizer named ``solver`` (``"adam"`` or ``"sgd"``)."""
    if solver == "adam":
        return Adam(n_params, learning_rate, beta_1, beta_2, epsilon, dtype)
    if solver == "sgd":
        return SGD(n_params, learning_rate, momentum, nesterov, dtype)
    raise ValueError(f"solver must be 'adam' or 'sgd', got {solver!r}")
