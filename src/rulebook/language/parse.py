"""parse: rule-file text → syntax tree, or diagnostics.

The grammar is `grammar/rulebook.lark`, shipped inside the package. Strings in
messages hold interpolations `{expr}`, parsed here with the same grammar so
that their errors point into the string.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import syntax as s
from .catalogue import word
from .diagnostic import Code, Diagnostic, diagnose
from .message import Message, joined
from .grammar import grammar_text
from .source import Source, Span

@functools.cache
def _parser(concrete: bool = False) -> Lark:
    """The parser; `concrete` keeps every token (keywords and punctuation too) in the tree."""
    return Lark(
        grammar_text(),
        parser="lalr",
        start=["start", "expr"],
        propagate_positions=True,
        maybe_placeholders=False,
        keep_all_tokens=concrete,
        cache=False,
    )


class ParseFailure(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


def parse(source: Source) -> tuple[s.File | None, list[Diagnostic]]:
    """Parse one rule file. Returns the file, or None and its diagnostics."""
    try:
        tree = _parser().parse(source.text, start="start")
        _check_nesting(source, tree, 0)
        decls = _Builder(source, 0).transform(tree)
        file = s.File(source.path, tuple(decls))
        _check_file_nesting(source, file)
        return file, []
    except UnexpectedInput as error:
        return None, [_syntax_diagnostic(source, error, 0)]
    except ParseFailure as failure:
        return None, [failure.diagnostic]
    except VisitError as error:
        if isinstance(error.orig_exc, ParseFailure):
            return None, [error.orig_exc.diagnostic]
        if isinstance(error.orig_exc, RecursionError):
            return None, [_too_deep(Span(source, 0, 0))]
        raise
    except RecursionError:  # interpolations inside texts inside interpolations…, each within the limit
        return None, [_too_deep(Span(source, 0, 0))]


# How deep expressions may nest: far more than a rule needs, and well below what the parser's
# tree walk (Python's recursion limit) and the generated Python (200 nested parentheses) can take.
MAX_NESTING = 100


def _too_deep(span: Span) -> Diagnostic:
    return diagnose(Code.TOO_DEEP, "too_deep", span, limit=MAX_NESTING)


def _check_nesting(source: Source, tree: Tree, base: int) -> None:
    """ParseFailure RB107 if the parse tree is deeper than MAX_NESTING (walked without recursion)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            meta = node.meta
            start = base + meta.start_pos if not getattr(meta, "empty", True) else base
            raise ParseFailure(_too_deep(Span(source, start, start + 1)))
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _check_file_nesting(source: Source, file: s.File) -> None:
    """The same limit on the syntax tree, where interpolations (parsed apart) add up."""
    stack: list = [(file, 0)]
    limit = MAX_NESTING + 20  # the declarations above the expressions
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (tuple, list)):
            stack.extend((item, depth) for item in node)
        elif dataclasses.is_dataclass(node) and type(node).__module__ == s.__name__:
            if depth > limit:
                span = getattr(node, "span", None)
                raise ParseFailure(_too_deep(span if isinstance(span, Span) else Span(source, 0, 0)))
            stack.extend((getattr(node, f.name), depth + 1) for f in dataclasses.fields(node))


# ------------------------------------------------------------ syntax errors

_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": "a text in double quotes",
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "PERCENT": "a percentage",
    "RULE_ID": "a rule id such as `step.photos`",
    "COMPARE": "a comparison (=, !=, <, <=, >, >=)",
    "ROUNDING": "`rounded`",
    "NOT_APPLICABLE": "`not applicable`",
}


def _expected_words(expected) -> Message:
    patterns = {t.name: t.pattern for t in _parser().terminals}
    words = set()
    for name in expected:
        if name in _TERMINAL_WORDS:
            words.add(_TERMINAL_WORDS[name])
        elif name in patterns and patterns[name].type == "str":
            words.add(f"`{patterns[name].value}`")
        elif name != "$END":
            words.add(name.lower())
    ordered = sorted(words, key=lambda w: (not w[1:2].isalpha() and not w.startswith("a "), w))
    if len(ordered) > 8:
        ordered = ordered[:8] + ["…"]
    return word("expected", words=joined(word(w) if w.startswith("a ") else w for w in ordered))


