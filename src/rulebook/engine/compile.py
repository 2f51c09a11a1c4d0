"""compile: Program → Plan, the whole rulebook as one generated Python module.

The module (built as `ast` nodes with `engine.codegen`, kept in the plan as its source) holds:

- `evaluate_case(c, steps, as_of, _P, params_at, dated_day)`: every rule inlined, in rulebook
  order — the case's rules, then each step's rules and payout inside one loop over the steps,
  the case's payout, then the rules that read the payout. It returns the results (tuples: rule,
  subject, step, clause — see `evaluate.RULE` … `evaluate.FACTS` — then the value of each fact
  slot), the steps' amounts and the case's amounts;
- `args_N(c, st, si, as_of, _P, params_at, pc, k)` for rule N: the values that the message,
  fix and due date of clause k show, computed only when a verdict is explained;
- `times_N(…)` for a rule that compares the as-of date with a date of the case: the days on
  which those comparisons can change (see `timeline`);
- `dated_default(c, as_of)`: the day the parameters are taken on;
- `_loopN(items, …)`: a quantifier's or an aggregate's loop, in a function of its own (see
  `expressions.ExpressionCompiler.loop_helper`): it is given the names its body reads and gives
  back the fact slots it sets;
- the batch rules' functions (`compile_batch`).

Every field, parameter, let and the as-of date a rule reads has one fact slot, assigned where
it is read (`:=`), so the trace of facts read costs a local store. Names of the rule files
reach the code only as declared fields (attributes) and prefixed locals; every value enters
as a constant or through the constants table (`codegen`).

This module builds the rules, the driver, the payout and the plan; the expressions inside
them are `expressions`' (the scope of each function, its fact slots, the loop helpers).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt

from ..language import syntax as s
from ..language.program import Order, Program, Rule
from . import codegen as cg
from .compile_batch import compile_batch
from .expressions import ExpressionCompiler, Scope, format_kind_of, init_slots
from .order import inline_check, inlinable
from .plan import NO_VALUE, NOT_IN_FORCE, OrderPlan, Plan, RulePlan
from .timeline import always_daily, editions, parameters_read, payout_parameters, time_use


def compile_program(program: Program) -> Plan:
    return _Generator(program).run()


class _Block:
    """A rule's decision, built once, inlined once into `evaluate_case`: it leaves `k`, the
    deciding clause, and hands the result to `keep`, which makes the statement that keeps it
    (appending to the rule's list, or assigning the case rule's `rN`). A clause that fails adds
    the failure to its subject's (`failed`) in its own branch. A parameter the decision reads
    that has no value on its day (`runtime.NotInForce`) makes the result a failure of the rule,
    `NO_VALUE`, naming the parameter and the day."""

    def __init__(self, rule: Rule, init: ast.stmt, prelude: list[ast.stmt], branches: list[tuple[ast.expr | None, int]],
                 facts: list[str], not_in_force: ast.expr | None):
        self.rule, self.init, self.prelude, self.branches = rule, init, prelude, branches
        self.facts, self.not_in_force = facts, not_in_force

    def statements(self, head, keep, failed: ast.stmt) -> list[ast.stmt]:
        """`head(clause)`: the result's first fields; `keep(result)`: the statement that keeps it;
        `failed`: what a failure adds to the failures of its subject.

        Each branch keeps its own result, with its clause as a constant (no `k`), when the
        branches end with an `otherwise` and `_Slots` can tell, for each branch, which slots the
        decision surely set on the way to it and which it cannot have set: those are read from
        their slot or are `_U`, and only the other slots (set on some ways and not on others, or
        read before they are surely set) start as `_U`. Otherwise every slot starts as `_U` and
        one result is kept after the branches, with `k`."""
        status = {clause.index: clause.status for clause in self.rule.clauses}
        no_value = cg.binary(cg.tuple_of(head(cg.literal(NO_VALUE))), "+", cg.call("_nf", cg.name("_e")))
        prelude, tests = copy.deepcopy((self.prelude, [test for test, _ in self.branches]))
        slots = _Slots(self.facts, self.init)
        ways = slots.ways(prelude, tests)
        if ways is not None:
            init, kinds = ways
            prelude, tests = slots.simplify((prelude, tests))
            decide = cg.chain([(test, ([failed] if status[index] == "fail" else [])
                                + [keep(cg.tuple_of(head(cg.literal(index))
                                                    + [cg.name(f if kind[f] else "_U") for f in self.facts]))])
                               for test, (_, index), kind in zip(tests, self.branches, kinds)])
            decided = [cg.try_except(decide, "_NotInForce", "_e", [keep(no_value), failed])]
            body = ([init] if init is not None else []) + prelude
        else:
            result = cg.tuple_of(head(cg.name("k")) + [cg.name(f) for f in self.facts])
            decide = cg.chain([(test, [cg.assign("k", cg.literal(index))]
                                + ([failed] if status[index] == "fail" else []))
                               for test, index in self.branches])
            decided = [cg.try_except(decide + [keep(result)], "_NotInForce", "_e",
                                     [cg.assign("k", cg.literal(NO_VALUE)), keep(no_value), failed])]
            body = [self.init] + self.prelude
        if self.not_in_force is None:
            return body + decided
        skip = [cg.assign("k", cg.literal(NOT_IN_FORCE)),
                keep(cg.tuple_of(head(cg.literal(NOT_IN_FORCE)) + [cg.name("_D")]))]
        return body + [cg.if_(self.not_in_force, skip, decided)]


class _Unsure(Exception):
    """A form `_Slots` does not follow: every slot starts as `_U`, as before."""


class _Slots:
    """Which of a rule's slots its decision surely set, or cannot have set, on the way to each
    branch (a definite-assignment analysis of the block's `prelude` and its branches' tests, in
    Python's order of evaluation: `and`/`or` and `x if c else y` evaluate some operands only, a
    chained comparison its first comparison surely, every other form each operand in turn)."""

    def __init__(self, facts: list[str], init: ast.stmt):
        self.facts = facts
        self.targets = [t.id for t in getattr(init, "targets", ())]
        self.slots = frozenset(self.targets)
        self.read_early: set[str] = set()  # slots read where they may not be set yet
        self.assigned: set[str] = set()  # slots set somewhere so far
        self.computed: set[int] = set()  # the `S if S is not _U else (S := …)` found where S cannot be set yet

    def ways(self, prelude: list[ast.stmt], tests: list[ast.expr | None]):
        """(the statement starting the slots that must start as `_U`, or None; for each branch,
        {fact: True to read its slot, False for `_U`}) — or None when it cannot tell."""
        if not tests or tests[-1] is not None or not self.slots:
            return None
        try:
            sure: frozenset = frozenset()
            for stmt in prelude:
                sure = self.assignment(stmt, sure)
            reaching = []  # (slots surely set, slots maybe set) at each branch
            for test in tests:
                if test is None:
                    reaching.append((sure, frozenset(self.assigned)))
                    break
                when_true, when_false = self.cond(test, sure)
                reaching.append((when_true, frozenset(self.assigned)))
                sure = when_false
        except _Unsure:
            return None
        start = set(self.read_early)
        for surely, maybe in reaching:
            start |= (maybe - surely) & set(self.facts)
        start &= self.slots
        kinds = [{f: f in start or f in surely for f in self.facts} for surely, _maybe in reaching]
        ordered = [slot for slot in self.targets if slot in start]
        return (cg.assign(ordered, cg.name("_U")) if ordered else None), kinds

    def cond(self, node: ast.expr, sure: frozenset) -> tuple[frozenset, frozenset]:
        """(slots surely set when node is true, when it is false)."""
        if isinstance(node, ast.BoolOp):
            exits = []  # the sure sets where evaluation stops early
            for value in node.values:
                when_true, when_false = self.cond(value, sure)
                if isinstance(node.op, ast.And):
                    exits.append(when_false)
                    sure = when_true
                else:
                    exits.append(when_true)
                    sure = when_false
            stopped = frozenset.intersection(*exits)
            return (sure, stopped) if isinstance(node.op, ast.And) else (stopped, sure)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            when_true, when_false = self.cond(node.operand, sure)
            return when_false, when_true
        after = self.expr(node, sure)
        return after, after

    def simplify(self, tree):
        """The tree with each `S if S is not _U else (S := …)` that `computed` holds made its
        `(S := …)`: where nothing can have set S yet, it is `_U` there (or, not starting as `_U`,
        holds another rule's or step's value, which the test would have taken for this one's)."""
        computed = self.computed

        class Computed(ast.NodeTransformer):
            def visit_IfExp(self, node):
                return self.visit(node.orelse) if id(node) in computed else self.generic_visit(node)

        if isinstance(tree, tuple):
            prelude, tests = tree
            return ([Computed().visit(stmt) for stmt in prelude],
                    [Computed().visit(test) if test is not None else None for test in tests])
        return [Computed().visit(stmt) for stmt in tree]

    def statements(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        """A payout's statements (`_Generator.payout`: its slots' start, then assignments, each
        in a `try`) with only the slots read before they are surely set starting as `_U` (no
        result holds a payout's slots) and the reads `simplify` finds made computations; the
        statements as they are when `_Slots` cannot tell."""
        if not statements or not isinstance(statements[0], ast.Assign) or not self.slots:
            return statements
        copied = copy.deepcopy(statements[1:])
        sure: frozenset = frozenset()
        try:
            for stmt in copied:
                if isinstance(stmt, ast.Try) and not stmt.orelse and not stmt.finalbody:
                    for inner in stmt.body:
                        self.assignment(inner, sure)
                    for handler in stmt.handlers:
                        for inner in handler.body:
                            self.assignment(inner, sure)
                else:
                    sure = self.assignment(stmt, sure)
        except _Unsure:
            return statements
        start = [slot for slot in self.targets if slot in self.read_early]
        return ([cg.assign(start, cg.name("_U"))] if start else []) + self.simplify(copied)

    def assignment(self, stmt: ast.stmt, sure: frozenset) -> frozenset:
        """The slots surely set after an assignment to names, or an expression statement."""
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            self.assigned |= {t.id for t in stmt.targets}
            return self.expr(stmt.value, sure) | {t.id for t in stmt.targets}
        if isinstance(stmt, ast.Expr):
            return self.expr(stmt.value, sure)
        raise _Unsure

    def expr(self, node: ast.expr, sure: frozenset) -> frozenset:
        """The slots surely set once node is evaluated (and it did not raise)."""
        if (isinstance(node, ast.IfExp) and isinstance(node.body, ast.Name) and node.body.id in self.slots
                and node.body.id not in self.assigned and isinstance(node.orelse, ast.NamedExpr)
                and node.orelse.target.id == node.body.id and isinstance(node.test, ast.Compare)
                and isinstance(node.test.left, ast.Name) and node.test.left.id == node.body.id
                and len(node.test.ops) == 1 and isinstance(node.test.ops[0], ast.IsNot)
                and isinstance(node.test.comparators[0], ast.Name) and node.test.comparators[0].id == "_U"):
            self.computed.add(id(node))
            return self.expr(node.orelse, sure)
        if isinstance(node, ast.Name):
            if node.id in self.slots and node.id not in sure:
                self.read_early.add(node.id)
            return sure
        if isinstance(node, ast.NamedExpr):
            self.assigned.add(node.target.id)
            return self.expr(node.value, sure) | {node.target.id}
        if isinstance(node, ast.BoolOp):
            first = self.expr(node.values[0], sure)
            later = first
            for value in node.values[1:]:
                later = self.expr(value, later)
            return first
        if isinstance(node, ast.IfExp):
            tested = self.expr(node.test, sure)
            return self.expr(node.body, tested) & self.expr(node.orelse, tested)
        if isinstance(node, ast.Compare):
            sure = self.expr(node.left, sure)
            first = sure = self.expr(node.comparators[0], sure)
            for value in node.comparators[1:]:
                sure = self.expr(value, sure)
            return first
        if isinstance(node, ast.Constant):
            return sure
        if isinstance(node, (ast.Attribute, ast.Starred)):
            return self.expr(node.value, sure)
        if isinstance(node, ast.Subscript):
            return self.expr(node.slice, self.expr(node.value, sure))
        if isinstance(node, ast.BinOp):
            return self.expr(node.right, self.expr(node.left, sure))
        if isinstance(node, ast.UnaryOp):
            return self.expr(node.operand, sure)
        if isinstance(node, (ast.Tuple, ast.List)):
            for item in node.elts:
                sure = self.expr(item, sure)
            return sure
        if isinstance(node, ast.Call) and not node.keywords:
            sure = self.expr(node.func, sure)
            for item in node.args:
                sure = self.expr(item, sure)
            return sure
        raise _Unsure


class _Generator:
    def __init__(self, program: Program):
        self.p = program
        self.m = cg.Module()
        self.exprs = ExpressionCompiler(program, self.m)
        self.functions: list[ast.FunctionDef] = []
        self.blocks: dict[int, _Block] = {}
        self.numbers: dict[int, ast.expr] = {}  # rule index → the step number of `on step numbered`
        self.marks: list = []  # (rule index, first statement, last statement) of each inlined rule
        self.step_payout_head: list = []  # what the steps' payout computes once, before the steps
        self.steps_loop = False  # the driver loops over the steps before the case's payout
        self.step_sums: list = []  # (local, value): a case amount's `sum … for step in steps`, added up in the steps' loop

    # ------------------------------------------------------------------ run
    def run(self) -> Plan:
        p = self.p
        rules = [self.rule(r) for r in p.rules]
        step_amounts = case_amounts = ()
        self.step_payout = self.case_payout = None
        if p.step_payout:
            step_amounts = tuple(n for n, _ in p.step_payout.amounts)
            self.step_payout = self.payout(p.step_payout)
        if p.case_payout:
            case_amounts = tuple(n for n, _ in p.case_payout.amounts)
            # the first loop over the steps (`driver`) is there when a step rule or the steps'
            # payout runs before the case's payout: a sum over the steps can be added up in it
            self.steps_loop = p.step_payout is not None or any(
                r.subject == "each_step" and not r.reads_payout for r in rules)
            self.case_payout = self.payout(p.case_payout)
        self.functions.append(self.dated_function("dated_default", p.dated))
        for name, section in (("dated_step_payout", p.step_payout), ("dated_case_payout", p.case_payout)):
            if section is not None and section.dated is not None:  # for `next_change`
                day_scope = Scope("st" if section.subject == "each_step" else None)
                day = self.exprs.expr(section.dated, day_scope)
                self.functions.append(cg.function(name, ["c", "st", "as_of"],
                                                  [init_slots(day_scope), cg.return_(day)]))
        self.functions.append(self.driver(rules))
        batch_rules = compile_batch(self.exprs, self.functions, p.batch_rules)
        for fn in self.exprs.helpers + self.functions:
            self.m.add(fn)
        fields = p.schema.field_names
        tree = self.m.tree()
        source = self.m.source(fields)
        rule_lines = tuple(cg.lines_of(source, tree, self.marks))
        required = tuple(sorted(name for name, f in p.schema.root.fields.items()
                                if f.type.kind == "record" and not f.type.optional))
        orders = {name: _order_plan(o, p.steps_field, required) for name, o in p.orders.items()}
        return Plan(
            name=p.name, version=p.version, titles=p.titles, stages=p.stages, rules=rules,
            step_amounts=step_amounts, case_amounts=case_amounts,
            parameters={n: par.values for n, par in p.parameters.items()},
            orders=orders, steps_field=p.steps_field,
            steps_number=p.schema.root.fields[p.steps_field].numbered_by if p.steps_field else None,
            source=source, constants=self.m.constants, fields=tuple(sorted(fields)),
            rule_lines=rule_lines,
            editions=editions(p), payout_parameters=payout_parameters(p), daily=always_daily(p),
            dated_is_as_of=p.dated is None or (isinstance(p.dated, s.Name) and p.dated.name == "as_of"),
            amount_titles=dict(p.case_payout.titles) if p.case_payout else {},
            step_amount_titles=dict(p.step_payout.titles) if p.step_payout else {},
            parameter_titles={n: dict(par.titles) for n, par in p.parameters.items()},
            record_formats={name: tuple((f.name, format_kind_of(f.type.required())) for f in record.fields.values())
                            for name, record in p.schema.records.items()},
            batch_rules=batch_rules,
        )

    def driver(self, rules: list[RulePlan]) -> ast.FunctionDef:
        """`evaluate_case(c, steps, as_of, _P, params_at, dated_day)`: every rule, inlined, in
        rulebook order, each step's payout after that step's rules, the case's payout, then the
        rules that read the payout. Returns the results — (rule index, subject, step index,
        clause, fact slot values…) tuples, by rule then subject — the steps' amounts (tuples)
        and the case's amounts (a mapping)."""
        number_key = self.p.schema.root.fields[self.p.steps_field].numbered_by if self.p.steps_field else None
        body: list[ast.stmt] = [cg.assign("fc", cg.call("set")), cg.assign("fs", cg.call("set")),
                                cg.assign("pc", cg.literal(None)), cg.assign("nv", cg.list_of())]

        def step_subject(var: str) -> ast.expr:
            n = cg.name(var)
            return cg.if_else(cg.compare(cg.literal(0), "<=", n, ("<", cg.literal(1000))),
                              cg.item(cg.name("_SUBJECTS"), cg.name(var)),
                              cg.binary(cg.literal("step:"), "+", cg.call("str", cg.name(var))))

        def inline(rule: RulePlan, out: list[ast.stmt], failed: ast.stmt, one: bool = False) -> None:
            """Add the rule's block to `out`; `one` result (a case rule) goes to `r{N}`, not to a list."""
            def head(clause: ast.expr) -> list[ast.expr]:
                if one and rule.subject == "case":
                    return [cg.literal(rule.index), cg.literal("case"), cg.literal(None), clause]
                return [cg.literal(rule.index), cg.name("subject"), cg.name("si"), clause]

            def keep(result: ast.expr) -> ast.stmt:
                if one:
                    return cg.assign(f"r{rule.index}", result)
                return cg.do(cg.method(cg.name(f"out{rule.index}"), "append", result))

            block = self.blocks[rule.index].statements(head, keep, failed)
            out.extend(block)
            self.marks.append((rule.index, block[0], block[-1]))

        def run_case_rules(group: list[RulePlan]) -> None:
            for rule in group:
                if rule.subject == "case":
                    inline(rule, body, cg.do(cg.method(cg.name("fc"), "add", cg.literal(rule.id))), one=True)
                elif rule.subject == "numbered_step":
                    n = cg.name("n")
                    found = cg.both(cg.compare(cg.literal(0), "<", n, ("<=", cg.call("len", cg.name("steps")))),
                                    cg.compare(cg.field(cg.item(cg.name("steps"), cg.binary(n, "-", cg.literal(1))),
                                                        number_key), "==", cg.name("n")))
                    prelude = [
                        cg.assign("n", self.numbers[rule.index]),
                        cg.if_(cg.is_none(cg.name("n")),
                               [cg.assign("subject", cg.literal("case")), cg.assign("si", cg.literal(None)),
                                cg.assign("st", cg.literal(None))],
                               [cg.assign("subject", step_subject("n")),
                                cg.assign("si", cg.if_else(found, cg.binary(cg.name("n"), "-", cg.literal(1)),
                                                           cg.literal(None))),
                                cg.assign("st", cg.if_else(cg.is_set(cg.name("si")),
                                                           cg.item(cg.name("steps"), cg.name("si")),
                                                           cg.literal(None)))]),
                    ]
                    body.extend(prelude)
                    self.marks.append((rule.index, prelude[0], prelude[-1]))
                    failed = cg.do(cg.if_else(cg.is_set(cg.name("n")),
                                              cg.method(cg.name("fs"), "add", cg.name("n")),
                                              cg.method(cg.name("fc"), "add", cg.literal(rule.id))))
                    inline(rule, body, failed, one=True)

        def run_step_rules(group: list[RulePlan], payout: list[ast.stmt] | None) -> None:
            if not group and payout is None:
                return
            # each rule's list of results, added to by its `append` called as a method (keeping the
            # bound methods in locals took longer: 1.03× evaluate_case, two per rule made per case)
            for rule in group:
                body.append(cg.assign(f"out{rule.index}", cg.list_of()))
            if payout is not None:
                body.append(cg.assign("sp", cg.list_of()))
                body.extend(self.step_payout_head)
            each: list[ast.stmt] = [cg.assign("n", cg.field(cg.name("st"), number_key))]
            if group:
                each.append(cg.assign("subject", step_subject("n")))
            for rule in group:
                inline(rule, each, cg.do(cg.method(cg.name("fs"), "add", cg.name("n"))))
            if payout is not None:
                each.extend(_Slots([], payout[0]).statements(payout))
                amounts = len(self.p.step_payout.amounts)
                each.append(cg.do(cg.method(cg.name("sp"), "append",
                                            cg.tuple_of(cg.name(f"_s{i}") for i in range(amounts)))))
                for i in sorted(self.exprs.previous):  # `previous NAME`: this step's amount, for the next
                    body.append(cg.assign(f"_pv{i}", cg.literal(0)))
                    each.append(cg.assign(f"_pv{i}", cg.name(f"_s{i}")))
                for i in sorted(self.exprs.totals):  # `total NAME`: the sum of the steps' amounts so far,
                    # added in their order from 0, as `sum` adds them
                    body.append(cg.assign(f"_tot{i}", cg.literal(0)))
                    each.append(cg.assign(f"_tot{i}", cg.binary(cg.name(f"_tot{i}"), "+", cg.name(f"_s{i}"))))
            for local, value in self.step_sums:  # the case's `sum … for step in steps`, as `sum` adds
                body.append(cg.assign(local, cg.literal(0)))
                each.append(cg.assign(local, cg.binary(cg.name(local), "+", value)))
            self.step_sums = []
            body.append(cg.for_(["si", "st"], cg.call("enumerate", cg.name("steps")), each))

        first = [r for r in rules if not r.reads_payout]
        later = [r for r in rules if r.reads_payout]
        run_case_rules([r for r in first if r.subject != "each_step"])
        run_step_rules([r for r in first if r.subject == "each_step"], self.step_payout)
        if self.step_payout is None:
            body.append(cg.assign("sp", cg.list_comp(cg.tuple_of(()), "st", cg.name("steps"))))
        if self.case_payout is not None:
            body.extend(_Slots([], self.case_payout[0]).statements(self.case_payout))
            names = [name for name, _ in self.p.case_payout.amounts]
            body.append(cg.assign("pc", cg.dict_of((cg.literal(n), cg.name(f"_c{i}")) for i, n in enumerate(names))))
        else:
            body.append(cg.assign("pc", cg.dict_of(())))
        run_case_rules([r for r in later if r.subject != "each_step"])
        run_step_rules([r for r in later if r.subject == "each_step"], None)
        # one list, in rule order: a case rule's result, or the items of a step rule's list
        results = cg.list_of(cg.spread(cg.name(f"out{r.index}")) if r.subject == "each_step" else cg.name(f"r{r.index}")
                             for r in rules)
        body.append(cg.return_(cg.tuple_of([results, cg.name("sp"), cg.name("pc"), cg.name("nv")])))
        # the fields read more than once, each once, first (per case, and per step in the steps' loop)
        optional = {local: self.p.schema.root.fields[record].type.optional
                    for record, local in self.exprs.records.items()}
        read_once = _read_fields_once(body, optional)
        # the records the inlined code reads, each once, first (reading a field cannot fail)
        body[:0] = [cg.assign(local, cg.field(cg.name("c"), record)) for record, local in self.exprs.records.items()]
        body[len(self.exprs.records):len(self.exprs.records)] = read_once
        return cg.function("evaluate_case", ["c", "steps", "as_of", "_P", "params_at", "dated_day"], body)

    def dated_function(self, fname: str, expr) -> ast.FunctionDef:
        if expr is None:
            return cg.function(fname, ["c", "as_of"], [cg.return_(cg.name("as_of"))])
        scope = Scope(None)
        value = self.exprs.expr(expr, scope)
        return cg.function(fname, ["c", "as_of"], [init_slots(scope), cg.return_(value)])

    # ---------------------------------------------------------------- rules
    def rule(self, rule: Rule) -> RulePlan:
        """The rule's decision as a block that `evaluate_case` inlines, and `args_N` (and
        `times_N`): see the module's docstring."""
        step_var = "st" if rule.subject != "case" else None
        params = "_P" if rule.dated is None else "_PD"
        # One set of locals for every rule's slots and temporaries: each rule's block sets its
        # slots first and reads none of another's, and a function with fewer locals is quicker
        # to call (CPython makes and clears each of them on every call).
        scope = Scope(step_var, prefix="_r", params=params, inline=True)
        scope.inline_orders = frozenset(i for i, name in enumerate(sorted(self.p.orders))
                                        if inlinable(_order_plan(self.p.orders[name], self.p.steps_field, ())))
        scope.lets = dict.fromkeys(rule.lets)
        scope.once = _read_once(rule)
        self.exprs.let_exprs = rule.lets
        self.exprs.names = {}
        self.exprs.fuse([*rule.lets.values(), *(c.condition for c in rule.clauses), rule.dated], scope)
        if rule.subject == "numbered_step":
            self.numbers[rule.index] = self.exprs.expr(rule.number, Scope(None, prefix=f"_n{rule.index}", inline=True))
        arg_scope = Scope(step_var)
        arg_scope.lets = scope.lets
        branches: list[tuple[ast.expr | None, int]] = []  # (condition, clause index)
        arg_body: list[ast.stmt] = []
        clause_plans = []
        for clause in rule.clauses:
            clause_plan, args = self.exprs.clause_texts(clause, arg_scope)
            clause_plans.append(clause_plan)
            test = self.exprs.expr(clause.condition, scope) if clause.condition is not None else None
            if clause.condition is not None:  # a later clause is reached only once this one was tested
                scope.known |= self.exprs.settled(clause.condition, scope)
            branches.append((test, clause.index))
            if args:
                arg_body.append(cg.if_(cg.compare(cg.name("k"), "==", cg.literal(clause.index)),
                                       [cg.return_(cg.tuple_of(args))]))
        scope.known = set()  # the day is computed before any clause
        dated = self.exprs.expr(rule.dated, scope) if rule.dated is not None else None
        prelude: list[ast.stmt] = []
        if dated is not None:
            prelude.append(cg.assign("_D", dated))
            prelude.append(cg.assign(params, cg.call("params_at", cg.name("_D"))))
        elif rule.effective:
            prelude.append(cg.assign("_D", cg.name("dated_day")))
        for index in sorted(scope.order_checks):  # the order's quick check, inlined (order.inline_check)
            order = self.p.orders[sorted(self.p.orders)[index]]
            prelude += inline_check(_order_plan(order, self.p.steps_field, ()), f"_oq{index}",
                                    lambda record: self.exprs.root_field(record, scope),
                                    lambda record: self.p.schema.root.fields[record].type.optional)
        not_in_force = None
        if rule.effective:
            start, until = rule.effective
            not_in_force = cg.compare(cg.name("_D"), "<", self.m.constant(start))
            if until is not None:
                not_in_force = cg.either(not_in_force, cg.compare(cg.name("_D"), ">", self.m.constant(until)))
        self.blocks[rule.index] = _Block(rule, init_slots(scope), prelude, branches,
                                         scope.slot_names(), not_in_force)
        params_ = ["c", "st", "si", "as_of", "_P", "params_at", "pc", "k"]
        head = self.prologue(rule, arg_scope, arg_body)
        self.functions.append(cg.function(f"args_{rule.index}", params_,
                                          [init_slots(arg_scope)] + head + arg_body + [cg.return_(cg.tuple_of(()))]))
        use = time_use(rule)
        if use.bounds:
            self.functions.append(self.times_function(rule, use.bounds, step_var))
        if rule.dated is not None:  # the day its parameters are read on, for `next_change`
            day_scope = Scope(step_var)
            day = self.exprs.expr(rule.dated, day_scope)
            self.functions.append(cg.function(f"dated_{rule.index}", ["c", "st", "as_of"],
                                              [init_slots(day_scope), cg.return_(day)]))
        return RulePlan(
            rule.index, rule.id, rule.subject, rule.stage, rule.titles, rule.source, tuple(clause_plans),
            tuple(zip(scope.keys, scope.kinds)), rule.reads_payout, rule.effective, str(rule.span),
            timed=bool(use.bounds), daily=use.daily, parameters=parameters_read(self.p, rule),
            dated=rule.dated is not None,
        )

    def times_function(self, rule: Rule, bounds: tuple, step_var: str | None) -> ast.FunctionDef:
        """`times_N(c, st, si, as_of, _P, params_at, pc, k)`: the days on which a comparison with
        the as-of date in clause k (the deciding one) or before it changes its value, on this case
        (those that cannot be computed, such as from a date not set, are left out: they cannot
        change with time)."""
        scope = Scope(step_var)
        scope.lets = dict.fromkeys(rule.lets)
        values = [self.exprs.expr(bound, scope) for bound, _offsets, _clause in bounds]
        one_day = self.m.constant(dt.timedelta(days=1))
        collect: list[ast.stmt] = [cg.assign("out", cg.list_of())]
        for value, (_bound, offsets, clause) in zip(values, bounds):
            appends = [cg.do(cg.method(cg.name("out"), "append",
                                       cg.binary(cg.name("_d"), "+", one_day) if offset else cg.name("_d")))
                       for offset in offsets]
            guarded: ast.stmt = cg.try_ignoring([cg.assign("_d", value)] + appends)
            if clause:
                guarded = cg.if_(cg.compare(cg.name("k"), ">=", cg.literal(rule.clauses[clause].index)), [guarded])
            collect.append(guarded)
        collect.append(cg.return_(cg.name("out")))
        head = self.prologue(rule, scope, collect)
        return cg.function(f"times_{rule.index}", ["c", "st", "si", "as_of", "_P", "params_at", "pc", "k"],
                           [init_slots(scope)] + head + collect)

    def prologue(self, rule: Rule, scope: Scope, body: list[ast.stmt]) -> list[ast.stmt]:
        """The day parameters are read on, and the parameters in force then (only if the body needs them)."""
        if rule.dated is not None:
            return [cg.assign("_D", self.exprs.expr(rule.dated, scope)),
                    cg.assign("_P", cg.call("params_at", cg.name("_D")))]
        if rule.effective or any("_D" in cg.reads(stmt) for stmt in body):
            return [cg.assign("_D", cg.name("as_of"))]
        return []

    # --------------------------------------------------------------- payout
    def payout(self, section) -> list[ast.stmt]:
        """The section's amounts as statements: `_s{i}` (a step's, inside the loop over steps,
        where `st` and `n` are the step and its number) or `_c{i}` (the case's). An amount that
        reads a parameter with no value on its day is 0, and the parameter, the day and the
        amount go into `nv` (the verdict warns of them)."""
        each_step = section.subject == "each_step"
        params = "_P"
        if section.dated is not None:
            params = "_PS" if each_step else "_PC"
        scope = Scope("st" if each_step else None, prefix="_ps" if each_step else "_pc", params=params,
                           inline=True)
        scope.lets = dict.fromkeys(section.lets)
        self.exprs.let_exprs = section.lets
        self.exprs.names = {}
        self.exprs.amount_locals = {}
        head: list[ast.stmt] = []
        if section.dated is not None:
            day = cg.call("params_at", self.exprs.expr(section.dated, scope))
            if each_step and "st" not in cg.reads(day):  # the same day for every step: once, before them
                self.step_payout_head = [cg.assign(params, day)]
            else:
                head.append(cg.assign(params, day))
        amounts = []
        for i, (amount, expr) in enumerate(section.amounts):
            value = None if each_step else self.summed_in_steps_loop(expr, scope, f"_csum{i}")
            if value is None:
                value = self.exprs.expr(expr, scope)
            local = f"_s{i}" if each_step else f"_c{i}"
            missing = cg.do(cg.method(cg.name("nv"), "append",
                                      cg.binary(cg.call("_nf", cg.name("_e")), "+",
                                                cg.tuple_of([cg.literal(amount), cg.literal(each_step)]))))
            amounts.append(cg.try_except([cg.assign(local, value)], "_NotInForce", "_e",
                                         [cg.assign(local, cg.literal(0)), missing]))
            self.exprs.amount_locals[amount] = local
        self.exprs.amount_locals = {}
        if head:  # the day itself may be one no parameter covers: then every amount reads nothing
            return [init_slots(scope)] + head + amounts
        return [init_slots(scope)] + amounts

    def summed_in_steps_loop(self, expr, scope: Scope, local: str) -> ast.expr | None:
        """A case amount `sum of BODY for VAR in <the steps>` whose body reads nothing but the
        step, cannot raise and cannot be missing, when the driver loops over the steps before the
        case's payout: its values are added up in that loop, each step's in turn from 0 as the
        `sum`'s own loop adds them (the same additions in the same order), into `local`, which
        the amount then reads (`driver` makes the loop's statements from `step_sums`). None: the
        amount is computed where it is, as any other."""
        if not (self.steps_loop and isinstance(expr, s.Aggregate) and expr.kind == "sum"
                and isinstance(expr.items, s.Name) and expr.items.name == self.p.steps_field
                and self.exprs.binding_kind(expr.items, scope) == "field"
                and self.exprs.cannot_raise(expr.body, expr.var) and not self.exprs.type_of(expr.body).optional):
            return None
        body = self.exprs.lone_body(expr, scope)
        if body is None:
            return None
        item = f"v_{expr.var}"
        for node in ast.walk(body):  # the item is the loop's step, `st`
            if isinstance(node, ast.Name) and node.id == item:
                node.id = "st"
        self.step_sums.append((local, body))
        return cg.name(local)


class _FieldReads(ast.NodeTransformer):
    """The reads of a record's field in `evaluate_case`, counted (`count`) or, once `hoisted`
    holds their locals, replaced by these: `(None if R is None else R.f)` for a record `R` that
    may be missing (`optional[R]`), `R.f` for one that may not, and `st.f` for the step of the
    steps' loop (`R` "st"); a bare `R.f` of a record that may be missing is left alone (the code
    around it has found the record set)."""

    def __init__(self, optional: dict[str, bool]):
        self.optional = optional
        self.counts: dict[tuple[str, str], int] = {}
        self.hoisted: dict[tuple[str, str], str] = {}

    def key(self, node: ast.AST) -> tuple[str, str] | None:
        if isinstance(node, ast.IfExp):
            test, read = node.test, node.orelse
            if not (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
                    and self.optional.get(test.left.id) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
                    and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
                    and isinstance(node.body, ast.Constant) and node.body.value is None
                    and isinstance(read, ast.Attribute) and isinstance(read.value, ast.Name)
                    and read.value.id == test.left.id):
                return None
            return (read.value.id, read.attr)
        if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name)
                and self.optional.get(node.value.id) is False):
            return (node.value.id, node.attr)
        return None

    def visit(self, node: ast.AST):
        key = self.key(node)
        if key is None:
            return self.generic_visit(node)
        if self.hoisted:
            return cg.name(self.hoisted[key]) if key in self.hoisted else node
        self.counts[key] = self.counts.get(key, 0) + 1
        return node


