"""evaluate: a compiled plan and a snapshot → the results of every rule, and the payout.

Rules that do not read the payout run first, in rulebook order; then the payout
(which reads their results); then the rules that read the payout.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from ..language.diagnostic import Code
from . import codegen
from .order import checker
from .plan import Plan

# A result — one (rule, subject) — is a plain tuple, built by the generated code as fast as a
# tuple is built: these four fields, then the value of each of the rule's fact slots (UNSET
# where evaluation did not read it), in the order of `RulePlan.facts`; or, when the rule is
# not in force, the day it was judged on.
RULE = 0  # index into plan.rules
SUBJECT = 1  # "case" or "step:N"
STEP = 2  # index of the step in the snapshot's list (for fact paths), or None
CLAUSE = 3  # index of the deciding clause, or NOT_IN_FORCE
FACTS = 4  # result[FACTS:] are the fact slots' values; result[FACTS] the day, when not in force
NOT_IN_FORCE = -1


class Evaluation:
    """The results of every rule on one case, and the payout."""

    __slots__ = ("case", "as_of", "results", "step_amounts", "payout", "params", "steps")

    def __init__(self, case, as_of, results, step_amounts, payout, params, steps):
        self.case = case
        self.as_of: dt.date = as_of
        self.results: list = results  # result tuples (RULE, SUBJECT, STEP, CLAUSE, facts…), by rule then subject
        self.step_amounts: list[tuple] = step_amounts  # per step, the amounts in plan.step_amounts order
        self.payout: dict = payout
        self.params = params  # the parameters in force: `args` computes the texts' values with them
        self.steps = steps


class EvaluationError(Exception):
    """A rule that could not be evaluated on this case (codes RB4xx)."""

    def __init__(self, code: Code, message: str, rule: str | None = None):
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
        self.dated_is_as_of = plan.dated_is_as_of
        self.evaluate_case = fns["evaluate_case"]
        self.arg_functions = tuple(fns[f"args_{rule.index}"] for rule in plan.rules)
        self.time_functions = tuple(fns.get(f"times_{rule.index}") for rule in plan.rules)
        self.daily = plan.daily or any(rule.daily for rule in plan.rules)

    def evaluate(self, case, as_of: dt.date | None = None) -> Evaluation:
        plan = self.plan
        day = as_of or case.as_of
        steps = getattr(case, plan.steps_field) if plan.steps_field else ()
        params_at = self.params_at
        try:
            dated_day = day if self.dated_is_as_of else self.dated(case, day)
            params = params_at(dated_day)
            results, step_amounts, payout = self.evaluate_case(case, steps, day, params, params_at, dated_day)
        except KeyError as error:
            name = error.args[0] if error.args else "?"
            raise EvaluationError(Code.NO_PARAMETER_VALUE, f"parameter `{name}` has no value in force on the day asked",
                                  self._rule(error)) from None
        except (ArithmeticError, TypeError, ValueError, AttributeError) as error:
            rule = self._rule(error)
            where = f"rule `{rule}`" if rule else "the payout"
            what = "division by zero" if isinstance(error, ZeroDivisionError) or "Division" in repr(error) \
                else str(error)
            raise EvaluationError(Code.NOT_EVALUABLE, f"{where} could not be evaluated on this case: {what}", rule) from None
        return Evaluation(case, day, results, step_amounts, payout, params, steps)

    def args(self, outcome: Evaluation, result) -> tuple:
        """The values a result's texts interpolate (computed when explaining, not when judging)."""
        rule_index, _subject, step, clause = result[:FACTS]
        if clause == NOT_IN_FORCE:
            return ()
        st = outcome.steps[step] if step is not None else None
        try:
            return self.arg_functions[rule_index](outcome.case, st, step, outcome.as_of, outcome.params,
                                                  self.params_at, outcome.payout, clause)
        except KeyError as error:
            # A parameter that only a message reads is looked up here, when explaining.
            name = error.args[0] if error.args else "?"
            raise EvaluationError(Code.NO_PARAMETER_VALUE, f"parameter `{name}` has no value in force on the day asked",
                                  self.plan.rules[rule_index].id) from None
        except (ArithmeticError, TypeError, ValueError, AttributeError) as error:
            rule = self.plan.rules[rule_index].id
            what = "division by zero" if isinstance(error, ZeroDivisionError) or "Division" in repr(error) \
                else str(error)
            raise EvaluationError(Code.NOT_EVALUABLE, f"rule `{rule}` could not be explained on this case: {what}", rule) from None

    def next_change(self, outcome: Evaluation) -> dt.date | None:
        """The first day after the outcome's as-of date on which judging the same case could give
        other results: a day on which a comparison of a rule with the as-of date changes, or a
        day a parameter edition or a rule's period of force starts or ends. None: never."""
        day = outcome.as_of
        if self.daily:
            return day + dt.timedelta(days=1)
        later = [b for b in self.plan.boundaries if b > day]
        best = later[0] if later else None
        functions, steps = self.time_functions, outcome.steps
        for result in outcome.results:
            rule_index, _subject, si, clause = result[:FACTS]
            times = functions[rule_index]
            if times is None or clause == NOT_IN_FORCE:
                continue
            for date in times(outcome.case, steps[si] if si is not None else None, si, day,
                              outcome.params, self.params_at, outcome.payout, clause):
                if isinstance(date, dt.date) and date > day and (best is None or date < best):
                    best = date
        return best

    def _rule(self, error: BaseException) -> str | None:
        """The rule whose inlined code raised, from the line the traceback stops at."""
        tb = error.__traceback__
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_name == "evaluate_case":
                line = tb.tb_lineno
            tb = tb.tb_next
        for first, last, index in self.plan.rule_lines:
            if line is not None and first <= line <= last:
                return self.plan.rules[index].id
        return None


# ------------------------------------------------------------------- linking


def link(plan: Plan) -> dict:
    """The plan's functions, from its source (once per process), run by `codegen.execute`
    with the order checks of the plan as `_ORDER`."""
    if not plan.functions:
        orders = [checker(plan.orders[name], plan.fields) for name in sorted(plan.orders)]
        plan.functions = codegen.execute(plan.source, plan.constants, plan.fields, orders=orders,
                                         label=f"rulebook {plan.name}")
    return plan.functions
