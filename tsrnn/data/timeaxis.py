"""Time and frequency arithmetic of the series a forecaster reads.

Classifying a time axis (datetime, period or integer labels), inferring or
checking its frequency, stepping labels forward and back by whole steps,
sorting keys and time zones: everything that turns pandas' time labels into
"row ``t`` is one step after row ``t - 1``", the assumption of a recurrent state
that advances one step per row. Calendar features derived from the labels are
in :mod:`tsrnn.data.calendar`.
"""

from __future__ import annotations

import numbers
import threading
import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from .checks import describe

FREQ_HINT = (
    "e.g. '30min', 'h', 'D', 'B', 'W-SUN', 'MS', 'ME', or a pandas offset such as "
    "pd.offsets.CustomBusinessDay(holidays=...) for trading days"
)
# an upper bound on the holidays a stored calendar may list (a century of
# daily closures is ~36,500): a model file asking for more is refused
MAX_HOLIDAYS = 100_000
_DAYS = np.array(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])


_OPTION_LOCK = threading.RLock()


def infer_freq(index: pd.Index) -> Any:
    """``pd.infer_freq`` returning an offset (or None), without pandas' warnings."""
    if len(index) < 3:
        return None
    try:
        # pandas >= 3.1 warns unless the future behaviour (offset return) is
        # chosen. Options are process-global: without the lock, a thread leaving
        # the context (a Dask worker's other actor, a concurrent predict) turns
        # the option off under another thread's call, which then warns
        with _OPTION_LOCK, pd.option_context(
            "future.infer_freq_returns_offset", True
        ):
            freq = pd.infer_freq(index)
    except (pd.errors.OptionError, KeyError):  # older pandas: a string
        freq = pd.infer_freq(index)
    except (TypeError, ValueError):
        return None
    return None if freq is None else to_offset(freq)


def freq_str(freq: Any) -> str:
    """A frequency for messages: ``'30min'``, or the int step of integer labels.

    A custom business day also says its week and how many holidays it skips
    (its ``freqstr``, ``'C'``, alone would read as plain weekdays).
    """
    if isinstance(freq, numbers.Integral):
        return str(freq)
    if isinstance(freq, pd.offsets.CustomBusinessDay):
        cal = freq.calendar
        return (
            f"{freq.freqstr} (custom business days: "
            f"{' '.join(_DAYS[cal.weekmask])}, {len(cal.holidays)} holidays)"
        )
    return freq.freqstr


def is_offset(value: Any) -> bool:
    """Whether ``value`` is a pandas offset (a frequency given as an object)."""
    return isinstance(value, pd.offsets.BaseOffset)


def is_custom(freq: Any) -> bool:
    """Whether ``freq`` is an offset that its alias does not describe in full.

    Such an offset (a ``CustomBusinessDay`` with holidays, a ``BusinessHour``
    with its own opening hours) cannot be re-created from ``freqstr``, so hints
    name the offset object instead of an alias.
    """
    if not isinstance(freq, pd.offsets.BaseOffset):
        return False
    try:
        return to_offset(freq.freqstr) != freq
    except (TypeError, ValueError):
        return True


def asfreq_hint(freq: Any) -> str:
    """How to reindex a series onto ``freq``, for messages."""
    if is_custom(freq):
        return "y.asfreq(freq) with the same offset object as freq="
    return f"y.asfreq('{freq_str(freq)}')"


def _shift_business_days(labels: pd.DatetimeIndex, freq: Any, k: int) -> pd.Index:
    """``labels + k * freq`` for a ``CustomBusinessDay``, vectorized.

    pandas applies a custom business day one timestamp at a time (a Python loop
    over the index); this is the same rule on the whole index at once: the date
    moves ``n`` business days with :func:`numpy.busday_offset` (rolled backward
    first when moving forward, forward when moving backward, as pandas does),
    the time of day is kept, then the offset's ``offset`` is added.
    """
    n = freq.n * k
    day = labels.normalize()
    tod = labels - day
    days = day.to_numpy().astype("datetime64[D]")
    moved = np.busday_offset(
        days, n, roll="forward" if n <= 0 else "backward", busdaycal=freq.calendar
    )
    out = pd.DatetimeIndex(moved.astype(f"datetime64[{labels.unit}]")) + tod
    if freq.offset:
        out = out + pd.Timedelta(freq.offset)
    if freq.normalize:
        out = out.normalize()
    return out.rename(labels.name)


