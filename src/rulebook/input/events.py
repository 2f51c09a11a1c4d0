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
from ..language.diagnostic import closest
from ..language.schema import Schema
from .errors import InputError, Rejected
from .messages import Message, quote, said, word
from .snapshot import PathError, parse_path

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
        raise ValueError(said("event_at"))
    try:
        if len(text) == 10:
            return Moment(dt.date.fromisoformat(text), None, text)
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(said("event_at_no_such_time")) from None
    return Moment(when.date(), when.time(), text)


def type_at(schema: Schema, path: str) -> t.Type:
    """The type of the field a path names; PathError saying which part is unknown."""
    parts = parse_path(path)
    record = schema.root
    here: t.Type | None = None
    walked = ""
    for part in parts:
        if isinstance(part, int):
            if here is None or here.kind != "list":
                raise PathError(said("path_not_list", path=quote(walked)))
            here = here.inner
            walked += f"[{part}]"
            continue
        if here is not None:
            if here.kind == "table":
                here = here.inner
                walked += f".{part}"
                continue
            if here.kind != "record":
                raise PathError(said("path_no_fields", path=quote(walked)))
            record = schema.records[here.record]
        if part not in record.fields:
            where = quote(walked) if walked else said("the_snapshot")
            hint = closest(part, list(record.fields))
            if hint is not None:
                raise PathError(said("path_unknown_hint", name=quote(part), where=where, hint=quote(hint)))
            raise PathError(said("path_unknown", name=quote(part), where=where))
        here = record.fields[part].type
        walked += ("." if walked else "") + part
    return here


class PathChecker:
    """`type_at` for one schema, remembering the paths it has seen (a log names few)."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self._seen: dict[str, t.Type | Message] = {}

    def __call__(self, path: str) -> t.Type:
        got = self._seen.get(path)
        if got is None:
            try:
                got = type_at(self.schema, path)
            except PathError as error:
                got = error.message
            if len(self._seen) < 100_000:
                self._seen[path] = got
        if isinstance(got, Message):
            raise PathError(got)
        return got


def read_event(data: Any, paths: PathChecker, live: bool = False) -> Event:
    """An event from a parsed JSON line; Rejected (with paths into the event) if it is not one."""
    if not isinstance(data, dict):
        raise Rejected(None, [InputError("", said("event_not_object", kind=_kind(data)))])
    case_id = data.get("case_id")
    errors: list[InputError] = []
    unknown = [key for key in data if key not in KEYS]
    for key in unknown:
        hint = closest(key, list(KEYS))
        errors.append(InputError(key, said("event_unknown_key_hint", name=quote(hint)) if hint
                                 else said("event_unknown_key")))
    if not isinstance(case_id, str) or not case_id.strip():
        errors.append(InputError("case_id", said("event_case_id"), _shown(case_id)))
        case_id = None
    at = None
    if "at" in data or not live:
        try:
            at = moment(data.get("at"))
        except ValueError as error:
            errors.append(InputError("at", error.args[0], _shown(data.get("at"))))
    snapshot = data.get("snapshot")
    changes = data.get("set")
    if snapshot is None and changes is None:
        errors.append(InputError("", said("event_needs_change")))
    if snapshot is not None:
        if not isinstance(snapshot, dict):
            errors.append(InputError("snapshot", said("event_snapshot_not_object", kind=_kind(snapshot))))
        elif case_id is not None and snapshot.get("case_id", case_id) != case_id:
            errors.append(InputError("snapshot.case_id", said("event_other_case", case_id=quote(case_id, 80)),
                                     _shown(snapshot.get("case_id"))))
    pairs: list[tuple[str, Any]] = []
    if changes is not None:
        if not isinstance(changes, dict):
            errors.append(InputError("set", said("event_set_not_mapping", kind=_kind(changes))))
        else:
            for path, value in changes.items():
                try:
                    paths(path)
                except PathError as error:
                    errors.append(InputError(f"set.{path}", error.message))
                    continue
                if path == "case_id":
                    errors.append(InputError("set.case_id", said("event_case_id_fixed")))
                    continue
                pairs.append((path, value))
    if errors:
        raise Rejected(case_id, errors)
    return Event(case_id, at, snapshot, tuple(pairs))


def _kind(value: Any) -> Message:
    key = {list: "a_list", str: "text_kind", bool: "true_false", int: "a_number", float: "a_number",
           type(None): "null", dict: "a_mapping"}.get(type(value))
    return word(key) if key else Message(type(value).__name__, type(value).__name__)


def _shown(value: Any) -> Any:
    """A value as an error shows it (long text cut short)."""
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    if isinstance(value, (dict, list)):
        return str(_kind(value))
    return value
