"""Turn time series into supervised windows for the window models.

:class:`~tsrnn.RNNRegressor` and :class:`~tsrnn.RNNClassifier` take independent
windows: each row of ``X`` is one window, time-major and flattened, so that
``X.shape == (n_samples, window * n_features)`` (the window models' data
contract, :mod:`tsrnn.estimators.window`). This
module builds such rows from a series:

- :func:`make_windows` -- the ``(X_win, y_win)`` pair for training, from one
  series (one or several targets) and optional covariates aligned row by row;
- :class:`WindowTransformer` -- the same input windows inside a scikit-learn
  ``Pipeline`` (it can change ``X`` only, so it serves prediction and feature
  building; the targets come from :func:`make_windows`);
- :func:`windows_from_long` -- windows for many series held in a long-format
  frame (``unique_id`` / ``ds`` / ``y``), ordered by end time across series.

Conventions shared by all three
-------------------------------
- A sample reads ``window`` consecutive rows (its *input window*) and, for
  training, the ``horizon`` rows that follow (its *targets*).
- The features of one step are the target(s) followed by the covariates, in
  column order. Flattened rows are time-major: all features of the oldest step
  first, then the next step, and so on.
- Windows come in time order, so ``TimeSeriesSplit`` and a tail validation split
  split by time. With ``step > 1`` they are anchored at the *end* of the data:
  the most recent window is always produced, and the oldest rows are the ones
  skipped when the length does not divide evenly.
- Windows are built over rows: a gap in the timestamps is not filled in.
- Outputs are new arrays (never views into the caller's data), and inputs are
  never modified.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, DTypeLike
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._constraints import Interval, validate_params
from .data.checks import check_count, check_window_time_index, describe
from .data.long import parse_long
from .data.window_input import (
    as_2d,
    check_float_dtype,
    long_values,
    read_window_values,
)

__all__ = ["WindowTransformer", "make_windows", "windows_from_long"]

# --------------------------------------------------------------------------
# the windowing core (validated float arrays in, fresh arrays out)
# --------------------------------------------------------------------------


def _end_anchored_starts(n_positions: int, step: int) -> np.ndarray:
    """Start rows of the windows, in time order, the last one at ``n_positions - 1``.

    Anchoring at the end keeps the most recent window whatever ``step`` is.
    """
    n_samples = (n_positions - 1) // step + 1
    return (n_positions - 1) - step * np.arange(n_samples - 1, -1, -1, dtype=np.intp)


def _take_windows(feats: np.ndarray, window: int, starts: np.ndarray) -> np.ndarray:
    """Windows ``feats[s:s + window]`` for each ``s`` in ``starts``: (n, window, F).

    ``sliding_window_view`` is a zero-copy view with the window axis last; the
    fancy index on axis 0 then copies, into a fresh C-contiguous array, only the
    windows kept (so memory is ``n * window * F``, never more). Slower
    equivalent: ``np.stack([feats[s:s + window] for s in starts])``.
    """
    view = sliding_window_view(feats, window, axis=0).transpose(0, 2, 1)
    return view[starts]


def _make_windows_arrays(
    target: np.ndarray,
    cov: np.ndarray | None,
    window: int,
    horizon: int,
    step: int,
    future_covariates: bool,
    flatten: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Core of :func:`make_windows` on validated 2-D arrays of one dtype.

    Returns ``X_win``, ``y_win`` and the row position of each sample's last
    target step.
    """
    n, n_targets = target.shape
    starts = _end_anchored_starts(n - window - horizon + 1, step)
    parts = [target] if cov is None else [target, cov]
    if future_covariates:
        # Step t also carries the covariates of step t + horizon: the last
        # `horizon` steps of a window then hold those of every target step.
        parts = [p[: n - horizon] for p in parts] + [cov[horizon:]]
    feats = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    X_win = _take_windows(feats, window, starts)
    y_win = _take_windows(target[window:], horizon, starts)
    n_samples = len(starts)
    if flatten:
        X_win = X_win.reshape(n_samples, -1)
    if n_targets == 1 and horizon == 1:
        y_win = y_win.reshape(n_samples)
    else:
        y_win = y_win.reshape(n_samples, horizon * n_targets)
    ends = starts + (window + horizon - 1)
    return X_win, y_win, ends


