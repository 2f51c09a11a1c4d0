"""The alert comparison on its own: an old standing and new results → alerts, a new standing."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from rulebook.apps.watch.alerts import compare, statuses


@pytest.fixture
def awaiting(book, seed):
    """The worked example, its first step reported complete and its report not yet in, judged
    on the completion day: (validated snapshot, that day)."""
    seed = orjson.loads(orjson.dumps(seed, default=str))
    seed["steps"][0].pop("report_submitted_on")
    completed = dt.date.fromisoformat(seed["steps"][0]["completion_reported_on"])
    return book.validate(seed).case, completed


def judged(book, case, day):
    return book.evaluate(case, day)


def test_first_judging_tells_what_is_to_be_done(book, awaiting):
    case, day = awaiting
    got = compare(book, case.case_id, judged(book, case, day), "label", {}, {})
    kinds = {(a["rule"], a["subject"]): (a["kind"], a["from"], a["to"]) for a in got.items}
    # Only what fails or is pending is news the first time: the report (within 10 days, and by
    # the first period's last day), and the payment capture of the last step (the case's many
    # passing requirements are not).
    assert kinds == {("step.report-deadline", "step:1"): ("change", None, "pending"),
                     ("step.program-period", "step:1"): ("change", None, "pending"),
                     ("final.payment-capture", "step:1"): ("change", None, "pending")}
    assert all(a["at"] == "label" and a["case_id"] == case.case_id for a in got.items)
    last_day = day + dt.timedelta(days=10)
    assert got.deadlines == {"step.report-deadline|step:1": last_day.toordinal(),
                             "step.program-period|step:1": dt.date(2021, 2, 28).toordinal()}
    assert statuses(book, got.standing) == {(r["rule"], r["subject"]): r["status"]
                                            for r in book.judge(case, as_of=day)["results"]}


def test_the_same_results_again_give_nothing(book, awaiting):
    case, day = awaiting
    first = compare(book, case.case_id, judged(book, case, day), "1", {}, {})
    standing, due = dict(first.standing), dict(first.deadlines)
    again = compare(book, case.case_id, judged(book, case, day + dt.timedelta(days=1)), "2",
                    first.standing, first.deadlines)
    assert again.items == [] and again.standing == first.standing and again.deadlines == first.deadlines
    assert (first.standing, first.deadlines) == (standing, due)  # its inputs are left as they were


def test_a_deadline_passing_and_a_moved_due_date(book, awaiting):
    case, day = awaiting
    first = compare(book, case.case_id, judged(book, case, day), "1", {}, {})
    later = day + dt.timedelta(days=11)
    late = compare(book, case.case_id, judged(book, case, later), "late", first.standing, first.deadlines)
    assert [(a["rule"], a["from"], a["to"]) for a in late.items] == [
        ("claim.honorarium", "pass", "fail"), ("step.report-deadline", "pending", "fail"),
        ("step.program-period", "pending", "fail")]
    assert late.deadlines == {}
    # The same standing, but it remembered another due date: a `due` alert with the day it has now.
    moved = {key: due - 4 for key, due in first.deadlines.items()}
    got = compare(book, case.case_id, judged(book, case, day), "moved", first.standing, moved)
    assert [(a["kind"], a["from"], a["to"], a["due"]) for a in got.items] == [
        ("due", "pending", "pending", (day + dt.timedelta(days=10)).isoformat()),
        ("due", "pending", "pending", "2021-02-28")]
