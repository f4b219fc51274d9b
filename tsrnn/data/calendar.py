"""What the calendar says about a time axis: seasons, cyclic features, trading days.

Derived from the time labels and their frequency only (no values): the natural
seasonal periods of a frequency (a day and a week of half-hours, twelve months),
the cyclic time-of-day / day-of-week / day-of-year features a forecaster
reads at every step, and the trading calendars (a ``CustomBusinessDay`` whose
holidays are the exchange's closures) under which daily market data is regular.
Holiday indicators belong here too, beside :func:`calendar_features`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USFederalHolidayCalendar,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    sunday_to_monday,
)

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
    hourly); daily a week; business-daily 5 (a custom business day: the working
    days of its weekmask); monthly 12; quarterly 4; anything
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
    if isinstance(off, pd.offsets.CustomBusinessDay):
        # a trading week: the working days of its weekmask, as 5 for "B"
        days = int(off.calendar.weekmask.sum())
        return days if off.n == 1 and days > 1 else None
    name = off.rule_code.split("-")[0]  # .name is deprecated in pandas 3
    season = _SEASONS.get(name)
    return season if season and season > 1 else None


def holiday_dates(spec: Any) -> Any:
    """What ``holidays=`` names, as an object that answers ``date in it``.

    Parameters
    ----------
    spec : str or sequence of dates
        A country code of the `holidays <https://pypi.org/project/holidays/>`_
        package (``"AU"``), optionally with a subdivision (``"AU-VIC"``,
        ``"US-CA"``), or the dates themselves (strings such as
        ``"2024-12-25"``, dates or Timestamps) for a calendar of your own.

    Returns
    -------
    holidays.HolidayBase or frozenset of datetime.date
    """
    if isinstance(spec, str):
        try:
            import holidays as holidays_package
        except ImportError:
            raise ImportError(
                f"holidays={spec!r} needs the holidays package: pip install holidays "
                "(or pass the holiday dates themselves, e.g. holidays=['2024-12-25'])"
            ) from None
        country, _, subdiv = spec.partition("-")
        try:
            return holidays_package.country_holidays(country, subdiv=subdiv or None)
        except (NotImplementedError, KeyError) as exc:
            raise ValueError(
                f"holidays={spec!r}: {exc}; use a country code of the holidays "
                "package such as 'AU' or 'AU-VIC'"
            ) from None
    try:
        dates = pd.DatetimeIndex(list(spec))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"holidays must be a country code such as 'AU' or a list of dates, got "
            f"{spec!r} ({exc})"
        ) from None
    return frozenset(dates.date)


def holiday_features(time: pd.Index, spec: Any) -> np.ndarray:
    """Holiday indicators ``(n, 2)``: the day is a holiday; the day next to one.

    The second column marks the days just before and after a holiday (bridge
    days, Christmas Eve), which behave like neither a workday nor a holiday.
    """
    if isinstance(time, pd.PeriodIndex):
        time = time.to_timestamp()
    calendar = holiday_dates(spec)
    days = pd.DatetimeIndex(time).normalize()
    unique = days.unique()
    is_holiday = np.array([d.date() in calendar for d in unique], dtype=np.float64)
    lookup = dict(zip(unique, is_holiday, strict=True))
    before = np.array(
        [(d + pd.Timedelta(days=1)).date() in calendar for d in unique], dtype=np.float64
    )
    after = np.array(
        [(d - pd.Timedelta(days=1)).date() in calendar for d in unique], dtype=np.float64
    )
    near = dict(zip(unique, np.maximum(before, after) * (1 - is_holiday), strict=True))
    return np.stack(
        [days.map(lookup).to_numpy(np.float64), days.map(near).to_numpy(np.float64)],
        axis=1,
    )


def calendar_features(
    time: pd.Index | None, freq, holidays: Any = None
) -> np.ndarray | None:
    """Cyclic calendar features for a DatetimeIndex (``None`` otherwise).

    Sub-daily steps: time of day and day of week; daily and business-daily:
    day of week and day of year; longer steps: the position in the year. Each as
    a sine/cosine pair so that the end of a cycle meets its start. With
    ``holidays`` (see :func:`holiday_dates`), two more columns from
    :func:`holiday_features`.
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
        (nanos is not None and nanos == day)
        or (freq is not None and str(freq).startswith("B"))
        or isinstance(freq, pd.offsets.CustomBusinessDay)
    ):
        # (a BusinessDay *offset* prints as "<BusinessDay>" and so falls to the
        # day-of-year branch; kept as it is, since saved models rely on the
        # feature count)
        cols += [time.day_of_week.to_numpy() / 7.0]
        cols += [(time.day_of_year.to_numpy() - 1) / 365.25]
    else:
        cols += [(time.day_of_year.to_numpy() - 1) / 365.25]
    ang = 2 * np.pi * np.stack(cols, axis=1)
    parts = [np.sin(ang), np.cos(ang)]
    if holidays is not None:
        parts.append(holiday_features(time, holidays))
    return np.concatenate(parts, axis=1)


