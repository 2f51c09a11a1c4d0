"""findings: what a finding of a batch rule says, for people and programs — its key, its cases,
its figures and its message and fix in Japanese and English — the same shape for every batch
rule (summary.json's `findings`, findings.csv, report.html, `rulebook test`).

A figure is written as JSON holds a number: whole yen, counts and days as integers; hours and
other fractions as a number rounded to two decimals (as a message shows them); days as ISO
text.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ..engine.batch import Finding
from ..engine.plan import BatchRulePlan, Plan, TemplatePlan
from .explain import formatter

_CENT = Decimal("0.01")


def shown(value):
    """A value as a text shows it: a fraction of more than two decimals rounded to two."""
    if type(value) is Decimal and value.as_tuple().exponent < -2 and value != value.to_integral_value():
        return value.quantize(_CENT, rounding=ROUND_HALF_UP)
    return value


def figure(value):
    """A figure as JSON holds it."""
    if type(value) is Decimal:
        return int(value) if value == value.to_integral_value() else round(float(value), 2)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def key_value(value, kind: str):
    """A key's value as a finding shows it (kept as text, a number, or a day as its ordinal): a
    day as ISO text."""
    if kind == "date":
        return dt.date.fromordinal(value).isoformat()
    return bool(value) if kind == "boolean" else value


class FindingTexts:
    """The texts of the findings of one plan's batch rules; the words of the schema's labels."""

    def __init__(self, plan: Plan, labels: dict | None = None):
        self.plan = plan
        self.labels = labels or {}
        self._formats: dict = {}

    def _show(self, template: TemplatePlan, lang: str, args: tuple) -> str:
        out = []
        for part in template.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            index, kind = part
            show = self._formats.get((kind, lang))
            if show is None:
                show = self._formats[(kind, lang)] = formatter(kind, lang, self.labels)
            out.append(show(shown(args[index])))
        return "".join(out)

    def texts(self, finding: Finding, args: tuple) -> tuple[dict, dict | None]:
        """The finding's message and fix ({lang: text}; the fix None when its clause has none)."""
        clause = self.plan.batch_rules[finding.rule].clauses[finding.clause]
        message = {lang: self._show(t, lang, args) for lang, t in clause.message.items()}
        fix = {lang: self._show(t, lang, args) for lang, t in clause.fix.items()} if clause.fix else None
        return message, fix

    def entry(self, finding: Finding, args: tuple, figures: list) -> dict:
        """The finding as summary.json lists it (without its rule, which the list is under)."""
        rule: BatchRulePlan = self.plan.batch_rules[finding.rule]
        message, fix = self.texts(finding, args)
        return {
            "clause": finding.clause + 1,
            "key": {name: key_value(value, kind) for (name, kind), value in zip(rule.keys, finding.key)},
            "cases": list(finding.cases),
            "case_count": finding.case_count,
            "figures": {name: figure(value) for name, _kind, value in figures},
            "message": message,
            "fix": fix,
        }


def section(rule: BatchRulePlan, entries: list[dict], total: int, error: dict | None = None) -> dict:
    """A batch rule's part of summary.json's `findings`: the rule, its title and keys, its first
    findings (`entries`, each as `FindingTexts.entry` gives it) and how many there are; and, for a
    rule that could not be evaluated over the batch, `error`: why, in ja and en (no entries)."""
    out = {"rule": rule.id, "title": dict(rule.titles), "stage": rule.stage,
           "keys": [name for name, _kind in rule.keys], "entries": entries, "entries_total": total}
    if error is not None:
        out["error"] = error
    return out
