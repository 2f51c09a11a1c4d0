"""compact: an outcome → its compact verdict as one line of JSON, for batches — the same bytes as
`dumps(Explainer.explain(outcome, compact=True, raw=True))`, from code generated per plan.

The plan knows every rule's fact slots, their keys, their kinds and the statuses of its
clauses, so one function per rule, generated (`codegen`), turns a result tuple into its
compact entry: a record of the rule's own class of facts (a msgspec Struct whose fields are
the slots, renamed to their keys — a step rule's, with the step's index, made once per index
—, an unset slot left out by msgspec as the field's default), the status read from the
clause's number, a failure added to the case's list, and the result counted in a tally of
(rule, clause) — a flat list of counts that a batch adds up once per chunk, not once per
result. A per-plan function builds the verdict around the entries: counts, verdict, payout;
msgspec writes the line, the entries' records as they are, in C.

What msgspec writes as `dumps` does — texts, dates, booleans, whole numbers, lists of them,
the batch decoder's plain records (their decimals as the model reads them, whose text is
what `dumps` writes: `input.structs`) — goes as it is; a slot's kind says what may not: a
number through a table of the numbers seen (a decimal as `dumps` writes it, equal numbers
written alike), a parameter's rows and tables written once by `dumps` and kept by their id,
anything else (the model's records, a kind without a short cut) written by `dumps`.

Nothing here is a list of rule ids: they all come from the plan.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from types import MappingProxyType

import msgspec

from ..engine import codegen as cg
from ..engine.evaluate import CLAUSE, FACTS, NO_VALUE, NOT_IN_FORCE, RULE, STEP, SUBJECT, Evaluation
from ..engine.plan import Plan
from ..engine.runtime import UNSET
from ..input.structs import plain_record
from ..language.value import Row
from .explain import STATUSES, VERDICT_FORMAT, _fact, dumps, rulebook_info


class Entry(msgspec.Struct, gc=False):
    """A result's compact entry, as msgspec writes it."""

    rule: str
    subject: str
    status: str
    facts: object


def _facts_class(rule_index: int, step: int | None, keys: list[str]) -> type:
    """The class of a rule's facts (of one step index): a field per slot, written under its
    key, left out while it holds UNSET."""
    name = f"facts_{rule_index}" if step is None else f"facts_{rule_index}_{step}"
    return msgspec.defstruct(name, [(f"f{i}", object, UNSET) for i in range(len(keys))],
                             rename={f"f{i}": key for i, key in enumerate(keys)}, omit_defaults=True, gc=False)


class _Counts(msgspec.Struct, gc=False):
    """A verdict's counts of its results by status, as msgspec writes them."""

    pass_: int = msgspec.field(name="pass")
    fail: int
    pending: int
    not_applicable: int


class _Verdict(msgspec.Struct, gc=False):
    """A compact verdict, as msgspec writes it (its keys in the order `Explainer.explain` gives
    them; the warnings only where there are some: UNSET is left out)."""

    format: str
    case_id: object
    as_of: object
    rulebook: object
    verdict: str
    counts: _Counts
    results: list
    payout: object
    warnings: object = msgspec.UNSET
    warning_messages: object = msgspec.UNSET


class _StepFacts(dict):
    """One step rule's classes of facts by step index (`steps[3].hours`), each made the first
    time it is asked for."""

    def __init__(self, rule_index: int, facts, steps_field: str):
        super().__init__()
        self.rule_index, self.facts, self.steps_field = rule_index, facts, steps_field

    def __missing__(self, step):
        prefix = f"{self.steps_field}[{step}]" if step is not None else self.steps_field
        keys = [prefix + key[6:] if key[0] == "{" else key for key, _kind in self.facts]
        made = self[step] = _facts_class(self.rule_index, step, keys)
        return made

    def __repr__(self) -> str:  # one constant per rule in the generated module
        return f"_StepFacts({self.rule_index})"


