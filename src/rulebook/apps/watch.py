"""watch: case events → alerts as each case's standing changes, on durable_rules.

The division of work:

- **The rulebook** decides every status: a case is judged by the same compiled rules as
  `rulebook check`, and `Evaluator.next_change` says from the rules themselves on which
  day the case could next change by time alone (a last day passing, a planned end
  coming, a parameter edition starting).
- **durable_rules** holds each case as a session (sid = case_id) and reacts. The
  session's state is the case's standing: the status of every result, the due date of
  each pending one, and the reminders already sent. Its facts are the case's
  `reminder`s (one per pending result whose reminder day, N days before its due date,
  is still to come), its `wake` day and its `clock`. Its rules: a `change` event re-judges the case; the clock reaching
  the wake day re-judges it; the clock reaching a reminder's day (and not past its due
  date) raises the reminder. The snapshots themselves, and their validated models, are
  kept beside the sessions by the watcher: they are inputs of the judging, not of the
  reacting, and keeping them in the sessions would mean encoding each as JSON twice
  per event.

Time is the events' `at` (replay) or the system clock (`live`: an event is then judged
when it arrives, and its `at`, if given, only labels its alerts). It only goes forward:
before an event is applied, every case whose wake or reminder day has come is brought
to that day, in day order, so an alert says the day the change happened. The sessions'
clocks are moved by the watcher, never by durable_rules' own (wall-clock) timers, and
the host's background threads are not started: every action runs inside the call that
caused it, and the same log gives the same alerts, byte for byte.

A durable_rules session costs about 125 KB and a ruleset holds at most 1,024 of them
(limits compiled into its engine). A case at rest — no wake day, no reminder to come —
has its session's state put away and the session deleted; its next event opens one
again. Live cases are spread over as many copies of the ruleset as needed.
"""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import io
import itertools
import os
import select
import stat
import time
from typing import Any, Callable

from durable import engine

from ..book import Rulebook
from ..engine.evaluate import NO_VALUE, EvaluationError
from ..input.events import Moment, PathChecker, read_event
from ..input.errors import InputError, Rejected
from ..input.messages import said
from ..input.snapshot import PathError, jsonable, parse_path, set_path, unset_path

ALERT_FORMAT = "rulebook.alert/v1"
# A session keeps its case's standing as one letter per rule for each subject ("." for none).
LETTER = {"pass": "p", "fail": "f", "pending": "w", "not_applicable": "n"}
STATUS_OF = {letter: status for status, letter in LETTER.items()}
# A session's state: the standing; the due date of each pending result that has one, as a day
# number ("rule|subject" → day); the due date each reminder already sent was for (the same).
STATE = ("standing", "due", "reminded")
SESSIONS_PER_RULESET = 1000
DAY = dt.timedelta(days=1)
_ids = itertools.count()


class _Host(engine.Host):
    """durable_rules' host without its dispatch threads: time comes from the watcher."""

    def _run(self) -> None:
        pass


def _definition(on_change, on_wake, on_remind) -> dict:
    """The watch ruleset, in durable_rules' JSON form (what its `ruleset` DSL produces)."""
    return {
        "change": {"all": [{"m": {"kind": "change"}}], "pri": 1, "run": on_change},
        "wake": {"all": [{"w": {"kind": "wake"}},
                         {"k": {"$and": [{"kind": "clock"}, {"$gte": {"day": {"w": "day"}}}]}}],
                 "pri": 2, "run": on_wake},
        "remind": {"all": [{"r": {"kind": "reminder"}},
                           {"k": {"$and": [{"kind": "clock"}, {"$gte": {"day": {"r": "day"}}},
                                           {"$lte": {"day": {"r": "due"}}}]}}],
                   "pri": 3, "run": on_remind},
    }


