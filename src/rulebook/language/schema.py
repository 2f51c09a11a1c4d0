"""The case snapshot's schema, as declared by the rulebook's `record`s.

`Schema` is plain data: records, their fields, each field's type and options.
`declare` builds it from the syntax, reporting unknown types and bad options;
`model` turns it into pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import keyword
from collections.abc import Iterator

from . import datatype as t
from .catalogue import word
from .diagnostic import Code, Diagnostic, diagnose, did_you_mean
from .message import joined
from .source import Span

if TYPE_CHECKING:
    from . import syntax as s

ROOT = "case"
SCALAR_NAMES = {
    "text": t.TEXT, "date": t.DATE, "boolean": t.BOOLEAN, "integer": t.INTEGER,
    "decimal": t.DECIMAL, "yen": t.YEN, "rate": t.RATE, "hours": t.HOURS, "days": t.DAYS,
    "business_days": t.BUSINESS_DAYS, "months": t.MONTHS, "percent": t.PERCENT,
}


# Names a field cannot have. The engine reads a snapshot's fields as attributes of its model
# (a pydantic model), so a field cannot be named like something else of that object: nothing
# that starts with `_` (Python's private and special names), no `model_…` (pydantic's), no
# attribute of BaseModel (`copy`, `json`, `schema`, …); nor a Python keyword. BaseModel's other
# attributes are named here rather than read from pydantic, which a rulebook loaded from its
# cache does not import (`test_codegen` holds the list to pydantic's).
RESERVED_PREFIXES = ("_", "model_")
RESERVED_NAMES = frozenset((
    "construct", "copy", "dict", "from_orm", "json", "parse_file", "parse_obj", "parse_raw", "schema",
    "schema_json", "update_forward_refs", "validate")) | frozenset(keyword.kwlist)


def reserved(name: str) -> bool:
    """True when `name` cannot name a field (see RESERVED_NAMES)."""
    return name.startswith(RESERVED_PREFIXES) or name in RESERVED_NAMES


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: t.Type
    default: object = None
    has_default: bool = False
    one_of: tuple[str, ...] | None = None
    exactly: str | None = None
    not_blank: bool = False
    identifier: bool = False  # an id: no control or bidirectional formatting characters
    at_least: int | None = None
    numbered_by: str | None = None
    not_before: str | None = None
    labels: dict | None = None  # value → {lang: the words shown for it}, from `labels { … }`


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    fields: dict[str, Field]


@dataclass(frozen=True, slots=True)
class Schema:
    records: dict[str, Record] = field(default_factory=dict)

    @property
    def root(self) -> Record:
        return self.records[ROOT]

    @property
    def field_names(self) -> frozenset[str]:
        """The name of every field of every record."""
        return frozenset(name for record in self.records.values() for name in record.fields)

    def value_labels(self) -> dict[str, dict]:
        """The labels of values, by the path of their field from the snapshot without list
        indexes (`steps.photos.moment`): {path: {value: {lang: words}}}, in declaration order."""
        out: dict = {}

        def walk(record: Record, prefix: str, seen: tuple) -> None:
            for f in record.fields.values():
                path = f"{prefix}{f.name}"
                if f.labels:
                    out[path] = f.labels
                inner = f.type.required()
                while inner.kind == "list" and inner.inner is not None:
                    inner = inner.inner.required()
                if inner.kind == "record" and inner.record in self.records and inner.record not in seen:
                    walk(self.records[inner.record], f"{path}.", (*seen, inner.record))

        if ROOT in self.records:
            walk(self.root, "", (ROOT,))
        return out

    def labels_by_field(self) -> dict[str, dict]:
        """The labels of values by `record.field`, as the compiler names them in a text's format."""
        return {f"{r.name}.{f.name}": f.labels for r in self.records.values() for f in r.fields.values() if f.labels}


def resolve_type(ref: s.TypeRef, records: set[str], diags: list[Diagnostic]) -> t.Type:
    """The type a TypeRef names; unknown names are reported (RB206)."""
    if ref.kind == "optional":
        return resolve_type(ref.inner, records, diags).maybe()
    if ref.kind == "list":
        return t.list_of(resolve_type(ref.inner, records, diags))
    if ref.kind == "table":
        value = resolve_type(ref.inner, records, diags)
        key = resolve_type(ref.key, records, diags)
        if key.kind not in ("text", "integer", "error"):
            diags.append(diagnose(Code.TYPE_MISMATCH, "table_key_type", ref.key.span, found=key.describe().en))
        return t.Type("table", inner=value, key=key)
    name = ref.name
    if name in SCALAR_NAMES:
        return SCALAR_NAMES[name]
    if name in records:
        return t.record(name)
    diags.append(diagnose(Code.UNKNOWN_TYPE, "unknown_type", ref.span, name=name,
                          help=did_you_mean(name, list(SCALAR_NAMES) + sorted(records))))
    return t.ERROR


