"""model: Schema → pydantic models of the case snapshot.

Built when a rulebook loads, so a new fact is a change to `rules/` alone.
Strict where the snapshot format says so: money is whole yen and never a
float, text is text, dates are ISO `YYYY-MM-DD`; hours are positive with at
most two decimals. Unknown extra fields are kept (and reported as warnings).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, Strict, create_model

from ..language import datatype as t
from ..language.schema import ROOT, Schema
from .identifiers import IDENTIFIER, IDENTIFIER_NOT_BLANK

_BASE = ConfigDict(extra="allow", frozen=True, str_max_length=100_000)


_SCALARS: dict[str, Any] = {
    "text": Annotated[str, Strict()],
    "date": Annotated[dt.date, Strict()],
    "boolean": Annotated[bool, Strict()],
    "integer": Annotated[int, Strict()],
    "decimal": Annotated[Decimal, Field(allow_inf_nan=False)],
    "yen": Annotated[int, Strict(), Field(ge=0)],
    "rate": Annotated[int, Strict(), Field(ge=0)],
    "hours": Annotated[Decimal, Field(gt=0, decimal_places=2, allow_inf_nan=False)],
    "days": Annotated[int, Strict()],
    "business_days": Annotated[int, Strict()],
    "months": Annotated[int, Strict()],
    "percent": Annotated[Decimal, Field(allow_inf_nan=False)],
}


def build_models(schema: Schema) -> type[BaseModel]:
    """The root model (`record case`), with a model for every record it uses."""
    models: dict[str, type[BaseModel]] = {}
    building: set[str] = set()

    def model_of(name: str) -> type[BaseModel]:
        if name in models:
            return models[name]
        if name in building:
            raise ValueError(f"record `{name}` contains itself")
        building.add(name)
        record = schema.records[name]
        fields: dict[str, Any] = {}
        for field in record.fields.values():
            annotation = annotation_of(field.type, field)
            if field.has_default:
                default = list(field.default) if isinstance(field.default, tuple) else field.default
                if isinstance(default, list):
                    fields[field.name] = (annotation, Field(default_factory=list))
                else:
                    fields[field.name] = (annotation, default)
            elif field.type.optional:
                fields[field.name] = (Optional[annotation], None)
            else:
                fields[field.name] = (annotation, ...)
        model = create_model(_class_name(name), __config__=_BASE, **fields)
        models[name] = model
        building.discard(name)
        return model

    def annotation_of(typ: t.Type, field=None):
        if typ.kind == "list":
            return list[annotation_of(typ.inner)]
        if typ.kind == "record":
            return model_of(typ.record)
        if typ.kind == "table":
            return dict[annotation_of(typ.key), annotation_of(typ.inner)]
        base = _SCALARS[typ.kind]
        if field is not None and typ.kind == "text":
            if field.exactly is not None:
                return Literal[field.exactly]
            if field.one_of:
                return Literal[field.one_of]
            if field.identifier:
                pattern = IDENTIFIER_NOT_BLANK if field.not_blank else IDENTIFIER
                return Annotated[str, Strict(), Field(min_length=1 if field.not_blank else 0, pattern=pattern)]
            if field.not_blank:
                return Annotated[str, Strict(), Field(min_length=1, pattern=r"\S")]
        if field is not None and field.at_least is not None and typ.kind == "integer":
            return Annotated[int, Strict(), Field(ge=field.at_least)]
        return base

    root = model_of(ROOT)
    for name in schema.records:
        model_of(name)
    return root


def _class_name(record: str) -> str:
    return "".join(part.capitalize() for part in record.split("_")) or "Record"
