"""explain: an outcome → the explained verdict, `rulebook.verdict/v1`.

Each result gets its status, the message and fix of the clause that decided it
in Japanese and English with the actual values, the facts it read and
computed (keyed by path or name), and the source sentence.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .plan import Plan, TemplatePlan
from .evaluate import Outcome
from .runtime import UNSET
from .snapshot import jsonable

VERDICT_FORMAT = "rulebook.verdict/v1"
STATUSES = ("pass", "fail", "pending", "not_applicable")

_NOT_IN_FORCE = {
    "ja": "この要件は{day}には適用されません。",
    "en": "This requirement is not in force on {day}.",
}


# ------------------------------------------------------------ value formats


def _number(value) -> str:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return f"{int(value):,}"
        text = f"{value.normalize():,f}"
        return text
    return f"{value:,}"


def _plain(value) -> str:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    return str(value)


def format_value(value, kind: str, lang: str) -> str:
    """A value as a person reads it, in one language."""
    if value is None:
        return "—"
    ja = lang == "ja"
    if kind.startswith("list:"):
        inner = kind[5:]
        items = [format_value(v, inner, lang) for v in value]
        if not items:
            return "なし" if ja else "none"
        return ("、" if ja else ", ").join(items)
    if kind == "yen":
        return f"{_number(value)}円" if ja else f"{_number(value)} yen"
    if kind == "rate":
        return f"{_number(value)}円/時間" if ja else f"{_number(value)} yen/hour"
    if kind == "hours":
        return f"{_plain(value)}時間" if ja else f"{_plain(value)} hour{'s' if value != 1 else ''}"
    if kind == "days":
        return f"{value}日" if ja else f"{value} day{'s' if value != 1 else ''}"
    if kind == "business_days":
        return f"{value}営業日" if ja else f"{value} business day{'s' if value != 1 else ''}"
    if kind == "percent":
        return f"{_plain(value * 100)}%"
    if kind == "date" and isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日" if ja else value.isoformat()
    if kind == "boolean":
        return ("はい" if value else "いいえ") if ja else ("yes" if value else "no")
    if kind in ("integer", "decimal"):
        return _number(value)
    if kind == "pair":
        if ja:
            return (f"{value.before}({format_value(value.before_on, 'date', lang)})が"
                    f"{value.after}({format_value(value.after_on, 'date', lang)})より後")
        return (f"{value.before} ({value.before_on.isoformat()}) is after "
                f"{value.after} ({value.after_on.isoformat()})")
    return str(value)


def render_template(template: TemplatePlan, args: tuple, lang: str) -> str:
    out = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
        else:
            index, kind = part
            out.append(format_value(args[index], kind, lang))
    return "".join(out)


# ------------------------------------------------------------------ verdict


def rulebook_info(plan: Plan, digest: str) -> dict:
    return {"name": plan.name, "version": plan.version, "digest": digest}


def explain(plan: Plan, outcome: Outcome, digest: str, warnings=(), args_of=None) -> dict:
    """The verdict of one case, as the JSON-ready mapping of verdict-output.md.

    `args_of(outcome, result)` gives the values a result's texts interpolate."""
    counts = dict.fromkeys(STATUSES, 0)
    results = []
    steps_field = plan.steps_field or "steps"
    for result in outcome.results:
        rule_index, subject, step, clause_index, values = result
        rule = plan.rules[rule_index]
        if clause_index < 0:
            day = values[0] if values else outcome.as_of
            status = "not_applicable"
            message = {lang: text.format(day=format_value(day, "date", lang)) for lang, text in _NOT_IN_FORCE.items()}
            fix = None
            due = None
            facts = {}
        else:
            clause = rule.clauses[clause_index]
            status = clause.status
            args = args_of(outcome, result)
            message = {lang: render_template(t, args, lang) for lang, t in clause.message.items()}
            fix = ({lang: render_template(t, args, lang) for lang, t in clause.fix.items()}
                   if clause.fix else None)
            due = args[clause.due].isoformat() if clause.due is not None and args[clause.due] else None
            facts = {}
            prefix = f"{steps_field}[{step}]" if step is not None else steps_field
            for (key, _kind), value in zip(rule.facts, values):
                if value is UNSET:
                    continue
                if "{step}" in key:
                    key = key.replace("{step}", prefix)
                facts[key] = jsonable(value)
        counts[status] += 1
        results.append({
            "rule": rule.id,
            "subject": subject,
            "status": status,
            "stage": rule.stage,
            "clause": clause_index + 1,
            "title": dict(rule.titles),
            "message": message,
            "facts": facts,
            "source": {"text": rule.source[0], "ref": rule.source[1]},
            "fix": fix,
            "due": due,
        })
    if counts["fail"]:
        verdict = "ineligible"
    elif counts["pending"]:
        verdict = "incomplete"
    else:
        verdict = "eligible"
    payout = {name: jsonable(value) for name, value in outcome.payout.items()}
    payout["steps"] = [{"step": getattr(st, plan.steps_number), **{k: jsonable(v) for k, v in amounts.items()}}
                       for st, amounts in zip(outcome.steps, outcome.step_amounts)]
    out = {
        "format": VERDICT_FORMAT,
        "case_id": outcome.case.case_id,
        "as_of": outcome.as_of.isoformat(),
        "rulebook": None,
        "verdict": verdict,
        "counts": counts,
        "results": results,
        "payout": payout,
    }
    out["rulebook"] = {"name": plan.name, "version": plan.version, "digest": digest}
    if warnings:
        out["warnings"] = list(warnings)
    return out
