"""sessions: durable_rules behind a small interface — open a session, post an event, assert and
retract facts, close it.

Everything the watcher needs of durable_rules goes through here: its host and ruleset, its
JSON form of rules, the `Closure` its actions receive (shown to them as a `Session`), how it
reports what an action raised, and the wall-clock lease it puts on each action.

Actions run inside the call that caused them (`post`, `assert_fact`), one after the other in
the rules' priority order; what one raises is raised again by that call once durable_rules is
done. durable_rules gives an action 10 seconds of wall-clock time: when one takes longer (the
process was stopped or starved, say), it drops what the action left to do in its session and
starts no further action there. The call then returns False, and the caller, whose own
records the actions keep up to date, closes the session and opens it again.
"""

from __future__ import annotations

import itertools
from typing import Callable, Iterable

from durable import engine

_names = itertools.count()


class _Host(engine.Host):
    """durable_rules' host without its dispatch threads.

    `Host.__init__` always calls `_run`, which starts two threads that poll every ruleset, a
    few times a second, for queued actions and wall-clock timers; durable_rules has no public
    way to leave them out. The watcher moves time itself and needs every action to run inside
    the call that caused it, so `_run` starts nothing (the one private method overridden)."""

    def _run(self) -> None:
        pass


class Session:
    """What an action sees of the session it runs in: its state, the facts that matched, and
    how to assert or retract facts."""

    __slots__ = ("_closure",)

    def __init__(self, closure) -> None:
        self._closure = closure

    @property
    def sid(self) -> str:
        return self._closure.s["sid"]

    def get(self, key: str) -> dict:
        """A mapping of the session's state (empty if it has none)."""
        value = self._closure.s[key]
        return dict(value.items()) if value is not None else {}

    def set(self, key: str, value: dict) -> None:
        self._closure.s[key] = value

    def matched(self, name: str) -> dict:
        """The fact bound to `name` in the rule that fired."""
        return dict(getattr(self._closure, name).items())

    def assert_fact(self, fact: dict) -> None:
        self._closure.assert_fact(dict(fact))

    def retract_fact(self, fact: dict) -> None:
        self._closure.retract_fact(dict(fact))


Rule = tuple[list, int, Callable[[Session], None]]  # conditions (durable_rules' JSON form), priority, action


class Sessions:
    """One durable_rules ruleset, and the sessions open in it (sid = case_id)."""

    def __init__(self, rules: dict[str, Rule]) -> None:
        self._host = _Host()
        self._name = f"rulebook-watch-{next(_names)}"
        self._failure: BaseException | None = None
        self._host.register_rulesets({self._name: {
            name: {"all": conditions, "pri": priority, "run": self._guarded(action)}
            for name, (conditions, priority, action) in rules.items()}})

    def open(self, sid: str, state: dict, facts: Iterable[dict] = ()) -> None:
        """A session holding `state` and `facts` (which must not fire a rule yet)."""
        self._host.update_state(self._name, {"sid": sid, **state})
        facts = [dict(fact, sid=sid) for fact in facts]
        if facts:
            self._call(self._host.assert_facts, facts)

    def post(self, sid: str, event: dict) -> bool:
        """Post an event; False if durable_rules dropped an action's end (see the module)."""
        return self._call(self._host.post, dict(event, sid=sid))

    def assert_fact(self, sid: str, fact: dict) -> bool:
        return self._call(self._host.assert_fact, dict(fact, sid=sid))

    def retract_fact(self, sid: str, fact: dict) -> bool:
        return self._call(self._host.retract_fact, dict(fact, sid=sid))

    def state(self, sid: str) -> dict:
        return self._host.get_state(self._name, sid)

    def close(self, sid: str) -> None:
        self._host.delete_state(self._name, sid)

    def _call(self, method, message) -> bool:
        outcome: list = []
        method(self._name, message, lambda error, _state: outcome.append(error))
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        if outcome and outcome[0] is not None:
            raise outcome[0] if isinstance(outcome[0], BaseException) else RuntimeError(str(outcome[0]))
        return bool(outcome)

    def _guarded(self, action: Callable[[Session], None]):
        """durable_rules catches what an action raises and keeps it in the session's state; this
        keeps it for `_call` to raise, so that a fault stops the watcher instead of losing state."""
        def run(closure) -> None:
            try:
                action(Session(closure))
            except BaseException as error:  # noqa: BLE001 - raised again by _call
                self._failure = self._failure or error
        return run
