"""The syntax tree of a rule file: plain data, no behaviour.

`parse` builds it from text; `check` reads it. Every node has the span it came
from. Expressions are a closed set of node classes (`Expr`).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Union

from .source import Span

# ------------------------------------------------------------------ expressions


@dataclass(frozen=True, slots=True, eq=False)
class Literal:
    """A literal value. `unit` is one of: None, yen, rate, hours, days,
    business_days, months, percent. `kind` is number, string, date, boolean, empty,
    list, table or record; list values are tuples of Literals, table values tuples of
    (key, Literal, key span), record values tuples of (field name, Literal, name span)."""

    kind: str
    value: object
    span: Span
    unit: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Name:
    name: str
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Attribute:
    obj: "Expr"
    name: str
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Index:
    obj: "Expr"
    key: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Binary:
    op: str  # + - * /
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Negate:
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Compare:
    op: str  # = != < <= > >=
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Logical:
    op: str  # and / or
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Not:
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Test:
    """`x is set`, `is missing`, `is empty`, `is not empty`, `is blank`, `is not blank`."""

    test: str  # set missing empty not_empty blank not_blank
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Member:
    item: "Expr"
    container: "Expr"
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class IfElse:
    condition: "Expr"
    then: "Expr"
    otherwise: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class IfMissing:
    value: "Expr"
    default: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Rounded:
    operand: "Expr"
    mode: str  # down / up / half_up
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Quantifier:
    """`any|all|count|each|first VAR in LIST where BODY`."""

    kind: str
    var: str
    items: "Expr"
    body: "Expr"
    span: Span
    var_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Aggregate:
    """`count of LIST`, `keys of TABLE`, `sum of BODY for VAR in LIST`, `list of BODY for VAR in LIST`."""

    kind: str  # count / keys / sum / list
    items: "Expr"
    span: Span
    var: str | None = None
    body: "Expr | None" = None
    var_span: Span | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Call:
    """`min(a, b, …)`, `max(a, b, …)`: a function of the language applied to its arguments."""

    function: str
    args: tuple["Expr", ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Previous:
    """`previous AMOUNT`: a step amount of the step before (0 yen for the first), in `payout on each step`."""

    name: str
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Total:
    """`total AMOUNT`: a step amount summed over the steps (payout on case)."""

    name: str
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Failure:
    """`no failure on SUBJECT [except ids]` / `some failure on SUBJECT …`."""

    negated: bool  # True for `no failure`
    subject: str | None  # None: the case; else the name of a step variable
    excepted: tuple[tuple[str, Span], ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class OutOfOrder:
    order: str
    span: Span
    name_span: Span


Expr = Union[
    Literal, Name, Attribute, Index, Binary, Negate, Compare, Logical, Not, Test, Member,
    IfElse, IfMissing, Rounded, Quantifier, Aggregate, Call, Previous, Total, Failure, OutOfOrder,
]

# ------------------------------------------------------------------------ texts


@dataclass(frozen=True, slots=True, eq=False)
class Template:
    """A text with interpolations: parts are str or Expr."""

    parts: tuple
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class LangText:
    lang: str
    text: Template
    span: Span
    lang_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Texts:
    items: tuple[LangText, ...]
    span: Span


# ------------------------------------------------------------------------ types


@dataclass(frozen=True, slots=True, eq=False)
class TypeRef:
    """A type as written: kind is named / optional / list / table; `name` for
    named types (text, date, yen, rate, business_days, a record, …)."""

    kind: str
    span: Span
    name: str | None = None
    inner: "TypeRef | None" = None
    key: "TypeRef | None" = None


# ----------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True, eq=False)
class StageDecl:
    name: str
    title: Texts
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class RulebookDecl:
    name: str
    span: Span
    version: str | None
    title: Texts | None
    dated: Expr | None
    stages: tuple[StageDecl, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ValueLabel:
    """`"message": ja "メッセージ" en "message"` in a field's `labels { … }`."""

    value: str
    texts: Texts
    span: Span  # of the value


