"""wakes: the day each case is next to be woken (a wake day or a reminder's), in day order.

A heap of (day, order, case_id): cases due on the same day come out in the order they took
their place. Scheduling a case on another day pushes a new entry and leaves the old one in the
heap, to be skipped when it comes out if the case is not due that day by then; a case scheduled
again on a day it already has an entry for comes out in that entry's place. Only the first
entry of a case for a day can ever count, so when the heap grows, the others are dropped: it
holds at most one entry for each case and day still to come, whatever the reschedulings.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from typing import Iterator


class Wakes:
    def __init__(self) -> None:
        self._heap: list[tuple[dt.date, int, str]] = []
        self._day: dict[str, dt.date] = {}  # case_id → the day it is next to be woken
        self._order = itertools.count()
        self._limit = 64  # the heap's size that makes it drop what cannot count

    def schedule(self, case_id: str, day: dt.date | None) -> None:
        """Wake the case on `day` (None: never), instead of any day it had."""
        if day is None:
            self._day.pop(case_id, None)
            return
        if self._day.get(case_id) == day:
            return
        self._day[case_id] = day
        heapq.heappush(self._heap, (day, next(self._order), case_id))
        if len(self._heap) > self._limit:
            first: dict[tuple[str, dt.date], tuple] = {}
            for entry in self._heap:
                key = (entry[2], entry[0])
                if key not in first or entry[1] < first[key][1]:
                    first[key] = entry
            self._heap = list(first.values())
            heapq.heapify(self._heap)
            self._limit = max(64, 2 * len(self._heap))

    def due(self, day: dt.date) -> Iterator[tuple[dt.date, str]]:
        """(day, case_id) of every case to wake on or before `day`, in order, each taken off
        the schedule as it comes out; a case the caller schedules again meanwhile for a day not
        after `day` comes out too, in its turn."""
        while self._heap and self._heap[0][0] <= day:  # (the caller may rebuild the heap meanwhile)
            when, _order, case_id = heapq.heappop(self._heap)
            if self._day.get(case_id) != when:
                continue  # scheduled on another day since, or not at all
            del self._day[case_id]
            yield when, case_id

    def day_of(self, case_id: str) -> dt.date | None:
        return self._day.get(case_id)

    def __len__(self) -> int:
        return len(self._day)
