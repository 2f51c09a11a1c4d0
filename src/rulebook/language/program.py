"""The checked rulebook: every name resolved, every expression typed.

`check` produces a Program from syntax; `compile` reads it. Expressions stay
the syntax nodes they were; their types are in `Program.types`, keyed by node
identity (the Program keeps the nodes alive).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from . import datatype as t
from . import syntax as s
from .schema import Schema


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: t.Type
    titles: dict[str, str]
    source: tuple[str, str | None]
    values: tuple[tuple[dt.date, dt.date | None, object], ...]  # (from, until, value), sorted


@dataclass(frozen=True, slots=True)
class OrderNode:
    scope: str  # case / step / first
    path: tuple[str, ...]

    def label(self) -> str:
        return ".".join(self.path) if self.scope == "case" else "step." + ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Order:
    name: str
    nodes: tuple[OrderNode, ...]
    edges: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Clause:
    index: int  # 0-based position in the rule
    condition: s.Expr | None
    status: str
    message: dict[str, s.Template]
    fix: dict[str, s.Template] | None
    due: s.Expr | None
    span: object


@dataclass(frozen=True, slots=True)
class Rule:
    index: int
    id: str
    subject: str  # case / each_step / numbered_step
    number: s.Expr | None
    stage: str
    titles: dict[str, str]
    source: tuple[str, str | None]
    dated: s.Expr | None
    effective: tuple[dt.date, dt.date | None] | None
    lets: dict[str, s.Expr]
    clauses: tuple[Clause, ...]
    reads_payout: bool
    span: object


@dataclass(frozen=True, slots=True)
class PayoutSection:
    subject: str  # each_step / case
    lets: dict[str, s.Expr]
    amounts: tuple[tuple[str, s.Expr], ...]
    dated: s.Expr | None = None  # the day its parameters are read on (else the rulebook's)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)  # amount → {lang: title}


@dataclass(frozen=True, slots=True)
class BatchRule:
    """A rule over the cases of a batch: which items it reads (`cases` or `each_step`), which pass
    (`where`), how they are grouped (`keys`, and `days`: each day of each item's range), the
    figures of each group, and the clauses that make a group a finding."""

    index: int
    id: str
    items: str  # cases / each_step
    stage: str
    titles: dict[str, str]
    source: tuple[str, str | None]
    where: s.Expr | None
    keys: tuple[tuple[str, s.Expr, t.Type], ...]  # (name, expression, type)
    days: tuple[s.Expr, s.Expr] | None  # (first day, last day) of each item
    figures: tuple[tuple[str, str, s.Expr | None, t.Type], ...]  # (name, count/sum/spread/max/min, expression, type)
    lets: dict[str, s.Expr]
    clauses: tuple[Clause, ...]
    span: object


@dataclass
class Program:
    name: str
    version: str
    titles: dict[str, str]
    stages: list[tuple[str, dict[str, str]]]
    schema: Schema
    steps_field: str | None
    parameters: dict[str, Parameter]
    orders: dict[str, Order]
    rules: list[Rule]
    step_payout: PayoutSection | None
    case_payout: PayoutSection | None
    dated: s.Expr | None
    types: dict[int, t.Type] = field(default_factory=dict)
    sources: list[tuple[str, str]] = field(default_factory=list)
    batch_rules: list[BatchRule] = field(default_factory=list)

    def type_of(self, expr) -> t.Type:
        return self.types[id(expr)]