def _expected(expected) -> Message | None:
    """The help line saying what the parser expected, or None when it expected nothing."""
    return _expected_words(expected) if expected else None


def _accepted(error: UnexpectedInput, fallback):
    """What the parser really accepts where it stopped, not the whole merged state's lookahead
    (rules over a batch share their items with case rules)."""
    parser = getattr(error, "interactive_parser", None)
    if parser is not None:
        try:
            return parser.accepts() or fallback
        except Exception:  # noqa: BLE001 - fall back to lark's own list
            pass
    return fallback


def _syntax_diagnostic(source: Source, error: UnexpectedInput, base: int) -> Diagnostic:
    if isinstance(error, UnexpectedCharacters):
        start = base + error.pos_in_stream
        char = source.text[start : start + 1]
        if char == '"':
            return diagnose(Code.BAD_TEXT, "unterminated_text", Span(source, start, start + 1))
        if char in "{}":
            return diagnose(Code.BAD_TEXT, "unbalanced_brace", Span(source, start, start + 1))
        shown = char if char.strip() else repr(char)
        allowed = _accepted(error, error.allowed)
        return diagnose(Code.UNEXPECTED_CHARACTER, "unexpected_character", Span(source, start, start + 1),
                        help=_expected(allowed), char=shown)
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        end = len(source.text) if base == 0 else base
        return diagnose(Code.UNEXPECTED_END, "unexpected_end", Span(source, end, end),
                        help=_expected(error.expected))
    assert isinstance(error, UnexpectedToken)
    expected = _accepted(error, error.expected)
    token = error.token
    start = base + token.start_pos
    end = base + (token.end_pos if token.end_pos is not None else token.start_pos + len(token))
    before = source.text[:start].rstrip().rsplit(None, 1)[-1:] or [""]
    if before[0] in ("any", "all", "count", "each", "first"):
        return diagnose(Code.UNEXPECTED_TOKEN, "unexpected_after", Span(source, start, end),
                        token=token, before=before[0])
    return diagnose(Code.UNEXPECTED_TOKEN, "unexpected_token", Span(source, start, end),
                    help=_expected_words(expected), token=token)


# ------------------------------------------------------------ tree → syntax


