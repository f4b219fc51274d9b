"""The window models' state for model files (the protocol of :mod:`tsrnn.persist`).

Shared by the regressor and the classifier: the sizes learned at fit, the
weights, the curves, the optimizer, the training log and the random stream (so
that a warm ``fit`` or ``partial_fit`` after loading continues exactly). Each
subclass adds its targets' encoding through two hooks, ``_target_state`` and
``_load_target_state`` (the regressor's scaling, the classifier's labels).
"""

from __future__ import annotations

import numpy as np

from ... import persist
from .. import fitted_config

# the fitted attributes stored as JSON values and as arrays (missing ones skipped)
SCALARS = (
    "n_features_in_",
    "input_size_",
    "window_",
    "n_outputs_",
    "n_iter_",
    "loss_curve_",
    "loss_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "grad_norm_curve_",
    "t_",
    "_grad_norms",
    "_optimizer_solver",
    "stopped_",
)
ARRAYS = ("params_", "dh_norm_")
SIZES = ("n_features_in_", "input_size_", "window_", "n_outputs_")


def state_dict(model) -> persist.ModelState:
    """Everything a fitted window model needs to predict and continue training.

    Refused (``ValueError``) when a parameter of the fitted model changed since
    fit: the file would not describe the model that predicts.
    """
    state = fitted_config.saved_state(model, SCALARS, ARRAYS)
    if hasattr(model, "feature_names_in_"):
        names = [str(v) for v in model.feature_names_in_]
        state.attributes["feature_names_in_"] = names
    model._target_state(state)
    if getattr(model, "categories_", None):
        state.attributes["categories_"] = [c.tolist() for c in model.categories_]
    state.attributes["_optimizer"] = persist.optimizer_state(
        getattr(model, "_optimizer", None), state, model.solver
    )
    log = getattr(model, "_log", None)
    state.attributes["_log"] = persist.training_log_state(log)
    rng = getattr(model, "_rng", None)
    state.attributes["_rng"] = None if rng is None else rng.bit_generator.state
    return state


def load_state_dict(est, state: persist.ModelState) -> None:
    """Check ``state`` against ``est``'s parameters, then restore it."""
    for name in SIZES:
        v = state.require(name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise persist.StateError(
                f"metadata attribute {name!r} must be a positive int, got {v!r}"
            )
        setattr(est, name, v)
    if est.n_features_in_ != est.input_size_ * est.window_:
        raise persist.StateError("n_features_in_ is not input_size_ * window_")
    if "feature_names_in_" in state.attributes:
        names = state.attributes["feature_names_in_"]
        if not isinstance(names, list) or len(names) != est.n_features_in_:
            raise persist.StateError(
                f"feature_names_in_ must list n_features_in_={est.n_features_in_} "
                "column names"
            )
        est.feature_names_in_ = np.asarray(names, dtype=object)
    est._load_target_state(state)
    _load_categories(est, state)
    # every size the metadata implies against the arrays held, before the
    # network (and its parameter vector) is allocated
    if "params_" not in state.arrays:
        raise persist.StateError("array 'params_' is missing")
    held = state.arrays["params_"].size
    H, L = int(est.hidden_size), int(est.num_layers)
    if H * L > held:  # every layer holds at least hidden_size weights
        raise persist.StateError(
            f"hidden_size={H} and num_layers={L} (the file's parameters) need "
            f"more than {H * L:,} weights, but array 'params_' holds {held:,}"
        )
    stack, head, emb = est._network_parts()
    dt = est._param_dtype()
    n_emb = 0 if emb is None else emb.size
    state.array("params_", (stack.layout.size + head.layout.size + n_emb,), dt)
    state.check_finite(("params_", "_y_mean", "_y_scale"))
    state.check_positive(("_y_scale",))
    state.check_positive(("dh_norm_",), zero_ok=True)
    for name in ("n_iter_", "loss_curve_"):
        state.require(name)
    for name in ("n_iter_", "t_"):
        v = state.attributes.get(name, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise persist.StateError(
                f"metadata attribute {name!r} must be an int >= 0, got {v!r}"
            )
    # the same construction as fit's, so the network is the one that was trained
    est._init_model()
    optimizer = persist.restore_optimizer(
        state,
        est.solver,
        est._network.size,
        dt,
        momentum=est.momentum,
        nesterov=est.nesterovs_momentum,
        beta_1=est.beta_1,
        beta_2=est.beta_2,
        epsilon=est.epsilon,
    )
    rng_state = state.attributes.get("_rng")
    if rng_state is not None:
        try:
            est._rng.bit_generator.state = rng_state
        except (TypeError, ValueError, KeyError) as exc:
            raise persist.StateError(f"invalid random stream state ({exc})") from exc
    persist.restore_attributes(est, SCALARS, ARRAYS, state)
    est._optimizer = optimizer
    est._log = persist.restore_training_log(state.attributes.get("_log"))


def _load_categories(est, state: persist.ModelState) -> None:
    """``categories_``: one sorted list of numbers per categorical feature.

    Files written before categorical features have none.
    """
    try:
        features = est._categorical()
    except (TypeError, ValueError) as exc:
        raise persist.StateError(f"invalid categorical_features ({exc})") from exc
    cats = state.attributes.get("categories_", [])
    if (
        not isinstance(cats, list)
        or len(cats) != len(features)
        or not all(
            isinstance(c, list) and c
            and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in c)
            for c in cats
        )
    ):
        raise persist.StateError(
            f"categories_ must list the values of each of the {len(features)} "
            "categorical feature(s)"
        )
    values = [np.asarray(c, dtype=np.float64) for c in cats]
    if any((np.diff(v) <= 0).any() or not np.isfinite(v).all() for v in values):
        raise persist.StateError("categories_ must be sorted, distinct and finite")
    est.categories_ = values
