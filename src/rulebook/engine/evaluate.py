"""evaluate: a compiled plan and a snapshot → the results of every rule, and the payout.

Rules that do not read the payout run first, in rulebook order; then the payout
(which reads their results); then the rules that read the payout.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from ..language.catalogue import word
from ..language.diagnostic import Code, message_of
from ..language.message import Message
from . import codegen
from .order import checker
from .plan import NO_VALUE, NOT_IN_FORCE, Plan, period_of_force
from .runtime import NotInForce, Parameters

# A result — one (rule, subject) — is a plain tuple, built by the generated code as fast as a
# tuple is built: these four fields, then the value of each of the rule's fact slots (UNSET
# where evaluation did not read it), in the order of `RulePlan.facts`; or, when the rule is
# not in force, the day it was judged on.
RULE = 0  # index into plan.rules
SUBJECT = 1  # "case" or "step:N"
STEP = 2  # index of the step in the snapshot's list (for fact paths), or None
CLAUSE = 3  # index of the deciding clause, or NOT_IN_FORCE, or NO_VALUE
FACTS = 4  # result[FACTS:] are the fact slots' values; when not in force, result[FACTS] is the
# day; with NO_VALUE, result[FACTS:] are the parameter that had no value and the day it was read on
__all__ = ["RULE", "SUBJECT", "STEP", "CLAUSE", "FACTS", "NOT_IN_FORCE", "NO_VALUE", "Evaluation",
           "EvaluationError", "Evaluator", "Unexplained", "parameters_at", "link"]


class Evaluation:
    """The results of every rule on one case, and the payout."""

    __slots__ = ("case", "as_of", "results", "step_amounts", "payout", "params", "steps", "unpriced")

    def __init__(self, case, as_of, results, step_amounts, payout, params, steps, unpriced=()):
        self.case = case
        self.as_of: dt.date = as_of
        self.results: list = results  # result tuples (RULE, SUBJECT, STEP, CLAUSE, facts…), by rule then subject
        self.step_amounts: list[tuple] = step_amounts  # per step, the amounts in plan.step_amounts order
        self.payout: dict = payout
        self.params = params  # the parameters in force: `args` computes the texts' values with them
        self.steps = steps
        # (parameter, day, amount, a step's amount?) for each amount of the payout that read a
        # parameter with no value on its day, and so is 0
        self.unpriced = unpriced


class Unexplained:
    """The values of a result's texts could not be computed: they read a parameter that has no
    value on the day (`parameter`, `day`). The result keeps its status; its explanation says so."""

    __slots__ = ("parameter", "day")

    def __init__(self, parameter: str, day: dt.date):
        self.parameter, self.day = parameter, day


class EvaluationError(Exception):
    """A rule that could not be evaluated on this case (codes RB4xx)."""

    def __init__(self, code: Code, message: Message, rule: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message  # in both languages; str(error) is the English
        self.rule = rule


def reason(error: Exception) -> Message | str:
    """Why a rule could not be evaluated: a division by zero in words, else Python's own text."""
    if isinstance(error, ZeroDivisionError) or "Division" in repr(error):
        return word("division by zero")
    return str(error)


class _ParametersByDay(dict):
    """day → the parameters in force that day, made the first time a day is asked for and kept
    (at most `KEPT` days: all are let go when it is full)."""

    __slots__ = ("parameters",)
    KEPT = 4096

    def __init__(self, parameters: dict):
        super().__init__()
        self.parameters = parameters

    def __missing__(self, day: dt.date) -> Parameters:
        values_on = {}
        for name, values in self.parameters.items():
            for start, until, value in values:
                if start <= day and (until is None or day <= until):
                    values_on[name] = MappingProxyType(value) if isinstance(value, dict) else value
                    break
        made = Parameters(values_on, day)
        if len(self) >= self.KEPT:
            self.clear()
        self[day] = made
        return made


