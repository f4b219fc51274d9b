"""What the calendar says about a time axis: seasonal periods and cyclic features.

Derived from the time labels and their frequency only (no values): the natural
seasonal periods of a frequency (a day and a week of half-hours, twelve months)
and the cyclic time-of-day / day-of-week / day-of-year features a forecaster
reads at every step. Holiday indicators belong here too, beside
:func:`calendar_features`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# seasonal periods inferred from a pandas frequency (rule prefix -> period)
_SEASONS = {
    "min": None,
    "T": None,
    "h": 24,
    "H": 24,
    "D": 7,
    "B": 5,
    "W": 52,
    "M": 12,
    "MS": 12,
    "ME": 12,
    "Q": 4,
    "QS": 4,
    "QE": 4,
    "Y": 1,
    "YS": 1,
    "YE": 1,
    "A": 1,
    "AS": 1,
}


def infer_seasons(freq) -> tuple[int, ...]:
    """Natural seasonal periods for a pandas frequency, shortest first.

    Sub-daily steps get a day and a week (48 and 336 for 30 min, 24 and 168
    hourly); daily a week; business-daily 5; monthly 12; quarterly 4; anything
    else none.
    """
    m = infer_season_length(freq)
    if m is None:
        return ()
    try:
        nanos = pd.Timedelta(pd.tseries.frequencies.to_offset(freq)).value
    except (TypeError, ValueError):
        nanos = None
    if nanos and nanos < 86_400 * 10**9:
        return (m, 7 * m)
    return (m,)


def infer_season_length(freq) -> int | None:
    """A natural seasonal period for a pandas frequency (e.g. 48 for 30 min)."""
    if freq is None or isinstance(freq, (int, np.integer)):
        return None
    try:
        off = pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError):
        return None
    try:
        nanos = pd.Timedelta(off).value  # fixed-length offsets: minutes, hours, days
    except (TypeError, ValueError):
        nanos = None
    if nanos:
        day = 86_400 * 10**9
        if nanos < day and day % nanos == 0:
            return day // nanos  # one day of steps
        if nanos == day:
            return 7
        return None
    name = off.rule_code.split("-")[0]  # .name is deprecated in pandas 3
    season = _SEASONS.get(name)
    return season if season and season > 1 else None


def calendar_features(time: pd.Index | None, freq) -> np.ndarray | None:
    """Cyclic calendar features for a DatetimeIndex (``None`` otherwise).

    Sub-daily steps: time of day and day of week; daily and business-daily:
    day of week and day of year; longer steps: the position in the year. Each as
    a sine/cosine pair so that the end of a cycle meets its start.
    """
    if time is None or not isinstance(time, (pd.DatetimeIndex, pd.PeriodIndex)):
        return None
    if isinstance(time, pd.PeriodIndex):
        time = time.to_timestamp()
    try:
        nanos = pd.Timedelta(pd.tseries.frequencies.to_offset(freq)).value
    except (TypeError, ValueError):
        nanos = None
    day = 86_400 * 10**9
    cols = []
    if nanos is not None and nanos < day:
        tod = (time.hour * 3600 + time.minute * 60 + time.second).to_numpy() / 86_400
        cols += [tod]
        cols += [time.day_of_week.to_numpy() / 7.0]
    elif (
        nanos is not None
        and nanos == day
        or (freq is not None and str(freq).startswith("B"))
    ):
        cols += [time.day_of_week.to_numpy() / 7.0]
        cols += [(time.day_of_year.to_numpy() - 1) / 365.25]
    else:
        cols += [(time.day_of_year.to_numpy() - 1) / 365.25]
    ang = 2 * np.pi * np.stack(cols, axis=1)
    return np.concatenate([np.sin(ang), np.cos(ang)], axis=1)