def shift(labels: pd.Index, freq: Any, k: int) -> pd.Index:
    """``labels`` moved ``k`` steps of ``freq`` (``k`` may be negative, never 0)."""
    if isinstance(labels, pd.PeriodIndex):
        return labels + k
    if isinstance(freq, numbers.Integral):
        return labels + k * int(freq)
    if (
        isinstance(freq, pd.offsets.CustomBusinessDay)
        and isinstance(labels, pd.DatetimeIndex)
        and labels.tz is None
    ):
        return _shift_business_days(labels, freq, k)
    with warnings.catch_warnings():
        # a few offsets (custom business days) are applied element-wise, which
        # pandas reports as a PerformanceWarning; the result is correct either way
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        try:
            return labels + k * freq
        except Exception as exc:  # pytz's Ambiguous/NonExistentTimeError
            if "Time" not in type(exc).__name__ or labels.tz is None:
                raise
            raise ValueError(
                f"a step of {freq_str(freq)} from this tz-aware time index lands "
                f"on a local time that a daylight-saving change makes ambiguous or "
                f"nonexistent ({exc}); convert the index to UTC "
                "(y.tz_convert('UTC')) or use local times at midnight"
            ) from exc


def shift_range(labels: pd.Index, freq: Any, horizon: int) -> pd.Index:
    """The next ``horizon`` labels after each of ``labels``, series-major.

    Element ``i * horizon + (k - 1)`` is ``shift(labels[i:i+1], freq, k)``.
    Periods, integer labels and fixed-length steps (pandas ``Tick`` offsets:
    hours, minutes, ...; days without a time zone or in UTC) are computed in
    one vectorized operation, exactly what ``shift`` gives (a Tick adds an
    absolute duration, time zones included); other calendar offsets (days in
    a local time zone under pandas 3, months, business days) are stepped with
    :func:`shift` one ``k`` at a time, as before -- one pandas operation per
    step, about 0.2 ms each.
    """
    S, h = len(labels), int(horizon)
    k = np.arange(1, h + 1)
    first = shift(labels, freq, 1)  # the exact labels' type, dtype and unit
    out = None
    if isinstance(labels, pd.PeriodIndex):
        # one step in ordinals, as shift takes it: a 15-minute period counts
        # its ordinals in minutes, so the step is 15, not 1
        step = (first.asi8 - labels.asi8)[:, None]
        ordinals = labels.asi8[:, None] + k[None, :] * step
        out = pd.PeriodIndex.from_ordinals(ordinals.ravel(), freq=labels.freq)
    elif isinstance(freq, numbers.Integral):
        values = labels.to_numpy()[:, None] + k[None, :] * int(freq)
        out = pd.Index(values.ravel())
    elif isinstance(labels, pd.DatetimeIndex) and isinstance(freq, pd.offsets.Tick):
        step = pd.Timedelta(freq)
        out = labels.repeat(h) + pd.TimedeltaIndex(np.tile(k, S) * step)
    elif (
        isinstance(labels, pd.DatetimeIndex)
        and type(freq) is pd.offsets.Day  # a calendar day since pandas 3
        and (labels.tz is None or str(labels.tz) == "UTC")  # no daylight saving
    ):
        step = pd.Timedelta(days=freq.n)
        out = labels.repeat(h) + pd.TimedeltaIndex(np.tile(k, S) * step)
    if out is None or out.dtype != first.dtype:
        steps = [first] + [shift(labels, freq, j) for j in range(2, h + 1)]
        merged = steps[0].append(steps[1:]) if h > 1 else steps[0]
        order = np.arange(S * h).reshape(h, S).T.ravel()  # (h, S) -> series-major
        return merged[order]
    return out


def labels_equal(a: pd.Index, b: pd.Index) -> np.ndarray:
    """Element-wise equality of two label indexes, as a bool array."""
    return np.asarray(a == b, dtype=bool)


