"""The one epoch loop every estimator trains with.

An estimator supplies ``run_epoch()`` (walks its batches, calls
:meth:`Network.train_step`, returns the mean loss or raises
:class:`Diverged`) and optionally ``validate()`` (a score, higher is better).
This loop owns what they share: sklearn MLP's stopping rules (``tol``,
``n_iter_no_change``, ``early_stopping``), keeping and restoring the best
weights, divergence and Ctrl-C handling, the progress bar, and the fitted
curves.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning


class Diverged(ArithmeticError):
    """Raised by an epoch whose loss or gradient became non-finite."""


class DivergenceWarning(RuntimeWarning):
    """Training stopped on a non-finite loss or gradient; best weights were kept."""


@dataclass
class TrainingLog:
    """What the loop measured; estimators copy it into fitted attributes."""

    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = np.inf
    best_validation_score: float = -np.inf
    stopped: str = "max_iter"  # "max_iter", "converged", "early_stopping", "diverged", "interrupted"
    fit_time: float = 0.0


def _progress(verbose, max_iter, desc):
    if verbose < 1:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress is optional: fall back to printing
        return None
    return tqdm(total=max_iter, desc=desc, leave=True)


def run_epochs(
    theta,
    run_epoch,
    *,
    max_iter,
    tol,
    n_iter_no_change,
    early_stopping=False,
    validate=None,
    verbose=0,
    log=None,
    desc="fit",
    warn_max_iter=True,
) -> TrainingLog:
    """Train ``theta`` (in place) for up to ``max_iter`` epochs.

    Parameters
    ----------
    theta : ndarray
        The flat parameters, updated in place by ``run_epoch``; on return it
        holds the weights to keep (the best validation epoch with early
        stopping; the best training epoch after divergence or Ctrl-C; the last
        epoch otherwise, as sklearn's MLP).
    run_epoch : callable () -> float
        One pass over the training data; returns the mean loss.
    max_iter, tol, n_iter_no_change : as sklearn's ``MLPRegressor``
    early_stopping : bool
        Stop on the validation score (requires ``validate``).
    validate : callable () -> float, optional
        Validation score, higher is better; recorded every epoch when given.
    verbose : int
        ``>= 1``: a tqdm bar with the loss and validation score per epoch.
    log : TrainingLog, optional
        Continue an existing log (``warm_start``/``partial_fit``).
    desc : str, default="fit"
        Label of the progress bar.
    warn_max_iter : bool, default=True
        Warn (``ConvergenceWarning``) when ``max_iter`` epochs ran without
        converging. ``partial_fit`` passes False: one epoch per call is its
        contract, not a failure to converge (sklearn's MLP does not warn there).

    Returns
    -------
    TrainingLog
    """
    log = log if log is not None else TrainingLog()
    start = time.perf_counter()
    best_theta = theta.copy()
    best_train = theta.copy()
    no_improve = 0
    bar = _progress(verbose, max_iter, desc)
    try:
        for _ in range(max_iter):
            try:
                loss = float(run_epoch())
            except Diverged as exc:
                theta[:] = best_theta if early_stopping else best_train
                log.stopped = "diverged"
                warnings.warn(
                    f"training diverged at epoch {log.n_iter + 1} ({exc}); the best "
                    "weights so far were kept. Lower learning_rate_init, set "
                    "clip_norm, or scale the data.",
                    DivergenceWarning,
                    stacklevel=3,
                )
                break
            log.n_iter += 1
            log.loss_curve.append(loss)
            if loss < log.best_loss:
                best_train[:] = theta
            score = None
            if validate is not None:
                score = float(validate())
                log.validation_scores.append(score)
            if early_stopping and score is not None:
                improved = score > log.best_validation_score + tol
                if score > log.best_validation_score:
                    log.best_validation_score = score
                    best_theta[:] = theta
                if loss < log.best_loss:
                    log.best_loss = loss
            else:
                improved = loss < log.best_loss - tol
                if loss < log.best_loss:
                    log.best_loss = loss
            no_improve = 0 if improved else no_improve + 1
            if bar is not None:
                post = {"loss": f"{loss:.4g}"}
                if score is not None:
                    post["val"] = f"{score:.4g}"
                bar.set_postfix(post)
                bar.update(1)
            if no_improve > n_iter_no_change:
                log.stopped = "early_stopping" if early_stopping else "converged"
                break
        else:
            log.stopped = "max_iter"
    except KeyboardInterrupt:
        theta[:] = (
            best_theta if early_stopping and log.validation_scores else best_train
        )
        log.stopped = "interrupted"
        warnings.warn(
            f"fit interrupted after {log.n_iter} epochs; the best weights so far "
            "were kept and the model is usable.",
            RuntimeWarning,
            stacklevel=3,
        )
    finally:
        if bar is not None:
            bar.close()
    if early_stopping and log.validation_scores and log.stopped != "diverged":
        theta[:] = best_theta
    log.fit_time += time.perf_counter() - start
    if warn_max_iter and log.stopped == "max_iter" and max_iter > 0:
        warnings.warn(
            f"maximum iterations ({max_iter}) reached and the optimization has not "
            "converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return log
