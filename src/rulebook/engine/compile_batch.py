"""compile_batch: the batch rules of a checked program → functions of the generated module.

For batch rule N (see `language.check_batch`), built with the expression compiler of the
module (`expressions.ExpressionCompiler`, which `compile` hands over from its `run`):

- `batch_rows_N(c, steps, pc, as_of, _P)`: what one case adds to the rule — a tuple per item
  (the case, or each of its steps) that passes `where`: its keys, the first and last day of its
  range (with `each day`), and the value of each figure but `count`;
- `batch_decide_N(g, _P)`: the clause that a group picks (its index), or -1 for none. `g` is the
  group: its keys (`day` last, with `each day`), its figures in their order, and `cases`;
- `batch_args_N(g, _P, k)`: the values the texts of clause k show;
- `batch_lets_N(g, _P)`: the values of the rule's `let`s, the figures a finding reports;

and, for all the batch rules at once, `batch_case_rows(c, steps, pc, as_of, _P, pre, keep, into)`:
what one case adds to every rule (but a case-keyed one, `_case_keyed`: its rows are each case's
id, which an audit's ledger holds already), in one call — each rule's items and values as `batch_rows_N`
makes them, each row made as its ledger keeps it (`keep[N]`, the rule's conversion, or, for a
rule whose rows are kept as they are, None) after `pre`, and added to `into[N]` once all are
made (a case that a rule cannot read adds nothing: `engine.batch` then asks `batch_rows_N`
which rule it was).

The group is a plain tuple and its names are its items (`g[i]`): the group's names shadow the
case's fields, which a group of many cases does not have.
"""

from __future__ import annotations

import ast
import copy

from ..language import syntax as s
from ..language.check_batch import CASES, DAY
from ..language.program import BatchRule
from . import codegen as cg
from .expressions import ExpressionCompiler, Scope, format_kind_of, init_slots
from .plan import BatchRulePlan, ClausePlan

CASE_ID = "case_id"  # the snapshot's field that names a case (a verdict's `case_id`)


def compile_batch(exprs: ExpressionCompiler, functions: list[ast.FunctionDef],
                  rules: list[BatchRule]) -> tuple[BatchRulePlan, ...]:
    """The plans of the batch rules; their functions are added to `functions`."""
    plans, items = [], []
    for rule in rules:
        batch = _Batch(exprs, functions, rule)
        plans.append(batch.run())
        if not plans[-1].case_keyed:  # (a case-keyed rule's rows are each case's id: none made)
            items.append(batch.items)
    exprs.group_names, exprs.let_exprs, exprs.names = {}, {}, {}
    if rules:
        functions.append(_case_rows(items))
    return tuple(plans)


def _case_keyed(rule: BatchRule) -> bool:
    """Whether the rule groups every case by its own id and only counts (`BatchRulePlan.case_keyed`)."""
    return (rule.items == "cases" and rule.where is None and rule.days is None and len(rule.keys) == 1
            and isinstance(rule.keys[0][1], s.Name) and rule.keys[0][1].name == CASE_ID
            and all(kind == "count" for _name, kind, _expr, _type in rule.figures))


def _case_rows(items: list[tuple]) -> ast.FunctionDef:
    """`batch_case_rows` (see the module's docstring) from each rule's (index, over each step,
    the statement that starts its slots, its `where` or None, its values)."""
    body: list[ast.stmt] = []
    for index, each_step, init, test, values in items:
        rows, keep, kept = f"_rows{index}", f"_keep{index}", f"_kept{index}"
        as_is = cg.do(cg.method(cg.name(rows), "append", cg.tuple_of([cg.spread(cg.name("pre")), *values])))
        converted = [cg.assign(kept, cg.call(cg.name(keep), cg.tuple_of(copy.deepcopy(values)), cg.name("pre"))),
                     cg.if_(cg.is_set(cg.name(kept)), [cg.do(cg.method(cg.name(rows), "append", cg.name(kept)))])]
        add: ast.stmt = cg.if_(cg.is_none(cg.name(keep)), [as_is], converted)
        if test is not None:
            add = cg.if_(test, [add])
        made = [cg.for_("st", cg.name("steps"), [init, add])] if each_step else [init, add]
        body += [cg.assign(rows, cg.list_of()), cg.assign(keep, cg.item(cg.name("keep"), index)), *made]
    for index, *_ in items:
        body.append(cg.do(cg.method(cg.item(cg.name("into"), index), "extend", cg.name(f"_rows{index}"))))
    return cg.function("batch_case_rows", ["c", "steps", "pc", "as_of", "_P", "pre", "keep", "into"], body)


