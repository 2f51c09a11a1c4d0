"""lookup: a rulebook's files → their diagnostics, and what a place in them names, for editors.

`analyse` parses and checks the files of a rulebook as `rulebook check` loads them (the same
diagnostics: parse errors first, else the checker's) and indexes the declarations of the files
that parse. `lookup` says what is at an offset of a file: a field (its type and its comment in
the schema), a record, a parameter (its values by date and its source), a rule (its title and
source sentence), a `let`, a variable; with where it is declared. `completions` lists what may
be written at an offset: the fields after `path.`, else the names in scope and the keywords.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field

from . import datatype as t
from . import syntax as s
from .check import BUILTINS, check
from .diagnostic import Diagnostic
from .parse import _parser, parse, parse_concrete
from .schema import ROOT, Schema, declare, resolve_type
from .source import Source, Span


@dataclass
class Index:
    """The declarations of a rulebook's files that parse, by name."""

    sources: dict[str, Source] = field(default_factory=dict)
    files: dict[str, s.File] = field(default_factory=dict)
    schema: Schema = field(default_factory=Schema)
    records: dict[str, s.RecordDecl] = field(default_factory=dict)
    parameters: dict[str, s.ParameterDecl] = field(default_factory=dict)
    rules: dict[str, s.RuleDecl] = field(default_factory=dict)
    amounts: dict[str, s.Amount] = field(default_factory=dict)  # the case's payout
    step_amounts: dict[str, s.Amount] = field(default_factory=dict)  # the steps' payout

    def field_decl(self, record: str, name: str) -> s.FieldDecl | None:
        decl = self.records.get(record)
        return next((f for f in decl.fields if f.name == name), None) if decl else None

    def steps_record(self) -> str | None:
        root = self.schema.records.get(ROOT)
        for f in (root.fields.values() if root else ()):
            if f.numbered_by and f.type.kind == "list" and f.type.inner.kind == "record":
                return f.type.inner.record
        return None


def analyse(sources: list[Source]) -> tuple[Index, list[Diagnostic]]:
    """The index of the files that parse, and the diagnostics `rulebook check` gives."""
    index = Index()
    parse_errors: list[Diagnostic] = []
    for source in sources:
        index.sources[source.path] = source
        file, found = parse(source)
        parse_errors.extend(found)
        if file is not None:
            index.files[source.path] = file
    decls = [d for f in index.files.values() for d in f.decls]
    for decl in decls:
        if isinstance(decl, s.RecordDecl):
            index.records.setdefault(decl.name, decl)
        elif isinstance(decl, s.ParameterDecl):
            index.parameters.setdefault(decl.name, decl)
        elif isinstance(decl, s.RuleDecl):
            index.rules.setdefault(decl.id, decl)
        elif isinstance(decl, s.PayoutDecl):
            amounts = index.amounts if decl.subject.kind == "case" else index.step_amounts
            for amount in decl.amounts:
                amounts.setdefault(amount.name, amount)
    index.schema = declare([d for d in decls if isinstance(d, s.RecordDecl)], [])
    if parse_errors:
        return index, sorted(parse_errors, key=Diagnostic.sort_key)
    _program, diagnostics = check(list(index.files.values()))
    return index, diagnostics


