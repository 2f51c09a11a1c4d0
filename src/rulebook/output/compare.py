"""compare: the same cases judged twice → what changed (`rulebook diff`, `rulebook.diff/v1`); two
rulebooks' syntax → which rules and parameters differ. Pure functions and plain data: the
command reads, judges and writes; this says what differs.

A case changes when its verdict changes, when the status of one of its (rule, subject) results
changes (a result only one side has counts, its other status is null), or when an amount of its
payout moves. A case that is not valid input on one side has the verdict `invalid` there, and no
money on that side. Totals add up every case: verdicts from → to, each rule's statuses on both
sides and the changes of status, the money on both sides (over the cases judged on both), and
the cases where the most money moved.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import Counter
from dataclasses import dataclass, field

from ..language import syntax as s

DIFF_FORMAT = "rulebook.diff/v1"
INVALID = "invalid"
VERDICTS = ("eligible", "incomplete", "ineligible", INVALID)
STATUSES = ("pass", "fail", "pending", "not_applicable")
DUE, AT_STAKE = "honorarium_jpy", "honorarium_at_stake_jpy"


def verdict_of(judged: dict) -> str:
    return judged["verdict"] if judged.get("format") == "rulebook.verdict/v1" else INVALID


def statuses_of(judged: dict) -> dict:
    """(rule, subject) → status of a verdict, in the verdict's order (nothing for an error)."""
    return {(r["rule"], r["subject"]): r["status"] for r in judged.get("results") or ()}


def amounts_of(judged: dict) -> dict:
    """The case's amounts of money (the payout but its steps), or {} for an error."""
    payout = judged.get("payout") or {}
    return {name: value for name, value in payout.items() if name != "steps" and _is_amount(value)}


