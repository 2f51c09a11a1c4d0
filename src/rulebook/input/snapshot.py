"""snapshot: outside data → a validated case snapshot, or the reasons it is not one.

A snapshot that breaks the schema is not judged: `Rejected` names each bad field by its
path (`steps[1].hours`, list indexes from 0), the value found and what was expected, in
Japanese and English, with its line and column where the reader knows them —
`rulebook.error/v1`. Unknown extra fields are kept and reported as warnings, with the
declared field they were probably meant to be.

JSON text given as such (a line of a batch, a request's body) is checked for keys repeated
in one object, which the JSON parsers would quietly read as the last one: the validated
snapshot's fields are counted as the schema's records are walked, and only when they are
fewer than the text's colons is the text scanned for a repeated key.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from ..engine import codegen as cg
from ..language.diagnostic import closest
from ..language.schema import ROOT, Field, Schema
from .documents.json import Positions as JSONPositions, duplicate_key
from .errors import ERROR_FORMAT, InputError, Locate, Rejected
from .identifiers import CONTROL
from .messages import Message, quote, said

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic_core import ValidationError

__all__ = ["ERROR_FORMAT", "Checked", "InputError", "Rejected", "Validator", "dumps_json", "jsonable",
           "PathError", "parse_path", "path_of", "set_path", "unset_path"]


@dataclass(frozen=True, slots=True)
class Checked:
    """A valid snapshot and the warnings about it (Messages: English, with `.ja`)."""

    case: BaseModel
    warnings: tuple[str, ...] = field(default=())


def path_of(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def is_model(value) -> bool:
    """Whether `value` is a pydantic model. pydantic is imported only when a model is first
    built (a case the decoder cannot read, the JSON Schema): until then nothing is one, and a
    run that never needs it (`check` of a valid case) never pays for importing it."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def jsonable(value: Any, depth: int = 0) -> Any:
    """A value as JSON can hold it: dates as ISO text, decimals as numbers, models as mappings."""
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str) and len(value) > 200:
            return value[:200] + "…"
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, (bytes, bytearray)):  # input that was not even JSON: show it as text
        return bytes(value[:200]).decode("utf-8", "replace") + ("…" if len(value) > 200 else "")
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if depth > 20:
        return "…"
    struct_fields = getattr(type(value), "__struct_fields__", None)  # the batch decoder's records
    if struct_fields is not None or is_model(value):
        out = {}
        items = value.__dict__.items() if struct_fields is None else \
            ((k, getattr(value, k)) for k in struct_fields)
        for k, v in items:
            kind = type(v)
            out[k] = v if kind is str or kind is bool or kind is int or v is None else \
                v.isoformat() if kind is dt.date else jsonable(v, depth + 1)
        if struct_fields is None and value.__pydantic_extra__:
            out.update((k, jsonable(v, depth + 1)) for k, v in value.__pydantic_extra__.items())
        return out
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth + 1) for v in value]
    if hasattr(value, "as_fact"):
        return value.as_fact()
    return str(value)


_INT_MIN, _INT_MAX = -(2 ** 63), 2 ** 64 - 1  # what orjson writes itself


def _exact(value: Any, default) -> Any:
    """`value` with every integer orjson cannot write (wider than 64 bits) as an exact
    fragment of JSON; what `default` gives is walked too, as it may hold such integers."""
    kind = type(value)
    if kind is int:
        return orjson.Fragment(str(value).encode()) if not _INT_MIN <= value <= _INT_MAX else value
    if kind is dict:
        return {k: _exact(v, default) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_exact(v, default) for v in value]
    if value is None or kind is str or kind is bool or kind is float or kind is orjson.Fragment \
            or kind is dt.date or kind is dt.datetime:  # (what orjson writes itself, `default` need not)
        return value
    if isinstance(value, Mapping):
        return {k: _exact(v, default) for k, v in value.items()}
    return _exact(default(value), default)


