"""The wake days of the watch: day order, then the order cases were scheduled in."""

from __future__ import annotations

import datetime as dt
import random

from rulebook.apps.watch.wakes import Wakes

D = dt.date(2021, 3, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def test_day_order_then_the_order_scheduled():
    wakes = Wakes()
    for case_id, n in [("b", 2), ("a", 1), ("c", 2), ("d", 5)]:
        wakes.schedule(case_id, day(n))
    assert list(wakes.due(day(2))) == [(day(1), "a"), (day(2), "b"), (day(2), "c")]
    assert len(wakes) == 1 and wakes.day_of("d") == day(5) and wakes.day_of("a") is None
    assert list(wakes.due(day(4))) == []


def test_a_case_rescheduled_comes_out_once_on_its_new_day():
    wakes = Wakes()
    wakes.schedule("a", day(1))
    wakes.schedule("b", day(3))
    wakes.schedule("a", day(4))
    wakes.schedule("b", None)  # never
    wakes.schedule("c", day(4))
    wakes.schedule("a", day(4))  # the day it has: keeps its place before c
    assert list(wakes.due(day(10))) == [(day(4), "a"), (day(4), "c")]


def test_a_case_back_on_a_day_it_had_takes_its_first_place_on_it():
    wakes = Wakes()
    wakes.schedule("a", day(4))
    wakes.schedule("b", day(4))
    wakes.schedule("a", day(6))
    wakes.schedule("a", None)
    wakes.schedule("a", day(4))  # its first entry for that day is still there, before b's
    assert list(wakes.due(day(10))) == [(day(4), "a"), (day(4), "b")]


def test_a_case_scheduled_again_while_waking_comes_out_in_its_turn():
    wakes = Wakes()
    wakes.schedule("a", day(1))
    wakes.schedule("b", day(3))
    seen = []
    for when, case_id in wakes.due(day(5)):
        seen.append((when, case_id))
        if case_id == "a" and when == day(1):
            wakes.schedule("a", day(2))  # before b
        elif case_id == "b":
            wakes.schedule("b", day(6))  # after the day asked
    assert seen == [(day(1), "a"), (day(2), "a"), (day(3), "b")]
    assert wakes.day_of("b") == day(6)


def test_many_reschedulings_keep_the_order_of_a_plain_model():
    """Against a model that keeps every entry: the heap, which drops the entries that cannot
    count as reschedulings pile up, gives the same cases in the same order."""
    rng = random.Random(7)
    wakes = Wakes()
    live: dict[str, dt.date] = {}
    first: dict[tuple[str, dt.date], int] = {}  # (case, day) → the order of its first entry
    for order in range(20_000):
        case_id = f"C-{rng.randrange(50)}"
        when = day(rng.randrange(1, 40)) if rng.random() < 0.9 else None
        wakes.schedule(case_id, when)
        if when is None:
            live.pop(case_id, None)
        elif live.get(case_id) != when:
            live[case_id] = when
            first.setdefault((case_id, when), order)
    assert len(wakes._heap) <= 2 * len(first)
    expected = sorted((when, first[(case_id, when)], case_id) for case_id, when in live.items())
    assert list(wakes.due(day(40))) == [(when, case_id) for when, _order, case_id in expected]


def test_a_case_moved_back_and_forth_leaves_no_trail():
    wakes = Wakes()
    for i in range(10_000):
        wakes.schedule("a", day(1 + i % 2))
    assert len(wakes._heap) <= 64
    assert list(wakes.due(day(2))) == [(day(2), "a")]
