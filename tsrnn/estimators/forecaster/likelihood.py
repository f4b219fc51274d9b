"""The forecaster's output head: point, likelihood or quantile outputs per step.

``loss`` decides what the head outputs per forecast step and target:

* a point loss (``"squared_error"``, ``"absolute_error"``, ``"huber"``): one
  value, the forecast itself;
* a likelihood (``"normal"``, ``"student_t"``, ``"poisson"``,
  ``"negative_binomial"``, :mod:`tsrnn.engine.distributions`): the
  distribution's raw parameters (``P`` per target, parameter-fastest:
  output ``(s * k + j) * P + p``), trained by maximum likelihood; the point
  forecast is the distribution's **mean** (for the location-scale families
  also its median);
* ``"quantile"``: one output per level of ``quantiles``, trained by the mean
  pinball loss; the quantiles are **sorted** at prediction (non-crossing by
  sorting, not by construction); the point forecast is the median (the mean
  of the quantiles when 0.5 is not among them).

Everything that reads a head output as a forecast goes through
:class:`OutputHead`: the point forecast, the value fed back as the next input
(recursive strategy, gaps), quantiles, and the training and validation loss.

How a distribution maps back to the data's units. The network works on
targets that are deseasonalised, scaled per series and possibly differenced
(relative to the forecast origin). Each of these maps is increasing in ``y``
for a given series and step: the origin's level is added (direct strategy),
the scaler's ``y * scale + loc`` (``scale > 0``), the seasonal index
multiplied (indices of a strictly positive series, positive) or added. So
every quantile of the scaled distribution maps to the same quantile of the
data's distribution exactly, and so does every sample path; a location-scale
family stays in its family (location and scale mapped affinely). The recursive
strategy forecasts one step's change and sums them: its multi-step quantiles
come from sample paths. Count families are only fitted on the counts
themselves: no centring scaler, no differencing, no deseasonalising
(:func:`check_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ...engine import get_distribution, get_loss
from ...engine.distributions import DISTRIBUTIONS, EPS
from ...engine.losses import check_quantile_levels, pinball

#: Likelihood losses (``loss=``) and the quantile head's name.
LIKELIHOODS = tuple(DISTRIBUTIONS)
QUANTILE = "quantile"
#: The quantile head's levels when ``quantiles`` is not given: the 80 %, 90 %
#: and 95 % central intervals and the median.
DEFAULT_QUANTILES = (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975)


def quantile_levels(loss, quantiles) -> tuple:
    """The sorted levels of a quantile head (``()`` for other losses), checked."""
    if loss != QUANTILE:
        if quantiles is not None:
            raise ValueError(
                f"quantiles is for loss='quantile', not loss={loss!r}; set "
                "loss='quantile' or drop quantiles"
            )
        return ()
    return check_quantile_levels(quantiles, DEFAULT_QUANTILES)


@dataclass(frozen=True)
class OutputHead:
    """What the head outputs per target and how to read it (see the module)."""

    loss: str
    levels: tuple = ()

    @classmethod
    def of(cls, loss, quantiles=None) -> OutputHead:
        """The head of a resolved ``loss_`` and the ``quantiles`` parameter."""
        return cls(loss, quantile_levels(loss, quantiles))

    @property
    def kind(self) -> str:
        """``"point"``, ``"distribution"`` or ``"quantile"``."""
        if self.loss in DISTRIBUTIONS:
            return "distribution"
        return QUANTILE if self.loss == QUANTILE else "point"

    @property
    def distribution(self):
        """The likelihood family (None for point and quantile heads)."""
        return get_distribution(self.loss) if self.kind == "distribution" else None

    @property
    def counts(self) -> bool:
        """A count family (Poisson, negative binomial)."""
        d = self.distribution
        return bool(d is not None and d.counts)

    @property
    def n_params(self) -> int:
        """Raw outputs per target and step."""
        if self.kind == "distribution":
            return self.distribution.n_params
        return len(self.levels) if self.kind == QUANTILE else 1

    @property
    def point_param(self) -> int:
        """The output fed back as the target's value (location, mean, median)."""
        if self.kind == QUANTILE:
            return int(np.argmin(np.abs(np.asarray(self.levels) - 0.5)))
        return 0

    @property
    def feedback_link(self) -> int:
        """0: the fed-back output is the value; 1: its softplus (a count mean)."""
        return 1 if self.counts else 0

    def training_loss(self):
        """``loss(y_hat, y, mask) -> (value, grad)`` on the raw outputs."""
        if self.kind == "distribution":
            return self.distribution.loss
        if self.kind == QUANTILE:
            return partial(pinball, quantiles=self.levels)
        return get_loss(self.loss)

    def _split(self, raw):
        """``(..., m * P)`` -> ``(..., m, P)``."""
        raw = np.asarray(raw, dtype=np.float64)
        return raw.reshape(raw.shape[:-1] + (-1, self.n_params))

    def point(self, raw) -> np.ndarray:
        """Point forecasts ``(..., m)`` of raw outputs ``(..., m * P)``."""
        if self.kind == "point":
            return np.asarray(raw)
        if self.kind == "distribution":
            return self.distribution.mean(raw)
        q = np.sort(self._split(raw), axis=-1)
        if 0.5 in self.levels:
            return q[..., self.levels.index(0.5)]
        return q.mean(axis=-1)

    def fed_back(self, raw) -> np.ndarray:
        """What the stream kernel feeds back (:attr:`point_param`, its link)."""
        v = self._split(raw)[..., self.point_param]
        if self.feedback_link:
            v = np.logaddexp(0.0, v) + EPS
        return v

    def quantiles(self, raw, qs, allow_outside=False) -> np.ndarray:
        """Quantiles ``(..., m, len(qs))`` of raw outputs ``(..., m * P)``.

        A quantile head interpolates linearly between its sorted levels and
        refuses levels outside them.
        """
        qs = np.atleast_1d(np.asarray(qs, dtype=np.float64))
        if self.kind == "distribution":
            dist = self.distribution
            return np.stack([dist.quantile(raw, q) for q in qs], axis=-1)
        if self.kind != QUANTILE:
            raise ValueError(
                f"loss={self.loss!r} gives point forecasts only; fit with a "
                "likelihood or quantile loss for quantiles"
            )
        levels = np.asarray(self.levels)
        if qs.min() < levels.min() - 1e-9 or qs.max() > levels.max() + 1e-9:
            raise ValueError(
                f"the quantile head was trained on levels "
                f"{[float(v) for v in levels]}; ask for levels between them, or "
                "refit with wider quantiles"
            )
        q = np.sort(self._split(raw), axis=-1)  # sorted: never crossing
        qs = np.clip(qs, levels.min(), levels.max())
        # linear interpolation between neighbouring levels, vectorized
        hi = np.clip(np.searchsorted(levels, qs), 1, len(levels) - 1)
        if len(levels) == 1:
            return np.repeat(q, len(qs), axis=-1)
        lo = hi - 1
        w = (qs - levels[lo]) / (levels[hi] - levels[lo])
        return q[..., lo] * (1 - w) + q[..., hi] * w

    def covers(self, qs) -> bool:
        """Whether :meth:`quantiles` can give the levels ``qs``."""
        if self.kind != QUANTILE:
            return self.kind == "distribution"
        qs = np.asarray(qs, dtype=np.float64)
        return bool(
            qs.min() >= min(self.levels) - 1e-9 and qs.max() <= max(self.levels) + 1e-9
        )

    def tail_score(self, raw, target, mask) -> tuple[float, float]:
        """Summed loss and weight of the held-out targets (validation)."""
        n = float(mask.sum())
        if n == 0:
            return 0.0, 0.0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = self.training_loss()(np.asarray(raw, np.float64), target, mask)[0]
        return float(value) * n, n