class CompactWriter:
    """Writes the compact verdicts of one plan's outcomes (see the module's docstring)."""

    def __init__(self, plan: Plan, digest: str, explainer=None):
        self.plan = plan
        self.info = rulebook_info(plan, digest)
        self._info = msgspec.Raw(dumps(self.info))  # the same for every line: written once
        self.explainer = explainer  # writes what this writer does not know (see `line`)
        steps_field = plan.steps_field or "steps"
        # The tally's slots, by rule and clause: rule i's result decided by clause k counts in
        # slot base_i + k; then one slot per status (STATUSES' order: a parameter with no value
        # counts in its "fail", a rule not in force in its "not_applicable", and what is taken
        # back or counted from the explainer's verdict in its own status's). `counts` adds the
        # slots up by (rule, status).
        self.slots: list[tuple[str, str]] = []
        self._base: list[int] = []
        self._slot_of: dict[tuple[str, str], int] = {}
        for rule in plan.rules:
            self._base.append(len(self.slots))
            self.slots += [(rule.id, clause.status) for clause in rule.clauses]
            for status in STATUSES:
                self._slot_of[rule.id, status] = len(self.slots)
                self.slots.append((rule.id, status))
        self._entries = self._generate(steps_field)
        self._steps = self._generate_steps()

    def tally(self) -> list[int]:
        """A new tally: one count per rule and status."""
        return [0] * len(self.slots)

    def take_back(self, tally: list[int], entries) -> None:
        """Uncount from `tally` the compact entries of a case ({"rule": id, "status": …} each)."""
        slots = self._slot_of
        for entry in entries:
            tally[slots[entry["rule"], entry["status"]]] -= 1

    def counts(self, tally: list[int]) -> Counter:
        """A tally as counts per (rule id, status)."""
        counted: Counter = Counter()
        slots = self.slots
        for slot, n in enumerate(tally):
            if n:
                counted[slots[slot]] += n
        return Counter({key: n for key, n in counted.items() if n})

    def _generate(self, steps_field: str):
        """The entry builders: one generated function per rule, (result, tally, failed) → the
        result's `Entry`, or None (and None added to `failed`) for a result it does not know (a
        clause number below "no value": a newer engine's), which sends the case to the explainer."""
        module = cg.Module()
        names = []
        code = {status: i for i, status in enumerate(STATUSES)}
        entry_class = module.constant(Entry)
        for rule in self.plan.rules:
            base = self._base[rule.index]
            after = base + len(rule.clauses)  # the rule's slot of each status (STATUSES' order)
            statuses = tuple(clause.status for clause in rule.clauses)
            r, k = cg.name("r"), cg.name("k")
            subject = cg.item(r, SUBJECT)

            def count(slot):
                return cg.add_one("tally", slot)

            def entry(status, facts):
                return cg.call(entry_class, cg.literal(rule.id), subject, status, facts)

            body = [cg.assign("k", cg.item(r, CLAUSE))]
            # not in force: counted, and no facts (the slots hold the day it was judged on); a
            # parameter with no value: a failure, its facts the parameter and the day it was read on
            no_value = cg.dict_of([(cg.literal("parameter"), cg.item(r, FACTS)),
                                   (cg.literal("day"), cg.item(r, FACTS + 1))])
            body.append(cg.if_(cg.compare(k, "<", cg.literal(0)), [
                cg.if_(cg.compare(k, "==", cg.literal(NO_VALUE)), [
                    count(cg.literal(after + code["fail"])),
                    cg.do(cg.method(cg.name("failed"), "append", cg.binary(cg.literal(rule.id + "@"), "+", subject))),
                    cg.return_(entry(cg.literal("fail"), no_value))]),
                cg.if_(cg.compare(k, "!=", cg.literal(NOT_IN_FORCE)), [  # unknown: said in the failures
                    cg.do(cg.method(cg.name("failed"), "append", cg.literal(None))), cg.return_(cg.literal(None))]),
                count(cg.literal(after + code["not_applicable"])),
                cg.return_(entry(cg.literal("not_applicable"), cg.dict_of(())))]))
            stepped = any(key[0] == "{" for key, _kind in rule.facts)
            if stepped:  # the facts' class of this step: made once per step index
                facts_class = cg.item(module.constant(_StepFacts(rule.index, rule.facts, steps_field)),
                                      cg.item(r, STEP))
            else:
                facts_class = module.constant(_facts_class(rule.index, None, [key for key, _ in rule.facts]))
            args = []
            for slot, (key, kind) in enumerate(rule.facts):
                value = cg.item(r, FACTS + slot)
                if kind in _NUMBERS_KINDS:  # one look-up in C
                    args.append(cg.item(module.constant(_NUMBERS), value))
                    continue
                convert = _converter(kind)
                # (an unset slot, the most frequent value of these kinds, without the call)
                args.append(value if convert is None else
                            cg.if_else(cg.compare(value, "is", cg.name("_U")), value,
                                       cg.call(module.constant(convert), value)))
            body.append(cg.assign("f", cg.call(facts_class, *args)))  # (first: a value it cannot take counts nothing)
            body.append(count(cg.binary(k, "+", cg.literal(base)) if base else k))
            failing = [i for i, status in enumerate(statuses) if status == "fail"]
            if failing:
                test = cg.compare(k, "==", cg.literal(failing[0])) if len(failing) == 1 else \
                    cg.compare(k, "in", module.constant(frozenset(failing)))
                body.append(cg.if_(test, [cg.do(cg.method(cg.name("failed"), "append", cg.binary(
                    cg.literal(rule.id + "@"), "+", subject)))]))
            body.append(cg.return_(entry(cg.item(module.constant(statuses), k), cg.name("f"))))
            name = f"entry_{rule.index}"
            module.add(cg.function(name, ["r", "tally", "failed"], body))
            names.append(name)
        functions = module.run(label="compact entries")
        return tuple(functions[name] for name in names)

    def _generate_steps(self):
        """The payout's steps, generated: (steps, their amounts) → [{"step": number, amount: …}]."""
        plan = self.plan
        module = cg.Module()
        amounts = cg.name("a")
        entry = [(cg.literal("step"), cg.field(cg.item(cg.name("steps"), cg.name("i")), plan.steps_number))] \
            if plan.steps_number else []
        entry += [(cg.literal(name), cg.item(amounts, i)) for i, name in enumerate(plan.step_amounts)]
        body = [cg.assign("out", cg.list_of()),
                cg.for_(["i", "a"], cg.call("enumerate", cg.name("amounts")),
                        [cg.do(cg.method(cg.name("out"), "append", cg.dict_of(entry)))]),
                cg.return_(cg.name("out"))]
        module.add(cg.function("steps_of", ["steps", "amounts"], body))
        return module.run(self.plan.fields, label="compact payout")["steps_of"]

    def line(self, outcome: Evaluation, warnings=(), tally: list[int] | None = None):
        """(the JSON line without its line break, verdict, failed results as "rule@subject",
        payout mapping) of one outcome; each result counted into `tally` (see `tally`)."""
        if tally is None:
            tally = self.tally()
        entries = self._entries
        failed: list[str] = []
        try:
            results = [entries[r[RULE]](r, tally, failed) for r in outcome.results]
        except TypeError:  # a fact no number can be (an unhashable value, a signalling NaN)
            return self._explained(outcome, warnings, tally, self._counted(outcome))
        if None in failed or getattr(outcome, "unpriced", None):  # (a result unknown: None among the failures)
            return self._explained(outcome, warnings, tally, results)
        states = [entry.status for entry in results]  # (an attrgetter on a Struct is twice as slow)
        fail, pending, not_applicable = len(failed), states.count("pending"), states.count("not_applicable")
        # (every failure is in `failed`, once)
        counts = _Counts(len(states) - fail - pending - not_applicable, fail, pending, not_applicable)
        verdict = "ineligible" if fail else "incomplete" if pending else "eligible"
        # The amounts as they are: whole yen, ints (anything else as the verdict's mapping has it,
        # written as `dumps` writes it).
        payout = dict(outcome.payout)
        written = payout
        if not _whole(payout.values()):
            payout = {name: _fact(value) for name, value in payout.items()}
            written = {name: _as_written(value) for name, value in payout.items()}
        steps = self._steps(outcome.steps, outcome.step_amounts)
        for amounts in outcome.step_amounts:
            if not _whole(amounts):
                steps = [{name: _fact(value) for name, value in step.items()} for step in steps]
                written = dict(written, steps=[{name: _as_written(value) for name, value in step.items()}
                                               for step in steps])
                break
        payout["steps"] = steps
        if written is not payout and "steps" not in written:
            written["steps"] = steps
        out = _Verdict(VERDICT_FORMAT, outcome.case.case_id, outcome.as_of, self._info, verdict, counts, results,
                       written)
        if warnings:
            out.warnings = [str(w) for w in warnings]
            out.warning_messages = [{"ja": getattr(w, "ja", str(w)), "en": str(w)} for w in warnings]
        try:
            return _ENCODE(out), verdict, failed, payout
        except TypeError:  # a value msgspec does not write (a case of another kind): the explainer's line
            return self._explained(outcome, warnings, tally, results)

    def _counted(self, outcome: Evaluation) -> list:
        """The entries of `outcome` that were counted before one could not be made (made again,
        counted in a tally of their own: the same ones)."""
        entries, made = self._entries, []
        for r in outcome.results:
            try:
                made.append(entries[r[RULE]](r, self.tally(), []))
            except TypeError:
                break
        return made

    def _explained(self, outcome: Evaluation, warnings, tally: list[int], built: list):
        """The line of a case with a result this writer does not know, or amounts the explainer
        must warn about: the explainer's compact verdict (which this writer's lines equal), the
        results' counts taken back from the tally and counted from it instead."""
        if self.explainer is None:
            raise ValueError("a result the compact writer does not know, and no explainer to write it")
        self.take_back(tally, [{"rule": e.rule, "status": e.status} for e in built if e is not None])
        verdict = self.explainer.explain(outcome, warnings, compact=True, raw=True)
        failed = []
        for entry in verdict["results"]:
            tally[self._slot_of[entry["rule"], entry["status"]]] += 1
            if entry["status"] == "fail":
                failed.append(f"{entry['rule']}@{entry['subject']}")
        return dumps(verdict), verdict["verdict"], failed, verdict["payout"]