def index_type(index: pd.Index, what: str) -> str:
    """Classify a time axis: "datetime", "period" or "int"; raise for anything else."""
    if isinstance(index, pd.DatetimeIndex):
        return "datetime"
    if isinstance(index, pd.PeriodIndex):
        return "period"
    if pd.api.types.is_integer_dtype(index.dtype) and not pd.api.types.is_bool_dtype(
        index.dtype
    ):
        return "int"
    hint = ""
    if isinstance(index, pd.MultiIndex):
        raise TypeError(
            f"{what} is a MultiIndex; for many series pass a long-format DataFrame "
            "(e.g. y.reset_index() with columns unique_id, ds, y)"
        )
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):
        hint = (
            " If it holds date strings, convert it with pd.to_datetime(...); if it "
            "mixes time zones, with pd.to_datetime(..., utc=True)."
        )
    raise TypeError(
        f"{what} has dtype {index.dtype}; use a DatetimeIndex, a PeriodIndex or an "
        f"integer index (positions).{hint}"
    )


def resolve_freq(
    time: pd.Index, itype: str, starts: np.ndarray, freq: Any, what: str
) -> Any:
    """The step of a time axis: a pandas offset, or an int for integer indexes.

    ``starts`` are the first rows of each series in ``time`` (sorted, stacked).
    """
    ends = np.append(starts[1:], len(time))
    if itype == "period":
        pfreq = time.freq
        if freq is not None and to_offset(freq) != pfreq:
            raise ValueError(
                f"{what} is a PeriodIndex with freq {pfreq.freqstr}, but freq={freq!r} "
                "was given; drop freq or convert the index (.asfreq)"
            )
        return pfreq
    if itype == "int":
        if freq is not None and (
            isinstance(freq, bool) or not isinstance(freq, numbers.Integral)
        ):
            raise TypeError(
                f"{what} is an integer index, so freq must be an int step or None, "
                f"got {freq!r}; for timestamps use a DatetimeIndex"
            )
        if freq is not None:
            if freq < 1:
                raise ValueError(f"freq (integer step) must be >= 1, got {freq}")
            return int(freq)
        steps = np.diff(np.asarray(time, dtype=np.int64))
        inside = np.ones(len(steps), bool)
        inside[ends[:-1] - 1] = False  # pairs across two series are not steps
        steps = steps[inside[: len(steps)]]
        if steps.size == 0:
            return 1
        return int(steps.min())
    # datetime
    if freq is not None:
        try:
            return to_offset(freq)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"freq={freq!r} is not a pandas frequency ({FREQ_HINT})"
            ) from exc
    if len(starts) == 1 and getattr(time, "freq", None) is not None:
        return time.freq
    # the longest few series decide; check_regular then verifies every series
    lengths = ends - starts
    found: dict[Any, int] = {}
    for i in np.argsort(-lengths, kind="stable")[:20]:
        if lengths[i] < 3:
            break
        f = infer_freq(time[starts[i] : ends[i]])
        if f is not None:
            found[f] = found.get(f, 0) + 1
    if not found:
        example = "'30min'"
        if len(time) >= 2:
            # the most common spacing makes the hint concrete (a gap is rarer)
            key = time_key(time)
            same = np.ones(len(time) - 1, bool)
            same[ends[:-1] - 1] = False
            steps = np.diff(key)[same[: len(key) - 1]]
            if steps.size:
                vals, counts = np.unique(steps, return_counts=True)
                try:
                    example = repr(
                        to_offset(pd.Timedelta(int(vals[np.argmax(counts)]))).freqstr
                    )
                except (TypeError, ValueError):
                    pass
        raise ValueError(
            f"could not infer a regular frequency from {what} (too few timestamps, or "
            f"irregular spacing); pass freq= ({FREQ_HINT}). If some steps are "
            "missing, reindex onto a regular grid so that they become NaN rows, e.g. "
            f"y.asfreq({example})"
        )
    return max(found, key=found.get)