def _not_json(value: Any):
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps_json(value: Any, default=None, option: int = 0) -> bytes:
    """orjson.dumps, also for integers wider than 64 bits (written exactly, as Python does)."""
    try:
        return orjson.dumps(value, default=default, option=option)
    except TypeError as error:
        if "64-bit" not in str(error):
            raise
    return orjson.dumps(_exact(value, default or _not_json), option=option)


class _NotData(TypeError):
    def __init__(self, kind: str):
        super().__init__(f"a value of kind `{kind}` is not snapshot data")
        self.kind = kind


def _default(value):
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    if is_model(value):
        return value.model_dump(mode="json")
    raise _NotData(type(value).__name__)


def snapshot_json(data: Any) -> bytes:
    """Snapshot data (a mapping) as the JSON text the validator reads: decimals exact, models as
    mappings. A TypeError for a value that is not snapshot data (`validate` says which)."""
    return dumps_json(data, default=_default)


_DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def _message(error: dict, declared: Field | None) -> Message:
    """What pydantic found, said for a person in both languages; `declared` is the field's
    declaration in the schema, when the error is about one."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    field_kind = declared.type.kind if declared is not None else None
    if kind == "missing":
        return said("required")
    if field_kind == "hours" and kind in ("decimal_parsing", "decimal_type"):
        return said("hours")
    if kind == "int_type":
        return said("whole_number_not_float" if isinstance(value, float) else "whole_number")
    if kind in ("int_from_float", "int_parsing"):
        return said("whole_number")
    if kind == "string_type":
        return said("text")
    if kind.startswith("date"):
        if isinstance(value, str) and _DATE_SHAPE.fullmatch(value):
            return said("date_no_such_day")
        return said("date")
    if kind == "bool_type":
        if isinstance(value, str) and value.lower() in _YAML11_BOOLEANS:
            return said("boolean_not_word", value=quote(value))
        return said("boolean")
    if kind == "greater_than_equal":
        return said("at_least", limit=ctx.get("ge"))
    if kind == "greater_than":
        return said("more_than", limit=ctx.get("gt"))
    if kind == "decimal_max_places":
        return said("decimals", places=ctx.get("decimal_places"))
    if kind == "literal_error":
        return said("one_of", choices=ctx.get("expected"))
    if kind == "list_type":
        return said("list")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return said("mapping")
    if kind in ("string_too_short", "string_pattern_mismatch"):
        bad = CONTROL.search(value) if isinstance(value, str) else None
        if bad is not None:
            return said("identifier_control", code=f"{ord(bad.group()):04X}")
        return said("not_blank")
    if kind == "finite_number":
        return said("finite")
    if kind in ("decimal_type", "decimal_parsing"):
        return said("number")
    if kind == "json_invalid":
        return said("json_text_invalid", reason=str(ctx.get("error", "")))
    msg = error.get("msg", "invalid value")
    return said("invalid", reason=msg[:1].lower() + msg[1:])


class Validator:
    """Validates snapshots against one rulebook's model and schema. The model (`model`: a
    pydantic model class, or a function that builds it) is built when it is first needed: a
    snapshot that the schema's decoder accepts (`validate_fast`) never needs it."""

    def __init__(self, model, schema: Schema):
        self._model = model if isinstance(model, type) else None
        self._build_model = model
        self.schema = schema
        self._post = _compile_post_checks(schema)
        self._fields: dict[tuple, Field | None] = {}
        self._decoder: Any = None  # the schema's decoder (`structs`), made when first asked for

    @property
    def model(self) -> type[BaseModel]:
        if self._model is None:
            self._model = self._build_model()
        return self._model

    @property
    def _from_json(self):
        return self.model.__pydantic_validator__.validate_json  # what model_validate_json calls

    def validate_line(self, text: bytes, origin: str | None = None, line: int | None = None) -> Checked:
        """Validate one line of a batch (JSON text): `validate_fast`."""
        return self.validate_fast(text, origin, line)

    def validate_fast(self, data: Any, origin: str | None = None, line: int | None = None,
                      locate: Locate | None = None) -> Checked:
        """Validate as `validate` does, with the same result — the same values, or the same
        errors and warnings — but faster: the schema's decoder (`structs`) reads what it can
        (JSON text, or a mapping written as JSON), and gives the model what it cannot say is
        valid. The case may then be the decoder's records rather than the model: the same
        fields, with the same values, for whoever only reads them (the rules, the verdict)."""
        decode = self._decoder
        if decode is None:
            from .structs import decoder

            found = decoder(self.schema)
            decode = self._decoder = found.decode if found is not None else _none
        text, screen = data, True
        if type(data) is dict:
            try:
                text, screen = snapshot_json(data), False  # no key is repeated in a mapping
            except TypeError:
                text = None
        elif type(data) is str:
            try:
                text = data.encode("utf-8")
            except UnicodeEncodeError:
                text = None
        elif type(data) is not bytes:
            text = None
        done = decode(text) if text is not None else None
        if done is not None:
            case, given = done
            if not screen or given == _colons(text) or _repeated(text, line) is None:
                return Checked(case)
        return self.validate(data, origin, line, locate)

    def validate(self, data: Any, origin: str | None = None, line: int | None = None,
                 locate: Locate | None = None) -> Checked:
        """Validate JSON text (str/bytes), a mapping, or a model instance. `locate` finds the line
        and column of a field in the document the mapping was read from (JSON text is its own)."""
        from pydantic_core import ValidationError  # (imported with the model, `self.model`)

        case_id = None
        text = None
        if type(data) is bytes:  # a line of a batch: the common case first
            text = data
            try:
                case = self._from_json(data)
            except ValidationError as error:
                raise self._rejected(error, data, None, origin, line, locate, True) from None
        elif isinstance(data, self.model):
            case = data
        else:
            if isinstance(data, dict):
                cid = data.get("case_id")
                case_id = cid if isinstance(cid, str) else None
                try:
                    data = snapshot_json(data)
                except _NotData as error:
                    raise Rejected(case_id, [InputError("", said("not_snapshot_data", kind=quote(error.kind)))],
                                   origin, line).located(locate) from None
            elif is_model(data):
                data = data.model_dump_json()
            elif isinstance(data, (str, bytes, bytearray)):
                text = data
            else:
                key = "null_document" if data is None else "not_a_mapping"
                raise Rejected(None, [InputError("", said(key))], origin, line).located(locate)
            try:
                case = self._from_json(data)
            except ValidationError as error:
                raise self._rejected(error, data, case_id, origin, line, locate, text is not None) from None
        errors, warnings, members = self._post(case)
        if text is not None and members != _colons(text):
            repeated = _repeated(text, line)
            if repeated is not None:
                errors.insert(0, repeated)
        if errors:
            locate = locate if text is None else JSONPositions(text, line or 1)
            raise Rejected(getattr(case, "case_id", None), errors, origin, line).located(locate)
        return Checked(case, tuple(warnings))

    def _declared(self, loc: tuple) -> Field | None:
        """The schema's declaration of the field an error's location names."""
        key = tuple(part for part in loc if not isinstance(part, int))
        if key not in self._fields:
            found, record = None, self.schema.records.get(ROOT)
            for part in key:
                found = record.fields.get(part) if record is not None else None
                if found is None:
                    break
                typ = found.type
                while typ.kind in ("list", "table") and typ.inner is not None:
                    typ = typ.inner
                record = self.schema.records.get(typ.record) if typ.kind == "record" else None
            self._fields[key] = found
        return self._fields[key]

    def _rejected(self, error: ValidationError, data, case_id: str | None, origin: str | None,
                  line: int | None, locate: Locate | None, given_as_text: bool) -> Rejected:
        """The reasons pydantic gave, as `Rejected` names them; `given_as_text`: `data` is the JSON
        text given (it locates its own fields), not one made from a mapping."""
        if case_id is None:
            case_id = _case_id_of(data)
        errors = []
        text = data if given_as_text else None
        if text is not None:
            repeated = _repeated(text, line)
            if repeated is not None:
                errors.append(repeated)
        for e in error.errors(include_url=False):
            value = None if e["type"] == "missing" else jsonable(e.get("input"))
            if isinstance(value, (dict, list)) and e["type"] not in ("list_type",):
                value = None if e["type"] in ("model_type", "dict_type") and isinstance(value, dict) else value
            errors.append(InputError(path_of(e["loc"]), _message(e, self._declared(e["loc"])), value))
        if text is not None:
            locate = JSONPositions(text, line or 1)
        if any(e.path == "case_id" for e in errors):  # an id that is itself refused names nothing
            case_id = None
        return Rejected(case_id, errors, origin, line).located(locate)


