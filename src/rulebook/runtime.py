"""What compiled rules call at run time: the few operations that are more than
one Python operator, and the evaluation context of one case."""

from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import ROUND_HALF_UP, Decimal

from .calendar import add_business_days, add_days

__all__ = ["UNSET", "days", "add_days", "add_business_days", "divide", "floor", "ceil",
           "round_half_up", "ParameterMissing"]


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


class ParameterMissing(KeyError):
    """A parameter with no value in force on the day asked."""


def divide(a, b):
    return Decimal(a) / Decimal(b)


def floor(x) -> int:
    return x if isinstance(x, int) else math.floor(x)


def ceil(x) -> int:
    return x if isinstance(x, int) else math.ceil(x)


def round_half_up(x) -> int:
    if isinstance(x, int):
        return x
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))
