"""The forecaster's state for model files (the protocol of :mod:`tsrnn.persist`).

What ``predict``, ``predict_interval``, ``update``, ``score`` and a continued
``partial_fit`` read: the weights, the series' ends, the scaler, the conformal
residuals, the feature layout and series schema, the optimizer and the
training log. :func:`load_state_dict` checks every array against the network
the parameters build before anything is set, so a damaged file never leaves a
half-restored estimator.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from ... import persist
from ...data import SeriesSchema
from ...smoothing import N_STATE, PARAMS
from .features import FeatureLayout
from .head import build_network
from .reader import last_observed
from .references import NAMES, ReferenceState
from .transforms import Scaler, Seasonal

# the fitted attributes stored as JSON values and as arrays (missing ones skipped)
SCALARS = (
    "n_iter_",
    "loss_curve_",
    "validation_scores_",
    "best_loss_",
    "best_validation_score_",
    "grad_norm_curve_",
    "stopped_",
    "t_",
    "_conformal_note",
    "_auto_seed",
)
ARRAYS = (
    "params_",
    "_state",
    "_top",
    "_tail_y",
    "_tail_z",
    "_level",
    "conformal_scores_",
    "conformal_scale_",
    "dh_norm_",
)


def state_dict(model) -> persist.ModelState:
    """Everything a fitted forecaster needs to predict and continue training."""
    state = persist.ModelState()
    persist.fitted_attributes(model, SCALARS, ARRAYS, state)
    state.attributes["_layout"] = dataclasses.asdict(model._layout)
    for f in dataclasses.fields(model._scaler):
        state.arrays[f"_scaler.{f.name}"] = np.asarray(getattr(model._scaler, f.name))
    for f in dataclasses.fields(model._season):
        state.arrays[f"_season.{f.name}"] = np.asarray(getattr(model._season, f.name))
    if model._layout.n_refs:
        for name in ReferenceState.FIELDS:
            state.arrays[f"_refs.{name}"] = np.asarray(getattr(model._refs, name))
    try:
        state.attributes["schema_"] = model.schema_.to_dict()
        json.dumps(state.attributes["schema_"], allow_nan=True)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"the series format of this model (names, ids or index) cannot be stored "
            f"as JSON ({exc}); use str or int column names, ids and series names"
        ) from exc
    state.attributes["_optimizer"] = persist.optimizer_state(
        getattr(model, "_optimizer", None), state
    )
    log = getattr(model, "_log", None)
    state.attributes["_log"] = persist.training_log_state(log)
    return state


def load_state_dict(est, state: persist.ModelState) -> None:
    """Check ``state`` against ``est``'s parameters, then restore it."""
    try:
        layout = dict(state.require("_layout"))
        layout["seasons"] = tuple(layout["seasons"])
        layout = FeatureLayout(**layout)
        schema = SeriesSchema.from_dict(state.require("schema_"))
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        if isinstance(exc, persist.StateError):
            raise
        raise persist.StateError(
            f"invalid layout or series schema metadata ({exc})"
        ) from exc
    dt = np.dtype(est.dtype).type
    net = build_network(
        est.cell, est.hidden_size, est.num_layers, est.nonlinearity, layout, dt
    )
    S, k, c = schema.n_series, layout.n_targets, layout.n_covariates
    H, keep = int(est.hidden_size), layout.history
    if (schema.n_targets, schema.n_covariates) != (k, c):
        raise persist.StateError(
            "the series schema and the network layout disagree on the "
            "number of targets or covariates"
        )
    expected = {
        "params_": ((net.size,), dt),
        "_state": (net.stack.zero_state(S).shape, dt),
        "_top": ((S, H), dt),
        "_tail_y": ((S, keep, k), dt),
        "_tail_z": ((S, keep, layout.n_known), dt),
        "_scaler.y_loc": ((S, k), np.float64),
        "_scaler.y_scale": ((S, k), np.float64),
        "_scaler.x_loc": ((c,), np.float64),
        "_scaler.x_scale": ((c,), np.float64),
        "conformal_scale_": ((S, k), np.float64),
    }
    for name, (shape, dtype) in expected.items():
        state.array(name, shape, dtype)
    scores = state.arrays.get("conformal_scores_")
    if scores is None:
        raise persist.StateError("array 'conformal_scores_' is missing")
    state.array("conformal_scores_", (len(scores), int(est.horizon), k), np.float64)
    if "dh_norm_" in state.arrays and state.arrays["dh_norm_"].ndim != 2:
        raise persist.StateError("array 'dh_norm_' must be 2-D")
    # NaN marks missing history and residuals whose truth was missing
    state.check_finite(
        [*expected, "conformal_scores_"], nan_ok=("_tail_y", "conformal_scores_")
    )
    if "_level" in state.arrays:  # last observed scaled level (NaN: none yet)
        state.array("_level", (S, k), np.float64)
        state.check_finite(["_level"], nan_ok=("_level",))
    for name in ("n_iter_", "loss_curve_", "best_loss_", "validation_scores_"):
        state.require(name)
    season = _check_season(state, S, k)
    refs = _check_references(state, layout, S, k)
    optimizer = persist.restore_optimizer(state, est.solver, net.size, dt)

    est._layout, est._net = layout, net
    est._scaler = Scaler(
        *(state.arrays[f"_scaler.{f.name}"] for f in dataclasses.fields(Scaler))
    )
    est._season = season
    if refs is not None:
        est._refs = refs
    est.references_ = NAMES if refs is not None else ()
    est.deseasonalized_ = season.active > 0
    est.schema_ = schema
    persist.restore_attributes(est, SCALARS, ARRAYS, state)
    est._optimizer = optimizer
    est._log = persist.restore_training_log(state.attributes.get("_log"))
    if "_level" not in state.arrays:  # files written before it was stored
        tail = est._tail_y.astype(np.float64)
        est._level = np.stack([last_observed(t) for t in tail])
    # the compiled inference weights are derived data: rebuilt, never stored
    est._pack_cache = est._pack()