def _none(_text) -> None:
    return None


def _colons(text: str | bytes | bytearray) -> int:
    return text.count(b":") if isinstance(text, (bytes, bytearray)) else text.count(":")


def _repeated(text: str | bytes | bytearray, line: int | None) -> InputError | None:
    """The error of the first key repeated in one object of a JSON text, if there is one."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    found = duplicate_key(text)
    if found is None:
        return None
    path, key, _offset = found
    return InputError(path, said("duplicate_key", key=quote(key)))


def _compile_post_checks(schema: Schema):
    """One function, generated from the schema, that checks what pydantic does not
    (steps numbered 1, 2, 3…; approvals not before applications), lists unknown extra
    fields, and counts the fields given — straight-line code along the schema's records,
    no walk by reflection. Returns (errors, warnings, fields given) of a validated snapshot."""
    module = cg.Module()
    error, warnings = module.constant(_input_error), module.constant(_extra_warnings)
    body: list = [cg.assign("errors", cg.list_of()), cg.assign("warnings", cg.list_of()),
                  cg.assign("n", cg.literal(0))]
    counter = [0]
    declared: dict[str, tuple[str, ...]] = {}

    def at(path, name: str):
        return cg.literal(name) if isinstance(path, ast.Constant) and path.value == "" \
            else cg.binary(path, "+", cg.literal("." + name))

    def problem(*values) -> ast.stmt:
        return cg.do(cg.method(cg.name("errors"), "append", cg.call(error, *values)))

    def count(value) -> ast.stmt:
        return cg.assign("n", cg.binary(cg.name("n"), "+", cg.call("len", value)))

    def visit(record_name: str, var: str, path, out: list, seen: tuple) -> None:
        record = schema.records[record_name]
        declared[record_name] = tuple(record.fields)
        out.append(count(cg.call("_given", cg.name(var))))
        out.append(cg.if_(cg.call("_extras", cg.name(var)),
                          [cg.do(cg.method(cg.name("warnings"), "extend",
                                           cg.call(warnings, cg.name(var), path,
                                                   module.constant(declared[record_name]))))]))
        for f in record.fields.values():
            if f.not_before:
                out.append(cg.assign("a", cg.field(cg.name(var), f.name)))
                out.append(cg.assign("b", cg.field(cg.name(var), f.not_before)))
                broken = cg.both(cg.both(cg.is_set(cg.name("a")), cg.is_set(cg.name("b"))),
                                 cg.compare(cg.name("a"), "<", cg.name("b")))
                out.append(cg.if_(broken, [problem(cg.literal("not_before"), at(path, f.name),
                                                   cg.literal(f.not_before), cg.name("a"), cg.name("b"))]))
        for f in record.fields.values():
            typ = f.type
            if typ.kind == "record" and typ.record not in seen:
                counter[0] += 1
                child = f"o{counter[0]}"
                out.append(cg.assign(child, cg.field(cg.name(var), f.name)))
                inner: list = []
                visit(typ.record, child, at(path, f.name), inner, seen + (typ.record,))
                out.append(cg.if_(cg.is_set(cg.name(child)), inner))
            elif typ.kind == "list" and typ.inner is not None and typ.inner.kind == "record" \
                    and typ.inner.record not in seen:
                counter[0] += 1
                child, index = f"o{counter[0]}", f"i{counter[0]}"
                item_path = cg.binary(cg.binary(cg.binary(at(path, f.name), "+", cg.literal("[")), "+",
                                                cg.call("str", cg.name(index))), "+", cg.literal("]"))
                each: list = []
                if f.numbered_by:
                    number = cg.field(cg.name(child), f.numbered_by)
                    expected = cg.binary(cg.name(index), "+", cg.literal(1))
                    each.append(cg.if_(cg.compare(number, "!=", expected),
                                       [problem(cg.literal("numbered"), at(item_path, f.numbered_by),
                                                cg.binary(cg.name(index), "+", cg.literal(1)),
                                                cg.field(cg.name(child), f.numbered_by))]))
                visit(typ.inner.record, child, item_path, each, seen + (typ.inner.record,))
                items = cg.either(cg.field(cg.name(var), f.name), cg.tuple_of(()))
                out.append(cg.for_([index, child], cg.call("enumerate", items), each))
            elif typ.kind == "table":
                out.append(count(cg.either(cg.field(cg.name(var), f.name), cg.tuple_of(()))))

    visit(ROOT, "o0", cg.literal(""), body, (ROOT,))
    body.append(cg.return_(cg.tuple_of([cg.name("errors"), cg.name("warnings"), cg.name("n")])))
    module.add(cg.function("post", ["o0"], body))
    return module.run(schema.field_names, label="snapshot checks")["post"]


def _input_error(kind: str, path: str, *values) -> InputError:
    """What the snapshot's checks found, as the error that says it."""
    if kind == "not_before":
        other, a, b = values
        return InputError(path, said("not_before", other=quote(other), day=b.isoformat()), a.isoformat())
    expected, found = values
    return InputError(path, said("numbered", number=expected), found)


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _extra_warnings(obj, path: str, declared: tuple[str, ...]) -> list[Message]:
    """An unknown field is kept, and said with the declared field it was probably meant to be."""
    out = []
    for key in obj.__pydantic_extra__:
        name = closest(key, [name for name in declared if name not in obj.__pydantic_fields_set__
                             or getattr(obj, name) is None])
        shown = quote(_at(path, key), 80)
        if name is not None:
            out.append(said("unknown_field_hint", path=shown, name=quote(_at(path, name), 80)))
        else:
            out.append(said("unknown_field", path=shown))
    return out