def declare(decls: list[s.RecordDecl], diags: list[Diagnostic], texts=None) -> Schema:
    """The schema the records declare. `texts(texts, what, span)` checks a label's texts (its
    languages) and gives {lang: text}; the checker passes its own."""
    names = {}
    for decl in decls:
        if decl.name in names:
            diags.append(diagnose(Code.DUPLICATE, "duplicate_record", decl.span, name=decl.name,
                                  first=names[decl.name].span))
        else:
            names[decl.name] = decl
    records: dict[str, Record] = {}
    for decl in names.values():
        fields: dict[str, Field] = {}
        for f in decl.fields:
            if f.name in fields:
                diags.append(diagnose(Code.DUPLICATE, "duplicate_field", f.span, field=f.name, record=decl.name))
                continue
            if reserved(f.name):
                diags.append(diagnose(Code.RESERVED_FIELD, "reserved_field",
                                      Span(f.span.source, f.span.start, f.span.start + len(f.name)), name=f.name))
            fields[f.name] = _field(f, decl, set(names), diags, texts)
        for f in fields.values():
            if f.not_before and f.not_before not in fields:
                span = next(o.span for o in next(x for x in decl.fields if x.name == f.name).options
                            if o.kind == "not_before")
                diags.append(diagnose(Code.UNKNOWN_FIELD, "unknown_field_in", span, help=did_you_mean(f.not_before, fields),
                                      field=f.not_before, record=decl.name))
        records[decl.name] = Record(decl.name, fields)
    for decl in names.values():
        for f in records[decl.name].fields.values():
            if f.numbered_by is None:
                continue
            inner = records.get(f.type.inner.record)
            if inner is None:
                continue  # its type is unknown: RB206 says so
            span = next(o.span for o in next(x for x in decl.fields if x.name == f.name).options
                        if o.kind == "numbered")
            number = inner.fields.get(f.numbered_by)
            if number is None:
                diags.append(diagnose(Code.UNKNOWN_FIELD, "unknown_numbering_field", span,
                                      help=did_you_mean(f.numbered_by, inner.fields), field=f.numbered_by,
                                      record=inner.name))
            elif number.type.kind != "integer":
                diags.append(diagnose(Code.TYPE_MISMATCH, "numbered_by_integer", span, field=f.numbered_by,
                                      found=number.type.describe().en))
    _refuse_cycles(names, records, diags)
    if ROOT not in records:
        diags.append(diagnose(Code.MISSING_PART, "no_record_case", decls[0].span if decls else None))
    else:
        # The engine reads these two of every snapshot: the verdict names the case and its day.
        decl = names[ROOT]
        for name, want in (("case_id", t.TEXT), ("as_of", t.DATE)):
            found = records[ROOT].fields.get(name)
            if found is None:
                diags.append(diagnose(Code.MISSING_PART, "case_field_missing", decl.span, name=name,
                                      want=want.describe().en))
            elif found.type != want:
                span = next(x for x in decl.fields if x.name == name).span
                diags.append(diagnose(Code.TYPE_MISMATCH, "case_field_type", span, name=name,
                                      found=found.type.describe(), want=want.describe()))
    return Schema(records)


def _records_in(typ: t.Type) -> Iterator[str]:
    """The records a value of this type holds (in a list, a table, or itself)."""
    while typ is not None:
        if typ.kind == "record" and typ.record:
            yield typ.record
        typ = typ.inner


