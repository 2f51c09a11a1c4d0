"""format: a rule file → the same rules in the one canonical layout, every comment kept.

The layout: declarations apart by one blank line; a declaration's items indented by two spaces
and a clause's by two more; one blank line kept between items where the author left one; a
title on one line when it fits in `WIDTH` columns, else one language a line with the texts
lined up; a message and a fix always one language a line; a long condition broken before
`and` / `or` (as many on a line as fit), lined up after `when`; a long quantifier broken before
`where`; a list or table that does not fit, one item a line; the stages of the header as a
table; comments at the ends of consecutive lines lined up. Texts are kept as written,
interpolations included. Formatting changes nothing that the parser sees, and formatting the
result again changes nothing (both tested on every rule file).

Each kind of node of the concrete tree (one per rule or alias of the grammar, `node_kinds`) has
one method `kind_<name>` giving its layout document; a test fails when the grammar has a kind
that has no method, so a new construct of the language needs one small method here.
"""

from __future__ import annotations

import functools

from lark import Token, Tree

from .diagnostic import Diagnostic
from .layout import HARDLINE, LINE, SOFTLINE, Align, Cell, Comment, Fill, Nest, Text, group, join, render
from .parse import Concrete, _parser, parse, parse_concrete
from .source import Source

WIDTH = 100
INDENT = 2

_NO_SPACE_BEFORE = {"COLON", "COMMA", "DOT", "RPAR", "RSQB"}
_NO_SPACE_AFTER = {"DOT", "LPAR", "LSQB"}


