"""check: syntax → Program, or every problem at once.

Checks the declarations — records, parameters, orders, rules and their clauses,
lets, payouts — and finds unreachable clauses and rules that read their own
results through the payout; every expression is typed by `infer` (names, kinds,
units, and reads of values that may be missing). All diagnostics are collected
and returned sorted by position.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from . import datatype as t
from . import syntax as s
from .check_batch import BatchChecker
from .catalogue import word
from .diagnostic import Code, Diagnostic, diagnose, did_you_mean
from .message import LANGUAGES, Message, joined
from .infer import UNIT_KINDS, Binding, Env, Typer, canonical, key_of, with_prefixes
from .program import Clause, Order, OrderNode, Parameter, PayoutSection, Program, Rule
from .schema import ROOT, declare, resolve_type
from .value import row

BUILTINS = {"as_of": t.DATE}


class _Checker(BatchChecker, Typer):
    """Checks the declarations of the rule files; types their expressions as `Typer` does."""

    def __init__(self, files: list[s.File]):
        self.files = files
        self.diags: list[Diagnostic] = []
        self.types: dict[int, t.Type] = {}
        self.reads_payout = False
        self.step_amounts: dict[str, t.Type] = {}
        self.case_amounts: dict[str, t.Type] = {}
        self.rule_ids: dict[str, s.RuleDecl] = {}
        self.rules_by_subject: dict[str, str] = {}

    # ------------------------------------------------------------ reporting
    def error(self, code, key, span, /, help: Message | None = None, env: Env | None = None, **values):
        """Report diagnostic `code.key` of the catalogue (`help`, if given, instead of its help)."""
        if env is not None and env.strict != (code == Code.MAY_BE_MISSING):
            return  # lenient pass reports all but RB302; strict pass only RB302
        self.diags.append(diagnose(code, key, span, help, **values))

    def result(self) -> list[Diagnostic]:
        seen, out = set(), []
        for d in sorted(self.diags, key=Diagnostic.sort_key):
            key = (d.code, d.message, d.span.sort_key() if d.span else None)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    # ------------------------------------------------------------- the run
    def run(self) -> Program | None:
        decls = [d for f in self.files for d in f.decls]
        of = lambda kind: [d for d in decls if isinstance(d, kind)]  # noqa: E731
        headers = of(s.RulebookDecl)
        if not headers:
            first = decls[0].span if decls else None
            self.error(Code.MISSING_PART, "no_header", first)
        for extra in headers[1:]:
            self.error(Code.DUPLICATE, "duplicate_header", extra.span, first=headers[0].span)
        header = headers[0] if headers else None

        self.schema = declare(of(s.RecordDecl), self.diags, self.texts)
        self.steps_field = self._steps_field()
        root = self.schema.records.get(ROOT)
        self.root_names = {}
        if root:
            for name, f in root.fields.items():
                self.root_names[name] = Binding("field", f.type)

        stages = []
        if header:
            seen = {}
            for st in header.stages:
                if st.name in seen:
                    self.error(Code.DUPLICATE, "duplicate_stage", st.span, stage=st.name)
                    continue
                seen[st.name] = st
                stages.append((st.name, self.texts(st.title, "title", st.span, plain=True)))
        self.stage_names = [name for name, _ in stages]

        self.parameters = self.check_parameters(of(s.ParameterDecl))
        self.param_names = {n: Binding("param", p.type) for n, p in self.parameters.items()}
        self.orders = self.check_orders(of(s.OrderDecl))

        payouts = of(s.PayoutDecl)
        self._declare_amounts(payouts)

        dated = None
        if header and header.dated is not None:
            dated = header.dated
            self.check_expr_both(dated, self.base_env("header"), want=t.DATE, what="the parameters' date")

        rule_decls = of(s.RuleDecl)
        for decl in rule_decls:
            if decl.id in self.rule_ids:
                self.error(Code.DUPLICATE_RULE, "duplicate_rule", decl.id_span, rule=decl.id,
                           first=self.rule_ids[decl.id].id_span)
            else:
                self.rule_ids[decl.id] = decl
                self.rules_by_subject[decl.id] = decl.subject.kind
        rules = [self.check_rule(decl, i) for i, decl in enumerate(rule_decls)]

        step_payout = case_payout = None
        for decl in payouts:
            section = self.check_payout(decl)
            if section.subject == "each_step":
                step_payout = section
            else:
                case_payout = section
        self.check_dependencies(rules, payouts)
        batch_rules = self.check_batch_rules(of(s.BatchRuleDecl))

        if header is None or any(d.severity == "error" for d in self.diags):
            return None
        return Program(
            name=header.name,
            version=header.version or "0",
            titles=self.texts(header.title, "title", header.span, plain=True) if header.title else {},
            stages=stages,
            schema=self.schema,
            steps_field=self.steps_field,
            parameters=self.parameters,
            orders=self.orders,
            rules=rules,
            step_payout=step_payout,
            case_payout=case_payout,
            dated=dated,
            types=self.types,
            batch_rules=batch_rules,
        )

    def _steps_field(self) -> str | None:
        root = self.schema.records.get(ROOT)
        if not root:
            return None
        for name, f in root.fields.items():
            if f.numbered_by and f.type.kind == "list" and f.type.inner.kind == "record":
                return name
        return None

    def step_type(self) -> t.Type | None:
        if self.steps_field is None:
            return None
        return self.schema.root.fields[self.steps_field].type.inner

    # -------------------------------------------------------------- texts
    def texts(self, texts: s.Texts | None, what: str | Message, span, plain=False, env: Env | None = None) -> dict:
        """{lang: text} of a text given in each language; `what` names it in messages (a key of
        the catalogue's words, or a Message)."""
        out: dict = {}
        if texts is None:
            return out
        what = what if isinstance(what, Message) else word(what)
        for item in texts.items:
            if item.lang not in LANGUAGES:
                self.error(Code.UNKNOWN_LANGUAGE, "unknown_language", item.lang_span, did_you_mean(item.lang, LANGUAGES),
                           lang=item.lang)
                continue
            if item.lang in out:
                self.error(Code.GIVEN_TWICE, "text_twice", item.lang_span, what=what, lang=item.lang)
                continue
            if plain and any(not isinstance(p, str) for p in item.text.parts):
                self.error(Code.BAD_TEXT, "interpolation_not_allowed", item.text.span, what=what)
            out[item.lang] = "".join(p for p in item.text.parts if isinstance(p, str)) if plain else item.text
        for lang in LANGUAGES:
            if lang not in out:
                self.error(Code.MISSING_LANGUAGE, "missing_language", texts.span, what=what, lang=lang)
        return out

    # -------------------------------------------------------- parameters
    def check_parameters(self, decls) -> dict[str, Parameter]:
        out: dict[str, Parameter] = {}
        for decl in decls:
            if decl.name in out:
                self.error(Code.DUPLICATE, "duplicate_parameter", decl.span, name=decl.name)
                continue
            ptype = resolve_type(decl.type, set(self.schema.records), self.diags)
            titles = self.one(decl.titles, "title", decl.span, decl.name)
            sources = self.one(decl.sources, "source", decl.span, decl.name)
            values = []
            for pv in decl.values:
                value = self.literal_value(pv.value, ptype)
                if pv.until is not None and pv.until < pv.start:
                    self.error(Code.BAD_PARAMETER_VALUE, "ends_before_start", pv.span)
                values.append((pv.start, pv.until, value, pv.span))
            if not values:
                self.error(Code.MISSING_PART, "no_value", decl.span, name=decl.name)
            values.sort(key=lambda v: v[0])
            for (a_start, a_until, _, _), (b_start, _, _, b_span) in zip(values, values[1:]):
                if a_until is None or a_until >= b_start:
                    self.error(Code.BAD_PARAMETER_VALUE, "overlap", b_span, name=decl.name)
            out[decl.name] = Parameter(
                decl.name, ptype,
                self.texts(titles, "title", decl.span, plain=True) if titles else {},
                (sources.text, sources.ref) if sources else ("", None),
                tuple((a, b, v) for a, b, v, _ in values),
            )
        return out

    def one(self, items, what, span, owner):
        if not items:
            self.error(Code.MISSING_PART, "no_part", span, owner=owner, what=word(what), keyword=what)
            return None
        for extra in items[1:]:
            self.error(Code.GIVEN_TWICE, "part_twice", extra.span, owner=owner, what=word(f"{what}s"), one=word(what))
        return items[0]

    def literal_value(self, lit: s.Literal, want: t.Type):
        """The Python value of a parameter literal, checked against its type."""
        kind = want.kind
        if kind == "error":
            return None
        if kind == "list":
            if lit.kind == "empty":
                return ()
            if lit.kind != "list":
                return self._bad_literal(lit, want)
            return tuple(self.literal_value(item, want.inner) for item in lit.value)
        if kind == "table":
            if lit.kind != "table":
                return self._bad_literal(lit, want)
            table = {}
            for key, value, key_span in lit.value:
                if (want.key.kind == "text") != isinstance(key, str):
                    self.error(Code.BAD_PARAMETER_VALUE, "key_kind", key_span, key=key, want=want.key.describe())
                table[key] = self.literal_value(value, want.inner)
            return table
        if kind == "record":
            if lit.kind != "record":
                return self._bad_literal(lit, want)
            return self.record_value(lit, want.record)
        if lit.kind == "string" and kind == "text":
            return lit.value
        if lit.kind == "date" and kind == "date":
            return lit.value
        if lit.kind == "boolean" and kind == "boolean":
            return lit.value
        if lit.kind == "number":
            unit = UNIT_KINDS.get(lit.unit)
            if unit == kind or (unit is None and kind in ("integer", "decimal")):
                if kind == "integer" and not isinstance(lit.value, int):
                    return self._bad_literal(lit, want)
                return lit.value
        return self._bad_literal(lit, want)

    def record_value(self, lit: s.Literal, name: str):
        """A record written as a parameter's value: each field given once, each required one
        given, each of its type."""
        record = self.schema.records.get(name)
        if record is None:
            return None
        given: dict = {}
        unknown = False
        for field, value, span in lit.value:
            if field not in record.fields:
                self.error(Code.UNKNOWN_FIELD, "unknown_field", span, did_you_mean(field, record.fields), field=field,
                           record=name)
                unknown = True
            elif field in given:
                self.error(Code.GIVEN_TWICE, "field_twice", span, field=field)
            else:
                given[field] = value
        pairs = []
        for field, declared in record.fields.items():
            if field in given:
                pairs.append((field, self.literal_value(given[field], declared.type.required())))
            elif declared.has_default:
                pairs.append((field, declared.default))
            elif declared.type.optional or unknown:  # a misspelt field is reported once, as unknown
                pairs.append((field, None))
            else:
                self.error(Code.MISSING_PART, "record_field_missing", lit.span, record=name, field=field,
                           type=declared.type.describe())
                pairs.append((field, None))
        return row(name, pairs)

    def _bad_literal(self, lit, want):
        example = {"yen": "3500 yen", "rate": "500 yen per hour", "days": "10 days", "business_days": "3 business days",
                   "months": "6 months", "hours": "40 hours", "percent": "20%"}.get(want.kind)
        hint = word("write_record_as", record=want.record) if want.kind == "record" else \
            word("write_as", example=example) if example else None
        self.error(Code.BAD_PARAMETER_VALUE, "value_kind", lit.span, hint, want=want.describe())
        return None

    # ------------------------------------------------------------ orders
    def check_orders(self, decls) -> dict[str, Order]:
        out = {}
        step = self.step_type()
        for decl in decls:
            if decl.name in out:
                self.error(Code.DUPLICATE, "duplicate_order", decl.span, name=decl.name)
                continue
            nodes: dict[tuple, int] = {}
            edges = []

            def node_index(node: s.OrderNode) -> int:
                path = node.path
                if path[0] == "step" and len(path) > 1:
                    scope, rest = ("first" if node.first else "step"), path[1:]
                    base = step
                    if base is None:
                        self.error(Code.MISSING_PART, "no_steps", node.span)
                else:
                    scope, rest = "case", path
                    base = t.record(ROOT)
                    if node.first:
                        self.error(Code.OUT_OF_PLACE, "first_before_step", node.span)
                ftype = self.resolve_path(base, rest, node.span) if base else t.ERROR
                if ftype.kind not in ("date", "error"):
                    self.error(Code.TYPE_MISMATCH, "order_not_a_date", node.span, path=".".join(path), found=ftype.describe())
                key = (scope, rest)
                if key not in nodes:
                    nodes[key] = len(nodes)
                return nodes[key]

            for chain in decl.chains:
                groups = [[node_index(n) for n in group] for group in chain]
                for before, after in zip(groups, groups[1:]):
                    for a in before:
                        for b in after:
                            if (a, b) not in edges:
                                edges.append((a, b))
            ordered = sorted(nodes.items(), key=lambda kv: kv[1])
            out[decl.name] = Order(decl.name, tuple(OrderNode(scope, path) for (scope, path), _ in ordered),
                                   tuple(edges))
            self._check_acyclic(out[decl.name], decl)
        return out

    def _check_acyclic(self, order: Order, decl) -> None:
        succ = {i: [] for i in range(len(order.nodes))}
        for a, b in order.edges:
            succ[a].append(b)
        state = {}

        def visit(i) -> bool:
            state[i] = 1
            for j in succ[i]:
                if state.get(j) == 1 or (j not in state and not visit(j)):
                    return False
            state[i] = 2
            return True

        for i in succ:
            if i not in state and not visit(i):
                self.error(Code.CYCLE, "order_cycle", decl.span, name=order.name)
                return

    def resolve_path(self, base: t.Type, path, span) -> t.Type:
        current = base
        for name in path:
            if current.kind != "record":
                self.error(Code.TYPE_MISMATCH, "no_fields", span, name=name, found=current.describe())
                return t.ERROR
            record = self.schema.records.get(current.record)
            if record is None or name not in record.fields:
                fields = record.fields if record else {}
                self.error(Code.UNKNOWN_FIELD, "unknown_field", span, did_you_mean(name, fields), field=name,
                           record=current.record)
                return t.ERROR
            optional = current.optional
            current = record.fields[name].type
            if optional:
                current = current.maybe()
        return current

    # ------------------------------------------------------------- scopes
    def base_env(self, context: str) -> Env:
        names = dict(self.root_names)
        if context != "header":
            names.update(self.param_names)
        for name, typ in BUILTINS.items():
            names[name] = Binding("builtin", typ)
        if context == "rule" and self.case_amounts:
            names["payout"] = Binding("payout", t.record("payout"))
        return Env(names, context=context)

    def _declare_amounts(self, payouts) -> None:
        for decl in payouts:
            target = self.step_amounts if decl.subject.kind == "each_step" else self.case_amounts
            for amount in decl.amounts:
                target[amount.name] = t.YEN
        seen: dict[str, s.PayoutDecl] = {}
        for decl in payouts:
            if decl.subject.kind == "numbered_step":
                self.error(Code.OUT_OF_PLACE, "payout_subject", decl.subject.span)
            elif decl.subject.kind in seen:
                self.error(Code.DUPLICATE, "duplicate_payout", decl.span)
            seen[decl.subject.kind] = decl

    # -------------------------------------------------------------- rules
    def check_rule(self, decl: s.RuleDecl, index: int) -> Rule:
        self.reads_payout = False
        env = self.base_env("rule")
        subject = decl.subject
        number = None
        if subject.kind in ("each_step", "numbered_step"):
            step = self.step_type()
            if step is None:
                self.error(Code.MISSING_PART, "no_steps", subject.span)
                step = t.ERROR
            if subject.kind == "numbered_step":
                number = subject.number
                self.check_expr_both(number, env, want=t.INTEGER, what="the step number", allow_optional=True)
                step = step.maybe()
            env = env.bind("step", Binding("step", step))
        title = self.one(decl.titles, "title", decl.id_span, decl.id)
        titles = self.texts(title, "title", decl.id_span, plain=True) if title else {}
        source = self.one(decl.sources, "source", decl.id_span, decl.id)
        stage_ref = self.one([_Spanned(n, sp) for n, sp in decl.stages], "stage", decl.id_span, decl.id)
        stage = ""
        if stage_ref:
            stage = stage_ref.value
            if self.stage_names and stage not in self.stage_names:
                self.error(Code.UNKNOWN_STAGE, "unknown_stage", stage_ref.span, did_you_mean(stage, self.stage_names),
                           stage=stage, stages=joined(self.stage_names))
        dated = None
        if decl.dated:  # the day the rule's parameters are taken on: may read the step it judges
            dated = self.one(list(decl.dated), "parameters date", decl.id_span, decl.id)
            dated_env = self.base_env("header")
            if "step" in env.names:
                dated_env = dated_env.bind("step", env.names["step"])
            self.check_expr_both(dated, dated_env, want=t.DATE, what="the parameters' date")
        effective = None
        if decl.effective:
            eff = self.one(list(decl.effective), "effective period", decl.id_span, decl.id)
            effective = (eff.start, eff.until)
        env, lets = self.declare_lets(decl.lets, env)
        clauses = self.check_clauses(decl, env)
        reads = self.reads_payout
        return Rule(index, decl.id, subject.kind, number, stage, titles,
                    (source.text, source.ref) if source else ("", None), dated, effective, lets,
                    tuple(clauses), reads, decl.span)

    def declare_lets(self, decl_lets, env: Env):
        lets = {}
        for let in decl_lets:
            if not self.free_name(let, let.name in lets, env):
                continue
            lets[let.name] = let.expr
            env = env.bind(let.name, Binding("let", None, let.expr, None))
        # lets see each other and the rule's names; bind their defining scope
        scope = dict(env.names)
        names = dict(env.names)
        for name, expr in lets.items():
            names[name] = Binding("let", None, expr, scope)
        for name in lets:
            scope[name] = names[name]
        env = replace(env, names=names)
        for name, expr in lets.items():
            self.infer(expr, replace(env, lets_in_progress=(name,)))
        return env, lets

    def free_name(self, let: s.Let, taken: bool, env: Env) -> bool:
        """Whether a let's name is its own: not defined before here, nor a field's, a
        parameter's or a built-in name (RB204 otherwise)."""
        kind = env.names[let.name].kind if let.name in env.names else None
        if taken or kind in ("let", "step", "amount"):
            self.error(Code.DUPLICATE, "duplicate_let", let.span, name=let.name)
            return False
        if kind in ("field", "param", "builtin", "payout"):
            self.error(Code.DUPLICATE, "let_hides", let.span, name=let.name, kind=word(_KIND_WORDS[kind]))
            return False
        return True

    def check_clauses(self, decl: s.RuleDecl, env: Env) -> list[Clause]:
        out = []
        known = frozenset()
        seen_conditions: dict[str, s.Clause] = {}
        after_otherwise = None
        for i, clause in enumerate(decl.clauses):
            if after_otherwise is not None:
                self.error(Code.UNREACHABLE, "after_otherwise", clause.span, first=after_otherwise.span)
            strict = replace(env, known=known, strict=True)
            body = strict
            if clause.condition is not None:
                cond = clause.condition
                self.check_expr_both(cond, replace(env, known=known), want=t.BOOLEAN, what="a condition")
                text = canonical(cond)
                if text in seen_conditions:
                    self.error(Code.UNREACHABLE, "same_condition", clause.span, first=seen_conditions[text].span)
                elif isinstance(cond, s.Test) and cond.test == "missing" and key_of(cond.operand) in known:
                    self.error(Code.UNREACHABLE, "known_set", clause.span, key=key_of(cond.operand))
                elif isinstance(cond, s.Literal) and cond.value is False:
                    self.error(Code.UNREACHABLE, "false", clause.span)
                seen_conditions.setdefault(text, clause)
                when_true, when_false = self.facts(cond)
                body = strict.knowing(when_true)
                known = known | with_prefixes(when_false)
            else:
                after_otherwise = clause
            message = self.one(clause.messages, "message", clause.span, decl.id)
            fix = clause.fixes[0] if clause.fixes else None
            for extra in clause.fixes[1:]:
                self.error(Code.GIVEN_TWICE, "fixes_twice", extra.span, rule=decl.id)
            due = clause.dues[0] if clause.dues else None
            for extra in clause.dues[1:]:
                self.error(Code.GIVEN_TWICE, "due_twice", extra.span, rule=decl.id)
            msg = self.template_texts(message, "message", clause.span, body)
            fix_texts = self.template_texts(fix, "fix", clause.span, body) if fix else None
            if due is not None:
                self.check_expr_both(due, replace(body, strict=False), want=t.DATE, what="a due date",
                                     strict_env=body)
            out.append(Clause(i, clause.condition, clause.status, msg, fix_texts, due, clause.span))
        if after_otherwise is None and decl.clauses:
            last = decl.clauses[-1]
            self.error(Code.NO_OTHERWISE, "no_otherwise", last.span, rule=decl.id)
        elif not decl.clauses:
            self.error(Code.MISSING_PART, "no_clauses", decl.id_span, rule=decl.id)
        return out

    def template_texts(self, texts, what, span, body: Env) -> dict:
        out = self.texts(texts, what, span) if texts else {}
        for template in out.values():
            for part in template.parts:
                if isinstance(part, str):
                    continue
                if self._shown_or_said(part, body):
                    continue
                self.check_expr_both(part, replace(body, strict=False), want=None, what="an interpolation",
                                     strict_env=body)
        return out

    def _shown_or_said(self, part, body: Env) -> bool:
        """`{x if missing "記録なし"}` with x not a text: shown as x, or as the words where x is
        missing (a text says what it likes about a missing value). True when the part is one."""
        if not (isinstance(part, s.IfMissing) and isinstance(part.default, s.Literal)
                and part.default.kind == "string"):
            return False
        value = self.infer(part.value, replace(body, strict=False))
        if value.kind in ("text", "error"):
            return False
        self.check_expr_both(part.value, replace(body, strict=False), want=None, what="an interpolation",
                             allow_optional=True, strict_env=body)
        self.types[id(part.default)] = t.TEXT
        self.types[id(part)] = value.required()
        return True

    # ------------------------------------------------------------- payout
    def check_payout(self, decl: s.PayoutDecl) -> PayoutSection:
        """A payout section: its lets and amounts in the order written, each seeing the lets and
        amounts before it (so a let may read an earlier amount); every amount in whole yen and
        titled in both languages; `parameters dated` the day its parameters are read on."""
        self.reads_payout = False
        context = "step_payout" if decl.subject.kind == "each_step" else "case_payout"
        env = self.base_env(context)
        step = None
        if context == "step_payout":
            step = self.step_type()
            if step is None:
                self.error(Code.MISSING_PART, "no_steps", decl.subject.span)
            env = env.bind("step", Binding("step", step or t.ERROR))
        dated = None
        if decl.dated:
            dated = self.one(list(decl.dated), "parameters date", decl.subject.span, "the payout")
            dated_env = self.base_env("header")
            if step is not None:
                dated_env = dated_env.bind("step", Binding("step", step))
            self.check_expr_both(dated, dated_env, want=t.DATE, what="the parameters' date")
        lets: dict = {}
        amounts: list = []
        titles: dict = {}
        for item in decl.items or decl.lets + decl.amounts:
            taken = item.name in lets or any(name == item.name for name, _ in amounts)
            if isinstance(item, s.Let):
                if not self.free_name(item, taken, env):
                    continue
                self.infer(item.expr, replace(env, lets_in_progress=(item.name,)))
                lets[item.name] = item.expr
                env = env.bind(item.name, Binding("let", None, item.expr, dict(env.names)))
                continue
            if taken:
                self.error(Code.DUPLICATE, "duplicate_amount", item.span, name=item.name)
                continue
            typ = self.check_expr_both(item.expr, env, want=None, what="an amount")
            if typ.kind == "yen" and typ.fractional:
                self.error(Code.FRACTION_OF_A_YEN, "amount_fraction", item.expr.span, name=item.name)
            elif typ.kind not in ("yen", "error"):
                self.error(Code.TYPE_MISMATCH, "amount_not_yen", item.expr.span, name=item.name, found=typ.describe())
            title = self.one(list(item.titles), "title", item.span, item.name) if not item.titles else item.titles[0]
            for extra in item.titles[1:]:
                self.error(Code.GIVEN_TWICE, "titles_twice", extra.span, name=item.name)
            if title is not None:
                titles[item.name] = self.texts(title, "title", item.span, plain=True)
            amounts.append((item.name, item.expr))
            env = env.bind(item.name, Binding("amount", t.YEN))
        return PayoutSection(decl.subject.kind, lets, tuple(amounts), dated, titles)

    def check_dependencies(self, rules: list[Rule], payouts) -> None:
        reads = {r.id: r for r in rules if r.reads_payout}
        for decl in payouts:
            for failure in _walk_failures(decl):
                excepted = {rid for rid, _ in failure.excepted}
                for rid, rule in reads.items():
                    covered = (rule.subject in ("case", "numbered_step")) if failure.subject is None \
                        else (rule.subject in ("each_step", "numbered_step"))
                    if covered and rid not in excepted:
                        self.error(Code.CYCLE, "payout_cycle", failure.span, rule=rid)

@dataclass(frozen=True)
class _Spanned:
    value: str
    span: object


_KIND_WORDS = {"field": "field of the case", "param": "parameter", "builtin": "built-in name",
               "payout": "built-in name"}


def _walk_failures(node):
    """Every `no failure` / `some failure` in a payout declaration."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, s.Failure):
            yield item
            continue
        if isinstance(item, (str, int, float, bool, type(None), dt.date)) or not hasattr(item, "__slots__"):
            if isinstance(item, tuple):
                stack.extend(item)
            continue
        for name in item.__slots__:
            value = getattr(item, name)
            if isinstance(value, tuple):
                stack.extend(value)
            elif hasattr(value, "__slots__"):
                stack.append(value)


def check(files: list[s.File]) -> tuple[Program | None, list[Diagnostic]]:
    """Check parsed rule files. Returns the program (or None) and the diagnostics."""
    checker = _Checker(files)
    program = checker.run()
    return program, checker.result()