# ------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """What a name at a place means: its kind (field, record, parameter, rule, let, variable,
    step, amount, builtin), its name, its type where known, where it is declared, and what to show."""

    kind: str
    name: str
    span: Span  # of the name where it was found
    type: t.Type | None = None
    declared: Span | None = None
    doc: tuple[str, ...] = ()


def _children(node):
    if isinstance(node, (tuple, list)):
        yield from node
    elif dataclasses.is_dataclass(node) and type(node).__module__ == s.__name__:
        for f in dataclasses.fields(node):
            yield getattr(node, f.name)


def _path_to(file: s.File, offset: int) -> list:
    """The syntax nodes around an offset, outermost first."""
    path: list = []
    level = list(file.decls)
    while True:
        found = None
        for node in _flatten(level):
            span = getattr(node, "span", None)
            if isinstance(span, Span) and span.start <= offset <= span.end:
                found = node
                break
        if found is None:
            return path
        path.append(found)
        level = list(_children(found))


def _flatten(items):
    for item in items:
        if isinstance(item, (tuple, list)):
            yield from _flatten(item)
        elif dataclasses.is_dataclass(item) and type(item).__module__ == s.__name__:
            if isinstance(getattr(item, "span", None), Span):
                yield item
            else:  # a node without a span of its own (a template part's holder): look inside
                yield from _flatten(list(_children(item)))


def _inside(span: Span | None, offset: int) -> bool:
    return isinstance(span, Span) and span.start <= offset <= span.end


class _Resolver:
    """Names and types in the scope of one place: the rule or payout around it and its variables."""

    def __init__(self, index: Index, path: list):
        self.index = index
        self.owner = next((n for n in reversed(path) if isinstance(n, (s.RuleDecl, s.PayoutDecl))), None)
        self.lets = {let.name: let for let in (self.owner.lets if self.owner else ())}
        self.vars: dict[str, tuple[s.Expr, Span]] = {}
        for node in path:
            if isinstance(node, s.Quantifier):
                self.vars[node.var] = (node.items, node.var_span)
            elif isinstance(node, s.Aggregate) and node.var:
                self.vars[node.var] = (node.items, node.var_span)
        self.seen: set = set()

    def has_step(self) -> bool:
        return self.owner is not None and self.owner.subject.kind in ("each_step", "numbered_step")

    def name(self, name: str, span: Span) -> Target | None:
        index = self.index
        if name in self.vars:
            items, var_span = self.vars[name]
            element = self.type_of(items)
            return Target("variable", name, span, element.inner if element and element.kind == "list" else None, var_span)
        if name in self.lets:
            let = self.lets[name]
            return Target("let", name, span, self._let_type(name), let.span, (f"let {name} = {let.expr.span.text}",))
        if name == "step" and self.has_step():
            record = index.steps_record()
            return Target("step", name, span, t.record(record) if record else None,
                          index.records[record].span if record in index.records else None)
        if name in index.parameters:
            return parameter_target(index, name, span)
        root = index.schema.records.get(ROOT)
        if root and name in root.fields:
            return field_target(index, ROOT, name, span)
        if isinstance(self.owner, s.PayoutDecl):
            amounts = index.amounts if self.owner.subject.kind == "case" else index.step_amounts
            if name in amounts:
                return amount_target(amounts[name], span)
        if name == "payout":
            return Target("builtin", name, span, t.record("payout"))
        if name in BUILTINS:
            return Target("builtin", name, span, BUILTINS[name])
        return None

    def _let_type(self, name: str) -> t.Type | None:
        if name in self.seen:
            return None
        self.seen.add(name)
        try:
            return self.type_of(self.lets[name].expr)
        finally:
            self.seen.discard(name)

    def type_of(self, expr) -> t.Type | None:
        if isinstance(expr, s.Name):
            found = self.name(expr.name, expr.span)
            return found.type if found else None
        if isinstance(expr, s.Attribute):
            obj = self.type_of(expr.obj)
            if obj is None or obj.kind != "record":
                return None
            if obj.record == "payout":
                return t.YEN if expr.name in self.index.amounts else None
            record = self.index.schema.records.get(obj.record)
            f = record.fields.get(expr.name) if record else None
            return (f.type.maybe() if obj.optional else f.type) if f else None
        if isinstance(expr, s.Index):
            table = self.type_of(expr.obj)
            return table.inner.maybe() if table and table.kind == "table" else None
        if isinstance(expr, s.Quantifier) and expr.kind == "each":
            return self.type_of(expr.items)
        if isinstance(expr, s.Quantifier) and expr.kind == "first":
            items = self.type_of(expr.items)
            return items.inner.maybe() if items and items.kind == "list" and items.inner else None
        if isinstance(expr, s.Call) and expr.args:
            return self.type_of(expr.args[0])
        return None


def amount_target(amount: s.Amount, span: Span) -> Target:
    """An amount of a payout: its formula and its title."""
    doc = [f"amount {amount.name} = {amount.expr.span.text}"]
    for texts in amount.titles[:1]:
        doc.extend(f"{item.lang}: {_plain(item.text)}" for item in texts.items)
    return Target("amount", amount.name, span, t.YEN, amount.span, tuple(doc))


def field_target(index: Index, record: str, name: str, span: Span) -> Target:
    decl = index.field_decl(record, name)
    info = index.schema.records.get(record)
    ftype = info.fields[name].type if info and name in info.fields else None
    doc = [f"{record}.{name}: {ftype.describe() if ftype else '?'}"]
    if decl is not None:
        doc.extend(comments_of(index, decl.span))
    return Target("field", name, span, ftype, decl.span if decl else None, tuple(doc))


def record_target(index: Index, name: str, span: Span) -> Target:
    decl = index.records[name]
    doc = [f"record {name}"] + comments_of(index, decl.span)
    doc += [f"  {f.name}: {f.type.span.text}" for f in decl.fields]
    return Target("record", name, span, t.record(name), decl.span, tuple(doc))


def parameter_target(index: Index, name: str, span: Span) -> Target:
    decl = index.parameters[name]
    ptype = resolve_type(decl.type, set(index.records), [])
    doc = [f"parameter {name}: {decl.type.span.text}"]
    for texts in decl.titles[:1]:
        doc.extend(f"{item.lang}: {_plain(item.text)}" for item in texts.items)
    for pv in sorted(decl.values, key=lambda v: v.start):
        until = f" until {pv.until.isoformat()}" if pv.until else ""
        rows = _rows(pv.value)
        if rows:  # a table or a list: a row a line
            doc.append(f"- from {pv.start.isoformat()}{until}:")
            doc.extend(f"    {row}" for row in rows)
        else:
            doc.append(f"- {pv.value.span.text} from {pv.start.isoformat()}{until}")
    for source in decl.sources[:1]:
        doc.append(f"「{source.text}」" + (f" ({source.ref})" if source.ref else ""))
    return Target("parameter", name, span, ptype, decl.span, tuple(doc))


def _rows(value: s.Literal) -> list[str]:
    """The rows of a table or list value as written (`"retail": {capital_jpy: …}`), or none."""
    if value.kind == "table":
        return [f"{key_span.text}: {row.span.text}" for _key, row, key_span in value.value]
    if value.kind == "list" and value.value:
        return [item.span.text for item in value.value]
    return []


def rule_target(index: Index, rule_id: str, span: Span) -> Target:
    decl = index.rules[rule_id]
    doc = [f"rule {rule_id} on {decl.subject.span.text}"]
    for texts in decl.titles[:1]:
        doc.extend(f"{item.lang}: {_plain(item.text)}" for item in texts.items)
    for source in decl.sources[:1]:
        doc.append(f"「{source.text}」" + (f" ({source.ref})" if source.ref else ""))
    return Target("rule", rule_id, span, None, decl.id_span, tuple(doc))


def _plain(template: s.Template) -> str:
    return "".join(p if isinstance(p, str) else "{" + p.span.text + "}" for p in template.parts)


def comments_of(index: Index, span: Span) -> list[str]:
    """The comments that document a declaration: on the lines just above it, and at the end of its
    first line."""
    source = span.source
    concrete = _concrete(source)
    if concrete is None:
        return []
    line = span.line
    by_line = {c.line: c for c in concrete.comments}
    above = []
    previous = line - 1
    while previous in by_line and source.line_text(previous).lstrip().startswith("#"):
        above.insert(0, by_line[previous])
        previous -= 1
    after = [by_line[line]] if line in by_line and by_line[line].start_pos > span.start else []
    return [str(c)[1:].strip() for c in above + after]


@functools.lru_cache(maxsize=64)
def _concrete(source: Source):
    return parse_concrete(source)


def lookup(index: Index, path: str, offset: int) -> Target | None:
    """What the name at `offset` of file `path` means, or None."""
    file = index.files.get(path)
    if file is None:
        return None
    nodes = _path_to(file, offset)
    resolver = _Resolver(index, nodes)
    for node in reversed(nodes):
        if isinstance(node, s.Attribute) and _inside(node.name_span, offset):
            obj = resolver.type_of(node.obj)
            if obj is not None and obj.kind == "record":
                if obj.record == "payout" and node.name in index.amounts:
                    return amount_target(index.amounts[node.name], node.name_span)
                if obj.record in index.schema.records and node.name in index.schema.records[obj.record].fields:
                    return field_target(index, obj.record, node.name, node.name_span)
            return None
        if isinstance(node, s.Name):
            return resolver.name(node.name, node.span)
        if isinstance(node, (s.Total, s.Previous)) and _inside(node.name_span, offset):
            found = index.step_amounts.get(node.name)
            return amount_target(found, node.name_span) if found else None
        if isinstance(node, s.Failure):
            for rid, span in node.excepted:
                if _inside(span, offset) and rid in index.rules:
                    return rule_target(index, rid, span)
        if isinstance(node, s.Let):
            name_at = node.span.source.text.find(node.name, node.span.start)
            if name_at <= offset <= name_at + len(node.name):
                return resolver.name(node.name, Span(node.span.source, name_at, name_at + len(node.name)))
        if isinstance(node, s.RuleDecl) and _inside(node.id_span, offset):
            return rule_target(index, node.id, node.id_span)
        if isinstance(node, s.TypeRef) and node.kind == "named" and node.name in index.records:
            return record_target(index, node.name, node.span)
        if isinstance(node, s.FieldDecl):
            record = next((n for n in nodes if isinstance(n, s.RecordDecl)), None)
            name_span = Span(node.span.source, node.span.start, node.span.start + len(node.name))
            if record is not None and _inside(name_span, offset):
                return field_target(index, record.name, node.name, name_span)
        if isinstance(node, s.RecordDecl):
            name_at = node.span.source.text.find(node.name, node.span.start)
            if name_at <= offset <= name_at + len(node.name):
                return record_target(index, node.name, Span(node.span.source, name_at, name_at + len(node.name)))
        if isinstance(node, s.ParameterDecl):
            name_at = node.span.source.text.find(node.name, node.span.start)
            if name_at <= offset <= name_at + len(node.name):
                return parameter_target(index, node.name, Span(node.span.source, name_at, name_at + len(node.name)))
    return None


# --------------------------------------------------------------- completion


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # field, parameter, let, variable, keyword, amount, builtin
    detail: str = ""
    doc: str = ""


_PATH_BEFORE = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.(\w*)$")
_BINDER = re.compile(r"\b(?:any|all|count|each)\s+([A-Za-z_]\w*)\s+in\s+([A-Za-z_][\w.]*)|"
                     r"\bfor\s+([A-Za-z_]\w*)\s+in\s+([A-Za-z_][\w.]*)")
_RULE_HEAD = re.compile(r"^(rule\s+(\S+)\s+on\s+(case|each\s+step|step\s+numbered)|payout\s+on\s+(case|each\s+step))",
                        re.M)


def keywords() -> list[str]:
    """The words of the language, from the grammar."""
    words = set()
    for terminal in _parser().terminals:
        pattern = terminal.pattern
        if pattern.type == "str" and pattern.value.isalpha():
            words.add(pattern.value)
    return sorted(words | {"not applicable", "rounded down", "rounded up"})


def completions(index: Index, path: str, text: str, offset: int) -> list[Completion]:
    """What may be written at `offset` of `text` (the file as it is now, parsed or not)."""
    before = text[:offset]
    line = before.rsplit("\n", 1)[-1]
    heads = list(_RULE_HEAD.finditer(before))
    head = heads[-1] if heads else None
    owner = None
    if head is not None:
        owner = index.rules.get(head.group(2)) if head.group(2) else next(
            (d for f in index.files.values() for d in f.decls if isinstance(d, s.PayoutDecl)
             and d.subject.span.text.split() == head.group(4).split()), None)
    resolver = _Resolver(index, [owner] if owner is not None else [])
    if head is not None and owner is None and (head.group(3) or head.group(4) or "").startswith(("each", "step")):
        resolver.owner = _StepScope()
    scope_text = before[head.start():] if head else before
    for match in _BINDER.finditer(scope_text):
        var, items = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        resolver.vars[var] = (_path_expr(items), None)
    dotted = _PATH_BEFORE.search(line)
    if dotted:
        obj = resolver.type_of(_path_expr(dotted.group(1)))
        if obj is None or obj.kind != "record":
            return []
        if obj.record == "payout":
            return [Completion(name, "amount", "yen") for name in index.amounts]
        record = index.schema.records.get(obj.record)
        out = []
        for name, f in (record.fields.items() if record else ()):
            decl = index.field_decl(obj.record, name)
            doc = "\n".join(comments_of(index, decl.span)) if decl else ""
            out.append(Completion(name, "field", f.type.describe(), doc))
        return out
    out = [Completion(word, "keyword") for word in keywords()]
    out += [Completion(name, "parameter", index.parameters[name].type.span.text) for name in index.parameters]
    root = index.schema.records.get(ROOT)
    out += [Completion(name, "field", f.type.describe()) for name, f in (root.fields.items() if root else ())]
    out += [Completion(name, "let") for name in resolver.lets]
    out += [Completion(name, "variable") for name in resolver.vars]
    out += [Completion(name, "builtin", typ.describe()) for name, typ in BUILTINS.items()]
    if resolver.has_step():
        out.append(Completion("step", "builtin", index.steps_record() or ""))
    return out


class _StepScope:
    """The scope of a rule on steps that the last good parse does not know yet."""

    lets: tuple = ()
    subject = s.Subject("each_step", Span(Source("", ""), 0, 0))


def _path_expr(path: str) -> s.Expr:
    """A dotted path as the syntax nodes it parses to (spans point nowhere)."""
    nowhere = Span(Source("", path), 0, len(path))
    parts = path.split(".")
    expr: s.Expr = s.Name(parts[0], nowhere)
    for part in parts[1:]:
        expr = s.Attribute(expr, part, nowhere, nowhere)
    return expr
