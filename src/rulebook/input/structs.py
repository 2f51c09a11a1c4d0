"""structs: the batch path's decoder — JSON text → the snapshot's records as msgspec Structs,
built from the same schema as the pydantic model, for the audit, which reads many lines.

It decides only the easy question, fast: is this line a valid snapshot, with nothing to warn
about? If so, it gives the records (the rules read the same fields off them as off the model,
with the same values); if it cannot say yes, it gives None, and the line goes to the pydantic
model, which finds and words the errors (`snapshot.Validator`). So a line is accepted or
refused, with the same paths, messages and warnings, whichever way it went: the decoder only
ever accepts what the model accepts, with the same values, and the differential tests
(`tests/unit/test_structs.py`) hold it to that on generated and hostile inputs.

What msgspec checks as it decodes: JSON itself, the types (strictly: no text for a number, no
number for a boolean), the required fields, the texts' lengths, an identifier's or a non-blank
text's pattern, a whole number's lower bound, one of a field's values, and no unknown field
(an unknown field is a warning, which the model gives). What one function generated from the
schema (`codegen`) checks after: the decimals (hours: more than 0, at most two places; and, as
the model reads a JSON number through a float, at most 15 digits, so both read the same number),
a date not before another, steps numbered 1, 2, 3…, and the fields given, counted as the model
counts them, for the repeated-key screen. A field left out is None, or its default, as in the
model.

A schema with a table (a JSON object of any keys) gets no decoder: every line goes to the model.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

import msgspec
import orjson

from ..engine import codegen as cg
from ..language import datatype as t
from ..language.schema import ROOT, Schema
from .identifiers import IDENTIFIER, IDENTIFIER_NOT_BLANK

_TEXT_LIMIT = 100_000  # the model's str_max_length
_DIGITS = 15  # a decimal of at most this many digits reads the same through a float


def _text(**constraints) -> Any:
    return Annotated[str, msgspec.Meta(max_length=_TEXT_LIMIT, **constraints)]


_SCALARS: dict[str, Any] = {
    "text": _text(),
    "date": dt.date,
    "boolean": bool,
    "integer": int,
    "decimal": Decimal,
    "yen": Annotated[int, msgspec.Meta(ge=0)],
    "rate": Annotated[int, msgspec.Meta(ge=0)],
    "hours": Decimal,
    "days": int,
    "business_days": int,
    "percent": Decimal,
}


def _decimal_ok(value: Decimal) -> bool:
    """A decimal the model reads as the same number: finite, at most _DIGITS digits, in a
    float's range."""
    if not value.is_finite():
        return False
    digits, exponent = value.as_tuple()[1:]
    return len(digits) <= _DIGITS and -300 < exponent < 300


def _hours_ok(value: Decimal) -> bool:
    """Hours as the model takes them: a decimal more than 0 with at most two places."""
    return _decimal_ok(value) and value > 0 and value.as_tuple().exponent >= -2


def _canonical(value: Decimal) -> Decimal | None:
    """A decimal as the model reads it — through a float: `12.50` is 12.5, `1.0` and `1E+1` are
    1 and 10 — whose text is also what JSON writes for it in a verdict (`jsonable`: a whole
    number as an integer, another as the float's shortest digits); None for one whose two texts
    differ (`1.5E-7`, written `1.5e-7`): the model reads that line."""
    if value == value.to_integral_value():
        canonical, written = Decimal(int(value)), str(int(value))
    else:
        canonical, written = Decimal(repr(float(value))), orjson.dumps(float(value)).decode()
    return canonical if canonical == value and str(canonical) == written else None


def _remembered(check):
    """A check of a decimal that gives the decimal as the model reads it (`_canonical`), or
    None when the model must read the line; remembered by the decimal's value (a batch repeats
    few of them).

    Sound because the answer depends only on the value: the model reads a decimal as a number
    (its places counted once normalised); two decimals of one value, written two ways, are read
    alike — the first way seen may only be refused where the other is not, which sends a line to
    the model, never the reverse."""
    seen: dict = {}

    def remembered(value: Decimal) -> Decimal | None:
        if not value.is_finite():  # (a signalling NaN cannot even be hashed)
            return None
        read = seen.get(value, seen)
        if read is seen:
            if len(seen) >= 4096:
                seen.clear()
            read = seen[value] = _canonical(value) if check(value) else None
        return read

    return remembered


_CHECKS = {"decimal": _remembered(_decimal_ok), "percent": _remembered(_decimal_ok), "hours": _remembered(_hours_ok)}


def _whole(pattern: str) -> str:
    """The model's pattern of a whole text (`^…$`, Rust's regex) for Python's `re`, where `$`
    also matches before a final line break: `\\A…\\Z`."""
    assert pattern.startswith("^") and pattern.endswith("$")
    return "\\A" + pattern[1:-1] + "\\Z"


