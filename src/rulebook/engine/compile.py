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
  `loop_helper`): it is given the names its body reads and gives back the fact slots it sets.

Every field, parameter, let and the as-of date a rule reads has one fact slot, assigned where
it is read (`:=`), so the trace of facts read costs a local store. Names of the rule files
reach the code only as declared fields (attributes) and prefixed locals; every value enters
as a constant or through the constants table (`codegen`).
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from contextlib import contextmanager

from ..language import datatype as t
from ..language import syntax as s
from ..language.infer import canonical
from ..language.program import Order, Program, Rule
from ..language.schema import ROOT
from . import codegen as cg
from .compile_batch import compile_batch
from .plan import NO_VALUE, NOT_IN_FORCE, ClausePlan, OrderPlan, Plan, RulePlan, TemplatePlan
from .timeline import always_daily, editions, parameters_read, payout_parameters, time_use


def compile_program(program: Program) -> Plan:
    return _Generator(program).run()


_TEMP = re.compile(r".*_t[0-9]+")  # a temporary of generated code (`_RuleScope.temp`)
_PY_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _format_kind(typ: t.Type) -> str:
    """How a text shows a value of this type: `yen`, `date`, …, `list:K`, `table:K` (the values
    shown as K), `record:NAME` (its fields shown as the plan's `record_formats` say)."""
    if typ.kind == "list":
        return f"list:{_format_kind(typ.inner) if typ.inner else 'text'}"
    if typ.kind == "table":
        return f"table:{_format_kind(typ.inner) if typ.inner else 'text'}"
    if typ.kind == "record":
        return f"record:{typ.record}"
    return typ.kind


class _RuleScope:
    """The fact slots and locals of one function being generated."""

    def __init__(self, step_var: str | None, prefix: str = "", params: str = "_P", inline: bool = False):
        self.slots: dict[str, int] = {}
        self.kinds: list[str] = []
        self.keys: list[str] = []
        self.lets: dict[str, str] = {}
        self.once: set[str] = set()  # lets read at exactly one place of the code generated with this scope
        self.step_var = step_var
        self.temps = 0
        self.prefix = prefix  # keeps the locals of rules inlined in one function apart
        self.params = params  # the local holding the parameters in force
        self.known: set[str] = set()  # keys of the slots surely assigned already: read them, not again
        # code inlined into `evaluate_case`: the snapshot's records are read from the locals it
        # assigns once, at its top, and its steps from its parameter `steps`
        self.inline = inline

    def slot(self, key: str, kind: str) -> str:
        if key not in self.slots:
            self.slots[key] = len(self.slots)
            self.keys.append(key)
            self.kinds.append(kind)
        return f"{self.prefix}_f{self.slots[key]}"

    def slot_names(self) -> list[str]:
        return [f"{self.prefix}_f{i}" for i in range(len(self.slots))]

    def temp(self) -> str:
        self.temps += 1
        return f"{self.prefix}_t{self.temps}"


def _held(code: ast.expr, scope: _RuleScope) -> tuple[ast.expr, ast.expr]:
    """A value computed once and read again: (its first use, the later ones). A local or a
    constant is read again as it is, a value already kept in a fact slot (`slot := …`) from
    its slot; anything else is kept in a temporary (`:=`)."""
    if isinstance(code, ast.Name):
        return code, cg.name(code.id)
    if isinstance(code, ast.NamedExpr):
        return code, cg.name(code.target.id)
    if isinstance(code, ast.Constant):
        return code, cg.literal(code.value)
    tmp = scope.temp()
    return cg.walrus(tmp, code), cg.name(tmp)


def _init_slots(scope: _RuleScope) -> ast.stmt:
    """`_f0 = _f1 = … = _U`: every slot starts unread."""
    names = scope.slot_names()
    return cg.assign(names, cg.name("_U")) if names else cg.pass_()


class _Block:
    """A rule's decision, built once, inlined once into `evaluate_case`: it leaves `k`, the
    deciding clause, and hands the result to `keep`, which makes the statement that keeps it
    (appending to the rule's list, or assigning the case rule's `rN`). A parameter the decision
    reads that has no value on its day (`runtime.NotInForce`) makes the result a failure of
    the rule, `NO_VALUE`, naming the parameter and the day."""

    def __init__(self, rule: Rule, init: ast.stmt, prelude: list[ast.stmt], decide: list[ast.stmt],
                 facts: list[str], not_in_force: ast.expr | None):
        self.rule, self.init, self.prelude, self.decide = rule, init, prelude, decide
        self.facts, self.not_in_force = facts, not_in_force

    def statements(self, head, keep, failed: ast.stmt) -> list[ast.stmt]:
        """`head(clause)`: the result's first fields; `keep(result)`: the statement that keeps it;
        `failed`: what a failure adds to the failures of its subject."""
        result = cg.tuple_of(head(cg.name("k")) + [cg.name(f) for f in self.facts])
        no_value = cg.binary(cg.tuple_of(head(cg.literal(NO_VALUE))), "+", cg.call("_nf", cg.name("_e")))
        decided = [cg.try_except(self.decide + [keep(result)], "_NotInForce", "_e",
                                 [cg.assign("k", cg.literal(NO_VALUE)), keep(no_value), failed])]
        body = [self.init] + self.prelude
        if self.not_in_force is None:
            return body + decided
        skip = [cg.assign("k", cg.literal(NOT_IN_FORCE)),
                keep(cg.tuple_of(head(cg.literal(NOT_IN_FORCE)) + [cg.name("_D")]))]
        return body + [cg.if_(self.not_in_force, skip, decided)]


