"""events: one line of a case event log → an Event, or the reasons it is not one.

An event says what happened to a case at a moment:

    {"case_id": "C-1", "at": "2021-02-08", "set": {"steps[0].completion_reported_on": "2021-02-08"}}
    {"case_id": "C-1", "at": "2021-02-08T09:30:00+09:00", "snapshot": {...}}

`set` maps field paths to values (null removes the field: the fact has not happened
yet); `snapshot` replaces the whole case (and `set`, when both are given, applies on
top of it). Paths are checked against the snapshot's schema here; values are checked
when the changed snapshot is validated.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

from ..language import datatype as t
from ..language.diagnostic import did_you_mean
from ..language.schema import Schema
from .snapshot import InputError, Rejected, parse_path

KEYS = ("case_id", "at", "set", "snapshot")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Moment(NamedTuple):
    """When an event happened: its day, and its time of day where the event gives one."""

    day: dt.date
    time: dt.time | None = None
    text: str = ""  # as written, shown in alerts

    def before(self, other: "Moment") -> bool:
        """True when this moment is certainly earlier than `other` (a day without a time
        is not earlier than a time on that day)."""
        if self.day != other.day:
            return self.day < other.day
        return self.time is not None and other.time is not None and self.time < other.time


class Event(NamedTuple):
    case_id: str
    at: Moment | None  # None: now (only when watching live)
    snapshot: dict | None
    changes: tuple[tuple[str, Any], ...]  # (path, value), in the order written; None removes


def moment(text: str) -> Moment:
    """`2021-02-08` or an ISO date and time (its own day, whatever its offset)."""
    if not isinstance(text, str) or not _DATE.match(text):
        raise ValueError("expected a date such as 2021-02-08 or a date and time such as 2021-02-08T09:30:00+09:00")
    if len(text) == 10:
        return Moment(dt.date.fromisoformat(text), None, text)
    when = dt.datetime.fromisoformat(text)
    return Moment(when.date(), when.time(), text)


def type_at(schema: Schema, path: str) -> t.Type:
    """The type of the field a path names; ValueError saying which part is unknown."""
    parts = parse_path(path)
    record = schema.root
    here: t.Type | None = None
    walked = ""
    for part in parts:
        if isinstance(part, int):
            if here is None or here.kind != "list":
                raise ValueError(f"`{walked}` is not a list")
            here = here.inner
            walked += f"[{part}]"
            continue
        if here is not None:
            if here.kind == "table":
                here = here.inner
                walked += f".{part}"
                continue
            if here.kind != "record":
                raise ValueError(f"`{walked}` has no fields")
            record = schema.records[here.record]
        if part not in record.fields:
            where = f"`{walked}`" if walked else "the snapshot"
            hint = did_you_mean(part, list(record.fields))
            raise ValueError(f"unknown field `{part}` in {where}" + (f"; {hint}" if hint else ""))
        here = record.fields[part].type
        walked += ("." if walked else "") + part
    return here


class PathChecker:
    """`type_at` for one schema, remembering the paths it has seen (a log names few)."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self._seen: dict[str, t.Type | str] = {}

    def __call__(self, path: str) -> t.Type:
        got = self._seen.get(path)
        if got is None:
            try:
                got = type_at(self.schema, path)
            except ValueError as error:
                got = str(error)
            if len(self._seen) < 100_000:
                self._seen[path] = got
        if isinstance(got, str):
            raise ValueError(got)
        return got


def read_event(data: Any, paths: PathChecker, live: bool = False) -> Event:
    """An event from a parsed JSON line; Rejected (with paths into the event) if it is not one."""
    if not isinstance(data, dict):
        raise Rejected(None, [InputError("", f"an event is a JSON object, not {_kind(data)}")])
    case_id = data.get("case_id")
    errors: list[InputError] = []
    unknown = [key for key in data if key not in KEYS]
    for key in unknown:
        hint = did_you_mean(key, list(KEYS))
        errors.append(InputError(key, "unknown key in an event" + (f"; {hint}" if hint else "")
                                 + " (an event has case_id, at, and set or snapshot)"))
    if not isinstance(case_id, str) or not case_id.strip():
        errors.append(InputError("case_id", "an event needs the case_id it is about, as text", _shown(case_id)))
        case_id = None
    at = None
    if "at" in data or not live:
        try:
            at = moment(data.get("at"))
        except ValueError as error:
            errors.append(InputError("at", f"when the event happened: {error}", _shown(data.get("at"))))
    snapshot = data.get("snapshot")
    changes = data.get("set")
    if snapshot is None and changes is None:
        errors.append(InputError("", "an event needs `set` (field paths and their new values) or `snapshot`"))
    if snapshot is not None:
        if not isinstance(snapshot, dict):
            errors.append(InputError("snapshot", f"a snapshot is a JSON object, not {_kind(snapshot)}"))
        elif case_id is not None and snapshot.get("case_id", case_id) != case_id:
            errors.append(InputError("snapshot.case_id", f"the snapshot is of another case than `{case_id}`",
                                     _shown(snapshot.get("case_id"))))
    pairs: list[tuple[str, Any]] = []
    if changes is not None:
        if not isinstance(changes, dict):
            errors.append(InputError("set", f"`set` maps field paths to values, not {_kind(changes)}"))
        else:
            for path, value in changes.items():
                try:
                    paths(path)
                except ValueError as error:
                    errors.append(InputError(f"set.{path}", str(error)))
                    continue
                if path == "case_id":
                    errors.append(InputError("set.case_id", "the case_id of a case cannot change"))
                    continue
                pairs.append((path, value))
    if errors:
        raise Rejected(case_id, errors)
    return Event(case_id, at, snapshot, tuple(pairs))


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number",
            type(None): "null"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> Any:
    """A value as an error shows it (long text cut short)."""
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    if isinstance(value, (dict, list)):
        return _kind(value)
    return value