class Decoder:
    """One schema's decoder: `decode(text)` → the case's records, or None when the model must
    read the line (see the module's docstring)."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.structs: dict[str, type] = {}
        self.root = self._struct(ROOT)
        self._decode = msgspec.json.Decoder(self.root).decode
        self._finish = _compile_finish(schema, self.structs)

    def _type(self, typ: t.Type, field=None) -> Any:
        if typ.kind == "list":
            return list[self._type(typ.inner)]
        if typ.kind == "record":
            return self._struct(typ.record)
        if typ.kind not in _SCALARS:
            raise NotImplementedError(typ.kind)  # a table: no decoder for this schema
        if field is not None and typ.kind == "text":
            if field.exactly is not None:
                return Literal[field.exactly]
            if field.one_of:
                return Literal[tuple(field.one_of)]
            if field.identifier or field.not_blank:  # its pattern: checked by `finish` (`_text_checks`)
                return _text(min_length=1 if field.not_blank else 0)
        if field is not None and field.at_least is not None and typ.kind == "integer":
            return Annotated[int, msgspec.Meta(ge=field.at_least)]
        return _SCALARS[typ.kind]

    def _struct(self, name: str) -> type:
        if name in self.structs:
            return self.structs[name]
        fields = []
        for field in self.schema.records[name].fields.values():
            kind = self._type(field.type, field)
            if field.has_default or field.type.optional:
                # Left out: UNSET, which the finishing function counts and replaces.
                fields.append((field.name, Union[kind, None, msgspec.UnsetType] if field.type.optional else
                               Union[kind, msgspec.UnsetType], msgspec.UNSET))
            else:
                fields.append((field.name, kind))
        struct = msgspec.defstruct(name, fields, kw_only=True, forbid_unknown_fields=True, gc=False)
        self.structs[name] = struct
        if all(self._plain(f.type) for f in self.schema.records[name].fields.values()):
            _PLAIN_RECORDS.add(struct)
        return struct

    def _plain(self, typ: t.Type) -> bool:
        """Whether JSON writes a value of this type as `jsonable` writes it, once each record
        in it is handed back as its fields: a scalar, a plain record, a list of those (but of
        texts: `jsonable` shortens a long text in a list)."""
        if typ.kind == "record":
            return self.structs[typ.record] in _PLAIN_RECORDS
        if typ.kind == "list":
            return typ.inner.kind != "text" and self._plain(typ.inner)
        return typ.kind in _SCALARS

    def decode(self, text: bytes):
        """The case's records, and the number of fields the text gives (as the model counts
        them); None when the model must read the text."""
        try:
            case = self._decode(text)
        except (msgspec.MsgspecError, RecursionError, ValueError, OverflowError):
            return None
        try:
            given = self._finish(case)
        except (ArithmeticError, TypeError, ValueError):  # a value its checks cannot weigh: the model will
            return None
        return None if given < 0 else (case, given)


record_fields = msgspec.structs.asdict  # a decoded record's fields, in order, as a mapping
# The decoders' records whose every field is a scalar (text, a date, a number, a boolean, or
# None), a plain record or a list of them (`Decoder._plain`): their fields are what JSON
# writes as they are, whatever the record holds.
_PLAIN_RECORDS: weakref.WeakSet = weakref.WeakSet()


def plain_record(value) -> bool:
    """Whether `value` is a decoder's record whose fields JSON writes as they are (`_plain`)."""
    return type(value) in _PLAIN_RECORDS


# An identifier's pattern (`identifiers`), and a text's that may not be blank, as msgspec
# checked them (Python's `re`, whole texts) — run by `finish` only on a text that is not
# printable (`str.isprintable`): a printable text holds none of the characters an identifier
# refuses (controls, bidirectional marks: all unprintable), so its identifier pattern holds, and
# it is blank when `strip` leaves nothing (`\s` in a pattern on texts is `str.isspace`). The
# patterns' searches cost the decoder half its time on the generated cases; this, a call.
_IDENTIFIER = re.compile(_whole(IDENTIFIER)).search
_IDENTIFIER_NOT_BLANK = re.compile(_whole(IDENTIFIER_NOT_BLANK)).search
_PRINTABLE = str.isprintable


def decoder(schema: Schema) -> Decoder | None:
    """The schema's decoder, or None when the schema has a part it does not read (a table)."""
    try:
        return Decoder(schema)
    except NotImplementedError:
        return None


