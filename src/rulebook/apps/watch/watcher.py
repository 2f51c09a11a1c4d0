"""watcher: case events → alerts as each case's standing changes, on durable_rules.

The division of work:

- **The rulebook** decides every status: a case is judged by the same compiled rules as
  `rulebook check`, and `Rulebook.next_change` says from the rules themselves on which day
  the case could next change by time alone (a last day passing, a planned end coming, a
  parameter edition starting). `alerts.compare` turns the old standing and the new results
  into alerts.
- **durable_rules** reacts (`sessions`): a case's session (sid = case_id) holds its standing
  as the session's state; when time moves, it holds as facts the case's `reminder`s (one per
  pending result whose reminder day, N days before its due date, is still to come), its
  `wake` day and its `clock`. Its rules: a `change` event re-judges the case; the clock
  reaching the wake day re-judges it; the clock reaching a reminder's day (and not past its
  due date) raises the reminder.
- **The watcher** keeps every case between its moments as plain data (`Case`: its snapshot
  as JSON text, its standing, its reminders and wake day) and the day each is next due
  (`wakes`). A session lives only while its case is handled: opened from that data for an
  event or a wake day, closed when durable_rules is done. Memory grows by a few kilobytes a
  case (a session costs about 130 KB, and before, every case with a day to come kept one),
  and a case costs the same to handle whether the watch holds a hundred cases or a hundred
  thousand: the garbage collector, which walks every object a program keeps, finds a few
  per case instead of dozens.

Time is the events' `at` (replay) or the clock (`live`: an event is then judged when it
arrives, and its `at`, if given, only labels its alerts). It only goes forward: before an
event is applied, every case whose wake or reminder day has come is brought to that day, in
day order, so an alert says the day the change happened. The sessions' clocks are moved by
the watcher, never by durable_rules' own (wall-clock) timers, and the host's background
threads are not started: every action runs inside the call that caused it, and the same log
gives the same alerts, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import orjson

from ...book import Rulebook
from ...engine.evaluate import EvaluationError
from ...input.events import Moment, PathChecker, read_event
from ...input.errors import InputError, Rejected
from ...input.messages import said
from ...input.snapshot import PathError, parse_path, set_path, snapshot_json, unset_path
from .alerts import ALERT_FORMAT, compare, could_not, error_line, remind, statuses
from .sessions import Session, Sessions
from .wakes import Wakes

# How many times a handling is started again after durable_rules dropped an action's end.
RETRIES = 3


class Case:
    """A case between its moments, as plain data: its snapshot as last accepted (JSON text),
    its standing (see `alerts`), the due date each reminder already sent was for, and the
    facts its session holds (reminders in the order they were asserted, and its wake day)."""

    __slots__ = ("snapshot", "standing", "due", "reminded", "reminders", "wake")

    def __init__(self, snapshot: bytes) -> None:
        self.snapshot = snapshot
        self.standing: dict[str, str] = {}
        self.due: dict[str, int] = {}
        self.reminded: dict[str, int] = {}
        self.reminders: dict[str, dict] = {}
        self.wake: dict | None = None

    def state(self) -> dict:
        return {"standing": self.standing, "due": self.due, "reminded": self.reminded}

    def facts(self) -> list[dict]:
        held = list(self.reminders.values())
        return held + [self.wake] if self.wake is not None else held


def system_clock() -> dt.datetime:
    """Now, on this machine's clock, in its time zone, to the second."""
    return dt.datetime.now().astimezone().replace(microsecond=0)