def _check_season(state: persist.ModelState, S: int, k: int) -> Seasonal:
    """The seasonal indices (files written before them: none deseasonalised)."""
    if "_season.indices" not in state.arrays:
        return Seasonal.none(S, k)
    idx = state.arrays["_season.indices"]
    if idx.ndim != 3 or idx.shape[1] < 1:
        raise persist.StateError("array '_season.indices' must be (S, period, k)")
    state.array("_season.indices", (S, idx.shape[1], k), np.float64)
    state.array("_season.multiplicative", (S, k), np.float64)
    state.array("_season.active", (S, k), np.float64)
    names = ["_season.indices", "_season.multiplicative", "_season.active"]
    state.check_finite(names)
    mult = state.arrays["_season.multiplicative"] > 0
    if (idx[np.broadcast_to(mult[:, None, :], idx.shape)] <= 0).any():
        raise persist.StateError("multiplicative seasonal indices must be positive")
    return Seasonal(*(state.arrays[n] for n in names))


def _check_references(state: persist.ModelState, layout, S: int, k: int):
    """The statistical references' parameters and states (None without them)."""
    if not layout.n_refs:
        return None
    if layout.n_refs != len(NAMES):
        raise persist.StateError(
            f"the layout has {layout.n_refs} statistical references; this version "
            f"of tsrnn knows {len(NAMES)}"
        )
    shapes = {
        "params": (S, k, len(PARAMS)),
        "init": (S, k, N_STATE),
        "state": (S, k, N_STATE),
        "last": (S, k, len(NAMES), 3),
    }
    names = [f"_refs.{f}" for f in ReferenceState.FIELDS]
    for f in ReferenceState.FIELDS:
        state.array(f"_refs.{f}", shapes[f], np.float64)
    # NaN: a filter that has seen no observation yet (its level is unset)
    state.check_finite(names, nan_ok=("_refs.init", "_refs.state", "_refs.last"))
    return ReferenceState(*(state.arrays[n] for n in names))
