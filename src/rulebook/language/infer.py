"""infer: an expression → its type, and a diagnostic for each expression that is ill-typed.

The expression half of `check`: names resolved against the environment (fields, parameters,
lets, the variables of `each`/`any`/`all`), arithmetic and comparisons by kind and unit, and
which optional values are known to be set — after `x is set`, or after an earlier clause took
the cases where `x is missing` — so that a read of a value that may be missing is reported where
nothing says what happens then (RB302, in the strict pass).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from . import datatype as t
from . import syntax as s
from .catalogue import word
from .diagnostic import Code, did_you_mean
from . import message
from .message import Message

UNIT_KINDS = {None: None, "yen": "yen", "rate": "rate", "hours": "hours", "days": "days",
               "business_days": "business_days", "months": "months", "percent": "percent"}


@dataclass(frozen=True, slots=True)
class Binding:
    kind: str  # field param let var step builtin amount payout
    type: t.Type | None = None
    expr: s.Expr | None = None
    scope: "dict | None" = None  # for lets: the scope they were defined in


@dataclass(frozen=True)
class Env:
    names: dict
    known: frozenset = frozenset()
    strict: bool = False
    context: str = "rule"  # rule / step_payout / case_payout / header
    lets_in_progress: tuple = ()
    record: bool = True  # record the types found (off when re-reading a let at a use)

    def bind(self, name: str, binding: Binding) -> "Env":
        names = dict(self.names)
        names[name] = binding
        return replace(self, names=names)

    def knowing(self, keys) -> "Env":
        if not keys:
            return self
        return replace(self, known=self.known | with_prefixes(keys))


def with_prefixes(keys) -> frozenset:
    """The keys and every key they extend: `plan.proposed_on` gives `plan` too, and
    `limits[sme.industry].capital_jpy` gives `limits[sme.industry]` (not `limits[sme`)."""
    out = set()
    for key in keys:
        depth, quoted = 0, False
        for i, ch in enumerate(key):
            if quoted:
                quoted = ch != '"' or key[i - 1] == "\\"
            elif ch == '"':
                quoted = True
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            elif ch == "." and depth == 0:
                out.add(key[:i])
        out.add(key)
    return frozenset(out)


def key_of(expr) -> str | None:
    """The narrowing key of a name, a field path (`plan.proposed_on`) or a lookup in a table by
    such a key or a literal (`sme_size_limits[sme.industry]`, `names["ec_site"]`), else None."""
    if isinstance(expr, s.Name):
        return expr.name
    if isinstance(expr, s.Attribute):
        inner = key_of(expr.obj)
        return None if inner is None else f"{inner}.{expr.name}"
    if isinstance(expr, s.Index):
        inner = key_of(expr.obj)
        if inner is None:
            return None
        if isinstance(expr.key, s.Literal) and expr.key.kind in ("string", "number"):
            index = json.dumps(expr.key.value if expr.key.kind == "string" else str(expr.key.value),
                               ensure_ascii=False)
        else:
            index = key_of(expr.key)
        return None if index is None else f"{inner}[{index}]"
    return None


def canonical(expr) -> str:
    """A text form of an expression, equal for equal expressions (for RB303)."""
    if expr is None:
        return ""
    if isinstance(expr, s.Literal):
        return f"{expr.kind}:{expr.value!r}:{expr.unit}"
    parts = [type(expr).__name__]
    for name in expr.__slots__:
        if name in ("span", "name_span", "var_span"):
            continue
        value = getattr(expr, name)
        if isinstance(value, tuple):
            parts.append("(" + ",".join(canonical(v) if not isinstance(v, (str, tuple)) else repr(v[0] if isinstance(v, tuple) else v) for v in value) + ")")
        elif isinstance(value, (str, bool, type(None))):
            parts.append(repr(value))
        else:
            parts.append(canonical(value))
    return "[" + " ".join(parts) + "]"


class Typer:
    """Types expressions for the checker that inherits it, which provides `error` (to report),
    `types` (id of an expression → its type), `schema`, `orders`, `rule_ids`, the payout's
    `step_amounts` and `case_amounts`, and `reads_payout` (set when a rule reads the payout)."""

    def check_expr_both(self, expr, env: Env, want: t.Type | None, what: str, allow_optional=False,
                        strict_env: Env | None = None) -> t.Type:
        """Check an expression in both passes: names and types, then missing values."""
        lenient = replace(env, strict=False)
        typ = self.infer(expr, lenient)
        if want is not None and typ.kind != "error" and not typ.same_kind(want):
            self.error(Code.TYPE_MISMATCH, "must_be", expr.span, what=word(what), want=want.describe(),
                       found=typ.describe())
        strict = strict_env if strict_env is not None else replace(env, strict=True)
        narrowed = self.infer(expr, strict)
        if narrowed.optional and not allow_optional and narrowed.kind != "error":
            self.optional_error(expr, strict, what)
        return typ

    def optional_error(self, expr, env: Env, what="this value"):
        expr = self._missing_part(expr)
        key = key_of(expr)
        shown = f"`{key}`" if key else word("this value")
        self.error(Code.MAY_BE_MISSING, "may_be_missing", expr.span, env=env, shown=shown, key=key or "…")

    def _missing_part(self, expr):
        """The part of a field path that may be missing: `limits[k]` in `limits[k].capital_jpy` when
        the field itself is always there, so the help says what to guard."""
        while isinstance(expr, s.Attribute):
            owner = self.types.get(id(expr.obj))
            if owner is None or not owner.optional or owner.kind != "record":
                break
            record = self.schema.records.get(owner.record)
            declared = record.fields.get(expr.name) if record else None
            if declared is None or declared.type.optional:
                break
            expr = expr.obj
        return expr

    def require(self, expr, typ: t.Type, env: Env) -> t.Type:
        if typ.optional and typ.kind != "error":
            self.optional_error(expr, env)
        return typ.required()

    def facts(self, cond) -> tuple[frozenset, frozenset]:
        """Keys known set when the condition holds, and when it does not."""
        if isinstance(cond, s.Test) and cond.test in ("set", "missing"):
            key = key_of(cond.operand)
            if key is None:
                return frozenset(), frozenset()
            return (frozenset({key}), frozenset()) if cond.test == "set" else (frozenset(), frozenset({key}))
        if isinstance(cond, s.Not):
            yes, no = self.facts(cond.operand)
            return no, yes
        if isinstance(cond, s.Logical):
            ly, ln = self.facts(cond.left)
            ry, rn = self.facts(cond.right)
            if cond.op == "and":
                return ly | ry, ln & rn
            return ly & ry, ln | rn
        return frozenset(), frozenset()

    def infer(self, expr, env: Env) -> t.Type:
        typ = self._infer(expr, env)
        if not env.strict and env.record:
            self.types[id(expr)] = typ
        key = key_of(expr)
        if key is not None and typ.optional and key in env.known:
            typ = typ.required()
        return typ

    def _infer(self, e, env: Env) -> t.Type:  # noqa: C901 - one case per node kind
        if isinstance(e, s.Literal):
            return self._literal_type(e, env)
        if isinstance(e, s.Name):
            return self._name(e, env)
        if isinstance(e, s.Attribute):
            obj = self.infer(e.obj, env)
            if obj.kind == "error":
                return t.ERROR
            if obj.kind != "record":
                self.error(Code.TYPE_MISMATCH, "no_fields", e.name_span, env=env, name=e.name, found=obj.describe())
                return t.ERROR
            if obj.record == "payout":
                if e.name not in self.case_amounts:
                    self.error(Code.UNKNOWN_FIELD, "unknown_amount", e.name_span, did_you_mean(e.name, self.case_amounts),
                               env=env, name=e.name)
                    return t.ERROR
                return t.YEN
            record = self.schema.records.get(obj.record)
            if record is None or e.name not in record.fields:
                fields = record.fields if record else {}
                self.error(Code.UNKNOWN_FIELD, "unknown_field", e.name_span, did_you_mean(e.name, fields), env=env,
                           field=e.name, record=obj.record)
                return t.ERROR
            ftype = record.fields[e.name].type
            return ftype.maybe() if obj.optional else ftype
        if isinstance(e, s.Index):
            obj = self.require(e.obj, self.infer(e.obj, env), env)
            key = self.require(e.key, self.infer(e.key, env), env)
            if obj.kind == "error" or key.kind == "error":
                return t.ERROR
            if obj.kind != "table":
                self.error(Code.TYPE_MISMATCH, "not_a_table", e.span, env=env, found=obj.describe())
                return t.ERROR
            if not key.same_kind(obj.key):
                self.error(Code.TYPE_MISMATCH, "table_key", e.key.span, env=env, want=obj.key.describe(),
                           found=key.describe())
            return obj.inner.maybe()
        if isinstance(e, s.Binary):
            left, right = self.infer(e.left, env), self.infer(e.right, env)
            if left.kind == "error" or right.kind == "error":
                return t.ERROR
            result = t.arithmetic(e.op, left.required(), right.required())
            if result is None:
                self.error(Code.TYPE_MISMATCH, "arithmetic", e.span, env=env, op=word(_OPS[e.op]),
                           left=left.required().describe(), right=right.required().describe())
                return t.ERROR
            return result.maybe() if (left.optional or right.optional) else result
        if isinstance(e, s.Negate):
            inner = self.infer(e.operand, env)
            if inner.kind not in t.NUMERIC | {"error"}:
                self.error(Code.TYPE_MISMATCH, "negate", e.span, env=env, found=inner.describe())
                return t.ERROR
            return inner
        if isinstance(e, s.Compare):
            left = self.require(e.left, self.infer(e.left, env), env)
            right = self.require(e.right, self.infer(e.right, env), env)
            if left.kind != "error" and right.kind != "error":
                ok = t.equatable(left, right) if e.op in ("=", "!=") else t.comparable(left, right)
                if not ok:
                    self.error(Code.TYPE_MISMATCH, "compare", e.span, _compare_help(left, right), env=env,
                               left=left.describe(), right=right.describe())
            return t.BOOLEAN
        if isinstance(e, s.Logical):
            self.boolean(e.left, env)
            yes, no = self.facts(e.left)
            self.boolean(e.right, env.knowing(yes if e.op == "and" else no))
            return t.BOOLEAN
        if isinstance(e, s.Not):
            self.boolean(e.operand, env)
            return t.BOOLEAN
        if isinstance(e, s.Test):
            inner = self.infer(e.operand, env)
            if e.test in ("set", "missing"):
                return t.BOOLEAN
            inner = self.require(e.operand, inner, env)
            if e.test in ("empty", "not_empty") and inner.kind not in ("list", "text", "table", "error", "nothing"):
                self.error(Code.TYPE_MISMATCH, "empty", e.span, env=env, found=inner.describe())
            if e.test in ("blank", "not_blank") and inner.kind not in ("text", "error"):
                self.error(Code.TYPE_MISMATCH, "blank", e.span, env=env, found=inner.describe())
            return t.BOOLEAN
        if isinstance(e, s.Member):
            item = self.require(e.item, self.infer(e.item, env), env)
            box = self.require(e.container, self.infer(e.container, env), env)
            if item.kind != "error" and box.kind != "error":
                if box.kind == "table":
                    inner = box.key
                elif box.kind == "list":
                    inner = box.inner
                else:
                    self.error(Code.TYPE_MISMATCH, "in_list", e.container.span, env=env, found=box.describe())
                    return t.BOOLEAN
                if not t.equatable(item, inner):
                    self.error(Code.TYPE_MISMATCH, "list_cannot_hold", e.span, env=env, inner=inner.describe(),
                               item=item.describe())
            return t.BOOLEAN
        if isinstance(e, s.IfElse):
            self.boolean(e.condition, env)
            yes, no = self.facts(e.condition)
            a = self.infer(e.then, env.knowing(yes))
            b = self.infer(e.otherwise, env.knowing(no))
            return self.join(a, b, e, env)
        if isinstance(e, s.IfMissing):
            a = self.infer(e.value, env)
            b = self.infer(e.default, env)
            joined = self.join(a.required(), b, e, env)
            return joined.required() if not b.optional else joined
        if isinstance(e, s.Rounded):
            inner = self.infer(e.operand, env)  # missing stays missing, as in `+`
            if inner.kind in ("yen", "rate", "hours"):
                return inner.whole()
            if inner.kind in ("decimal", "integer", "percent"):
                return t.INTEGER.maybe() if inner.optional else t.INTEGER
            if inner.kind != "error":
                self.error(Code.TYPE_MISMATCH, "round", e.span, env=env, found=inner.describe())
            return t.ERROR
        if isinstance(e, s.Quantifier):
            element = self.element(e.items, env)
            inner = env.bind(e.var, Binding("var", element))
            self.boolean(e.body, inner)
            if e.kind == "first":
                return element.maybe()
            return {"any": t.BOOLEAN, "all": t.BOOLEAN, "count": t.INTEGER}.get(e.kind) or t.list_of(element)
        if isinstance(e, s.Aggregate):
            if e.kind == "count":
                self.element(e.items, env)
                return t.INTEGER
            if e.kind == "keys":
                table = self.require(e.items, self.infer(e.items, env), env)
                if table.kind == "error":
                    return t.ERROR
                if table.kind != "table":
                    self.error(Code.TYPE_MISMATCH, "keys", e.items.span, env=env, found=table.describe())
                    return t.ERROR
                return t.list_of(table.key)
            element = self.element(e.items, env)
            body = self.require(e.body, self.infer(e.body, env.bind(e.var, Binding("var", element))),
                                env.bind(e.var, Binding("var", element)))
            if e.kind == "list":
                return t.list_of(body)
            if body.kind not in t.NUMERIC | {"error"}:
                self.error(Code.TYPE_MISMATCH, "add_up", e.body.span, env=env, found=body.describe())
                return t.ERROR
            return body
        if isinstance(e, s.Call):
            return self.call(e, env)
        if isinstance(e, s.Previous):
            return self.step_amount(e, env, "step_payout", "previous")
        if isinstance(e, s.Total):
            return self.step_amount(e, env, "case_payout", "total")
        if isinstance(e, s.Failure):
            if env.context not in ("step_payout", "case_payout"):
                self.error(Code.OUT_OF_PLACE, "results_outside_payout", e.span, env=env)
                return t.BOOLEAN
            if e.subject is not None:
                binding = env.names.get(e.subject)
                if binding is None or binding.kind != "step":
                    self.error(Code.UNKNOWN_NAME, "not_a_step", e.span, env=env, name=e.subject)
            for rid, span in e.excepted:
                if rid not in self.rule_ids:
                    self.error(Code.UNKNOWN_RULE, "unknown_rule", span, did_you_mean(rid, self.rule_ids), env=env, rule=rid)
            return t.BOOLEAN
        if isinstance(e, s.OutOfOrder):
            if e.order not in self.orders:
                self.error(Code.UNKNOWN_NAME, "unknown_order", e.name_span, did_you_mean(e.order, self.orders), env=env,
                           order=e.order)
            return t.PAIRS
        raise AssertionError(f"unknown node {type(e).__name__}")  # pragma: no cover

    def _literal_type(self, e: s.Literal, env: Env) -> t.Type:
        if e.kind == "number":
            unit = UNIT_KINDS.get(e.unit)
            if unit:
                return t.Type(unit, fractional=unit in ("yen", "rate") and not isinstance(e.value, int))
            return t.INTEGER if isinstance(e.value, int) else t.DECIMAL
        if e.kind == "string":
            return t.TEXT
        if e.kind == "date":
            return t.DATE
        if e.kind == "boolean":
            return t.BOOLEAN
        if e.kind == "empty":
            return t.NOTHING
        if e.kind == "list":
            types = [self.infer(item, env) for item in e.value]
            if not types:
                return t.NOTHING
            for other, item in zip(types[1:], e.value[1:]):
                if not other.same_kind(types[0]):
                    self.error(Code.TYPE_MISMATCH, "list_of_one_kind", item.span, env=env, found=other.describe(),
                               first=types[0].describe())
            return t.list_of(types[0])
        what = word("a record" if e.kind == "record" else "a table")
        self.error(Code.OUT_OF_PLACE, "parameter_value_only", e.span, env=env, what=what)
        return t.ERROR

    def step_amount(self, e, env: Env, context: str, key: str) -> t.Type:
        """`previous NAME` or `total NAME`: a step amount, read where the form belongs (RB314
        `key` elsewhere)."""
        if env.context != context:
            self.error(Code.OUT_OF_PLACE, key, e.span, env=env)
            return t.ERROR
        if e.name not in self.step_amounts:
            self.error(Code.UNKNOWN_NAME, "unknown_step_amount", e.name_span, did_you_mean(e.name, self.step_amounts),
                       env=env, name=e.name)
            return t.ERROR
        return t.YEN

    def call(self, e: s.Call, env: Env) -> t.Type:
        """`min(…)` and `max(…)`: two values or more of one kind, as `+` takes them; missing when
        one of them may be."""
        types = [self.infer(arg, env) for arg in e.args]
        if e.function not in FUNCTIONS:
            self.error(Code.UNKNOWN_NAME, "unknown_function", e.name_span, did_you_mean(e.function, FUNCTIONS), env=env,
                       function=e.function, functions=message.joined(f"`{f}`" for f in FUNCTIONS))
            return t.ERROR
        if len(e.args) < 2:
            self.error(Code.MISSING_PART, "function_arguments", e.span, env=env, function=e.function)
            return t.ERROR
        if any(typ.kind == "error" for typ in types):
            return t.ERROR
        result = types[0].required()
        for arg, typ in zip(e.args[1:], types[1:]):
            joined = t.extremum(result, typ.required())
            if joined is None:
                self.error(Code.TYPE_MISMATCH, "function_kinds", arg.span, _compare_help(result, typ.required()),
                           env=env, function=e.function, left=result.describe(), right=typ.required().describe())
                return t.ERROR
            result = joined
        return result.maybe() if any(typ.optional for typ in types) else result

    def _name(self, e: s.Name, env: Env) -> t.Type:
        binding = env.names.get(e.name)
        if binding is None:
            candidates = [n for n in env.names]
            self.error(Code.UNKNOWN_NAME, "unknown_name", e.span, did_you_mean(e.name, candidates), env=env, name=e.name)
            return t.ERROR
        if binding.kind == "payout":
            self.reads_payout = True
        if binding.kind == "let":
            if e.name in env.lets_in_progress:
                self.error(Code.CYCLE, "let_cycle", e.span, env=env, name=e.name)
                return t.ERROR
            scope = binding.scope if binding.scope is not None else env.names
            inner = replace(env, names=scope, lets_in_progress=env.lets_in_progress + (e.name,), record=False)
            return self.infer(binding.expr, inner)
        return binding.type

    def boolean(self, expr, env: Env) -> None:
        typ = self.require(expr, self.infer(expr, env), env)
        if typ.kind not in ("boolean", "error"):
            self.error(Code.TYPE_MISMATCH, "condition", expr.span, env=env, found=typ.describe())

    def element(self, items, env: Env) -> t.Type:
        typ = self.require(items, self.infer(items, env), env)
        if typ.kind == "list":
            return typ.inner
        if typ.kind == "nothing":
            return t.ERROR
        if typ.kind != "error":
            self.error(Code.TYPE_MISMATCH, "not_a_list", items.span, env=env, found=typ.describe())
        return t.ERROR

    def join(self, a: t.Type, b: t.Type, e, env: Env) -> t.Type:
        if a.kind == "error" or b.kind == "error":
            return t.ERROR
        if not a.same_kind(b):
            self.error(Code.TYPE_MISMATCH, "different_kinds", e.span, env=env, left=a.required().describe(),
                       right=b.required().describe())
            return t.ERROR
        result = a if a.kind != "nothing" else b
        result = replace(result, fractional=a.fractional or b.fractional)
        return result.maybe() if (a.optional or b.optional) else result


_OPS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}

# The functions of the language: the smaller and the larger of their values.
FUNCTIONS = ("min", "max")


def _compare_help(left: t.Type, right: t.Type) -> Message | None:
    units = {"yen": "yen", "rate": "yen per hour", "hours": "hours", "days": "days"}
    for a, b in ((left, right), (right, left)):
        if a.kind in units and b.kind in ("integer", "decimal"):
            return word("give_unit", unit=units[a.kind])
    return None
