"""Calendar days and Japanese business days.

Business days skip Saturdays, Sundays and Japan's public holidays (substitute
holidays included), from the maintained `holidays` library.
"""

from __future__ import annotations

import datetime as dt
import functools

_ONE_DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=256)
def holidays_of(year: int) -> frozenset[dt.date]:
    """Japan's public holidays of one year."""
    from holidays.countries.japan import Japan  # imported on first use: it is slow to load

    return frozenset(Japan(years=year).keys())


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in holidays_of(day.year)


def add_days(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)


@functools.lru_cache(maxsize=65536)
def add_business_days(day: dt.date, days: int) -> dt.date:
    """The `days`-th business day after `day` (before it, when negative).

    The day itself is not counted: 3 business days after a Friday is the
    Wednesday after, or later when a holiday falls between.
    """
    step = _ONE_DAY if days >= 0 else -_ONE_DAY
    remaining = abs(days)
    current = day
    while remaining:
        current += step
        if is_business_day(current):
            remaining -= 1
    return current


@functools.lru_cache(maxsize=65536)
def add_months(day: dt.date, months: int) -> dt.date:
    """The last day of a period of `months` months counted from `day`, as the Civil Code counts
    it (articles 140 and 143; `months` ≥ 0).

    The first day is not counted (art. 140): the period starts the day after `day`. When that
    day is the 1st of a month, the period is whole months and ends on the last day of the
    `months`-th month (art. 143(1)); otherwise it ends on the day before the day of the last
    month that corresponds to the day it started, which is `day`'s own day number — or on that
    month's last day when the month has no such day (art. 143(2)). 2021-01-21 + 6 months is
    2021-07-21; 2021-08-31 + 6 months is 2022-02-28; 2021-02-28 + 6 months is 2021-08-31.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _days_in(year, month)
    if day.day == _days_in(day.year, day.month):  # the period starts on the 1st of the next month
        return dt.date(year, month, last)
    return dt.date(year, month, min(day.day, last))


def _days_in(year: int, month: int) -> int:
    """How many days the month has."""
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days