class Watcher:
    """Feeds case events to durable_rules sessions and returns the alerts they raise.

    `feed` takes one parsed event line; `advance` moves the clock (live). Both return
    a list of alerts (`rulebook.alert/v1`) and errors (`rulebook.error/v1`), in order.
    `now` gives the time when watching live (the system clock unless given).
    """

    def __init__(self, book: Rulebook, remind_days: int = 3, live: bool = False,
                 now: Callable[[], dt.datetime] | None = None):
        if remind_days < 0:
            raise ValueError("remind_days must be 0 or more")
        self.book = book
        self.remind = dt.timedelta(days=remind_days)
        self.live = live
        self._now = now or system_clock
        self._sessions = Sessions({
            "change": ([{"m": {"kind": "change"}}], 1, self._on_change),
            "wake": ([{"w": {"kind": "wake"}},
                      {"k": {"$and": [{"kind": "clock"}, {"$gte": {"day": {"w": "day"}}}]}}], 2, self._on_wake),
            "remind": ([{"r": {"kind": "reminder"}},
                        {"k": {"$and": [{"kind": "clock"}, {"$gte": {"day": {"r": "day"}}},
                                        {"$lte": {"day": {"r": "due"}}}]}}], 3, self._on_remind),
        })
        self._cases: dict[str, Case] = {}
        self._wakes = Wakes()
        self._clock: Moment | None = None
        self._out: list[dict] = []
        self._incoming = None  # (outcome, label) of the event being handled
        self._model: tuple[str, Any] | None = None  # (case_id, validated snapshot) of the case being handled
        self._open = 0
        self._facts_held = False  # whether the open session holds the case's reminders and wake day
        self._paths = PathChecker(book.schema)

    # ------------------------------------------------------------ the API
    def feed(self, data: Any, origin: str | None = None, line: int | None = None) -> list[dict]:
        """Apply one event (a parsed JSON line); the alerts and errors it gives."""
        out = self._out = []
        try:
            event = read_event(data, self._paths, self.live)
        except Rejected as rejected:
            return [error_line(rejected, origin, line)]
        case_id = event.case_id
        # Live, the case is judged now, and the event's own `at` (it may arrive late) is what its
        # alerts show; replaying, the event's `at` is the time.
        at = self.now() if self.live else event.at
        label = event.at.text if event.at is not None else at.text
        if self._clock is not None and at.before(self._clock):
            return [error_line(Rejected(case_id, [InputError(
                "at", said("event_out_of_order", moment=self._clock.text), at.text)]), origin, line)]
        self._advance(at.day)
        if self._clock is None or self._clock.before(at) or self._clock.time is None:
            self._clock = at
        case = self._cases.get(case_id)
        if case is None and event.snapshot is None:
            out.append(error_line(Rejected(case_id, [InputError(
                "case_id", said("event_unknown_case"), case_id)]), origin, line))
            return out
        if event.snapshot is not None:
            snapshot = dict(event.snapshot)
            shared = True  # the event's own data, not to be changed in place
        else:
            snapshot = orjson.loads(case.snapshot)
            shared = False
        snapshot["case_id"] = case_id
        snapshot["as_of"] = at.day.isoformat()
        problems = []
        for path, value in event.changes:
            try:
                if shared:
                    _own_path(snapshot, path)
                if value is None:
                    unset_path(snapshot, path)
                else:
                    set_path(snapshot, path, value)
            except PathError as error:
                problems.append(InputError(f"set.{path}", error.message, None))
        if problems:
            out.append(error_line(Rejected(case_id, problems), origin, line))
            return out
        try:
            checked = self.book.validate(snapshot, origin, line)
            outcome = self.book.evaluate(checked.case, at.day)
        except Rejected as rejected:
            out.append(error_line(rejected, origin, line))
            return out
        except EvaluationError as error:
            out.append(error_line(Rejected(case_id, [InputError(
                "", said("not_judged", reason=str(error), code=error.code))]), origin, line))
            return out
        # Kept as JSON text, copied to its own size (orjson's bytes keep the room of its buffer,
        # about four times the text).
        text = bytes(memoryview(snapshot_json(snapshot)))
        if case is None:
            case = self._cases[case_id] = Case(text)
        case.snapshot = text
        self._model = (case_id, checked.case)
        self._incoming = (outcome, label)
        try:
            self._handle(case_id, case, lambda: self._sessions.post(case_id, {"kind": "change"}), facts=False)
        finally:
            self._incoming = self._model = None
        return out

    def advance(self, day: dt.date) -> list[dict]:
        """Move the clock to `day` (live): the alerts of the cases whose time has come."""
        out = self._out = []
        if self._clock is None or self._clock.day < day:
            self._advance(day)
            self._clock = Moment(day, None, day.isoformat())
        return out

    def now(self) -> Moment:
        """The live clock's moment."""
        now = self._now()
        return Moment(now.date(), now.time(), now.isoformat())

    def standing(self, case_id: str) -> dict[tuple[str, str], str]:
        """The status of every (rule, subject) of a case, as the watch holds it."""
        return statuses(self.book, self._cases[case_id].standing)

    def snapshot(self, case_id: str) -> dict:
        """The case's snapshot as last accepted (JSON data, a copy)."""
        return orjson.loads(self._cases[case_id].snapshot)

    @property
    def cases(self) -> list[str]:
        return list(self._cases)

    @property
    def clock(self) -> Moment | None:
        return self._clock

    @property
    def open_sessions(self) -> int:
        """How many durable_rules sessions are open (0 between calls)."""
        return self._open

    # ---------------------------------------------------------- handling
    def _handle(self, case_id: str, case: Case, trigger: Callable[[], bool], facts: bool) -> None:
        """Open the case's session from its plain data, pull the trigger (post an event, move
        the clock), close it. The session holds the case's reminders and wake day as facts
        when the clock moves (`facts`); an event fires on itself alone, and its actions then
        keep the facts in `case` only. Actions keep `case` up to date as they run, so when
        durable_rules dropped an action's end (see `sessions`) the handling starts again from
        `case`: what the actions did stays done, and what they had left to do is done then."""
        for _attempt in range(RETRIES + 1):
            self._sessions.open(case_id, case.state(), case.facts() if facts else ())
            self._open += 1
            self._facts_held = facts
            try:
                if trigger():
                    return
            finally:
                self._sessions.close(case_id)
                self._open -= 1
        raise RuntimeError(f"durable_rules did not finish the actions of case `{case_id}` "
                           f"after {RETRIES + 1} tries")

    def _advance(self, day: dt.date) -> None:
        """Bring every case whose wake or reminder day is at most `day` to that day, in order."""
        for when, case_id in self._wakes.due(day):
            case = self._cases[case_id]
            clock = {"kind": "clock", "day": when.toordinal()}
            try:
                self._handle(case_id, case, lambda: self._sessions.assert_fact(case_id, clock), facts=True)
            finally:
                self._model = None

    def _validated(self, case_id: str):
        """The validated snapshot of the case being handled (validated again from its text for a
        wake or a reminder: the watch keeps no models between moments)."""
        if self._model is None or self._model[0] != case_id:
            self._model = (case_id, self.book.validate(self._cases[case_id].snapshot).case)
        return self._model[1]

    # ----------------------------------------------------------- actions
    def _on_change(self, session: Session) -> None:
        outcome, label = self._incoming
        self._settle(session, outcome, label)

    def _on_wake(self, session: Session) -> None:
        case_id = session.sid
        day = dt.date.fromordinal(session.matched("k")["day"])
        try:
            outcome = self.book.evaluate(self._validated(case_id), day)
        except EvaluationError as error:
            self._out.append(could_not(case_id, day.isoformat(), error))
            return
        # A reminder whose day is the wake's is said first: judging the case again brings its
        # reminders up to date from that day on, and would drop it unsaid.
        case = self._cases[case_id]
        for key, fact in list(case.reminders.items()):
            if fact["day"] <= session.matched("k")["day"] <= fact["due"]:
                self._out.extend(remind(self.book, case_id, outcome, key))
                case.reminded = dict(case.reminded, **{key: fact["due"]})
        session.set("reminded", case.reminded)
        self._settle(session, outcome, day.isoformat())

    def _on_remind(self, session: Session) -> None:
        case_id = session.sid
        case = self._cases[case_id]
        reminder = session.matched("r")
        day = dt.date.fromordinal(session.matched("k")["day"])
        key = reminder["key"]
        case.reminders.pop(key, None)
        session.retract_fact(reminder)  # (a reminder fires only when the session holds the facts)
        case.reminded = dict(case.reminded, **{key: reminder["due"]})
        session.set("reminded", case.reminded)
        try:
            outcome = self.book.evaluate(self._validated(case_id), day)
        except EvaluationError as error:
            self._out.append(could_not(case_id, day.isoformat(), error))
        else:
            self._out.extend(remind(self.book, case_id, outcome, key))
        self._schedule(case_id, case, day)

    def _settle(self, session: Session, outcome, label: str) -> None:
        """The case's new results against its standing: the alerts, then its standing, its
        reminders and its wake day brought up to date."""
        case_id = session.sid
        case = self._cases[case_id]
        comparison = compare(self.book, case_id, outcome, label, case.standing, case.due)
        self._out.extend(comparison.items)
        case.standing, case.due = comparison.standing, comparison.deadlines
        session.set("standing", case.standing)
        session.set("due", case.due)
        self._sync(session, case, outcome.as_of, comparison.deadlines, self.book.next_change(outcome))

    def _sync(self, session: Session, case: Case, day: dt.date, deadlines: dict, wake: dt.date | None) -> None:
        """One reminder fact per deadline whose reminder day is still to come (and was not
        sent for that due date); the wake fact."""
        case_id = session.sid
        sent = {key: due for key, due in case.reminded.items() if deadlines.get(key) == due}
        wanted = {}
        for key, due in deadlines.items():
            remind_on = due - self.remind.days
            if remind_on > day.toordinal() and sent.get(key) != due:
                wanted[key] = {"sid": case_id, "kind": "reminder", "key": key, "day": remind_on, "due": due}
        held, in_session = case.reminders, self._facts_held
        for key in [k for k in held if held[k] != wanted.get(k)]:
            fact = held.pop(key)
            if in_session:
                session.retract_fact(fact)
        for key, fact in wanted.items():
            if key not in held:
                held[key] = fact
                if in_session:
                    session.assert_fact(fact)
        case.reminded = sent
        session.set("reminded", sent)
        wake_fact = {"sid": case_id, "kind": "wake", "day": wake.toordinal()} if wake is not None else None
        if case.wake != wake_fact:
            if in_session and case.wake is not None:
                session.retract_fact(case.wake)
            if in_session and wake_fact is not None:
                session.assert_fact(wake_fact)
            case.wake = wake_fact
        # The session's clock is left where it is: the reminders and the wake just asserted
        # lie after `day`, so they cannot have come due; the clock moves when they do.
        self._schedule(case_id, case, day)

    def _schedule(self, case_id: str, case: Case, day: dt.date) -> None:
        """Wake the case on the next day something of it can come due."""
        days = [fact["day"] for fact in case.reminders.values()]
        if case.wake is not None:
            days.append(case.wake["day"])
        days = [d for d in days if d > day.toordinal()]
        self._wakes.schedule(case_id, dt.date.fromordinal(min(days)) if days else None)


def _own_path(root: dict, path: str) -> None:
    """Replace the mappings and lists along `path` (below `root`) by copies, so that setting
    the path changes nothing the event's caller holds."""
    target = root
    for part in parse_path(path)[:-1]:
        try:
            inner = target[part]
        except (KeyError, IndexError, TypeError):
            return
        if isinstance(inner, dict):
            inner = dict(inner)
        elif isinstance(inner, list):
            inner = list(inner)
        else:
            return
        target[part] = inner
        target = inner


def run(watcher: Watcher, documents, emit: Callable[[dict], None]) -> tuple[int, int]:
    """Feed parsed documents (from `documents.load_stream`) to a watcher, emitting what it
    raises; (alerts, errors)."""
    alerts = errors = 0
    for document in documents:
        if document.ok:
            got = watcher.feed(document.data, document.location.origin, document.location.line)
        else:
            got = [document.refusal()]
        for item in got:
            if item["format"] == ALERT_FORMAT:
                alerts += 1
            else:
                errors += 1
            emit(item)
    return alerts, errors
