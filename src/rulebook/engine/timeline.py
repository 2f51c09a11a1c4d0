"""timeline: where the outcome of a rule depends on the day it is judged on.

A rule's decision reads the as-of date in comparisons such as `as_of <= last_day`:
such a comparison can only change its value on the day E or the day after, E
being the other side; and it can change the outcome only if it lies in the
deciding clause or one before it (the later ones were not evaluated). `time_use` finds these comparisons in a rule's conditions
(and in the lets they read), so that a watcher knows the next day on which a
case could change by time alone, without judging it every day. A rule that reads
the as-of date in any other way (in arithmetic, inside a quantifier, in the day
its parameters are taken on) is `daily`: it may change any day.

Parameter editions and rules in force for a period change a case on the days they start and
end — only where the case reads the parameter, or the rule's period is compared, on the day it is
judged (not on a day of the case such as `step.started_on`): `editions`, `parameters_read` (and
`plan.period_of_force`) give what `Evaluator.next_change` needs to tell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..language import syntax as s
from ..language.program import Program, Rule
from ..language.source import Span

AS_OF = "as_of"
_BINDERS = (s.Quantifier, s.Aggregate)


# `as_of OP E` can change its value on day E (offset 0) or the day after (offset 1).
_FLIPS = {"<=": (1,), ">": (1,), "<": (0,), ">=": (0,), "=": (0, 1), "!=": (0, 1)}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


@dataclass(frozen=True, slots=True)
class TimeUse:
    bounds: tuple  # (E, offsets, clause) for every `as_of OP E` the decision reads: it flips on
    # day E + offset, and matters while the deciding clause is that clause or a later one
    daily: bool  # the as-of date is read in another way: the outcome may change any day


def _children(node):
    for name in getattr(node, "__slots__", ()):
        value = getattr(node, name)
        if isinstance(value, tuple):
            yield from (item for item in value if hasattr(item, "__slots__"))
        elif hasattr(value, "__slots__") and not isinstance(value, Span):
            yield value


def _reads(node, names: frozenset, lets: dict) -> set[str]:
    """The names of `names` the expression reads (through lets too)."""
    found: set[str] = set()
    stack, seen = [node], set()
    while stack:
        here = stack.pop()
        if isinstance(here, s.Name):
            if here.name in names:
                found.add(here.name)
            if here.name in lets and here.name not in seen:
                seen.add(here.name)
                stack.append(lets[here.name])
            continue
        stack.extend(_children(here))
    return found


class _Finder:
    def __init__(self, lets: dict):
        self.lets = lets
        self.bounds: list = []
        self.daily = False
        self.clause = 0  # the position of the clause being walked
        self.walked: set[str] = set()

    def is_as_of(self, node, bound: frozenset) -> bool:
        return isinstance(node, s.Name) and node.name == AS_OF and AS_OF not in self.lets and AS_OF not in bound

    def walk(self, node, bound: frozenset = frozenset()) -> None:
        if isinstance(node, s.Compare):
            for mine, other, op in ((node.left, node.right, node.op), (node.right, node.left, _MIRROR[node.op])):
                if self.is_as_of(mine, bound):
                    if bound or self.reads_as_of(other, bound):
                        self.daily = True  # E changes with the quantified item or with the day
                    else:
                        self.bounds.append((other, _FLIPS[op], self.clause))
                        self.walk(other, bound)
                    return
        if isinstance(node, s.Name):
            if self.is_as_of(node, bound):
                self.daily = True  # read other than as one side of a comparison
            elif node.name in self.lets and node.name not in bound and node.name not in self.walked:
                self.walked.add(node.name)
                self.walk(self.lets[node.name])
            return
        if isinstance(node, _BINDERS) and node.var:
            self.walk(node.items, bound)
            if node.body is not None:
                self.walk(node.body, bound | {node.var})
            return
        for child in _children(node):
            self.walk(child, bound)

    def reads_as_of(self, node, bound: frozenset) -> bool:
        if AS_OF in self.lets:
            return bool(_reads(node, frozenset(), self.lets))
        return AS_OF in _reads(node, frozenset({AS_OF}) - bound, self.lets)


def time_use(rule: Rule) -> TimeUse:
    """The comparisons with the as-of date that the rule's decision reads."""
    finder = _Finder(rule.lets)
    for position, clause in enumerate(rule.clauses):
        finder.clause = position
        if clause.condition is not None:
            finder.walk(clause.condition)
    if rule.dated is not None and _dated_daily(rule.dated, rule.lets):
        finder.daily = True
    if AS_OF in rule.lets:
        finder.walk(rule.lets[AS_OF])
    return TimeUse(tuple(finder.bounds), finder.daily)


def _dated_daily(dated, lets: dict) -> bool:
    """True when parameters read on the day `dated` gives may change on other days than those on
    which an edition starts or ends: when the day is computed from the as-of date — not when it
    is the date itself, nor a date of the case with the as-of date as its default
    (`step.started_on if missing as_of`)."""
    if isinstance(dated, s.Name) and dated.name == AS_OF and AS_OF not in lets:
        return False
    if isinstance(dated, s.IfMissing):
        return AS_OF in _reads(dated.value, frozenset({AS_OF}), lets) or _dated_daily(dated.default, lets)
    return AS_OF in _reads(dated, frozenset({AS_OF}), lets)


def always_daily(program: Program) -> bool:
    """True when the day parameters are taken on is computed from the as-of date (not the
    date itself), or the payout reads the date: then no list of days can say when a case
    changes."""
    dated = program.dated
    if dated is not None and _dated_daily(dated, {}):
        return True
    for section in (program.step_payout, program.case_payout):
        if section is None:
            continue
        if section.dated is not None and _dated_daily(section.dated, section.lets):
            return True
        exprs = list(section.lets.values()) + [expr for _name, expr in section.amounts]
        if any(AS_OF in _reads(expr, frozenset({AS_OF}), section.lets) for expr in exprs):
            return True
    return False


def editions(program: Program) -> dict[str, tuple[dt.date, ...]]:
    """Each parameter's days on which a value starts or ends: a case that reads the parameter on
    the day it is judged can change on them."""
    out = {}
    for name, parameter in program.parameters.items():
        days: set[dt.date] = set()
        for start, until, _value in parameter.values:
            days.add(start)
            if until is not None:
                days.add(until + dt.timedelta(days=1))
        out[name] = tuple(sorted(day for day in days if day > dt.date.min))
    return out


def _texts_and_dues(rule: Rule):
    for clause in rule.clauses:
        if clause.condition is not None:
            yield clause.condition
        if clause.due is not None:
            yield clause.due
        for texts in (clause.message, clause.fix or {}):
            for template in texts.values():
                yield from (part for part in template.parts if not isinstance(part, str))


def parameters_read(program: Program, rule: Rule) -> tuple[str, ...]:
    """The parameters a rule reads anywhere (its conditions, lets, texts and due dates): those
    whose editions can change it (through the payout it reads, the payout's: `payout_parameters`)."""
    names = frozenset(program.parameters)
    found: set[str] = set()
    for node in _texts_and_dues(rule):
        found |= _reads(node, names, rule.lets)
    return tuple(sorted(found))


def payout_parameters(program: Program) -> dict[str, tuple[str, ...]]:
    """The parameters each section of the payout reads: {"each_step": (…), "case": (…)}."""
    names = frozenset(program.parameters)
    out = {}
    for section in (program.step_payout, program.case_payout):
        if section is not None:
            found: set[str] = set()
            for _name, expr in section.amounts:
                found |= _reads(expr, names, section.lets)
            out[section.subject] = tuple(sorted(found))
    return out
