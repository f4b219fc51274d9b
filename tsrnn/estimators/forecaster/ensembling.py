"""``RNNForecaster(n_ensemble=k)``: k members, combined step by step by the median.

:class:`CombinesMembers` is mixed into the forecaster ahead of its other
mixins. With ``n_ensemble=1`` (the default) it changes nothing: every method
falls through to the single model's. With ``n_ensemble=k > 1``, ``fit`` trains
``k`` clones of the forecaster with ``n_ensemble=1`` and the seeds
:class:`~tsrnn.EnsembleForecaster` would give them (:mod:`..members`: one
base seed from ``random_state``, one derived seed per member), through
:class:`joblib.Parallel`; the forecaster keeps them in ``estimators_`` and
holds no network of its own. The array-level protocol the estimator's public
methods and the evaluation walk are written against (``_predict_values``,
``_bounds``, ``_quantiles_scaled``, ``_sample_scaled``, ``_update_block``,
``_snapshot``, ``_state_dict``) is answered here by the members, combined:

* point forecasts, interval bounds and quantiles: the median over the
  members, element by element (``np.median``: the mean of the middle two for
  an even ``k``);
* sample paths: a mixture, ``n_paths`` split among the members in order
  (member ``i`` draws ``n_paths // k`` paths, one more for the first
  ``n_paths % k``), each with a seed derived from the call's seed and its
  position, concatenated along the path axis;
* ``update`` and ``partial_fit``: every member, on the same block;
* model files: every member's state under ``member{i}.``, with the members'
  seeds (``seeds_``), each checked on load as a single model's.

The public fitted attributes a user reads (``reference_``, ``differencing_``,
``n_epochs_``, ``schema_``, ``loss_curve_``, ...) are the first member's,
read through (see :meth:`CombinesMembers.__getattr__`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from ... import persist
from .. import fitted_config
from ..members import call_members, fit_members, member_seed, member_seeds

#: The prefix of member ``i``'s arrays and attributes in a model file.
MEMBER_PREFIX = "member{}."


def combine(arrays) -> np.ndarray:
    """The members' arrays combined element by element: their median."""
    return np.median(np.stack(arrays), axis=0)