def _case_id_of(data) -> str | None:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("case_id"), str):
        return parsed["case_id"]
    return None


class PathError(ValueError):
    """A field path that cannot be followed; `message` says why (a Message)."""

    def __init__(self, message: Message):
        super().__init__(message)
        self.message = message


_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*")
_PATH_PARTS = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def parse_path(path: str) -> list:
    """`steps[0].photos[1].shows_sme` → ["steps", 0, "photos", 1, "shows_sme"]."""
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise PathError(said("path_syntax", path=quote(str(path), 80)))
    return [name if name else int(index) for name, index in _PATH_PARTS.findall(path)]


def set_path(data: dict, path: str, value: Any) -> None:
    """Set a value in nested snapshot data, making mappings on the way; lists must exist."""
    parts = parse_path(path)
    shown = quote(path, 80)
    target = data
    for here, nxt in zip(parts, parts[1:]):
        if isinstance(here, int):
            if not isinstance(target, list) or here >= len(target):
                raise PathError(said("path_no_item_to_enter", path=shown, index=here))
            target = target[here]
        else:
            if not isinstance(target, dict):
                raise PathError(said("path_not_in_mapping", path=shown, name=quote(here)))
            if target.get(here) is None:
                target[here] = [] if isinstance(nxt, int) else {}
            target = target[here]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last > len(target):
            raise PathError(said("path_no_item", path=shown, index=last))
        if last == len(target):
            target.append(value)
        else:
            target[last] = value
    else:
        if not isinstance(target, dict):
            raise PathError(said("path_not_in_mapping", path=shown, name=quote(last)))
        target[last] = value


def unset_path(data: dict, path: str) -> None:
    """Remove a field (absent, as a fact that has not happened yet)."""
    parts = parse_path(path)
    target = data
    for here in parts[:-1]:
        try:
            target = target[here]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(target, dict):
        target.pop(parts[-1], None)
    elif isinstance(target, list) and isinstance(parts[-1], int) and parts[-1] < len(target):
        del target[parts[-1]]
