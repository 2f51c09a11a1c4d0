"""expressions: the expression compiler of the generated rulebook module.

`ExpressionCompiler.expr` turns a checked expression of the language into an `ast` expression
(built with `engine.codegen`) inside a `Scope`: the fact slots and locals of the one function
being generated. Every field, parameter, let and the as-of date an expression reads gets a fact
slot, assigned where it is read (`slot := …`), so the trace of facts read costs a local store; a
slot that an earlier part surely assigned is read from there, not again (`settled`, `after`). A
quantifier or an aggregate becomes a call of a loop in a function of its own (`loop_helper`,
the module's `_loopN`). A clause's texts become a `TemplatePlan` and the expressions they show
(`clause_texts`).

The compiler knows what names stand for (`binding_kind`) from what its user sets as it goes:
the lets of the rule being compiled (`let_exprs`), the quantifier variables in scope (`names`),
the payout's amounts (`amount_locals`) and a batch rule's group (`group_names`). What it learns
while compiling — the loop helpers, the snapshot's records read, the step amounts that
`previous` and `total` read — the driver of `compile` reads back.
"""

from __future__ import annotations

import ast
import re
from contextlib import contextmanager

from ..language import datatype as t
from ..language import syntax as s
from ..language.infer import canonical
from ..language.program import Program
from ..language.schema import ROOT
from . import codegen as cg
from .plan import ClausePlan, TemplatePlan

__all__ = ["ExpressionCompiler", "Scope", "format_kind_of", "init_slots"]

_TEMP = re.compile(r".*_t[0-9]+")  # a temporary of generated code (`Scope.temp`)
_PY_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def format_kind_of(typ: t.Type) -> str:
    """How a text shows a value of this type: `yen`, `date`, …, `list:K`, `table:K` (the values
    shown as K), `record:NAME` (its fields shown as the plan's `record_formats` say)."""
    if typ.kind == "list":
        return f"list:{format_kind_of(typ.inner) if typ.inner else 'text'}"
    if typ.kind == "table":
        return f"table:{format_kind_of(typ.inner) if typ.inner else 'text'}"
    if typ.kind == "record":
        return f"record:{typ.record}"
    return typ.kind


class Scope:
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
        # quantifiers computed together in one pass (`ExpressionCompiler.fuse`): id of the
        # quantifier → (the local keeping the group's values, its place there, the loop helper)
        self.fused: dict[int, tuple[str, int, str]] = {}
        self.groups: list[str] = []  # the locals of those groups that the code reads
        # the order graphs (by index in `_ORDER`) whose quick check the function holds inlined,
        # in `_oq{index}` (compile's `order.inline_check`), and those that the code reads
        self.inline_orders: frozenset[int] = frozenset()
        self.order_checks: set[int] = set()

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


def _held(code: ast.expr, scope: Scope) -> tuple[ast.expr, ast.expr]:
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


def _outer_quantifiers(expr):
    """The quantifiers of an expression that are not inside another's body or an aggregate's."""
    if isinstance(expr, s.Quantifier):
        yield expr
        yield from _outer_quantifiers(expr.items)
        return
    if isinstance(expr, s.Aggregate):
        yield from _outer_quantifiers(expr.items)
        return
    if isinstance(expr, tuple):
        for item in expr:
            yield from _outer_quantifiers(item)
        return
    for name in getattr(expr, "__slots__", ()):
        value = getattr(expr, name, None)
        if isinstance(value, tuple) or hasattr(value, "__slots__"):
            yield from _outer_quantifiers(value)


def init_slots(scope: Scope) -> ast.stmt:
    """`_f0 = _f1 = … = _U`: every slot starts unread (and every fused group not computed)."""
    names = scope.slot_names() + scope.groups
    return cg.assign(names, cg.name("_U")) if names else cg.pass_()