def _read_fields_once(body: list[ast.stmt], optional: dict[str, bool]) -> list[ast.stmt]:
    """Each field of a snapshot's record that `evaluate_case` (its statements `body`) reads at
    more than one place is read once, into a local, by the statements returned (to go first,
    after the records are read); each field of the step that its loop over the steps reads at
    more than one place, once at the top of the loop's body. The places read the local instead.
    A validated snapshot does not change while it is judged, and reading a field has no other
    effect (it cannot fail), so every value is the same; a rule's `or`, `and` or later clause
    may not have read it, but the order check reads every date of the snapshot whatever the rules
    decide, and each place was a field read (an attribute of a pydantic model is one of the
    dearest reads, for there is a `__getattr__`) where a local is the cheapest."""
    loops = [stmt for stmt in body if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Tuple)
             and [getattr(e, "id", None) for e in stmt.target.elts] == ["si", "st"]]
    for loop in loops:  # the step of the loop over the steps
        steps = _FieldReads({"st": False})
        for stmt in loop.body:
            steps.visit(stmt)
        steps.hoisted = {key: f"_sv_{key[1]}" for key, count in steps.counts.items() if count > 1}
        if steps.hoisted:
            loop.body = ([cg.assign(local, cg.field(cg.name("st"), field))
                          for (_, field), local in steps.hoisted.items()]
                         + [steps.visit(stmt) for stmt in loop.body])
    reads = _FieldReads(optional)
    for stmt in body:
        reads.visit(stmt)
    reads.hoisted = {key: f"_fv{key[0][4:]}_{key[1]}" for key, count in reads.counts.items() if count > 1}
    if not reads.hoisted:
        return []
    body[:] = [reads.visit(stmt) for stmt in body]
    return [cg.assign(local, cg.if_else(cg.is_none(cg.name(record)), cg.literal(None), cg.field(cg.name(record), field))
                      if optional[record] else cg.field(cg.name(record), field))
            for (record, field), local in reads.hoisted.items()]


def _read_once(rule: Rule) -> set[str]:
    """The lets that the rule's decision reads at exactly one place (and no let reads)."""
    counts: dict[str, int] = {}

    def walk(node) -> None:
        if isinstance(node, s.Name):
            counts[node.name] = counts.get(node.name, 0) + 1
            return
        if isinstance(node, tuple):
            for item in node:
                walk(item)
            return
        for name in getattr(node, "__slots__", ()):
            value = getattr(node, name)
            if isinstance(value, (tuple, s.Name)) or hasattr(value, "__slots__"):
                walk(value)

    for clause in rule.clauses:
        if clause.condition is not None:
            walk(clause.condition)
    if rule.dated is not None:
        walk(rule.dated)
    in_lets: dict[str, int] = {}
    saved, counts = counts, {}
    for expr in rule.lets.values():
        walk(expr)
    in_lets, counts = counts, saved
    return {name for name in rule.lets if counts.get(name, 0) == 1 and name not in in_lets}


def _order_plan(order: Order, steps_field: str | None, required: tuple[str, ...]) -> OrderPlan:
    return OrderPlan(tuple((n.scope, n.path) for n in order.nodes), order.edges, steps_field, required)
