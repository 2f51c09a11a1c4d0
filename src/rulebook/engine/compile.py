"""compile: Program → Plan, Python source for every rule, payout and order.

Each rule becomes one Python function that evaluates its clauses in order and
returns `(clause, facts, args)`: the index of the clause that decided, the
values of every fact slot (UNSET where evaluation did not read it), and the
values its message, fix and due date interpolate. Every field, parameter, let
and the as-of date has one fact slot, assigned where it is read (`:=`), so the
trace of facts read costs a local store.

Only names checked against the grammar's NAME pattern reach the source as
identifiers (prefixed), attribute names that are not plain identifiers are read
with getattr, and every string or value of the rulebook enters as a constant
or through `repr`: a rule file cannot inject code.
"""

from __future__ import annotations

import datetime as dt
import keyword

from ..language import datatype as t
from ..language import syntax as s
from ..language.infer import canonical
from .plan import ClausePlan, OrderPlan, Plan, RulePlan, TemplatePlan
from ..language.program import Order, Program, Rule
from ..language.schema import ROOT
from .pycode import attribute
from .timeline import always_daily, boundaries, time_use

def compile_program(program: Program) -> Plan:
    gen = _Generator(program)
    return gen.run()


# ----------------------------------------------------------- code generation

_PY_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _format_kind(typ: t.Type) -> str:
    if typ.kind == "list":
        inner = typ.inner.kind if typ.inner else "text"
        return f"list:{inner}"
    return typ.kind


class _RuleScope:
    """The fact slots and locals of one function being generated."""

    def __init__(self, step_var: str | None, prefix: str = "", params: str = "_P"):
        self.slots: dict[str, int] = {}
        self.kinds: list[str] = []
        self.keys: list[str] = []
        self.lets: dict[str, str] = {}
        self.once: set[str] = set()  # lets read at exactly one place of the code generated with this scope
        self.step_var = step_var
        self.temps = 0
        self.prefix = prefix  # keeps the locals of rules inlined in one function apart
        self.params = params  # the local holding the parameters in force

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


