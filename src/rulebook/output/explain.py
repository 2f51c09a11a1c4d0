"""explain: an outcome → the explained verdict, `rulebook.verdict/v1`.

Each result gets its status, the message and fix of the clause that decided it
in Japanese and English with the actual values, the facts it read and
computed (keyed by path or name), and the source sentence.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import MappingProxyType

import orjson

from ..engine import codegen as cg
from ..engine.evaluate import CLAUSE, FACTS, NO_VALUE, NOT_IN_FORCE, RULE, Evaluation, Unexplained
from ..engine.plan import Plan, TemplatePlan
from ..engine.runtime import UNSET
from ..input.snapshot import dumps_json, is_model, jsonable
from ..input.structs import plain_record, record_fields
from ..language.value import Row

VERDICT_FORMAT = "rulebook.verdict/v1"
STATUSES = ("pass", "fail", "pending", "not_applicable")

_NOT_IN_FORCE = {
    "ja": "この要件は{day}には適用されません。",
    "en": "This requirement is not in force on {day}.",
}
# A rule that read a parameter with no value on the day it read it on: it fails.
_NO_VALUE = {
    "ja": "パラメータ「{title}」({name})には{day}に有効な値がありません。制度にこの日の定めがないため、"
          "要件「{rule_title}」({rule})は満たされず、この要件による謝金は支払われません。",
    "en": "The parameter `{name}` ({title}) has no value in force on {day}: the program had no rule for that "
          "day, so the requirement `{rule}` ({rule_title}) is not met and no honorarium is due on it.",
}
_NO_VALUE_FIX = {
    "ja": "{day}に有効だった「{title}」({name})の値を事務局に問い合わせ、ルールブックに加えてください。",
    "en": "Ask the secretariat which value of `{name}` ({title}) held on {day}, and have it added to the rulebook.",
}
# A result whose texts read a parameter with no value on the day: its status stands, its words cannot.
_UNEXPLAINED = {
    "ja": "この結果の説明に必要なパラメータ「{title}」({name})には{day}に有効な値がありません。",
    "en": "This result cannot be explained: the parameter `{name}` ({title}) has no value in force on {day}.",
}
# An amount of the payout that read a parameter with no value on the day: it is 0.
_UNPRICED = {
    "ja": "「{amount}」は、パラメータ「{title}」({name})に{day}に有効な値がないため0円としています。"
          "事務局に問い合わせてください。",
    "en": "{amount} is shown as 0 yen: the parameter `{name}` ({title}) has no value in force on {day}; "
          "ask the secretariat.",
}


# ------------------------------------------------------------ value formats


def _number(value) -> str:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return f"{int(value):,}"
        if value.as_tuple().exponent < -2:  # an unrounded quotient: two decimals are enough to read
            value = value.quantize(Decimal("0.01"))
        return f"{value.normalize():,f}"
    return f"{value:,}"


def _plain(value) -> str:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    return str(value)


def _plural(value, one: str, many: str) -> str:
    return f"{value} {one if value == 1 else many}"


_FORMATS = {
    ("yen", "ja"): lambda v: f"{_number(v)}円",
    ("yen", "en"): lambda v: f"{_number(v)} yen",
    ("rate", "ja"): lambda v: f"{_number(v)}円/時間",
    ("rate", "en"): lambda v: f"{_number(v)} yen/hour",
    ("hours", "ja"): lambda v: f"{_plain(v)}時間",
    ("hours", "en"): lambda v: _plural(_plain(v), "hour", "hours") if v != 1 else "1 hour",
    ("days", "ja"): lambda v: f"{v}日",
    ("days", "en"): lambda v: _plural(v, "day", "days"),
    ("business_days", "ja"): lambda v: f"{v}営業日",
    ("business_days", "en"): lambda v: _plural(v, "business day", "business days"),
    ("months", "ja"): lambda v: f"{v}か月",
    ("months", "en"): lambda v: _plural(v, "month", "months"),
    ("percent", "ja"): lambda v: f"{_plain(v * 100)}%",
    ("percent", "en"): lambda v: f"{_plain(v * 100)}%",
    ("date", "ja"): lambda v: f"{v.year}年{v.month}月{v.day}日",
    ("date", "en"): lambda v: v.isoformat(),
    ("boolean", "ja"): lambda v: "はい" if v else "いいえ",
    ("boolean", "en"): lambda v: "yes" if v else "no",
    ("integer", "ja"): _number, ("integer", "en"): _number,
    ("decimal", "ja"): _number, ("decimal", "en"): _number,
    ("pair", "ja"): lambda v: (f"{v.before}({v.before_on.year}年{v.before_on.month}月{v.before_on.day}日)が"
                               f"{v.after}({v.after_on.year}年{v.after_on.month}月{v.after_on.day}日)より後"),
    ("pair", "en"): lambda v: (f"{v.before} ({v.before_on.isoformat()}) is after "
                               f"{v.after} ({v.after_on.isoformat()})"),
}


def formatter(kind: str, lang: str, labels: dict | None = None, records: dict | None = None):
    """The function that shows a value of this kind in this language (— when missing).

    `label:record.field` shows a value by its label in `labels` ({"record.field": {value: {lang:
    words}}}, the schema's), and a value without one as it is. `list:K` shows the items as K,
    `table:K` each key and its value as K, `record:NAME` each field as `records` says
    ({record: ((field, kind), …)}, the plan's `record_formats`)."""
    joiner, empty = ("、", "なし") if lang == "ja" else (", ", "none")
    if kind.startswith(("list:", "table:")):
        of = kind.split(":", 1)[1]
        inner = formatter(of, lang, labels, records)
        if of.startswith("record:"):
            inner = _parenthesized(inner)
        if kind.startswith("list:"):
            parts = lambda value: [inner(v) for v in value]  # noqa: E731
        else:  # a table: each key and its value
            parts = lambda value: [f"{key}: {inner(v)}" for key, v in value.items()]  # noqa: E731

        def show_all(value):
            if value is None:
                return "—"
            return joiner.join(parts(value)) if value else empty
        return show_all
    if kind.startswith("record:"):
        fields = [(name, formatter(field_kind, lang, labels, records))
                  for name, field_kind in (records or {}).get(kind[7:], ())]

        def show_record(value):
            if value is None:
                return "—"
            return joiner.join([f"{name}: {show(getattr(value, name))}" for name, show in fields])
        return show_record
    if kind.startswith("label:"):
        known = (labels or {}).get(kind[6:], {})

        def base(value):
            words = known.get(value)
            return words.get(lang, value) if words else str(value)
        return lambda value: "—" if value is None else base(value)
    base = _FORMATS.get((kind, lang), str)

    def show(value):
        if value is None:
            return "—"
        # a text in place of a missing value: `{capital_jpy if missing "記録なし"}`
        return value if value.__class__ is str else base(value)
    return show


def _parenthesized(show):
    """A record among others, in brackets: `retail: (capital_jpy: 50,000,000 yen, employees: 50)`."""
    def bracketed(value):
        return "—" if value is None else f"({show(value)})"
    return bracketed


def format_value(value, kind: str, lang: str) -> str:
    """A value as a person reads it, in one language."""
    return formatter(kind, lang)(value)


# ------------------------------------------------------------------ verdict


def rulebook_info(plan: Plan, digest: str) -> dict:
    return {"name": plan.name, "version": plan.version, "digest": digest}


# Values orjson writes as `jsonable` would (dates as ISO text), or hands back to `_json_default`.
_NATIVE = frozenset({str, bool, int, type(None), dt.date, Decimal})
# The same, as items of a list (where `jsonable` shortens a text longer than 200 characters).
_ITEMS = frozenset({bool, int, type(None), dt.date, Decimal})


def _decimal(value):
    if value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    return jsonable(value)


# A parameter's value — a table (a read-only mapping) or a row of a record — is the same object
# for every case judged on the days it holds: it is written once, its JSON kept by its id with
# the value itself, which keeps the value alive and so its id its own while it is kept.
_SHARED: dict[int, tuple] = {}


def _shared(value, native):
    kept = _SHARED.get(id(value))
    if kept is None:
        if len(_SHARED) >= 1024:
            _SHARED.clear()
        kept = _SHARED[id(value)] = (value, orjson.Fragment(dumps_json(native(value), default=_json_default)))
    return kept[1]


def _table(value: MappingProxyType):
    return _shared(value, jsonable)


def _row(value: Row):
    return _shared(value, _row_native)


def _row_native(value: Row):
    return list(value) if _items_as_they_are(value) else jsonable(value)


# How `_json_default` writes a value of a type whose handling depends on its type alone (the
# decimals, the parameters' tables and rows, the decoder's plain records), learnt as the types come.
_BY_TYPE: dict = {Decimal: _decimal, MappingProxyType: _table}


def _json_default(value):
    """What orjson cannot write itself, written as `jsonable` would: decimals, then records —
    the model's, the decoder's, a parameter's row (a tuple) — whose fields orjson writes the
    same way itself (it comes back here for a decimal or a record inside, and writes a list of
    such values as `jsonable` does)."""
    write = _BY_TYPE.get(type(value))
    if write is not None:
        return write(value)
    if is_model(value) and not value.__pydantic_extra__:
        fields = value.__dict__
    elif hasattr(type(value), "__struct_fields__"):  # the schema decoder's records
        if plain_record(value):  # (scalars, plain records and lists of them in its fields)
            if len(_BY_TYPE) < 1000:  # (each rulebook loaded has records of its own)
                _BY_TYPE[type(value)] = record_fields
            return record_fields(value)
        fields = record_fields(value)
    elif isinstance(value, Row):  # a row of a parameter (a named tuple: not orjson's)
        if len(_BY_TYPE) < 1000:
            _BY_TYPE[type(value)] = _row
        return _row(value)
    else:
        return jsonable(value)
    for field in fields.values():
        kind = type(field)
        if kind in _NATIVE or hasattr(kind, "__struct_fields__") or is_model(field):
            continue
        if (kind is list or kind is tuple) and _items_as_they_are(field):
            continue
        return jsonable(value)
    return fields


def _items_as_they_are(items) -> bool:
    """Whether orjson writes these items of a list as `jsonable` would, or hands each back to
    `_json_default` (a record, a decimal)."""
    for item in items:
        kind = type(item)
        if kind in _ITEMS or (kind is str and len(item) <= 200) or hasattr(kind, "__struct_fields__") \
                or is_model(item) or (kind is not tuple and isinstance(item, tuple)):
            continue
        return False
    return True


def dumps(verdict: dict) -> bytes:
    """A verdict (from `explain`, raw or not) as one line of JSON."""
    return dumps_json(verdict, default=_json_default)


def _fact(value):
    """A fact as JSON holds it; the common kinds first, without a call."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dt.date:
        return value.isoformat()
    return jsonable(value)


class Explainer:
    """Turns outcomes into explained verdicts for one plan.

    The texts of a clause are compiled, the first time a result of that clause is explained,
    into functions of its values, so explaining a result is a few string concatenations.
    """

    def __init__(self, plan: Plan, digest: str, args_of, labels: dict | None = None):
        self.plan = plan
        self.labels = labels or {}  # the schema's labels of values, by "record.field"
        self.digest = digest
        self.args_of = args_of
        self.info = rulebook_info(plan, digest)
        self._keys: dict = {}  # (rule, step index) → the rule's fact keys with the step's path
        self.steps_field = plan.steps_field or "steps"
        self._formats: dict = {}  # (kind, lang) → the formatter
        self._texts: dict = {}  # (rule, clause) → (message {lang: fn}, fix {lang: fn} | None)
        self.rule_parts = [
            {"rule": r.id, "stage": r.stage, "title": dict(r.titles),
             "source": {"text": r.source[0], "ref": r.source[1]}} for r in plan.rules]

    def texts(self, rule_index: int, clause_index: int) -> tuple:
        """The clause's (message {lang: fn}, fix {lang: fn} | None), each fn(args) → the text."""
        found = self._texts.get((rule_index, clause_index))
        if found is None:
            clause = self.plan.rules[rule_index].clauses[clause_index]
            module = cg.Module()
            message = {lang: self._compile(t, lang, module, f"m_{lang}") for lang, t in clause.message.items()}
            fix = {lang: self._compile(t, lang, module, f"f_{lang}") for lang, t in clause.fix.items()} \
                if clause.fix else None
            functions = module.run(label=f"texts {self.plan.rules[rule_index].id} {clause_index}")
            found = ({lang: functions[name] for lang, name in message.items()},
                     {lang: functions[name] for lang, name in fix.items()} if fix else None)
            self._texts[(rule_index, clause_index)] = found
        return found

    def _compile(self, template: TemplatePlan, lang: str, module: cg.Module, name: str) -> str:
        """`name(a)`: the text, with the values `a` (a result's args) shown as people read them."""
        pieces = []
        for part in template.parts:
            if isinstance(part, str):
                pieces.append(cg.literal(part))
            else:
                index, kind = part
                key = (kind, lang)
                if key not in self._formats:
                    self._formats[key] = formatter(kind, lang, self.labels, self.plan.record_formats)
                pieces.append(cg.call(module.constant(self._formats[key]), cg.item(cg.name("a"), index)))
        text = pieces[0] if pieces else cg.literal("")
        for piece in pieces[1:]:
            text = cg.binary(text, "+", piece)
        module.add(cg.function(name, ["a"], [cg.return_(text)]))
        return name

    def describe(self, outcome: Evaluation, result) -> tuple:
        """One result's status, message and fix ({lang: text}) and due date (a date or None)."""
        rule_index, clause_index = result[RULE], result[CLAUSE]
        if clause_index == NOT_IN_FORCE:
            day = result[FACTS] if len(result) > FACTS else outcome.as_of
            message = {lang: text.format(day=format_value(day, "date", lang)) for lang, text in _NOT_IN_FORCE.items()}
            return "not_applicable", message, None, None
        if clause_index == NO_VALUE:
            name, day = result[FACTS], result[FACTS + 1]
            return "fail", self._no_value(_NO_VALUE, name, day, rule_index), \
                self._no_value(_NO_VALUE_FIX, name, day, rule_index), None
        clause = self.plan.rules[rule_index].clauses[clause_index]
        args = self.args_of(outcome, result)
        if isinstance(args, Unexplained):
            return clause.status, self._no_value(_UNEXPLAINED, args.parameter, args.day, rule_index), \
                self._no_value(_NO_VALUE_FIX, args.parameter, args.day, rule_index), None
        texts, fixes = self._texts.get((rule_index, clause_index)) or self.texts(rule_index, clause_index)
        message = {lang: show(args) for lang, show in texts.items()}
        fix = {lang: show(args) for lang, show in fixes.items()} if fixes else None
        return clause.status, message, fix, (args[clause.due] if clause.due is not None else None)

    def _no_value(self, texts: dict, name: str, day, rule_index: int | None = None, amount: str = "",
                  of_step: bool = False) -> dict:
        """One of the texts about a parameter with no value on a day, in each language."""
        rule = self.plan.rules[rule_index] if rule_index is not None else None
        out = {}
        for lang, text in texts.items():
            title = self.plan.parameter_titles.get(name, {}).get(lang, name)
            out[lang] = text.format(
                name=name, title=title, day=format_value(day, "date", lang), amount=amount_title(self.plan, amount, lang, of_step),
                rule=rule.id if rule else "", rule_title=rule.titles.get(lang, rule.id) if rule else "")
        return out

    def due(self, outcome: Evaluation, result):
        """A result's due date (or None), without its texts."""
        if result[CLAUSE] < 0:
            return None
        clause = self.plan.rules[result[RULE]].clauses[result[CLAUSE]]
        if clause.due is None:
            return None
        args = self.args_of(outcome, result)
        return None if isinstance(args, Unexplained) else args[clause.due]

    def explain(self, outcome: Evaluation, warnings=(), compact: bool = False, raw: bool = False) -> dict:
        """The verdict of one case, as the JSON-ready mapping of verdict-output.md.

        `compact` keeps rule, subject, status and facts of each result, and drops the texts.
        `raw` leaves the facts' values as they are (dates, decimals, records), for `dumps`,
        which writes the same JSON as the JSON-ready mapping would give, faster."""
        plan = self.plan
        counts = dict.fromkeys(STATUSES, 0)
        results = []
        steps_field = self.steps_field
        key_cache = self._keys
        for result in outcome.results:
            rule_index, subject, step, clause_index = result[:FACTS]
            rule = plan.rules[rule_index]
            if clause_index == NOT_IN_FORCE:
                facts = {}
                status, message, fix, due = self.describe(outcome, result)
            elif clause_index == NO_VALUE:
                facts = {"parameter": result[FACTS], "day": result[FACTS + 1] if raw else _fact(result[FACTS + 1])}
                status, message, fix, due = self.describe(outcome, result)
            else:
                status = rule.clauses[clause_index].status
                keys = key_cache.get((rule_index, step))
                if keys is None:
                    prefix = f"{steps_field}[{step}]" if step is not None else steps_field
                    keys = key_cache[(rule_index, step)] = tuple(
                        prefix + key[6:] if key[0] == "{" else key for key, _kind in rule.facts)
                if raw:
                    facts = {k: v for k, v in zip(keys, result[FACTS:]) if v is not UNSET}
                else:
                    facts = {k: _fact(v) for k, v in zip(keys, result[FACTS:]) if v is not UNSET}
                if not compact:
                    _status, message, fix, due = self.describe(outcome, result)
                    due = due.isoformat() if due is not None else None
            counts[status] += 1
            if compact:
                results.append({"rule": rule.id, "subject": subject, "status": status, "facts": facts})
                continue
            parts = self.rule_parts[rule_index]
            results.append({
                "rule": parts["rule"], "subject": subject, "status": status, "stage": parts["stage"],
                "clause": max(clause_index + 1, 0), "title": dict(parts["title"]), "message": message, "facts": facts,
                "source": dict(parts["source"]), "fix": fix, "due": due,
            })
        return self._verdict(outcome, counts, results, warnings, dict(self.info))

    def _verdict(self, outcome: Evaluation, counts: dict, results: list, warnings, info: dict) -> dict:
        """The verdict document around a case's results: the verdict from the counts, the payout."""
        if counts["fail"]:
            verdict = "ineligible"
        elif counts["pending"]:
            verdict = "incomplete"
        else:
            verdict = "eligible"
        payout = {name: _fact(value) for name, value in outcome.payout.items()}
        number, names = self.plan.steps_number, self.plan.step_amounts
        payout["steps"] = [{"step": getattr(st, number), **{k: _fact(v) for k, v in zip(names, amounts)}}
                           for st, amounts in zip(outcome.steps, outcome.step_amounts)]
        out = {
            "format": VERDICT_FORMAT,
            "case_id": outcome.case.case_id,
            "as_of": outcome.as_of.isoformat(),
            "rulebook": info,
            "verdict": verdict,
            "counts": counts,
            "results": results,
            "payout": payout,
        }
        messages = [{"ja": w.ja, "en": str(w)} for w in warnings]  # the input's (Messages)
        seen = set()
        for name, day, amount, of_step in outcome.unpriced:  # amounts that read a parameter with no value
            if (name, day, amount, of_step) not in seen:
                seen.add((name, day, amount, of_step))
                messages.append(self._no_value(_UNPRICED, name, day, amount=amount, of_step=of_step))
        if messages:
            out["warnings"] = [m["en"] for m in messages]
            out["warning_messages"] = messages
        return out


def amount_title(plan: Plan, name: str, lang: str, of_step: bool = False) -> str:
    """The words for an amount of the payout: its title in the rulebook (of the case's amount,
    else of a step's; `of_step`: the other way round), else its name."""
    first, then = (plan.step_amount_titles, plan.amount_titles) if of_step else \
        (plan.amount_titles, plan.step_amount_titles)
    titles = first.get(name) or then.get(name) or {}
    return titles.get(lang, name)


def explain(plan: Plan, outcome: Evaluation, digest: str, warnings=(), args_of=None, labels=None) -> dict:
    """The verdict of one case (see Explainer, which does the same faster when reused)."""
    return Explainer(plan, digest, args_of, labels).explain(outcome, warnings)