class ExpressionCompiler:
    """Compiles the expressions of one generated module (`m`, whose constants table they use)."""

    def __init__(self, program: Program, module: cg.Module):
        self.p = program
        self.m = module
        self.names: dict[str, str] = {}  # quantifier variables in scope
        self.amount_locals: dict[str, str] = {}  # the payout's amounts computed so far → their locals
        self.let_exprs: dict = {}  # the lets of the rule being compiled
        self.helpers: list[ast.FunctionDef] = []  # the loop helpers, `_loopN`
        self.helper_names: dict[tuple, str] = {}  # a loop helper's statements (ast.dump) → its name
        self.previous: set[int] = set()  # the step amounts that `previous` reads
        self.group_names: dict[str, ast.expr] = {}  # a batch rule's keys and figures (compile_batch)
        self.records: dict[str, str] = {}  # a record of the snapshot that evaluate_case reads → its local
        self.totals: set[int] = set()  # the step amounts that `total` reads: summed as the steps go

    def clause_texts(self, clause, scope: Scope) -> tuple[ClausePlan, list[ast.expr]]:
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
        kind = format_kind_of(self.type_of(expr))
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

    def path_key(self, e, scope: Scope) -> str | None:
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

    def binding_kind(self, e: s.Name, scope: Scope) -> str:
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

    def expr(self, e, scope: Scope) -> ast.expr:
        return self._expr(e, scope)

    def _expr(self, e, scope: Scope, trace: bool = True) -> ast.expr:  # noqa: C901 - one case per node
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
                    return cg.name(scope.slot(key, format_kind_of(typ)))
                return cg.walrus(scope.slot(key, format_kind_of(typ)), code)
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
            if id(e) in scope.fused:  # computed with the other quantifiers of its group (`fuse`)
                return self.fused_loop(e, items, scope)
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
            index = self.order_index(e.order)
            pairs = cg.call(cg.item(cg.name("_ORDER"), index), cg.name("c"), steps)
            if index not in scope.inline_orders:
                return pairs
            scope.order_checks.add(index)  # the pairs only when the inlined quick check found one
            return cg.if_else(cg.name(f"_oq{index}"), pairs, cg.tuple_of(()))
        raise AssertionError(type(e).__name__)  # pragma: no cover

    def extremum(self, e: s.Call, scope: Scope) -> ast.expr:
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
        if len(args) == 2:  # then `a if a <= b else b`, as for two that cannot be missing
            (a, a_again), (b, b_again) = [_held(again, scope) for again in values]
            pick = cg.if_else(cg.compare(a, "<=" if e.function == "min" else ">=", b), a_again, b_again)
            return cg.if_else(test, cg.literal(None), pick)
        return cg.if_else(test, cg.literal(None), cg.call(e.function, *values))

    def settled(self, e, scope: Scope) -> set[str]:
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

    def after(self, first, scope: Scope, build):
        """Build the code of a part that runs after `first` has: the slots `first` surely assigns
        are read from there, not again."""
        saved = scope.known
        scope.known = saved | self.settled(first, scope)
        try:
            return build()
        finally:
            scope.known = saved

    def _let_settled(self, name: str, scope: Scope) -> set[str]:
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

    def loop_helper(self, kind: str, var: str, body: ast.expr, items: ast.expr, scope: Scope) -> ast.expr | None:
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

    # -------------------------------------------------------- fused loops

    def fuse(self, exprs, scope: Scope) -> None:
        """Quantifiers (`any`, `all`, `count`) of one rule over the same list with the same
        variable, computed together by one loop (`_loopN(items)` → their values, in a tuple) the
        first time one of them is needed, and read from there by the others (`scope.fused`).
        Only those whose list is a field path (read without effect, and the same list wherever it
        is read in the rule) and whose body reads nothing but the item, with nothing in it that
        can raise (`cannot_raise`): running such a body where the rule would not have is invisible, so
        the values, the facts read and the errors are those of one loop per quantifier."""
        groups: dict[tuple[str, str], list] = {}
        for expr in exprs:
            for e in _outer_quantifiers(expr):
                if e.kind in ("any", "all", "count") and self.path_key(e.items, scope) is not None \
                        and self.cannot_raise(e.body, e.var) and all(e is not m for m, _ in groups.get((canonical(e.items), e.var), ())):
                    body = self.lone_body(e, scope)
                    if body is not None:
                        groups.setdefault((canonical(e.items), e.var), []).append((e, body))
        for members in groups.values():
            if len(members) < 2:
                continue
            local = f"{scope.prefix}_g{len({g for g, _, _ in scope.fused.values()})}"
            helper = self.fused_helper([(e.kind, f"v_{e.var}", body) for e, body in members])
            for position, (e, _body) in enumerate(members):
                scope.fused[id(e)] = (local, position, helper)

    def lone_body(self, e: s.Quantifier, scope: Scope) -> ast.expr | None:
        """The quantifier's body, when it reads nothing but the item and the module's constants
        (no fact slot, no name of the function around it): else None."""
        probe = Scope(scope.step_var, prefix=scope.prefix, params=scope.params, inline=scope.inline)
        probe.lets = scope.lets
        body = self.bound(e.var, lambda: self._expr(e.body, probe))
        stored = {n.target.id for n in ast.walk(body) if isinstance(n, ast.NamedExpr)}
        free = cg.reads(body) - stored - {f"v_{e.var}"}
        if probe.slots or any(not _TEMP.fullmatch(n) for n in stored) or any(not self.is_global(n) for n in free):
            return None
        return body

    def fused_helper(self, members: list[tuple[str, str, ast.expr]]) -> str:
        """`_loopN(items)`: one pass over the items, each quantifier's value kept in `r{i}` (a
        count, or whether any / all items hold: once settled, that body is not run again)."""
        start = {"count": cg.literal(0), "any": cg.literal(False), "all": cg.literal(True)}
        var = members[0][1]
        body: list[ast.stmt] = []
        for i, (kind, _var, test) in enumerate(members):
            r = f"r{i}"
            if kind == "count":
                body.append(cg.if_(test, [cg.add_one(r)]))
            elif kind == "any":
                body.append(cg.if_(cg.both(cg.not_(cg.name(r)), test), [cg.assign(r, cg.literal(True))]))
            else:
                body.append(cg.if_(cg.both(cg.name(r), cg.not_(test)), [cg.assign(r, cg.literal(False))]))
        stmts = [cg.assign(f"r{i}", start[kind]) for i, (kind, _v, _t) in enumerate(members)]
        stmts += [cg.for_(var, cg.name("items"), body),
                  cg.return_(cg.tuple_of([cg.name(f"r{i}") for i in range(len(members))]))]
        key = tuple(map(ast.dump, stmts))
        fname = self.helper_names.get(key)
        if fname is None:
            fname = self.helper_names[key] = f"_loop{len(self.helpers)}"
            self.helpers.append(cg.function(fname, ["items"], stmts))
        return fname

    def fused_loop(self, e: s.Quantifier, items: ast.expr, scope: Scope) -> ast.expr:
        """`(G if G is not _U else (G := _loopN(items)))[i]`: the group's values, computed at the
        first of its quantifiers that runs (whose list read sets the list's fact slot, as its own
        loop would have)."""
        local, position, helper = scope.fused[id(e)]
        if local not in scope.groups:
            scope.groups.append(local)
        group = cg.if_else(cg.compare(cg.name(local), "is not", cg.name("_U")), cg.name(local),
                           cg.walrus(local, cg.call(helper, items)))
        return cg.item(group, position)

    def cannot_raise(self, e, var: str) -> bool:
        """The expression, in a loop over items named `var`, cannot raise whatever the item: it is
        made of the item's fields, literals, `=` / `!=`, an order between values that cannot be
        missing, `and` / `or` / `not`, `is set` / `is missing`, and membership in a literal list."""
        if isinstance(e, s.Literal):
            return e.kind != "list" or all(self.cannot_raise(item, var) for item in e.value)
        if isinstance(e, s.Name):
            return e.name == var
        if isinstance(e, s.Attribute):
            return self.cannot_raise(e.obj, var)
        if isinstance(e, s.Compare):
            if not (self.cannot_raise(e.left, var) and self.cannot_raise(e.right, var)):
                return False
            return e.op in ("=", "!=") or not (self.type_of(e.left).optional or self.type_of(e.right).optional)
        if isinstance(e, s.Logical):
            return self.cannot_raise(e.left, var) and self.cannot_raise(e.right, var)
        if isinstance(e, s.Not):
            return self.cannot_raise(e.operand, var)
        if isinstance(e, s.Test):
            return e.test in ("set", "missing") and self.cannot_raise(e.operand, var)
        if isinstance(e, s.Member):
            return isinstance(e.container, s.Literal) and self.cannot_raise(e.item, var) and self.cannot_raise(e.container, var)
        return False

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

    def name(self, e: s.Name, scope: Scope) -> ast.expr:
        kind = self.binding_kind(e, scope)
        if kind == "var":
            return cg.name(f"v_{e.name}")
        if kind == "let":
            if e.name in scope.known:
                return cg.name(scope.slot(e.name, format_kind_of(self.type_of(self.let_exprs[e.name]))))
            body = self.bound_let(e.name, scope)
            slot = scope.slot(e.name, format_kind_of(self.type_of(self.let_exprs[e.name])))
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
                return cg.name(scope.slot(e.name, format_kind_of(typ)))
            return cg.walrus(scope.slot(e.name, format_kind_of(typ)), cg.item(cg.name(scope.params), cg.literal(e.name)))
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
            return cg.name(scope.slot(e.name, format_kind_of(root.type)))
        return cg.walrus(scope.slot(e.name, format_kind_of(root.type)), self.root_field(e.name, scope))

    def root_field(self, field: str, scope: Scope) -> ast.expr:
        """`c.field`, a field of the snapshot itself; in code inlined into `evaluate_case`, a
        record is read once per case (the local `_rec_field`, assigned at its top) and the steps
        are its parameter `steps`."""
        if scope.inline:
            if field == self.p.steps_field:
                return cg.name("steps")
            if self.p.schema.root.fields[field].type.kind == "record":
                return cg.name(self.records.setdefault(field, f"_rec_{field}"))
        return cg.field(cg.name("c"), field)

    def bound_let(self, name: str, scope: Scope) -> ast.expr:
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