# ------------------------------------------------------------- trading calendars
class _NYSEHolidays(AbstractHolidayCalendar):
    """The New York Stock Exchange's regular full-day closures (since 1998).

    A holiday on a Saturday closes the Friday before, on a Sunday the Monday
    after (``nearest_workday``), except New Year's Day: a Saturday New Year
    closes nothing. Martin Luther King Jr. Day from 1998, Juneteenth from 2022.
    One-off closures (2001-09-11 to 14, national days of mourning, Hurricane
    Sandy) are not rules; :func:`trading_calendar` takes them from the data.
    """

    rules = [
        Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
        Holiday(
            "Martin Luther King Jr. Day",
            month=1,
            day=1,
            offset=USMartinLutherKingJr.offset,
            start_date=pd.Timestamp("1998-01-01"),
        ),
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday(
            "Juneteenth",
            month=6,
            day=19,
            start_date=pd.Timestamp("2022-01-01"),
            observance=nearest_workday,
        ),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
    ]


_HOLIDAY_RULES = {"nyse": _NYSEHolidays, "us_federal": USFederalHolidayCalendar}


def rule_holidays(rules: str, start: Any, end: Any) -> pd.DatetimeIndex:
    """The weekday holidays of a rule set between ``start`` and ``end`` (inclusive).

    Parameters
    ----------
    rules : {"nyse", "us_federal"}
        ``"nyse"``: the New York Stock Exchange's regular closures (New Year,
        Martin Luther King Jr. Day, Presidents' Day, Good Friday, Memorial Day,
        Juneteenth, Independence Day, Labor Day, Thanksgiving, Christmas).
        ``"us_federal"``: US federal holidays (pandas'
        ``USFederalHolidayCalendar``; banks and the Federal Reserve's
        exchange-rate fixings follow it).
    start, end : date-like

    Returns
    -------
    pandas.DatetimeIndex
        Sorted dates at midnight, Monday to Friday only.
    """
    if rules not in _HOLIDAY_RULES:
        raise ValueError(
            f"holidays={rules!r} is not a holiday rule set; choose one of "
            f"{sorted(_HOLIDAY_RULES)} or None"
        )
    days = _HOLIDAY_RULES[rules]().holidays(pd.Timestamp(start), pd.Timestamp(end))
    return days[days.day_of_week < 5]


def trading_calendar(
    index: pd.DatetimeIndex, holidays: str | None = "nyse", years_ahead: int = 10
) -> pd.offsets.CustomBusinessDay:
    """The business-day calendar under which a daily market index is regular.

    Within the data, the holidays are the weekdays that ``index`` skips, so the
    data fits as it is (every one-off closure included). After its last date,
    where the data cannot tell, the holidays are those of the rule set
    ``holidays`` for ``years_ahead`` years, so that forecasts skip them too.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Daily timestamps at midnight, sorted, unique, Monday to Friday.
    holidays : {"nyse", "us_federal"} or None, default="nyse"
        The rules for the future (see :func:`rule_holidays`); None: every
        weekday after the data is a trading day.
    years_ahead : int, default=10
        How far past the data the rule holidays are listed (a forecast that
        goes further treats every weekday as a trading day).

    Returns
    -------
    pandas.offsets.CustomBusinessDay
        Weekmask Monday to Friday; use it as ``freq=`` or as ``index.freq``.

    Raises
    ------
    ValueError
        If ``index`` is not sorted daily dates at midnight on weekdays.
    """
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        raise ValueError("a trading calendar needs a DatetimeIndex of >= 2 dates")
    if index.tz is not None or not (index == index.normalize()).all():
        raise ValueError(
            "a trading calendar needs tz-naive dates at midnight (one row per day)"
        )
    if not index.is_monotonic_increasing or not index.is_unique:
        raise ValueError("a trading calendar needs sorted, unique dates")
    if (index.day_of_week >= 5).any():
        raise ValueError("a trading calendar (Monday to Friday) got a weekend date")
    first, last = index[0], index[-1]
    closed = pd.bdate_range(first, last).difference(index)
    if holidays is not None:
        end = last + pd.DateOffset(years=years_ahead)
        ahead = rule_holidays(holidays, last + pd.Timedelta(days=1), end)
        closed = closed.append(ahead)
    return pd.offsets.CustomBusinessDay(
        holidays=list(closed.to_numpy().astype("datetime64[D]"))
    )
