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

import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning


#: A batch whose loss exceeds this many times the reference has diverged
#: (see :class:`DivergenceGuard`).
LOSS_GROWTH_LIMIT = 1e3


class Diverged(ArithmeticError):
    """Raised by an epoch whose loss or gradient became non-finite, or exploded.

    Parameters
    ----------
    message : str
        What was non-finite (e.g. ``"loss nan, gradient norm inf"``).
    steps_done : int, optional
        Optimizer steps the epoch completed before the failing batch. ``0``
        means the very weights the epoch started from gave the non-finite
        loss, so :func:`run_epochs` does not keep them. None: unknown.
    """

    def __init__(self, message: str = "", *, steps_done: int | None = None):
        super().__init__(message)
        self.steps_done = steps_done


class DivergenceWarning(RuntimeWarning):
    """Training stopped on a non-finite or exploding loss; best weights were kept."""


class DivergenceGuard:
    """The per-batch divergence rule of every training loop.

    A batch has diverged when its loss or gradient norm is non-finite, or when
    its loss (without the L2 penalty) exceeds ``factor`` times the reference:
    the largest of 1 and the loss of predicting 0 on any batch seen so far
    (``StepResult.zero_loss``). On standardized targets predicting 0 is
    predicting the mean (a squared-error loss near 0.5; ``log 2`` for a binary
    logit), so with the default factor of 1000 a batch diverges when its
    predictions are off by about 45 standard deviations (RMS, squared error)
    or 1000 (absolute error): a learning rate that explodes the weights. A
    healthy fit, even a noisy first epoch, stays orders of magnitude below; on
    unscaled data the reference grows with the targets' magnitude, so the
    rule is scale-free there too.

    Parameters
    ----------
    factor : float, default=LOSS_GROWTH_LIMIT (1000)

    Notes
    -----
    One guard per training call: the reference only grows, over the batches
    of every epoch of that call.
    """

    def __init__(self, factor: float = LOSS_GROWTH_LIMIT):
        self.factor = float(factor)
        self.reference = 1.0

    def check(self, res, batch: int) -> None:
        """Raise :class:`Diverged` if the step ``res`` (batch ``batch``, from 1) diverged.

        Parameters
        ----------
        res : StepResult
            What :meth:`Network.train_step` returned.
        batch : int
            The batch's number within the epoch (1 for the first);
            ``steps_done`` is ``batch - 1``.
        """
        if not res.finite:
            raise Diverged(
                f"loss {res.loss}, gradient norm {res.grad_norm} at batch {batch}",
                steps_done=batch - 1,
            )
        if np.isfinite(res.zero_loss) and res.zero_loss > self.reference:
            self.reference = float(res.zero_loss)
        loss = res.data_loss if np.isfinite(res.data_loss) else res.loss
        if loss > self.factor * self.reference:
            raise Diverged(
                f"the loss exploded to {loss:.3g}, over {self.factor:g} times the "
                f"larger of 1 and the loss of predicting 0 ({self.reference:.3g}), "
                f"at batch {batch}",
                steps_done=batch - 1,
            )


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
    """A tqdm bar for ``verbose >= 1``, or one printed line per epoch without tqdm."""
    if verbose < 1:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional (the "progress" extra)
        return _EpochLines(total=max_iter, desc=desc)
    return tqdm(total=max_iter, desc=desc, leave=True)


