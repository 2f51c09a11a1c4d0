"""engine/evaluate.py: the parameters in force on a day (`parameters_at`), kept by day."""

from __future__ import annotations

import datetime as dt

import pytest

from rulebook.engine.evaluate import _ParametersByDay, parameters_at
from rulebook.engine.runtime import NotInForce

# a parameter with two editions and a gap between them, one with a table as its value
PARAMETERS = {
    "rate": ((dt.date(2020, 1, 1), dt.date(2020, 12, 31), 10), (dt.date(2021, 2, 1), None, 20)),
    "table": ((dt.date(2020, 1, 1), None, {"a": 1}),),
}


def plainly(name: str, day: dt.date):
    """The value in force on the day, looked up in PARAMETERS; None when none is."""
    for start, until, value in PARAMETERS[name]:
        if start <= day and (until is None or day <= until):
            return value
    return None


def test_the_parameters_of_each_day_are_those_in_force_then_however_many_days_are_asked():
    """Each day's parameters are right, asked once or again, for more days than are kept (the
    kept days are let go when full, and made again when asked)."""
    params_at = parameters_at(PARAMETERS)
    kept = params_at.__self__
    days = [dt.date(2019, 12, 1) + dt.timedelta(days=i) for i in range(_ParametersByDay.KEPT + 500)]
    for day in days + days[:10] + days[-10:]:
        params = params_at(day)
        assert params.day == day
        for name in PARAMETERS:
            expected = plainly(name, day)
            if expected is None:
                with pytest.raises(NotInForce) as caught:
                    params[name]
                assert (caught.value.name, caught.value.day) == (name, day)
            else:
                assert params[name] == expected
        assert len(kept) <= _ParametersByDay.KEPT
    assert params_at(days[-1]) is params_at(days[-1])  # kept: the same mapping again
    with pytest.raises(TypeError):
        params_at(dt.date(2021, 1, 1))["table"]["b"] = 2  # a table is read-only
