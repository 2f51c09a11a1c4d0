"""alerts: a case's old standing and its new results → the alerts they give. Pure: no session,
no clock, nothing kept between calls.

A standing is what the watcher remembers of a case between judgings: one letter per rule
for each subject (see LETTER; "." where the rule gives no result for that subject), and the
due date of each pending result that has one, as a day number, by "rule|subject".
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ...book import Rulebook
from ...engine.evaluate import CLAUSE, NOT_IN_FORCE, RULE, SUBJECT, Evaluation, EvaluationError
from ...input.errors import InputError, Rejected
from ...input.messages import said
from ...input.snapshot import jsonable

ALERT_FORMAT = "rulebook.alert/v1"
LETTER = {"pass": "p", "fail": "f", "pending": "w", "not_applicable": "n"}
STATUS_OF = {letter: status for status, letter in LETTER.items()}


class Comparison(NamedTuple):
    items: list[dict]  # alerts, and error lines for texts that could not be computed, in order
    standing: dict[str, str]  # subject → one letter per rule
    deadlines: dict[str, int]  # "rule|subject" → the day number a pending result is due


def compare(book: Rulebook, case_id: str, outcome: Evaluation, label: str,
            standing: dict[str, str], due: dict[str, int]) -> Comparison:
    """The alerts of a case judged anew (`outcome`) against what it was (`standing`, `due`):
    a `change` for each requirement whose status changed (one seen for the first time only
    when it fails or is pending), a `due` for one still pending by another last day. `label`
    is the time the alerts show."""
    rules = book.plan.rules
    letters, dated, empty = _table(book.plan)
    items: list[dict] = []
    rows: dict[str, list] = {}
    deadlines: dict[str, int] = {}
    for result in outcome.results:
        index, subject, clause = result[RULE], result[SUBJECT], result[CLAUSE]
        letter = letters[index][clause]  # (NOT_IN_FORCE, -1: the last letter, "n")
        row = rows.get(subject)
        if row is None:
            row = rows[subject] = list(empty)
        row[index] = letter
        before = standing.get(subject)
        was = before[index] if before is not None else "."
        # A requirement seen for the first time is news only when something is to be done.
        changed = was != letter and not (was == "." and letter in "pn")
        if not changed and not dated[index][clause]:
            continue
        rule_id = rules[index].id
        due_date = None
        try:
            if changed:
                status, message, fix, due_date = book.describe(outcome, result)
                items.append(alert(case_id, label, "change", rule_id, subject, STATUS_OF.get(was), status,
                                   message, fix, due_date))
            else:  # still pending, by a last day
                due_date = book.due(outcome, result)
                if due_date is not None and due.get(key_of(rule_id, subject), due_date.toordinal()) \
                        != due_date.toordinal():
                    # Still pending, by another last day (its completion day corrected, say).
                    status, message, fix, due_date = book.describe(outcome, result)
                    items.append(alert(case_id, label, "due", rule_id, subject, STATUS_OF.get(was), status,
                                       message, fix, due_date))
        except EvaluationError as error:
            # The status stands; its explanation (or due date) could not be computed.
            items.append(could_not(case_id, label, error))
        if letter == "w" and due_date is not None:
            deadlines[key_of(rule_id, subject)] = due_date.toordinal()
    return Comparison(items, {subject: "".join(row) for subject, row in rows.items()}, deadlines)


_tables: dict[int, tuple] = {}


def _table(plan) -> tuple:
    """For each rule, by clause index (the last two entries for NO_VALUE, -2, a parameter with no
    value on its day: a failure, and NOT_IN_FORCE, -1): the letter of its status, and whether it is
    pending with a due date; and the standing of a subject no rule judged."""
    held = _tables.get(id(plan))
    if held is None or held[0] is not plan:
        letters = tuple(tuple(LETTER[c.status] for c in rule.clauses) + ("f", "n") for rule in plan.rules)
        dated = tuple(tuple(c.status == "pending" and c.due is not None for c in rule.clauses) + (False, False)
                      for rule in plan.rules)
        if len(_tables) >= 8:
            _tables.clear()
        held = _tables[id(plan)] = (plan, (letters, dated, "." * len(plan.rules)))
    return held[1]


def remind(book: Rulebook, case_id: str, outcome: Evaluation, key: str) -> list[dict]:
    """The reminder of one pending requirement ("rule|subject") of a case judged on the day
    of the reminder (nothing if the case no longer has that requirement)."""
    rule_id, subject = key.split("|", 1)
    index = next(rule.index for rule in book.plan.rules if rule.id == rule_id)
    label = outcome.as_of.isoformat()
    try:
        for result in outcome.results:
            if result[RULE] == index and result[SUBJECT] == subject:
                status, message, fix, due_date = book.describe(outcome, result)
                return [alert(case_id, label, "reminder", rule_id, subject, status, status, message, fix, due_date)]
    except EvaluationError as error:
        return [could_not(case_id, label, error)]
    return []


def statuses(book: Rulebook, standing: dict[str, str]) -> dict[tuple[str, str], str]:
    """A standing as the status of every (rule, subject)."""
    rules = book.plan.rules
    return {(rules[index].id, subject): STATUS_OF[letter]
            for subject, letters in standing.items()
            for index, letter in enumerate(letters) if letter != "."}


def key_of(rule_id: str, subject: str) -> str:
    return f"{rule_id}|{subject}"


def alert(case_id: str, at: str, kind: str, rule: str, subject: str, was: str | None, status: str,
          message: dict, fix: dict | None, due: dt.date | None) -> dict:
    """One `rulebook.alert/v1`."""
    return {"format": ALERT_FORMAT, "case_id": case_id, "at": at, "kind": kind, "rule": rule,
            "subject": subject, "from": was, "to": status, "message": message, "fix": fix,
            "due": due.isoformat() if due is not None else None}


def could_not(case_id: str, label: str, error: EvaluationError) -> dict:
    """The error line of a case the rulebook could not judge or explain on a day (a custom
    rulebook's parameter with no value in force, a division by zero…): the watch goes on."""
    return error_line(Rejected(case_id, [InputError(
        "", said("not_judged_on", day=label, reason=error.message, code=error.code))]))


def error_line(rejected: Rejected, origin: str | None = None, line: int | None = None) -> dict:
    """A `rulebook.error/v1` line, its values made JSON."""
    rejected.origin = origin if origin is not None else rejected.origin
    rejected.line = line if line is not None else rejected.line
    out = rejected.to_dict()
    for error in out["errors"]:
        error["value"] = jsonable(error["value"])
    return out