def make_windows(
    series: ArrayLike | pd.Series | pd.DataFrame,
    window: int,
    horizon: int = 1,
    X: ArrayLike | pd.Series | pd.DataFrame | None = None,
    step: int = 1,
    *,
    flatten: bool = True,
    future_covariates: bool = False,
    return_index: bool = False,
    dtype: DTypeLike = np.float64,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, Any]:
    """Cut a series into supervised ``(inputs, targets)`` windows.

    Sample ``i`` reads ``window`` consecutive rows of ``series`` (and of ``X``)
    and targets the ``horizon`` rows of ``series`` that follow them.

    Parameters
    ----------
    series : array-like or pandas Series/DataFrame of shape (n_steps,) or \
(n_steps, n_targets)
        The target series, rows = consecutive time steps. A 1-D series or a
        single column is one target. A pandas index must be sorted and unique
        when it is time-like (datetime, period, timedelta or numeric).
    window : int
        Number of past steps in each input window (>= 1).
    horizon : int, default=1
        Number of future steps each sample predicts (>= 1).
    X : array-like or pandas object of shape (n_steps,) or (n_steps, n_cov), \
default=None
        Covariates aligned row by row (by position, not by pandas index) with
        ``series``. A 1-D ``X`` is one covariate.
    step : int, default=1
        Stride between consecutive windows (>= 1). Windows are anchored at the
        end: the last sample always ends at the last row of ``series``.
    flatten : bool, default=True
        Return ``X_win`` as ``(n_samples, window * n_features)`` (time-major:
        step 0's features first) instead of ``(n_samples, window, n_features)``.
    future_covariates : bool, default=False
        Also give each sample the covariates of its target steps (covariates
        known in advance: calendar, planned set points...). Each window step
        ``t`` then carries, after the covariates of ``t``, those of
        ``t + horizon``; the last ``horizon`` steps of a window thus hold the
        covariates of all ``horizon`` target steps, in order, and the per-step
        layout stays rectangular for a recurrent model. Needs ``X`` and
        ``window >= horizon``.
    return_index : bool, default=False
        Also return where each sample ends (its last target step): index
        labels when ``series`` (or else ``X``) is a pandas object, row positions
        otherwise.
    dtype : {np.float64, np.float32}, default=np.float64
        dtype of the returned arrays (float32 halves their memory).

    Returns
    -------
    X_win : ndarray of shape (n_samples, window * n_features) or \
(n_samples, window, n_features)
        Input windows in time order, ``n_features = n_targets + n_cov``
        (``n_targets + 2 * n_cov`` with ``future_covariates=True``). The
        features of a step are the targets, then the covariates of that step,
        then (``future_covariates=True``) the covariates ``horizon`` steps later.
    y_win : ndarray of shape (n_samples,), (n_samples, horizon) or \
(n_samples, horizon * n_targets)
        Targets: ``(n_samples,)`` for one target and ``horizon=1``,
        ``(n_samples, horizon)`` for one target, and
        ``(n_samples, horizon * n_targets)`` for several targets, step-major
        (all targets of the first step, then of the second...):
        ``y_win.reshape(n_samples, horizon, n_targets)`` recovers the steps.
    index : pandas.Index or ndarray of int, shape (n_samples,)
        Only with ``return_index=True``: the label (or position) of each
        sample's last target step. With ``horizon=1`` it is the time of the
        target, so ``pd.Series(model.predict(X_win), index=index)`` lines up
        with the series. The last input step is ``horizon`` rows earlier.

    Raises
    ------
    TypeError
        Non-integer ``window``/``horizon``/``step``; non-numeric, boolean or
        complex data.
    ValueError
        Too short a series, counts < 1, NaN or inf, wrong ranks, ``X`` of
        another length, unsorted or duplicate time index.

    See Also
    --------
    WindowTransformer : the input windows inside a scikit-learn Pipeline.
    windows_from_long : windows for many series in a long-format frame.

    Notes
    -----
    ``n_samples = (n_steps - window - horizon) // step + 1``. The returned
    arrays are new memory; the inputs are never modified.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.windowing import make_windows
    >>> y = np.arange(6.0)
    >>> X_win, y_win = make_windows(y, window=3)
    >>> X_win
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> y_win
    array([3., 4., 5.])

    A covariate (its value follows the target at each step) and two steps
    ahead:

    >>> temp = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    >>> X_win, y_win = make_windows(y, window=2, horizon=2, X=temp)
    >>> X_win
    array([[ 0., 10.,  1., 11.],
           [ 1., 11.,  2., 12.],
           [ 2., 12.,  3., 13.]])
    >>> y_win
    array([[2., 3.],
           [3., 4.],
           [4., 5.]])

    pandas in, labels of the target steps out:

    >>> import pandas as pd
    >>> s = pd.Series(y, index=pd.date_range("2024-01-01", periods=6, freq="D"))
    >>> _, _, index = make_windows(s, window=4, return_index=True)
    >>> index.strftime("%m-%d").tolist()
    ['01-05', '01-06']
    """
    window = check_count(window, "window")
    horizon = check_count(horizon, "horizon")
    step = check_count(step, "step")
    out_dtype = check_float_dtype(dtype)
    target, index = read_window_values(series, "series", out_dtype)
    target = as_2d(target, "series", "(n_steps, n_targets)")
    cov = None
    if X is not None:
        cov, x_index = read_window_values(X, "X", out_dtype)
        cov = as_2d(cov, "X", "(n_steps, n_cov)")
        if len(cov) != len(target):
            raise ValueError(
                f"X has {len(cov)} rows but series has {len(target)}; covariates "
                "must be aligned row by row with the series (one row per time step)"
            )
        if index is None:
            index = x_index
    if future_covariates:
        if cov is None:
            raise ValueError(
                "future_covariates=True needs covariates: pass X, or leave "
                "future_covariates=False"
            )
        if window < horizon:
            raise ValueError(
                f"future_covariates=True needs window >= horizon (got window="
                f"{window}, horizon={horizon}) so that every target step's "
                "covariates fit in the window; increase window"
            )
    n = len(target)
    if n < window + horizon:
        raise ValueError(
            f"series has {n} rows (time steps) but one sample needs window + "
            f"horizon = {window} + {horizon} = {window + horizon}; pass a longer "
            "series or reduce window/horizon"
        )
    X_win, y_win, ends = _make_windows_arrays(
        target, cov, window, horizon, step, bool(future_covariates), bool(flatten)
    )
    if not return_index:
        return X_win, y_win
    return X_win, y_win, (ends if index is None else index[ends])


