"""yaml: YAML text → data, read with the YAML 1.2 core schema, safely.

What a plain (unquoted) value is read as — the 1.2 core schema, the one JSON-compatible
YAML means, and not PyYAML's YAML 1.1 default:

    null, Null, NULL, ~, (empty)          null
    true, True, TRUE, false, False, FALSE  true / false      (yes, no, on, off, y, n: text)
    [-+]?[0-9]+                            integer, base 10  (010 is 10; 1_000 and 0b11: text)
    0o[0-7]+, 0x[0-9a-fA-F]+               integer, base 8 / 16
    [-+]?(.5 | 1 | 1.5)(e[-+]?9)?           number            (.inf, .nan: refused as not finite)
    YYYY-MM-DD                             date              (2021-01-25 12:00, 2021-1-5: text)
    anything else                          text              (1:30 — no base 60 — is text)

A date is not a 1.2 core type; the snapshot format writes its dates unquoted, so the
reader keeps exactly this one form. Merge keys (`<<`), also YAML 1.1 only, are refused.

Safety: no object is ever constructed — only the plain tags (null, bool, int, float, str,
timestamp, seq, map) are allowed and anything else (`!!python/...`, `!!binary`, `!!set`,
local `!tags`) is refused with its line and column; aliases are counted while the document
is composed, so expansion bombs stop after bounded work; nesting depth, integer width and
text length are limited; duplicate keys are refused with their path.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any, Iterator

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentEndEvent, MappingEndEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from ..messages import Message, plain, quote, said, word
from .document import Document, Limits, Location, Refused, fault
from .text import position

try:  # libyaml makes the scanner and parser much faster; the rest is Python.
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None

_Y = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = _Y + "str", _Y + "null", _Y + "bool", _Y + "int", _Y + "float"
_DATE, _SEQ, _MAP = _Y + "timestamp", _Y + "seq", _Y + "map"
_SCALAR_TAGS = frozenset({_STR, _NULL, _BOOL, _INT, _FLOAT, _DATE})
_KEY_WORDS = {_NULL: "empty_null", _BOOL: "read_as_bool", _INT: "a_number", _FLOAT: "a_number", _DATE: "a_date"}
_FORBIDDEN = Reader.NON_PRINTABLE

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1023-core-schema), and ISO dates.
_CORE_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_CORE_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_CORE_INT = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_CORE_FLOAT = re.compile(r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_NOT_FINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)\Z")
_BOOL_WORDS = {"true": True, "false": False}


class _CoreResolver(BaseResolver):
    """Plain scalars resolved by the YAML 1.2 core schema, and YYYY-MM-DD as a date."""

    yaml_implicit_resolvers: dict = {}


for _tag, _pattern, _first in (
    (_NULL, _CORE_NULL, ["~", "n", "N", ""]),
    (_BOOL, _CORE_BOOL, list("tTfF")),
    (_DATE, _ISO_DATE, list("0123456789")),
    (_INT, _CORE_INT, list("-+0123456789")),
    (_FLOAT, _CORE_FLOAT, list("-+.0123456789")),
):
    _CoreResolver.add_implicit_resolver(_tag, _pattern, _first)
del _tag, _pattern, _first


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_Y):] if tag.startswith(_Y) else tag


def _path(parts: list) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


class _SafeYAML(Composer, SafeConstructor, _CoreResolver):
    """Composer and constructor with rulebook's limits; the parser is mixed in below.

    Composition is where aliases, expanded size, depth, tags and keys are checked, so that
    nothing large or unsafe is ever built."""

    yaml_constructors: dict = {}
    yaml_multi_constructors: dict = {}

    def _setup(self, limits: Limits) -> None:
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _CoreResolver.__init__(self)
        self._limits = limits
        self._reset_counts()

    def _reset_counts(self) -> None:
        self._nodes = 0
        self._aliases = 0
        self._depth = 0
        self._parts: list = []

    def reset_construction(self) -> None:
        self.constructed_objects = {}
        self.recursive_objects = {}
        self.state_generators = []
        self.deep_construct = False

    def _count_nodes(self, count: int, mark: Any) -> None:
        self._nodes += count
        limit = self._limits.max_nodes
        if self._nodes > limit:
            key = "yaml_expands" if self._aliases else "yaml_too_many"
            raise Refused.at_mark(said(key, limit=f"{limit:,}"), mark)

    def _too_deep(self, mark: Any) -> Refused:
        return TooDeep.at_mark(said("too_deep", kind="YAML", limit=self._limits.max_depth), mark)

    def _enter(self, mark: Any) -> None:
        self._depth += 1
        if self._depth > self._limits.max_depth:
            raise self._too_deep(mark)

    # -- composition -------------------------------------------------------

    def compose_document(self) -> Any:
        self._reset_counts()
        self.anchors = {}
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        part = index if isinstance(index, int) else index.value if isinstance(index, ScalarNode) else None
        if part is not None:
            self._parts.append(part)
        node = self._compose_node(parent, index)
        if part is not None:
            self._parts.pop()
        return node

    def _compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self.get_event()
            alias, anchor = quote("*" + event.anchor), quote("&" + event.anchor)
            node = self.anchors.get(event.anchor)
            if node is None:
                raise Refused.at_mark(said("yaml_alias_unknown", alias=alias, anchor=anchor), event.start_mark)
            size = getattr(node, "_rb_size", None)
            if size is None:
                raise Refused.at_mark(said("yaml_alias_recursive", alias=alias), event.start_mark)
            self._aliases += 1
            if self._aliases > self._limits.max_aliases:
                raise Refused.at_mark(said("yaml_aliases", limit=f"{self._limits.max_aliases:,}"),
                                      event.start_mark)
            if self._depth + node._rb_height > self._limits.max_depth:
                raise self._too_deep(event.start_mark)
            self._count_nodes(size, event.start_mark)
            return node
        before = self._nodes
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            node._rb_size = self._nodes - before
        return node

    def _check_tag(self, tag: str, allowed: frozenset | str, what: str, mark: Any) -> None:
        if tag == allowed or (isinstance(allowed, frozenset) and tag in allowed):
            return
        shown = quote(_show_tag(tag), 60)
        if tag in _SCALAR_TAGS or tag in (_SEQ, _MAP):
            raise Refused.at_mark(said("yaml_tag_misplaced", tag=shown, what=word(what)), mark)
        raise Refused.at_mark(said("yaml_tag", tag=shown), mark)

    def compose_scalar_node(self, anchor: Any) -> Any:
        event = self.peek_event()
        if len(event.value) > self._limits.max_string_chars:
            raise Refused.at_mark(said("text_too_long", chars=f"{len(event.value):,}",
                                       limit=f"{self._limits.max_string_chars:,}"), event.start_mark)
        self._count_nodes(1, event.start_mark)
        node = super().compose_scalar_node(anchor)
        self._check_tag(node.tag, _SCALAR_TAGS, "a_single_value", event.start_mark)
        node._rb_height = 0
        node._rb_tagged = event.tag is not None and event.tag != "!"
        return node

    def compose_sequence_node(self, anchor: Any) -> Any:
        event = self.peek_event()
        self._count_nodes(1, event.start_mark)
        self._enter(event.start_mark)
        if event.tag is not None and event.tag != "!":
            self._check_tag(event.tag, _SEQ, "a_list", event.start_mark)
        node = super().compose_sequence_node(anchor)
        self._check_tag(node.tag, _SEQ, "a_list", event.start_mark)
        self._depth -= 1
        node._rb_height = 1 + max((child._rb_height for child in node.value), default=0)
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        start_event = self.peek_event()
        self._count_nodes(1, start_event.start_mark)
        self._enter(start_event.start_mark)
        tag = start_event.tag
        if tag is not None and tag != "!":
            self._check_tag(tag, _MAP, "a_mapping", start_event.start_mark)
        self.get_event()
        if tag is None or tag == "!":
            tag = self.resolve(MappingNode, None, start_event.implicit)
        self._check_tag(tag, _MAP, "a_mapping", start_event.start_mark)
        node = MappingNode(tag, [], start_event.start_mark, None, flow_style=start_event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        seen: dict[str, int] = {}
        height = 0
        while not self.check_event(MappingEndEvent):
            key = self.compose_node(node, None)
            self._check_key(key, seen)
            value = self.compose_node(node, key)
            node.value.append((key, value))
            height = max(height, key._rb_height, value._rb_height)
        end_event = self.get_event()
        node.end_mark = end_event.end_mark
        self._depth -= 1
        node._rb_height = 1 + height
        return node

    def _check_key(self, key: Any, seen: dict[str, int]) -> None:
        mark = key.start_mark
        if not isinstance(key, ScalarNode):
            kind = "a_list" if isinstance(key, SequenceNode) else "a_mapping"
            raise Refused.at_mark(said("yaml_key_collection", kind=word(kind)), mark)
        if key.tag == _NULL and key.value == "" and not key.style:
            raise Refused.at_mark(said("yaml_key_empty"), mark)
        if key.value == "<<" and not key.style:
            raise Refused.at_mark(said("yaml_merge"), mark, _path([*self._parts, "<<"]))
        if key.tag != _STR:
            what = word(_KEY_WORDS.get(key.tag, "not_a_string"))
            raise Refused.at_mark(said("yaml_key_not_text", key=quote(key.value), what=what), mark)
        first = seen.get(key.value)
        if first is not None:
            raise Refused.at_mark(said("duplicate_key_at", key=quote(key.value), first=first), mark,
                                  _path([*self._parts, key.value]))
        seen[key.value] = mark.line + 1

    # -- construction ------------------------------------------------------

    def construct_undefined(self, node: Any) -> Any:
        raise Refused.at_mark(said("yaml_tag", tag=quote(_show_tag(node.tag), 60)), node.start_mark)

    def construct_core_bool(self, node: Any) -> Any:
        value = _BOOL_WORDS.get(str(node.value).lower()) if _CORE_BOOL.match(str(node.value)) else None
        if value is None:
            raise Refused.at_mark(said("yaml_not_bool", value=quote(str(node.value))), node.start_mark)
        return value

    def construct_core_int(self, node: Any) -> Any:
        limits = self._limits
        text = str(node.value)
        if not _CORE_INT.match(text):
            raise Refused.at_mark(said("yaml_not_int", value=quote(text)), node.start_mark)
        written = len(text.lstrip("+-").removeprefix("0x").removeprefix("0o"))
        if written > min(4 * limits.max_int_digits + 8, 4000):
            raise Refused.at_mark(self._int_too_large(written), node.start_mark)
        if text.startswith("0o"):
            value = int(text[2:], 8)
        elif text.startswith("0x"):
            value = int(text[2:], 16)
        else:
            value = int(text, 10)
        digits = len(str(abs(value)))
        if digits > limits.max_int_digits:
            raise Refused.at_mark(self._int_too_large(digits), node.start_mark)
        return value

    def _int_too_large(self, digits: int) -> Message:
        return said("int_too_large", digits=f"{digits:,}", limit=self._limits.max_int_digits)

    def construct_core_float(self, node: Any) -> Any:
        text = str(node.value)
        if _NOT_FINITE.match(text):
            raise Refused.at_mark(said("yaml_not_finite", value=quote(text)), node.start_mark)
        if not _CORE_FLOAT.match(text):
            raise Refused.at_mark(said("yaml_not_number", value=quote(text)), node.start_mark)
        value = float(text)
        if not math.isfinite(value):
            raise Refused.at_mark(said("yaml_not_finite", value=quote(text)), node.start_mark)
        return value

    def construct_iso_date(self, node: Any) -> Any:
        text = str(node.value)
        try:
            if not _ISO_DATE.match(text):
                raise ValueError(text)
            return datetime.date.fromisoformat(text)
        except ValueError:
            if getattr(node, "_rb_tagged", True):
                raise Refused.at_mark(said("yaml_not_date", value=quote(text)), node.start_mark) from None
            # Looks like a date but is none (2021-13-01): kept as the text it is, so that
            # validation refuses it naming its field, as it does the same text in JSON.
            return text


for _tag, _constructor in (
    (_NULL, SafeConstructor.construct_yaml_null),
    (_BOOL, _SafeYAML.construct_core_bool),
    (_INT, _SafeYAML.construct_core_int),
    (_FLOAT, _SafeYAML.construct_core_float),
    (_DATE, _SafeYAML.construct_iso_date),
    (_STR, SafeConstructor.construct_yaml_str),
    (_SEQ, SafeConstructor.construct_yaml_seq),
    (_MAP, SafeConstructor.construct_yaml_map),
    (None, _SafeYAML.construct_undefined),
):
    _SafeYAML.yaml_constructors[_tag] = _constructor
del _tag, _constructor


class TooDeep(Refused):
    """Nesting past the limit. Reading stops: skipping the rest of a nesting bomb would cost
    more than it is worth."""


class PyYAML(_SafeYAML, Reader, Scanner, Parser):
    """Pure-Python scanner and parser."""

    def __init__(self, text: str, limits: Limits) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        self._setup(limits)


if _CParser is not None:

    class CYAML(_SafeYAML, _CParser):
        """libyaml's scanner and parser; composition stays in Python (above)."""

        def __init__(self, text: str, limits: Limits) -> None:
            _CParser.__init__(self, text)
            self._setup(limits)

    Loader: type = CYAML
