"""Properties of watching: the same answer as batch, and time handled by the rules' own dates."""

from __future__ import annotations

import copy
import datetime as dt
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samples import case_history, make_case
from rulebook.input.snapshot import Rejected, set_path, unset_path
from rulebook.apps.watch import Watcher

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decided(book, case, day):
    outcome = book.evaluate(case, day)
    return [(r[0], r[1], r[3]) for r in outcome.results]


@SETTINGS
@given(seed=st.integers(0, 10**6), span=st.integers(1, 200))
def test_nothing_changes_before_next_change(book, seed, span):
    """No result changes its deciding clause between the as-of date and `next_change`."""
    case = book.validate(make_case(random.Random(seed), seed)).case
    day = case.as_of
    first = decided(book, case, day)
    wake = book.next_change(book.evaluate(case, day))
    for offset in range(1, span + 1):
        later = day + dt.timedelta(days=offset)
        if wake is not None and later >= wake:
            break
        assert decided(book, case, later) == first, (later, wake)


def _damage(rng: random.Random, changes: dict) -> dict:
    """An event gone wrong: a value of the wrong type, or a date that breaks an order."""
    path = rng.choice(sorted(changes))
    return {path: rng.choice(["soon", 12, True, "2019-01-01"])}


@SETTINGS
@given(seed=st.integers(0, 10**6), cases=st.integers(1, 5), damage=st.floats(0, 0.3),
       tail=st.integers(0, 120), remind=st.integers(0, 5))
def test_replay_gives_the_statuses_of_check(book, seed, cases, damage, tail, remind):
    """After replaying a generated log, every case's statuses equal `check` on its final snapshot
    on the day the log ends; refused events change nothing."""
    rng = random.Random(seed)
    entries = []
    for i in range(cases):
        case = make_case(rng, i)
        for order, (day, snapshot, changes) in enumerate(case_history(case, rng, extra=rng.randint(0, 3))):
            event = {"case_id": case["case_id"], "at": day.isoformat()}
            if snapshot is not None:
                event["snapshot"] = snapshot
            if changes:
                event["set"] = _damage(rng, changes) if rng.random() < damage else changes
            entries.append((day, i, order, event))
    entries.sort(key=lambda item: item[:3])
    events = [event for *_key, event in entries]
    last = dt.date.fromisoformat(events[-1]["at"]) + dt.timedelta(days=tail)
    events.append({"case_id": events[0]["case_id"], "at": last.isoformat(), "set": {"sme.name": "最後"}})

    watcher = Watcher(book, remind_days=remind)
    expected: dict[str, dict] = {}
    for number, event in enumerate(events, 1):
        got = watcher.feed(event, "log", number)
        refused = [item for item in got if item["format"] == "rulebook.error/v1"]
        case_id = event["case_id"]
        base = event.get("snapshot") or expected.get(case_id)
        candidate = copy.deepcopy(base) if base is not None else None
        if candidate is not None:
            candidate["as_of"] = event["at"]
            try:
                for path, value in event.get("set", {}).items():
                    (unset_path(candidate, path) if value is None else set_path(candidate, path, value))
                book.validate(candidate)
                valid = True
            except (ValueError, Rejected):
                valid = False
        else:
            valid = False
        assert bool(refused) != valid, (number, event, refused)
        if valid:
            expected[case_id] = candidate
        for item in got:
            assert item["format"] == "rulebook.error/v1" or item["case_id"] in expected

    for case_id, snapshot in expected.items():
        verdict = book.judge(snapshot, as_of=last)
        want = {(r["rule"], r["subject"]): r["status"] for r in verdict["results"]}
        assert watcher.standing(case_id) == want, case_id


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
PATHS = st.sampled_from(["steps[0].hours", "steps[0].photos[0].shows_sme", "steps[5].hours", "sme", "plan.steps",
                         "claim.honorarium_jpy", "steps", "steps[0]", "as_of", "format", "x.y", "steps[0].x",
                         "", "steps[", "steps[-1].hours", "lancers.method"])


@SETTINGS
@given(events=st.lists(
    st.fixed_dictionaries({"case_id": st.sampled_from(["G-0000000", "G-0000001", 7, None]),
                           "at": st.sampled_from(["2021-01-01", "2021-06-30T10:00:00", "2020-12-31", "1-1-1", None])},
                          optional={"set": st.dictionaries(PATHS | st.text(max_size=10), JSON, max_size=3),
                                    "snapshot": JSON, "extra": JSON}) | JSON,
    max_size=12))
def test_any_event_gives_alerts_or_error_lines(book, events):
    """Whatever a log holds, the watcher answers each line with alerts or error lines, never an
    exception, and everything it answers can be written as JSON, as `rulebook watch` writes it
    (an integer wider than 64 bits, say, exactly)."""
    from rulebook.input.snapshot import dumps_json

    watcher = Watcher(book)
    rng = random.Random(0)
    for i in range(2):
        case = make_case(rng, i)
        watcher.feed({"case_id": case["case_id"], "at": "2021-01-01", "snapshot": case})
    for number, event in enumerate(events, 1):
        for item in watcher.feed(event, "fuzz", number):
            assert item["format"] in ("rulebook.alert/v1", "rulebook.error/v1")
            dumps_json(item)
