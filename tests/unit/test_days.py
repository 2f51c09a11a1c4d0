import datetime as dt

import pytest

from rulebook.engine.days import add_business_days, add_days, is_business_day

D = dt.date


@pytest.mark.parametrize("start, days, expected", [
    (D(2021, 1, 13), 3, D(2021, 1, 18)),   # Wed → Mon, over a weekend
    (D(2021, 1, 8), 3, D(2021, 1, 14)),    # Fri; Mon 11 Jan is 成人の日
    (D(2021, 1, 9), 3, D(2021, 1, 14)),    # Sat: counting starts after the day itself
    (D(2021, 4, 28), 3, D(2021, 5, 7)),    # golden week: 29 Apr, 3-5 May are holidays
    (D(2020, 5, 1), 1, D(2020, 5, 7)),     # 2020: 6 May is a substitute holiday
    (D(2021, 2, 22), 1, D(2021, 2, 24)),   # 23 Feb 2021 is the Emperor's Birthday
    (D(2021, 3, 1), 0, D(2021, 3, 1)),
    (D(2021, 1, 18), -1, D(2021, 1, 15)),  # backwards over a weekend
])
def test_add_business_days(start, days, expected):
    assert add_business_days(start, days) == expected


@pytest.mark.parametrize("day, business", [
    (D(2021, 1, 1), False), (D(2021, 1, 4), True), (D(2021, 1, 9), False),
    (D(2021, 7, 23), False),  # スポーツの日, moved for the Olympics in 2021
    (D(2021, 10, 11), True),  # ... so the usual October date was a working day
])
def test_is_business_day(day, business):
    assert is_business_day(day) is business


def test_add_days_counts_calendar_days():
    assert add_days(D(2021, 2, 26), 10) == D(2021, 3, 8)
    assert add_days(D(2020, 2, 25), 10) == D(2020, 3, 6)  # leap year