def _group_reads(function: ast.FunctionDef) -> tuple[int, ...] | None:
    """The places of the group `g` that a generated function reads (`g[i]`, i a constant),
    sorted; None if it uses `g` in any other way."""
    read: set[int] = set()
    subscripted: set[int] = set()  # (the `g` nodes read as `g[i]`)
    for node in ast.walk(function):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "g"
                and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int
                and node.slice.value >= 0 and isinstance(node.ctx, ast.Load)):
            read.add(node.slice.value)
            subscripted.add(id(node.value))
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id == "g" and id(node) not in subscripted:
            return None
    return tuple(sorted(read))


class _Batch:
    def __init__(self, exprs: ExpressionCompiler, functions: list[ast.FunctionDef], rule: BatchRule):
        self.exprs, self.functions, self.rule = exprs, functions, rule

    def run(self) -> BatchRulePlan:
        rule, exprs = self.rule, self.exprs
        self.functions.append(self.rows())
        names = [name for name, _expr, _type in rule.keys] + ([DAY] if rule.days else [])
        names += [name for name, *_ in rule.figures] + [CASES]
        exprs.group_names = {name: cg.item(cg.name("g"), i) for i, name in enumerate(names)}
        exprs.let_exprs, exprs.names = rule.lets, {}
        decide = self.decide()
        self.functions.append(decide)
        clauses, args = self.args()
        self.functions.append(args)
        self.functions.append(self.lets())
        exprs.group_names = {}
        keys = tuple((name, format_kind_of(typ)) for name, _expr, typ in rule.keys)
        if rule.days:
            keys += ((DAY, "date"),)
        return BatchRulePlan(
            rule.index, rule.id, rule.items, rule.stage, rule.titles, rule.source, keys, rule.days is not None,
            tuple((name, kind, format_kind_of(typ)) for name, kind, _expr, typ in rule.figures),
            tuple((name, exprs.format_kind(expr)) for name, expr in rule.lets.items()), clauses, str(rule.span),
            case_keyed=_case_keyed(rule), decide_reads=_group_reads(decide))

    def scope(self, step_var: str | None, prefix: str):
        scope = Scope(step_var, prefix=prefix)
        scope.lets = dict.fromkeys(self.exprs.let_exprs)
        return scope

    def rows(self) -> ast.FunctionDef:
        rule, exprs = self.rule, self.exprs
        exprs.group_names, exprs.let_exprs, exprs.names = {}, {}, {}
        each_step = rule.items == "each_step"
        scope = self.scope("st" if each_step else None, f"_b{rule.index}")
        test = exprs.expr(rule.where, scope) if rule.where is not None else None
        values = [exprs.expr(expr, scope) for _name, expr, _type in rule.keys]
        if rule.days:
            values += [exprs.expr(day, scope) for day in rule.days]
        values += [exprs.expr(expr, scope) for _name, kind, expr, _type in rule.figures if kind != "count"]
        # (the same, for `batch_case_rows`)
        self.items = (rule.index, each_step, init_slots(scope), copy.deepcopy(test), copy.deepcopy(values))
        keep: ast.stmt = cg.do(cg.method(cg.name("out"), "append", cg.tuple_of(values)))
        if test is not None:
            keep = cg.if_(test, [keep])
        item = [init_slots(scope), keep]
        body = [cg.for_("st", cg.name("steps"), item)] if each_step else item
        return cg.function(f"batch_rows_{rule.index}", ["c", "steps", "pc", "as_of", "_P"],
                           [cg.assign("out", cg.list_of()), *body, cg.return_(cg.name("out"))])

    def decide(self) -> ast.FunctionDef:
        rule, exprs = self.rule, self.exprs
        scope = self.scope(None, f"_g{rule.index}")
        branches = [(exprs.expr(clause.condition, scope), [cg.assign("k", cg.literal(clause.index))])
                    for clause in rule.clauses]
        branches.append((None, [cg.assign("k", cg.literal(-1))]))
        return cg.function(f"batch_decide_{rule.index}", ["g", "_P"],
                           [init_slots(scope), *cg.chain(branches), cg.return_(cg.name("k"))])

    def args(self) -> tuple[tuple[ClausePlan, ...], ast.FunctionDef]:
        rule, exprs = self.rule, self.exprs
        scope = self.scope(None, "")
        body: list[ast.stmt] = []
        plans = []
        for clause in rule.clauses:
            plan, args = exprs.clause_texts(clause, scope)
            plans.append(plan)
            if args:
                body.append(cg.if_(cg.compare(cg.name("k"), "==", cg.literal(clause.index)),
                                   [cg.return_(cg.tuple_of(args))]))
        function = cg.function(f"batch_args_{rule.index}", ["g", "_P", "k"],
                               [init_slots(scope), *body, cg.return_(cg.tuple_of(()))])
        return tuple(plans), function

    def lets(self) -> ast.FunctionDef:
        rule, exprs = self.rule, self.exprs
        scope = self.scope(None, "")
        values = [exprs.bound_let(name, scope) for name in rule.lets]
        return cg.function(f"batch_lets_{rule.index}", ["g", "_P"],
                           [init_slots(scope), cg.return_(cg.tuple_of(values))])