def _unescape(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _plain(token: Token) -> str:
    """A STRING token's value, with no interpolation."""
    return _unescape(token[1:-1])


_UNITS = {"yen_unit": "yen", "rate_unit": "rate", "hours_unit": "hours",
          "days_unit": "days", "business_days_unit": "business_days", "months_unit": "months"}


@v_args(meta=True)
class _Builder(Transformer):
    """Builds syntax nodes. `base` shifts offsets for interpolations."""

    def __init__(self, source: Source, base: int):
        super().__init__()
        self.src = source
        self.base = base

    # -- positions
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", False):
            return Span(self.src, self.base, self.base)
        return Span(self.src, self.base + meta.start_pos, self.base + meta.end_pos)

    def _tspan(self, token: Token) -> Span:
        return Span(self.src, self.base + token.start_pos, self.base + token.end_pos)

    def _fail(self, code: str, key: str, span: Span, **values):
        raise ParseFailure(diagnose(code, key, span, **values))

    # -- top level
    def start(self, meta, children):
        return list(children)

    def rulebook_decl(self, meta, children):
        name = _plain(children[0])
        version = title = dated = None
        stages = []
        for item in children[1:]:
            kind, value = item
            if kind == "version":
                version = value
            elif kind == "title":
                title = value
            elif kind == "dated":
                dated = value
            elif kind == "stage":
                stages.append(value)
        return s.RulebookDecl(name, self._span(meta), version, title, dated, tuple(stages))

    def version(self, meta, children):
        return ("version", _plain(children[0]))

    def title(self, meta, children):
        return ("title", children[0])

    def dated(self, meta, children):
        return ("dated", children[0])

    def stage_decl(self, meta, children):
        return ("stage", s.StageDecl(str(children[0]), children[1][1], self._span(meta)))

    def texts(self, meta, children):
        return s.Texts(tuple(children), self._span(meta))

    def lang_text(self, meta, children):
        lang, string = children
        return s.LangText(str(lang), self._template(string), self._span(meta), self._tspan(lang))

    def _template(self, token: Token) -> s.Template:
        """Split a STRING token into literal parts and parsed interpolations."""
        raw = str(token)
        start = token.start_pos
        parts: list = []
        buf: list[str] = []
        i = 1
        end = len(raw) - 1
        while i < end:
            ch = raw[i]
            if ch == "\\" and i + 1 < end:
                buf.append(_unescape(raw[i : i + 2]))
                i += 2
            elif ch == "{":
                close = _closing_brace(raw, i)
                inner = raw[i + 1 : close]
                offset = self.base + start + i + 1
                if not inner.strip():
                    self._fail(Code.BAD_TEXT, "empty_interpolation", Span(self.src, offset - 1, offset + 1))
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(_parse_expression(self.src, inner, offset))
                i = close + 1
            else:
                buf.append(ch)
                i += 1
        if buf:
            parts.append("".join(buf))
        return s.Template(tuple(parts), self._tspan(token))

    # -- records
    def record_decl(self, meta, children):
        return s.RecordDecl(str(children[0]), tuple(children[1:]), self._span(meta))

    def field_decl(self, meta, children):
        return s.FieldDecl(str(children[0]), children[1], tuple(children[2:]), self._span(meta))

    def optional_type(self, meta, children):
        return s.TypeRef("optional", self._span(meta), inner=children[0])

    def list_type(self, meta, children):
        return s.TypeRef("list", self._span(meta), inner=children[0])

    def table_type(self, meta, children):
        return s.TypeRef("table", self._span(meta), inner=children[0], key=children[1])

    def rate_type(self, meta, children):
        return s.TypeRef("named", self._span(meta), name="rate")

    def business_days_type(self, meta, children):
        return s.TypeRef("named", self._span(meta), name="business_days")

    def yen_type(self, meta, children):
        return s.TypeRef("named", self._span(meta), name="yen")

    def named_type(self, meta, children):
        return s.TypeRef("named", self._span(meta), name=str(children[0]))

    def _option(kind):
        def build(self, meta, children):
            value = children[0] if children else None
            if isinstance(value, Token):
                if value.type == "STRING":
                    value = _plain(value)
                elif value.type == "NUMBER":
                    value = self._number(value)
                else:
                    value = str(value)
            return s.FieldOption(kind, value, self._span(meta))
        return build

    default_option = _option("default")
    one_of_option = _option("one_of")
    numbered_option = _option("numbered")
    not_before_option = _option("not_before")
    exactly_option = _option("exactly")
    not_blank_option = _option("not_blank")
    identifier_option = _option("identifier")
    at_least_option = _option("at_least")

    def labels_option(self, meta, children):
        return s.FieldOption("labels", tuple(children), self._span(meta))

    def value_label(self, meta, children):
        value, texts = children
        return s.ValueLabel(_plain(value), texts, self._tspan(value))

    # -- parameters
    def parameter_decl(self, meta, children):
        name, type_ref, *items = children
        titles = tuple(v for k, v in items if k == "title")
        sources = tuple(v for k, v in items if k == "source")
        values = tuple(v for k, v in items if k == "value")
        return s.ParameterDecl(str(name), type_ref, titles, sources, values, self._span(meta))

    def period_value(self, meta, children):
        value, start, *until = children
        return ("value", s.PeriodValue(value, self._date(start), self._date(until[0]) if until else None,
                                       self._span(meta)))

    def source(self, meta, children):
        ref = _plain(children[1]) if len(children) > 1 else None
        return ("source", s.SourceRef(_plain(children[0]), ref, self._span(meta)))

    # -- orders
    def order_decl(self, meta, children):
        return s.OrderDecl(str(children[0]), tuple(children[1:]), self._span(meta))

    def chain(self, meta, children):
        return tuple(children)

    def order_nodes(self, meta, children):
        return tuple(children)

    def each_node(self, meta, children):
        return s.OrderNode(children[0], False, self._span(meta))

    def first_node(self, meta, children):
        return s.OrderNode(children[0], True, self._span(meta))

    def dotted(self, meta, children):
        return tuple(str(c) for c in children)

    # -- rules
    def rule_decl(self, meta, children):
        rule_id, subject, *items = children
        pick = lambda kind: tuple(v for k, v in items if k == kind)  # noqa: E731
        return s.RuleDecl(
            str(rule_id), subject, pick("stage"), pick("title"), pick("source"), pick("dated"),
            pick("effective"), pick("let"), pick("clause"), self._span(meta), self._tspan(rule_id),
        )

    def case_subject(self, meta, children):
        return s.Subject("case", self._span(meta))

    def each_step_subject(self, meta, children):
        return s.Subject("each_step", self._span(meta))

    def numbered_step_subject(self, meta, children):
        return s.Subject("numbered_step", self._span(meta), children[0])

    def stage_ref(self, meta, children):
        return ("stage", (str(children[0]), self._tspan(children[0])))

    def effective(self, meta, children):
        start, *until = children
        return ("effective", s.Effective(self._date(start), self._date(until[0]) if until else None,
                                         self._span(meta)))

    def let(self, meta, children):
        return ("let", s.Let(str(children[0]), children[1], self._span(meta)))

    def when_clause(self, meta, children):
        condition, status, *items = children
        return ("clause", self._clause(meta, condition, status, items))

    def otherwise_clause(self, meta, children):
        status, *items = children
        return ("clause", self._clause(meta, None, status, items))

    def _clause(self, meta, condition, status, items):
        pick = lambda kind: tuple(v for k, v in items if k == kind)  # noqa: E731
        return s.Clause(condition, status, pick("message"), pick("fix"), pick("due"), self._span(meta))

    def message(self, meta, children):
        return ("message", children[0])

    def fix(self, meta, children):
        return ("fix", children[0])

    def due(self, meta, children):
        return ("due", children[0])

    def status(self, meta, children):
        token = str(children[0])
        return "not_applicable" if token.startswith("not") else token

    # -- payout
    def payout_decl(self, meta, children):
        subject, *items = children
        lets = tuple(v for k, v in items if k == "let")
        amounts = tuple(v for k, v in items if k == "amount")
        dated = tuple(v for k, v in items if k == "dated")
        ordered = tuple(v for k, v in items if k in ("let", "amount"))
        return s.PayoutDecl(subject, lets, amounts, self._span(meta), dated, ordered)

    def amount(self, meta, children):
        name, expr, *title = children
        titles = tuple(v for _k, v in title)
        return ("amount", s.Amount(str(name), expr, self._span(meta), titles))

    # -- batch rules
    def batch_rule_decl(self, meta, children):
        rule_id, items, *rest = children
        pick = lambda kind: tuple(v for k, v in rest if k == kind)  # noqa: E731
        return s.BatchRuleDecl(
            str(rule_id), items[0], pick("stage"), pick("title"), pick("source"), pick("where"), pick("group"),
            pick("days"), pick("figure"), pick("let"), pick("clause"), self._span(meta), self._tspan(rule_id),
            items[1],
        )

    def batch_cases(self, meta, children):
        return ("cases", self._span(meta))

    def batch_steps(self, meta, children):
        return ("each_step", self._span(meta))

    def batch_where(self, meta, children):
        return ("where", children[0])

    def batch_group(self, meta, children):
        return ("group", tuple(children))

    def batch_key(self, meta, children):
        expr, *name = children
        return s.BatchKey(expr, str(name[0]) if name else None, self._span(meta),
                          self._tspan(name[0]) if name else None)

    def batch_days(self, meta, children):
        return ("days", s.BatchDays(children[0], children[1], self._span(meta)))

    def _figure(kind):
        def build(self, meta, children):
            name, *expr = children
            return ("figure", s.BatchFigure(kind, str(name), expr[0] if expr else None, self._span(meta),
                                            self._tspan(name)))
        return build

    batch_count = _figure("count")
    batch_sum = _figure("sum")
    batch_spread = _figure("spread")
    batch_max = _figure("max")
    batch_min = _figure("min")

    def batch_clause(self, meta, children):
        condition, *items = children
        return ("clause", self._clause(meta, condition, "finding", items))

    # -- expressions
    def _quantifier(kind):
        def build(self, meta, children):
            var, items, body = children
            return s.Quantifier(kind, str(var), items, body, self._span(meta), self._tspan(var))
        return build

    any_ = _quantifier("any")
    all_ = _quantifier("all")
    count_where = _quantifier("count")
    each_where = _quantifier("each")
    first_where = _quantifier("first")

    def if_else(self, meta, children):
        value, condition, otherwise = children
        return s.IfElse(condition, value, otherwise, self._span(meta))

    def if_missing(self, meta, children):
        return s.IfMissing(children[0], children[1], self._span(meta))

    def or_(self, meta, children):
        return s.Logical("or", children[0], children[1], self._span(meta))

    def and_(self, meta, children):
        return s.Logical("and", children[0], children[1], self._span(meta))

    def not_(self, meta, children):
        return s.Not(children[0], self._span(meta))

    def compare(self, meta, children):
        left, op, right = children
        return s.Compare(str(op), left, right, self._span(meta))

    def _test(test):
        def build(self, meta, children):
            return s.Test(test, children[0], self._span(meta))
        return build

    is_set = _test("set")
    is_missing = _test("missing")
    is_empty = _test("empty")
    is_not_empty = _test("not_empty")
    is_blank = _test("blank")
    is_not_blank = _test("not_blank")

    def member(self, meta, children):
        return s.Member(children[0], children[1], False, self._span(meta))

    def not_member(self, meta, children):
        return s.Member(children[0], children[1], True, self._span(meta))

    def rounded(self, meta, children):
        operand, token = children
        words = str(token).split()
        mode = {"down": "down", "up": "up"}.get(words[-1], "half_up") if len(words) > 1 else "half_up"
        return s.Rounded(operand, mode, self._span(meta))

    def binary(self, meta, children):
        left, op, right = children
        return s.Binary(str(op), left, right, self._span(meta))

    def negate(self, meta, children):
        return s.Negate(children[-1], self._span(meta))

    def count_of(self, meta, children):
        return s.Aggregate("count", children[0], self._span(meta))

    def keys_of(self, meta, children):
        return s.Aggregate("keys", children[0], self._span(meta))

    def call(self, meta, children):
        name, *args = children
        return s.Call(str(name), tuple(args), self._span(meta), self._tspan(name))

    def previous(self, meta, children):
        return s.Previous(str(children[0]), self._span(meta), self._tspan(children[0]))

    def sum_of(self, meta, children):
        body, var, items = children
        return s.Aggregate("sum", items, self._span(meta), str(var), body, self._tspan(var))

    def list_of(self, meta, children):
        body, var, items = children
        return s.Aggregate("list", items, self._span(meta), str(var), body, self._tspan(var))

    def attribute(self, meta, children):
        obj, name = children
        return s.Attribute(obj, str(name), self._span(meta), self._tspan(name))

    def index(self, meta, children):
        return s.Index(children[0], children[1], self._span(meta))

    def name(self, meta, children):
        return s.Name(str(children[0]), self._span(meta))

    def total(self, meta, children):
        return s.Total(str(children[0]), self._span(meta), self._tspan(children[0]))

    def _failure(negated):
        def build(self, meta, children):
            subject = children[0]
            excepted = children[1] if len(children) > 1 else ()
            name = subject.name if isinstance(subject, s.Name) else None
            return s.Failure(negated, name, excepted, self._span(meta))
        return build

    no_failure = _failure(True)
    some_failure = _failure(False)

    def exception(self, meta, children):
        return tuple((str(t), self._tspan(t)) for t in children)

    def out_of_order(self, meta, children):
        return s.OutOfOrder(str(children[0]), self._span(meta), self._tspan(children[0]))

    # -- literals
    def _number(self, token: Token) -> Decimal | int:
        text = str(token)
        return Decimal(text) if "." in text else int(text)

    def _date(self, token: Token) -> dt.date:
        try:
            return dt.date.fromisoformat(str(token))
        except ValueError:
            self._fail(Code.BAD_LITERAL, "not_a_date", self._tspan(token), token=token)

    def number(self, meta, children):
        token = children[0]
        unit = _UNITS[children[1].data] if len(children) > 1 else None
        return s.Literal("number", self._number(token), self._span(meta), unit)

    def percent(self, meta, children):
        try:
            value = Decimal(str(children[0])[:-1]) / 100
        except InvalidOperation:  # pragma: no cover - the terminal only matches numbers
            value = Decimal(0)
        return s.Literal("number", value, self._span(meta), "percent")

    def string(self, meta, children):
        return s.Literal("string", _plain(children[0]), self._span(meta))

    def date(self, meta, children):
        return s.Literal("date", self._date(children[0]), self._span(meta))

    def true(self, meta, children):
        return s.Literal("boolean", True, self._span(meta))

    def false(self, meta, children):
        return s.Literal("boolean", False, self._span(meta))

    def empty(self, meta, children):
        return s.Literal("empty", (), self._span(meta))

    def list_literal(self, meta, children):
        return s.Literal("list", tuple(children), self._span(meta))

    def table_literal(self, meta, children):
        return s.Literal("table", tuple(children), self._span(meta))

    def table_row(self, meta, children):
        key, value = children
        key_value = _plain(key) if key.type == "STRING" else self._number(key)
        return (key_value, value, self._tspan(key))

    def record_literal(self, meta, children):
        return s.Literal("record", tuple(children), self._span(meta))

    def record_field(self, meta, children):
        name, value = children
        return (str(name), value, self._tspan(name))

    def rate_unit(self, meta, children):
        return _UnitMark("rate_unit")

    yen_unit = hours_unit = days_unit = business_days_unit = months_unit = None  # set below


class _UnitMark:
    __slots__ = ("data",)

    def __init__(self, data: str):
        self.data = data


for _unit in ("yen_unit", "hours_unit", "days_unit", "business_days_unit", "months_unit"):
    setattr(_Builder, _unit, v_args(meta=True)(lambda self, meta, children, _u=_unit: _UnitMark(_u)))
_Builder.rate_unit = v_args(meta=True)(lambda self, meta, children: _UnitMark("rate_unit"))


def _closing_brace(raw: str, start: int) -> int:
    """The index of the `}` closing the interpolation opened at `start`."""
    i, in_string = start + 1, False
    while i < len(raw):
        ch = raw[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "}":
            return i
        i += 1
    return len(raw) - 1


def _parse_expression(source: Source, text: str, offset: int) -> s.Expr:
    try:
        tree = _parser().parse(text, start="expr")
    except UnexpectedInput as error:
        if isinstance(error, (UnexpectedEOF,)) or (
            isinstance(error, UnexpectedToken) and error.token.type == "$END"
        ):
            end = offset + len(text)
            raise ParseFailure(diagnose(Code.BAD_TEXT, "incomplete_interpolation", Span(source, offset, end),
                                        help=_expected(error.expected)))
        raise ParseFailure(_syntax_diagnostic(source, error, offset))
    _check_nesting(source, tree, offset)
    try:
        return _Builder(source, offset).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, ParseFailure):
            raise error.orig_exc
        raise


# ------------------------------------------------------- the concrete tree


@dataclasses.dataclass(frozen=True)
class Concrete:
    """A rule file as written, for the passes that rewrite it (the formatter) or point into its
    comments (the language server): lark's tree with every token kept, and the comments, which
    the grammar skips and the syntax tree does not hold."""

    tree: Tree
    tokens: tuple[Token, ...]  # every token of the tree, in order
    comments: tuple[Token, ...]  # every `# …` comment, in order (type COMMENT)


_COMMENT = re.compile(r"#[^\n]*")


def parse_concrete(source: Source) -> Concrete | None:
    """The concrete tree of a rule file, or None if it does not parse (`parse` says why).

    Between two tokens there is only what the grammar skips, whitespace and comments, so the
    comments are found in those gaps, without a second lexer."""
    try:
        tree = _parser(concrete=True).parse(source.text, start="start")
    except UnexpectedInput:
        return None
    tokens = tuple(tree.scan_values(lambda v: isinstance(v, Token)))
    comments = []
    start = 0
    for end, after in [(t.start_pos, t.end_pos) for t in tokens] + [(len(source.text), None)]:
        for found in _COMMENT.finditer(source.text, start, end):
            line, column = source.position(found.start())
            comments.append(Token("COMMENT", found.group().rstrip(), found.start(), line, column,
                                  end_pos=found.start() + len(found.group().rstrip())))
        start = after if after is not None else end
    return Concrete(tree, tokens, tuple(comments))
