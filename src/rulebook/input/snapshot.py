"""snapshot: outside data → a validated case snapshot, or the reasons it is not one.

A snapshot that breaks the schema is not judged: `Rejected` names each bad
field by its path (`steps[1].hours`, list indexes from 0), the value found and
what was expected — `rulebook.error/v1`. Unknown extra fields are kept and
reported as warnings.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from ..language.schema import ROOT, Schema
from ..engine import codegen as cg

ERROR_FORMAT = "rulebook.error/v1"


@dataclass(frozen=True, slots=True)
class InputError:
    path: str
    message: str
    value: Any = None

    def to_dict(self) -> dict:
        return {"path": self.path, "message": self.message, "value": self.value}


@dataclass
class Rejected(Exception):
    """A snapshot that is not valid input, with every reason."""

    case_id: str | None
    errors: list[InputError]
    origin: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return "; ".join(f"{e.path or '(snapshot)'}: {e.message}" for e in self.errors)

    def to_dict(self) -> dict:
        out = {"format": ERROR_FORMAT, "case_id": self.case_id,
               "errors": [e.to_dict() for e in self.errors]}
        if self.origin is not None:
            out["source"] = {"file": self.origin, "line": self.line}
        return out


@dataclass(frozen=True, slots=True)
class Checked:
    """A valid snapshot and the warnings about it."""

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
    if isinstance(value, BaseModel):
        out = {}
        for k, v in value.__dict__.items():
            kind = type(v)
            out[k] = v if kind is str or kind is bool or kind is int or v is None else \
                v.isoformat() if kind is dt.date else jsonable(v, depth + 1)
        if value.__pydantic_extra__:
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
    if value is None or kind is str or kind is bool or kind is float or kind is orjson.Fragment:
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


def _default(value):
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"a value of kind `{type(value).__name__}` is not snapshot data")


def snapshot_json(data: Any) -> bytes:
    """Snapshot data (a mapping) as the JSON text the validator reads: decimals exact, models as
    mappings. TypeError for a value that is not snapshot data."""
    return dumps_json(data, default=_default)


_DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def _message(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "required, but missing"
    if kind == "int_type":
        if isinstance(value, float):
            return "expected a whole number; money and counts are never floats"
        return "expected a whole number"
    if kind in ("int_from_float", "int_parsing"):
        return "expected a whole number"
    if kind == "string_type":
        return "expected text (in quotes)"
    if kind.startswith("date"):
        if isinstance(value, str) and _DATE_SHAPE.fullmatch(value):
            return "no such day in the calendar (a date as YYYY-MM-DD)"
        return "expected a date as YYYY-MM-DD"
    if kind == "bool_type":
        return "expected true or false"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}"
    if kind == "decimal_max_places":
        return f"at most {ctx.get('decimal_places')} decimals"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}"
    if kind == "list_type":
        return "expected a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "expected a mapping of fields"
    if kind == "string_too_short" or kind == "string_pattern_mismatch":
        return "must not be blank"
    if kind == "finite_number":
        return "expected a finite number"
    if kind in ("decimal_type", "decimal_parsing"):
        return "expected a number"
    if kind == "json_invalid":
        return f"not valid JSON: {ctx.get('error', '')}".strip()
    msg = error.get("msg", "invalid value")
    return msg[:1].lower() + msg[1:]


class Validator:
    """Validates snapshots against one rulebook's model and schema."""

    def __init__(self, model: type[BaseModel], schema: Schema):
        self.model = model
        self.schema = schema
        self._post = _compile_post_checks(schema)
        self._from_json = model.__pydantic_validator__.validate_json  # what model_validate_json calls

    def validate(self, data: Any, origin: str | None = None, line: int | None = None) -> Checked:
        """Validate JSON text (str/bytes), a mapping, or a model instance."""
        case_id = None
        if type(data) is bytes:  # a line of a batch: the common case first
            try:
                case = self._from_json(data)
            except ValidationError as error:
                raise self._rejected(error, data, None, origin, line) from None
        elif isinstance(data, self.model):
            case = data
        else:
            if isinstance(data, dict):
                cid = data.get("case_id")
                case_id = cid if isinstance(cid, str) else None
                try:
                    data = snapshot_json(data)
                except TypeError as error:
                    raise Rejected(case_id, [InputError("", str(error))], origin, line) from None
            elif isinstance(data, BaseModel):
                data = data.model_dump_json()
            elif not isinstance(data, (str, bytes, bytearray)):
                raise Rejected(None, [InputError("", "a snapshot is a mapping of fields")], origin, line)
            try:
                case = self._from_json(data)
            except ValidationError as error:
                raise self._rejected(error, data, case_id, origin, line) from None
        errors, warnings = self._post(case)
        if errors:
            raise Rejected(getattr(case, "case_id", None), errors, origin, line)
        return Checked(case, tuple(warnings))

    @staticmethod
    def _rejected(error: ValidationError, data, case_id: str | None, origin: str | None,
                  line: int | None) -> Rejected:
        """The reasons pydantic gave, as `Rejected` names them."""
        if case_id is None:
            case_id = _case_id_of(data)
        errors = []
        for e in error.errors(include_url=False):
            value = None if e["type"] == "missing" else jsonable(e.get("input"))
            if isinstance(value, (dict, list)) and e["type"] not in ("list_type",):
                value = None if e["type"] in ("model_type", "dict_type") and isinstance(value, dict) else value
            errors.append(InputError(path_of(e["loc"]), _message(e), value))
        return Rejected(case_id, errors, origin, line)


