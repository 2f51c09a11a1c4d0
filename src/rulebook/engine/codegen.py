"""codegen: generated Python as `ast` nodes, and the one place that runs it.

Every piece of Python that rulebook generates — the compiled rules, the order checks, the
snapshot's checks, the verdict's texts and its compact entries — is built here as `ast`
nodes with the builders below, and run by `execute`, with one set of builtins and one set
of helpers (`BUILTINS`, `HELPERS`) and a table of constants per module.

What generated code can reach is fixed by construction; `verify` proves it on every tree
before it is compiled or shown, and `verify_code` on the compiled code of every module before it
runs (a module read back from the plan cache too):

- names: locals of its functions, the functions it defines, `BUILTINS`, `HELPERS` and its
  tables (`_K`, the constants; `_ORDER`, the order checks) — nothing else is in its namespace;
- attributes: only fields the rulebook's schema declares, and the few methods in
  `METHODS` (a table's `get`, a text's `strip`, …); never a name that starts with `_`; it
  sets none, except the declared fields a module is given leave to set (`settable`: the
  batch decoder, finishing the records it made itself, with `set_field`);
- values: `ast.Constant` (text, numbers, booleans, None) or an entry of the constants table
  (dates, decimals, sets); nothing from a rule file is ever parsed as code;
- statements and expressions: the forms in `_NODES` (no import, class, lambda, `while`,
  `global`, f-string, `with`, `raise`, …).

A module's source can always be shown (`Module.source`, `ast.unparse` of its tree); the
plan keeps its own (`rulebook.load().plan.source`).
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from typing import Iterable

from . import runtime

# ------------------------------------------------------------ the namespace

BUILTINS = {
    "Exception": Exception, "any": any, "all": all, "sum": sum, "len": len, "str": str,
    "set": set, "enumerate": enumerate, "min": min, "max": max,
}

HELPERS = {
    "_U": runtime.UNSET,
    "_days": runtime.days,
    "_add_bdays": runtime.add_business_days,
    "_add_months": runtime.add_months,
    "_NotInForce": runtime.NotInForce,
    "_nf": runtime.not_in_force,
    "_divide": runtime.divide,
    "_math_floor": math.floor,
    "_math_ceil": math.ceil,
    "_round_half_up": runtime.round_half_up,
    "_extras": runtime.extra_fields,
    "_given": runtime.fields_given,
    "_SUBJECTS": tuple(f"step:{n}" for n in range(1000)),
    "_MIN": dt.date.min,
}

TABLES = ("_K", "_ORDER")  # the constants of a module; the order checks of a plan

# The methods generated code calls, on the values that have them: a table's lookup, a
# text's blank test, the days of a span of dates, and adding to the lists and sets it builds.
METHODS = frozenset({"get", "strip", "days", "append", "extend", "add"})

# The forms generated code is made of.
_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.AugAssign, ast.If, ast.For,
    ast.Try, ast.ExceptHandler, ast.Pass, ast.Expr, ast.Name, ast.Load, ast.Store, ast.Attribute,
    ast.Subscript, ast.Constant, ast.Tuple, ast.List, ast.Starred, ast.Dict, ast.BinOp, ast.UnaryOp,
    ast.BoolOp, ast.Compare, ast.Call, ast.IfExp, ast.NamedExpr, ast.ListComp, ast.GeneratorExp,
    ast.comprehension, ast.And, ast.Or, ast.Not, ast.USub, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)

# Every node is made at line 1: a module runs from its tree (no line to show), or, the plan's,
# from its source text, whose lines are its own.
_AT = {"lineno": 1, "col_offset": 0, "end_lineno": 1, "end_col_offset": 0}
_LOOP = re.compile(r"_loop[0-9]+")  # the helper loops' names (compile.py)
_LITERALS = (str, int, bool, type(None))  # what enters as ast.Constant (floats, decimals, dates go to _K)
_CONSTANTS = frozenset(_LITERALS + (float,))  # what compiled code may hold (a float: from a cached source)
_FORMS = frozenset(_NODES)


class CodegenError(Exception):
    """Generated code that breaks the rules above: a bug, or a tampered plan cache."""


# ------------------------------------------------------------ node builders


def name(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Load(), **_AT)


def store(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Store(), **_AT)


def literal(value) -> ast.Constant:
    """A text, a whole number, a boolean or None, as a constant of the code."""
    if type(value) not in _LITERALS:
        raise CodegenError(f"a {type(value).__name__} goes into the constants table, not the code")
    return ast.Constant(value, **_AT)


def field(obj: ast.expr, declared: str) -> ast.Attribute:
    """`obj.declared`: a field the schema declares (the checker refused every other name)."""
    if not declared.isidentifier() or declared.startswith("_"):
        raise CodegenError(f"`{declared}` is not a field name")
    return ast.Attribute(obj, declared, ast.Load(), **_AT)


def set_field(obj: str, declared: str, value: ast.expr) -> ast.Assign:
    """`obj.declared = value`: a field the schema declares, set on a record the generated code
    was handed to finish (the batch decoder's records; never the snapshot's frozen model)."""
    if not declared.isidentifier() or declared.startswith("_"):
        raise CodegenError(f"`{declared}` is not a field name")
    return ast.Assign([ast.Attribute(name(obj), declared, ast.Store(), **_AT)], value, **_AT)


def method(obj: ast.expr, which: str, *args: ast.expr) -> ast.Call:
    """`obj.which(args…)` for one of METHODS."""
    return ast.Call(bound_method(obj, which), list(args), [], **_AT)


def bound_method(obj: ast.expr, which: str) -> ast.Attribute:
    """`obj.which`, one of METHODS, kept to be called later (`ap = out.append`)."""
    if which not in METHODS:
        raise CodegenError(f"`{which}` is not a method generated code calls")
    return ast.Attribute(obj, which, ast.Load(), **_AT)


def day_count(span: ast.expr) -> ast.Attribute:
    """The whole days of a span of dates (`(a - b).days`)."""
    return ast.Attribute(span, "days", ast.Load(), **_AT)


def call(func: ast.expr | str, *args: ast.expr) -> ast.Call:
    return ast.Call(name(func) if isinstance(func, str) else func, list(args), [], **_AT)


def walrus(target: str, value: ast.expr) -> ast.NamedExpr:
    return ast.NamedExpr(store(target), value, **_AT)


def item(value: ast.expr, index: ast.expr | int) -> ast.Subscript:
    return ast.Subscript(value, literal(index) if isinstance(index, int) else index, ast.Load(), **_AT)


def tuple_of(elements: Iterable[ast.expr]) -> ast.Tuple:
    return ast.Tuple(list(elements), ast.Load(), **_AT)


def list_of(elements: Iterable[ast.expr] = ()) -> ast.List:
    return ast.List(list(elements), ast.Load(), **_AT)


def spread(items: ast.expr) -> ast.Starred:
    """`*items`, inside a list display: the items of a list, in place."""
    return ast.Starred(items, ast.Load(), **_AT)


def dict_of(pairs: Iterable[tuple[ast.expr, ast.expr]]) -> ast.Dict:
    pairs = list(pairs)
    return ast.Dict([k for k, _ in pairs], [v for _, v in pairs], **_AT)


_COMPARE = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE,
            "is": ast.Is, "is not": ast.IsNot, "in": ast.In, "not in": ast.NotIn}
_BINARY = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div}


def compare(left: ast.expr, op: str, right: ast.expr, *more: tuple[str, ast.expr]) -> ast.Compare:
    """`left op right`, or a chain `left op right op2 right2 …`."""
    ops = [op] + [o for o, _ in more]
    return ast.Compare(left, [_COMPARE[o]() for o in ops], [right] + [r for _, r in more], **_AT)


def is_none(value: ast.expr) -> ast.Compare:
    return compare(value, "is", literal(None))


def is_set(value: ast.expr) -> ast.Compare:
    return compare(value, "is not", literal(None))


def binary(left: ast.expr, op: str, right: ast.expr) -> ast.BinOp:
    return ast.BinOp(left, _BINARY[op](), right, **_AT)


def negate(value: ast.expr) -> ast.UnaryOp:
    return ast.UnaryOp(ast.USub(), value, **_AT)


def both(left: ast.expr, right: ast.expr) -> ast.BoolOp:
    return ast.BoolOp(ast.And(), [left, right], **_AT)


def either(left: ast.expr, right: ast.expr) -> ast.BoolOp:
    return ast.BoolOp(ast.Or(), [left, right], **_AT)


def logical(op: str, left: ast.expr, right: ast.expr) -> ast.BoolOp:
    return both(left, right) if op == "and" else either(left, right)


def not_(value: ast.expr) -> ast.UnaryOp:
    return ast.UnaryOp(ast.Not(), value, **_AT)


def if_else(test: ast.expr, then: ast.expr, otherwise: ast.expr) -> ast.IfExp:
    return ast.IfExp(test, then, otherwise, **_AT)


def loop(var: str, items: ast.expr) -> list[ast.comprehension]:
    return [ast.comprehension(store(var), items, [], 0)]


def generator(element: ast.expr, var: str, items: ast.expr, test: ast.expr | None = None) -> ast.GeneratorExp:
    gens = loop(var, items)
    if test is not None:
        gens[0].ifs.append(test)
    return ast.GeneratorExp(element, gens, **_AT)


def list_comp(element: ast.expr, var: str, items: ast.expr, test: ast.expr | None = None) -> ast.ListComp:
    gens = loop(var, items)
    if test is not None:
        gens[0].ifs.append(test)
    return ast.ListComp(element, gens, **_AT)


def assign(targets: str | list[str], value: ast.expr) -> ast.Assign:
    targets = [targets] if isinstance(targets, str) else targets
    return ast.Assign([store(t) for t in targets], value, **_AT)


def assign_item(target: str, key: ast.expr, value: ast.expr) -> ast.Assign:
    """`target[key] = value`, into a mapping the generated function made itself."""
    return ast.Assign([ast.Subscript(name(target), key, ast.Store(), **_AT)], value, **_AT)


def do(value: ast.expr) -> ast.Expr:
    """An expression evaluated as a statement (a call, mostly)."""
    return ast.Expr(value, **_AT)


def add_one(target: str, key: ast.expr | None = None) -> ast.AugAssign:
    """`target += 1`, or `target[key] += 1` (an item of a list or mapping the generated code was
    given or made: `key` evaluated once)."""
    place = store(target) if key is None else ast.Subscript(name(target), key, ast.Store(), **_AT)
    return ast.AugAssign(place, ast.Add(), literal(1), **_AT)


def if_(test: ast.expr, body: list[ast.stmt], orelse: list[ast.stmt] | None = None) -> ast.If:
    return ast.If(test, body, orelse or [], **_AT)


def chain(branches: list[tuple[ast.expr | None, list[ast.stmt]]]) -> list[ast.stmt]:
    """`if … elif … else …` from (test, body) pairs; a None test is the `else`."""
    out: list[ast.stmt] = []
    for test, body in reversed(branches):
        if test is None:
            out = body
        else:
            out = [if_(test, body, out)]
    return out


def for_(var: str | list[str], items: ast.expr, body: list[ast.stmt]) -> ast.For:
    target = store(var) if isinstance(var, str) else ast.Tuple([store(v) for v in var], ast.Store(), **_AT)
    return ast.For(target, items, body, [], **_AT)


def try_ignoring(body: list[ast.stmt]) -> ast.Try:
    """`try: body except Exception: pass`."""
    return ast.Try(body, [ast.ExceptHandler(name("Exception"), None, [ast.Pass(**_AT)], **_AT)], [], [], **_AT)


def try_except(body: list[ast.stmt], error: str, as_name: str, handler: list[ast.stmt]) -> ast.Try:
    """`try: body except error as as_name: handler` (`error` one of the helpers' exceptions)."""
    return ast.Try(body, [ast.ExceptHandler(name(error), as_name, handler, **_AT)], [], [], **_AT)


def pass_() -> ast.Pass:
    return ast.Pass(**_AT)


def return_(value: ast.expr) -> ast.Return:
    return ast.Return(value, **_AT)


def function(fname: str, params: list[str], body: list[ast.stmt]) -> ast.FunctionDef:
    args = ast.arguments([], [ast.arg(p, **_AT) for p in params], None, [], [], None, [])
    return ast.FunctionDef(fname, args, body or [ast.Pass(**_AT)], [], None, **_AT)


def reads(node: ast.AST) -> set[str]:
    """The names a piece of generated code reads."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


# ------------------------------------------------------------------ modules


class Module:
    """A module being generated: its functions, and its table of constants (`_K`)."""

    def __init__(self, constants: list | None = None):
        self.functions: list[ast.FunctionDef] = []
        self.constants: list = constants if constants is not None else []
        self._constant_ids: dict = {}

    def constant(self, value) -> ast.expr:
        """A value as the code holds it: a constant if Python code can spell it, else `_K[i]`."""
        if type(value) in _LITERALS:
            return literal(value)
        key = (type(value).__name__, repr(value))
        if key not in self._constant_ids:
            self._constant_ids[key] = len(self.constants)
            self.constants.append(value)
        return item(name("_K"), self._constant_ids[key])

    def add(self, fn: ast.FunctionDef) -> ast.FunctionDef:
        self.functions.append(fn)
        return fn

    def tree(self) -> ast.Module:
        return ast.Module(list(self.functions), [])

    def source(self, fields: Iterable[str] = ()) -> str:
        """The module as Python source, verified first (what runs when it is read back, by
        `execute`; for people too)."""
        tree = self.tree()
        verify(tree, fields)
        return ast.unparse(tree) + "\n"

    def run(self, fields: Iterable[str] = (), label: str = "generated", settable: Iterable[str] = ()) -> dict:
        """Verify and execute the module; its functions by name. `settable`: the declared fields
        it may set (see `verify`)."""
        return execute(self.tree(), self.constants, fields, label=label, settable=settable)


def lines_of(source: str, tree: ast.Module, marked: list[tuple[object, ast.stmt, ast.stmt]]) -> list[tuple[int, int, object]]:
    """(first line, last line, key) in `source` (the unparsed `tree`) of each marked run of
    statements (key, first statement, last statement): statements keep their shape when
    unparsed and parsed again, so the two trees are walked side by side."""
    parsed = ast.parse(source)
    ours, theirs = list(_statements(tree)), list(_statements(parsed))
    if len(ours) != len(theirs):  # pragma: no cover - unparse keeps every statement
        raise CodegenError("the unparsed module has other statements")
    where = {id(a): b for a, b in zip(ours, theirs)}
    return [(where[id(first)].lineno, where[id(last)].end_lineno, key) for key, first, last in marked]


def _statements(node: ast.AST):
    for attr in ("body", "orelse", "finalbody", "handlers"):
        for child in getattr(node, attr, ()) or ():
            yield child
            yield from _statements(child)


# ---------------------------------------------------------- checking, running


def verify(tree: ast.Module, fields: Iterable[str], tables: Iterable[str] = TABLES,
           settable: Iterable[str] = ()) -> None:
    """Raise CodegenError unless the tree is made of the allowed forms (`_NODES`), reads no
    attribute but declared fields and METHODS, sets none but the declared fields in
    `settable`, holds only plain constants, and names nothing that starts with `__`. (Which
    globals it reads, `verify_code` checks on the compiled code.)"""
    allowed_attributes = frozenset(f for f in fields if not f.startswith("_")) | METHODS
    settable = frozenset(settable) & allowed_attributes - METHODS
    globals_ = set(BUILTINS) | set(HELPERS) | set(tables)
    for node in ast.walk(tree):
        kind = type(node)
        if kind not in _FORMS:
            raise CodegenError(f"generated code holds a `{kind.__name__}`")
        if kind is ast.Attribute:
            if node.attr not in allowed_attributes or (type(node.ctx) is not ast.Load and node.attr not in settable):
                raise CodegenError(f"generated code reads attribute `{node.attr}`, not a declared field")
        elif kind is ast.Name:
            if node.id.startswith("__"):
                raise CodegenError(f"generated code reads name `{node.id}`")
        elif kind is ast.Constant:
            if type(node.value) not in _CONSTANTS:
                raise CodegenError(f"generated code holds a constant of kind `{type(node.value).__name__}`")
        elif kind is ast.Subscript:
            if type(node.ctx) is ast.Store and not (type(node.value) is ast.Name and node.value.id not in globals_):
                raise CodegenError("generated code assigns into a subscript of something it did not make")
        elif kind is ast.FunctionDef:
            if node.decorator_list or node.returns or node.args.vararg or node.args.kwarg or node.args.defaults:
                raise CodegenError(f"function `{node.name}` is not a plain function")


def verify_code(code, fields: Iterable[str], tables: Iterable[str] = TABLES) -> None:
    """The same guarantee on compiled code (what `execute` runs, made from a tree or from
    source text read back): every name its code objects use — globals and attributes alike —
    is a declared field, one of METHODS, BUILTINS, HELPERS, its tables or a function of the
    module, and its constants are plain values. No name starts with `__`, and a function of the
    module is named as the generators name them (`_loopN`, or a name that starts with a letter)."""
    functions = {c.co_name for c in code.co_consts if hasattr(c, "co_names")}
    for fname in functions:
        if not (fname[:1].isalpha() or _LOOP.fullmatch(fname)):
            raise CodegenError(f"generated code defines `{fname}`")
    allowed = (frozenset(f for f in fields if not f.startswith("_")) | METHODS | set(BUILTINS) | set(HELPERS)
               | set(tables) | functions)
    stack = [code]
    while stack:
        here = stack.pop()
        for used in here.co_names:
            if used not in allowed or used.startswith("__"):
                raise CodegenError(f"generated code reads `{used}`, which is not a declared field or a helper")
        constants = list(here.co_consts)
        while constants:
            value = constants.pop()
            if hasattr(value, "co_names"):
                stack.append(value)
            elif type(value) in (tuple, frozenset):
                constants.extend(value)
            elif type(value) not in _CONSTANTS:
                raise CodegenError(f"generated code holds a constant of kind `{type(value).__name__}`")


def execute(module: ast.Module | str, constants=(), fields: Iterable[str] = (), *, orders=(),
            label: str = "generated", settable: Iterable[str] = ()) -> dict:
    """Verify and execute a generated module — its tree (verified node by node), or its source
    as `Module.source` gave it (the plan cache keeps that) — and return its functions by name.
    The compiled code is verified in both cases. The only place generated code is run."""
    if not isinstance(module, str):
        verify(module, fields, settable=settable)
    elif settable:
        raise CodegenError("only a module's tree, verified node by node, may set fields")
    try:
        code = compile(module, f"<{label}>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError) as error:
        raise CodegenError(f"not generated code: {error}") from None
    verify_code(code, fields)
    namespace = {"__builtins__": BUILTINS, **HELPERS, "_K": tuple(constants), "_ORDER": tuple(orders)}
    exec(code, namespace)  # noqa: S102 - verified above: declared fields, constants and helpers only
    return {c.co_name: namespace[c.co_name] for c in code.co_consts if hasattr(c, "co_names")}


__all__ = ["BUILTINS", "HELPERS", "METHODS", "CodegenError", "Module", "execute", "verify", "verify_code",
           "lines_of"]