_ENCODE = msgspec.json.Encoder(decimal_format="number").encode
_Raw = msgspec.Raw

# ----------------------------------------------------------- facts by kind

_NUMBERS_KINDS = frozenset({"integer", "yen", "rate", "hours", "days", "months", "business_days", "decimal",
                            "percent"})
# Kinds whose values msgspec writes as `dumps` does (texts in full: a fact's list is not shortened).
_AS_THEY_ARE = frozenset({"text", "date", "boolean", "list:text", "list:date", "list:boolean"})
_PASSING = frozenset({str, int, bool, type(None), dt.date, type(UNSET)})
_PLAIN: set = set()  # the decoder's plain record classes seen (`structs.plain_record`)


class _Numbers(dict):
    """Numbers as the line holds them, by value: an int as it is, a whole decimal as an int, any
    other as `dumps` writes it. Sound by value: equal numbers (1, Decimal("1.0")) are written
    alike by `dumps` (`jsonable`: a decimal as an int, or a float). A number a slot holds is
    one look-up in C (a batch repeats few of them); the table is emptied past 4,096."""

    def __missing__(self, value):
        if value.__class__ is Decimal:
            written = int(value) if value.is_finite() and value == value.to_integral_value() \
                else _Raw(dumps(value))
        else:
            written = value
        if len(self) >= 4096:
            self.clear()
        self[value] = written
        return written

    def __repr__(self) -> str:
        return "_Numbers()"


