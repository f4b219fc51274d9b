"""Reading what users pass to a forecaster: validation and normalization.

Every forecaster input goes through here (through :func:`tsrnn.data.to_series_set`
and the :class:`~tsrnn.data.schema.SeriesSchema` methods ``check_update`` and
``check_future``): one series as an array, a Series or a wide DataFrame
(:func:`read_wide`), many series as a long frame (:func:`read_long`, over the
one long-frame parser :func:`tsrnn.data.long.parse_long`), and future
covariates (:func:`read_future`). Values are always copied into fresh float64
arrays; nothing here modifies a user's array or DataFrame. The conventions are
in the docstring of :mod:`tsrnn.data`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..engine.budget import check_forecast_budget
from .categorical import encode, learn_categories
from .checks import (
    array_values,
    check_finite,
    check_observed,
    check_time_order,
    check_unique_columns,
    describe,
    masked_as_nan,
    pandas_values,
    refuse_masked,
)
from .containers import Future, SeriesSet
from .long import parse_long
from .timeaxis import (
    check_regular,
    conform_time,
    index_type,
    labels_equal,
    resolve_freq,
    shift,
    time_key,
)


def is_long(y: Any, id_col: str) -> bool:
    """Whether ``y`` is a long-format frame (a DataFrame holding ``id_col``)."""
    return isinstance(y, pd.DataFrame) and id_col in y.columns


def wide_covariates(
    X: Any, what: str, schema: Any, categories: Any = None, columns: Any = None
) -> tuple[np.ndarray, list]:
    """Covariates as (n, c) float64 + names; checks count/names against ``schema``.

    ``categories`` (``{column: categories}``, :mod:`.categorical`) turns those
    columns into codes; ``columns`` are the names expected (default: the
    schema's covariates; ``predict`` expects the known-in-advance ones and
    drops past-only columns given anyway).
    """
    if isinstance(X, pd.Series):
        X = X.to_frame("x0" if X.name is None else X.name)
    expected = None
    if schema is not None:
        expected = list(schema.covariate_names if columns is None else columns)
        if (
            isinstance(X, pd.DataFrame)
            and schema.x_kind == "pandas"
            and set(expected) < set(X.columns)
            and set(X.columns) <= set(schema.covariate_names)
        ):
            X = X[expected]  # past-only columns given to predict: not read
    refuse_masked(
        X, what, "covariates must be complete: fill the masked values (e.g. "
        f"{what}.filled({what}.mean(axis=0))) or impute them (masked targets, by "
        "contrast, are read as missing steps)"
    )
    if isinstance(X, pd.DataFrame):
        check_unique_columns(X, what)
        if (
            expected is not None
            and schema.x_kind == "pandas"
            and set(X.columns) == set(expected)
        ):
            X = X[expected]  # same names, any order
        names = list(X.columns)
        vals = encode(X, categories, what)
    else:
        vals = array_values(X, what)
        if vals.ndim == 1:
            vals = vals[:, None]
        if vals.ndim != 2:
            raise ValueError(f"{what} must be 1-D or 2-D, got shape {vals.shape}")
        names = [f"x{j}" for j in range(vals.shape[1])]
        if expected is not None and columns is not None and vals.shape[1] == (
            schema.n_covariates
        ) and len(expected) < schema.n_covariates:
            # every covariate given to predict: the past-only ones are not read
            keep = [list(schema.covariate_names).index(c) for c in expected]
            vals, names = vals[:, keep], expected
    if vals.shape[1] == 0:
        raise ValueError(f"{what} has no columns; pass None for no covariates")
    if expected is not None:
        if vals.shape[1] != len(expected):
            past = "" if columns is None else (
                f" (its past-only covariates {list(schema.past_names)} are not "
                "needed in the future)"
            )
            raise ValueError(
                f"{what} has {vals.shape[1]} covariate(s) but the model was fitted "
                f"with {len(expected)}{past}; pass the same covariates as at fit "
                "(in the same column order for arrays)"
            )
        if (
            schema.x_kind == "pandas"
            and isinstance(X, pd.DataFrame)
            and list(names) != expected
        ):
            raise ValueError(
                f"{what} has columns {names} but the model was fitted with "
                f"{expected}; pass the same covariate columns"
            )
    return vals, names


def _wide_targets(
    y: Any, what: str
) -> tuple[np.ndarray, str, list, pd.Index | None, Any]:
    """(values (n, k), kind, names, index or None, series name)."""
    if isinstance(y, pd.Series):
        return pandas_values(y, what), "series", [y.name], y.index, y.name
    if isinstance(y, pd.DataFrame):
        check_unique_columns(y, what)
        return pandas_values(y, what), "frame", list(y.columns), y.index, None
    if y is None:
        raise TypeError(f"{what} is None; pass the observed series")
    if (
        isinstance(y, (str, bytes, dict))
        or not hasattr(y, "__len__")
        and not hasattr(y, "__array__")
    ):
        raise TypeError(
            f"{what} must be an array, a pandas Series/DataFrame or a long-format "
            f"DataFrame, got {type(y).__name__}"
        )
    # a masked array's masked values are missing steps (NaN), as in pandas
    vals = array_values(masked_as_nan(y), what)
    if vals.ndim == 1:
        return vals[:, None], "array1d", ["y"], None, None
    if vals.ndim == 2:
        return vals, "array2d", [f"y{j}" for j in range(vals.shape[1])], None, None
    raise ValueError(
        f"{what} must be 1-D (one target) or 2-D (n_steps, n_targets), got shape "
        f"{vals.shape}; for many series use a long-format DataFrame"
    )


def _schema_fields(
    x_kind: str | None,
    targets: Any,
    cov_names: Any,
    itype: str | None,
    freq: Any,
    **fields: Any,
) -> dict:
    """The :class:`SeriesSchema` fields both readers define, names as tuples."""
    return dict(
        x_kind=x_kind,
        target_names=tuple(targets),
        covariate_names=None if cov_names is None else tuple(cov_names),
        index_type=itype,
        freq=freq,
        **fields,
    )


def read_wide(
    y: Any,
    X: Any,
    freq: Any,
    allow_nan: bool,
    what: str,
    schema: Any = None,
    id_col: str = "unique_id",
    categories: Any = None,
) -> tuple[SeriesSet, dict | None]:
    """One series (an array, a Series or a wide DataFrame) and its covariates.

    Returns the rows and, at fit (``schema`` None), the fields of the schema
    they define (the column names and ``allow_nan`` are the caller's to add);
    with a ``schema``, the rows must continue its series. ``categories``
    (a fit continuing an earlier one) encodes categorical columns with those
    instead of learning them.
    """
    if is_long(y, id_col if schema is None else schema.id_col):
        raise TypeError(
            f"{what} is long format but the model was fitted on one (wide) series; "
            "pass the same format as at fit"
        )
    vals, kind, names, index, sname = _wide_targets(y, what)
    n, k = vals.shape
    if n == 0 or k == 0:
        raise ValueError(
            f"{what} is empty (shape {vals.shape}); pass at least one observation"
        )
    if schema is not None:
        if k != schema.n_targets:
            raise ValueError(
                f"{what} has {k} target(s) but the model was fitted on "
                f"{schema.n_targets}; pass the same targets as at fit"
            )
        if (
            kind == "frame"
            and schema.kind == "frame"
            and list(names) != list(schema.target_names)
        ):
            if set(names) == set(schema.target_names):
                vals = pandas_values(y[list(schema.target_names)], what)
            else:
                raise ValueError(
                    f"{what} has columns {list(names)} but the model was fitted on "
                    f"{list(schema.target_names)}; pass the same target columns"
                )
    check_finite(vals, what, allow_nan, names if kind == "frame" else None)
    if schema is None:
        check_observed(vals, np.array([0, n]), names)

    # time axis
    time = None
    itype = None
    if schema is None and index is not None:
        itype = index_type(index, f"{what}'s index")
        time = index
        check_time_order(time, None, f"{what}'s index")
        freq = resolve_freq(
            time, itype, np.zeros(1, np.int64), freq, f"{what}'s index"
        )
        check_regular(
            time, itype, None, np.zeros(1, np.int64), freq, f"{what}'s index"
        )
    elif schema is not None and schema.index_type is not None:
        itype, freq = schema.index_type, schema.freq
        if index is None:
            # arrays continuing a pandas fit: their rows are the next steps
            time = schema.future_index(n)
        else:
            time = conform_time(index, schema, f"{what}'s index")
            check_time_order(time, None, f"{what}'s index")
            expected = shift(schema.last[:1], freq, 1)[0]
            if time[0] != expected:
                raise ValueError(
                    f"{what} must continue the series: its first timestamp is "
                    f"{describe(time[0])} but the next step after the last one seen "
                    f"({describe(schema.last[0])}) is {describe(expected)}; pass "
                    "only "
                    "new observations, with missing steps as NaN rows"
                )
            check_regular(
                time, itype, None, np.zeros(1, np.int64), freq, f"{what}'s index"
            )

    # covariates
    Xv = None
    cov_names = None
    x_kind = None
    if schema is not None and schema.n_covariates and X is None:
        raise ValueError(
            f"the model was fitted with covariates {list(schema.covariate_names)}; "
            "pass "
            f"their values for the new rows as X_new"
        )
    if schema is not None and not schema.n_covariates and X is not None:
        raise ValueError(
            "the model was fitted without covariates; refit with X to use covariates"
        )
    if schema is not None:
        categories = schema.categories
    if X is not None:
        xwhat = "X" if schema is None else "X_new"
        if (
            schema is None
            and categories is None
            and isinstance(X, (pd.DataFrame, pd.Series))
        ):
            frame = X.to_frame("x0" if X.name is None else X.name) if isinstance(
                X, pd.Series
            ) else X
            categories = learn_categories(frame, xwhat) or None
        Xv, cov_names = wide_covariates(X, xwhat, schema, categories)
        x_kind = "pandas" if isinstance(X, (pd.Series, pd.DataFrame)) else "numpy"
        if len(Xv) != n:
            raise ValueError(
                f"{xwhat} has {len(Xv)} row(s) but {what} has {n}; pass one covariate "
                "row "
                f"per time step of {what}"
            )
        if (
            index is not None
            and isinstance(X, (pd.Series, pd.DataFrame))
            and not X.index.equals(index)
        ):
            raise ValueError(
                f"{xwhat}'s index differs from {what}'s; covariates are aligned by "
                "index, "
                f"so align them first (e.g. {xwhat} = {xwhat}.loc[{what}.index]) or "
                "pass "
                "arrays"
            )
        check_finite(Xv, xwhat, False, cov_names)

    fields = None
    if schema is None:
        last = None if time is None else time[-1:]
        fields = _schema_fields(
            x_kind, names, cov_names, itype, freq,
            kind=kind,
            ids=None,
            last=last,
            n_seen=np.array([n], np.int64),
            index_name=None if index is None else index.name,
            series_name=sname,
            categories=categories,
        )
    rows = SeriesSet(
        y=vals,
        X=Xv,
        indptr=np.array([0, n], np.int64),
        positions=np.zeros(1, np.int64),
        time=time,
        schema=schema,
    )
    return rows, fields


def read_long(
    y: pd.DataFrame,
    X: Any,
    id_col: str,
    time_col: str,
    target_col: Any,
    freq: Any,
    allow_nan: bool,
    what: str,
    schema: Any = None,
    categories: Any = None,
) -> tuple[SeriesSet, dict | None]:
    """Many series in a long frame, and their covariates (columns or a long X).

    Returns the rows (series in order of first appearance at fit, in schema
    order after) and, at fit, the fields of the schema they define (the column
    names and ``allow_nan`` are the caller's to add).
    """
    targets = [target_col] if isinstance(target_col, str) else list(target_col)
    need = [time_col, *targets]
    missing = [c for c in need if c not in y.columns]
    if missing:
        raise ValueError(
            f"long-format {what} lacks column(s) {missing}; it needs {id_col!r}, "
            f"{time_col!r} and the target column(s) {targets} (set time_col= / "
            "target_col= to match your names)"
        )
    if len(targets) == 0:
        raise ValueError("target_col is empty; name at least one target column")
    if y.columns.duplicated().any():
        raise ValueError(f"{what} has duplicate column names; rename them")
    if len(y) == 0:
        raise ValueError(f"{what} is empty; pass at least one observation")
    extra = [c for c in y.columns if c not in (id_col, time_col, *targets)]

    # ids and time: the one long-frame parser
    label = f"{what}'s {time_col!r} column"
    time = pd.Index(y[time_col])
    if schema is None:
        itype = index_type(time, label)
    else:
        time = conform_time(time, schema, label)
        itype = schema.index_type
    parsed = parse_long(y, id_col, time_col, what=what, sort_ids=False, time=time)
    uniques = parsed.ids
    if schema is not None:
        pos_of = schema.ids.get_indexer(uniques)
        if (pos_of < 0).any():
            bad = list(uniques[pos_of < 0][:5])
            raise ValueError(
                f"{what} has series id(s) {bad} unknown at fit; update only continues "
                "series seen by fit (refit to add new series)"
            )
    order, codes_s, time_s, indptr = (
        parsed.order,
        parsed.codes,
        parsed.time,
        parsed.indptr,
    )
    counts = parsed.lengths
    check_time_order(time_s, codes_s, label, ids=uniques)

    if schema is None:
        freq = resolve_freq(time_s, itype, indptr[:-1], freq, label)
    else:
        freq = schema.freq
    check_regular(time_s, itype, codes_s, indptr[:-1], freq, label, ids=uniques)

    # values
    vals = pandas_values(y[targets], what)
    check_finite(vals, what, allow_nan, targets)  # before sorting: rows as given
    vals = vals[order]
    if schema is None:
        check_observed(vals, indptr, targets, uniques, id_col)

    # covariates: extra columns, or a long X keyed like y
    if schema is not None:
        categories = schema.categories
    Xv = None
    cov_names: list | None = None
    x_kind = None
    if X is not None:
        if extra:
            raise ValueError(
                f"{what} has extra columns {extra} and X is also given; put covariates "
                "in one place (drop those columns, or pass X=None to use them)"
            )
        if not isinstance(X, pd.DataFrame) or not {id_col, time_col} <= set(X.columns):
            raise TypeError(
                f"with long-format {what}, X must be a long-format DataFrame with "
                "columns "
                f"{id_col!r}, {time_col!r} and the covariates"
            )
        cov_names = [c for c in X.columns if c not in (id_col, time_col)]
        if len(X) != len(y):
            raise ValueError(
                f"X has {len(X)} row(s) but {what} has {len(y)}; X needs exactly one "
                "row "
                f"per ({id_col}, {time_col}) row of {what}"
            )
        xcodes = uniques.get_indexer(X[id_col])
        xtime = pd.Index(X[time_col])
        if schema is not None:
            xtime = conform_time(xtime, schema, f"X's {time_col!r} column")
        else:
            index_type(xtime, f"X's {time_col!r} column")
        xkey = time_key(xtime)
        xorder = np.lexsort((xkey, xcodes))
        if (xcodes < 0).any() or not (
            np.array_equal(xcodes[xorder], codes_s)
            and np.array_equal(xkey[xorder], time_key(time_s))
        ):
            raise ValueError(
                f"X's ({id_col}, {time_col}) rows differ from those of {what}; X needs "
                f"exactly one row per row of {what}, with the same keys"
            )
        x_kind = "long"
        xframe = X[cov_names]
        xorder_used = xorder
    elif extra:
        cov_names = extra
        x_kind = "columns"
        xframe = y[extra]
        xorder_used = order
    if cov_names is not None:
        if schema is not None:
            if schema.n_covariates == 0:
                raise ValueError(
                    f"{what} has covariate columns {cov_names} but the model was "
                    "fitted "
                    "without covariates; drop them or refit with covariates"
                )
            if set(cov_names) != set(schema.covariate_names):
                raise ValueError(
                    f"{what}'s covariates {cov_names} differ from those seen at fit "
                    f"{list(schema.covariate_names)}"
                )
            cov_names = list(schema.covariate_names)
            xframe = xframe[cov_names]
        if not cov_names:
            raise ValueError(
                "X has no covariate columns; pass X=None for no covariates"
            )
        xwhat = "X" if x_kind == "long" else f"{what} covariate"
        if schema is None and categories is None:
            categories = learn_categories(xframe, xwhat) or None
        Xv = encode(xframe, categories, xwhat)
        check_finite(
            Xv, "X" if x_kind == "long" else f"{what} covariates", False, cov_names
        )
        Xv = Xv[xorder_used]
    elif schema is not None and schema.n_covariates:
        raise ValueError(
            f"the model was fitted with covariates {list(schema.covariate_names)}; "
            "pass "
            "their values for the new rows (as extra columns or as X_new)"
        )

    fields = None
    if schema is None:
        ends = indptr[1:] - 1
        fields = _schema_fields(
            x_kind, targets, cov_names, itype, freq,
            kind="long",
            ids=uniques,
            last=time_s[ends],
            n_seen=counts.astype(np.int64),
            categories=categories,
        )
        positions = np.arange(len(uniques), dtype=np.int64)
    else:
        positions = schema.ids.get_indexer(uniques).astype(np.int64)
        # every series must continue exactly one step after its last label
        firsts = time_s[indptr[:-1]]
        expected = shift(schema.last[positions], freq, 1)
        # Declared mirror (form only): read_future's check of X's timestamps;
        # different labels and messages.
        ok = labels_equal(expected, firsts)
        if not ok.all():
            i = int(np.argmin(ok))
            raise ValueError(
                f"{what} must continue each series: series {uniques[i]!r} starts at "
                f"{describe(firsts[i])} but its next step after the last one seen "
                f"({describe(schema.last[positions[i]])}) is "
                f"{describe(expected[i])}; "
                "pass only new observations, with missing steps as NaN rows"
            )
        # keep blocks in schema order, like fit data
        if (np.diff(positions) < 0).any():
            perm = np.argsort(positions, kind="stable")
            lengths = counts[perm]
            rows = np.concatenate([np.arange(indptr[p], indptr[p + 1]) for p in perm])
            new_indptr = np.zeros(len(perm) + 1, np.int64)
            np.cumsum(lengths, out=new_indptr[1:])
            vals, time_s, indptr = vals[rows], time_s[rows], new_indptr
            Xv = None if Xv is None else Xv[rows]
            positions = positions[perm]
    rows = SeriesSet(
        y=vals,
        X=Xv,
        indptr=indptr,
        positions=positions,
        time=time_s.rename(None),
        schema=schema,
    )
    return rows, fields


def read_future(schema: Any, horizon: int, X: Any = None) -> Future:
    """Validate future covariates for ``horizon`` steps after each series' end.

    Parameters
    ----------
    schema : SeriesSchema
        What fit saw.
    horizon : int
        From :func:`~tsrnn.data.checks.check_horizon`.
    X : array-like, pandas object or long-format DataFrame, optional
        Wide fit: ``horizon`` rows (a pandas ``X`` must be indexed by the future
        timestamps). Long fit: a frame with ``id_col``, ``time_col`` and the
        covariate columns, ``horizon`` rows per series to forecast with the
        future timestamps; series not in ``X`` are not forecast.

    Returns
    -------
    Future

    Raises
    ------
    ValueError
        Among others, a forecast of more than
        :data:`tsrnn.engine.budget.MAX_FORECAST_STEPS` steps (horizon x series),
        refused before anything is allocated.
    """
    if schema.kind != "long" or X is None or schema.n_covariates == 0:
        # every series is forecast (one for wide data); long data with X are
        # checked once X says which series
        check_forecast_budget(horizon, schema.n_series, schema.n_targets)
    if schema.n_covariates == 0:
        if X is not None:
            raise ValueError(
                "the model was fitted without covariates, so predict takes no X; "
                "refit with X to use covariates"
            )
        return Future(np.arange(schema.n_series, dtype=np.int64), None, horizon)
    known = schema.known_names
    if X is None and not known:
        # past-only covariates: nothing about the future to read
        return Future(
            np.arange(schema.n_series, dtype=np.int64),
            np.zeros((schema.n_series, horizon, schema.n_covariates)),
            horizon,
        )
    if X is None:
        past = (
            f" (not the past-only ones {list(schema.past_names)})"
            if schema.past_names else ""
        )
        raise ValueError(
            f"the model was fitted with covariates {known}{past}; "
            f"predict needs their future values: pass X with {horizon} row(s)"
            + (" per series" if schema.kind == "long" else "")
            + f" (horizon={horizon})"
        )
    if schema.kind != "long":
        if known:
            Xa, names = wide_covariates(
                X, "X", schema, schema.categories, columns=known
            )
        else:  # past-only covariates: X is not read
            Xa, names = np.zeros((horizon, 0)), []
        if len(Xa) != horizon and known:
            raise ValueError(
                f"X has {len(Xa)} row(s) but horizon is {horizon}; pass exactly "
                "one "
                "row of future covariates per forecast step (or set horizon)"
            )
        if isinstance(X, (pd.Series, pd.DataFrame)) and schema.last is not None:
            fut = schema.future_index(horizon)
            if known and not X.index.equals(fut):
                raise ValueError(
                    "X's index must be the forecast timestamps "
                    f"{describe(fut[0])} ... {describe(fut[-1])}; set X.index to "
                    "them or pass X.to_numpy()"
                )
        check_finite(Xa, "X", allow_nan=False, names=names)
        return Future(np.zeros(1, np.int64), _widen(schema, Xa[None]), horizon)
    # long format
    if not isinstance(X, pd.DataFrame) or not {schema.id_col, schema.time_col} <= set(
        X.columns
    ):
        raise TypeError(
            "the model was fitted on long format; pass future covariates as a "
            f"DataFrame with columns {schema.id_col!r}, {schema.time_col!r} and "
            f"{list(schema.covariate_names)}"
        )
    missing = [c for c in known if c not in X.columns]
    if missing:
        raise ValueError(
            f"X lacks covariate column(s) {missing} seen at fit"
            + (f" (the past-only ones {list(schema.past_names)} are not needed)"
               if schema.past_names else "")
        )
    codes = schema.ids.get_indexer(X[schema.id_col])
    if (codes < 0).any():
        bad = pd.unique(X[schema.id_col].to_numpy()[codes < 0])[:5]
        raise ValueError(
            f"X has unknown series id(s) {list(bad)}; only series seen at fit can "
            "be forecast"
        )
    if len(X) == 0:
        raise ValueError("X is empty; pass horizon rows per series to forecast")
    time = conform_time(pd.Index(X[schema.time_col]), schema, "X's time column")
    order = np.lexsort((time_key(time), codes))
    pos, counts = np.unique(codes, return_counts=True)
    check_forecast_budget(horizon, len(pos), schema.n_targets)
    if (counts != horizon).any():
        i = int(np.argmax(counts != horizon))
        raise ValueError(
            f"X has {counts[i]} row(s) for series {schema.ids[pos[i]]!r} but horizon "
            "is "
            f"{horizon}; pass exactly horizon rows per series to forecast"
        )
    expected = schema.future_index(horizon, pos)
    # Declared mirror (form only): read_long's check that each series continues;
    # different labels and messages.
    ok = labels_equal(time[order], expected).reshape(len(pos), horizon).all(axis=1)
    if not ok.all():
        i = int(np.argmin(ok))
        raise ValueError(
            f"X's timestamps for series {schema.ids[pos[i]]!r} must be the next "
            f"{horizon} step(s) {describe(expected[i * horizon])} ... "
            f"{describe(expected[(i + 1) * horizon - 1])}"
        )
    vals = encode(X[known], schema.categories, "X")[order]
    check_finite(vals, "X", False, known)
    vals = vals.reshape(len(pos), horizon, -1)
    return Future(pos.astype(np.int64), _widen(schema, vals), horizon)


def _widen(schema: Any, known: np.ndarray) -> np.ndarray:
    """Future covariates ``(P, h, n_known)`` in every covariate's column.

    The past-only columns hold 0: nothing reads them beyond the origin.
    """
    if not schema.past_names:
        return np.ascontiguousarray(known)
    out = np.zeros(known.shape[:2] + (schema.n_covariates,))
    cols = [list(schema.covariate_names).index(c) for c in schema.known_names]
    out[:, :, cols] = known
    return out

