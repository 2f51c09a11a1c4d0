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
