"""batch: the rules over a batch's cases at run time (see `compile_batch`).

Two halves, so that a batch is never held in memory:

- `BatchRules.rows(case, payout, as_of)`: what one judged case adds to each batch rule, as rows
  of plain values (text, whole numbers) that a ledger can keep and sort — its keys,
  the first and last day of its range (with `each day`: as day ordinals), and each figure's value. A range whose
  last day comes before its first has no days and adds nothing. Hours and other fractions are
  kept in millionths (rounded half up), so that they add up exactly, in any order; a value
  spread over its range's days is its millionths divided by the days, rounded half up.
  `BatchRules.add_rows(case, payout, as_of, prefix, into)`, the audit's: the same rows, each after
  `prefix`, added to `into[rule index]` by one generated function for every rule
  (`batch_case_rows`), nothing added for a case a rule cannot read.
- `BatchRules.findings(index, rows, day)`: the findings of one rule over its rows, sorted by
  `order(index)` (SQL's ORDER BY or `sorted`): one pass over each group, a group at a time —
  or, with `each day`, a sweep over each group's items by their first day, with a heap of the
  items running, so that a day is one step of the sweep and the whole is O(n log n). The
  group's figures and `cases` (how many distinct case ids) are passed to the rule's clauses;
  each group a clause picks is a finding, with the first `CASES_SHOWN` of its case ids.

With `each day`, the days looked at are those on which some item of the group starts: the
figures only grow on such a day (they are sums over the items running), so a day over a bound
is found on the day the bound is crossed.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Iterable, Iterator

from sortedcontainers import SortedList

from ..language.catalogue import word
from ..language.diagnostic import Code, message_of
from .evaluate import EvaluationError, link, parameters_at
from .plan import BatchRulePlan, Plan
from .runtime import NotInForce

CASES_SHOWN = 10  # the case ids a finding lists (its count says how many there are)
MICRO = 10**6  # fractions (hours, decimals, values spread over days) are kept in millionths
_ONE = Decimal(1)
_MICRO = Decimal(MICRO)

# How each kind of value is kept in a row: as it is (text, whole numbers), a day as its ordinal
# (days since 0001-01-01: quick to make, to compare and to count with), 0/1, or in millionths.
_KEPT = {"text": "as_is", "integer": "as_is", "yen": "as_is", "days": "as_is", "date": "day",
         "boolean": "flag", "hours": "micro", "decimal": "micro", "percent": "micro"}


@dataclass(frozen=True, slots=True)
class Finding:
    """A group that a clause of a batch rule picked."""

    rule: int  # index into plan.batch_rules
    clause: int  # index of the clause that picked it
    key: tuple  # the key's values as kept (text, numbers, a day as its ordinal), `day` last
    cases: tuple[str, ...]  # the first CASES_SHOWN case ids of the group, in order
    case_count: int  # how many distinct case ids the group holds
    first_seq: int | None  # the input position of its first case (None with `each day`)
    group: tuple  # the group's values as the rule reads them: keys, figures, cases


def _micro(value) -> int:
    return int((Decimal(value) * _MICRO).quantize(_ONE, rounding=ROUND_HALF_UP))


def _per_day(value, days: int) -> int:
    """A value's millionths divided among `days`, rounded half up (in whole numbers when the
    millionths are whole and not negative, as hours with two decimals are)."""
    whole = _WHOLE.get(value)
    if whole is None:
        numerator, denominator = value.as_integer_ratio()
        if numerator < 0 or MICRO % denominator:
            return int((Decimal(value) * _MICRO / days).quantize(_ONE, rounding=ROUND_HALF_UP))
        whole = numerator * (MICRO // denominator)
        if len(_WHOLE) < _WHOLE_KEPT:
            _WHOLE[value] = whole
    return (2 * whole + days) // (2 * days)


# The whole millionths of the values spread so far (few distinct: hours), by value — equal
# numbers are one key, whatever their type, and have the same millionths.
_WHOLE: dict = {}
_WHOLE_KEPT = 4096


_SPREAD = object()  # how a row keeps a value spread over its days (`_per_day`)


def _as_kept(value):
    return value


def _from_micro(kept: int) -> Decimal:
    """Millionths read back as the decimal they stand for. A sweep reads the same few sums
    again and again (a day's hours): those below 10**18, exact in any context of 19 digits or
    more, are kept, up to `_READ_KEPT` of them."""
    value = _DECIMALS.get(kept)
    if value is None:
        value = Decimal(kept).scaleb(-6)
        if -_EXACT < kept < _EXACT and len(_DECIMALS) < _READ_KEPT:
            _DECIMALS[kept] = value
    return value


def _from_ordinal(kept: int) -> dt.date:
    """A day's ordinal read back as the day (kept, up to `_READ_KEPT` of them)."""
    day = _DAYS.get(kept)
    if day is None:
        day = dt.date.fromordinal(kept)
        if len(_DAYS) < _READ_KEPT:
            _DAYS[kept] = day
    return day


_DECIMALS: dict[int, Decimal] = {}
_DAYS: dict[int, dt.date] = {}
_READ_KEPT = 16384  # (at most ≈ 3 MiB of decimals)
_DECIDED_KEPT = 16384  # the sums a sweep keeps the clause of (`BatchRules._by_day_one`)
_EXACT = 10**18


def _keep(kind: str):
    """The function that turns a value of this kind into what a row keeps."""
    how = _KEPT.get(kind, "as_is")
    if how == "day":
        return dt.date.toordinal
    if how == "flag":
        return int
    if how == "micro":
        return _micro
    return None


def _read(kind: str, spread: bool = False):
    """The function that turns a kept value back into what the rule reads."""
    if spread or _KEPT.get(kind) == "micro":
        return _from_micro
    how = _KEPT.get(kind, "as_is")
    if how == "day":
        return _from_ordinal
    if how == "flag":
        return bool
    return None


class _Rule:
    """One batch rule, made ready to run."""

    def __init__(self, plan: BatchRulePlan, functions: dict):
        n = plan.index
        self.plan = plan
        self.make_rows = functions[f"batch_rows_{n}"]
        self.decide = functions[f"batch_decide_{n}"]
        self.args = functions[f"batch_args_{n}"]
        self.lets = functions[f"batch_lets_{n}"]
        keys = plan.keys[:-1] if plan.days else plan.keys
        self.key_count = len(keys)
        self.keep_keys = [_keep(kind) for _name, kind in keys]
        self.values = [(aggregate, kind) for _name, aggregate, kind in plan.figures if aggregate != "count"]
        self.keep_values = [_SPREAD if aggregate == "spread" else _keep(kind) for aggregate, kind in self.values]
        self.converted_keys = any(self.keep_keys)
        self.keep = self._keeper()
        # rows kept as `batch_rows_N` makes them: no day, nothing to convert
        self.plain = not plan.days and not any(self.keep_keys) and not any(self.keep_values)
        self.read_keys = [_read(kind) for _name, kind in keys]
        self.read_figures = [None if aggregate == "count" else _read(kind, aggregate == "spread")
                             for _name, aggregate, kind in plan.figures]
        # (place in the group, how to read it) of each value not read as it is kept
        reads = self.read_keys + ([_from_ordinal] if plan.days else []) + self.read_figures
        self.reads = [(i, read) for i, read in enumerate(reads) if read is not None]

    def kept(self, row: tuple, prefix: tuple = ()) -> tuple | None:
        """A row of `batch_rows_N` as a ledger keeps it, after `prefix` (None: a range with no
        days)."""
        return self.keep(row, prefix)

    def _keeper(self):
        """`kept`, made for this rule once: its indexes and conversions bound."""
        k, days = self.key_count, self.plan.days
        keep_keys = self.keep_keys if self.converted_keys else None
        # (place in the row, conversion) of each value, `_SPREAD`: spread over the range's days
        values = [(i, keep) for i, keep in enumerate(self.keep_values, k + 2 if days else k)]

        if days and keep_keys is None and values == [(k + 2, _SPREAD)]:  # (batch.implausible-hours')
            def keep_spread(row: tuple, prefix: tuple) -> tuple | None:
                first, last = row[k].toordinal(), row[k + 1].toordinal()
                if last < first:
                    return None
                return (*prefix, *row[:k], first, last, _per_day(row[k + 2], last - first + 1))

            return keep_spread

        def keep(row: tuple, prefix: tuple) -> tuple | None:
            out = [*prefix, *row[:k]] if keep_keys is None else [
                *prefix, *[v if f is None else f(v) for v, f in zip(row[:k], keep_keys)]]
            if not days:
                for i, f in values:
                    out.append(row[i] if f is None else f(row[i]))
                return tuple(out)
            first, last = row[k].toordinal(), row[k + 1].toordinal()
            if last < first:
                return None
            count = last - first + 1
            out.append(first)
            out.append(last)
            for i, f in values:
                out.append(_per_day(row[i], count) if f is _SPREAD else row[i] if f is None else f(row[i]))
            return tuple(out)

        return keep

    def group(self, key: tuple, figures: list, cases: int) -> tuple:
        """The group as the rule's functions read it: keys, figures, `cases`."""
        if not self.reads:
            return (*key, *figures, cases)
        values = [*key, *figures, cases]
        for i, read in self.reads:
            values[i] = read(values[i])
        return tuple(values)


class BatchRules:
    """The batch rules of a plan, ready to run; immutable, shared between threads."""

    def __init__(self, plan: Plan):
        functions = link(plan)
        self.plan = plan
        self.rules = tuple(_Rule(rule, functions) for rule in plan.batch_rules)
        # The rules a case adds rows to (`rows`): not those whose rows are each case's id
        # (`BatchRulePlan.case_keyed`), which an audit's ledger reads from its cases.
        self.made = tuple(rule for rule in self.rules if not rule.plan.case_keyed)
        self.params_at = parameters_at(plan.parameters)
        self.case_rows = functions.get("batch_case_rows")
        self.keeps = tuple(None if rule.plain else rule.keep for rule in self.rules)
        # add_rows(case, payout, as_of, prefix, into): made once, what it reads bound (a chunk calls
        # it for every case)
        self.add_rows = self._rows_adder()

    def __bool__(self) -> bool:
        return bool(self.rules)

    # ------------------------------------------------------- what a case adds
    def rows(self, case, payout: dict, as_of: dt.date, prefix: tuple = ()) -> list[tuple[int, list[tuple]]]:
        """(rule index, rows) for each batch rule the case adds rows to, the rows as kept, each
        after `prefix` (the worker's: the case's place in its chunk and its id); none for a
        case-keyed rule (`BatchRulePlan.case_keyed`: its one row is the case's id)."""
        plan = self.plan
        steps = getattr(case, plan.steps_field) if plan.steps_field else ()
        params = self.params_at(as_of)
        out = []
        for rule in self.made:
            try:
                made = rule.make_rows(case, steps, payout, as_of, params)
            except (KeyError, NotInForce) as error:  # a parameter with no value on the case's day
                raise _no_value(error, rule.plan.id, as_of) from None
            except (ArithmeticError, TypeError, ValueError, AttributeError) as error:
                raise EvaluationError(Code.NOT_EVALUABLE, message_of(Code.NOT_EVALUABLE, "not_evaluable_case",
                                                                     rule=rule.plan.id, reason=str(error)),
                                      rule.plan.id) from None
            if not made:
                continue
            if rule.plain:
                kept = [(*prefix, *row) for row in made] if prefix else made
            else:
                keep = rule.keep
                kept = []
                for row in made:
                    row = keep(row, prefix)
                    if row is not None:
                        kept.append(row)
            if kept:
                out.append((rule.plan.index, kept))
        return out

    def _rows_adder(self):
        """`add_rows(case, payout, as_of, prefix, into)`: the rows `rows` gives, added to
        `into[rule index]` — by one generated function for all the rules (`batch_case_rows`);
        a case that a rule cannot read adds none, and raises what `rows` raises."""
        case_rows, rows, params_at, keeps, steps_field = (self.case_rows, self.rows, self.params_at, self.keeps,
                                                          self.plan.steps_field)

        def add_rows(case, payout: dict, as_of: dt.date, prefix: tuple, into: list[list[tuple]]) -> None:
            if case_rows is None:  # no batch rules
                return
            steps = getattr(case, steps_field) if steps_field else ()
            try:
                case_rows(case, steps, payout, as_of, params_at(as_of), prefix, keeps, into)
            except Exception:  # which rule, and why, as `rows` says it
                for index, kept in rows(case, payout, as_of, prefix):
                    into[index].extend(kept)

        return add_rows

    # ------------------------------------------------------- the findings
    def columns(self, index: int) -> tuple[list[str], list[str]]:
        """The columns of a rule's rows that `findings` reads, in order, and those they are
        sorted by: the keys `k0…`, then `case_id, seq` (or, with `each day`, `first_day,
        last_day, case_id`), then the values `v0…`."""
        rule = self.rules[index]
        keys = [f"k{i}" for i in range(rule.key_count)]
        values = [f"v{i}" for i in range(len(rule.values))]
        if rule.plan.days:
            return keys + ["first_day", "last_day", "case_id"] + values, keys + ["first_day"]
        return keys + ["case_id", "seq"] + values, keys + ["case_id", "seq"]

    def layout(self, index: int) -> list[str]:
        """The columns of a rule's rows as `rows` gives them: keys, days, values."""
        rule = self.rules[index]
        days = ["first_day", "last_day"] if rule.plan.days else []
        return [f"k{i}" for i in range(rule.key_count)] + days + [f"v{i}" for i in range(len(rule.values))]

    def parameters(self, day: dt.date, overrides: dict | None = None) -> dict:
        """The parameters batch rules read: those in force on `day`, and the overrides."""
        params = dict(self.params_at(day))
        params.update(overrides or {})
        return params

    def lone(self, index: int) -> int | None:
        """For a rule whose groups of one item can be left unread: the number of its values
        (`v0…`), else None. A rule without `each day` whose clauses read no key (`decide_reads`)
        and whose keys are read as kept decides the same for every group of one item with the
        same values — its figures are that item's values, `cases` 1 —, so a reader may read,
        of those groups, only the ones whose values `lone_picks` says a clause picks."""
        rule = self.rules[index]
        reads = rule.plan.decide_reads
        if rule.plan.days or reads is None or any(i < rule.key_count for i in reads) or any(rule.read_keys):
            return None
        return len(rule.values)

    def lone_picks(self, index: int, values: Iterable[tuple], params: dict) -> list[int] | None:
        """Of the values (`v0…`) of groups of one item of a rule `lone` allows, the places of
        those whose group a clause picks; None if a group of them cannot be decided (what `findings`
        raises: the rule is then read whole, and raises as before)."""
        rule = self.rules[index]
        lead = (None,) * rule.key_count + (None, 0)  # (no key is read; the case id and seq unread)
        picked = []
        try:
            for place, value in enumerate(values):
                if next(self._by_group(rule, [(*lead, *value)], params), None) is not None:
                    picked.append(place)
        except Exception:  # noqa: BLE001 - decided by `findings`, on the rows themselves
            return None
        return picked

    def findings(self, index: int, rows: Iterable[tuple], params: dict) -> Iterator[Finding]:
        """The findings of one rule over its rows (as `columns` and sorted by its order)."""
        rule = self.rules[index]
        if not rule.plan.days:
            found = self._by_group(rule, rows, params)
        elif rule.plan.decide_reads == (rule.key_count + 1,) and len(rule.plan.figures) == 1 and rule.values:
            found = self._by_day_one(rule, rows, params)  # (one figure, not a count: the usual rule)
        else:
            found = self._by_day(rule, rows, params)
        try:
            yield from found
        except (KeyError, NotInForce) as error:
            raise _no_value(error, rule.plan.id, None) from None
        except (ArithmeticError, TypeError, ValueError) as error:
            raise EvaluationError(Code.NOT_EVALUABLE, message_of(Code.NOT_EVALUABLE, "not_evaluable_group",
                                                                 rule=rule.plan.id, reason=str(error)),
                                  rule.plan.id) from None

    def _by_group(self, rule: _Rule, rows, params: dict) -> Iterator[Finding]:
        k = rule.key_count
        decide, index, group_of = rule.decide, rule.plan.index, rule.group
        aggregates = [(k + 2 + j, a == "sum", a == "max") for j, (a, _kind) in enumerate(rule.values)]
        counts = [a == "count" for _name, a, _kind in rule.plan.figures]
        counted = any(counts)
        only_counted = counted and not aggregates  # (the figures are each the group's items)
        plain = not rule.reads  # (the group's values read as they are kept: made here at once)
        for key, group in itertools.groupby(rows, key=itemgetter(*range(k)) if k > 1 else itemgetter(0)):
            key = key if k > 1 else (key,)
            row = next(group)  # the group's first row; most groups have no other
            last, first_seq = row[k], row[k + 1]
            shown = [last]
            totals = list(row[k + 2:])
            items = distinct = 1
            for row in group:
                items += 1
                case_id, seq = row[k], row[k + 1]
                if case_id != last:
                    distinct += 1
                    last = case_id
                    if len(shown) < CASES_SHOWN:
                        shown.append(case_id)
                if seq < first_seq:
                    first_seq = seq
                for j, (at, is_sum, is_max) in enumerate(aggregates):
                    value, total = row[at], totals[j]
                    if total is None:
                        totals[j] = value
                    elif is_sum:
                        totals[j] = total + value
                    elif (value > total) == is_max:
                        totals[j] = value
            if only_counted:
                figures = [items] * len(counts)
            elif counted:
                values = iter(totals)
                figures = [items if count else next(values) for count in counts]
            else:
                figures = totals
            group_values = (*key, *figures, distinct) if plain else group_of(key, figures, distinct)
            clause = decide(group_values, params)
            if clause >= 0:
                yield Finding(index, clause, key, tuple(shown), distinct, first_seq, group_values)

    def _by_day(self, rule: _Rule, rows, params: dict) -> Iterator[Finding]:
        """The sweep: for each group, its items by first day; on each day one starts, the items
        running then (a heap by last day) give the day's figures."""
        k = rule.key_count
        decide, index = rule.decide, rule.plan.index
        width = len(rule.values)
        one = width == 1  # (the usual rule: one figure to add up; no loop over the figures)
        counts = [a == "count" for _name, a, _kind in rule.plan.figures]
        counted = any(counts)
        push, pop = heapq.heappush, heapq.heappop
        group_key = itemgetter(*range(k)) if k > 1 else itemgetter(0)
        day_of = itemgetter(k)
        # The group's values as the rule reads them (`_Rule.group`), made here: the keys read
        # once per group, then the day and the figures on each day.
        read_keys = rule.read_keys if any(rule.read_keys) else None
        read_figures = rule.read_figures
        read_one = read_figures[0] if one and not counted else None  # (the usual rule's one figure)
        for key, items in itertools.groupby(rows, key=group_key):
            key = key if k > 1 else (key,)
            read_key = key if read_keys is None else tuple(
                value if read is None else read(value) for value, read in zip(key, read_keys))
            running: list = []  # (last day, order, case id, values): a heap by last day
            items_of: dict = {}  # running items per case id
            cases = None  # the case ids running, sorted: made at the group's first finding
            totals = [0] * width
            order = 0
            for day, starting in itertools.groupby(items, key=day_of):
                while running and running[0][0] < day:
                    _last, _order, case_id, values = pop(running)
                    if one:
                        totals[0] -= values[0]
                    else:
                        for j in range(width):
                            totals[j] -= values[j]
                    left = items_of[case_id] - 1
                    if left:
                        items_of[case_id] = left
                    else:
                        del items_of[case_id]
                        if cases is not None:
                            cases.remove(case_id)
                for row in starting:
                    order += 1
                    case_id, values = row[k + 2], row[k + 3:]
                    push(running, (row[k + 1], order, case_id, values))
                    if one:
                        totals[0] += values[0]
                    else:
                        for j in range(width):
                            totals[j] += values[j]
                    already = items_of.get(case_id, 0)
                    items_of[case_id] = already + 1
                    if not already and cases is not None:
                        cases.add(case_id)
                if read_one is not None:
                    group_values = (*read_key, _from_ordinal(day), read_one(totals[0]), len(items_of))
                else:
                    if counted:  # `count`: the items running
                        values = iter(totals)
                        figures = [len(running) if is_count else next(values) for is_count in counts]
                    else:
                        figures = totals
                    group_values = (*read_key, _from_ordinal(day),
                                    *[value if read is None else read(value) for value, read in zip(figures, read_figures)],
                                    len(items_of))
                clause = decide(group_values, params)
                if clause >= 0:
                    if cases is None:
                        cases = SortedList(items_of)
                    yield Finding(index, clause, key + (day,), tuple(cases.islice(0, CASES_SHOWN)), len(cases),
                                  None, group_values)

    def _by_day_one(self, rule: _Rule, rows, params: dict) -> Iterator[Finding]:
        """`_by_day` for the usual rule — one figure, added up, the only value its clauses read
        (`decide_reads`: not the key, the day nor `cases`) —: a day's clause is the same for
        the same sum, so each sum (a whole number of millionths, …) is decided once, up to
        `_DECIDED_KEPT` of them, and the day's values are made only for a sum decided the first
        time or a finding. The case ids running (how many, and which, for a finding) are counted
        from the items running once a group has a finding, and kept up to date from then on."""
        k = rule.key_count
        decide, index = rule.decide, rule.plan.index
        push, pop = heapq.heappush, heapq.heappop
        group_key = itemgetter(*range(k)) if k > 1 else itemgetter(0)
        day_of = itemgetter(k)
        read_keys = rule.read_keys if any(rule.read_keys) else None
        read_one = rule.read_figures[0] or _as_kept  # (a whole number's sum is read as it is kept)
        last_at, case_at, value_at = k + 1, k + 2, k + 3
        decided: dict = {}  # sum (int) → the clause it picks
        start, end = object(), object()  # (before the first row; after the last: the last day decided)
        key = day = start
        read_key = running = items_of = cases = None
        total = order = 0
        last_row = (end,) * (k + 1)
        for row in itertools.chain(rows, (last_row,)):
            row_key = row[0] if k == 1 else group_key(row)
            row_day = row[k]
            if row_day != day or row_key != key:
                if day is not start:  # the day before decided: the items running then
                    clause = decided.get(total) if total.__class__ is int else None
                    if clause is None:
                        running_cases = len(items_of) if items_of is not None else len({item[2] for item in running})
                        clause = decide((*read_key, _from_ordinal(day), read_one(total), running_cases), params)
                        if total.__class__ is int and len(decided) < _DECIDED_KEPT:
                            decided[total] = clause
                    if clause >= 0:
                        if items_of is None:
                            items_of = {}
                            for item in running:
                                items_of[item[2]] = items_of.get(item[2], 0) + 1
                            cases = SortedList(items_of)
                        yield Finding(index, clause, (*key, day) if k > 1 else (key, day),
                                      tuple(cases.islice(0, CASES_SHOWN)), len(cases), None,
                                      (*read_key, _from_ordinal(day), read_one(total), len(items_of)))
                if row is last_row:
                    return
                day = row_day
                if row_key != key:  # a new group
                    key = row_key
                    keys = key if k > 1 else (key,)
                    read_key = keys if read_keys is None else tuple(
                        value if read is None else read(value) for value, read in zip(keys, read_keys))
                    running = []  # (last day, order, case id, value): a heap by last day
                    items_of = cases = None  # running items per case id, the case ids: at a first finding
                    total = order = 0
                else:
                    while running and running[0][0] < day:
                        _last, _order, case_id, value = pop(running)
                        total -= value
                        if items_of is not None:
                            left = items_of[case_id] - 1
                            if left:
                                items_of[case_id] = left
                            else:
                                del items_of[case_id]
                                cases.remove(case_id)
            order += 1
            case_id, value = row[case_at], row[value_at]
            push(running, (row[last_at], order, case_id, value))
            total += value
            if items_of is not None:
                already = items_of.get(case_id, 0)
                items_of[case_id] = already + 1
                if not already:
                    cases.add(case_id)

    def evaluate(self, cases: Iterable[tuple], overrides: dict | None = None) -> tuple[dict, list[Finding]]:
        """The findings of every batch rule over a few judged cases held in memory — (validated
        snapshot, payout, day judged on) each, in input order — with the parameters of the
        latest of those days, as an audit takes them: (parameters, findings by rule and key)."""
        rows: list[list[tuple]] = [[] for _ in self.rules]
        latest = None
        keyed = [rule.plan.index for rule in self.rules if rule.plan.case_keyed]
        for seq, (case, payout, day) in enumerate(cases):
            latest = day if latest is None or day > latest else latest
            for index, kept in [*self.rows(case, payout, day), *((index, [(case.case_id,)]) for index in keyed)]:
                layout = self.layout(index)
                columns, _order = self.columns(index)
                for row in kept:
                    named = dict(zip(layout, row), seq=seq, case_id=case.case_id)
                    rows[index].append(tuple(named[c] for c in columns))
        params = self.parameters(latest or dt.date.max, overrides)
        found: list[Finding] = []
        for index, table in enumerate(rows):
            columns, order = self.columns(index)
            found.extend(self.findings(index, sorted(table, key=sort_key(columns, order)), params))
        return params, found

    # ------------------------------------------------------- a finding's values
    def figures(self, finding: Finding, params: dict) -> list[tuple[str, str, object]]:
        """(name, format kind, value) of each figure and `let` of a finding."""
        rule = self.rules[finding.rule]
        plan = rule.plan
        start = len(plan.keys)
        out = [(name, kind, finding.group[start + i]) for i, (name, _aggregate, kind) in enumerate(plan.figures)]
        lets = rule.lets(finding.group, params) if plan.lets else ()
        out += [(name, kind, value) for (name, kind), value in zip(plan.lets, lets)]
        return out

    def args(self, finding: Finding, params: dict) -> tuple:
        """The values the texts of the finding's clause show."""
        return self.rules[finding.rule].args(finding.group, params, finding.clause)


def sort_key(columns: list[str], order: list[str]):
    """The key that sorts rows of `columns` as `order` says (for rows sorted in memory)."""
    return itemgetter(*[columns.index(name) for name in order])


def _no_value(error: LookupError, rule: str, day: dt.date | None) -> EvaluationError:
    name = error.args[0] if error.args else "?"
    on = word("on_day", day=day.isoformat()) if day is not None else ""
    return EvaluationError(Code.NO_PARAMETER_VALUE, message_of(Code.NO_PARAMETER_VALUE, "no_value", name=name, on=on,
                                                               rule=rule), rule)
