"""summary: what the ledger holds, added up — summary.json's content (`rulebook.audit-summary/v1`):
verdicts, counts per rule and status, money, people, and the cross-case checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .ledger import LEDGER, Ledger
from .options import AuditError, Options

SUMMARY_FORMAT = "rulebook.audit-summary/v1"
SUMMARY_PEOPLE = 1000  # experts and SMEs listed in summary.json; experts.csv and smes.csv hold them all
PEOPLE_COLUMNS = ("name", "cases", "ineligible", "honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")
MONEY_KEYS = ("honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")


def _implausible_hours(ledger: Ledger, bound: float) -> list[dict]:
    """Days on which an expert's steps ask for more hours than a day holds.

    A step's hours are spread evenly over its days (start to completion); on the day a
    step starts, the hours a day of every step of the same expert running then add up."""
    out = []
    current, active = None, []
    for expert, first, last, hours, case_id in ledger.steps_by_expert():
        if expert != current:
            current, active = expert, []
        first_day = dt.date.fromisoformat(first)
        last_day = dt.date.fromisoformat(last)
        per_day = hours / ((last_day - first_day).days + 1)
        active = [a for a in active if a[0] >= first_day]
        active.append((last_day, per_day, case_id))
        total = sum(a[1] for a in active)
        if total > bound:
            out.append({"expert": expert, "day": first, "hours": round(total, 2), "bound": bound,
                        "cases": sorted({a[2] for a in active})})
    return out


def failed_rules(failed: str) -> list[str]:
    """The rules of a ledger's failed results ("rule@subject" joined by spaces), sorted."""
    return sorted({f.split("@")[0] for f in failed.split()}) if failed else []


def build_summary(ledger: Ledger, options: Options) -> dict:
    from ...book import load

    book = load(options.rules)
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
    duplicates = []
    for case_id, n in ledger.duplicates():
        where = [f"{o}:{ln}" for o, ln in ledger.places_of(case_id)]
        duplicates.append({"case_id": case_id, "count": n, "where": where})
    top = []
    for row in ledger.top_cases(options.top):
        case_id, verdict, failed, due_, stake_, claimed_, expert, sme, origin, line = row
        top.append({"case_id": case_id, "verdict": verdict, "failed": failed_rules(failed),
                    "honorarium_due_jpy": due_, "honorarium_at_stake_jpy": stake_, "claimed_jpy": claimed_,
                    "expert": expert, "sme": sme, "where": f"{origin}:{line}"})
    summary = {
        "format": SUMMARY_FORMAT,
        "rulebook": book.info(),
        "title": dict(book.plan.titles),
        "inputs": list(options.inputs),
        "as_of": options.as_of.isoformat() if options.as_of else None,
        "cases": sum(verdicts.values()),
        "errors": ledger.error_count(),
        "verdicts": verdicts,
        "rules": rules,
        "money": dict(zip(MONEY_KEYS, (due, stake, claimed))),
        "experts": [dict(zip(PEOPLE_COLUMNS, row)) for row in ledger.people("expert", SUMMARY_PEOPLE)],
        "experts_total": ledger.people_count("expert"),
        "smes": [dict(zip(PEOPLE_COLUMNS, row)) for row in ledger.people("sme", SUMMARY_PEOPLE)],
        "smes_total": ledger.people_count("sme"),
        "duplicates": duplicates,
        "implausible_hours": _implausible_hours(ledger, options.hours_bound),
        "top_cases": top,
        "since": _since(ledger, options.since) if options.since else None,
    }
    return summary


def _since(ledger: Ledger, previous: Path) -> dict:
    path = previous / LEDGER
    if not path.exists():
        raise AuditError(f"`{previous}` holds no earlier audit to compare with")
    ledger.attach(path)
    try:
        changed = [{"case_id": cid, "from": a, "to": b} for cid, a, b in ledger.changed_verdicts()]
        new_failures = []
        for cid, now_failed, old_failed in ledger.failures_then_and_now():
            for item in sorted(set(now_failed.split()) - set(old_failed.split())):
                rule, _, subject = item.partition("@")
                new_failures.append({"case_id": cid, "rule": rule, "subject": subject})
        now, old = ledger.money(), ledger.money("before")
        new_cases = ledger.new_case_count()
    finally:
        ledger.detach()
    return {"previous": str(previous), "new_cases": new_cases, "changed": changed, "new_failures": new_failures,
            "money_moved": {k: a - b for k, a, b in zip(MONEY_KEYS, now, old)}}
