"""checks: the cross-case checks — the rulebook's batch rules (`rule … over`, rules/batch.rules) —
evaluated at the end of an audit over the rows its cases added to the ledger, each rule's rows
read in order through an index and swept once (`engine.batch`); every finding is kept in the
ledger with its summary.json entry, for the summary, the spreadsheets and the page.

The two checks the audit had before batch rules, duplicate case ids and implausible hours, keep
their summary keys (`duplicates`, `implausible_hours`) and spreadsheets (duplicates.csv,
hours.csv), now as views of the findings of the rules that replace them (`LEGACY`): a rulebook
whose rule of that id is not shaped as the view needs is refused before any case is judged.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from ...engine.batch import CASES_SHOWN
from ...engine.evaluate import EvaluationError
from ...output.findings import FindingTexts
from .ledger import Ledger
from .options import AuditError

__all__ = ["CASES_SHOWN", "LEGACY", "HOURS_PARAMETER", "find", "parameters", "check_legacy_rules"]

_BATCH = 4096
# The rules behind the summary's keys of before: (keys the view reads, the figure it reads).
LEGACY = {
    "duplicates": ("batch.duplicate-case-id", ("case_id",), None),
    "implausible_hours": ("batch.implausible-hours", ("expert", "day"), "hours"),
}
HOURS_PARAMETER = "hours_per_day"  # what --hours-per-day sets


def legacy_rule(book, name: str):
    """The batch rule behind a summary key of before (`LEGACY`), or None if the rulebook has none."""
    rule_id = LEGACY[name][0]
    return next((r for r in book.plan.batch_rules if r.id == rule_id), None)


def check_legacy_rules(book) -> None:
    """Refuse a rulebook whose rules behind the summary's keys of before are not shaped as their
    views read them (their keys, their figure)."""
    for name, (rule_id, keys, figure) in LEGACY.items():
        rule = legacy_rule(book, name)
        if rule is None:
            continue
        names = tuple(key for key, _kind in rule.keys)
        figures = {f for f, _aggregate, _kind in rule.figures}
        if names != keys or (figure is not None and figure not in figures):
            want = ", ".join(f"`{k}`" for k in keys) + (f" and the figure `{figure}`" if figure else "")
            raise AuditError(f"バッチ規則 `{rule_id}` は summary.json の `{name}` になりますが、キー {want} がありません"
                             f"(キーは {', '.join(names)})",
                             f"the batch rule `{rule_id}` gives summary.json's `{name}`, and needs the keys {want} "
                             f"(its keys are {', '.join(names) or 'none'})")


def parameters(book, ledger: Ledger, hours_bound: float | None) -> dict:
    """The parameters the batch rules read: those in force on the latest day a case of the
    audit was judged on, with --hours-per-day."""
    overrides = {}
    if hours_bound is not None:
        known = book.plan.parameters.get(HOURS_PARAMETER)
        if known is None:
            raise AuditError(f"このルールブックには --hours-per-day で変える `{HOURS_PARAMETER}` がありません",
                             f"this rulebook has no parameter `{HOURS_PARAMETER}` for --hours-per-day to set")
        overrides[HOURS_PARAMETER] = Decimal(repr(float(hours_bound)))
    day = ledger.batch_day()
    return book.batch.parameters(dt.date.fromisoformat(day) if day else dt.date.max, overrides)


def find(book, ledger: Ledger, params: dict) -> dict[str, dict[str, str]]:
    """Evaluate every batch rule over the ledger's rows and keep each finding in it. A rule that
    cannot be evaluated over them (a parameter with no value in force on the batch's day) keeps
    no finding, and the others go on: {rule id: why, in ja and en} of those rules."""
    not_evaluated: dict[str, dict[str, str]] = {}
    batch = book.batch
    texts = FindingTexts(book.plan, book.schema.labels_by_field())
    ledger.clear_findings()
    for rule in book.plan.batch_rules:
        columns, order = batch.columns(rule.index)
        rows = ledger.batch_rows(rule.index, columns, order)

        def entries(found):
            for finding in found:
                entry = texts.entry(finding, batch.args(finding, params), batch.figures(finding, params))
                yield (rule.index, finding.first_seq, list(entry["key"].values()), list(finding.cases),
                       finding.case_count, entry)

        found = entries(batch.findings(rule.index, rows, params))
        try:
            for chunk in iter(lambda: list(itertools.islice(found, _BATCH)), []):
                ledger.keep_findings(chunk)
        except EvaluationError as error:
            ledger.drop_findings(rule.index)
            not_evaluated[rule.id] = error.message.texts()
    return not_evaluated
