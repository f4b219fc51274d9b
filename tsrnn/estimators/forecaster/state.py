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
import numbers

import numpy as np

from ... import persist
from ...data import SeriesSchema
from ...data.timeaxis import freq_to_json
from ...smoothing import N_STATE, PARAMS
from .. import fitted_config
from . import auto
from .embeddings import embedding_layout
from .features import FeatureLayout
from .head import assemble, network_parts, resolve_seasons
from .likelihood import OutputHead, head_fields
from .reader import last_observed
from .references import NAMES, ReferenceState
from .strategies import STRATEGIES
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
    # what the "auto" settings resolved to at fit
    "differencing_",
    "reference_",
    "season_length_",
    "seasons_",
    "bptt_length_",
    "loss_",
    "n_epochs_",
    "selected_epochs_",
    "validation_fraction_",
    "learning_rate_",  # older files: none (learning_rate_init was a number)
    "n_iter_no_change_",  # older files: none
    "short_series_",  # older files: none (long: the former patience)
    "hidden_size_",  # older files: none (hidden_size was a number)
    "conformal_window_",  # after update (online conformal); older files: none
    "strategy_",  # older files: none (strategy was never "auto")
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
    "conformal_weights_",  # after update (online conformal); older files: none
    "conformal_errors_",  # signed residuals; older files: none (symmetric bands)
    "dh_norm_",
    "combination_weights_",
)


def state_dict(model) -> persist.ModelState:
    """Everything a fitted forecaster needs to predict and continue training.

    Refused (``ValueError``) when a parameter of the fitted model changed since
    fit: the file would not describe the model that predicts.
    """
    state = fitted_config.saved_state(model, SCALARS, ARRAYS)
    state.attributes["_layout"] = dataclasses.asdict(model._layout)
    for f in dataclasses.fields(model._scaler):
        state.arrays[f"_scaler.{f.name}"] = np.asarray(getattr(model._scaler, f.name))
    # a frequency that cannot be stored says so itself (not "column names")
    freq_to_json(model.schema_.freq)
    for f in dataclasses.fields(model._season):
        state.arrays[f"_season.{f.name}"] = np.asarray(getattr(model._season, f.name))
    if model._layout.n_refs:
        for name in ReferenceState.FIELDS:
            state.arrays[f"_refs.{name}"] = np.asarray(getattr(model._refs, name))
    try:
        # names may be tuples (a Series named ("load", "kW"), MultiIndex
        # columns) of str, numbers and time stamps: tagged, they come back equal
        state.attributes["schema_"] = model.schema_.to_dict()
        persist.json_value(state.attributes["schema_"], "schema_")
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"the series format of this model (names, ids or index) cannot be stored "
            f"without pickle ({exc}); use str, int, float or Timestamp column names, "
            "ids and series names (or tuples of them)"
        ) from exc
    state.attributes["_optimizer"] = persist.optimizer_state(
        getattr(model, "_optimizer", None), state, model.solver
    )
    log = getattr(model, "_log", None)
    state.attributes["_log"] = persist.training_log_state(log)
    return state