def check_regular(
    time: pd.Index,
    itype: str,
    seg: np.ndarray | None,
    starts: np.ndarray,
    freq: Any,
    what: str,
    ids: pd.Index | None = None,
) -> None:
    """Every series steps by exactly one ``freq`` (and starts on it)."""
    if ids is not None:
        fix = (
            "missing steps must be rows with NaN targets (add the absent "
            "(id, time) rows), or pass the right freq="
        )
    elif itype == "int":
        fix = (
            "missing steps must be rows of NaN (e.g. y.reindex(range(first, last + "
            "step, step))), or pass the right freq= (int step)"
        )
    else:
        fix = (
            f"missing steps must be rows of NaN (reindex onto the grid, e.g. "
            f"{asfreq_hint(freq)}), or pass the right freq="
        )
    if len(time) >= 2:
        expected = shift(time[:-1], freq, 1)
        same = np.ones(len(time) - 1, bool) if seg is None else seg[1:] == seg[:-1]
        bad = ~labels_equal(expected, time[1:]) & same
        if bad.any():
            i = int(np.argmax(bad))
            where = "" if ids is None or seg is None else f" (series {ids[seg[i]]!r})"
            raise ValueError(
                f"{what}{where} is not regular at frequency {freq_str(freq)}: after "
                f"{describe(time[i])} comes {describe(time[i + 1])}, expected "
                f"{describe(expected[i])}; {fix}"
            )
    if itype == "datetime":
        first = time[starts]
        on = labels_equal(shift(shift(first, freq, -1), freq, 1), first)
        if not on.all():
            i = int(np.argmin(on))
            where = "" if ids is None else f" (series {ids[i]!r})"
            raise ValueError(
                f"{what}{where} starts at {describe(first[i])}, which is not on "
                f"frequency {freq_str(freq)}; pass the right freq="
            )


def time_key(index: pd.Index) -> np.ndarray:
    """int64 sort key of time labels (nanoseconds/ordinals/ints)."""
    if isinstance(index, pd.DatetimeIndex):
        return index.as_unit("ns").asi8  # one unit, so keys of two inputs compare
    if isinstance(index, pd.PeriodIndex):
        return index.asi8
    return np.asarray(index, dtype=np.int64)


def tz_of(index: pd.Index) -> Any:
    """The time zone of a label index (None: naive or not datetimes)."""
    return getattr(index, "tz", None)


def conform_time(new: pd.Index, schema: Any, what: str) -> pd.Index:
    """Check that ``new`` has the fitted time type; align time zone and unit.

    ``schema`` is what fit saw (a :class:`~tsrnn.data.schema.SeriesSchema`: its
    ``index_type``, ``last`` and ``freq``).
    """
    itype = index_type(new, what)
    if itype != schema.index_type:
        raise TypeError(
            f"{what} is a {itype} index but the model was fitted on a "
            f"{schema.index_type} index; pass the same kind of time labels"
        )
    if itype == "datetime":
        tz_fit, tz_new = tz_of(schema.last), tz_of(new)
        if (tz_fit is None) != (tz_new is None):
            raise ValueError(
                f"{what} is {'tz-aware' if tz_new is not None else 'tz-naive'} but the "
                "model was fitted on "
                f"{'tz-aware' if tz_fit is not None else 'tz-naive'} "
                "timestamps; use the same convention (tz_localize / tz_convert)"
            )
        if tz_fit is not None and str(tz_fit) != str(tz_new):
            new = new.tz_convert(tz_fit)  # same instants, shown in the fitted zone
    if itype == "period" and new.freq != schema.freq:
        raise ValueError(
            f"{what} has period freq {new.freq.freqstr}, but the model was fitted on "
            f"{schema.freq.freqstr}; convert it with .asfreq({schema.freq.freqstr!r})"
        )
    return new


# ------------------------------------------------------------ stored frequencies