class Watcher:
    """Feeds case events to durable_rules sessions and returns the alerts they raise.

    `feed` takes one parsed event line; `advance` moves the clock (live). Both return
    a list of alerts (`rulebook.alert/v1`) and errors (`rulebook.error/v1`), in order.
    """

    def __init__(self, book: Rulebook, remind_days: int = 3, live: bool = False):
        if remind_days < 0:
            raise ValueError("remind_days must be 0 or more")
        self.book = book
        self.remind = dt.timedelta(days=remind_days)
        self.live = live
        self._evaluator = book._evaluator
        self._explainer = book._explainer
        self._host = _Host()
        self._prefix = f"rulebook-watch-{next(_ids)}"
        self._rulesets: list[str] = []
        self._session: dict[str, str] = {}  # case_id → the ruleset holding its session, while it is live
        self._resting: dict[str, dict] = {}  # case_id → the state of its session, put away
        self._live: dict[str, int] = {}  # ruleset → how many sessions it holds
        self._snapshots: dict[str, dict] = {}  # case_id → its snapshot as last accepted (JSON data)
        self._cases: dict[str, Any] = {}  # case_id → the same, validated
        self._facts: dict[str, dict] = {}  # case_id → the facts its session holds, to retract them
        self._clock: Moment | None = None
        self._queue: list = []  # (day, order, case_id): sessions to bring to a day
        self._scheduled: dict[str, dt.date] = {}
        self._order = itertools.count()
        self._out: list[dict] = []
        self._incoming = None
        self._failure: BaseException | None = None
        self._results: dict[str, tuple] = {}  # "rule|subject" → (rule index, subject)
        self._keys: dict[tuple, str] = {}  # the other way
        self._paths = PathChecker(book.schema)

    # ------------------------------------------------------------ the API
    def feed(self, data: Any, origin: str | None = None, line: int | None = None) -> list[dict]:
        """Apply one event (a parsed JSON line); the alerts and errors it gives."""
        out = self._out = []
        try:
            event = read_event(data, self._paths, self.live)
        except Rejected as rejected:
            return [self._error(rejected, origin, line)]
        case_id = event.case_id
        # Live, the case is judged now, and the event's own `at` (it may arrive late) is what its
        # alerts show; replaying, the event's `at` is the time.
        at = _now() if self.live else event.at
        label = event.at.text if event.at is not None else at.text
        if self._clock is not None and at.before(self._clock):
            return [self._error(Rejected(case_id, [InputError(
                "at", said("event_out_of_order", moment=self._clock.text), at.text)]), origin, line)]
        self._advance(at.day)
        if self._clock is None or self._clock.before(at) or self._clock.time is None:
            self._clock = at
        known = case_id in self._snapshots
        if not known and event.snapshot is None:
            out.append(self._error(Rejected(case_id, [InputError(
                "case_id", said("event_unknown_case"), case_id)]), origin, line))
            return out
        # Accepted snapshots are never changed in place: a new one shares all but the
        # mappings and lists on the paths it changes.
        snapshot = dict(event.snapshot if event.snapshot is not None else self._snapshots[case_id])
        snapshot["case_id"] = case_id
        snapshot["as_of"] = at.day.isoformat()
        problems = []
        for path, value in event.changes:
            try:
                _own_path(snapshot, path)
                if value is None:
                    unset_path(snapshot, path)
                else:
                    set_path(snapshot, path, value)
            except PathError as error:
                problems.append(InputError(f"set.{path}", error.message, None))
        if problems:
            out.append(self._error(Rejected(case_id, problems), origin, line))
            return out
        try:
            checked = self.book.validate(snapshot, origin, line)
            outcome = self._evaluator.evaluate(checked.case, at.day)
        except Rejected as rejected:
            out.append(self._error(rejected, origin, line))
            return out
        except EvaluationError as error:
            out.append(self._error(Rejected(case_id, [InputError(
                "", said("not_judged", reason=str(error), code=error.code))]), origin, line))
            return out
        ruleset = self._session.get(case_id) or self._open(case_id)
        self._snapshots[case_id] = snapshot
        self._cases[case_id] = checked.case
        self._incoming = (outcome, label)
        try:
            self._host.post(ruleset, {"sid": case_id, "kind": "change"})
        finally:
            self._incoming = None
        self._raise_failure()
        self._rest_if_idle(case_id)
        return out

    def advance(self, day: dt.date) -> list[dict]:
        """Move the clock to `day` (live): the alerts of the cases whose time has come."""
        out = self._out = []
        if self._clock is None or self._clock.day < day:
            self._advance(day)
            self._clock = Moment(day, None, day.isoformat())
        return out

    def standing(self, case_id: str) -> dict[tuple[str, str], str]:
        """The status of every (rule, subject) of a case, as its session holds it."""
        state = self._resting.get(case_id) or self._host.get_state(self._session[case_id], case_id)
        rules = self.book.plan.rules
        return {(rules[index].id, subject): STATUS_OF[letter]
                for subject, letters in state["standing"].items()
                for index, letter in enumerate(letters) if letter != "."}

    def snapshot(self, case_id: str) -> dict:
        """The case's snapshot as last accepted (a copy)."""
        return copy.deepcopy(self._snapshots[case_id])

    @property
    def cases(self) -> list[str]:
        return list(self._snapshots)

    @property
    def clock(self) -> Moment | None:
        return self._clock

    # ---------------------------------------------------------- sessions
    def _open(self, case_id: str) -> str:
        """A session for the case, with the state it had when it was put to rest, if it was."""
        ruleset = next((name for name in self._rulesets if self._live[name] < SESSIONS_PER_RULESET), None)
        if ruleset is None:
            ruleset = f"{self._prefix}-{len(self._rulesets)}"
            self._host.register_rulesets({ruleset: _definition(
                self._guarded(self._on_change), self._guarded(self._on_wake), self._guarded(self._on_remind))})
            self._rulesets.append(ruleset)
            self._live[ruleset] = 0
        self._live[ruleset] += 1
        self._session[case_id] = ruleset
        self._facts[case_id] = {"reminder": {}, "wake": None, "clock": None}
        state = self._resting.pop(case_id, None) or {key: {} for key in STATE}
        self._host.update_state(ruleset, {"sid": case_id, **state})
        return ruleset

    def _rest_if_idle(self, case_id: str) -> None:
        """Put the session away when nothing of it can come due (no wake day, no reminder): a
        durable_rules session costs about 125 KB, and most cases of a long watch are done. Its
        state is kept here; the case's next event opens a session again."""
        if case_id in self._scheduled or case_id not in self._session:
            return
        ruleset = self._session.pop(case_id)
        state = self._host.get_state(ruleset, case_id)
        self._resting[case_id] = {key: state[key] for key in STATE}
        self._host.delete_state(ruleset, case_id)
        self._live[ruleset] -= 1
        del self._facts[case_id]

    def _advance(self, day: dt.date) -> None:
        """Bring every session whose wake or reminder day is at most `day` to that day, in order."""
        queue, scheduled = self._queue, self._scheduled
        while queue and queue[0][0] <= day:
            when, _order, case_id = heapq.heappop(queue)
            if scheduled.get(case_id) != when:
                continue  # rescheduled since
            del scheduled[case_id]
            self._set_clock(case_id, when)
            self._raise_failure()
            self._rest_if_idle(case_id)

    def _set_clock(self, case_id: str, day: dt.date, closure=None) -> None:
        """Move a session's clock fact to `day` (durable_rules then fires what has come due)."""
        facts = self._facts[case_id]
        fact = {"sid": case_id, "kind": "clock", "day": day.toordinal()}
        ruleset = self._session[case_id]
        old = facts["clock"]
        if old is not None:
            if old["day"] == fact["day"]:
                return
            self._retract(ruleset, old, closure)
        facts["clock"] = fact
        self._assert(ruleset, fact, closure)

    def _assert(self, ruleset: str, fact: dict, closure) -> None:
        if closure is not None:
            closure.assert_fact(dict(fact))
        else:
            self._host.assert_fact(ruleset, dict(fact))

    def _retract(self, ruleset: str, fact: dict, closure) -> None:
        if closure is not None:
            closure.retract_fact(dict(fact))
        else:
            self._host.retract_fact(ruleset, dict(fact))

    # ----------------------------------------------------------- actions
    # durable_rules catches what an action raises and keeps it in the session's state;
    # `_guarded` hands it back so that a fault stops the watcher instead of losing state.
    def _guarded(self, action):
        def run(c) -> None:
            try:
                action(c)
            except BaseException as error:  # noqa: BLE001 - re-raised by _raise_failure
                self._failure = self._failure or error
        return run

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _on_change(self, c) -> None:
        outcome, label = self._incoming
        self._settle(c, outcome, label)

    def _on_wake(self, c) -> None:
        case_id = c.s.sid
        day = dt.date.fromordinal(c.k.day)
        try:
            outcome = self._evaluator.evaluate(self._cases[case_id], day)
        except EvaluationError as error:
            self._could_not(case_id, day.isoformat(), error)
            return
        self._settle(c, outcome, day.isoformat())

    def _on_remind(self, c) -> None:
        case_id = c.s.sid
        reminder = c.r._d
        day = dt.date.fromordinal(c.k.day)
        key = reminder["key"]
        self._facts[case_id]["reminder"].pop(key, None)
        c.retract_fact(dict(reminder))
        c.s.reminded = dict(c.s.reminded._d, **{key: reminder["due"]})
        index = self._results[key]
        try:
            outcome = self._evaluator.evaluate(self._cases[case_id], day)
            for result in outcome.results:
                if result[0] == index[0] and result[1] == index[1]:
                    status, message, fix, due = self._explainer.describe(outcome, result)
                    self._out.append(self._alert(case_id, day.isoformat(), "reminder", key.split("|", 1)[0],
                                                 result[1], status, status, message, fix, due))
                    break
        except EvaluationError as error:
            self._could_not(case_id, day.isoformat(), error)
        self._schedule(case_id, day)

    def _could_not(self, case_id: str, label: str, error: EvaluationError) -> None:
        """The error line of a case the rulebook could not judge or explain (a custom rulebook's
        parameter with no value in force, a division by zero…): the watch goes on."""
        self._out.append(self._error(Rejected(case_id, [InputError(
            "", said("not_judged_on", day=label, reason=str(error), code=error.code))])))

    def _settle(self, c, outcome, label: str) -> None:
        """Compare the case's new results with its standing: alerts for what changed, then
        its session's reminders, wake day and clock brought up to date."""
        case_id = c.s.sid
        rules = self.book.plan.rules
        before = c.s.standing._d  # subject → one letter per rule (see LETTER)
        due_before = c.s.due._d
        standing: dict[str, list] = {}
        deadlines = {}
        keys = self._keys
        empty = "." * len(rules)
        for result in outcome.results:
            rule = rules[result[0]]
            subject = result[1]
            key = keys.get((result[0], subject))
            if key is None:
                key = keys[(result[0], subject)] = f"{rule.id}|{subject}"
                self._results[key] = (result[0], subject)
            clause = rule.clauses[result[3]] if result[3] >= 0 else None
            # no clause: not in force (not applicable), or a parameter with no value (NO_VALUE: fail)
            status = clause.status if clause is not None else "fail" if result[3] == NO_VALUE else "not_applicable"
            letters = standing.get(subject)
            if letters is None:
                letters = standing[subject] = list(empty)
            letters[result[0]] = LETTER[status]
            was = STATUS_OF.get(before.get(subject, empty)[result[0]])
            # A requirement seen for the first time is news only when something is to be done.
            changed = was != status and not (was is None and status in ("pass", "not_applicable"))
            due_date = None
            try:
                if changed:
                    status, message, fix, due_date = self._explainer.describe(outcome, result)
                    self._out.append(self._alert(case_id, label, "change", rule.id, result[1],
                                                 was, status, message, fix, due_date))
                elif status == "pending" and clause.due is not None:
                    due_date = self._explainer.due(outcome, result)
                    if due_date is not None and due_before.get(key, due_date.toordinal()) != due_date.toordinal():
                        # Still pending, by another last day (its completion day corrected, say).
                        status, message, fix, due_date = self._explainer.describe(outcome, result)
                        self._out.append(self._alert(case_id, label, "due", rule.id, result[1],
                                                     was, status, message, fix, due_date))
            except EvaluationError as error:
                # The status stands; its explanation (or due date) could not be computed.
                self._could_not(case_id, label, error)
            if status == "pending" and due_date is not None:
                deadlines[key] = due_date.toordinal()
        c.s.standing = {subject: "".join(letters) for subject, letters in standing.items()}
        c.s.due = deadlines
        self._sync(c, case_id, outcome.as_of, deadlines, self._evaluator.next_change(outcome))

    def _sync(self, c, case_id: str, day: dt.date, deadlines: dict, wake: dt.date | None) -> None:
        """One reminder fact per deadline whose reminder day is still to come (and was not
        sent for that due date); the wake fact; the clock."""
        facts = self._facts[case_id]
        ruleset = self._session[case_id]
        sent = {key: due for key, due in c.s.reminded._d.items() if deadlines.get(key) == due}
        wanted = {}
        for key, due in deadlines.items():
            remind = due - self.remind.days
            if remind > day.toordinal() and sent.get(key) != due:
                wanted[key] = {"sid": case_id, "kind": "reminder", "key": key, "day": remind, "due": due}
        held = facts["reminder"]
        for key in [k for k in held if held[k] != wanted.get(k)]:
            self._retract(ruleset, held.pop(key), c)
        for key, fact in wanted.items():
            if key not in held:
                held[key] = fact
                self._assert(ruleset, fact, c)
        c.s.reminded = sent
        wake_fact = {"sid": case_id, "kind": "wake", "day": wake.toordinal()} if wake is not None else None
        if facts["wake"] != wake_fact:
            if facts["wake"] is not None:
                self._retract(ruleset, facts["wake"], c)
            if wake_fact is not None:
                self._assert(ruleset, wake_fact, c)
            facts["wake"] = wake_fact
        # The session's clock is left where it is: the reminders and the wake just asserted
        # lie after `day`, so they cannot have come due; the clock moves when they do.
        self._schedule(case_id, day)

    def _schedule(self, case_id: str, day: dt.date) -> None:
        """Queue the session for the next day something of it can come due."""
        facts = self._facts[case_id]
        days = [f["day"] for f in facts["reminder"].values()]
        if facts["wake"] is not None:
            days.append(facts["wake"]["day"])
        days = [d for d in days if d > day.toordinal()]
        if not days:
            self._scheduled.pop(case_id, None)
            return
        when = dt.date.fromordinal(min(days))
        if self._scheduled.get(case_id) != when:
            self._scheduled[case_id] = when
            heapq.heappush(self._queue, (when, next(self._order), case_id))

    # ------------------------------------------------------------ output
    def _alert(self, case_id, at, kind, rule, subject, was, status, message, fix, due) -> dict:
        return {"format": ALERT_FORMAT, "case_id": case_id, "at": at, "kind": kind, "rule": rule,
                "subject": subject, "from": was, "to": status, "message": message, "fix": fix,
                "due": due.isoformat() if due is not None else None}

    def _error(self, rejected: Rejected, origin: str | None = None, line: int | None = None) -> dict:
        rejected.origin = origin if origin is not None else rejected.origin
        rejected.line = line if line is not None else rejected.line
        out = rejected.to_dict()
        for error in out["errors"]:
            error["value"] = jsonable(error["value"])
        return out