@dataclass(frozen=True, slots=True, eq=False)
class FieldOption:
    kind: str  # default one_of numbered not_before exactly not_blank identifier at_least labels
    value: object
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class FieldDecl:
    name: str
    type: TypeRef
    options: tuple[FieldOption, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class RecordDecl:
    name: str
    fields: tuple[FieldDecl, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class SourceRef:
    text: str
    ref: str | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class PeriodValue:
    value: Literal
    start: _dt.date
    until: _dt.date | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class ParameterDecl:
    name: str
    type: TypeRef
    titles: tuple[Texts, ...]
    sources: tuple[SourceRef, ...]
    values: tuple[PeriodValue, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class OrderNode:
    path: tuple[str, ...]
    first: bool  # `first step.x`
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class OrderDecl:
    name: str
    chains: tuple[tuple[tuple[OrderNode, ...], ...], ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Let:
    name: str
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Clause:
    condition: Expr | None  # None for `otherwise`
    status: str
    messages: tuple[Texts, ...]
    fixes: tuple[Texts, ...]
    dues: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Subject:
    kind: str  # case / each_step / numbered_step
    span: Span
    number: Expr | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Effective:
    start: _dt.date
    until: _dt.date | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class RuleDecl:
    id: str
    subject: Subject
    stages: tuple[tuple[str, Span], ...]
    titles: tuple[Texts, ...]
    sources: tuple[SourceRef, ...]
    dated: tuple[Expr, ...]
    effective: tuple[Effective, ...]
    lets: tuple[Let, ...]
    clauses: tuple[Clause, ...]
    span: Span
    id_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Amount:
    name: str
    expr: Expr
    span: Span
    titles: tuple[Texts, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class PayoutDecl:
    subject: Subject
    lets: tuple[Let, ...]
    amounts: tuple[Amount, ...]
    span: Span
    dated: tuple[Expr, ...] = ()
    items: tuple = ()  # the lets and amounts in the order written: each sees those before it


# ------------------------------------------------------------------ batch rules


@dataclass(frozen=True, slots=True, eq=False)
class BatchKey:
    """One key of `group by`: an expression, named by `as NAME` (or by itself, a bare name)."""

    expr: Expr
    name: str | None
    span: Span
    name_span: Span | None


@dataclass(frozen=True, slots=True, eq=False)
class BatchDays:
    """`each day from FIRST to LAST`: every item counts on each day of its range."""

    first: Expr
    last: Expr
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class BatchFigure:
    """A figure of each group: `count NAME`, `sum NAME = …`, `sum NAME = … spread over its days`,
    `max NAME = …`, `min NAME = …`."""

    kind: str  # count / sum / spread / max / min
    name: str
    expr: Expr | None  # None for count
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class BatchRuleDecl:
    """`rule ID over cases|each step`: findings over the groups of a batch's cases."""

    id: str
    items: str  # cases / each_step
    stages: tuple[tuple[str, Span], ...]
    titles: tuple[Texts, ...]
    sources: tuple[SourceRef, ...]
    wheres: tuple[Expr, ...]
    groups: tuple[tuple[BatchKey, ...], ...]
    days: tuple[BatchDays, ...]
    figures: tuple[BatchFigure, ...]
    lets: tuple[Let, ...]
    clauses: tuple[Clause, ...]  # each `when … then finding` (status "finding")
    span: Span
    id_span: Span
    items_span: Span


Decl = Union[RulebookDecl, RecordDecl, ParameterDecl, OrderDecl, RuleDecl, PayoutDecl, BatchRuleDecl]


@dataclass(frozen=True, slots=True, eq=False)
class File:
    path: str
    decls: tuple[Decl, ...]




def plain(node) -> object:
    """A syntax node as nested tuples of its kind and values, without the spans: equal for two
    trees that differ only in layout and comments (the formatter's promise; the rulebook diff's
    test of a changed rule)."""
    if isinstance(node, Span):
        return None
    if isinstance(node, (tuple, list)):
        return tuple(plain(item) for item in node)
    slots = getattr(type(node), "__dataclass_fields__", None)
    if slots is None or type(node).__module__ != __name__:
        return node
    return (type(node).__name__,) + tuple(plain(getattr(node, name)) for name in slots)
