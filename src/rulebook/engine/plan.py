"""The compiled rulebook: the generated module's source, and what explaining needs.

Plain data (the plan cache writes it as tagged JSON, `planjson`); `evaluate.link` turns
the source into functions through `codegen.execute`. Nothing here refers to the syntax tree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# The clause of a result that no clause decided: the rule is not in force on its day
# (`effective`), or it read a parameter with no value on its day (it fails).
NOT_IN_FORCE = -1
NO_VALUE = -2



@dataclass(frozen=True, slots=True)
class TemplatePlan:
    """A text: literal strings and (arg index, format kind) pairs."""

    parts: tuple


@dataclass(frozen=True, slots=True)
class ClausePlan:
    index: int
    status: str
    message: dict[str, TemplatePlan]
    fix: dict[str, TemplatePlan] | None
    due: int | None  # arg index of the due date
    where: str = ""  # file:line:column of the clause


@dataclass(frozen=True, slots=True)
class RulePlan:
    index: int
    id: str
    subject: str
    stage: str
    titles: dict[str, str]
    source: tuple[str, str | None]
    clauses: tuple[ClausePlan, ...]
    facts: tuple[tuple[str, str], ...]  # per slot: (key template, format kind)
    reads_payout: bool
    effective: tuple[dt.date, dt.date | None] | None
    where: str = ""
    timed: bool = False  # its decision compares the as-of date with dates `times_N` computes
    daily: bool = False  # it reads the as-of date otherwise: its outcome may change any day
    parameters: tuple[str, ...] = ()  # the parameters it reads (the payout's too, if it reads the payout)
    dated: bool = False  # it reads them on a day of its own, `dated_N(c, st, as_of)`


@dataclass(frozen=True, slots=True)
class OrderPlan:
    nodes: tuple[tuple[str, tuple[str, ...]], ...]  # (case / step / first, path)
    edges: tuple[tuple[int, int], ...]
    steps_field: str | None
    required: tuple[str, ...] = ()  # the records of the snapshot that are never missing


@dataclass(frozen=True, slots=True)
class BatchRulePlan:
    """A rule over the cases of a batch, compiled: `batch_rows_N` gives what a case adds to it
    (its items' keys, days and values), `batch_decide_N` the clause a group's values pick,
    `batch_args_N` the values its texts show, `batch_lets_N` its `let`s (see compile_batch)."""

    index: int
    id: str
    items: str  # cases / each_step
    stage: str
    titles: dict[str, str]
    source: tuple[str, str | None]
    keys: tuple[tuple[str, str], ...]  # (name, format kind), `day` last with `days`
    days: bool  # each item counts on each day of its range
    figures: tuple[tuple[str, str, str], ...]  # (name, count/sum/spread/max/min, format kind)
    lets: tuple[tuple[str, str], ...]  # (name, format kind)
    clauses: tuple[ClausePlan, ...]
    where: str = ""  # file:line:column of the declaration
    # Grouped by each case's own id, every case once, counts only (`group by case_id`, no
    # `where`, no value): its rows are one per case, (case_id), which an audit's ledger holds
    # already in its table of cases and reads from there.
    case_keyed: bool = False
    # The places of the group (`g[i]`) that `batch_decide_N` reads, sorted; None when it reads
    # the group otherwise too (then any of them). A rule whose clauses read no key decides the
    # same for every group of one item with the same values (`batch.BatchRules.lone`).
    decide_reads: tuple[int, ...] | None = None


@dataclass
class Plan:
    """Everything evaluation and explanation need, and nothing of the syntax.

    `functions` are made from `source` by `evaluate.link`, once per process; the cache
    keeps everything else."""

    name: str
    version: str
    titles: dict[str, str]
    stages: list[tuple[str, dict[str, str]]]
    rules: list[RulePlan]
    step_amounts: tuple[str, ...]
    case_amounts: tuple[str, ...]
    parameters: dict[str, tuple]  # name → ((from, until, value), …)
    orders: dict[str, OrderPlan]
    steps_field: str | None
    steps_number: str | None  # the field that numbers the steps
    source: str  # the generated module (compile.py says what it holds)
    constants: list  # its constants table, `_K`
    fields: tuple[str, ...] = ()  # every field the schema declares: the attributes the module may read
    rule_lines: tuple = ()  # (first line, last line, rule index) of each inlined rule in `source`
    editions: dict = field(default_factory=dict)  # parameter → the days on which a value starts or ends
    payout_parameters: dict = field(default_factory=dict)  # "each_step" / "case" → the parameters it reads
    daily: bool = False  # every case may change any day (see timeline.always_daily)
    dated_is_as_of: bool = True  # parameters are taken on the day the case is judged
    amount_titles: dict = field(default_factory=dict)  # case amount → {lang: title}
    step_amount_titles: dict = field(default_factory=dict)  # step amount → {lang: title}
    parameter_titles: dict = field(default_factory=dict)  # parameter → {lang: title}
    record_formats: dict = field(default_factory=dict)  # record → ((field, format kind), …): how texts show one
    batch_rules: tuple[BatchRulePlan, ...] = ()  # the rules over a batch's cases
    functions: dict = field(default_factory=dict, repr=False, compare=False)


def period_of_force(rule) -> tuple[dt.date, ...]:
    """The days on which a rule's period of force (`effective`) starts or ends (a rule, or its plan)."""
    if not rule.effective:
        return ()
    start, until = rule.effective
    return (start,) if until is None else (start, until + dt.timedelta(days=1))
