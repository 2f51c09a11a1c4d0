"""wakes: the day each case is next to be woken (a wake day or a reminder's), in day order.

A heap of (day, order, case_id): cases due on the same day come out in the order they were
scheduled. Rescheduling a case pushes a new entry and leaves the old one to be skipped when
it comes out; when skipped entries outnumber the live ones the heap is rebuilt from the live
ones (same days, same order), so its size follows the cases scheduled, not the reschedulings.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from typing import Iterator


class Wakes:
    def __init__(self) -> None:
        self._heap: list[tuple[dt.date, int, str]] = []
        self._next: dict[str, tuple[dt.date, int]] = {}  # case_id → its live entry
        self._order = itertools.count()

    def schedule(self, case_id: str, day: dt.date | None) -> None:
        """Wake the case on `day` (None: never), instead of any day it had."""
        if day is None:
            self._next.pop(case_id, None)
            return
        held = self._next.get(case_id)
        if held is not None and held[0] == day:
            return
        entry = (day, next(self._order))
        self._next[case_id] = entry
        heapq.heappush(self._heap, (*entry, case_id))
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._next):
            self._heap = [(*entry, case) for case, entry in self._next.items()]
            heapq.heapify(self._heap)

    def due(self, day: dt.date) -> Iterator[tuple[dt.date, str]]:
        """(day, case_id) of every case to wake on or before `day`, in day order, each taken off
        the schedule as it comes out; a case the caller schedules again meanwhile for a day not
        after `day` comes out too, in its turn."""
        live = self._next
        while self._heap and self._heap[0][0] <= day:  # (the caller may rebuild the heap meanwhile)
            when, order, case_id = heapq.heappop(self._heap)
            if live.get(case_id) != (when, order):
                continue  # rescheduled since
            del live[case_id]
            yield when, case_id

    def day_of(self, case_id: str) -> dt.date | None:
        held = self._next.get(case_id)
        return held[0] if held is not None else None

    def __len__(self) -> int:
        return len(self._next)