def format_source(source: Source) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text of a rule file, or None and the diagnostics of a file that does not parse."""
    _file, diagnostics = parse(source)
    if diagnostics:
        return None, diagnostics
    concrete = parse_concrete(source)
    if concrete is None:  # pragma: no cover - parse() accepted it, so the same grammar does
        return None, diagnostics
    return _Formatter(source, concrete).run(), []


@functools.cache
def node_kinds() -> frozenset[str]:
    """Every kind of node the concrete tree can hold: the grammar's rules and aliases, but those
    lark inlines (`_rule`, and `?rule` alternatives of one child)."""
    kinds = set()
    for rule in _parser(concrete=True).rules:
        if rule.alias:
            kinds.add(str(rule.alias))
        elif not rule.origin.name.startswith("_") and not (rule.options.expand1 and len(rule.expansion) == 1):
            kinds.add(str(rule.origin.name))
    return frozenset(kinds)


class _Formatter:
    def __init__(self, source: Source, concrete: Concrete):
        self.text = source.text
        self.concrete = concrete
        # Comments on a line of their own go before the token after them, with whether a blank
        # line comes before each; a comment after code goes after the token before it.
        self.leading: dict[int, list[tuple[str, bool]]] = {}
        self.trailing: dict[int, str] = {}
        self.closing: list[tuple[str, bool]] = []  # after the last token
        self.blank_before: dict[int, bool] = {}  # token start → a blank line before it (or its comments)
        self._attach()

    # ------------------------------------------------------------- comments
    def _attach(self) -> None:
        tokens, comments = self.concrete.tokens, self.concrete.comments
        text = self.text
        position = 0  # end of what came before: a token or a comment
        previous_token = None
        c = 0
        for token in list(tokens) + [None]:
            limit = token.start_pos if token is not None else len(text)
            while c < len(comments) and comments[c].start_pos < limit:
                comment = comments[c]
                gap = text[position:comment.start_pos]
                if previous_token is not None and position == previous_token.end_pos and "\n" not in gap:
                    self.trailing[previous_token.start_pos] = str(comment)
                else:
                    entry = (str(comment), gap.count("\n") >= 2)
                    if token is None:
                        self.closing.append(entry)
                    else:
                        self.leading.setdefault(token.start_pos, []).append(entry)
                position = comment.end_pos
                c += 1
            if token is not None:
                self.blank_before[token.start_pos] = text[position:token.start_pos].count("\n") >= 2
                position = token.end_pos
                previous_token = token

    def tok(self, token: Token) -> list:
        """A token, with the comments that go before and after it."""
        out: list = [Comment(text, own_line=True) for text, _blank in self.leading.pop(token.start_pos, ())]
        out.append(Text(_spelling(token)))
        if token.start_pos in self.trailing:
            out.append(Comment(self.trailing.pop(token.start_pos)))
        return out

    # --------------------------------------------------------------- blocks
    def run(self) -> str:
        out = render(self.fmt(self.concrete.tree), WIDTH)
        return out + "\n" if out else ""

    def _items(self, items: list, top: bool = False) -> list:
        """Items one a line, each after the comments on the lines before it; blank lines as the
        author left them between items (at most one), and always one between declarations."""
        out: list = []
        for i, item in enumerate(items):
            first = next(item.scan_values(lambda v: isinstance(v, Token)))
            comments = self.leading.pop(first.start_pos, [])
            blank = comments[0][1] if comments else self.blank_before.get(first.start_pos, False)
            if i or not top:
                out.append(HARDLINE)
            if i and (top or blank):
                out.append(HARDLINE)
            for j, (comment, comment_blank) in enumerate(comments):
                if j and comment_blank:
                    out.append(HARDLINE)
                out.extend([Comment(comment, own_line=True), HARDLINE])
            if comments and self.blank_before.get(first.start_pos):
                out.append(HARDLINE)
            out.append(self.fmt(item))
        return out

    def block(self, head, items: list) -> list:
        """A declaration or clause: its head, then its items indented below it."""
        return [head, Nest(INDENT, self._items(items))] if items else [head]

    # -------------------------------------------------------------- helpers
    def fmt(self, node) -> object:
        if isinstance(node, Token):
            return self.tok(node)
        return getattr(self, f"kind_{node.data}")(node)

    def spaced(self, children) -> list:
        """Children one space apart, but none around `.`, inside brackets, before `,` and `:`."""
        out: list = []
        previous = None
        for child in children:
            if previous is not None and _type(child) not in _NO_SPACE_BEFORE and _type(previous) not in _NO_SPACE_AFTER:
                out.append(Text(" "))
            out.append(self.fmt(child))
            previous = child
        return out

    def words(self, node) -> list:
        return self.spaced(node.children)

    def split_items(self, node, head: int) -> list:
        """The head of a declaration (its first `head` children), then its items in a block."""
        return self.block(self.spaced(node.children[:head]), node.children[head:])

    def chain_parts(self, node) -> list:
        """`a and b and c` as fill parts: a, line, `and b`, line, `and c` (one operator)."""
        op = node.data
        operands: list = []
        current = node
        while isinstance(current, Tree) and current.data == op:
            left, keyword, right = current.children
            operands.append((keyword, right))
            current = left
        parts: list = [self.fmt(current)]
        for keyword, right in reversed(operands):
            parts.extend([LINE, [self.tok(keyword), Text(" "), self.fmt(right)]])
        return parts

    def bracketed(self, node, children=None) -> object:
        """`[a, b]` / `{k: v}` on one line when it fits, else one item a line."""
        opening, *inner, closing = node.children if children is None else children
        if not inner:
            return [self.tok(opening), self.tok(closing)]
        return group(self.tok(opening), Nest(INDENT, [SOFTLINE, self.separated(inner)]), SOFTLINE, self.tok(closing))

    def separated(self, children) -> list:
        """Items and their commas, a line (a space or a line break) after each comma."""
        out: list = []
        for child in children:
            out.extend([self.tok(child), LINE] if _type(child) == "COMMA" else [self.fmt(child)])
        return out

    def texts(self, node, stacked: bool) -> object:
        """The languages of a text: stacked one a line, or on one line when it fits."""
        items = [self.fmt(child) for child in node.children]
        if stacked:
            return Align(join(HARDLINE, items))
        return group(Align(join(LINE, items)))

    # --------------------------------------------------------- declarations
    def kind_start(self, node):
        """The declarations, then the comments after the last one."""
        decls = [child for child in node.children if isinstance(child, Tree)]
        doc: list = [self._items(decls, top=True)]
        for i, (comment, blank) in enumerate(self.closing):
            if decls or i:
                doc.append(HARDLINE)
                if blank or (decls and i == 0):
                    doc.append(HARDLINE)
            doc.append(Comment(comment, own_line=True))
        return doc

    def kind_rulebook_decl(self, node):
        return self.split_items(node, 2)

    kind_version = kind_dated = kind_lang_text = words

    def kind_title(self, node):
        keyword, texts = node.children
        return [self.tok(keyword), Text(" "), self.texts(texts, stacked=False)]

    def kind_texts(self, node):
        return self.texts(node, stacked=False)

    def kind_stage_decl(self, node):
        keyword, name, title = node.children
        title_keyword, texts = title.children
        cells = join(Cell(), [self.fmt(item) for item in texts.children])
        return [self.tok(keyword), Text(" "), self.tok(name), Cell(), self.tok(title_keyword), Text(" "), cells]

    def kind_record_decl(self, node):
        return self.split_items(node, 2)

    def kind_field_decl(self, node):
        name, colon, type_, *options = node.children
        rest = self.separated(options)
        head = [self.tok(name), self.tok(colon), Text(" "), self.fmt(type_)]
        return group(head, Nest(INDENT, rest)) if rest else head

    kind_optional_type = kind_list_type = kind_table_type = kind_rate_type = words
    kind_business_days_type = kind_yen_type = kind_named_type = words
    kind_default_option = kind_one_of_option = kind_numbered_option = kind_not_before_option = words
    kind_exactly_option = kind_not_blank_option = kind_at_least_option = kind_identifier_option = words

    def kind_labels_option(self, node):
        keyword, *rest = node.children
        return [self.tok(keyword), Text(" "), self.bracketed(node, rest)]

    def kind_value_label(self, node):
        value, colon, texts = node.children
        return [self.tok(value), self.tok(colon), Text(" "), join(Text(" "), [self.fmt(c) for c in texts.children])]

    def kind_parameter_decl(self, node):
        return self.split_items(node, 4)

    def kind_period_value(self, node):
        keyword, value, *dates = node.children
        return [self.tok(keyword), Text(" "), self.fmt(value), group(Nest(INDENT, [LINE, self.spaced(dates)]))]

    def kind_source(self, node):
        keyword, text, *ref = node.children
        head = [self.tok(keyword), Text(" "), self.tok(text)]
        return [head, group(Nest(INDENT, [LINE, self.spaced(ref)]))] if ref else head

    def kind_order_decl(self, node):
        return self.split_items(node, 2)

    def kind_chain(self, node):
        first, *rest = node.children
        parts: list = [self.fmt(first)]
        for arrow, nodes in zip(rest[::2], rest[1::2]):
            parts.extend([LINE, [self.tok(arrow), Text(" "), self.fmt(nodes)]])
        return Nest(INDENT, Fill(tuple(parts)))

    kind_order_nodes = kind_each_node = kind_first_node = kind_dotted = words

    def kind_rule_decl(self, node):
        return self.split_items(node, 4)

    kind_case_subject = kind_each_step_subject = kind_numbered_step_subject = words
    kind_stage_ref = kind_effective = kind_due = kind_status = words

    def kind_let(self, node):
        keyword, name, equal, expr = node.children
        return [self.tok(keyword), Text(" "), self.tok(name), Text(" "), self.tok(equal), Text(" "),
                Align(self.fmt(expr))]

    def kind_amount(self, node):
        keyword, name, equal, expr, *title = node.children
        head = [self.tok(keyword), Text(" "), self.tok(name), Text(" "), self.tok(equal), Text(" "),
                Align(self.fmt(expr))]
        return [head, Nest(INDENT, [HARDLINE, self.fmt(title[0])])] if title else head

    def kind_when_clause(self, node):
        keyword, condition, then, status, *items = node.children
        parts = self.chain_parts(condition) if _is_chain(condition) else [self.fmt(condition)]
        parts += [LINE, [self.tok(then), Text(" "), self.fmt(status)]]
        return self.block([self.tok(keyword), Text(" "), Align(Fill(tuple(parts)))], items)

    def kind_otherwise_clause(self, node):
        return self.split_items(node, 2)

    def kind_message(self, node):
        keyword, texts = node.children
        return [self.tok(keyword), Text(" "), self.texts(texts, stacked=True)]

    kind_fix = kind_message

    def kind_payout_decl(self, node):
        return self.split_items(node, 3)

    # ---------------------------------------------------------- batch rules
    def kind_batch_rule_decl(self, node):
        return self.split_items(node, 4)

    kind_batch_cases = kind_batch_steps = kind_batch_key = kind_batch_count = words

    def kind_batch_where(self, node):
        keyword, condition = node.children
        parts = self.chain_parts(condition) if _is_chain(condition) else [self.fmt(condition)]
        return [self.tok(keyword), Text(" "), Align(Fill(tuple(parts)))]

    def kind_batch_group(self, node):
        group_, by, *keys = node.children
        return [self.tok(group_), Text(" "), self.tok(by), Text(" "), group(Align(self.separated(keys)))]

    def kind_batch_days(self, node):
        each, day, from_, first, to, last = node.children
        return [self.spaced([each, day, from_]), Text(" "), self.fmt(first),
                group(Nest(INDENT, [LINE, self.tok(to), Text(" "), self.fmt(last)]))]

    def kind_batch_sum(self, node):
        keyword, name, equal, expr, *spread = node.children
        head = [self.tok(keyword), Text(" "), self.tok(name), Text(" "), self.tok(equal), Text(" "),
                Align(self.fmt(expr))]
        return [head, group(Nest(INDENT, [LINE, self.spaced(spread)]))] if spread else head

    kind_batch_spread = kind_batch_max = kind_batch_min = kind_batch_sum

    def kind_batch_clause(self, node):
        keyword, condition, then, finding, *items = node.children
        parts = self.chain_parts(condition) if _is_chain(condition) else [self.fmt(condition)]
        parts += [LINE, [self.tok(then), Text(" "), self.tok(finding)]]
        return self.block([self.tok(keyword), Text(" "), Align(Fill(tuple(parts)))], items)

    # ---------------------------------------------------------- expressions
    def _quantifier(self, node):
        *head, where, body = node.children
        return Align(group(self.spaced(head), Nest(INDENT, [LINE, self.tok(where), Text(" "), Align(self.fmt(body))])))

    kind_any_ = kind_all_ = kind_count_where = kind_each_where = kind_first_where = _quantifier

    def kind_if_else(self, node):
        value, if_, condition, else_, otherwise = node.children
        return Fill((self.fmt(value), LINE, [self.tok(if_), Text(" "), self.fmt(condition)],
                     LINE, [self.tok(else_), Text(" "), self.fmt(otherwise)]))

    def kind_or_(self, node):
        return Fill(tuple(self.chain_parts(node)))

    kind_and_ = kind_or_

    kind_if_missing = kind_not_ = kind_compare = kind_member = kind_not_member = words
    kind_is_set = kind_is_missing = kind_is_empty = kind_is_not_empty = kind_is_blank = kind_is_not_blank = words
    kind_rounded = kind_binary = kind_count_of = kind_keys_of = words

    def kind_sum_of(self, node):
        """`sum of VALUE for x in LIST`: a long one broken before `for`."""
        keyword, of, value, *rest = node.children
        return Align(group(self.spaced([keyword, of, value]), Nest(INDENT, [LINE, self.spaced(rest)])))

    kind_list_of = kind_sum_of
    kind_attribute = kind_name = kind_total = kind_previous = words

    def kind_call(self, node):
        """`min(a, b)`: the name against its bracket; values that do not fit on the line go on
        the next ones, lined up after the bracket."""
        name, opening, *inner, closing = node.children
        parts: list = []
        for child in inner:
            if _type(child) == "COMMA":
                parts[-1] = [parts[-1], self.tok(child)]
                parts.append(LINE)
            else:
                parts.append(self.fmt(child))
        return [self.tok(name), self.tok(opening), Align(Fill(tuple(parts))), self.tok(closing)]

    def kind_index(self, node):
        return [self.fmt(child) for child in node.children]
    kind_no_failure = kind_some_failure = kind_exception = kind_out_of_order = words

    def kind_negate(self, node):
        minus, operand = node.children
        return [self.tok(minus), self.fmt(operand)]

    def kind_atom(self, node):  # a parenthesized expression
        opening, expr, closing = node.children
        return [self.tok(opening), Align(self.fmt(expr)), self.tok(closing)]

    # ------------------------------------------------------------- literals
    kind_number = kind_percent = kind_string = kind_date = kind_true = kind_false = kind_empty = words
    kind_rate_unit = kind_yen_unit = kind_hours_unit = kind_business_days_unit = kind_days_unit = words
    kind_months_unit = words

    kind_list_literal = kind_table_literal = kind_record_literal = bracketed

    kind_table_row = kind_record_field = words


def _type(node) -> str | None:
    return node.type if isinstance(node, Token) else None


def _is_chain(node) -> bool:
    return isinstance(node, Tree) and node.data in ("and_", "or_")


def _spelling(token: Token) -> str:
    """A token as the canonical layout writes it: `not applicable` and `rounded down` with one
    space; everything else as written."""
    if token.type in ("NOT_APPLICABLE", "ROUNDING"):
        return " ".join(token.replace("_", " ").split())
    return str(token)