# --------------------------------------------------------------------------
# scikit-learn transformer
# --------------------------------------------------------------------------


class WindowTransformer(TransformerMixin, BaseEstimator):
    """Turn a series into rows of input windows, inside a scikit-learn Pipeline.

    ``transform`` maps a series of ``n_steps`` rows (time steps) and
    ``n_features`` columns to one row per window of ``window`` consecutive
    steps, time-major and flattened: ``(n_windows, window * n_features)``, the
    input contract of :class:`~tsrnn.RNNRegressor`. Every full window is
    produced, the last ending at the last row, so the final output row is the
    most recent window: the one to forecast from.

    Parameters
    ----------
    window : int
        Number of consecutive steps per window (>= 1).
    step : int, default=1
        Stride between windows (>= 1), anchored at the end: the last row of
        the series always ends a window.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns (features per step) seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen in ``fit``; only when ``X`` has string column names.

    See Also
    --------
    make_windows : the ``(X_win, y_win)`` pair for training.

    Notes
    -----
    A scikit-learn transformer can change ``X`` but not ``y``, and it returns
    fewer rows than it receives (``(n_steps - window) // step + 1``). So it
    does not build training targets, and it cannot sit inside
    ``cross_validate`` over a raw series (``X`` and ``y`` would differ in
    length). The intended uses:

    - training: ``X_win, y_win = make_windows(series, window, horizon)`` gives
      the pair. Its inputs equal this transformer's output on
      ``series[:-horizon]`` (same ``window`` and ``step``), so a Pipeline that
      starts with this transformer is fitted with
      ``pipe.fit(series[:-horizon], y_win)``;
    - prediction: ``pipe.predict(recent_series)`` forecasts from every window
      of ``recent_series``; its last row is the forecast from the latest data.

    Columns are features in the order given: to match :func:`make_windows`
    with covariates, pass ``np.column_stack([series, X])`` (targets first).
    There is no ``horizon`` parameter: the horizon is a property of the
    targets, which a transformer never sees.

    With ``set_output(transform="pandas")`` and a DataFrame input, the output
    is indexed by the label of each window's last row (not by the input index,
    which has more rows). Feature names are ``lag_{k}_{feature}``, ``k`` being
    the number of steps before the window's last row (``lag_0`` = last row).

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.windowing import WindowTransformer
    >>> series = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0], [3.0, 13.0]])
    >>> wt = WindowTransformer(window=2).fit(series)
    >>> wt.transform(series)
    array([[ 0., 10.,  1., 11.],
           [ 1., 11.,  2., 12.],
           [ 2., 12.,  3., 13.]])
    >>> wt.get_feature_names_out().tolist()
    ['lag_1_x0', 'lag_1_x1', 'lag_0_x0', 'lag_0_x1']
    """

    _parameter_constraints: dict = {
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "step": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, window: int, step: int = 1) -> None:
        self.window = window
        self.step = step

    def _check_length(self, n_steps: int) -> None:
        if n_steps < self.window:
            # "n_samples=<n>" is the wording scikit-learn's checks look for.
            raise ValueError(
                f"X has {n_steps} row(s) (n_samples={n_steps}) but window="
                f"{self.window} needs at least {self.window} rows (time steps); "
                "pass a longer series or a smaller window"
            )

    def fit(self, X: ArrayLike, y: Any = None) -> WindowTransformer:
        """Check the parameters and record the number (and names) of features.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            The series, rows = time steps. A 1-D series must be reshaped to a
            column: ``series.reshape(-1, 1)`` or ``series.to_frame()``.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : WindowTransformer
            Fitted transformer.
        """
        validate_params(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=True)
        self._check_length(X.shape[0])
        return self

    def transform(self, X: ArrayLike) -> np.ndarray | pd.DataFrame:
        """Return every window of ``window`` consecutive rows, in time order.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            The series, rows = time steps, same columns as in ``fit``.

        Returns
        -------
        X_win : ndarray of shape (n_windows, window * n_features)
            ``n_windows = (n_steps - window) // step + 1``; row ``i`` holds the
            steps of window ``i``, oldest first, features within a step in
            column order. float32 input stays float32, anything else becomes
            float64.
        """
        check_is_fitted(self)
        X_arr = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        n_steps = X_arr.shape[0]
        self._check_length(n_steps)
        if isinstance(X, pd.DataFrame):
            check_window_time_index(X.index, "X")
        starts = _end_anchored_starts(n_steps - self.window + 1, self.step)
        X_win = _take_windows(X_arr, self.window, starts).reshape(len(starts), -1)
        if isinstance(X, pd.DataFrame) and _dense_output(self) == "pandas":
            # scikit-learn would reuse the input index, which has more rows than
            # the output; label each window by its last row instead.
            ends = starts + (self.window - 1)
            return pd.DataFrame(
                X_win, index=X.index[ends], columns=self.get_feature_names_out()
            )
        return X_win

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns, ``lag_{k}_{feature}``, time-major.

        Parameters
        ----------
        input_features : array-like of str, optional
            Input column names; default ``feature_names_in_`` or ``x0, x1...``.

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (window * n_features,)
            ``k`` counts steps back from the window's last row: the oldest step
            (``lag_{window-1}``) comes first, ``lag_0`` last.
        """
        check_is_fitted(self)
        names = _input_feature_names(self, input_features)
        return np.asarray(
            [
                f"lag_{lag}_{name}"
                for lag in range(self.window - 1, -1, -1)
                for name in names
            ],
            dtype=object,
        )

    def __sklearn_tags__(self):  # noqa: D105 - inherited docstring
        tags = super().__sklearn_tags__()
        # Windows are copies of the input values: float32 stays float32.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _dense_output(estimator: BaseEstimator) -> str:
    """Return the container set by ``set_output`` / ``config_context``.

    ``estimator.set_output(transform=...)`` wins; otherwise the global
    ``sklearn.set_config`` / ``config_context(transform_output=...)``. The
    per-estimator choice is the attribute ``set_output`` stores (and ``clone``
    copies) since scikit-learn 1.2; reading it here keeps tsrnn off the
    private ``sklearn.utils._set_output`` module (tests/test_windowing.py
    checks both paths on the oldest and the newest scikit-learn).
    """
    chosen = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    return chosen if chosen is not None else get_config()["transform_output"]


def _input_feature_names(estimator: BaseEstimator, input_features: Any) -> np.ndarray:
    """Names of the columns ``fit`` saw (``x0, x1...`` for arrays), checked."""
    seen = getattr(estimator, "feature_names_in_", None)
    n_features = estimator.n_features_in_
    if input_features is not None:
        names = np.asarray(input_features, dtype=object)
        # scikit-learn's check_estimator matches the start of both messages
        if seen is not None and not np.array_equal(seen, names):
            raise ValueError(
                "input_features is not equal to feature_names_in_ "
                f"({list(seen)}); pass those names, or None"
            )
        if len(names) != n_features:
            raise ValueError(
                "input_features should have length equal to number of features "
                f"({n_features}), got {len(names)}"
            )
        return names
    if seen is not None:
        return seen
    return np.asarray([f"x{i}" for i in range(n_features)], dtype=object)


# --------------------------------------------------------------------------
# long format
# --------------------------------------------------------------------------


def _as_column_list(cols: str | Sequence[str] | None) -> list[Hashable]:
    if cols is None:
        return []
    if isinstance(cols, str) or not isinstance(cols, Sequence):
        return [cols]
    return list(cols)


def windows_from_long(
    df: pd.DataFrame,
    window: int,
    horizon: int = 1,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    covariate_cols: str | Sequence[str] | None = None,
    step: int = 1,
    *,
    flatten: bool = True,
    future_covariates: bool = False,
    drop_short: bool = False,
    dtype: DTypeLike = np.float64,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Windows for every series of a long-format frame, ordered by end time.

    Each series (rows sharing ``id_col``, sorted by ``time_col``) is windowed
    as by :func:`make_windows`; the samples of all series are then
    concatenated and sorted by the time of their last target step (ties in
    series order). The rows are therefore in time order across series, so the
    tail of the rows (a validation split, the last ``TimeSeriesSplit`` fold)
    is the most recent data of every series.

    Parameters
    ----------
    df : pandas.DataFrame
        Long format: one row per (series, time step). Rows may come in any
        order; they are sorted by ``(id_col, time_col)`` (on a copy).
    window : int
        Number of past steps per input window (>= 1).
    horizon : int, default=1
        Number of future steps per sample (>= 1).
    id_col : str, default="unique_id"
        Column naming the series.
    time_col : str, default="ds"
        Column of time stamps (datetimes or numbers); must be unique within a
        series.
    target_col : str or list of str, default="y"
        Target column(s).
    covariate_cols : str or list of str, optional
        Covariate columns, features after the targets at each step.
    step : int, default=1
        Stride between windows of one series, anchored at its last row.
    flatten : bool, default=True
        As in :func:`make_windows`.
    future_covariates : bool, default=False
        As in :func:`make_windows`.
    drop_short : bool, default=False
        Skip series shorter than ``window + horizon`` instead of raising.
    dtype : {np.float64, np.float32}, default=np.float64
        dtype of the returned arrays.

    Returns
    -------
    X_win : ndarray of shape (n_samples, window * n_features) or \
(n_samples, window, n_features)
        Input windows, as :func:`make_windows`.
    y_win : ndarray
        Targets, as :func:`make_windows`.
    index : pandas.DataFrame of shape (n_samples, 2)
        Columns ``id_col`` and ``time_col``: the series of each sample and
        the time of its last target step, row for row with ``X_win``.

    Raises
    ------
    TypeError
        ``df`` not a DataFrame, non-numeric target/covariate columns.
    ValueError
        Missing columns, missing ids or times, duplicate (id, time) pairs,
        NaN or inf values, a series too short (unless ``drop_short``).

    See Also
    --------
    make_windows : windows for one series.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsrnn.windowing import windows_from_long
    >>> df = pd.DataFrame({
    ...     "unique_id": ["a"] * 4 + ["b"] * 3,
    ...     "ds": [1, 2, 3, 4, 2, 3, 4],
    ...     "y": [0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0],
    ... })
    >>> X_win, y_win, index = windows_from_long(df, window=2)
    >>> X_win
    array([[ 0.,  1.],
           [ 1.,  2.],
           [10., 11.]])
    >>> y_win
    array([ 2.,  3., 12.])
    >>> index
      unique_id  ds
    0         a   3
    1         a   4
    2         b   4
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"df must be a pandas DataFrame in long format, got "
            f"{type(df).__name__}; for one series use make_windows"
        )
    window = check_count(window, "window")
    horizon = check_count(horizon, "horizon")
    step = check_count(step, "step")
    out_dtype = check_float_dtype(dtype)
    targets = _as_column_list(target_col)
    covs = _as_column_list(covariate_cols)
    if not targets:
        raise ValueError("target_col is empty; name at least one target column")
    wanted = [id_col, time_col, *targets, *covs]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise ValueError(
            f"df has no column(s) {missing}; its columns are {list(df.columns)}; "
            "pass id_col, time_col, target_col and covariate_cols that exist"
        )
    if len(set(wanted)) != len(wanted):
        raise ValueError(
            f"a column is used twice among id_col={id_col!r}, time_col="
            f"{time_col!r}, target_col={targets}, covariate_cols={covs}; each "
            "column may play one role"
        )
    # The one long-frame parser: series in sorted id order, rows by time; the
    # caller's frame keeps its order (``data`` is a sorted copy of its columns).
    parsed = parse_long(df, id_col, time_col, what="df", sort_ids=True)
    data = df[wanted].iloc[parsed.order]
    dup = parsed.first_duplicate()
    if dup is not None:
        raise ValueError(
            f"series {describe(data[id_col].iloc[dup])} has duplicate time stamps "
            f"(first: {describe(data[time_col].iloc[dup])}); aggregate them first, "
            f"e.g. df.groupby([{id_col!r}, {time_col!r}], as_index=False).mean()"
        )
    target_arr = long_values(data, targets, out_dtype, id_col, time_col)
    cov_arr = long_values(data, covs, out_dtype, id_col, time_col) if covs else None

    # Series as contiguous row ranges of the sorted frame: data + indptr.
    ids, indptr, lengths = parsed.ids, parsed.indptr, parsed.lengths
    short = lengths < window + horizon
    if short.any() and not drop_short:
        shown = ", ".join(
            f"{describe(ids[k])} ({lengths[k]} rows)"
            for k in np.flatnonzero(short)[:5]
        )
        raise ValueError(
            f"{int(short.sum())} of {len(lengths)} series have fewer than window + "
            f"horizon = {window + horizon} rows: {shown}"
            f"{'...' if short.sum() > 5 else ''}; "
            "drop them (e.g. df.groupby(id_col).filter(lambda g: len(g) >= "
            f"{window + horizon})), pass drop_short=True, or reduce window/horizon"
        )
    if short.all():
        raise ValueError(
            f"every series is shorter than window + horizon = {window + horizon} "
            "rows, so there are no windows; reduce window/horizon"
        )
    if future_covariates and cov_arr is None:
        raise ValueError(
            "future_covariates=True needs covariates: pass covariate_cols, or "
            "leave future_covariates=False"
        )
    if future_covariates and window < horizon:
        raise ValueError(
            f"future_covariates=True needs window >= horizon (got window="
            f"{window}, horizon={horizon}); increase window"
        )

    X_parts, y_parts, end_parts = [], [], []
    for k in np.flatnonzero(~short):
        lo, hi = indptr[k], indptr[k + 1]
        X_k, y_k, ends_k = _make_windows_arrays(
            target_arr[lo:hi],
            None if cov_arr is None else cov_arr[lo:hi],
            window,
            horizon,
            step,
            bool(future_covariates),
            bool(flatten),
        )
        X_parts.append(X_k)
        y_parts.append(y_k)
        end_parts.append(ends_k + lo)
    ends = np.concatenate(end_parts)
    end_times = data[time_col].array.take(ends)
    # Stable sort: equal end times keep series order, so the result is
    # deterministic and a tail of rows is a time split.
    order = np.asarray(end_times.argsort(kind="stable"))
    X_win = np.concatenate(X_parts)[order]
    y_win = np.concatenate(y_parts)[order]
    index = pd.DataFrame(
        {
            id_col: data[id_col].array.take(ends[order]),
            time_col: end_times.take(order),
        }
    )
    return X_win, y_win, index