def _is_amount(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare_case(old: dict, new: dict) -> dict | None:
    """What changed for one case between two judgements (each `rulebook.verdict/v1`, full or
    compact, or `rulebook.error/v1`), or None when nothing did."""
    before, after = statuses_of(old), statuses_of(new)
    results = [{"rule": key[0], "subject": key[1], "from": before.get(key), "to": after.get(key)}
               for key in list(after) + [k for k in before if k not in after] if before.get(key) != after.get(key)]
    money = {}
    if verdict_of(old) != INVALID and verdict_of(new) != INVALID:
        old_amounts, new_amounts = amounts_of(old), amounts_of(new)
        for name in list(new_amounts) + [n for n in old_amounts if n not in new_amounts]:
            a, b = old_amounts.get(name), new_amounts.get(name)
            if a != b:
                money[name] = {"from": a, "to": b, "change": None if a is None or b is None else b - a}
    verdict = {"from": verdict_of(old), "to": verdict_of(new)}
    if verdict["from"] == verdict["to"] and not results and not money:
        return None
    return {"case_id": new.get("case_id") or old.get("case_id"), "verdict": verdict, "results": results,
            "money": money}


def explain_change(change: dict, old: dict, new: dict) -> dict:
    """The change with the explanation of both sides: for each result that changed, its title,
    message and fix before and after; for a side that is not valid input, its errors."""
    texts = {}
    for side, judged in (("from", old), ("to", new)):
        for r in judged.get("results") or ():
            entry = texts.setdefault((r["rule"], r["subject"]), {"title": r.get("title")})
            entry[side] = {"message": r.get("message"), "fix": r.get("fix"), "due": r.get("due")}
    results = []
    for r in change["results"]:
        entry = texts.get((r["rule"], r["subject"]), {})
        results.append({**r, "title": entry.get("title"), "explanation": {"from": entry.get("from"),
                                                                          "to": entry.get("to")}})
    out = {**change, "results": results}
    errors = {side: judged["errors"] for side, judged in (("from", old), ("to", new)) if verdict_of(judged) == INVALID}
    if errors:
        out["errors"] = errors
    return out


# ------------------------------------------------------------------- totals


@dataclass
class Totals:
    """Counts over every case compared; two Totals add up (one per chunk of cases)."""

    cases: int = 0
    changed: int = 0
    verdicts: Counter = field(default_factory=Counter)  # (from, to) → cases
    statuses: Counter = field(default_factory=Counter)  # (rule, side, status) → results
    changes: Counter = field(default_factory=Counter)  # (rule, from, to) → results that changed
    money: Counter = field(default_factory=Counter)  # (amount, side) → sum over cases judged on both sides
    judged_both: int = 0

    def add(self, old: dict, new: dict, change: dict | None) -> None:
        self.cases += 1
        self.verdicts[(verdict_of(old), verdict_of(new))] += 1
        for side, judged in (("from", old), ("to", new)):
            for (rule, _subject), status in statuses_of(judged).items():
                self.statuses[(rule, side, status)] += 1
        if verdict_of(old) != INVALID and verdict_of(new) != INVALID:
            self.judged_both += 1
            for side, judged in (("from", old), ("to", new)):
                for name, value in amounts_of(judged).items():
                    self.money[(name, side)] += value
        if change is not None:
            self.changed += 1
            for r in change["results"]:
                self.changes[(r["rule"], r["from"], r["to"])] += 1

    def __iadd__(self, other: "Totals") -> "Totals":
        self.cases += other.cases
        self.changed += other.changed
        self.judged_both += other.judged_both
        for name in ("verdicts", "statuses", "changes", "money"):
            getattr(self, name).update(getattr(other, name))
        return self

    def to_dict(self, rule_order: list[str], top: list[dict]) -> dict:
        """The totals of `rulebook.diff/v1`: rules in the order given (the new rulebook's, then
        the old one's), then any other in the order of their ids."""
        rules_seen = {rule for rule, _side, _status in self.statuses} | {rule for rule, _a, _b in self.changes}
        order = [r for r in dict.fromkeys(rule_order) if r in rules_seen] + sorted(rules_seen - set(rule_order))
        rules = []
        for rule in order:
            changes = sorted(((a, b, n) for (r, a, b), n in self.changes.items() if r == rule),
                             key=lambda item: (-item[2], _rank(item[0]), _rank(item[1])))
            rules.append({
                "rule": rule,
                "from": {st: self.statuses[(rule, "from", st)] for st in STATUSES},
                "to": {st: self.statuses[(rule, "to", st)] for st in STATUSES},
                "changes": [{"from": a, "to": b, "results": n} for a, b, n in changes],
            })
        first = {DUE: 0, AT_STAKE: 1}
        names = list(dict.fromkeys(name for name, _side in sorted(self.money, key=lambda k: (first.get(k[0], 2), k[0]))))
        money = {name: {"from": self.money[(name, "from")], "to": self.money[(name, "to")],
                        "change": self.money[(name, "to")] - self.money[(name, "from")]} for name in names}
        verdicts = [{"from": a, "to": b, "cases": n}
                    for (a, b), n in sorted(self.verdicts.items(), key=lambda kv: (VERDICTS.index(kv[0][0]),
                                                                                    VERDICTS.index(kv[0][1])))]
        return {"cases": self.cases, "changed": self.changed, "judged_on_both_sides": self.judged_both,
                "verdicts": verdicts, "rules": rules, "money": money, "top": top}


def _rank(status) -> int:
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)


class TopCases:
    """The `limit` cases where the most money moved (honorarium due, then at stake), in a heap:
    ties go to the earlier case, so the list does not depend on how the work was shared out."""

    def __init__(self, limit: int):
        self.limit = limit
        self.heap: list = []

    @staticmethod
    def weight(change: dict) -> tuple:
        money = change.get("money") or {}
        return (abs(money.get(DUE, {}).get("change") or 0), abs(money.get(AT_STAKE, {}).get("change") or 0))

    def offer(self, seq: int, change: dict) -> None:
        due, stake = self.weight(change)
        if not (due or stake) or self.limit <= 0:
            return
        item = (due, stake, -seq, change)
        if len(self.heap) < self.limit:
            heapq.heappush(self.heap, item)
        elif item[:3] > self.heap[0][:3]:
            heapq.heapreplace(self.heap, item)

    def cases(self) -> list[dict]:
        return [item[3] for item in sorted(self.heap, key=lambda item: item[:3], reverse=True)]