else:  # pragma: no cover
    Loader = PyYAML


# PyYAML's reasons, in Japanese (a reason not listed is shown as PyYAML gives it).
_REASONS = {
    "mapping values are not allowed here": "ここには対応付けの値を書けません(`:` の位置か字下げを確かめてください)",
    "mapping values are not allowed in this context": "ここには対応付けの値を書けません",
    "could not find expected ':'": "`:` が見つかりません",
    "did not find expected key": "キーが見つかりません(字下げを確かめてください)",
    "did not find expected node content": "値が見つかりません",
    "did not find expected '-' indicator": "`-` が見つかりません(字下げを確かめてください)",
    "did not find expected ',' or ']'": "`,` か `]` が見つかりません",
    "did not find expected ',' or '}'": "`,` か `}` が見つかりません",
    "found unexpected end of stream": "途中でファイルが終わっています",
    "found unexpected ':'": "予期しない `:` があります",
    "found character that cannot start any token": "ここから始められない文字があります(タブの字下げは使えません)",
    "found a tab character that violates indentation": "字下げにタブ文字があります(空白で字下げしてください)",
    "found a tab character where an indentation space is expected": "字下げにタブ文字があります(空白で字下げしてください)",
    "found undefined alias": "定義されていないエイリアスがあります",
    "found duplicate anchor; first occurrence": "アンカーが重複しています",
    "expected <document start>, but found '<block mapping start>'": "文書の始まりが正しくありません",
    "expected a comment or a line break": "コメントか改行が必要です",
    "expected alphabetic or numeric character, but found": "英数字が必要な所に別の文字があります",
    "while scanning a quoted scalar": "引用符で囲んだ文字列の途中で",
    "while scanning a simple key": "キーを読む途中で",
    "while parsing a block mapping": "ブロックの対応付けを読む途中で",
    "while parsing a block collection": "ブロックのリストを読む途中で",
    "while parsing a flow mapping": "フローの対応付けを読む途中で",
    "while parsing a flow sequence": "フローのリストを読む途中で",
    "while parsing a block node": "ブロックの値を読む途中で",
    "while parsing a flow node": "フローの値を読む途中で",
    "while scanning an alias": "エイリアスを読む途中で",
    "while scanning an anchor": "アンカーを読む途中で",
    "while scanning a tag": "タグを読む途中で",
    "while scanning a block scalar": "ブロックの文字列を読む途中で",
    "while scanning for the next token": "次の字句を探す途中で",
    "while scanning a directive": "ディレクティブを読む途中で",
    "while composing a mapping": "対応付けを組み立てる途中で",
}
_QUOTED = re.compile(r"""\s*(?:'[^']*'|"[^"]*"|%r)""")


