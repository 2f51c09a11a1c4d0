"""checks: the cross-case check that needs more than a query — days on which an expert's steps
ask for more hours than a day holds — found in one sweep over the steps, O(n log n), and kept in
the ledger for the summary and the spreadsheet.

A step's hours are spread evenly over its days (start to completion). On each day one of an
expert's steps starts, the hours a day of every step of that expert running then add up; a day
over the bound is one finding (expert, day, hours, how many cases, the first few of them by
case id). Each step's hours a day are rounded to a millionth of an hour and then added up as
integers, exactly, so the findings do not depend on the order of the steps (nor on the number
of jobs)."""

from __future__ import annotations

import heapq
import itertools
import math
from fractions import Fraction
from operator import itemgetter

from sortedcontainers import SortedList

from .ledger import Ledger

CASES_SHOWN = 10  # the cases listed with a finding (the count says how many there are)
_MICRO = 10**6  # hours are added up in millionths of an hour
_BATCH = 4096


def _findings(ledger: Ledger, bound: float):
    """(expert, day, hours, number of cases, first cases) of every day over `bound`, by expert and day."""
    # The hours added up are whole millionths: over the bound is over its whole part (compared as
    # integers, not as fractions, once a day of each expert).
    limit = math.floor(Fraction(bound) * _MICRO)
    push, pop = heapq.heappush, heapq.heappop
    for expert, steps in itertools.groupby(ledger.steps_by_expert(_MICRO), key=itemgetter(0)):
        running: list = []  # (last day, order, millionths of an hour a day, case id): a heap by last day
        steps_of: dict = {}  # running steps per case
        cases = None  # the case ids of the running steps, sorted: made at the expert's first finding
        total = order = 0
        for day, starting in itertools.groupby(steps, key=itemgetter(1)):
            while running and running[0][0] < day:  # ISO days compare as days do
                _last, _order, per_day, case_id = pop(running)
                total -= per_day
                left = steps_of[case_id] - 1
                if left:
                    steps_of[case_id] = left
                else:
                    del steps_of[case_id]
                    if cases is not None:
                        cases.remove(case_id)
            for _expert, _first, last, per_day, case_id in starting:
                order += 1
                push(running, (last, order, per_day, case_id))
                total += per_day
                already = steps_of.get(case_id, 0)
                steps_of[case_id] = already + 1
                if not already and cases is not None:
                    cases.add(case_id)
            if total > limit:
                if cases is None:
                    cases = SortedList(steps_of)
                yield expert, day, round(total / _MICRO, 2), len(cases), list(cases.islice(0, CASES_SHOWN))


def find_implausible_hours(ledger: Ledger, bound: float) -> None:
    """Sweep the ledger's steps and keep every finding in it (`Ledger.implausible_hours`)."""
    ledger.clear_implausible_hours()
    found = _findings(ledger, bound)
    for batch in iter(lambda: list(itertools.islice(found, _BATCH)), []):
        ledger.keep_implausible_hours(batch)