class _Generator:
    def __init__(self, program: Program):
        self.p = program
        self.names: dict[str, str] = {}  # quantifier variables in scope
        self.amount_locals: dict[str, str] = {}
        self.let_exprs: dict = {}
        self.helpers: list[str] = []
        self.blocks: dict[int, list] = {}  # rule index → its decision block
        self.numbers: dict[int, str] = {}  # rule index → the step number expression of `on step numbered`
        self.rule_lines: list = []  # (first line, last line, rule index) in the source
        self.lines: list[str] = []
        self.constants: list = []
        self.const_ids: dict = {}

    def const(self, value) -> str:
        key = (type(value).__name__, repr(value))
        if key not in self.const_ids:
            self.const_ids[key] = len(self.constants)
            self.constants.append(value)
        return f"_K[{self.const_ids[key]}]"

    def type_of(self, expr) -> t.Type:
        return self.p.types.get(id(expr), t.ERROR)

    # ------------------------------------------------------------------ run
    def run(self) -> Plan:
        p = self.p
        rules = [self.rule(r) for r in p.rules]
        self.lines[:0] = "\n".join(self.helpers).splitlines() + [""]
        step_amounts = case_amounts = ()
        self.step_payout_lines = self.case_payout_lines = None
        if p.step_payout:
            step_amounts = tuple(n for n, _ in p.step_payout.amounts)
            self.step_payout_lines = self.payout(p.step_payout)
        if p.case_payout:
            case_amounts = tuple(n for n, _ in p.case_payout.amounts)
            self.case_payout_lines = self.payout(p.case_payout)
        self.dated_function("dated_default", p.dated)
        self.driver(rules)
        orders = {name: _order_plan(o, p.steps_field) for name, o in p.orders.items()}
        return Plan(
            name=p.name, version=p.version, titles=p.titles, stages=p.stages, rules=rules,
            step_amounts=step_amounts, case_amounts=case_amounts,
            parameters={n: par.values for n, par in p.parameters.items()},
            orders=orders, steps_field=p.steps_field,
            steps_number=p.schema.root.fields[p.steps_field].numbered_by if p.steps_field else None,
            source="\n".join(self.lines) + "\n", constants=self.constants,
            rule_lines=tuple(self.rule_lines),
            boundaries=boundaries(p), daily=always_daily(p),
            dated_is_as_of=p.dated is None or (isinstance(p.dated, s.Name) and p.dated.name == "as_of"),
        )

    def driver(self, rules: list[RulePlan]) -> None:
        """`evaluate_case(c, steps, as_of, _P, params_at, dated_day)`: every rule, inlined, in rulebook
        order, each step's payout after that step's rules, the case's payout, then the rules
        that read the payout. Returns the results — (rule index, subject, step index,
        clause, fact slot values…) tuples, by rule then subject — the steps' amounts (tuples)
        and the case's amounts (a mapping)."""
        number_key = self.p.schema.root.fields[self.p.steps_field].numbered_by if self.p.steps_field else None
        emit = self.emit
        emit("def evaluate_case(c, steps, as_of, _P, params_at, dated_day):")
        emit("fc = set()", 1)
        emit("fs = set()", 1)
        emit("pc = None", 1)

        def fails_test(rule: RulePlan) -> str:
            fails = [c.index for c in rule.clauses if c.status == "fail"]
            if not fails:
                return ""
            if len(fails) == 1:
                return f"k == {fails[0]}"
            return f"k in {self.const(frozenset(fails))}"

        def step_subject(var: str) -> str:
            return f"(_SUBJECTS[{var}] if 0 <= {var} < 1000 else 'step:' + str({var}))"

        def inline(rule: RulePlan, depth: int, failed: str | None, one: bool = False) -> None:
            """Emit the rule's block; `one` result (a case rule) goes to `r{N}`, not to a list."""
            first = len(self.lines) + 1
            append = f"ap(({rule.index}, "
            for line, extra in self.blocks[rule.index]:
                if one and line.startswith(append):
                    line = f"r{rule.index} = ({rule.index}, " + line[len(append):-1]
                    if rule.subject == "case":
                        line = line.replace(", subject, si, ", ", 'case', None, ", 1)
                emit(line, depth + extra)
            test = fails_test(rule)
            if test and failed:
                emit(f"if {test}: {failed}", depth)
            self.rule_lines.append((first, len(self.lines), rule.index))

        def run_case_rules(group: list[RulePlan]) -> None:
            for rule in group:
                if rule.subject == "case":
                    emit("st = None", 1) if "st" in _block_names(self.blocks[rule.index]) else None
                    inline(rule, 1, f"fc.add({rule.id!r})", one=True)
                elif rule.subject == "numbered_step":
                    first = len(self.lines) + 1
                    emit(f"n = {self.numbers[rule.index]}", 1)
                    emit("if n is None:", 1)
                    emit("subject, si, st = 'case', None, None", 2)
                    emit("else:", 1)
                    emit(f"subject = {step_subject('n')}", 2)
                    emit(f"si = n - 1 if 0 < n <= len(steps) and {attribute('steps[n - 1]', number_key)} == n "
                         "else None", 2)
                    emit("st = steps[si] if si is not None else None", 2)
                    self.rule_lines.append((first, len(self.lines), rule.index))
                    inline(rule, 1, f"fs.add(n) if n is not None else fc.add({rule.id!r})", one=True)

        def run_step_rules(group: list[RulePlan], payout: list[str] | None) -> None:
            if not group and payout is None:
                return
            for rule in group:
                emit(f"out{rule.index} = []", 1)
            if payout is not None:
                emit("sp = []", 1)
            emit("for si, st in enumerate(steps):", 1)
            emit(f"n = {attribute('st', number_key)}", 2)
            if group:
                emit(f"subject = {step_subject('n')}", 2)
            for rule in group:
                emit(f"ap = out{rule.index}.append", 2)
                inline(rule, 2, "fs.add(n)")
            if payout is not None:
                for line in payout:
                    emit(line, 2)
                amounts = len(self.p.step_payout.amounts)
                emit("sp.append((" + "".join(f"_s{i}, " for i in range(amounts)) + "))", 2)

        first = [r for r in rules if not r.reads_payout]
        later = [r for r in rules if r.reads_payout]
        run_case_rules([r for r in first if r.subject != "each_step"])
        run_step_rules([r for r in first if r.subject == "each_step"], self.step_payout_lines)
        if self.step_payout_lines is None:
            emit("sp = [() for st in steps]", 1)
        if self.case_payout_lines is not None:
            for line in self.case_payout_lines:
                emit(line, 1)
            names = [name for name, _ in self.p.case_payout.amounts]
            emit("pc = {" + ", ".join(f"{name!r}: _c{i}" for i, name in enumerate(names)) + "}", 1)
        else:
            emit("pc = {}", 1)
        run_case_rules([r for r in later if r.subject != "each_step"])
        run_step_rules([r for r in later if r.subject == "each_step"], None)
        parts, singles = [], []
        for r in rules:
            if r.subject == "each_step":
                if singles:
                    parts.append("[" + ", ".join(singles) + "]")
                    singles = []
                parts.append(f"out{r.index}")
            else:
                singles.append(f"r{r.index}")
        if singles:
            parts.append("[" + ", ".join(singles) + "]")
        emit("return " + (" + ".join(parts) or "[]") + ", sp, pc", 1)  # a rulebook may have no rules
        emit("")

    def emit(self, line: str, depth: int = 0) -> None:
        self.lines.append("    " * depth + line)

    def dated_function(self, name: str, expr) -> None:
        scope = _RuleScope(None)
        self.emit(f"def {name}(c, as_of):")
        if expr is None:
            self.emit("return as_of", 1)
        else:
            body = self.expr(expr, scope)
            self.emit(_init_slots(scope), 1)
            self.emit(f"return {body}", 1)
        self.emit("")

    # ---------------------------------------------------------------- rules
    def rule(self, rule: Rule):
        """The rule's decision, as a block of code that `evaluate_case` inlines, and `args_N`.

        The block leaves `k`, the deciding clause, and appends (N, subject, step index, k,
        fact slot values…) to the results; args_N(c, st, si, as_of, _P, params_at, pc, k) computes the values the clause's
        message, fix and due date show, when the verdict is explained.
        """
        step_var = "st" if rule.subject != "case" else None
        params = "_P" if rule.dated is None else f"_P{rule.index}"
        scope = _RuleScope(step_var, prefix=f"_{rule.index}", params=params)
        scope.lets = dict.fromkeys(rule.lets)
        scope.once = _read_once(rule)
        self.let_exprs = rule.lets
        self.names = {}
        if rule.subject == "numbered_step":
            self.numbers[rule.index] = self.expr(rule.number, _RuleScope(None, prefix=f"_n{rule.index}"))
        arg_scope = _RuleScope(step_var)
        arg_scope.lets = scope.lets
        decide: list[tuple[str, int]] = []
        arg_body: list[tuple[str, int]] = []
        clause_plans = []
        for position, clause in enumerate(rule.clauses):
            args: list[str] = []
            arg_index: dict[str, int] = {}

            def arg(expr) -> int:
                key = canonical(expr)
                if key not in arg_index:
                    arg_index[key] = len(args)
                    args.append(self.expr(expr, arg_scope))
                return arg_index[key]

            message = {lang: self.template(tmpl, arg) for lang, tmpl in clause.message.items()}
            fix = {lang: self.template(tmpl, arg) for lang, tmpl in clause.fix.items()} if clause.fix else None
            due = arg(clause.due) if clause.due is not None else None
            clause_plans.append(ClausePlan(clause.index, clause.status, message, fix, due, str(clause.span)))
            if clause.condition is None:
                decide.append(("else:" if position else "if True:", 0))
            else:
                keyword_ = "elif" if position else "if"
                decide.append((f"{keyword_} {self.expr(clause.condition, scope)}:", 0))
            decide.append((f"k = {clause.index}", 1))
            if args:
                arg_body.append((f"if k == {clause.index}:", 1))
                arg_body.append(("return (" + "".join(f"{a}, " for a in args) + ")", 2))
        dated = self.expr(rule.dated, scope) if rule.dated is not None else None
        facts = "".join(f", {name}" for name in scope.slot_names())
        block: list[tuple[str, int]] = [(_init_slots(scope), 0)]
        if dated is not None:
            block.append((f"_D = {dated}", 0))
            block.append((f"{params} = params_at(_D)", 0))
        elif rule.effective:
            block.append(("_D = dated_day", 0))
        inner = 0
        if rule.effective:
            start, until = rule.effective
            cond = f"_D < {self.const(start)}"
            if until is not None:
                cond += f" or _D > {self.const(until)}"
            block.append((f"if {cond}:", 0))
            block.append(("k = -1", 1))
            block.append((f"ap(({rule.index}, subject, si, -1, _D))", 1))
            block.append(("else:", 0))
            inner = 1
        block.extend((line, depth + inner) for line, depth in decide)
        block.append((f"ap(({rule.index}, subject, si, k{facts}))", inner))
        self.blocks[rule.index] = block
        self.emit(f"def args_{rule.index}(c, st, si, as_of, _P, params_at, pc, k):")
        self.emit(_init_slots(arg_scope), 1)
        self.prologue(rule, self.expr(rule.dated, arg_scope) if rule.dated is not None else None,
                      " ".join(line for line, _ in arg_body))
        for line, depth in arg_body:
            self.emit(line, depth)
        self.emit("return ()", 1)
        self.emit("")
        use = time_use(rule)
        if use.bounds:
            self.times_function(rule, use.bounds, step_var)
        return RulePlan(
            rule.index, rule.id, rule.subject, rule.stage, rule.titles, rule.source, tuple(clause_plans),
            tuple(zip(scope.keys, scope.kinds)), rule.reads_payout, rule.effective, str(rule.span),
            timed=bool(use.bounds), daily=use.daily,
        )

    def times_function(self, rule: Rule, bounds: tuple, step_var: str | None) -> None:
        """`times_N(c, st, si, as_of, _P, params_at, pc, k)`: the days on which a comparison with
        the as-of date in clause k (the deciding one) or before it changes its value, on this case
        (those that cannot be computed, such as from a date not set, are left out: they cannot
        change with time)."""
        scope = _RuleScope(step_var)
        scope.lets = dict.fromkeys(rule.lets)
        body = [self.expr(bound, scope) for bound, _offsets, _clause in bounds]
        one_day = self.const(dt.timedelta(days=1))
        self.emit(f"def times_{rule.index}(c, st, si, as_of, _P, params_at, pc, k):")
        self.emit(_init_slots(scope), 1)
        self.prologue(rule, self.expr(rule.dated, scope) if rule.dated is not None else None, " ".join(body))
        self.emit("out = []", 1)
        for code, (_bound, offsets, clause) in zip(body, bounds):
            depth = 1
            if clause:
                self.emit(f"if k >= {rule.clauses[clause].index}:", 1)
                depth = 2
            self.emit("try:", depth)
            self.emit(f"_d = {code}", depth + 1)
            for offset in offsets:
                self.emit(f"out.append(_d + {one_day})" if offset else "out.append(_d)", depth + 1)
            self.emit("except Exception:", depth)
            self.emit("pass", depth + 1)
        self.emit("return out", 1)
        self.emit("")

    def prologue(self, rule: Rule, dated: str | None, body: str) -> None:
        """The day parameters are read on, and the parameters in force then (only if the body needs them)."""
        if dated is not None:
            self.emit(f"_D = {dated}", 1)
            self.emit("_P = params_at(_D)", 1)
            return
        if rule.effective or "_D" in body:
            self.emit("_D = as_of", 1)

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
        the field read, its `if missing` default aside (a text of the rule), or each item of a
        `list of` it."""
        if isinstance(expr, s.IfMissing):
            return self.labelled_field(expr.value, snapshot_names)
        if isinstance(expr, s.Aggregate) and expr.kind == "list" and expr.body is not None:
            return self.labelled_field(expr.body, False)  # inside, a bare name is the loop's variable
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
    def payout(self, section) -> list[str]:
        """The section's amounts as lines of code: `_s{i}` (a step's, inside the loop over
        steps, where `st` and `n` are the step and its number) or `_c{i}` (the case's)."""
        each_step = section.subject == "each_step"
        scope = _RuleScope("st" if each_step else None, prefix="_ps" if each_step else "_pc")
        scope.lets = dict.fromkeys(section.lets)
        self.let_exprs = section.lets
        self.names = {}
        self.amount_locals = {}
        lines = []
        for i, (amount, expr) in enumerate(section.amounts):
            code = self.expr(expr, scope)
            local = f"_s{i}" if each_step else f"_c{i}"
            lines.append(f"{local} = {code}")
            self.amount_locals[amount] = local
        self.amount_locals = {}
        return [_init_slots(scope)] + lines

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

    def expr(self, e, scope: _RuleScope) -> str:
        return self._expr(e, scope)

    def _expr(self, e, scope: _RuleScope, trace: bool = True) -> str:  # noqa: C901 - one case per node
        typ = self.type_of(e)
        if isinstance(e, s.Literal):
            if e.kind == "boolean":
                return "True" if e.value else "False"
            if e.kind == "empty":
                return "()"
            if e.kind == "list":
                return "(" + "".join(self._expr(item, scope) + ", " for item in e.value) + ")"
            if e.kind == "string":
                return repr(e.value)
            if e.kind == "number" and isinstance(e.value, int):
                return repr(e.value)
            return self.const(e.value)
        if isinstance(e, s.Name):
            if not trace and self.binding_kind(e, scope) == "field":
                return attribute("c", e.name)
            return self.name(e, scope)
        if isinstance(e, s.Attribute):
            key = self.path_key(e, scope)
            if isinstance(e.obj, s.Name) and self.binding_kind(e.obj, scope) == "payout":
                slot = scope.slot(f"payout.{e.name}", "yen")
                return f"({slot} := pc[{e.name!r}])"
            obj_type = self.type_of(e.obj)
            obj = self._expr(e.obj, scope)
            if obj_type.optional:
                tmp = scope.temp()
                code = f"(None if ({tmp} := {obj}) is None else {attribute(tmp, e.name)})"
            else:
                code = attribute(obj, e.name)
            if key is not None and typ.kind != "record" and trace:
                return f"({scope.slot(key, _format_kind(typ))} := {code})"
            return code
        if isinstance(e, s.Index):
            return f"{self._expr(e.obj, scope)}.get({self._expr(e.key, scope)})"
        if isinstance(e, s.Binary):
            left_type, right_type = self.type_of(e.left), self.type_of(e.right)
            left, right = self._expr(e.left, scope), self._expr(e.right, scope)
            if typ.optional:
                a, b = scope.temp(), scope.temp()
                inner = self.binary(e.op, a, b, left_type, right_type)
                return f"(None if ({a} := {left}) is None or ({b} := {right}) is None else {inner})"
            return self.binary(e.op, left, right, left_type, right_type)
        if isinstance(e, s.Negate):
            return f"(-{self._expr(e.operand, scope)})"
        if isinstance(e, s.Compare):
            return f"({self._expr(e.left, scope)} {_PY_OPS[e.op]} {self._expr(e.right, scope)})"
        if isinstance(e, s.Logical):
            return f"({self._expr(e.left, scope)} {e.op} {self._expr(e.right, scope)})"
        if isinstance(e, s.Not):
            return f"(not {self._expr(e.operand, scope)})"
        if isinstance(e, s.Test):
            inner = self._expr(e.operand, scope)
            return {
                "set": f"({inner} is not None)",
                "missing": f"({inner} is None)",
                "empty": f"(len({inner}) == 0)",
                "not_empty": f"(len({inner}) != 0)",
                "blank": f"(not {inner}.strip())",
                "not_blank": f"(not not {inner}.strip())",
            }[e.test]
        if isinstance(e, s.Member):
            op = "not in" if e.negated else "in"
            return f"({self._expr(e.item, scope)} {op} {self._expr(e.container, scope)})"
        if isinstance(e, s.IfElse):
            return (f"({self._expr(e.then, scope)} if {self._expr(e.condition, scope)} "
                    f"else {self._expr(e.otherwise, scope)})")
        if isinstance(e, s.IfMissing):
            tmp = scope.temp()
            return f"({tmp} if ({tmp} := {self._expr(e.value, scope)}) is not None else {self._expr(e.default, scope)})"
        if isinstance(e, s.Rounded):
            fn = {"down": "_math_floor", "up": "_math_ceil", "half_up": "_round_half_up"}[e.mode]
            return f"{fn}({self._expr(e.operand, scope)})"
        if isinstance(e, s.Quantifier):
            items = self._expr(e.items, scope)
            tmp = scope.temp()
            var = f"v_{e.var}"
            body = self.bound(e.var, lambda: self._expr(e.body, scope))
            helper = self.loop_helper(e.kind, var, body)
            if helper is not None:
                return f"{helper}({items})"
            form = {
                "any": f"any({body} for {var} in {tmp})",
                "all": f"all({body} for {var} in {tmp})",
                "count": f"sum(1 for {var} in {tmp} if {body})",
                "each": f"[{var} for {var} in {tmp} if {body}]",
            }[e.kind]
            return f"({tmp} := {items}, {form})[1]"
        if isinstance(e, s.Aggregate):
            if e.kind == "count":  # the count is the fact, not the whole list
                return f"len({self._expr(e.items, scope, trace=False)})"
            items = self._expr(e.items, scope)
            tmp = scope.temp()
            var = f"v_{e.var}"
            body = self.bound(e.var, lambda: self._expr(e.body, scope))
            form = f"sum({body} for {var} in {tmp})" if e.kind == "sum" else f"[{body} for {var} in {tmp}]"
            return f"({tmp} := {items}, {form})[1]"
        if isinstance(e, s.Total):
            index = [name for name, _ in self.p.step_payout.amounts].index(e.name)
            return f"sum([_x[{index}] for _x in sp])"
        if isinstance(e, s.Failure):
            if e.subject is None:
                if e.excepted:
                    test = f"(fc <= {self.const(frozenset(r for r, _ in e.excepted))})"
                else:
                    test = "(not fc)"
            else:
                    test = "(n not in fs)"
            return test if e.negated else f"(not {test})"
        if isinstance(e, s.OutOfOrder):
            steps = attribute("c", self.p.steps_field) if self.p.steps_field else "()"
            return f"_order_{self.order_index(e.order)}(c, {steps})"
        raise AssertionError(type(e).__name__)  # pragma: no cover

    def loop_helper(self, kind: str, var: str, body: str) -> str | None:
        """A plain loop in a function of its own, for `any`, `all` and `count` whose body reads
        nothing but the loop variable: faster than a generator expression."""
        if kind not in ("any", "all", "count") or _free_names(body) - {var}:
            return None
        name = f"_loop{len(self.helpers)}"
        if kind == "any":
            lines = [f"for {var} in items:", f"    if {body}: return True", "return False"]
        elif kind == "all":
            lines = [f"for {var} in items:", f"    if not {body}: return False", "return True"]
        else:
            lines = ["n = 0", f"for {var} in items:", f"    if {body}: n += 1", "return n"]
        self.helpers.append(f"def {name}(items):\n" + "".join(f"    {line}\n" for line in lines))
        return name

    def order_index(self, name: str) -> int:
        return sorted(self.p.orders).index(name)

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

    def name(self, e: s.Name, scope: _RuleScope) -> str:
        kind = self.binding_kind(e, scope)
        if kind == "var":
            return f"v_{e.name}"
        if kind == "let":
            body = self.bound_let(e.name, scope)
            slot = scope.slot(e.name, _format_kind(self.type_of(self.let_exprs[e.name])))
            if e.name in scope.once:  # read at one place only: nothing to remember it for
                return f"({slot} := {body})"
            return f"({slot} if {slot} is not _U else ({slot} := {body}))"
        if kind == "amount":
            return self.amount_locals[e.name]
        if kind == "step":
            return scope.step_var
        if kind == "payout":
            return "pc"
        if kind == "param":
            typ = self.p.parameters[e.name].type
            return f"({scope.slot(e.name, _format_kind(typ))} := {scope.params}[{e.name!r}])"
        if kind == "builtin":
            return f"({scope.slot('as_of', 'date')} := as_of)"
        root = self.p.schema.root.fields.get(e.name)
        if root is None:  # pragma: no cover - the checker resolved every name
            raise AssertionError(f"unresolved name {e.name}")
        if root.type.kind == "record":
            return attribute("c", e.name)
        return f"({scope.slot(e.name, _format_kind(root.type))} := {attribute('c', e.name)})"

    def bound_let(self, name: str, scope: _RuleScope) -> str:
        # A let's body reads the rule's names, not the quantifier variables around its use.
        saved = self.names
        self.names = {}
        try:
            return self._expr(self.let_exprs[name], scope)
        finally:
            self.names = saved

    def binary(self, op: str, a: str, b: str, ta: t.Type, tb: t.Type) -> str:
        ka, kb = ta.kind, tb.kind
        if op == "+" and ka == "date":
            return f"_add_bdays({a}, {b})" if kb == "business_days" else f"({a} + _days({b}))"
        if op == "+" and kb == "date":
            return f"_add_bdays({b}, {a})" if ka == "business_days" else f"({b} + _days({a}))"
        if op == "-" and ka == "date" and kb == "date":
            return f"({a} - {b}).days"
        if op == "-" and ka == "date":
            return f"_add_bdays({a}, -{b})" if kb == "business_days" else f"({a} - _days({b}))"
        if op == "/":
            return f"_divide({a}, {b})"
        return f"({a} {op} {b})"


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


def _block_names(block) -> set[str]:
    return set().union(*(_free_names(line.rstrip(":").removeprefix("elif ").removeprefix("if ")
                                     .removeprefix("else") or "None") for line, _ in block))


def _free_names(code: str) -> set[str]:
    """The names an expression's code reads (not attributes, not keywords or strings)."""
    import io
    import tokenize

    names, previous = set(), None
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.NAME and not keyword.iskeyword(token.string) and previous != ".":
            names.add(token.string)
        previous = token.string
    return names


def _init_slots(scope: _RuleScope) -> str:
    names = scope.slot_names()
    if not names:
        return "pass"
    return " = ".join(names) + " = _U"


def _order_plan(order: Order, steps_field: str | None) -> OrderPlan:
    return OrderPlan(tuple((n.scope, n.path) for n in order.nodes), order.edges, steps_field)


