"""check_batch: the `rule … over` declarations — rules over the cases of a batch — checked
against the schema, for `check`.

A batch rule reads its items (each case, or each step of each case) as a case rule does: the
fields of the case and of the step, the parameters and the case's payout, typed and guarded the
same way (a renamed field is RB201, an optional one read without a guard RB302; `where` guards
what it tests). Its keys (`group by … as NAME`, and `day` with `each day from … to …`) and its
figures (`count`, `sum`, `sum … spread over its days`, `max`, `min`) are the names its `let`s,
clauses and texts read, with the parameters and `cases` (how many cases the group holds): the
fields of a single case are not in reach there, since a group holds many.
"""

from __future__ import annotations

from dataclasses import replace

from . import catalogue
from . import datatype as t
from . import syntax as s
from .diagnostic import Code, did_you_mean
from .infer import Binding, Env, canonical, with_prefixes
from .message import joined
from .program import BatchRule, Clause

BUILTINS = ("as_of",)  # the names of one case's judging that a group does not have
KEY_KINDS = ("text", "date", "integer", "boolean")  # what a group can be keyed by
SUMMED = ("integer", "decimal", "yen", "hours", "days")  # what `sum` adds up
SPREAD = {"hours": t.HOURS, "yen": t.Type("yen", fractional=True), "integer": t.DECIMAL, "decimal": t.DECIMAL}
RANKED = SUMMED + ("date",)  # what `max` and `min` compare
CASES = "cases"  # the built-in figure: how many cases a group holds
DAY = "day"  # the key that `each day from … to …` adds