def _compile_post_checks(schema: Schema):
    """One function, generated from the schema, that checks what pydantic does not
    (steps numbered 1, 2, 3…; approvals not before applications) and lists unknown
    extra fields — straight-line code along the schema's records, no walk by reflection.
    Returns (errors, warnings) of a validated snapshot."""
    module = cg.Module()
    error, warnings = module.constant(_input_error), module.constant(_extra_warnings)
    body: list = [cg.assign("errors", cg.list_of()), cg.assign("warnings", cg.list_of())]
    counter = [0]

    def at(path, name: str):
        return cg.literal(name) if isinstance(path, ast.Constant) and path.value == "" \
            else cg.binary(path, "+", cg.literal("." + name))

    def problem(*values) -> ast.stmt:
        return cg.do(cg.method(cg.name("errors"), "append", cg.call(error, *values)))

    def visit(record_name: str, var: str, path, out: list, seen: tuple) -> None:
        record = schema.records[record_name]
        out.append(cg.if_(cg.call("_extras", cg.name(var)),
                          [cg.do(cg.method(cg.name("warnings"), "extend", cg.call(warnings, cg.name(var), path)))]))
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

    visit(ROOT, "o0", cg.literal(""), body, (ROOT,))
    body.append(cg.return_(cg.tuple_of([cg.name("errors"), cg.name("warnings")])))
    module.add(cg.function("post", ["o0"], body))
    return module.run(schema.field_names, label="snapshot checks")["post"]


def _input_error(kind: str, path: str, *values) -> InputError:
    """What the snapshot's checks found, as the error that says it."""
    if kind == "not_before":
        other, a, b = values
        return InputError(path, f"comes before `{other}` ({b.isoformat()})", a.isoformat())
    expected, found = values
    return InputError(path, f"items are numbered 1, 2, 3… in list order without gaps or repeats: expected {expected}",
                      found)


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _extra_warnings(obj, path: str) -> list[str]:
    return [f"unknown field `{_at(path, key)}` was kept but not judged" for key in obj.__pydantic_extra__]


def _case_id_of(data) -> str | None:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("case_id"), str):
        return parsed["case_id"]
    return None


def parse_path(path: str) -> list:
    """`steps[0].photos[1].shows_sme` → ["steps", 0, "photos", 1, "shows_sme"]."""
    import re

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*", path or ""):
        raise ValueError(f"`{path}` is not a field path such as `steps[0].hours`")
    parts: list = []
    for name, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        parts.append(name if name else int(index))
    return parts


def set_path(data: dict, path: str, value: Any) -> None:
    """Set a value in nested snapshot data, making mappings on the way; lists must exist."""
    parts = parse_path(path)
    target = data
    for here, nxt in zip(parts, parts[1:]):
        if isinstance(here, int):
            if not isinstance(target, list) or here >= len(target):
                raise ValueError(f"`{path}`: there is no item {here} to go into")
            target = target[here]
        else:
            if not isinstance(target, dict):
                raise ValueError(f"`{path}`: `{here}` is not inside a mapping")
            if target.get(here) is None:
                target[here] = [] if isinstance(nxt, int) else {}
            target = target[here]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last > len(target):
            raise ValueError(f"`{path}`: there is no item {last}")
        if last == len(target):
            target.append(value)
        else:
            target[last] = value
    else:
        if not isinstance(target, dict):
            raise ValueError(f"`{path}`: `{last}` is not inside a mapping")
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