def _compile_finish(schema: Schema, structs: dict[str, type]):
    """One function, generated from the schema, that finishes a decoded case: each field left
    out becomes None or its default, the checks msgspec does not make are made, and the fields
    given are counted. Returns that count, or -1 when a check fails (the model will say why)."""
    module = cg.Module()
    unset = cg.name("u")  # msgspec's UNSET, held in a local
    body: list = [cg.assign("n", cg.literal(0)), cg.assign("u", module.constant(msgspec.UNSET))]
    counter = [0]
    settable: set[str] = set()
    refuse = cg.return_(cg.negate(cg.literal(1)))

    def default(field):
        value = field.default
        if isinstance(value, (tuple, list)):
            return cg.list_of([module.constant(read(v)) for v in value])
        return module.constant(read(value))

    def read(value):
        """A default as the model reads it (a decimal: `_canonical`; one it cannot: no decoder)."""
        if isinstance(value, Decimal):
            value = _canonical(value)
            if value is None:
                raise NotImplementedError("a decimal default the model reads otherwise")
        return value

    def check(field, var: str | None, value) -> list:
        """Statements that refuse a value msgspec's type let through but the model would not,
        and put a decimal in its place as the model reads it (`var.field`: where it is)."""
        typ = field.type
        inner = typ.inner if typ.kind == "list" else None
        if typ.kind in _CHECKS:
            return [cg.if_(cg.is_none(cg.walrus("c", cg.call(module.constant(_CHECKS[typ.kind]), value))), [refuse]),
                    cg.set_field(var, field.name, cg.name("c"))]
        if inner is not None and inner.kind in _CHECKS:
            counter[0] += 1
            item, index, items = f"x{counter[0]}", f"j{counter[0]}", f"l{counter[0]}"
            return [cg.assign(items, value),
                    cg.for_([index, item], cg.call("enumerate", cg.name(items)), [
                        cg.if_(cg.is_none(cg.walrus("c", cg.call(module.constant(_CHECKS[inner.kind]),
                                                                  cg.name(item)))), [refuse]),
                        cg.assign_item(items, cg.name(index), cg.name("c"))])]
        return []

    def text_checks(field, value) -> list:
        """Statements that refuse a text its pattern refuses (see `_IDENTIFIER`): an identifier,
        a text that may not be blank."""
        blank = cg.not_(cg.method(value, "strip"))
        if field.identifier:
            pattern = module.constant(_IDENTIFIER_NOT_BLANK if field.not_blank else _IDENTIFIER)
            slow = cg.is_none(cg.call(pattern, value))
            printable = cg.call(module.constant(_PRINTABLE), value)
            if field.not_blank:
                return [cg.if_(printable, [cg.if_(blank, [refuse])], [cg.if_(slow, [refuse])])]
            return [cg.if_(cg.both(cg.not_(printable), slow), [refuse])]
        return [cg.if_(blank, [refuse])] if field.not_blank else []

    def texts(field, value) -> list:
        return text_checks(field, value) if field.type.kind == "text" and field.exactly is None \
            and not field.one_of else []

    def visit(record_name: str, var: str, out: list) -> None:
        record = schema.records[record_name]
        required = [f for f in record.fields.values() if not (f.has_default or f.type.optional)]
        if required:
            out.append(cg.assign("n", cg.binary(cg.name("n"), "+", cg.literal(len(required)))))
        for f in record.fields.values():
            value = cg.field(cg.name(var), f.name)
            if f.has_default or f.type.optional:
                settable.add(f.name)
                given = [cg.add_one("n")]
                out.append(cg.if_(cg.compare(value, "is", unset),
                                  [cg.set_field(var, f.name, default(f) if f.has_default else cg.literal(None))],
                                  given))
                if f.type.optional:
                    checks = check(f, var, cg.name("v")) + texts(f, cg.name("v"))
                    if checks:
                        out.append(cg.assign("v", cg.field(cg.name(var), f.name)))
                        out.append(cg.if_(cg.is_set(cg.name("v")), checks))
                else:
                    out.extend(check(f, var, value) + texts(f, value))
            else:
                if f.type.kind in _CHECKS:  # put back as the model reads it
                    settable.add(f.name)
                out.extend(check(f, var, value) + texts(f, value))
        for f in record.fields.values():
            if f.not_before:
                a, b = cg.field(cg.name(var), f.name), cg.field(cg.name(var), f.not_before)
                broken = cg.both(cg.both(cg.is_set(a), cg.is_set(b)), cg.compare(a, "<", b))
                out.append(cg.if_(broken, [refuse]))
        for f in record.fields.values():
            typ = f.type
            if typ.kind == "record":
                counter[0] += 1
                child = f"o{counter[0]}"
                out.append(cg.assign(child, cg.field(cg.name(var), f.name)))
                inner: list = []
                visit(typ.record, child, inner)
                if typ.optional:
                    out.append(cg.if_(cg.is_set(cg.name(child)), inner))
                else:
                    out.extend(inner)
            elif typ.kind == "list" and typ.inner is not None and typ.inner.kind == "record":
                counter[0] += 1
                child, index = f"o{counter[0]}", f"i{counter[0]}"
                each: list = []
                if f.numbered_by:
                    number = cg.field(cg.name(child), f.numbered_by)
                    each.append(cg.if_(cg.compare(number, "!=", cg.binary(cg.name(index), "+", cg.literal(1))),
                                       [refuse]))
                visit(typ.inner.record, child, each)
                items = cg.either(cg.field(cg.name(var), f.name), cg.tuple_of(()))
                out.append(cg.for_([index, child], cg.call("enumerate", items), each))

    visit(ROOT, "o0", body)
    body.append(cg.return_(cg.name("n")))
    module.add(cg.function("finish", ["o0"], body))
    return module.run(schema.field_names, label="batch decoder", settable=settable)["finish"]


__all__ = ["Decoder", "decoder", "plain_record", "record_fields"]