def split_paths(n_paths: int, k: int) -> list[int]:
    """Paths drawn by each of ``k`` members for a mixture of ``n_paths``."""
    return [n_paths // k + (i < n_paths % k) for i in range(k)]


class CombinesMembers:
    """``n_ensemble``: members fitted, streamed and combined (see the module)."""

    # ------------------------------------------------------------ members
    def _members(self):
        """The fitted members, or None for a single model (or an unfitted one)."""
        return self.__dict__.get("estimators_")

    def __getattr__(self, name):
        # only when normal lookup failed: an ensemble reads its public fitted
        # attributes (``reference_``, ``schema_``, ...) from its first member
        if name.endswith("_") and not name.startswith("_"):
            members = self.__dict__.get("estimators_")
            if members:
                return getattr(members[0], name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def _member_params(self, seed) -> dict:
        """A member's parameters: this forecaster's, one model, its own seed."""
        return {**self.get_params(deep=False), "n_ensemble": 1, "random_state": seed}

    def _new_members(self, seeds) -> list:
        return [clone(self).set_params(**self._member_params(s)) for s in seeds]

    def _forget_fit(self) -> None:
        """Drop every fitted attribute (a single model's or an ensemble's)."""
        params = set(self._get_param_names())
        for name in list(self.__dict__):
            if name not in params and name != "_tsrnn_stream_lock":
                del self.__dict__[name]

    def _fit_members(self, y, X, X_past, *, partial: bool):
        """``fit`` (or a first ``partial_fit``) of an ensemble.

        ``warm_start`` (and ``partial_fit`` of a fitted ensemble, see
        :meth:`_train_members`) continue the members in place; otherwise
        fresh members with derived seeds are fitted.
        """
        k = int(self.n_ensemble)
        members = self._members()
        warm = self.warm_start and members is not None and not partial
        if warm:
            fitted_config.check_unchanged(self, "fit with warm_start=True")
            seeds = list(self.seeds_)
            for m, s in zip(members, seeds, strict=True):
                m.set_params(**self._member_params(s))
        else:
            seeds = member_seeds(self.random_state, k)
            members = self._new_members(seeds)
        kwargs = {} if X_past is None else {"X_past": X_past}
        if partial:
            args = (y, X) if X_past is None else (y, X, X_past)
            fitted = call_members(members, "partial_fit", *args)
        else:
            fitted = fit_members(members, y, X, **kwargs)
        with self._stream_lock():
            self._forget_fit()
            self.estimators_ = list(fitted)
            self.seeds_ = seeds
            self._fit_config = fitted_config.record(self, self._fit_config_params)
        return self

    def _train_members(self, y_new, X_new, X_past):
        """``partial_fit`` of a fitted ensemble: one epoch in every member."""
        fitted_config.check_unchanged(self, "partial_fit")
        with self._stream_lock():
            members = self._members()
            for m, s in zip(members, self.seeds_, strict=True):
                m.set_params(**self._member_params(s))  # the training settings
            args = (y_new, X_new) if X_past is None else (y_new, X_new, X_past)
            self.estimators_ = list(call_members(members, "partial_fit", *args))
        return self

    # ------------------------------------------- the array-level protocol
    def _snapshot(self):
        with self._stream_lock():  # the members as one update left them
            view = super()._snapshot()
            members = view.__dict__.get("estimators_")
            if members is not None:
                view.estimators_ = [m._snapshot() for m in members]
        return view

    def _predict_values(self, fut):
        members = self._members()
        if members is None:
            return super()._predict_values(fut)
        fitted_config.check_unchanged(self, "predict")
        return combine([m._predict_values(fut) for m in members])

    def _bounds(self, positions, values, coverage, method, fut):
        members = self._members()
        if members is None:
            return super()._bounds(positions, values, coverage, method, fut)
        method = self._check_interval_method(method)
        los, his = [], []
        for m in members:  # each member's bounds around its own forecast
            own = values if fut is None else m._predict_values(fut)
            lo, hi = m._bounds(positions, own, coverage, method, fut)
            los.append(lo)
            his.append(hi)
        return combine(los), combine(his)

    def _quantiles_scaled(self, fut, qs):
        members = self._members()
        if members is None:
            return super()._quantiles_scaled(fut, qs)
        return combine([m._quantiles_scaled(fut, qs) for m in members])

    def _sample_scaled(self, fut, n_paths, temperature, seed):
        members = self._members()
        if members is None:
            return super()._sample_scaled(fut, n_paths, temperature, seed)
        parts = [
            m._sample_scaled(fut, n, temperature, member_seed(seed, i))
            for i, (m, n) in enumerate(
                zip(members, split_paths(n_paths, len(members)), strict=True)
            )
            if n > 0
        ]
        return np.concatenate(parts, axis=1)

    def _update_block(self, block, conformal=None) -> None:
        members = self._members()
        if members is None:
            super()._update_block(block, conformal=conformal)
            return
        fitted_config.check_unchanged(self, "update")
        for m in members:  # each refreshes its own conformal pool
            m._update_block(block)

    def _forget_intervals(self) -> None:
        members = self._members()
        if members is None:
            super()._forget_intervals()
            return
        for m in members:  # a copy's members (score): points only
            m._forget_intervals()

    # ------------------------------------------------------- model files
    def _state_dict(self) -> persist.ModelState:
        members = self._members()
        if members is None:
            return super()._state_dict()
        fitted_config.check_unchanged(self, "save")
        state = persist.ModelState()
        state.attributes["seeds_"] = [int(s) for s in self.seeds_]
        for i, m in enumerate(members):
            prefix = MEMBER_PREFIX.format(i)
            sub = m._state_dict()
            state.attributes.update({prefix + k: v for k, v in sub.attributes.items()})
            state.arrays.update({prefix + k: v for k, v in sub.arrays.items()})
        return state

    def _load_state_dict(self, state: persist.ModelState) -> None:
        k = self.n_ensemble
        if k == 1:
            if "seeds_" in state.attributes:
                raise persist.StateError(
                    "the file holds ensemble members (seeds_) but n_ensemble=1"
                )
            super()._load_state_dict(state)
            return
        seeds = state.require("seeds_")
        if not (
            isinstance(seeds, list)
            and len(seeds) == k
            and all(
                isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**32
                for s in seeds
            )
        ):
            raise persist.StateError(
                f"metadata attribute 'seeds_' must list n_ensemble={k} seeds "
                f"(ints in [0, 2**32)), got {seeds!r}"
            )
        prefixes = [MEMBER_PREFIX.format(i) for i in range(k)]
        for name in (*state.attributes, *state.arrays):
            if name != "seeds_" and not name.startswith(tuple(prefixes)):
                raise persist.StateError(
                    f"{name!r} belongs to no member of n_ensemble={k}"
                )
        members = []
        for i, (prefix, seed) in enumerate(zip(prefixes, seeds, strict=True)):
            sub = persist.ModelState(
                {n[len(prefix):]: v for n, v in state.attributes.items()
                 if n.startswith(prefix)},
                {n[len(prefix):]: v for n, v in state.arrays.items()
                 if n.startswith(prefix)},
            )
            if not sub.arrays:
                raise persist.StateError(f"member {i} of n_ensemble={k} is missing")
            member = self._new_members([seed])[0]
            try:
                member._load_state_dict(sub)
            except persist.StateError as exc:
                raise persist.StateError(
                    f"member {i}: {exc.problem}", exc.fix
                ) from None
            members.append(member)
        self.estimators_ = members
        self.seeds_ = list(seeds)
        self._fit_config = fitted_config.record(self, self._fit_config_params)