def load_state_dict(est, state: persist.ModelState) -> None:
    """Check ``state`` against ``est``'s parameters, then restore it.

    Every size the metadata implies is compared with the arrays the file holds
    before anything is allocated (the network is built only once its
    parameter count matches ``params_``), then every value a prediction reads
    is checked for what a fitted model can hold; only then is ``est`` changed.
    """
    layout, schema = _layout_and_schema(state)
    strategy = _file_strategy(est, state)
    _check_layout(est, layout, schema, strategy)
    dt = np.dtype(est.dtype).type
    stack, head, emb = _network_parts(est, layout, dt, state, strategy)
    S, k, c = schema.n_series, layout.n_targets, schema.n_covariates
    H, keep = _file_hidden_size(est, state), layout.history
    expected = {
        "_state": (
            (stack.n_states, stack.num_layers * stack.num_directions, S, H),
            dt,
        ),
        "_top": ((S, H), dt),
        "_tail_y": ((S, keep, k), dt),
        "_tail_z": ((S, keep, layout.n_z), dt),
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
    if "conformal_weights_" in state.arrays:  # one per residual (see update)
        state.array("conformal_weights_", scores.shape, np.float64)
        state.check_finite(["conformal_weights_"])
        state.check_positive(["conformal_weights_"], zero_ok=True)
    window = state.attributes.get("conformal_window_")
    if window is not None and not (
        isinstance(window, numbers.Real)
        and not isinstance(window, bool)
        and np.isfinite(window)
        and window > 0
    ):
        raise persist.StateError(
            f"metadata attribute 'conformal_window_' must be a positive number, "
            f"got {window!r}"
        )
    if "dh_norm_" in state.arrays and state.arrays["dh_norm_"].ndim != 2:
        raise persist.StateError("array 'dh_norm_' must be 2-D")
    # NaN marks missing history and residuals whose truth was missing
    state.check_finite(
        ["params_", *expected, "conformal_scores_"],
        nan_ok=("_tail_y", "conformal_scores_"),
    )
    # scales divide and multiply every value: zero, negative or non-finite ones
    # would forecast garbage; residuals are absolute values
    state.check_positive(["_scaler.y_scale", "_scaler.x_scale", "conformal_scale_"])
    state.check_positive(["conformal_scores_", "dh_norm_"], zero_ok=True)
    if "conformal_errors_" in state.arrays:  # signed, |errors| == scores
        errors = state.arrays["conformal_errors_"]
        state.array("conformal_errors_", scores.shape, np.float64)
        state.check_finite(["conformal_errors_"], nan_ok=("conformal_errors_",))
        if not np.array_equal(np.abs(errors), scores, equal_nan=True):
            raise persist.StateError(
                "array 'conformal_errors_' does not match 'conformal_scores_' "
                "(their absolute values)"
            )
    if "_level" in state.arrays:  # last observed scaled level (NaN: none yet)
        state.array("_level", (S, k), np.float64)
        state.check_finite(["_level"], nan_ok=("_level",))
    _check_scalars(state)
    season = _check_season(state, S, k)
    refs = _check_references(state, layout, S, k)
    optimizer = persist.restore_optimizer(
        state, est.solver, state.arrays["params_"].size, dt
    )
    log = persist.restore_training_log(state.attributes.get("_log"))

    net = assemble(stack, head, emb)  # sizes checked: allocates what the file holds
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
    est.combination_weights_ = None  # files of versions before the combination
    persist.restore_attributes(est, SCALARS, ARRAYS, state)
    est._optimizer = optimizer
    est._log = log
    # files written before the auto settings were stored: what the layout says
    # and the explicit parameters
    if not hasattr(est, "seasons_") or est.seasons_ is None:
        est.seasons_ = layout.seasons
    est.seasons_ = tuple(est.seasons_)
    if "season_length_" not in state.attributes:
        # files written before it was stored: "auto" was the frequency's seasons
        try:
            est.season_length_ = resolve_seasons(est.season_length, schema.freq)
        except (TypeError, ValueError) as exc:
            raise persist.StateError(f"invalid season_length ({exc})") from exc
    est.season_length_ = tuple(int(m) for m in est.season_length_)
    if isinstance(getattr(est, "reference_", None), list):  # a mix, JSON's list
        est.reference_ = tuple(int(m) for m in est.reference_)
    if not hasattr(est, "differencing_"):
        est.differencing_ = bool(layout.relative)
    for name in ("bptt_length", "loss", "hidden_size"):  # explicit values then:
        # "auto" came later
        if not hasattr(est, name + "_"):
            setattr(est, name + "_", getattr(est, name))
    if "_level" not in state.arrays:  # files written before it was stored
        tail = est._tail_y.astype(np.float64)
        est._level = np.stack([last_observed(t) for t in tail])
    # the compiled inference weights are derived data: rebuilt, never stored
    est._pack_cache = est._pack()
    est._fit_config = fitted_config.record(est, est._fit_config_params)


def _layout_and_schema(state: persist.ModelState):
    """The feature layout and series schema of the metadata, their values checked."""
    try:
        layout = dict(state.require("_layout"))
        layout["seasons"] = tuple(layout["seasons"])
        if isinstance(layout.get("holidays"), list):  # JSON has no tuples
            layout["holidays"] = tuple(layout["holidays"])
        for name in _TUPLE_FIELDS:
            if name in layout:
                layout[name] = tuple(layout[name])
        layout = FeatureLayout(**layout)
        schema = SeriesSchema.from_dict(state.require("schema_"))
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        if isinstance(exc, persist.StateError):
            raise
        raise persist.StateError(
            f"invalid layout or series schema metadata ({exc})"
        ) from exc
    for name in ("n_targets", "n_covariates", "n_calendar", "horizon_out"):
        _check_count(f"_layout.{name}", getattr(layout, name), low=0)
    _check_count("_layout.n_targets", layout.n_targets)
    _check_count("_layout.horizon_out", layout.horizon_out)
    for m in layout.seasons:
        _check_count("_layout.seasons", m)
    if not isinstance(layout.relative, bool):
        raise persist.StateError(
            f"_layout.relative must be true or false, got {layout.relative!r}"
        )
    _check_schema(schema)
    return layout, schema


# layout fields saved as JSON lists (absent from files written before them)
_TUPLE_FIELDS = (
    "past_columns", "code_columns", "cardinalities", "embedding_dims",
    "head_codes",
)


def _check_count(name, value, low=1) -> None:
    """``value`` is an int ``>= low`` (a size, a count, a period)."""
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or (value < low)
    ):
        raise persist.StateError(
            f"metadata field {name} must be an int >= {low}, got {value!r}"
        )