# ------------------------------------------------------------- the rulebooks


def compare_rulebooks(old: list[s.File], new: list[s.File], old_day: dt.date | None = None,
                      new_day: dt.date | None = None) -> dict:
    """Which rules were added, removed or changed (a change of layout or comments is none), which
    parameters' dated values differ, which other declarations changed; and, given the two days the
    cases are judged on, the parameters whose value in force differs between them."""
    old_decls, new_decls = _decls(old), _decls(new)
    rules = {"added": [], "removed": [], "changed": []}
    old_rules, new_rules = old_decls.get("rule", {}), new_decls.get("rule", {})
    for rid, decl in new_rules.items():
        if rid not in old_rules:
            rules["added"].append(_rule_entry(decl))
        elif s.plain(decl) != s.plain(old_rules[rid]):
            rules["changed"].append(_rule_entry(decl))
    rules["removed"] = [_rule_entry(decl) for rid, decl in old_rules.items() if rid not in new_rules]
    parameters = []
    old_params, new_params = old_decls.get("parameter", {}), new_decls.get("parameter", {})
    for name in list(new_params) + [n for n in old_params if n not in new_params]:
        a, b = old_params.get(name), new_params.get(name)
        values_a, values_b = _values(a), _values(b)
        entry = {"name": name, "from": values_a, "to": values_b}
        if values_a != values_b:
            parameters.append(entry)
        elif old_day is not None and new_day is not None and old_day != new_day:
            in_force = (_in_force(values_a, old_day), _in_force(values_b, new_day))
            if in_force[0] != in_force[1]:
                parameters.append({**entry, "in_force": {"from": {"day": old_day.isoformat(), "value": in_force[0]},
                                                         "to": {"day": new_day.isoformat(), "value": in_force[1]}}})
    other = []
    for kind in ("rulebook", "record", "order", "payout", "batch rule"):
        a, b = old_decls.get(kind, {}), new_decls.get(kind, {})
        for name in list(b) + [n for n in a if n not in b]:
            if name not in a or name not in b or s.plain(a[name]) != s.plain(b[name]):
                other.append({"kind": kind, "name": name, "change": "added" if name not in a else
                              "removed" if name not in b else "changed"})
    return {"rules": rules, "parameters": parameters, "declarations": other}


def _decls(files: list[s.File]) -> dict:
    out: dict = {}
    for file in files:
        for decl in file.decls:
            kind, name = _key(decl)
            out.setdefault(kind, {}).setdefault(name, decl)
    return out


def _key(decl) -> tuple[str, str]:
    if isinstance(decl, s.RuleDecl):
        return "rule", decl.id
    if isinstance(decl, s.ParameterDecl):
        return "parameter", decl.name
    if isinstance(decl, s.RecordDecl):
        return "record", decl.name
    if isinstance(decl, s.OrderDecl):
        return "order", decl.name
    if isinstance(decl, s.PayoutDecl):
        return "payout", decl.subject.kind
    if isinstance(decl, s.BatchRuleDecl):
        return "batch rule", decl.id
    return "rulebook", decl.name


def _rule_entry(decl: s.RuleDecl) -> dict:
    title = {}
    for texts in decl.titles[:1]:
        for item in texts.items:
            title.setdefault(item.lang, "".join(p for p in item.text.parts if isinstance(p, str)))
    return {"rule": decl.id, "title": title}


_LINE_BREAKS = re.compile(r"[ \t]*\r?\n\s*")


def _values(decl: s.ParameterDecl | None) -> list[dict] | None:
    """A parameter's values as written, with the days they hold from and until, by day."""
    if decl is None:
        return None
    values = [{"from": pv.start.isoformat(), "until": pv.until.isoformat() if pv.until else None,
               "value": _LINE_BREAKS.sub(" ", pv.value.span.text)} for pv in decl.values]
    return sorted(values, key=lambda v: v["from"])


def _in_force(values: list[dict] | None, day: dt.date) -> str | None:
    for value in values or ():
        if value["from"] <= day.isoformat() and (value["until"] is None or day.isoformat() <= value["until"]):
            return value["value"]
    return None