def freq_to_json(freq: Any) -> Any:
    """A frequency as JSON: None, an int step, an alias, or a custom calendar.

    An offset whose alias re-creates it is stored as the alias (``"30min"``,
    ``"W-SUN"``). A ``CustomBusinessDay`` is stored as an object with its step
    ``n``, its ``weekmask`` (day names, ``"Mon Tue Wed Thu Fri"``), its
    ``holidays`` (ISO dates), its time ``offset_ns`` and ``normalize`` flag,
    so that a trading calendar survives a model file without pickle.

    Raises
    ------
    ValueError
        For an offset that neither an alias nor the custom-business-day record
        describes in full (e.g. ``BusinessHour(start="10:00")``).
    """
    if freq is None:
        return None
    if isinstance(freq, numbers.Integral):
        return int(freq)
    if isinstance(freq, pd.offsets.CustomBusinessDay):
        # the calendar is authoritative (a weekmask given through calendar= is
        # not reflected in .weekmask); .holidays keeps the dates as given
        days = np.asarray(freq.holidays, dtype="datetime64[D]")
        return {
            "offset": "CustomBusinessDay",
            "n": int(freq.n),
            "weekmask": " ".join(_DAYS[freq.calendar.weekmask]),
            "holidays": [str(d) for d in days],
            "offset_ns": int(pd.Timedelta(freq.offset).value),
            "normalize": bool(freq.normalize),
        }
    if is_custom(freq):
        raise ValueError(
            f"the frequency {freq!r} cannot be stored in a model file: its alias "
            f"{freq.freqstr!r} does not re-create it (only aliases and "
            "pd.offsets.CustomBusinessDay(weekmask=..., holidays=...) can be "
            "stored); use one of those, or pickle the model (files you trust only)"
        )
    return freq.freqstr


def freq_from_json(value: Any) -> Any:
    """Inverse of :func:`freq_to_json`, checking every field first.

    Raises
    ------
    ValueError
        A malformed record (unknown offset kind, a step that is not a positive
        int, a weekmask that is not seven ``0``/``1`` digits with a working
        day, holidays that are not ISO dates or too many of them).
    """
    if value is None or isinstance(value, numbers.Integral):
        return value
    if isinstance(value, str):
        try:
            return to_offset(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"freq {value!r} is not a pandas frequency") from exc
    if not isinstance(value, dict) or value.get("offset") != "CustomBusinessDay":
        raise ValueError(
            f"freq {value!r} is neither an alias nor a CustomBusinessDay record"
        )
    want = {"offset", "n", "weekmask", "holidays", "offset_ns", "normalize"}
    if set(value) != want:
        raise ValueError(
            f"the CustomBusinessDay record has keys {sorted(value)}, expected "
            f"{sorted(want)}"
        )
    n, mask, hol = value["n"], value["weekmask"], value["holidays"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the CustomBusinessDay step n={n!r} must be an int >= 1")
    names = mask.split() if isinstance(mask, str) else None
    if (
        not names
        or not set(names) <= set(_DAYS)
        or len(set(names)) != len(names)
        or mask != " ".join(names)
    ):
        raise ValueError(
            f"the CustomBusinessDay weekmask {mask!r} must name distinct working "
            "days separated by spaces, e.g. 'Mon Tue Wed Thu Fri'"
        )
    if not isinstance(hol, list) or len(hol) > MAX_HOLIDAYS:
        raise ValueError(
            f"the CustomBusinessDay holidays must be a list of at most "
            f"{MAX_HOLIDAYS} ISO dates"
        )
    try:
        if not all(isinstance(d, str) for d in hol):
            raise TypeError
        days = np.array(hol, dtype="datetime64[D]")
    except (TypeError, ValueError):
        raise ValueError(
            "the CustomBusinessDay holidays must be ISO dates ('2019-01-01')"
        ) from None
    off_ns, norm = value["offset_ns"], value["normalize"]
    if isinstance(off_ns, bool) or not isinstance(off_ns, int):
        raise ValueError(f"the CustomBusinessDay offset_ns={off_ns!r} must be an int")
    if not isinstance(norm, bool):
        raise ValueError(f"the CustomBusinessDay normalize={norm!r} must be a bool")
    return pd.offsets.CustomBusinessDay(
        n=n,
        weekmask=mask,
        holidays=list(days),  # datetime64[D], as pandas stores given holidays
        offset=pd.Timedelta(off_ns, unit="ns").to_pytimedelta(),
        normalize=norm,
    )