class _EpochLines:
    """The part of tqdm's interface :func:`run_epochs` uses, as plain lines.

    Each ``update`` prints ``RNNForecaster: epoch 3/50, loss 0.1234,
    validation score 0.8765 (1.2 s)`` to stderr, where tqdm would draw its bar
    (stdout stays for results: the CLI writes its forecast there).
    """

    _LABELS = {"loss": "loss", "val": "validation score"}

    def __init__(self, total, desc):
        self.total, self.desc, self.n = total, desc, 0
        self._postfix = {}
        self._start = time.perf_counter()

    def set_postfix(self, postfix):
        self._postfix = dict(postfix)

    def update(self, n=1):
        self.n += n
        shown = "".join(
            f", {self._LABELS.get(k, k)} {v}" for k, v in self._postfix.items()
        )
        elapsed = time.perf_counter() - self._start
        print(
            f"{self.desc}: epoch {self.n}/{self.total}{shown} ({elapsed:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    def close(self):
        pass


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
        One pass over the training data; returns the mean loss. It checks
        every batch with a :class:`DivergenceGuard` and raises
        :class:`Diverged` (with ``steps_done``) at the first non-finite or
        exploding loss, so a learning rate that explodes the loss stops
        training within the epoch where it happens.
    max_iter, tol, n_iter_no_change : as sklearn's ``MLPRegressor``
    early_stopping : bool
        Stop on the validation score (requires ``validate``).
    validate : callable () -> float, optional
        Validation score, higher is better; recorded every epoch when given.
    verbose : int
        ``>= 1``: a tqdm bar with the loss and validation score per epoch;
        without tqdm installed, one line per epoch on stderr instead.
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

    Notes
    -----
    Divergence (a non-finite loss or gradient in any batch, a batch loss over
    1000 times the larger of 1 and the loss of predicting 0 -- the rule of
    :class:`DivergenceGuard` --, a non-finite mean loss, or weights that
    became non-finite) stops training with a :class:`DivergenceWarning`, not
    an error: the model stays usable. The
    weights kept are always finite: those at the end of the best finished
    epoch (by training loss; by validation score with early stopping) or,
    when no epoch finished, the weights training started from. An epoch's end
    weights are not kept when the next epoch's first batch, run from exactly
    those weights, was the non-finite one. ``log.stopped`` is ``"diverged"``.
    """
    log = log if log is not None else TrainingLog()
    start = time.perf_counter()
    # what to keep after divergence or Ctrl-C: by training loss, and by
    # validation score for early stopping; both start at the starting weights
    best_train = _Keeper(theta)
    best_val = _Keeper(theta)
    no_improve = 0
    bar = _progress(verbose, max_iter, desc)
    try:
        for _ in range(max_iter):
            epoch = log.n_iter + 1
            try:
                loss = float(run_epoch())
                if not np.isfinite(loss):
                    raise Diverged(f"mean loss {loss}")
                if not np.isfinite(theta).all():
                    # the epoch's last update overflowed: its start was fine
                    raise Diverged("the weights became non-finite in the last update")
            except Diverged as exc:
                keeper = best_val if early_stopping else best_train
                if exc.steps_done == 0:
                    # the weights this epoch started from gave the non-finite
                    # loss on its first batch: they are not worth keeping
                    keeper.drop(epoch - 1)
                theta[:] = keeper.theta
                log.stopped = "diverged"
                warnings.warn(
                    _divergence_message(epoch, exc, keeper, early_stopping),
                    DivergenceWarning,
                    stacklevel=3,
                )
                break
            log.n_iter += 1
            log.loss_curve.append(loss)
            if loss < log.best_loss:
                best_train.offer(theta, epoch, loss)
            score = None
            if validate is not None:
                score = float(validate())
                log.validation_scores.append(score)
            if early_stopping and score is not None:
                improved = score > log.best_validation_score + tol
                if score > log.best_validation_score:
                    log.best_validation_score = score
                    best_val.offer(theta, epoch, score)
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
        keeper = best_val if early_stopping and log.validation_scores else best_train
        theta[:] = keeper.theta
        log.stopped = "interrupted"
        warnings.warn(
            f"fit interrupted after {log.n_iter} epochs; the best weights so far "
            f"({keeper.describe()}) were kept and the model is usable.",
            RuntimeWarning,
            stacklevel=3,
        )
    finally:
        if bar is not None:
            bar.close()
    if early_stopping and log.validation_scores and log.stopped != "diverged":
        theta[:] = best_val.theta
    log.fit_time += time.perf_counter() - start
    if warn_max_iter and log.stopped == "max_iter" and max_iter > 0:
        warnings.warn(
            f"maximum iterations ({max_iter}) reached and the optimization has not "
            "converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return log


class _Keeper:
    """The best weights so far, and the candidate they replaced.

    Candidates are the starting weights (epoch 0) and the weights at the end of
    finished epochs with a finite loss and finite weights. One level of history
    is enough: only the newest candidate can turn out to be bad (when the next
    epoch's first batch, run from exactly these weights, is non-finite).
    """

    def __init__(self, theta: np.ndarray):
        self.theta = theta.copy()
        self.epoch, self.value = 0, None
        self._prev = None

    def offer(self, theta: np.ndarray, epoch: int, value: float) -> None:
        spare = self._prev[0] if self._prev is not None else np.empty_like(theta)
        spare[:] = theta
        self._prev = (self.theta, self.epoch, self.value)
        self.theta, self.epoch, self.value = spare, epoch, value

    def drop(self, epoch: int) -> None:
        """Forget the candidate of ``epoch`` if it is the newest one."""
        if self.epoch == epoch and self._prev is not None:
            self.theta, self.epoch, self.value = self._prev
            self._prev = None

    def describe(self) -> str:
        if self.epoch == 0:
            return "the weights training started from"
        return f"those of epoch {self.epoch}"


def _divergence_message(epoch, exc, keeper, early_stopping) -> str:
    what = "validation score" if early_stopping else "training loss"
    if keeper.epoch == 0:
        kept = (
            "the weights training started from were kept (no epoch finished "
            "before the divergence: the model is as untrained as before this fit)"
        )
    else:
        kept = (
            f"the weights of epoch {keeper.epoch}, the best finite one ({what} "
            f"{keeper.value:.4g}), were kept"
        )
    if epoch == 1 and exc.steps_done == 0:
        return (
            f"training diverged at epoch 1 ({exc}): the very first batch, before "
            f"any update, was non-finite; {kept}. The data are probably far too "
            "large for the network: scale them (e.g. StandardScaler, or divide by "
            "a constant); a smaller learning_rate_init or clip_norm cannot help."
        )
    return (
        f"training diverged at epoch {epoch} ({exc}) and was stopped; {kept}. "
        "Lower learning_rate_init (e.g. 10x smaller), set or lower clip_norm "
        "(gradient clipping), or scale the data (very large values overflow)."
    )
