"""compact: an outcome → its compact verdict as one line of JSON, for batches — the same bytes as
`dumps(Explainer.explain(outcome, compact=True, raw=True))`, from code generated per plan.

The plan knows every rule's fact slots, their keys and the statuses of its clauses, so one
function per rule, generated (`codegen`), turns a result tuple into its compact entry: the
keys written as literals (a step rule's, with the step's index, made once per index), the
unset slots left out, the status read from the clause's number, a failure added to the
case's list, and the result counted in a tally of (rule, clause) — a flat list of counts
that a batch adds up once per chunk, not once per result. A per-plan function builds the
verdict around the entries: counts, verdict, payout.

Nothing here is a list of rule ids: they all come from the plan.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter

import orjson

from ..engine import codegen as cg
from ..engine.evaluate import CLAUSE, FACTS, NO_VALUE, NOT_IN_FORCE, RULE, STEP, SUBJECT, Evaluation
from ..engine.plan import Plan
from .explain import STATUSES, VERDICT_FORMAT, _fact, dumps, rulebook_info


class _StepKeys(dict):
    """One rule's fact keys by step index (`steps[3].hours`), each made the first time it is
    asked for."""

    def __init__(self, rule_index: int, facts, steps_field: str):
        super().__init__()
        self.rule_index, self.facts, self.steps_field = rule_index, facts, steps_field

    def __missing__(self, step):
        prefix = f"{self.steps_field}[{step}]" if step is not None else self.steps_field
        keys = self[step] = tuple(prefix + key[6:] if key[0] == "{" else key for key, _kind in self.facts)
        return keys

    def __repr__(self) -> str:  # one constant per rule in the generated module
        return f"_StepKeys({self.rule_index})"


class CompactWriter:
    """Writes the compact verdicts of one plan's outcomes (see the module's docstring)."""

    def __init__(self, plan: Plan, digest: str, explainer=None):
        self.plan = plan
        self.info = rulebook_info(plan, digest)
        self._info = orjson.Fragment(dumps(self.info))  # the same for every line: written once
        self.explainer = explainer  # writes what this writer does not know (see `line`)
        steps_field = plan.steps_field or "steps"
        # The tally's slots: rule i's results with status STATUSES[s] count in slot 4 * i + s.
        self.slots = [(rule.id, status) for rule in plan.rules for status in STATUSES]
        self._slot_of = {key: slot for slot, key in enumerate(self.slots)}
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
        return Counter({self.slots[slot]: n for slot, n in enumerate(tally) if n})

    def _generate(self, steps_field: str):
        """The entry builders: one generated function per rule, (result, tally, failed) → the
        result's compact mapping, or None for a result it does not know (a clause number below
        "no value": a newer engine's), which sends the case to the explainer."""
        module = cg.Module()
        names = []
        code = {status: i for i, status in enumerate(STATUSES)}
        for rule in self.plan.rules:
            base = len(STATUSES) * rule.index
            statuses = tuple(clause.status for clause in rule.clauses)
            r, k = cg.name("r"), cg.name("k")
            subject = cg.item(r, SUBJECT)

            def count(slot):
                return cg.add_one("tally", slot)

            def entry(status, facts):
                return cg.dict_of([(cg.literal("rule"), cg.literal(rule.id)), (cg.literal("subject"), subject),
                                   (cg.literal("status"), status), (cg.literal("facts"), facts)])

            body = [cg.assign("k", cg.item(r, CLAUSE))]
            # not in force: counted, and no facts (the slots hold the day it was judged on); a
            # parameter with no value: a failure, its facts the parameter and the day it was read on
            no_value = cg.dict_of([(cg.literal("parameter"), cg.item(r, FACTS)),
                                   (cg.literal("day"), cg.item(r, FACTS + 1))])
            body.append(cg.if_(cg.compare(k, "<", cg.literal(0)), [
                cg.if_(cg.compare(k, "==", cg.literal(NO_VALUE)), [
                    count(cg.literal(base + code["fail"])),
                    cg.do(cg.method(cg.name("failed"), "append", cg.binary(cg.literal(rule.id + "@"), "+", subject))),
                    cg.return_(entry(cg.literal("fail"), no_value))]),
                cg.if_(cg.compare(k, "!=", cg.literal(NOT_IN_FORCE)), [cg.return_(cg.literal(None))]),
                count(cg.literal(base + code["not_applicable"])),
                cg.return_(entry(cg.literal("not_applicable"), cg.dict_of(())))]))
            body.append(count(cg.item(module.constant(tuple(base + code[status] for status in statuses)), k)))
            stepped = any(key[0] == "{" for key, _kind in rule.facts)
            if stepped:  # the keys of this step: made once per step index
                keys = module.constant(_StepKeys(rule.index, rule.facts, steps_field))
                body.append(cg.assign("ks", cg.item(keys, cg.item(r, STEP))))
            body.append(cg.assign("f", cg.dict_of(())))
            for slot, (key, _kind) in enumerate(rule.facts):
                written = cg.item(cg.name("ks"), slot) if stepped else cg.literal(key)
                body.append(cg.if_(cg.compare(cg.walrus("v", cg.item(r, FACTS + slot)), "is not", cg.name("_U")),
                                   [cg.assign_item("f", written, cg.name("v"))]))
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
        results = [entries[r[RULE]](r, tally, failed) for r in outcome.results]
        if None in results or getattr(outcome, "unpriced", None):
            return self._explained(outcome, warnings, tally, results)
        states = list(map(_STATUS, results))
        counts = {"pass": states.count("pass"), "fail": states.count("fail"), "pending": states.count("pending"),
                  "not_applicable": states.count("not_applicable")}
        verdict = "ineligible" if counts["fail"] else "incomplete" if counts["pending"] else "eligible"
        # The amounts as they are: whole yen, ints (anything else as the verdict's mapping has it).
        payout = dict(outcome.payout)
        if not _whole(payout.values()):
            payout = {name: _fact(value) for name, value in payout.items()}
        steps = self._steps(outcome.steps, outcome.step_amounts)
        for amounts in outcome.step_amounts:
            if not _whole(amounts):
                steps = [{name: _fact(value) for name, value in step.items()} for step in steps]
                break
        payout["steps"] = steps
        out = {"format": VERDICT_FORMAT, "case_id": outcome.case.case_id, "as_of": outcome.as_of,
               "rulebook": self._info, "verdict": verdict, "counts": counts, "results": results, "payout": payout}
        if warnings:
            out["warnings"] = [str(w) for w in warnings]
            out["warning_messages"] = [{"ja": getattr(w, "ja", str(w)), "en": str(w)} for w in warnings]
        return dumps(out), verdict, failed, payout

    def _explained(self, outcome: Evaluation, warnings, tally: list[int], built: list):
        """The line of a case with a result this writer does not know, or amounts the explainer
        must warn about: the explainer's compact verdict (which this writer's lines equal), the
        results' counts taken back from the tally and counted from it instead."""
        if self.explainer is None:
            raise ValueError("a result the compact writer does not know, and no explainer to write it")
        self.take_back(tally, [entry for entry in built if entry is not None])
        verdict = self.explainer.explain(outcome, warnings, compact=True, raw=True)
        failed = []
        for entry in verdict["results"]:
            tally[self._slot_of[entry["rule"], entry["status"]]] += 1
            if entry["status"] == "fail":
                failed.append(f"{entry['rule']}@{entry['subject']}")
        return dumps(verdict), verdict["verdict"], failed, verdict["payout"]


_STATUS = itemgetter("status")


def _whole(values) -> bool:
    """Whether every value is an int (as amounts, whole yen, are)."""
    for value in values:
        if value.__class__ is not int:
            return False
    return True


__all__ = ["CompactWriter"]