class _Generator:
    def __init__(self, program: Program):
        self.p = program
        self.m = cg.Module()
        self.names: dict[str, str] = {}  # quantifier variables in scope
        self.amount_locals: dict[str, str] = {}
        self.let_exprs: dict = {}
        self.helpers: list[ast.FunctionDef] = []
        self.helper_names: dict[tuple, str] = {}  # a loop helper's statements (ast.dump) → its name
        self.functions: list[ast.FunctionDef] = []
        self.blocks: dict[int, _Block] = {}
        self.numbers: dict[int, ast.expr] = {}  # rule index → the step number of `on step numbered`
        self.marks: list = []  # (rule index, first statement, last statement) of each inlined rule
        self.previous: set[int] = set()  # the step amounts that `previous` reads
        self.step_payout_head: list = []  # what the steps' payout computes once, before the steps
        self.group_names: dict[str, ast.expr] = {}  # a batch rule's keys and figures (compile_batch)
        self.records: dict[str, str] = {}  # a record of the snapshot that evaluate_case reads → its local
        self.totals: set[int] = set()  # the step amounts that `total` reads: summed as the steps go

    def clause_texts(self, clause, scope: "_RuleScope") -> tuple[ClausePlan, list[ast.expr]]:
        """A clause's texts (message, fix, due) as a plan, and the values they show: each
        expression once, numbered in the order the texts first read it."""
        args: list[ast.expr] = []
        index: dict[str, int] = {}

        def arg(expr) -> int:
            key = canonical(expr)
            if key not in index:
                index[key] = len(args)
                args.append(self.expr(expr, scope))
            return index[key]

        message = {lang: self.template(tmpl, arg) for lang, tmpl in clause.message.items()}
        fix = {lang: self.template(tmpl, arg) for lang, tmpl in clause.fix.items()} if clause.fix else None
        due = arg(clause.due) if clause.due is not None else None
        return ClausePlan(clause.index, clause.status, message, fix, due, str(clause.span)), args

    def type_of(self, expr) -> t.Type:
        return self.p.types.get(id(expr), t.ERROR)

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
            self.case_payout = self.payout(p.case_payout)
        self.functions.append(self.dated_function("dated_default", p.dated))
        for name, section in (("dated_step_payout", p.step_payout), ("dated_case_payout", p.case_payout)):
            if section is not None and section.dated is not None:  # for `next_change`
                day_scope = _RuleScope("st" if section.subject == "each_step" else None)
                day = self.expr(section.dated, day_scope)
                self.functions.append(cg.function(name, ["c", "st", "as_of"],
                                                  [_init_slots(day_scope), cg.return_(day)]))
        self.functions.append(self.driver(rules))
        batch_rules = compile_batch(self, p.batch_rules, _RuleScope, _init_slots, _format_kind)
        for fn in self.helpers + self.functions:
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
            record_formats={name: tuple((f.name, _format_kind(f.type.required())) for f in record.fields.values())
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

        def fails_test(rule: RulePlan) -> ast.expr | None:
            fails = [c.index for c in rule.clauses if c.status == "fail"]
            if not fails:
                return None
            if len(fails) == 1:
                return cg.compare(cg.name("k"), "==", cg.literal(fails[0]))
            return cg.compare(cg.name("k"), "in", cg.tuple_of([cg.literal(i) for i in fails]))  # a constant

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
                return cg.assign(f"r{rule.index}", result) if one else cg.do(cg.call(f"ap{rule.index}", result))

            block = self.blocks[rule.index].statements(head, keep, failed)
            test = fails_test(rule)
            if test is not None:
                block.append(cg.if_(test, [failed]))
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
            for rule in group:  # each rule's list of results, and its `append`, made once
                body.append(cg.assign(f"out{rule.index}", cg.list_of()))
                body.append(cg.assign(f"ap{rule.index}", cg.bound_method(cg.name(f"out{rule.index}"), "append")))
            if payout is not None:
                body.append(cg.assign("sp", cg.list_of()))
                body.extend(self.step_payout_head)
            each: list[ast.stmt] = [cg.assign("n", cg.field(cg.name("st"), number_key))]
            if group:
                each.append(cg.assign("subject", step_subject("n")))
            for rule in group:
                inline(rule, each, cg.do(cg.method(cg.name("fs"), "add", cg.name("n"))))
            if payout is not None:
                each.extend(payout)
                amounts = len(self.p.step_payout.amounts)
                each.append(cg.do(cg.method(cg.name("sp"), "append",
                                            cg.tuple_of(cg.name(f"_s{i}") for i in range(amounts)))))
                for i in sorted(self.previous):  # `previous NAME`: this step's amount, for the next
                    body.append(cg.assign(f"_pv{i}", cg.literal(0)))
                    each.append(cg.assign(f"_pv{i}", cg.name(f"_s{i}")))
                for i in sorted(self.totals):  # `total NAME`: the sum of the steps' amounts so far,
                    # added in their order from 0, as `sum` adds them
                    body.append(cg.assign(f"_tot{i}", cg.literal(0)))
                    each.append(cg.assign(f"_tot{i}", cg.binary(cg.name(f"_tot{i}"), "+", cg.name(f"_s{i}"))))
            body.append(cg.for_(["si", "st"], cg.call("enumerate", cg.name("steps")), each))

        first = [r for r in rules if not r.reads_payout]
        later = [r for r in rules if r.reads_payout]
        run_case_rules([r for r in first if r.subject != "each_step"])
        run_step_rules([r for r in first if r.subject == "each_step"], self.step_payout)
        if self.step_payout is None:
            body.append(cg.assign("sp", cg.list_comp(cg.tuple_of(()), "st", cg.name("steps"))))
        if self.case_payout is not None:
            body.extend(self.case_payout)
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
        # the records the inlined code reads, each once, first (reading a field cannot fail)
        body[:0] = [cg.assign(local, cg.field(cg.name("c"), record)) for record, local in self.records.items()]
        return cg.function("evaluate_case", ["c", "steps", "as_of", "_P", "params_at", "dated_day"], body)

    def dated_function(self, fname: str, expr) -> ast.FunctionDef:
        if expr is None:
            return cg.function(fname, ["c", "as_of"], [cg.return_(cg.name("as_of"))])
        scope = _RuleScope(None)
        value = self.expr(expr, scope)
        return cg.function(fname, ["c", "as_of"], [_init_slots(scope), cg.return_(value)])

    # ---------------------------------------------------------------- rules
    def rule(self, rule: Rule) -> RulePlan:
        """The rule's decision as a block that `evaluate_case` inlines, and `args_N` (and
        `times_N`): see the module's docstring."""
        step_var = "st" if rule.subject != "case" else None
        params = "_P" if rule.dated is None else f"_P{rule.index}"
        scope = _RuleScope(step_var, prefix=f"_{rule.index}", params=params, inline=True)
        scope.lets = dict.fromkeys(rule.lets)
        scope.once = _read_once(rule)
        self.let_exprs = rule.lets
        self.names = {}
        if rule.subject == "numbered_step":
            self.numbers[rule.index] = self.expr(rule.number, _RuleScope(None, prefix=f"_n{rule.index}", inline=True))
        arg_scope = _RuleScope(step_var)
        arg_scope.lets = scope.lets
        branches: list[tuple[ast.expr | None, list[ast.stmt]]] = []
        arg_body: list[ast.stmt] = []
        clause_plans = []
        for clause in rule.clauses:
            clause_plan, args = self.clause_texts(clause, arg_scope)
            clause_plans.append(clause_plan)
            test = self.expr(clause.condition, scope) if clause.condition is not None else None
            if clause.condition is not None:  # a later clause is reached only once this one was tested
                scope.known |= self.settled(clause.condition, scope)
            branches.append((test, [cg.assign("k", cg.literal(clause.index))]))
            if args:
                arg_body.append(cg.if_(cg.compare(cg.name("k"), "==", cg.literal(clause.index)),
                                       [cg.return_(cg.tuple_of(args))]))
        scope.known = set()  # the day is computed before any clause
        dated = self.expr(rule.dated, scope) if rule.dated is not None else None
        prelude: list[ast.stmt] = []
        if dated is not None:
            prelude.append(cg.assign("_D", dated))
            prelude.append(cg.assign(params, cg.call("params_at", cg.name("_D"))))
        elif rule.effective:
            prelude.append(cg.assign("_D", cg.name("dated_day")))
        not_in_force = None
        if rule.effective:
            start, until = rule.effective
            not_in_force = cg.compare(cg.name("_D"), "<", self.m.constant(start))
            if until is not None:
                not_in_force = cg.either(not_in_force, cg.compare(cg.name("_D"), ">", self.m.constant(until)))
        self.blocks[rule.index] = _Block(rule, _init_slots(scope), prelude, cg.chain(branches),
                                         scope.slot_names(), not_in_force)
        params_ = ["c", "st", "si", "as_of", "_P", "params_at", "pc", "k"]
        head = self.prologue(rule, arg_scope, arg_body)
        self.functions.append(cg.function(f"args_{rule.index}", params_,
                                          [_init_slots(arg_scope)] + head + arg_body + [cg.return_(cg.tuple_of(()))]))
        use = time_use(rule)
        if use.bounds:
            self.functions.append(self.times_function(rule, use.bounds, step_var))
        if rule.dated is not None:  # the day its parameters are read on, for `next_change`
            day_scope = _RuleScope(step_var)
            day = self.expr(rule.dated, day_scope)
            self.functions.append(cg.function(f"dated_{rule.index}", ["c", "st", "as_of"],
                                              [_init_slots(day_scope), cg.return_(day)]))
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
        scope = _RuleScope(step_var)
        scope.lets = dict.fromkeys(rule.lets)
        values = [self.expr(bound, scope) for bound, _offsets, _clause in bounds]
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
                           [_init_slots(scope)] + head + collect)

    def prologue(self, rule: Rule, scope: _RuleScope, body: list[ast.stmt]) -> list[ast.stmt]:
        """The day parameters are read on, and the parameters in force then (only if the body needs them)."""
        if rule.dated is not None:
            return [cg.assign("_D", self.expr(rule.dated, scope)),
                    cg.assign("_P", cg.call("params_at", cg.name("_D")))]
        if rule.effective or any("_D" in cg.reads(stmt) for stmt in body):
            return [cg.assign("_D", cg.name("as_of"))]
        return []

    def template(self, tmpl: s.Template, arg) -> TemplatePlan:
        parts = []
        for part in tmpl.parts:
            if isinstance(part, str):
                parts.append(part)
            else:
                parts.append((arg(part), self.format_kind(part)))
        return TemplatePlan(tuple(parts))

    def format_kind(self, expr) -> str:
        """How a text shows a value: by its type, or, when it reads a field whose values the schema
        labels (`labels { … }`), by those labels: `label:record.field` (`list:label:…` for a list)."""
        kind = _format_kind(self.type_of(expr))
        field = self.labelled_field(expr) if kind in ("text", "list:text") else None
        return kind[:-4] + f"label:{field}" if field else kind

    def labelled_field(self, expr, snapshot_names: bool = True) -> str | None:
        """`record.field` when the expression's value is that field's, and its values have labels:
        the field read, its `if missing` default aside (a text of the rule), each item of a
        `list of` it, the items `each … where` or `first … where` keeps, or a let holding one."""
        if isinstance(expr, s.IfMissing):
            return self.labelled_field(expr.value, snapshot_names)
        if isinstance(expr, s.Aggregate) and expr.kind == "list" and expr.body is not None:
            return self.labelled_field(expr.body, False)  # inside, a bare name is the loop's variable
        if isinstance(expr, s.Quantifier) and expr.kind in ("each", "first"):
            return self.labelled_field(expr.items, snapshot_names)  # some of its items, or one
        if isinstance(expr, s.Name) and snapshot_names and expr.name in self.let_exprs:
            return self.labelled_field(self.let_exprs[expr.name])  # what the let holds
        if isinstance(expr, s.Attribute):
            owner = self.type_of(expr.obj).required()
            record = owner.record if owner.kind == "record" else None
        elif isinstance(expr, s.Name) and snapshot_names and expr.name not in self.let_exprs:
            record = ROOT  # a field of the snapshot itself, if it is one
        else:
            return None
        field = self.p.schema.records[record].fields.get(expr.name) if record in self.p.schema.records else None
        return f"{record}.{expr.name}" if field is not None and field.labels else None

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
        scope = _RuleScope("st" if each_step else None, prefix="_ps" if each_step else "_pc", params=params,
                           inline=True)
        scope.lets = dict.fromkeys(section.lets)
        self.let_exprs = section.lets
        self.names = {}
        self.amount_locals = {}
        head: list[ast.stmt] = []
        if section.dated is not None:
            day = cg.call("params_at", self.expr(section.dated, scope))
            if each_step and "st" not in cg.reads(day):  # the same day for every step: once, before them
                self.step_payout_head = [cg.assign(params, day)]
            else:
                head.append(cg.assign(params, day))
        amounts = []
        for i, (amount, expr) in enumerate(section.amounts):
            value = self.expr(expr, scope)
            local = f"_s{i}" if each_step else f"_c{i}"
            missing = cg.do(cg.method(cg.name("nv"), "append",
                                      cg.binary(cg.call("_nf", cg.name("_e")), "+",
                                                cg.tuple_of([cg.literal(amount), cg.literal(each_step)]))))
            amounts.append(cg.try_except([cg.assign(local, value)], "_NotInForce", "_e",
                                         [cg.assign(local, cg.literal(0)), missing]))
            self.amount_locals[amount] = local
        self.amount_locals = {}
        if head:  # the day itself may be one no parameter covers: then every amount reads nothing
            return [_init_slots(scope)] + head + amounts
        return [_init_slots(scope)] + amounts

    # ---------------------------------------------------------- expressions
    def path_key(self, e, scope: _RuleScope) -> str | None:
        """The fact key of a field path, or None if it is not one."""
        if isinstance(e, s.Name):
            binding = self.binding_kind(e, scope)
            if binding == "field":
                return e.name
            if binding == "step":
                return "{step}"
            return None
        if isinstance(e, s.Attribute):
            inner = self.path_key(e.obj, scope)
            if inner is None:
                return None
            return f"{inner}.{e.name}"
        return None

    def binding_kind(self, e: s.Name, scope: _RuleScope) -> str:
        """What a name stands for here, in the checker's order of scopes."""
        name = e.name
        if name in self.names:
            return "var"
        if name in self.group_names:
            return "group"
        if name in scope.lets:
            return "let"
        if name in self.amount_locals:
            return "amount"
        if name == "step" and scope.step_var:
            return "step"
        if name == "payout" and self.p.case_payout is not None:
            return "payout"
        if name in self.p.parameters:
            return "param"
        if name == "as_of":
            return "builtin"
        return "field"

    def expr(self, e, scope: _RuleScope) -> ast.expr:
        return self._expr(e, scope)

    def _expr(self, e, scope: _RuleScope, trace: bool = True) -> ast.expr:  # noqa: C901 - one case per node
        # The order of the calls below is the order of the fact slots, which is the order of a
        # result's facts: keep it.
        typ = self.type_of(e)
        if isinstance(e, s.Literal):
            if e.kind == "boolean":
                return cg.literal(bool(e.value))
            if e.kind == "empty":
                return cg.tuple_of(())
            if e.kind == "list":
                return cg.tuple_of([self._expr(item, scope) for item in e.value])
            if e.kind == "string" or (e.kind == "number" and type(e.value) is int):
                return cg.literal(e.value)
            return self.m.constant(e.value)
        if isinstance(e, s.Name):
            if not trace and self.binding_kind(e, scope) == "field":
                return self.root_field(e.name, scope)
            return self.name(e, scope)
        if isinstance(e, s.Attribute):
            key = self.path_key(e, scope)
            if isinstance(e.obj, s.Name) and self.binding_kind(e.obj, scope) == "payout":
                slot = scope.slot(f"payout.{e.name}", "yen")
                return cg.walrus(slot, cg.item(cg.name("pc"), cg.literal(e.name)))
            obj_type = self.type_of(e.obj)
            obj = self._expr(e.obj, scope)
            if obj_type.optional:
                first, again = _held(obj, scope)
                code = cg.if_else(cg.is_none(first), cg.literal(None), cg.field(again, e.name))
            else:
                code = cg.field(obj, e.name)
            if key is not None and typ.kind != "record" and trace:
                if key in scope.known:
                    return cg.name(scope.slot(key, _format_kind(typ)))
                return cg.walrus(scope.slot(key, _format_kind(typ)), code)
            return code
        if isinstance(e, s.Index):
            table = self._expr(e.obj, scope)
            return cg.method(table, "get", self._expr(e.key, scope))
        if isinstance(e, s.Binary):
            left_type, right_type = self.type_of(e.left), self.type_of(e.right)
            left, right = self._expr(e.left, scope), self._expr(e.right, scope)
            if typ.optional and (left_type.optional or right_type.optional):
                tests = []  # only a side that may be missing is tested
                if left_type.optional:
                    first, left = _held(left, scope)
                    tests.append(cg.is_none(first))
                if right_type.optional:
                    first, right = _held(right, scope)
                    tests.append(cg.is_none(first))
                missing = tests[0] if len(tests) == 1 else cg.either(*tests)
                return cg.if_else(missing, cg.literal(None), self.binary(e.op, left, right, left_type, right_type))
            return self.binary(e.op, left, right, left_type, right_type)
        if isinstance(e, s.Negate):
            return cg.negate(self._expr(e.operand, scope))
        if isinstance(e, s.Compare):
            left = self._expr(e.left, scope)
            return cg.compare(left, _PY_OPS[e.op], self.after(e.left, scope, lambda: self._expr(e.right, scope)))
        if isinstance(e, s.Logical):
            left = self._expr(e.left, scope)
            return cg.logical(e.op, left, self.after(e.left, scope, lambda: self._expr(e.right, scope)))
        if isinstance(e, s.Not):
            return cg.not_(self._expr(e.operand, scope))
        if isinstance(e, s.Test):
            inner = self._expr(e.operand, scope)
            if e.test == "set":
                return cg.is_set(inner)
            if e.test == "missing":
                return cg.is_none(inner)
            if e.test in ("empty", "not_empty"):
                return cg.compare(cg.call("len", inner), "==" if e.test == "empty" else "!=", cg.literal(0))
            blank = cg.not_(cg.method(inner, "strip"))
            return blank if e.test == "blank" else cg.not_(blank)
        if isinstance(e, s.Member):
            member = self._expr(e.item, scope)
            container = self.after(e.item, scope, lambda: self._expr(e.container, scope))
            return cg.compare(member, "not in" if e.negated else "in", container)
        if isinstance(e, s.IfElse):  # the condition runs first, then one of the values
            then = self.after(e.condition, scope, lambda: self._expr(e.then, scope))
            condition = self._expr(e.condition, scope)
            return cg.if_else(condition, then, self.after(e.condition, scope, lambda: self._expr(e.otherwise, scope)))
        if isinstance(e, s.IfMissing):
            first, again = _held(self._expr(e.value, scope), scope)
            default = self.after(e.value, scope, lambda: self._expr(e.default, scope))
            return cg.if_else(cg.is_set(first), again, default)
        if isinstance(e, s.Rounded):
            fn = {"down": "_math_floor", "up": "_math_ceil", "half_up": "_round_half_up"}[e.mode]
            operand = self._expr(e.operand, scope)
            if self.type_of(e.operand).optional:  # missing stays missing
                first, again = _held(operand, scope)
                return cg.if_else(cg.is_none(first), cg.literal(None), cg.call(fn, again))
            return cg.call(fn, operand)
        if isinstance(e, s.Call):
            return self.extremum(e, scope)
        if isinstance(e, s.Previous):
            index = [name for name, _ in self.p.step_payout.amounts].index(e.name)
            self.previous.add(index)
            return cg.name(f"_pv{index}")
        if isinstance(e, s.Quantifier):
            items = self._expr(e.items, scope)
            tmp = scope.temp()
            var = f"v_{e.var}"
            body = self.bound(e.var, lambda: self._expr(e.body, scope))
            found = scope.temp() if e.kind == "first" else None
            helper = self.loop_helper(e.kind, var, body, items, scope)
            if helper is not None:
                if e.kind == "first":  # the first item that holds, or None
                    return cg.if_else(cg.walrus(found, helper), cg.item(cg.name(found), 0), cg.literal(None))
                return helper
            seq = cg.name(tmp)
            form = {
                "any": lambda: cg.call("any", cg.generator(body, var, seq)),
                "all": lambda: cg.call("all", cg.generator(body, var, seq)),
                "count": lambda: cg.call("sum", cg.generator(cg.literal(1), var, seq, body)),
                "each": lambda: cg.list_comp(cg.name(var), var, seq, body),
                # the first item that holds, or None
                "first": lambda: cg.if_else(cg.walrus(found, cg.list_comp(cg.name(var), var, seq, body)),
                                            cg.item(cg.name(found), 0), cg.literal(None)),
            }[e.kind]()
            return cg.item(cg.tuple_of([cg.walrus(tmp, items), form]), 1)
        if isinstance(e, s.Aggregate):
            if e.kind == "count":  # the count is the fact, not the whole list
                return cg.call("len", self._expr(e.items, scope, trace=False))
            if e.kind == "keys":  # a table's keys, in the order it was written
                tmp = scope.temp()
                keys = cg.list_comp(cg.name("_key"), "_key", cg.name(tmp))
                return cg.item(cg.tuple_of([cg.walrus(tmp, self._expr(e.items, scope)), keys]), 1)
            items = self._expr(e.items, scope)
            tmp = scope.temp()
            var = f"v_{e.var}"
            body = self.bound(e.var, lambda: self._expr(e.body, scope))
            helper = self.loop_helper(e.kind, var, body, items, scope)
            if helper is not None:
                return helper
            # (a list for `sum`: quicker than a generator over the few items a case has)
            form = (cg.call("sum", cg.list_comp(body, var, cg.name(tmp))) if e.kind == "sum"
                    else cg.list_comp(body, var, cg.name(tmp)))
            return cg.item(cg.tuple_of([cg.walrus(tmp, items), form]), 1)
        if isinstance(e, s.Total):  # summed in the loop over the steps, as each step's amount is known
            index = [name for name, _ in self.p.step_payout.amounts].index(e.name)
            self.totals.add(index)
            return cg.name(f"_tot{index}")
        if isinstance(e, s.Failure):
            if e.subject is None:
                if e.excepted:
                    test = cg.compare(cg.name("fc"), "<=", self.m.constant(frozenset(r for r, _ in e.excepted)))
                else:
                    test = cg.not_(cg.name("fc"))
            else:
                test = cg.compare(cg.name("n"), "not in", cg.name("fs"))
            return test if e.negated else cg.not_(test)
        if isinstance(e, s.OutOfOrder):
            steps = self.root_field(self.p.steps_field, scope) if self.p.steps_field else cg.tuple_of(())
            return cg.call(cg.item(cg.name("_ORDER"), self.order_index(e.order)), cg.name("c"), steps)
        raise AssertionError(type(e).__name__)  # pragma: no cover

    def extremum(self, e: s.Call, scope: _RuleScope) -> ast.expr:
        """`min(a, b, …)` / `max(a, b, …)`: None when one of them is missing."""
        args = [self._expr(arg, scope) for arg in e.args]
        optional = [self.type_of(arg).optional for arg in e.args]
        if not any(optional):
            if len(args) == 2:  # `a if a <= b else b`: quicker than a call of the builtin
                (a, a_again), (b, b_again) = _held(args[0], scope), _held(args[1], scope)
                test = cg.compare(a, "<=" if e.function == "min" else ">=", b)
                return cg.if_else(test, a_again, b_again)
            return cg.call(e.function, *args)
        held = [_held(arg, scope) if maybe else (arg, arg) for arg, maybe in zip(args, optional)]
        missing = [cg.is_none(first) for (first, _again), maybe in zip(held, optional) if maybe]
        values = [again for _first, again in held]
        test = missing[0]
        for more in missing[1:]:
            test = cg.either(test, more)
        # the optional ones are read (into their temps) before the others, in the test
        return cg.if_else(test, cg.literal(None), cg.call(e.function, *values))

    def settled(self, e, scope: _RuleScope) -> set[str]:
        """The keys of the fact slots that evaluating `e` surely assigns, whatever its values: what
        a later clause of the same rule may read from its slot rather than again. Only the parts
        evaluated first, or always, count (the left of `and`, a condition before its branches…)."""
        if e is None or isinstance(e, (s.Literal, s.Total, s.Previous, s.Failure, s.OutOfOrder)):
            return set()
        if isinstance(e, s.Name):
            kind = self.binding_kind(e, scope)
            if kind == "let":
                return {e.name} | self._let_settled(e.name, scope)
            if kind == "param":
                return {e.name}
            if kind == "builtin":
                return {"as_of"}
            if kind == "field":
                root = self.p.schema.root.fields.get(e.name)
                return {e.name} if root is not None and root.type.kind != "record" else set()
            return set()
        if isinstance(e, s.Attribute):
            key = self.path_key(e, scope)
            inner = self.settled(e.obj, scope)
            if isinstance(e.obj, s.Name) and self.binding_kind(e.obj, scope) == "payout":
                return inner | {f"payout.{e.name}"}
            if key is not None and self.type_of(e).kind != "record":
                inner.add(key)
            return inner
        if isinstance(e, s.Binary):
            if self.type_of(e).optional:  # the side tested first, alone
                first = e.left if self.type_of(e.left).optional or not self.type_of(e.right).optional else e.right
                return self.settled(first, scope)
            return self.settled(e.left, scope) | self.settled(e.right, scope)
        if isinstance(e, (s.Compare, s.Member)):
            left, right = (e.left, e.right) if isinstance(e, s.Compare) else (e.item, e.container)
            return self.settled(left, scope) | self.settled(right, scope)
        if isinstance(e, s.Index):
            return self.settled(e.obj, scope) | self.settled(e.key, scope)
        if isinstance(e, s.Logical):
            return self.settled(e.left, scope)
        if isinstance(e, (s.Not, s.Negate, s.Rounded, s.Test)):
            return self.settled(e.operand, scope)
        if isinstance(e, s.IfElse):
            return self.settled(e.condition, scope)
        if isinstance(e, s.IfMissing):
            return self.settled(e.value, scope)
        if isinstance(e, s.Quantifier):
            return self.settled(e.items, scope)
        if isinstance(e, s.Aggregate):
            return set() if e.kind == "count" else self.settled(e.items, scope)
        if isinstance(e, s.Call):
            optional = [arg for arg in e.args if self.type_of(arg).optional]
            if optional:  # the first that may be missing is tested first; the rest may not run
                return self.settled(optional[0], scope)
            out: set[str] = set()
            for arg in e.args:
                out |= self.settled(arg, scope)
            return out
        return set()

    def after(self, first, scope: _RuleScope, build):
        """Build the code of a part that runs after `first` has: the slots `first` surely assigns
        are read from there, not again."""
        saved = scope.known
        scope.known = saved | self.settled(first, scope)
        try:
            return build()
        finally:
            scope.known = saved

    def _let_settled(self, name: str, scope: _RuleScope) -> set[str]:
        """The slots a let's body surely assigns (the first time it is read)."""
        with self._in_let_body():
            return self.settled(self.let_exprs[name], scope)

    @contextmanager
    def _in_let_body(self):
        """A let's body reads the rule's names, not the quantifier variables around its use."""
        saved = self.names
        self.names = {}
        try:
            yield
        finally:
            self.names = saved

    def loop_helper(self, kind: str, var: str, body: ast.expr, items: ast.expr, scope: _RuleScope) -> ast.expr | None:
        """A quantifier or an aggregate as a call of a plain loop in a function of its own,
        `_loopN(items, <the names the body reads>, <the fact slots it sets>)`: faster than a
        comprehension inlined in `evaluate_case`, which would make every name the comprehension
        reads or sets a cell of that function and build a closure each time it runs. The names
        are read when the loop starts (the body sets none of them). The fact slots the body sets
        go in with their values and come back with the result, `(result, slot, …)`, and are set
        again from there, so that the rule sees them as a comprehension would have left them.
        None when the body reads a temporary it does not set (one that may be unbound there)."""
        stored = {n.target.id for n in ast.walk(body) if isinstance(n, ast.NamedExpr)}
        slots = sorted(name for name in stored if not _TEMP.fullmatch(name))
        free = sorted(name for name in cg.reads(body) - stored - {var} if not self.is_global(name))
        if any(_TEMP.fullmatch(name) for name in free):
            return None

        def give(value: ast.expr) -> ast.stmt:
            return cg.return_(cg.tuple_of([value, *map(cg.name, slots)]) if slots else value)

        if kind == "any":
            stmts = [cg.for_(var, cg.name("items"), [cg.if_(body, [give(cg.literal(True))])]),
                     give(cg.literal(False))]
        elif kind == "all":
            stmts = [cg.for_(var, cg.name("items"), [cg.if_(cg.not_(body), [give(cg.literal(False))])]),
                     give(cg.literal(True))]
        elif kind == "count":
            stmts = [cg.assign("n", cg.literal(0)),
                     cg.for_(var, cg.name("items"), [cg.if_(body, [cg.add_one("n")])]),
                     give(cg.name("n"))]
        elif kind == "sum":  # as `sum` adds: 0, then each value in turn
            stmts = [cg.assign("total", cg.literal(0)),
                     cg.for_(var, cg.name("items"), [cg.assign("total", cg.binary(cg.name("total"), "+", body))]),
                     give(cg.name("total"))]
        else:  # "each" and "first": the items that hold (every item's body runs); "list": the values
            kept = [cg.do(cg.method(cg.name("out"), "append", body if kind == "list" else cg.name(var)))]
            stmts = [cg.assign("out", cg.list_of()),
                     cg.for_(var, cg.name("items"), kept if kind == "list" else [cg.if_(body, kept)]),
                     give(cg.name("out"))]
        key = tuple(map(ast.dump, stmts))  # (the parameters are the names the statements read and set)
        fname = self.helper_names.get(key)
        if fname is None:  # the same loop written twice is one function
            fname = self.helper_names[key] = f"_loop{len(self.helpers)}"
            self.helpers.append(cg.function(fname, ["items", *free, *slots], stmts))
        call = cg.call(fname, items, *map(cg.name, free), *map(cg.name, slots))
        if not slots:
            return call
        back = scope.temp()  # ((back := _loopN(…)), (slot := back[1]), …, back[0])[-1]
        sets = [cg.walrus(slot, cg.item(cg.name(back), i)) for i, slot in enumerate(slots, 1)]
        return cg.item(cg.tuple_of([cg.walrus(back, call), *sets, cg.item(cg.name(back), 0)]), len(slots) + 1)

    def is_global(self, name: str) -> bool:
        """A name of the generated module's namespace (not a local of the function being built)."""
        return (name in cg.BUILTINS or name in cg.HELPERS or name in cg.TABLES
                or any(name == fn.name for fn in self.helpers))

    def order_index(self, order: str) -> int:
        return sorted(self.p.orders).index(order)

    def bound(self, var: str, build):
        saved = self.names.get(var)
        self.names[var] = "var"
        try:
            return build()
        finally:
            if saved is None:
                del self.names[var]
            else:
                self.names[var] = saved

    def name(self, e: s.Name, scope: _RuleScope) -> ast.expr:
        kind = self.binding_kind(e, scope)
        if kind == "var":
            return cg.name(f"v_{e.name}")
        if kind == "let":
            if e.name in scope.known:
                return cg.name(scope.slot(e.name, _format_kind(self.type_of(self.let_exprs[e.name]))))
            body = self.bound_let(e.name, scope)
            slot = scope.slot(e.name, _format_kind(self.type_of(self.let_exprs[e.name])))
            if e.name in scope.once:  # read at one place only: nothing to remember it for
                return cg.walrus(slot, body)
            return cg.if_else(cg.compare(cg.name(slot), "is not", cg.name("_U")), cg.name(slot),
                              cg.walrus(slot, body))
        if kind == "amount":
            return cg.name(self.amount_locals[e.name])
        if kind == "group":
            return self.group_names[e.name]
        if kind == "step":
            return cg.name(scope.step_var)
        if kind == "payout":
            return cg.name("pc")
        if kind == "param":
            typ = self.p.parameters[e.name].type
            if e.name in scope.known:
                return cg.name(scope.slot(e.name, _format_kind(typ)))
            return cg.walrus(scope.slot(e.name, _format_kind(typ)), cg.item(cg.name(scope.params), cg.literal(e.name)))
        if kind == "builtin":
            if "as_of" in scope.known:
                return cg.name(scope.slot("as_of", "date"))
            return cg.walrus(scope.slot("as_of", "date"), cg.name("as_of"))
        root = self.p.schema.root.fields.get(e.name)
        if root is None:  # pragma: no cover - the checker resolved every name
            raise AssertionError(f"unresolved name {e.name}")
        if root.type.kind == "record":
            return self.root_field(e.name, scope)
        if e.name in scope.known:
            return cg.name(scope.slot(e.name, _format_kind(root.type)))
        return cg.walrus(scope.slot(e.name, _format_kind(root.type)), self.root_field(e.name, scope))

    def root_field(self, field: str, scope: _RuleScope) -> ast.expr:
        """`c.field`, a field of the snapshot itself; in code inlined into `evaluate_case`, a
        record is read once per case (the local `_rec_field`, assigned at its top) and the steps
        are its parameter `steps`."""
        if scope.inline:
            if field == self.p.steps_field:
                return cg.name("steps")
            if self.p.schema.root.fields[field].type.kind == "record":
                return cg.name(self.records.setdefault(field, f"_rec_{field}"))
        return cg.field(cg.name("c"), field)

    def bound_let(self, name: str, scope: _RuleScope) -> ast.expr:
        with self._in_let_body():
            return self._expr(self.let_exprs[name], scope)

    def binary(self, op: str, a: ast.expr, b: ast.expr, ta: t.Type, tb: t.Type) -> ast.expr:
        ka, kb = ta.kind, tb.kind
        if op == "+" and {ka, kb} == {"date", "months"}:  # the Civil Code's count (days.add_months)
            return cg.call("_add_months", a, b) if ka == "date" else cg.call("_add_months", b, a)
        if op == "+" and ka == "date":
            return cg.call("_add_bdays", a, b) if kb == "business_days" else cg.binary(a, "+", cg.call("_days", b))
        if op == "+" and kb == "date":
            return cg.call("_add_bdays", b, a) if ka == "business_days" else cg.binary(b, "+", cg.call("_days", a))
        if op == "-" and ka == "date" and kb == "date":
            return cg.day_count(cg.binary(a, "-", b))
        if op == "-" and ka == "date":
            return cg.call("_add_bdays", a, cg.negate(b)) if kb == "business_days" \
                else cg.binary(a, "-", cg.call("_days", b))
        if op == "/":
            return cg.call("_divide", a, b)
        return cg.binary(a, op, b)


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
