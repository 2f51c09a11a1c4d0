"""summary: what the ledger holds, added up — summary.json's content (`rulebook.audit-summary/v1`):
verdicts, counts per rule and status, money, people, and the cross-case checks: the findings of
every batch rule (`findings`), and the two checks of before (`duplicates`, `implausible_hours`)
as views of their rules' findings."""

from __future__ import annotations

import itertools
from pathlib import Path

from ...output.findings import section
from .checks import CASES_SHOWN, HOURS_PARAMETER, legacy_rule
from .ledger import LEDGER, Ledger
from .options import AuditError, Options
from .sheets import failed_rules

SUMMARY_FORMAT = "rulebook.audit-summary/v1"
SUMMARY_PEOPLE = 1000  # experts and SMEs listed in summary.json; experts.csv and smes.csv hold them all
# Every list of summary.json (and so of report.html) is bounded whatever the input: at most this
# many entries, each with at most CASES_SHOWN cases or places, and the count of them all
# beside; the spreadsheets hold every entry.
SUMMARY_LIST = 1000
PEOPLE_KEYS = ("name", "cases", "ineligible", "honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")
MONEY_KEYS = ("honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")


def build_summary(ledger: Ledger, options: Options, book, params: dict,
                  not_evaluated: dict | None = None, totals: dict | None = None) -> dict:
    """summary.json's content; `totals`: what `summary_totals` gave (made now if None)."""
    not_evaluated = not_evaluated or {}
    totals = totals if totals is not None else summary_totals(ledger, options, book)
    duplicates, duplicates_total = [], 0
    rule = legacy_rule(book, "duplicates")
    if rule is not None:
        for (case_id,), _cases, _count, _entry in ledger.findings(rule.index, SUMMARY_LIST, first_seen=True):
            where = [f"{o}:{ln}" for o, ln in ledger.places_of(case_id, CASES_SHOWN)]
            duplicates.append({"case_id": case_id, "count": ledger.count_of(case_id), "where": where})
        duplicates_total = ledger.finding_count(rule.index)
    hours, hours_total = [], 0
    rule = legacy_rule(book, "implausible_hours")
    if rule is not None:
        bound = hours_bound(params)
        hours = [{"expert": expert, "day": day, "hours": float(entry["figures"]["hours"]), "bound": bound, "cases": cases,
                  "case_count": count}
                 for (expert, day), cases, count, entry in ledger.findings(rule.index, SUMMARY_LIST)]
        hours_total = ledger.finding_count(rule.index)
    summary = {
        "format": SUMMARY_FORMAT,
        "rulebook": book.info(),
        "title": dict(book.plan.titles),
        "inputs": list(options.inputs),
        "as_of": options.as_of.isoformat() if options.as_of else None,
        **{key: totals[key] for key in ("cases", "errors", "verdicts", "rules", "money", "experts", "experts_total",
                                        "smes", "smes_total")},
        "duplicates": duplicates,
        "duplicates_total": duplicates_total,
        "implausible_hours": hours,
        "implausible_hours_total": hours_total,
        "findings": [section(r, [entry for _key, _cases, _count, entry in ledger.findings(r.index, SUMMARY_LIST)],
                             ledger.finding_count(r.index), not_evaluated.get(r.id)) for r in book.plan.batch_rules],
        "top_cases": totals["top_cases"],
        "since": totals["since"],
    }
    return summary


def summary_totals(ledger: Ledger, options: Options, book, people: bool = True) -> dict:
    """The part of summary.json that needs no finding of the batch rules (made while they are
    searched for, `checks.Search`): counts, money, people (not with `people` False: what
    `people_totals` gives, made apart), the top cases, and with --since what changed."""
    verdicts = dict.fromkeys(("eligible", "incomplete", "ineligible"), 0)
    for verdict, n in ledger.verdict_counts():
        verdicts[verdict] = n
    counts = {(rule, status): n for rule, status, n in ledger.status_counts()}
    rules = []
    for entry in book.catalogue():
        row = {"rule": entry["rule"], "title": entry["title"], "stage": entry["stage"]}
        for status in ("pass", "fail", "pending", "not_applicable"):
            row[status] = counts.get((entry["rule"], status), 0)
        rules.append(row)
    due, stake, claimed = ledger.money()
    top = []
    for row in ledger.top_cases(options.top):
        case_id, verdict, failed, due_, stake_, claimed_, expert, sme, origin, line = row
        top.append({"case_id": case_id, "verdict": verdict, "failed": failed_rules(failed),
                    "honorarium_due_jpy": due_, "honorarium_at_stake_jpy": stake_, "claimed_jpy": claimed_,
                    "expert": expert, "sme": sme, "where": f"{origin}:{line}"})
    return {
        "cases": sum(verdicts.values()),
        "errors": ledger.error_count(),
        "verdicts": verdicts,
        "rules": rules,
        "money": dict(zip(MONEY_KEYS, (due, stake, claimed))),
        **({**people_totals(ledger, "expert"), **people_totals(ledger, "sme")} if people else {}),
        "top_cases": top,
        "since": _since(ledger, options.since) if options.since else None,
    }


PEOPLE = {"expert": "experts", "sme": "smes"}  # the ledger's column → summary.json's key


def people_totals(ledger: Ledger, column: str) -> dict:
    """summary.json's part of the totals per expert or per SME: the first SUMMARY_PEOPLE, and how
    many there are."""
    key = PEOPLE[column]
    return {key: [dict(zip(PEOPLE_KEYS, row)) for row in ledger.people(column, SUMMARY_PEOPLE)],
            f"{key}_total": ledger.people_count(column)}


def hours_bound(params: dict) -> float:
    """The bound of the implausible hours, as summary.json and hours.csv have always written it."""
    return float(params.get(HOURS_PARAMETER, 24))


def new_failures(failed_now: str, failed_before: str) -> list[tuple[str, str]]:
    """(rule, subject) of the failed results now that did not fail before, sorted."""
    return [tuple(item.partition("@")[::2]) for item in sorted(set(failed_now.split()) - set(failed_before.split()))]


def previous_ledger(previous: Path) -> Path:
    """The ledger of the earlier audit that --since names."""
    path = previous / LEDGER
    if not path.exists():
        raise AuditError(f"`{previous}` には比べる以前の監査がありません",
                         f"`{previous}` holds no earlier audit to compare with")
    return path


def _since(ledger: Ledger, previous: Path) -> dict:
    ledger.attach(previous_ledger(previous))
    try:
        changed = [{"case_id": cid, "from": a, "to": b} for cid, a, b in ledger.changed_verdicts(SUMMARY_LIST)]
        failures = ({"case_id": cid, "rule": rule, "subject": subject}
                    for cid, now_failed, old_failed in ledger.failures_then_and_now()
                    for rule, subject in new_failures(now_failed, old_failed))
        first = list(itertools.islice(failures, SUMMARY_LIST))
        failures_total = len(first) + sum(1 for _ in failures)
        now, old = ledger.money(), ledger.money("before")
        new_cases = ledger.new_case_count()
        changed_total = ledger.changed_count()
    finally:
        ledger.detach()
    return {"previous": str(previous), "new_cases": new_cases, "changed": changed, "changed_total": changed_total,
            "new_failures": first, "new_failures_total": failures_total,
            "money_moved": {k: a - b for k, a, b in zip(MONEY_KEYS, now, old)}}