class BatchChecker:
    """The checks of batch rules, for the checker that inherits it (`check._Checker`), which
    provides `error`, `texts`, `one`, `base_env`, `check_expr_both`, `template_texts`,
    `declare_lets`, `facts`, `step_type`, `param_names`, `stage_names` and `rule_ids`."""

    def check_batch_rules(self, decls: list[s.BatchRuleDecl]) -> list[BatchRule]:
        seen: dict[str, s.BatchRuleDecl] = {}
        rules = []
        for decl in decls:
            first = seen.get(decl.id) or self.rule_ids.get(decl.id)
            if first is not None:
                self.error(Code.DUPLICATE_RULE, "duplicate_rule", decl.id_span, rule=decl.id, first=first.id_span)
                continue
            seen[decl.id] = decl
            rules.append(self.check_batch_rule(decl, len(rules)))
        return rules

    def check_batch_rule(self, decl: s.BatchRuleDecl, index: int) -> BatchRule:
        title = self.one(decl.titles, "title", decl.id_span, decl.id)
        titles = self.texts(title, "title", decl.id_span, plain=True) if title else {}
        source = self.one(decl.sources, "source", decl.id_span, decl.id)
        stage = ""
        for extra in decl.stages[1:]:
            self.error(Code.GIVEN_TWICE, "stage_twice", extra[1], rule=decl.id)
        if decl.stages:
            stage, span = decl.stages[0]
            if self.stage_names and stage not in self.stage_names:
                self.error(Code.UNKNOWN_STAGE, "unknown_stage", span, did_you_mean(stage, self.stage_names),
                           stage=stage, stages=joined(self.stage_names))
        env = self._item_env(decl)
        where = None
        for extra in decl.wheres[1:]:
            self.error(Code.GIVEN_TWICE, "where_twice", extra.span, rule=decl.id)
        if decl.wheres:
            where = decl.wheres[0]
            self.check_expr_both(where, env, want=t.BOOLEAN, what="a condition")
            env = replace(env, known=env.known | with_prefixes(self.facts(where)[0]))
        names: dict[str, t.Type] = {CASES: t.INTEGER}
        spans: dict[str, s.Span] = {}

        def name(word: str, typ: t.Type, span) -> None:
            if word in names:
                where_ = catalogue.word("first_is_at", first=spans[word]) if word in spans else \
                    catalogue.word("cases_is_count", name=CASES)
                self.error(Code.DUPLICATE, "duplicate_in_rule", span, where_, name=word, rule=decl.id)
                return
            names[word], spans[word] = typ, span

        keys = self._keys(decl, env, name)
        days = None
        for extra in decl.days[1:]:
            self.error(Code.GIVEN_TWICE, "each_day_twice", extra.span, rule=decl.id)
        if decl.days:
            item = decl.days[0]
            days = (item.first, item.last)
            for expr in days:
                self.check_expr_both(expr, env, want=t.DATE, what="a day of an item's range")
            name(DAY, t.DATE, item.span)
        figures = []
        for figure in decl.figures:
            typ = self._figure(decl, figure, env, days is not None)
            name(figure.name, typ, figure.name_span)
            figures.append((figure.name, figure.kind, figure.expr, typ))
        # The fields of one case are out of a group's reach: bound to nothing (no second
        # diagnostic), and reported with what to do instead (`_one_case`).
        one_case = {n: Binding("outside", t.ERROR) for n in [*self.root_names, "step", "payout", *BUILTINS]}
        group = Env({**one_case, **self.param_names, **{n: Binding("group", typ) for n, typ in names.items()}},
                    context="batch")
        for let in decl.lets:
            if let.name in names:
                name(let.name, t.ERROR, let.span)
        inside = set(names) | {let.name for let in decl.lets} | set(self.param_names)
        for expr in _group_expressions(decl):
            self._one_case(expr, inside, one_case, sorted(names))
        group, lets = self.declare_lets(decl.lets, group)
        clauses = self._batch_clauses(decl, group)
        return BatchRule(index, decl.id, decl.items, stage, titles,
                         (source.text, source.ref) if source else ("", None), where, tuple(keys), days,
                         tuple(figures), lets, tuple(clauses), decl.span)

    def _one_case(self, expr, inside: set, one_case: dict, names: list[str]) -> None:
        """RB202 for each name of a case's own (a field, `step`, `payout`, `as_of`) that a
        group-level expression reads."""
        bound = _bound_variables(expr)
        for node in _walk(expr):
            if isinstance(node, s.Name) and node.name in one_case and node.name not in inside | bound:
                self.error(Code.UNKNOWN_NAME, "one_case_field", node.span, name=node.name,
                           names=joined(f"`{n}`" for n in names))

    def _item_env(self, decl: s.BatchRuleDecl) -> Env:
        """The names an item's expressions read: the case's fields, the parameters, the payout,
        and `step` for a rule over each step."""
        env = self.base_env("rule")
        if decl.items == "each_step":
            step = self.step_type()
            if step is None:
                self.error(Code.MISSING_PART, "no_steps", decl.items_span)
                step = t.ERROR
            env = env.bind("step", Binding("step", step))
        return env

    def _keys(self, decl: s.BatchRuleDecl, env: Env, name) -> list:
        keys = []
        for extra in decl.groups[1:]:
            self.error(Code.GIVEN_TWICE, "group_by_twice", extra[0].span, rule=decl.id)
        if not decl.groups:
            self.error(Code.MISSING_PART, "no_group_by", decl.id_span, rule=decl.id)
            return keys
        for key in decl.groups[0]:
            typ = self.check_expr_both(key.expr, env, want=None, what="a key")
            if typ.kind not in KEY_KINDS + ("error",):
                self.error(Code.TYPE_MISMATCH, "group_key", key.expr.span, found=typ.describe())
            word = key.name or (key.expr.name if isinstance(key.expr, s.Name) else None)
            if word is None:
                self.error(Code.MISSING_PART, "key_without_name", key.expr.span)
                continue
            name(word, typ.required(), key.name_span or key.expr.span)
            keys.append((word, key.expr, typ.required()))
        return keys

    def _figure(self, decl: s.BatchRuleDecl, figure: s.BatchFigure, env: Env, by_day: bool) -> t.Type:
        if figure.kind == "count":
            return t.INTEGER
        typ = self.check_expr_both(figure.expr, env, want=None, what="a figure")
        if typ.kind == "error":
            return t.ERROR
        done = {"sum": "added up", "spread": "spread over days", "max": "compared", "min": "compared"}[figure.kind]
        allowed = {"sum": SUMMED, "spread": tuple(SPREAD), "max": RANKED, "min": RANKED}[figure.kind]
        if typ.kind not in allowed:
            self.error(Code.TYPE_MISMATCH, "figure", figure.expr.span, found=typ.describe(), done=catalogue.word(done),
                       kind=figure.kind, allowed=", ".join(allowed))
            return t.ERROR
        if figure.kind == "spread":
            if not by_day:
                self.error(Code.OUT_OF_PLACE, "spread_needs_days", figure.span)
            return SPREAD[typ.kind]
        if figure.kind in ("max", "min") and by_day:
            self.error(Code.OUT_OF_PLACE, "not_by_day", figure.span, kind=figure.kind)
        if typ.kind == "yen" and typ.fractional:
            self.error(Code.FRACTION_OF_A_YEN, "figure_fraction", figure.expr.span, name=figure.name)
        return typ.required().whole()

    def _batch_clauses(self, decl: s.BatchRuleDecl, env: Env) -> list[Clause]:
        out = []
        seen: dict[str, s.Clause] = {}
        for i, clause in enumerate(decl.clauses):
            self.check_expr_both(clause.condition, env, want=t.BOOLEAN, what="a condition")
            text = canonical(clause.condition)
            if text in seen:
                self.error(Code.UNREACHABLE, "same_condition_groups", clause.span, first=seen[text].span)
            elif isinstance(clause.condition, s.Literal) and clause.condition.value is False:
                self.error(Code.UNREACHABLE, "false", clause.span)
            seen.setdefault(text, clause)
            for due in clause.dues:
                self.error(Code.OUT_OF_PLACE, "finding_due", due.span)
            body = replace(env, strict=True)
            message = self.one(clause.messages, "message", clause.span, decl.id)
            fix = clause.fixes[0] if clause.fixes else None
            for extra in clause.fixes[1:]:
                self.error(Code.GIVEN_TWICE, "fixes_twice", extra.span, rule=decl.id)
            msg = self.template_texts(message, "message", clause.span, body)
            fix_texts = self.template_texts(fix, "fix", clause.span, body) if fix else None
            out.append(Clause(i, clause.condition, "finding", msg, fix_texts, None, clause.span))
        if not decl.clauses:
            self.error(Code.MISSING_PART, "no_finding_clauses", decl.id_span, rule=decl.id)
        return out


def _group_expressions(decl: s.BatchRuleDecl):
    """The expressions a batch rule evaluates on a group: its lets, conditions and texts."""
    for let in decl.lets:
        yield let.expr
    for clause in decl.clauses:
        yield clause.condition
        for texts in clause.messages + clause.fixes:
            for item in texts.items:
                yield from (part for part in item.text.parts if not isinstance(part, str))


def _walk(node):
    """Every syntax node under an expression (itself included)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
            continue
        if type(item).__module__ != s.__name__ or isinstance(item, s.Span):
            continue
        yield item
        stack.extend(getattr(item, name) for name in item.__slots__)


def _bound_variables(expr) -> set:
    """The variables of the quantifiers and aggregates in an expression."""
    return {node.var for node in _walk(expr) if isinstance(node, (s.Quantifier, s.Aggregate)) and node.var}
