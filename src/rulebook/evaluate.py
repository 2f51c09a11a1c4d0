"""evaluate: a compiled plan and a snapshot → the results of every rule, and the payout.

Rules that do not read the payout run first, in rulebook order; then the payout
(which reads their results); then the rules that read the payout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from decimal import Decimal

from .plan import Plan
from .runtime import Context


@dataclass(frozen=True, slots=True)
class Result:
    rule: int  # index into plan.rules
    subject: str  # "case" or "step:N"
    step: int | None  # index of the step in the snapshot's list, for fact paths
    clause: int  # index of the deciding clause; -1 when the rule is not in force
    args: tuple  # values the clause's texts interpolate
    facts: tuple  # one value per fact slot of the rule (UNSET where not read)


@dataclass(frozen=True, slots=True)
class Outcome:
    case: object
    as_of: dt.date
    results: tuple[Result, ...]
    step_payouts: tuple[tuple[int, dict], ...]
    payout: dict


class EvaluationError(Exception):
    """A rule that could not be evaluated on this case (code RB401 and up)."""

    def __init__(self, code: str, message: str, rule: str | None = None):
        super().__init__(message)
        self.code = code
        self.rule = rule


def parameters_at(parameters: dict):
    """A function from a day to the parameter values in force that day (cached)."""
    cache: dict = {}

    def params_at(day: dt.date) -> dict:
        got = cache.get(day)
        if got is None:
            got = {}
            for name, values in parameters.items():
                for start, until, value in values:
                    if start <= day and (until is None or day <= until):
                        got[name] = MappingProxyType(value) if isinstance(value, dict) else value
                        break
            if len(cache) > 4096:
                cache.clear()
            cache[day] = got
        return got

    return params_at


class Evaluator:
    """A plan made ready to run; immutable and shared between threads."""

    def __init__(self, plan: Plan):
        self.plan = plan
        fns = link(plan)
        self.params_at = parameters_at(plan.parameters)
        self.dated = fns["dated_default"]
        self.payout_step = fns.get("payout_step")
        self.payout_case = fns.get("payout_case")
        first, later = [], []
        for rule in plan.rules:
            entry = (rule, fns[f"rule_{rule.index}"], fns.get(f"number_{rule.index}"),
                     frozenset(i for i, c in enumerate(rule.clauses) if c.status == "fail"))
            (later if rule.reads_payout else first).append(entry)
        self.first = tuple(first)
        self.later = tuple(later)

    def evaluate(self, case, as_of: dt.date | None = None) -> Outcome:
        plan = self.plan
        ctx = Context(as_of or case.as_of, self.params_at)
        steps = getattr(case, plan.steps_field) if plan.steps_field else ()
        rule_id = None
        try:
            ctx.params = self.params_at(self.dated(case, ctx))
            results: list[Result] = []
            for rule, fn, number, fails in self.first:
                rule_id = rule.id
                self._run(rule, fn, number, fails, case, steps, ctx, results)
            step_payouts = []
            payout: dict = {}
            if self.payout_step is not None:
                rule_id = None
                step_payouts = [(getattr(st, plan.steps_number), self.payout_step(case, st, i, ctx))
                                for i, st in enumerate(steps)]
            if self.payout_case is not None:
                payout = self.payout_case(case, ctx, [amounts for _, amounts in step_payouts])
            ctx.payout = payout
            for rule, fn, number, fails in self.later:
                rule_id = rule.id
                self._run(rule, fn, number, fails, case, steps, ctx, results)
        except KeyError as error:
            name = error.args[0] if error.args else "?"
            raise EvaluationError("RB401", f"parameter `{name}` has no value in force on the day asked",
                                  rule_id) from None
        except (ArithmeticError, TypeError, ValueError, AttributeError) as error:
            where = f"rule `{rule_id}`" if rule_id else "the payout"
            raise EvaluationError("RB402", f"{where} could not be evaluated on this case: {error}",
                                  rule_id) from None
        if self.later:
            results.sort(key=lambda r: r.rule)
        return Outcome(case, ctx.as_of, tuple(results), tuple(step_payouts), payout)

    def _run(self, rule, fn, number, fails, case, steps, ctx, results) -> None:
        subject = rule.subject
        if subject == "case":
            clause, args, facts = fn(case, None, None, ctx)
            results.append(Result(rule.index, "case", None, clause, args, facts))
            if clause in fails:
                ctx.failed_case.add(rule.id)
        elif subject == "each_step":
            key = self.plan.steps_number
            for i, st in enumerate(steps):
                clause, args, facts = fn(case, st, i, ctx)
                n = getattr(st, key)
                results.append(Result(rule.index, f"step:{n}", i, clause, args, facts))
                if clause in fails:
                    ctx.failed_steps.add(n)
        else:
            n = number(case, ctx)
            if n is None:
                clause, args, facts = fn(case, None, None, ctx)
                results.append(Result(rule.index, "case", None, clause, args, facts))
                if clause in fails:
                    ctx.failed_case.add(rule.id)
                return
            key = self.plan.steps_number
            index = next((i for i, st in enumerate(steps) if getattr(st, key) == n), None)
            st = steps[index] if index is not None else None
            clause, args, facts = fn(case, st, index, ctx)
            results.append(Result(rule.index, f"step:{n}", index, clause, args, facts))
            if clause in fails:
                ctx.failed_steps.add(n)


# ------------------------------------------------------------------- linking


def link(plan: Plan) -> dict:
    """Compile the plan's source into functions (once per process)."""
    if plan.functions:
        return plan.functions
    from . import runtime
    from .order import out_of_order

    namespace = {
        "__builtins__": {"any": any, "all": all, "sum": sum, "len": len, "getattr": getattr},
        "_K": plan.constants,
        "_U": runtime.UNSET,
        "_add_days": runtime.add_days,
        "_add_bdays": runtime.add_business_days,
        "_divide": runtime.divide,
        "_floor": runtime.floor,
        "_ceil": runtime.ceil,
        "_round_half_up": runtime.round_half_up,
        "_out_of_order": out_of_order,
        "Decimal": Decimal,
    }
    code = compile(plan.source, f"<rulebook {plan.name}>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated above from checked names and constants
    plan.functions = {k: v for k, v in namespace.items() if callable(v) and not k.startswith("_")}
    return plan.functions