def _own_path(root: dict, path: str) -> None:
    """Replace the mappings and lists along `path` (below `root`) by copies, so that setting
    the path changes no other snapshot sharing them."""
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


def _now() -> Moment:
    now = dt.datetime.now().astimezone().replace(microsecond=0)
    return Moment(now.date(), now.time(), now.isoformat())


class FollowedStream(io.RawIOBase):
    """A file or pipe read as it grows, like `tail -f`: at its end, wait for more.

    While it waits it calls `idle` every `interval` seconds (the live clock ticks
    there). A pipe ends when its writer closes it; a file never ends."""

    def __init__(self, fd: int, idle: Callable[[], None] = lambda: None, interval: float = 0.5):
        super().__init__()
        self.fd = fd
        self.idle = idle
        self.interval = interval
        self.pipe = not stat.S_ISREG(os.fstat(fd).st_mode)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            ready, _, _ = select.select([self.fd], [], [], self.interval)
            if ready:
                data = os.read(self.fd, len(buffer))
                if data:
                    buffer[: len(data)] = data
                    return len(data)
                if self.pipe:
                    return 0
                time.sleep(self.interval)
            self.idle()


def follow(fd: int, idle: Callable[[], None] = lambda: None, interval: float = 0.5) -> FollowedStream:
    """The stream to give `documents.load_stream`; unbuffered, as a buffer would wait to be
    filled: every read returns what has come."""
    return FollowedStream(fd, idle, interval)


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
