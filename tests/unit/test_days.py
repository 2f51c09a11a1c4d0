import datetime as dt

import pytest

from rulebook.engine.days import add_business_days, add_days, add_months, is_business_day

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


# ------------------------------------------------------------ months (Civil Code, arts. 140, 143)

def _civil_code_end(day: dt.date, months: int) -> dt.date:
    """The last day of `months` months from `day`, read word by word from the Civil Code.

    Art. 140: 日、週、月又は年によって期間を定めたときは、期間の初日は、算入しない — the period
    starts the day after `day`. Art. 143(1): 週、月又は年の初めから期間を起算しないときは…; a
    period counted from the start of a month ends with the last of its months (暦に従って計算する).
    Art. 143(2): otherwise その期間は、最後の週、月又は年においてその起算日に応当する日の前日に満了する。
    ただし、月又は年によって期間を定めた場合において、最後の月に応当する日がないときは、その月の
    末日に満了する."""
    start = day + dt.timedelta(days=1)
    if start.day == 1:  # from the start of a month: whole months, to the end of the last one
        year, month = divmod(start.year * 12 + start.month - 1 + months - 1, 12)
        first_after = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        return first_after - dt.timedelta(days=1)
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    try:
        corresponding = dt.date(year, month + 1, start.day)  # 起算日に応当する日
    except ValueError:  # the last month has no such day: its last day
        first_after = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        return first_after - dt.timedelta(days=1)
    return corresponding - dt.timedelta(days=1)  # its day before


@pytest.mark.parametrize("day, months, expected", [
    (D(2021, 1, 21), 6, D(2021, 7, 21)),     # further-rules.md's example
    (D(2021, 8, 30), 6, D(2022, 2, 28)),     # the 31st, where the period starts, has no February day
    (D(2021, 8, 31), 6, D(2022, 2, 28)),     # from the start of September: to the end of February
    (D(2021, 2, 28), 6, D(2021, 8, 31)),     # from 1 March: six whole months, to the end of August
    (D(2020, 2, 28), 6, D(2020, 8, 28)),     # a leap year: 29 Feb 2020 starts it, 29 Aug its day, the 28th ends it
    (D(2020, 2, 29), 6, D(2020, 8, 31)),     # the last day of a leap February
    (D(2021, 1, 31), 1, D(2021, 2, 28)),
    (D(2021, 1, 30), 1, D(2021, 2, 28)),     # the 31st has no February day
    (D(2021, 1, 28), 1, D(2021, 2, 28)),     # the 29th has none either, in 2021
    (D(2024, 1, 28), 1, D(2024, 2, 28)),     # 2024: 29 Feb is the corresponding day, its day before ends it
    (D(2021, 3, 30), 1, D(2021, 4, 30)),
    (D(2021, 11, 4), 6, D(2022, 5, 4)),      # over a year's end
    (D(2021, 12, 31), 2, D(2022, 2, 28)),
    (D(2021, 6, 15), 0, D(2021, 6, 15)),
])
def test_add_months_as_the_civil_code_counts(day, months, expected):
    assert add_months(day, months) == expected
    assert _civil_code_end(day, months) == expected  # the literal reading agrees with the table


def test_add_months_agrees_with_a_literal_reading_of_the_articles_on_every_day():
    day = D(2019, 12, 1)
    while day < D(2025, 3, 1):
        for months in (1, 2, 3, 6, 11, 12, 13, 25):
            assert add_months(day, months) == _civil_code_end(day, months), (day, months)
        day += dt.timedelta(days=1)