_NUMBERS = _Numbers()

# A parameter's value — a table, a row, a tuple of rows — is the same object for every case
# judged on the days it holds: written once by `dumps`, kept by its id with the value itself
# (which keeps the id its own while it is kept).
_SHARED: dict[int, tuple] = {}


def _shared(value):
    kept = _SHARED.get(id(value))
    if kept is None:
        if len(_SHARED) >= 1024:
            _SHARED.clear()
        kept = _SHARED[id(value)] = (value, _Raw(dumps(value)))
    return kept[1]


def _record(value):
    """A record slot: the decoder's plain record as it is, a parameter's row written once, any
    other (the model's record, the decoder's record of a list of texts) written by `dumps`."""
    kind = value.__class__
    if kind in _PLAIN or kind in _PASSING:
        return value
    if isinstance(value, Row):
        kept = _SHARED.get(id(value))  # (`_shared`'s look-up, without its call)
        return kept[1] if kept is not None else _shared(value)
    if hasattr(kind, "__struct_fields__") and plain_record(value):
        if len(_PLAIN) < 1000:  # (each rulebook loaded has records of its own)
            _PLAIN.add(kind)
        return value
    return _Raw(dumps(value))


def _records(value):
    """A slot of a list of records or a table: the decoder's plain records as they are, a
    parameter's rows or table written once, any other written by `dumps`."""
    kind = value.__class__
    if kind is list:
        for item in value:
            if item.__class__ not in _PLAIN and _record(item) is not item:
                return _Raw(dumps(value))
        return value
    if kind in _PASSING:
        return value
    if kind is tuple or kind is MappingProxyType:
        kept = _SHARED.get(id(value))  # (`_shared`'s look-up, without its call)
        return kept[1] if kept is not None else _shared(value)
    return _Raw(dumps(value))


def _other(value):
    """A slot of another kind (pairs of dates, lists of numbers…): written by `dumps`."""
    kind = value.__class__
    if kind in _PASSING or ((kind is list or kind is tuple) and not value):
        return value
    return _Raw(dumps(value))


def _as_written(value):
    """A payout's amount that is not a whole number (`_fact`'s): a number as `dumps` writes it."""
    return value if value.__class__ in _PASSING else _Raw(dumps(value))


def _converter(kind: str):
    """The function a slot of this kind goes through (None: none)."""
    if kind in _AS_THEY_ARE:
        return None
    if kind.startswith("record:"):
        return _record
    if kind.startswith(("list:record:", "table:")):
        return _records
    return _other


def _whole(values) -> bool:
    """Whether every value is an int (as amounts, whole yen, are)."""
    for value in values:
        if value.__class__ is not int:
            return False
    return True


__all__ = ["CompactWriter", "Entry"]