def _reason(text: str) -> Message:
    text = " ".join(text.split())
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    known = _REASONS.get(text) or _REASONS.get(_QUOTED.sub("", text).strip())
    return plain(text, known)


def syntax_fault(origin: str, exc: yaml.YAMLError, limits: Limits) -> Document:
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or exc.context or "the YAML cannot be read"
        if "maximum nesting depth" in problem:  # libyaml's own, higher, limit
            message = said("too_deep", kind="YAML", limit=limits.max_depth)
        else:
            why = _reason(problem)
            if exc.problem and exc.context:
                context = _reason(exc.context)
                why = Message(f"{why.en} ({context.en})", f"{why.ja}({context.ja})")
            message = said("yaml_invalid", reason=why)
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return fault(origin, message, mark.line + 1, mark.column + 1)
        return fault(origin, message)
    reason = getattr(exc, "reason", None) or "the YAML cannot be read"
    return fault(origin, said("yaml_invalid", reason=_reason(str(reason))))


def _is_empty_document(node: Any) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL and node.value == "" and not node.style


def _skip_document(loader: Any, limits: Limits) -> Any:
    """Drop events up to the end of the current document. Returns None, or the mark where the
    skipped part nests too deeply (then the caller stops reading the file)."""
    depth = 0
    while not loader.check_event(DocumentEndEvent):
        event = loader.get_event()
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                return event.start_mark
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    loader.get_event()
    loader.anchors = {}
    return None


