"""planjson: a compiled plan and its schema ⇄ plain JSON (what the plan cache holds).

Plain data only, tagged where JSON has no type of its own: `{"$": "date", "v": "2021-02-10"}`,
decimals, spans of days, tuples, sets, mappings (kept in order, keys of any kind), the rows of
a record (a parameter's value), and the
plan's and schema's own classes — a closed list (`_CLASSES`): reading builds nothing else and
runs nothing. The plan's generated module is kept as its source text; `codegen.execute`
verifies it before it runs, like a module just generated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

from ..language.datatype import Type
from ..language.schema import Field, Record, Schema
from ..language.value import Row, row_class
from .plan import BatchRulePlan, ClausePlan, OrderPlan, Plan, RulePlan, TemplatePlan

FORMAT = "rulebook.plan-cache/v1"

_CLASSES = {cls.__name__: cls for cls in (Plan, RulePlan, ClausePlan, TemplatePlan, OrderPlan, BatchRulePlan,
                                         Schema, Record, Field, Type)}
_SKIPPED = {"functions"}  # made from the source in each process


class PlanFileError(ValueError):
    """A plan cache file that is not one this version wrote."""


def dumps(plan: Plan, schema: Schema, fingerprint: str) -> bytes:
    """The plan and schema as JSON text (deterministic: the same plan gives the same bytes)."""
    document = {"format": FORMAT, "engine": fingerprint, "plan": _encode(plan), "schema": _encode(schema)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes, fingerprint: str) -> tuple[Plan, Schema]:
    """The plan and schema of `dumps`; PlanFileError for anything else."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PlanFileError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PlanFileError("not a plan cache file")
    if document.get("engine") != fingerprint:
        raise PlanFileError("written by another version of the engine")
    try:
        plan, schema = _decode(document["plan"]), _decode(document["schema"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise PlanFileError(f"not a plan: {error}") from None
    if not isinstance(plan, Plan) or not isinstance(schema, Schema):
        raise PlanFileError("not a plan")
    return plan, schema


def _encode(value):
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return {"$": "float", "v": repr(value)}
    if kind is list:
        return [_encode(v) for v in value]
    if kind is tuple:
        return {"$": "tuple", "v": [_encode(v) for v in value]}
    if kind is dict:
        return {"$": "dict", "v": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if kind is frozenset:
        return {"$": "frozenset", "v": [_encode(v) for v in sorted(value, key=lambda v: (type(v).__name__, v))]}
    if kind is dt.date:
        return {"$": "date", "v": value.isoformat()}
    if kind is Decimal:
        return {"$": "decimal", "v": str(value)}
    if kind is dt.timedelta:
        return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Row):
        return {"$": "row", "v": [value.record, list(value.fields), [_encode(v) for v in value]]}
    if kind.__name__ in _CLASSES and _CLASSES[kind.__name__] is kind:
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in _SKIPPED}
        return {"$": kind.__name__, "v": fields}
    raise TypeError(f"a {kind.__name__} is not plan data")


def _decode(value):
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is list:
        return [_decode(v) for v in value]
    if type(value) is not dict:
        raise PlanFileError(f"unexpected {type(value).__name__}")
    tag, inner = value["$"], value["v"]
    if tag == "tuple":
        return tuple(_decode(v) for v in inner)
    if tag == "dict":
        return {_decode(k): _decode(v) for k, v in inner}
    if tag == "frozenset":
        return frozenset(_decode(v) for v in inner)
    if tag == "date":
        return dt.date.fromisoformat(inner)
    if tag == "decimal":
        return Decimal(inner)
    if tag == "timedelta":
        days, seconds, microseconds = inner
        return dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if tag == "float":
        return float(inner)
    if tag == "row":
        record, fields, values = inner
        if not isinstance(record, str) or not all(isinstance(f, str) and f.isidentifier() for f in fields):
            raise PlanFileError("a row with other fields")
        return row_class(record, tuple(fields))(*(_decode(v) for v in values))
    cls = _CLASSES.get(tag)
    if cls is None:
        raise PlanFileError(f"unknown kind `{tag}`")
    names = {f.name for f in dataclasses.fields(cls)} - _SKIPPED
    if set(inner) != names:
        raise PlanFileError(f"a {tag} with other fields")
    return cls(**{k: _decode(v) for k, v in inner.items()})
