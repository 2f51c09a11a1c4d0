"""What compiled rules call at run time: the few operations that are more than one
Python operator (business days, Civil Code months, exact division, rounding half up), the
marker of a fact slot that evaluation did not reach, and the parameters in force on a day
(`Parameters`), which raise `NotInForce` for one that has no value on it."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from decimal import ROUND_HALF_UP, Decimal

from .days import add_business_days, add_months

__all__ = ["UNSET", "days", "add_business_days", "add_months", "divide", "round_half_up", "extra_fields",
           "fields_given", "NotInForce", "Parameters", "not_in_force"]


class _Unset:
    """A fact slot that evaluation did not reach."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self):
        return "UNSET"


UNSET = _Unset()


@functools.lru_cache(maxsize=4096)
def days(count: int) -> dt.timedelta:
    """A span of calendar days (cached: deadlines use a handful of them)."""
    return dt.timedelta(days=count)


def divide(a, b):
    return Decimal(a) / Decimal(b)


def round_half_up(x) -> int:
    if isinstance(x, int):
        return x
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# The fields a snapshot's record holds that its schema does not declare (kept, not judged): a
# mapping, empty or None when there are none. (A C-level getter: it runs on every record.)
extra_fields = operator.attrgetter("__pydantic_extra__")
fields_given = operator.attrgetter("__pydantic_fields_set__")


class NotInForce(LookupError):
    """A parameter read on a day that none of its values covers: (its name, the day)."""

    def __init__(self, name: str, day: dt.date):
        super().__init__(name, day)
        self.name = name
        self.day = day


def not_in_force(error: NotInForce) -> tuple:
    """(parameter, day) of the error, as a result of the rule that read it holds them."""
    return (error.name, error.day)


class Parameters(dict):
    """The parameters in force on one day, by name; reading one with no value that day raises
    NotInForce (with the name and the day)."""

    __slots__ = ("day",)

    def __init__(self, values: dict, day: dt.date):
        super().__init__(values)
        self.day = day

    def __missing__(self, name):
        raise NotInForce(name, self.day)