_KINDS = {"array1d", "array2d", "series", "frame", "long"}
_INDEX_TYPES = {None, "datetime", "period", "int"}


def _check_schema(schema: SeriesSchema) -> None:
    """Values a fitted series schema can hold (positive frequency and counts)."""
    if schema.kind not in _KINDS:
        raise persist.StateError(
            f"schema_.kind {schema.kind!r} is not one of {sorted(_KINDS)}"
        )
    if schema.index_type not in _INDEX_TYPES:
        raise persist.StateError(
            f"schema_.index_type {schema.index_type!r} is not a known index type"
        )
    if schema.n_targets < 1:
        raise persist.StateError("schema_.target_names is empty")
    n_seen = schema.n_seen
    if n_seen.ndim != 1 or len(n_seen) < 1 or (n_seen < 1).any():
        raise persist.StateError(
            f"schema_.n_seen must hold a positive count of rows per series, got "
            f"{n_seen.tolist()!r}"
        )
    S = len(n_seen)
    for name in ("last", "ids"):
        labels = getattr(schema, name)
        if labels is not None and len(labels) != S:
            raise persist.StateError(
                f"schema_.{name} has {len(labels)} entries for {S} series"
            )
    freq = schema.freq
    step = getattr(freq, "n", freq)  # a pandas offset's multiple, or an int step
    if freq is not None and (
        not isinstance(step, numbers.Integral) or isinstance(step, bool) or step <= 0
    ):
        raise persist.StateError(
            f"schema_.freq {_freq_text(freq)!r} is not a positive step between rows"
        )
    if not isinstance(schema.allow_nan, bool):
        raise persist.StateError("schema_.allow_nan must be true or false")


def _freq_text(freq):
    return getattr(freq, "freqstr", freq)


def _file_hidden_size(est, state: persist.ModelState) -> int:
    """Units per layer of the file's network, checked: the ``hidden_size``
    parameter where it is a number (then ``hidden_size_``, if stored, must
    agree), else the ``hidden_size_`` fit resolved ``"auto"`` to."""
    fitted = state.attributes.get("hidden_size_")
    H = fitted if est.hidden_size == "auto" else est.hidden_size
    if isinstance(H, bool) or not isinstance(H, numbers.Integral) or H < 1:
        raise persist.StateError(
            f"metadata field hidden_size_ must be a positive integer where "
            f"hidden_size is 'auto', got {H!r}"
        )
    if fitted is not None and fitted != H:
        raise persist.StateError(
            f"metadata field hidden_size_ is {fitted!r} but the parameter "
            f"hidden_size is {H!r}"
        )
    return int(H)


def _file_strategy(est, state: persist.ModelState):
    """The strategy the file's model runs (``strategy_``; older files: the
    ``strategy`` parameter, never ``"auto"`` then), checked."""
    # an explicit strategy is the fitted one (and the layout is checked
    # against it); "auto" reads what fit resolved, "direct" where nothing was
    # stored (a fit over shards: strategies.strategy_name)
    name = est.strategy
    if name == "auto":
        name = state.attributes.get("strategy_", "direct")
    if name not in STRATEGIES:
        raise persist.StateError(
            f"metadata field strategy_ must be one of {sorted(STRATEGIES)}, "
            f"got {name!r}"
        )
    return STRATEGIES[name]