def parameters_at(parameters: dict):
    """A function from a day to the parameters in force that day: a mapping that raises
    `NotInForce` for a parameter with no value that day. It is a kept mapping's lookup, a
    C-level call that hashes the day and finds it (no function of ours runs for a day asked for
    before), as the compiled rules call it for every rule and step that reads its parameters on
    a day of its own (functools.lru_cache took twice the time: it also moves the day to the
    front of its order of use)."""
    return _ParametersByDay(parameters).__getitem__


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
        self.dated_functions = tuple(fns.get(f"dated_{rule.index}") for rule in plan.rules)
        self.payout_days = (fns.get("dated_step_payout"), fns.get("dated_case_payout"))
        self.daily = plan.daily or any(rule.daily for rule in plan.rules)

    def evaluate(self, case, as_of: dt.date | None = None) -> Evaluation:
        plan = self.plan
        day = as_of or case.as_of
        steps = getattr(case, plan.steps_field) if plan.steps_field else ()
        params_at = self.params_at
        try:
            dated_day = day if self.dated_is_as_of else self.dated(case, day)
            params = params_at(dated_day)
            results, step_amounts, payout, unpriced = self.evaluate_case(case, steps, day, params, params_at,
                                                                         dated_day)
        except (ArithmeticError, TypeError, ValueError, AttributeError, LookupError) as error:
            rule = self._rule(error)
            where = word("rule_named", rule=rule) if rule else word("the payout")
            raise EvaluationError(Code.NOT_EVALUABLE, message_of(Code.NOT_EVALUABLE, "not_evaluable", where=where,
                                                                 day=day.isoformat(), reason=reason(error)),
                                  rule) from None
        return Evaluation(case, day, results, step_amounts, payout, params, steps, unpriced)

    def args(self, outcome: Evaluation, result) -> tuple:
        """The values a result's texts interpolate (computed when explaining, not when judging)."""
        rule_index, _subject, step, clause = result[:FACTS]
        if clause < 0:  # NOT_IN_FORCE, NO_VALUE: no clause, no values
            return ()
        st = outcome.steps[step] if step is not None else None
        try:
            return self.arg_functions[rule_index](outcome.case, st, step, outcome.as_of, outcome.params,
                                                  self.params_at, outcome.payout, clause)
        except NotInForce as error:
            # A parameter that only a message reads is read here, when explaining.
            return Unexplained(error.name, error.day)
        except (ArithmeticError, TypeError, ValueError, AttributeError, LookupError) as error:
            rule = self.plan.rules[rule_index].id
            raise EvaluationError(Code.NOT_EVALUABLE, message_of(Code.NOT_EVALUABLE, "not_explainable", rule=rule,
                                                                 day=outcome.as_of.isoformat(), reason=reason(error)),
                                  rule) from None

    def next_change(self, outcome: Evaluation) -> dt.date | None:
        """The first day after the outcome's as-of date on which judging the same case could give
        other results: a day on which a comparison of a rule with the as-of date changes, or on
        which an edition of a parameter, or a rule's period of force, starts or ends — where the
        case reads the parameter (or compares the period) on the day it is judged. None: never."""
        day = outcome.as_of
        if self.daily:
            return day + dt.timedelta(days=1)
        plan, case, steps = self.plan, outcome.case, outcome.steps
        best = None
        judging_day = day if self.dated_is_as_of else self.dated(case, day)
        editions = plan.editions

        def consider(days) -> None:
            nonlocal best
            for date in days:
                if isinstance(date, dt.date) and date > day and (best is None or date < best):
                    best = date

        functions, dated = self.time_functions, self.dated_functions
        for result in outcome.results:
            rule_index, _subject, si, clause = result[:FACTS]
            rule = plan.rules[rule_index]
            st = steps[si] if si is not None else None
            on = dated[rule_index](case, st, day) if dated[rule_index] is not None else judging_day
            if on == day:  # parameters and the period of force taken on the day it is judged
                for name in rule.parameters:
                    consider(editions.get(name, ()))
                consider(period_of_force(rule))
            times = functions[rule_index]
            if times is None or clause < 0:
                continue
            consider(times(case, st, si, day, outcome.params, self.params_at, outcome.payout, clause))
        step_day, case_day = self.payout_days  # the payout: where it reads its parameters on the day
        if any((step_day(case, st, day) if step_day else judging_day) == day for st in steps):
            for name in plan.payout_parameters.get("each_step", ()):
                consider(editions.get(name, ()))
        if (case_day(case, None, day) if case_day else judging_day) == day:
            for name in plan.payout_parameters.get("case", ()):
                consider(editions.get(name, ()))
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