def head_fields(head: OutputHead) -> dict:
    """The :class:`~.features.FeatureLayout` fields that describe ``head``."""
    return dict(
        n_params=head.n_params,
        point_param=head.point_param,
        feedback_link=head.feedback_link,
        quantile_head=head.kind == QUANTILE,
    )


def output_head(model) -> OutputHead:
    """The head of a fitted (or fitting) forecaster."""
    loss = getattr(model, "loss_", None)
    if loss is None:
        loss = model.loss
    return OutputHead.of(loss, getattr(model, "quantiles", None))


def check_counts(head: OutputHead, scaler, differencing, deseasonalize) -> None:
    """Refuse transforms under which a count is no longer a count.

    A Poisson or negative binomial head models the counts themselves: the
    scaler must be None (the network then reads the raw counts), and the
    series may be neither differenced (changes can be negative) nor
    deseasonalised (divided counts are not integers).
    """
    if not head.counts:
        return
    if scaler is not None:
        raise ValueError(
            f"loss={head.loss!r} models counts: a scaler would centre them "
            f"(scaler={scaler!r}); set scaler=None (the network then reads the "
            "raw counts), or use loss='normal' or 'student_t' for scaled data"
        )
    if differencing is True:
        raise ValueError(
            f"loss={head.loss!r} models counts, and changes of counts can be "
            "negative; set differencing=False (or 'auto')"
        )
    if deseasonalize is not None and deseasonalize != "auto":
        raise ValueError(
            f"loss={head.loss!r} models counts; deseasonalize must be None or "
            "'auto' (off for counts)"
        )


def check_count_values(head: OutputHead, y) -> None:
    """Refuse negative or non-integer targets for a count head."""
    if not head.counts:
        return
    v = np.asarray(y, dtype=np.float64)
    v = v[~np.isnan(v)]
    if (v < 0).any():
        raise ValueError(
            f"loss={head.loss!r} models counts, but y holds negative values "
            f"(smallest {v.min():.6g}); use loss='normal' or 'student_t' for "
            "real-valued data"
        )
    if (v != np.round(v)).any():
        bad = v[v != np.round(v)][0]
        raise ValueError(
            f"loss={head.loss!r} models counts, but y holds non-integer values "
            f"(e.g. {bad:.6g}); round the counts, or use loss='normal' or "
            "'student_t' for real-valued data"
        )