def _refuse_cycles(decls: dict, records: dict[str, Record], diags: list[Diagnostic]) -> None:
    """A record that contains itself, directly or through others (a snapshot is a tree of
    records, and the model of a record that holds itself cannot be built): one diagnostic per
    circle, at the field that closes it."""
    reported: set[frozenset] = set()
    state: dict[str, int] = {}  # 1: on the path being walked; 2: done
    path: list[tuple[str, str]] = []  # (record, field) from the first record to here

    def visit(name: str) -> None:
        state[name] = 1
        for f in records[name].fields.values():
            for inner in _records_in(f.type):
                if inner not in records:
                    continue  # unknown type: RB206 says so
                path.append((name, f.name))
                if state.get(inner) == 1:
                    circle = path[next(i for i, (rec, _) in enumerate(path) if rec == inner):]
                    key = frozenset(circle)
                    if key not in reported:
                        reported.add(key)
                        decl = next(x for x in decls[name].fields if x.name == f.name)
                        shown = " → ".join(f"`{rec}.{field}`" for rec, field in circle)
                        diags.append(diagnose(Code.RECORD_CONTAINS_ITSELF, "contains_itself", decl.span,
                                              record=inner, path=shown))
                elif inner not in state:
                    visit(inner)
                path.pop()
        state[name] = 2

    for name in records:
        if name not in state:
            visit(name)


def _field(f: s.FieldDecl, decl: s.RecordDecl, records: set[str], diags, texts=None) -> Field:
    ftype = resolve_type(f.type, records, diags)
    opts: dict = {}
    for option in f.options:
        kind, value = option.kind, option.value
        if kind == "default":
            literal = value
            if literal.kind == "empty" and ftype.kind == "list":
                opts.update(default=(), has_default=True)
            elif literal.kind == "boolean" and ftype.kind == "boolean":
                opts.update(default=literal.value, has_default=True)
            elif literal.kind == "string" and ftype.kind == "text":
                opts.update(default=literal.value, has_default=True)
            elif literal.kind == "number" and ftype.kind in ("integer", "yen") and literal.unit in (None, "yen"):
                opts.update(default=literal.value, has_default=True)
            else:
                diags.append(diagnose(Code.OPTION_MISPLACED, "default", option.span, type=ftype.describe().en))
        elif kind == "one_of":
            items = value.value if hasattr(value, "value") else ()
            if ftype.required().kind != "text" or not all(i.kind == "string" for i in items):
                diags.append(diagnose(Code.OPTION_MISPLACED, "one_of", option.span))
            else:
                opts["one_of"] = tuple(i.value for i in items)
        elif kind == "numbered":
            inner = ftype.inner if ftype.kind == "list" else None
            if inner is None or inner.kind != "record":
                diags.append(diagnose(Code.OPTION_MISPLACED, "numbered_by", option.span))
            else:
                opts["numbered_by"] = value
        elif kind == "not_before":
            if ftype.required().kind != "date":
                diags.append(diagnose(Code.OPTION_MISPLACED, "not_before", option.span))
            opts["not_before"] = value
        elif kind == "exactly":
            opts["exactly"] = value
        elif kind == "not_blank":
            opts["not_blank"] = True
        elif kind == "identifier":
            if ftype.required().kind != "text":
                diags.append(diagnose(Code.TYPE_MISMATCH, "identifier_on_text", option.span))
            else:
                opts["identifier"] = True
        elif kind == "at_least":
            opts["at_least"] = value
        elif kind == "labels":
            opts["labels"] = _labels(ftype, option, diags, texts)
    if opts.get("labels") and opts.get("one_of") is not None:
        for label in next(o for o in f.options if o.kind == "labels").value:
            if label.value in opts["labels"] and label.value not in opts["one_of"]:
                diags.append(diagnose(Code.UNKNOWN_VALUE, "unknown_value", label.span, value=label.value, field=f.name,
                                      values=joined(f"`{x}`" for x in opts["one_of"]),
                                      help=did_you_mean(label.value, opts["one_of"])))
    if opts.get("has_default"):
        ftype = ftype.required()
    return Field(f.name, ftype, **opts)


def _labels(ftype: t.Type, option: s.FieldOption, diags: list[Diagnostic], texts) -> dict | None:
    """{value: {lang: words}} of a `labels { … }` option on a text field (or a list of texts)."""
    base = ftype.required()
    if base.kind == "list" and base.inner is not None:
        base = base.inner.required()
    if base.kind == "error":
        return None  # its type is unknown: RB206 says so
    if base.kind != "text":
        diags.append(diagnose(Code.OPTION_MISPLACED, "labels", option.span, type=ftype.describe().en))
        return None
    out: dict = {}
    for label in option.value:
        if label.value in out:
            diags.append(diagnose(Code.DUPLICATE, "duplicate_label", label.span, value=label.value))
            continue
        if texts is None:
            out[label.value] = {item.lang: "".join(p for p in item.text.parts if isinstance(p, str))
                                for item in label.texts.items}
        else:
            out[label.value] = texts(label.texts, word("label_of", value=label.value), label.texts.span, plain=True)
    return out