def _check_layout(est, layout: FeatureLayout, schema: SeriesSchema, strategy) -> None:
    """The layout is the one ``fit`` builds for the file's parameters and schema."""
    if schema.n_targets != layout.n_targets:
        raise persist.StateError(
            "the series schema and the network layout disagree on the "
            "number of targets or covariates"
        )
    try:  # covariate roles and embedding tables: what fit derives from both
        roles = embedding_layout(est, schema, strategy)
    except (TypeError, ValueError) as exc:
        raise persist.StateError(
            f"the parameters and the series schema do not fit together ({exc})"
        ) from exc
    for name, value in roles.items():
        if getattr(layout, name) != value:
            raise persist.StateError(
                "the series schema and the network layout disagree on the "
                f"number of targets or covariates (_layout.{name}="
                f"{getattr(layout, name)!r}, expected {value!r})"
            )
    want = {"horizon_out": strategy.horizon_out(est.horizon)}
    try:  # the output head the loss implies (files before heads: a point)
        loss = "absolute_error" if est.loss == "auto" else est.loss
        want.update(head_fields(OutputHead.of(loss, est.quantiles)))
    except ValueError as exc:
        raise persist.StateError(f"invalid loss or quantiles ({exc})") from exc
    if isinstance(est.differencing, bool):  # "auto": the file's choice is the fit's
        want["relative"] = bool(est.differencing)
    if isinstance(est.season_length, str):
        # "auto" was resolved at fit by that version's rule, which may since
        # have learned new frequencies: the file's seasons are the fitted
        # truth, as long as the strategy reads seasons at all
        want["seasons"] = strategy.seasons(layout.seasons)
    else:
        try:
            seasons = strategy.seasons(resolve_seasons(est.season_length, schema.freq))
        except (TypeError, ValueError) as exc:
            raise persist.StateError(f"invalid season_length ({exc})") from exc
        # the reference rule puts the chosen reference first (the last value,
        # lag 1, added when it wins): any of those orders is a fitted layout
        first = layout.seasons[0] if layout.seasons else None
        if seasons and first in (*seasons, 1) and getattr(est, "reference", "seasonal") != "seasonal":
            seasons = auto.order_seasons(tuple(seasons), first)
        want["seasons"] = seasons
    for name, value in want.items():
        if getattr(layout, name) != value:
            raise persist.StateError(
                f"_layout.{name}={getattr(layout, name)!r} does not match the "
                f"parameters (strategy={est.strategy!r}, horizon={est.horizon}, "
                f"season_length={est.season_length!r}, "
                f"differencing={est.differencing!r}, loss={est.loss!r}), which "
                f"imply {value!r}"
            )
    if not est.calendar_features and layout.n_calendar:
        raise persist.StateError(
            f"_layout.n_calendar={layout.n_calendar} but calendar_features=False"
        )


def _network_parts(est, layout, dt, state: persist.ModelState, strategy):
    """The stack, head and embeddings of the parameters, checked against ``params_``.

    The parameter count comes from the layouts (no array is allocated); a
    lower bound (every layer holds at least ``hidden_size`` weights) is
    checked first, so a huge ``hidden_size`` or ``num_layers`` in the metadata
    never even builds a layout.
    """
    if "params_" not in state.arrays:
        raise persist.StateError("array 'params_' is missing")
    held = state.arrays["params_"].size
    H, L = _file_hidden_size(est, state), int(est.num_layers)
    if H * L > held:
        raise persist.StateError(
            f"hidden_size={H} and num_layers={L} (the file's parameters) need "
            f"more than {H * L:,} weights, but array 'params_' holds {held:,}"
        )
    stack, head, emb = network_parts(
        est.cell,
        H,
        L,
        est.nonlinearity,
        layout,
        dt,
        decoder=strategy.decoder,
    )
    n_emb = 0 if emb is None else emb.size
    state.array("params_", (stack.layout.size + head.layout.size + n_emb,), dt)
    return stack, head, emb


def _check_scalars(state: persist.ModelState) -> None:
    """The training record: counts are non-negative ints, curves lists of numbers."""
    for name in ("n_iter_", "loss_curve_", "best_loss_", "validation_scores_"):
        state.require(name)
    _check_count("n_iter_", state.attributes["n_iter_"], low=0)
    if "t_" in state.attributes:
        _check_count("t_", state.attributes["t_"], low=0)
    for name in ("loss_curve_", "validation_scores_", "grad_norm_curve_"):
        curve = state.attributes.get(name, [])
        if not isinstance(curve, list) or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in curve
        ):
            raise persist.StateError(f"metadata field {name} must be a list of numbers")


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
    _upgrade_theta(state)
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


#: Parameters and state fields of the references in model files written
#: before Theta had its own coefficients (``alpha_theta``, ``theta_weight``;
#: ``theta_level``): then the standard method, SES's level and ``alpha``
#: with the slope weight 1/2.
_PARAMS_BEFORE_OWN_THETA, _STATE_BEFORE_OWN_THETA = 4, 13


def _upgrade_theta(state: persist.ModelState) -> None:
    """Give a model file's references Theta's own coefficients, in place.

    Files written before :func:`~tsrnn.smoothing.fit_theta` hold 4
    parameters and 13 state fields per series; the standard Theta method they
    ran is the optimised one with SES's ``alpha`` and level and the weight
    1/2, so appending those gives the same forecast lines, bit for bit.
    """
    arrays = state.arrays
    params = arrays.get("_refs.params")
    if (
        params is None
        or params.ndim != 3
        or params.shape[-1] != _PARAMS_BEFORE_OWN_THETA
    ):
        return
    alpha_ses = params[..., :1]
    half = np.full_like(alpha_ses, 0.5)
    arrays["_refs.params"] = np.concatenate([params, alpha_ses, half], axis=-1)
    for name in ("_refs.init", "_refs.state"):
        st = arrays.get(name)
        if st is not None and st.ndim == 3 and st.shape[-1] == _STATE_BEFORE_OWN_THETA:
            arrays[name] = np.concatenate([st, st[..., :1]], axis=-1)