class Positions:
    """Where each field of a composed YAML document is: `(path)` → (line, column) of its key
    (or of the item, in a list). A path not in the document is placed at its nearest
    enclosing value (a missing field at the mapping that lacks it)."""

    _PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")

    def __init__(self, root: Any) -> None:
        self.root = root

    def __call__(self, path: str) -> tuple[int, int] | None:
        node, mark = self.root, self.root.start_mark
        for index, name in self._PART.findall(path or ""):
            if index:
                if not isinstance(node, SequenceNode) or int(index) >= len(node.value):
                    break
                node = node.value[int(index)]
                mark = node.start_mark
            else:
                if not isinstance(node, MappingNode):
                    break
                found = next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == name), None)
                if found is None:
                    break
                mark, node = found[0].start_mark, found[1]
        return mark.line + 1, mark.column + 1


def load(text: str, origin: str, limits: Limits) -> Iterator[Document]:
    """The documents of a YAML text, each with its `locate`; a document that cannot be read
    is a fault, and reading goes on with the next one where it can."""
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        line, column = position(text, bad.start())
        yield fault(origin, said("yaml_control", code=f"{ord(bad.group()):04X}", line=line), line, column)
        return
    try:
        loader = Loader(text, limits)
    except yaml.YAMLError as exc:
        yield syntax_fault(origin, exc, limits)
        return
    try:
        while True:
            start_line = 1
            try:
                if not loader.check_node():
                    return
                start_line = loader.peek_event().start_mark.line + 1
                node = loader.compose_document()
            except TooDeep as refused:
                yield refused.document(origin, start_line)
                return
            except (Refused, ComposerError) as problem:
                if isinstance(problem, Refused):
                    yield problem.document(origin, start_line)
                else:
                    yield syntax_fault(origin, problem, limits)
                # Skip the rest of this document and go on with the next one.
                try:
                    skipped = _skip_document(loader, limits)
                except yaml.YAMLError as exc:
                    yield syntax_fault(origin, exc, limits)
                    return
                if skipped is not None:
                    yield fault(origin, said("too_deep", kind="YAML", limit=limits.max_depth),
                                skipped.line + 1, skipped.column + 1)
                    return
                continue
            except yaml.YAMLError as exc:
                yield syntax_fault(origin, exc, limits)
                return
            except RecursionError:
                yield fault(origin, said("too_deep", kind="YAML", limit=limits.max_depth), start_line)
                return
            if _is_empty_document(node):
                continue
            try:
                data = loader.construct_document(node)
            except Refused as refused:
                loader.reset_construction()
                yield refused.document(origin, start_line)
                continue
            except yaml.YAMLError as exc:
                loader.reset_construction()
                yield syntax_fault(origin, exc, limits)
                continue
            yield Document(Location(origin, start_line), data, locate=Positions(node))
    finally:
        loader.dispose()
