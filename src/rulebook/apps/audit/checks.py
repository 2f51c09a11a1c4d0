"""checks: the cross-case checks — the rulebook's batch rules (`rule … over`, rules/batch.rules) —
evaluated at the end of an audit over the rows its cases added to the ledger, each rule's rows
read in order (sorted by SQLite) and swept once (`engine.batch`); every finding is kept in the
ledger with its summary.json entry, for the summary, the spreadsheets and the page. With more
than one job, the rules are evaluated in processes forked for them while the audit goes on with
what needs no finding (`Search`).

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
from .forks import Child, can_fork, closed, start
from .ledger import Ledger, finding_rows
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


def find(book, ledger: Ledger, params: dict, jobs: int = 1) -> dict[str, dict[str, str]]:
    """Evaluate every batch rule over the ledger's rows and keep each finding in it. A rule that
    cannot be evaluated over them (a parameter with no value in force on the batch's day) keeps
    no finding, and the others go on: {rule id: why, in ja and en} of those rules. With `jobs`
    over 1, the rules are evaluated in processes of their own (`Search`)."""
    return Search(book, ledger, params, jobs).finish()


def _found(book, ledger: Ledger, params: dict, texts: FindingTexts, rule):
    """The findings of one batch rule over the ledger's rows, as the ledger keeps them
    (`finding_rows`), in blocks."""
    batch = book.batch
    columns, order = batch.columns(rule.index)
    found = batch.findings(rule.index, _rows(batch, ledger, params, rule, columns, order), params)
    while block := list(itertools.islice(found, _BATCH)):
        yield finding_rows(
            (rule.index, finding.first_seq, list(entry["key"].values()), list(finding.cases), finding.case_count,
             entry)
            for finding in block
            for entry in (texts.entry(finding, batch.args(finding, params), batch.figures(finding, params)),))


_LONE_VALUES = 4096  # at most so many distinct values of groups of one row decided first
_LONE_PICKED = 64  # at most so many of them picked, to be read with the groups of more rows


def _rows(batch, ledger: Ledger, params: dict, rule, columns: list[str], order: list[str]):
    """A rule's rows for `findings`, in order: all of them, or, for a rule that decides alike
    every group of one row with the same values (`BatchRules.lone`), the groups of more rows and
    the groups of one row whose values a clause picks — the groups left out would give no
    finding (most groups, in most batches, are of one row: a case's id, its SME)."""
    width = batch.lone(rule.index)
    if width is not None:
        keys = len(columns) - 2 - width  # (the keys, then case_id and seq, then the values)
        # The values of all the rows first (no sort); those of the groups of one row alone if
        # these are too many or too many of them are picked.
        for lone_only in (False, True):
            values = ledger.lone_values(rule.index, keys, width, _LONE_VALUES, lone_only)
            picked = None if values is None else batch.lone_picks(rule.index, [v[::2] for v in values], params)
            if picked is not None and len(picked) <= _LONE_PICKED and (width or not picked):
                return ledger.batch_rows_but_lone(rule.index, columns, order, keys, [values[i] for i in picked])
            if width == 0:
                break
    return ledger.batch_rows(rule.index, columns, order)


class Search:
    """The batch rules' findings being searched for — in this process, one rule after the other
    (one job, or no `fork`), or, with `jobs` over 1, in up to `jobs - 1` processes forked for it
    (`forks`: each reading the ledger through a connection of its own and sending its findings
    back in blocks), while this process goes on with what needs no finding (the spreadsheet of
    cases, the summary's totals). `finish` keeps the findings in the ledger, rule after rule in
    the rulebook's order, whoever found them: the same rows, the same files."""

    def __init__(self, book, ledger: Ledger, params: dict, jobs: int = 1):
        self.book, self.ledger, self.params = book, ledger, params
        rules = book.plan.batch_rules
        ledger.index()  # (the case-keyed rules read the cases through theirs)
        ledger.clear_findings()
        self.not_evaluated: dict[str, dict[str, str]] = {}
        self.children: list[Child] = []
        self.child_of: dict[int, int] = {}  # rule index → its process's place in `children`
        processes = min(jobs - 1, len(rules)) if can_fork() else 0
        if processes < 1:
            texts = FindingTexts(book.plan, book.schema.labels_by_field())
            for rule in rules:
                self._keep(rule, _found(book, ledger, params, texts, rule))
            return
        try:
            with closed(ledger):
                for n in range(processes):
                    mine = rules[n::processes]
                    self.children.append(start(f"audit-batch-rules-{n}", _search, book, ledger.path.parent, params,
                                               [rule.index for rule in mine], ledger.case_keyed))
                    self.child_of.update((rule.index, n) for rule in mine)
        finally:
            ledger.clear_findings()

    def _keep(self, rule, blocks) -> None:
        """A rule's findings kept, block by block; a rule that cannot be evaluated keeps none."""
        try:
            for block in blocks:
                self.ledger.keep_findings(block, kept=True)
        except (EvaluationError, _NotEvaluated) as error:
            self.ledger.drop_findings(rule.index)
            self.not_evaluated[rule.id] = error.texts if isinstance(error, _NotEvaluated) else error.message.texts()

    def finish(self) -> dict[str, dict[str, str]]:
        """Every rule's findings kept; {rule id: why} of the rules that could not be evaluated.
        What stops it (a process that failed or died, Ctrl-C) ends the other processes too."""
        done = False
        try:
            for rule in self.book.plan.batch_rules:
                if rule.index in self.child_of:
                    self._keep(rule, _received(self.children[self.child_of[rule.index]], rule))
            done = True
        finally:
            self.end(done)
        return self.not_evaluated

    def end(self, done: bool = False) -> None:
        """The forked processes joined, ended first if not `done` (the audit stops)."""
        for child in self.children:
            child.end(done)
        self.children = []


def _received(child: Child, rule):
    """The blocks of a rule's findings a forked process sends (`_search`); what stopped it raised."""
    for kind, value in child.received(f"バッチ規則 `{rule.id}` を評価するプロセス",
                                      f"the process evaluating the batch rule `{rule.id}`"):
        if kind == "not evaluated":
            raise _NotEvaluated(value)
        yield value


class _NotEvaluated(Exception):
    """A rule a forked process could not evaluate over the batch (an `EvaluationError` there):
    why, in ja and en."""

    def __init__(self, texts: dict[str, str]):
        super().__init__(texts)
        self.texts = texts


def _search(book, folder, params: dict, indexes: list[int], case_keyed):
    """A forked process's part of `Search` (`forks.start`): the rules `indexes`, one after the
    other, each one's findings sent in blocks ("rows"), then ("end", None) — or why it could not
    be evaluated ("not evaluated")."""
    ledger = Ledger(folder, read_only=True)
    try:
        ledger.case_keyed = case_keyed
        texts = FindingTexts(book.plan, book.schema.labels_by_field())
        rules = {rule.index: rule for rule in book.plan.batch_rules}
        for index in indexes:
            try:
                for block in _found(book, ledger, params, texts, rules[index]):
                    yield "rows", block
            except EvaluationError as error:
                yield "not evaluated", error.message.texts()
                continue
            yield "end", None
    finally:
        ledger.close()
