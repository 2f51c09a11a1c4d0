"""Safe reading of case snapshot files.

This is the lowest layer of rulebook: it turns YAML, JSON and JSON Lines files
(JSON Lines optionally gzip-compressed) into a stream of :class:`Document`
objects.  Each document is either parsed data or a clear, one-line error that
names where the problem is.  Nothing here raises on bad input: broken files,
missing paths, wrong encodings, YAML "billion laughs", nesting bombs, gzip
bombs and oversized numbers all become error documents.

Only the standard library, PyYAML and orjson are used.

Safety rules, briefly:

* YAML is read with a SafeLoader-style loader that never constructs objects.
  Only the plain YAML tags are allowed (null, bool, int, float, str, timestamp,
  seq, map, and ``<<`` merges); anything else (``!!python/...``, ``!!binary``,
  ``!!set``, local ``!tags``) is refused with its line and column.
* YAML aliases are counted while the document is composed, so expansion bombs
  are refused after a bounded amount of work and memory.
* Nesting depth, integer size, string length and non-finite floats are checked
  for YAML and JSON alike.  orjson has its own fixed nesting limit and is not
  recursive in Python, so a 100,000-deep ``[[[[`` cannot reach RecursionError.
* JSON Lines is read line by line with a bounded line length, also through
  gzip, so a compressed bomb only costs one refused line.
"""

from __future__ import annotations

import codecs
import datetime
import gzip
import io
import json
import math
import os
import re
import stat
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple

import orjson
import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    MappingEndEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

try:  # libyaml makes the scanner and parser much faster; the rest is Python.
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None

__all__ = [
    "KINDS",
    "Document",
    "DocumentError",
    "Limits",
    "Location",
    "load_bytes",
    "load_path",
    "load_paths",
    "load_stream",
    "read_text",
]

KINDS = ("yaml", "json", "jsonl")

_SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024


# --------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    """Where a document or an error is: the origin and a 1-based line (and column)."""

    origin: str
    line: int
    column: int | None = None

    def __str__(self) -> str:
        if self.column is None:
            return f"{self.origin}:{self.line}"
        return f"{self.origin}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed document, or the error that stopped it from being parsed."""

    location: Location
    data: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that protect the reader from hostile or broken input."""

    max_file_bytes: int = 16 * 1024 * 1024  # a whole YAML/JSON file
    max_line_bytes: int = 1024 * 1024  # one JSON Lines line
    max_depth: int = 64  # nesting of mappings/sequences
    max_nodes: int = 100_000  # YAML nodes after alias expansion, per document
    max_aliases: int = 100  # YAML alias uses per document
    max_int_digits: int = 30  # integers longer than this are refused
    max_string_chars: int = 100_000

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {name} must be a positive integer, not {value!r}")


class DocumentError(Exception):
    """A problem with one input, with the location it refers to."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


# --------------------------------------------------------------------------
# Internal errors and message helpers
# --------------------------------------------------------------------------


class _Refused(Exception):
    """Internal: input refused, with a message and (where known) a 1-based position."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    @classmethod
    def at_mark(cls, message: str, mark: Any) -> _Refused:
        if mark is None:
            return cls(message)
        return cls(message, mark.line + 1, mark.column + 1)


class _TooDeep(_Refused):
    """Internal: nesting past the limit.  Reading stops: skipping the rest of a
    nesting bomb would cost more than it is worth."""


class _JSONSyntax(Exception):
    """Internal: orjson's complaint, with the character offset it points at."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


class _JSONRefused(Exception):
    """Internal: valid JSON that breaks a limit, with the offset when known."""

    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _quote(text: str, width: int = 40) -> str:
    """User input shown in backticks, shortened and kept on one line."""
    if len(text) > width:
        text = text[:width] + "…"
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t").replace("`", "'")
    return f"`{text}`"


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n:,} bytes"


def _lower_first(text: str) -> str:
    text = " ".join(text.split())
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text


def _int_too_large(digits: int, limits: Limits) -> str:
    return f"integer with {digits:,} digits is too large (at most {limits.max_int_digits} digits)"


def _string_too_long(chars: int, limits: Limits) -> str:
    return f"text of {chars:,} characters is too long (at most {limits.max_string_chars:,} characters)"


def _error(origin: str, message: str, line: int = 1, column: int | None = None) -> Document:
    return Document(Location(origin, line, column), error=message)


def _refused_doc(origin: str, refused: _Refused, default_line: int = 1) -> Document:
    line = refused.line if refused.line is not None else default_line
    return Document(Location(origin, line, refused.column), error=refused.message)


def _os_reason(exc: BaseException) -> str:
    reason = getattr(exc, "strerror", None) or "the operating system refused"
    return _lower_first(str(reason))


# --------------------------------------------------------------------------
# Text decoding
# --------------------------------------------------------------------------

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _wide_bom(data: bytes) -> str | None:
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    return None


def _decode(data: bytes, first_line: int = 1, strip_bom: bool = True) -> str:
    """Decode UTF-8 strictly; raise _Refused with the line (and column) of the problem."""
    if strip_bom:
        wide = _wide_bom(data)
        if wide is not None:
            raise _Refused(
                f"not UTF-8: found a {wide} byte-order mark at line {first_line}; save the file as UTF-8",
                first_line,
                1,
            )
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = first_line + data.count(b"\n", 0, start)
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", "replace")) + 1
        raise _Refused(
            f"not UTF-8: byte 0x{data[start]:02x} at line {line}; save the file as UTF-8",
            line,
            column,
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = first_line + text.count("\n", 0, nul)
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise _Refused(
            f"not UTF-8: found a NUL character at line {line} (is the file UTF-16?); "
            "save the file as UTF-8",
            line,
            column,
        )
    return text


def read_text(data: bytes, origin: str) -> str:
    """Decode a whole file as UTF-8 (a UTF-8 byte-order mark is dropped).

    Raises :class:`DocumentError` naming the origin and line when the bytes are
    not UTF-8 (this includes UTF-16 and UTF-32 files).
    """
    try:
        return _decode(data)
    except _Refused as refused:
        location = Location(origin, refused.line or 1, refused.column)
        raise DocumentError(location, refused.message) from None


# --------------------------------------------------------------------------
# Streams: prefix push-back, bounded lines, sniffing
# --------------------------------------------------------------------------


class _Prefixed(io.RawIOBase):
    """A raw stream that first gives back bytes already read, then the rest."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        return n


def _push_back(prefix: bytes, stream: BinaryIO) -> BinaryIO:
    if not prefix:
        return stream
    return io.BufferedReader(_Prefixed(prefix, stream), buffer_size=_CHUNK)


def _guess(origin: str) -> tuple[str | None, bool]:
    """(kind from the suffix or None, whether the name ends in .gz)."""
    name = os.path.basename(origin).lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return _SUFFIXES.get(os.path.splitext(name)[1]), gz


_BLANK = b" \t\r\n"


def _sniff_decide(buf: bytes, final: bool) -> str | None:
    """JSON Lines when the first two non-blank lines both start with `{`; else YAML."""
    start = len(codecs.BOM_UTF8) if buf.startswith(codecs.BOM_UTF8) else 0
    n = len(buf)
    i = start
    while i < n and buf[i] in _BLANK:
        i += 1
    if i == n:
        return "yaml" if final else None
    if buf[i] != ord("{"):
        return "yaml"
    newline = buf.find(b"\n", i)
    if newline < 0:
        return "yaml" if final else None
    j = newline + 1
    while j < n and buf[j] in _BLANK:
        j += 1
    if j == n:
        return "yaml" if final else None
    return "jsonl" if buf[j] == ord("{") else "yaml"


def _sniff(stream: BinaryIO, limits: Limits) -> tuple[str, BinaryIO]:
    cap = 2 * limits.max_line_bytes + _CHUNK
    buf = b""
    kind = None
    while len(buf) < cap:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        buf += chunk
        kind = _sniff_decide(buf, final=False)
        if kind is not None:
            break
    if kind is None:
        kind = _sniff_decide(buf, final=True) or "yaml"
    return kind, _push_back(buf, stream)


def _lines(stream: BinaryIO, max_line: int) -> Iterator[tuple[int, bytes | int]]:
    """Yield (line number, content) for each line, content without its line break.

    A line longer than ``max_line`` bytes yields its length (an int) instead, and
    is skipped in bounded chunks, so memory stays near ``max_line``.
    """
    lineno = 0
    limit = max_line + 2  # room for "\r\n"
    while True:
        raw = stream.readline(limit)
        if not raw:
            return
        lineno += 1
        if raw.endswith(b"\n") or len(raw) < limit:
            content = raw[:-1] if raw.endswith(b"\n") else raw
            if content.endswith(b"\r"):
                content = content[:-1]
            if len(content) > max_line:
                yield lineno, len(content)
            else:
                yield lineno, content
            continue
        total = len(raw)
        while not raw.endswith(b"\n"):
            raw = stream.readline(_CHUNK)
            if not raw:
                break
            total += len(raw)
        yield lineno, total


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------

_JSON_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_JSON_BRACKETS = re.compile(_JSON_STRING + r"|[\[\]{}]")
_JSON_NUMBERS = re.compile(_JSON_STRING + r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_JSON_NUMBER_AT = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1


@lru_cache(maxsize=16)
def _long_digits(max_int_digits: int) -> re.Pattern[str]:
    # orjson turns integers outside int64/uint64 into floats, so any run of 19+
    # digits (or more than the limit) calls for a closer look at the numbers.
    return re.compile(r"\d{%d,}" % min(max_int_digits + 1, 19))


def _json_depth_offset(text: str, max_depth: int) -> int | None:
    depth = 0
    for match in _JSON_BRACKETS.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def _json_long_string_offset(text: str, max_chars: int) -> int | None:
    for match in _JSON_BRACKETS.finditer(text):
        if match.end() - match.start() - 2 > max_chars:
            try:
                if len(orjson.loads(match.group())) > max_chars:
                    return match.start()
            except orjson.JSONDecodeError:  # pragma: no cover - text already parsed
                pass
    return None


def _json_problem(value: Any, text: str, limits: Limits) -> tuple[str, str] | None:
    """Check nesting depth and string sizes of a parsed value, iteratively."""
    check_depth = text.count("[") + text.count("{") > limits.max_depth
    check_strings = len(text) > limits.max_string_chars + 2
    if not (check_depth or check_strings):
        return None
    max_depth = limits.max_depth
    max_chars = limits.max_string_chars
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                return "depth", ""
            for key, child in item.items():
                if len(key) > max_chars:
                    return "string", _string_too_long(len(key), limits)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                return "depth", ""
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and len(item) > max_chars:
            return "string", _string_too_long(len(item), limits)
    return None


def _parse_json(text: str, limits: Limits) -> Any:
    """Parse one JSON value; raise _JSONSyntax or _JSONRefused (offsets into text)."""
    depth_message = f"the JSON document nests deeper than {limits.max_depth} levels"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        reason = _lower_first(exc.msg)
        offset = exc.pos
        if "depth limit" in reason or "recursion" in reason:
            found = _json_depth_offset(text, limits.max_depth)
            raise _JSONRefused(depth_message, found if found is not None else offset) from None
        if "infinity" in reason:
            number = _JSON_NUMBER_AT.match(text, offset)
            if number is not None:
                token = number.group()
                if number.group(1) is None and number.group(2) is None:
                    digits = len(token.lstrip("-"))
                    raise _JSONRefused(_int_too_large(digits, limits), offset) from None
                raise _JSONRefused(
                    f"number {_quote(token)} is too large (it would be infinite)", offset
                ) from None
        if "empty" in reason:
            raise _JSONSyntax("there is no JSON value", offset) from None
        raise _JSONSyntax(reason, offset) from None

    problem = _json_problem(value, text, limits)
    if problem is not None:
        what, message = problem
        if what == "depth":
            raise _JSONRefused(depth_message, _json_depth_offset(text, limits.max_depth))
        raise _JSONRefused(message, _json_long_string_offset(text, limits.max_string_chars))

    if _long_digits(limits.max_int_digits).search(text):
        exact = False
        for match in _JSON_NUMBERS.finditer(text):
            token = match.group()
            if token[0] == '"' or "." in token or "e" in token or "E" in token:
                continue
            digits = len(token) - (token[0] == "-")
            if digits > limits.max_int_digits:
                raise _JSONRefused(_int_too_large(digits, limits), match.start())
            if digits >= 19 and not _INT64_MIN <= int(token) <= _UINT64_MAX:
                exact = True
        if exact:
            # orjson would have turned these integers into floats; the standard
            # library keeps them exact.  Depth is already known to be small.
            value = json.loads(text)
    return value


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _load_json_text(text: str, origin: str, limits: Limits) -> Document:
    try:
        value = _parse_json(text, limits)
    except _JSONSyntax as exc:
        line, column = _offset_position(text, exc.offset)
        return _error(origin, f"not valid JSON: {exc.reason} at line {line}, column {column}", line, column)
    except _JSONRefused as exc:
        if exc.offset is None:
            return _error(origin, exc.message)
        line, column = _offset_position(text, exc.offset)
        return _error(origin, exc.message, line, column)
    return Document(Location(origin, 1), value)


def _load_json_line(text: str, origin: str, lineno: int, limits: Limits) -> Document:
    try:
        value = _parse_json(text, limits)
    except _JSONSyntax as exc:
        column = exc.offset + 1
        return _error(
            origin, f"line {lineno} is not valid JSON: {exc.reason} at column {column}", lineno, column
        )
    except _JSONRefused as exc:
        column = None if exc.offset is None else exc.offset + 1
        return _error(origin, f"line {lineno}: {exc.message}", lineno, column)
    return Document(Location(origin, lineno), value)


def _load_jsonl(stream: BinaryIO, origin: str, limits: Limits) -> Iterator[Document]:
    lines = _lines(stream, limits.max_line_bytes)
    last = 0
    while True:
        try:
            item = next(lines, None)
        except (OSError, EOFError, zlib.error) as exc:
            yield _read_failure(origin, exc, last + 1)
            return
        if item is None:
            return
        lineno, content = item
        last = lineno
        if isinstance(content, int):
            yield _error(
                origin,
                f"line {lineno} is {content:,} bytes long, more than the limit of "
                f"{_size(limits.max_line_bytes)}; it was skipped",
                lineno,
            )
            continue
        if lineno == 1:
            wide = _wide_bom(content)
            if wide is not None:
                yield _error(
                    origin,
                    f"not UTF-8: found a {wide} byte-order mark at line 1; save the file as UTF-8",
                    1,
                    1,
                )
                return
            if content.startswith(codecs.BOM_UTF8):
                content = content[len(codecs.BOM_UTF8) :]
        if not content.strip():
            continue
        try:
            text = _decode(content, lineno, strip_bom=False)
        except _Refused as refused:
            yield _refused_doc(origin, refused, lineno)
            continue
        yield _load_json_line(text, origin, lineno, limits)


# --------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------

_Y = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = _Y + "str", _Y + "null", _Y + "bool", _Y + "int", _Y + "float"
_TIMESTAMP, _SEQ, _MAP = _Y + "timestamp", _Y + "seq", _Y + "map"
_MERGE, _VALUE = _Y + "merge", _Y + "value"
_SCALAR_TAGS = frozenset({_STR, _NULL, _BOOL, _INT, _FLOAT, _TIMESTAMP, _MERGE, _VALUE})
_KEY_WORDS = {
    _NULL: "empty (null)",
    _BOOL: "read as true/false",
    _INT: "a number",
    _FLOAT: "a number",
    _TIMESTAMP: "a date",
}
_YAML_FORBIDDEN = Reader.NON_PRINTABLE


def _show_tag(tag: str) -> str:
    if tag.startswith(_Y):
        return "!!" + tag[len(_Y) :]
    return tag


class _SafeYAML(Composer, SafeConstructor, Resolver):
    """Composer and constructor with rulebook's limits; the parser is mixed in below.

    Composition is where aliases, expanded size, depth, tags and keys are
    checked, so that nothing large or unsafe is ever built.
    """

    yaml_constructors: dict = {}
    yaml_multi_constructors: dict = {}

    def _setup(self, limits: Limits) -> None:
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._limits = limits
        self._reset_counts()

    def _reset_counts(self) -> None:
        self._nodes = 0
        self._aliases = 0
        self._depth = 0

    def _reset_construction(self) -> None:
        self.constructed_objects = {}
        self.recursive_objects = {}
        self.state_generators = []
        self.deep_construct = False

    def _count_nodes(self, count: int, mark: Any) -> None:
        self._nodes += count
        limit = self._limits.max_nodes
        if self._nodes > limit:
            if self._aliases:
                message = (
                    f"YAML aliases expand to more than {limit:,} nodes; "
                    "aliases are limited to protect the reader"
                )
            else:
                message = (
                    f"the YAML document has more than {limit:,} values; "
                    "documents are limited to protect the reader"
                )
            raise _Refused.at_mark(message, mark)

    def _enter(self, mark: Any) -> None:
        self._depth += 1
        if self._depth > self._limits.max_depth:
            raise _TooDeep.at_mark(
                f"the YAML document nests deeper than {self._limits.max_depth} levels", mark
            )

    # -- composition -------------------------------------------------------

    def compose_document(self) -> Any:
        self._reset_counts()
        self.anchors = {}
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self.get_event()
            anchor = event.anchor
            node = self.anchors.get(anchor)
            if node is None:
                raise _Refused.at_mark(
                    f"alias {_quote('*' + anchor)} is used but no anchor "
                    f"{_quote('&' + anchor)} comes before it",
                    event.start_mark,
                )
            size = getattr(node, "_rb_size", None)
            if size is None:
                raise _Refused.at_mark(
                    f"alias {_quote('*' + anchor)} refers to a value that contains it; "
                    "recursive aliases are not allowed",
                    event.start_mark,
                )
            self._aliases += 1
            if self._aliases > self._limits.max_aliases:
                raise _Refused.at_mark(
                    f"the YAML document uses more than {self._limits.max_aliases:,} aliases; "
                    "aliases are limited to protect the reader",
                    event.start_mark,
                )
            if self._depth + node._rb_height > self._limits.max_depth:
                raise _TooDeep.at_mark(
                    f"the YAML document nests deeper than {self._limits.max_depth} levels",
                    event.start_mark,
                )
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
        known = tag in _SCALAR_TAGS or tag in (_SEQ, _MAP)
        if known:
            raise _Refused.at_mark(f"tag {_quote(_show_tag(tag), 60)} cannot be used on {what}", mark)
        raise _Refused.at_mark(f"tag {_quote(_show_tag(tag), 60)} is not allowed", mark)

    def compose_scalar_node(self, anchor: Any) -> Any:
        event = self.peek_event()
        if len(event.value) > self._limits.max_string_chars:
            raise _Refused.at_mark(_string_too_long(len(event.value), self._limits), event.start_mark)
        self._count_nodes(1, event.start_mark)
        node = super().compose_scalar_node(anchor)
        self._check_tag(node.tag, _SCALAR_TAGS, "a single value", event.start_mark)
        node._rb_height = 0
        node._rb_tagged = event.tag is not None and event.tag != "!"
        return node

    def compose_sequence_node(self, anchor: Any) -> Any:
        event = self.peek_event()
        self._count_nodes(1, event.start_mark)
        self._enter(event.start_mark)
        tag = event.tag
        if tag is not None and tag != "!":
            self._check_tag(tag, _SEQ, "a list", event.start_mark)
        node = super().compose_sequence_node(anchor)
        self._check_tag(node.tag, _SEQ, "a list", event.start_mark)
        self._depth -= 1
        node._rb_height = 1 + max((child._rb_height for child in node.value), default=0)
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        start_event = self.peek_event()
        self._count_nodes(1, start_event.start_mark)
        self._enter(start_event.start_mark)
        tag = start_event.tag
        if tag is not None and tag != "!":
            self._check_tag(tag, _MAP, "a mapping", start_event.start_mark)
        self.get_event()
        if tag is None or tag == "!":
            tag = self.resolve(MappingNode, None, start_event.implicit)
        self._check_tag(tag, _MAP, "a mapping", start_event.start_mark)
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
            kind = "a list" if isinstance(key, SequenceNode) else "a mapping"
            raise _Refused.at_mark(f"a mapping key is {kind}; keys must be strings", mark)
        if key.tag == _NULL and key.value == "" and not key.style:
            raise _Refused.at_mark("a mapping key is empty; keys must be strings", mark)
        if key.tag not in (_STR, _MERGE, _VALUE):
            word = _KEY_WORDS.get(key.tag, "not a string")
            raise _Refused.at_mark(
                f"mapping key {_quote(key.value)} is {word}, not a string; put it in quotes", mark
            )
        first = seen.get(key.value)
        if first is not None:
            raise _Refused.at_mark(f"duplicate key {_quote(key.value)} (first at line {first})", mark)
        seen[key.value] = mark.line + 1

    # -- construction ------------------------------------------------------

    def construct_undefined(self, node: Any) -> Any:
        raise _Refused.at_mark(f"tag {_quote(_show_tag(node.tag), 60)} is not allowed", node.start_mark)

    def construct_yaml_bool(self, node: Any) -> Any:
        try:
            return super().construct_yaml_bool(node)
        except (KeyError, AttributeError):
            raise _Refused.at_mark(f"{_quote(node.value)} is not true or false", node.start_mark) from None

    def construct_yaml_int(self, node: Any) -> Any:
        limits = self._limits
        body = node.value.lower().lstrip("+-")
        written = sum(ch.isalnum() for ch in body.removeprefix("0x").removeprefix("0b"))
        if written > min(4 * limits.max_int_digits + 8, 4000):
            raise _Refused.at_mark(_int_too_large(written, limits), node.start_mark)
        try:
            value = super().construct_yaml_int(node)
        except (ValueError, IndexError):
            raise _Refused.at_mark(f"{_quote(node.value)} is not a valid integer", node.start_mark) from None
        digits = len(str(abs(value)))
        if digits > limits.max_int_digits:
            raise _Refused.at_mark(_int_too_large(digits, limits), node.start_mark)
        return value

    def construct_yaml_float(self, node: Any) -> Any:
        try:
            value = super().construct_yaml_float(node)
        except (ValueError, IndexError, OverflowError):
            raise _Refused.at_mark(f"{_quote(node.value)} is not a valid number", node.start_mark) from None
        if not math.isfinite(value):
            raise _Refused.at_mark(
                f"number {_quote(node.value)} is not finite; infinity and not-a-number are not allowed",
                node.start_mark,
            )
        return value

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            value = super().construct_yaml_timestamp(node)
        except (ValueError, AttributeError, OverflowError):
            if getattr(node, "_rb_tagged", True):
                raise _Refused.at_mark(f"{_quote(node.value)} is not a valid date", node.start_mark) from None
            # Looks like a date but is none (2021-13-01): kept as the text it is, so that
            # validation refuses it naming its field, as it does the same text in JSON.
            return node.value
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        return value


for _tag, _constructor in (
    (_NULL, SafeConstructor.construct_yaml_null),
    (_BOOL, _SafeYAML.construct_yaml_bool),
    (_INT, _SafeYAML.construct_yaml_int),
    (_FLOAT, _SafeYAML.construct_yaml_float),
    (_TIMESTAMP, _SafeYAML.construct_yaml_timestamp),
    (_STR, SafeConstructor.construct_yaml_str),
    (_SEQ, SafeConstructor.construct_yaml_seq),
    (_MAP, SafeConstructor.construct_yaml_map),
    (None, _SafeYAML.construct_undefined),
):
    _SafeYAML.yaml_constructors[_tag] = _constructor
del _tag, _constructor


class _PyYAML(_SafeYAML, Reader, Scanner, Parser):
    """Pure-Python scanner and parser."""

    def __init__(self, text: str, limits: Limits) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        self._setup(limits)


if _CParser is not None:

    class _CYAML(_SafeYAML, _CParser):
        """libyaml's scanner and parser; composition stays in Python (above)."""

        def __init__(self, text: str, limits: Limits) -> None:
            _CParser.__init__(self, text)
            self._setup(limits)

    _YAMLLoader: type = _CYAML
else:  # pragma: no cover
    _YAMLLoader = _PyYAML


def _yaml_syntax_doc(origin: str, exc: yaml.YAMLError, limits: Limits) -> Document:
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or exc.context or "the YAML cannot be read"
        if "maximum nesting depth" in problem:  # libyaml's own, higher, limit
            message = f"the YAML document nests deeper than {limits.max_depth} levels"
        else:
            message = f"not valid YAML: {_lower_first(problem)}"
            if exc.problem and exc.context:
                message += f" ({_lower_first(exc.context)})"
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return _error(origin, message, mark.line + 1, mark.column + 1)
        return _error(origin, message)
    reason = getattr(exc, "reason", None) or "the YAML cannot be read"
    return _error(origin, f"not valid YAML: {_lower_first(str(reason))}")


def _is_empty_document(node: Any) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL and node.value == "" and not node.style


def _skip_document(loader: Any, limits: Limits) -> Any:
    """Drop events up to the end of the current document.

    Returns None, or the mark where the skipped part nests too deeply (then
    the caller stops reading the file).
    """
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


def _skipped_doc(origin: str, mark: Any, limits: Limits) -> Document:
    message = f"the YAML document nests deeper than {limits.max_depth} levels"
    return _error(origin, message, mark.line + 1, mark.column + 1)


def _load_yaml(text: str, origin: str, limits: Limits) -> Iterator[Document]:
    bad = _YAML_FORBIDDEN.search(text)
    if bad is not None:
        line, column = _offset_position(text, bad.start())
        code = ord(bad.group())
        yield _error(
            origin,
            f"the control character U+{code:04X} at line {line} is not allowed in YAML",
            line,
            column,
        )
        return
    try:
        loader = _YAMLLoader(text, limits)
    except yaml.YAMLError as exc:
        yield _yaml_syntax_doc(origin, exc, limits)
        return
    try:
        while True:
            start_line = 1
            try:
                if not loader.check_node():
                    return
                start_line = loader.peek_event().start_mark.line + 1
                node = loader.compose_document()
            except _TooDeep as refused:
                yield _refused_doc(origin, refused, start_line)
                return
            except (_Refused, ComposerError) as problem:
                if isinstance(problem, _Refused):
                    yield _refused_doc(origin, problem, start_line)
                else:
                    yield _yaml_syntax_doc(origin, problem, limits)
                # Skip the rest of this document and go on with the next one.
                try:
                    skipped = _skip_document(loader, limits)
                except yaml.YAMLError as exc:
                    yield _yaml_syntax_doc(origin, exc, limits)
                    return
                if skipped is not None:
                    yield _skipped_doc(origin, skipped, limits)
                    return
                continue
            except yaml.YAMLError as exc:
                yield _yaml_syntax_doc(origin, exc, limits)
                return
            except RecursionError:
                yield _error(origin, f"the YAML document nests deeper than {limits.max_depth} levels", start_line)
                return
            if _is_empty_document(node):
                continue
            try:
                data = loader.construct_document(node)
            except _Refused as refused:
                loader._reset_construction()
                yield _refused_doc(origin, refused, start_line)
                continue
            except yaml.YAMLError as exc:
                loader._reset_construction()
                yield _yaml_syntax_doc(origin, exc, limits)
                continue
            yield Document(Location(origin, start_line), data)
    finally:
        loader.dispose()


# --------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------


def _read_failure(origin: str, exc: BaseException, line: int = 1) -> Document:
    if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
        after = f" after line {line - 1}" if line > 1 else ""
        return _error(origin, f"the compressed data is damaged or cut short{after}", line)
    return _error(origin, f"cannot read {_quote(origin, 200)}: {_os_reason(exc)}", line)


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)} or None")


def _load_stream(stream: BinaryIO, origin: str, kind: str | None, limits: Limits) -> Iterator[Document]:
    try:
        suffix_kind, gz = _guess(origin)
        kind = kind or suffix_kind
        head = stream.read(2)
        stream = _push_back(head, stream)
        compressed = gz or head == _GZIP_MAGIC
        if compressed:
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        if kind is None:
            kind, stream = _sniff(stream, limits)
        if kind == "jsonl":
            yield from _load_jsonl(stream, origin, limits)
            return
        data = stream.read(limits.max_file_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        yield _read_failure(origin, exc)
        return
    if len(data) > limits.max_file_bytes:
        once = " once decompressed" if compressed else ""
        yield _error(
            origin,
            f"the file is larger than {_size(limits.max_file_bytes)}{once}, "
            f"the limit for one {kind.upper()} file",
        )
        return
    try:
        text = _decode(data)
    except _Refused as refused:
        yield _refused_doc(origin, refused)
        return
    if kind == "json":
        yield _load_json_text(text, origin, limits)
    else:
        yield from _load_yaml(text, origin, limits)


def load_stream(
    stream: BinaryIO, origin: str = "<stdin>", kind: str | None = None, limits: Limits = Limits()
) -> Iterator[Document]:
    """Read documents from an open binary stream (JSON Lines is read line by line).

    ``kind`` is "yaml", "json", "jsonl" or None (guess from the origin's suffix,
    else sniff the content).  Gzip data is recognised by a ``.gz`` origin or by
    its magic bytes.  Errors become error documents; the stream is not closed.
    """
    _check_kind(kind)
    return _load_stream(stream, origin, kind, limits)


def load_bytes(
    data: bytes, origin: str, kind: str | None = None, limits: Limits = Limits()
) -> Iterator[Document]:
    """Read documents from bytes already in memory; see :func:`load_stream`."""
    _check_kind(kind)
    return _load_stream(io.BytesIO(data), origin, kind, limits)


def _load_file(path: str, limits: Limits, size: int | None) -> Iterator[Document]:
    kind, gz = _guess(path)
    if size is not None and not gz and kind in ("yaml", "json") and size > limits.max_file_bytes:
        yield _error(
            path,
            f"the file is larger than {_size(limits.max_file_bytes)}, the limit for one {kind.upper()} file",
        )
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, also on early exit
    except OSError as exc:
        yield _read_failure(path, exc)
        return
    with handle:
        yield from _load_stream(handle, path, kind, limits)


def _walk(root: str) -> Iterator[tuple[str, OSError | None]]:
    """Wanted files under root, depth first, sorted by name at every level."""

    def listing(folder: str) -> list[os.DirEntry] | OSError:
        try:
            with os.scandir(folder) as entries:
                return sorted(entries, key=lambda entry: entry.name)
        except OSError as exc:
            return exc

    first = listing(root)
    if isinstance(first, OSError):
        yield root, first
        return
    stack = [iter(first)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue
        if is_dir:
            sub = listing(entry.path)
            if isinstance(sub, OSError):
                yield entry.path, sub
            else:
                stack.append(iter(sub))
        elif is_file and _guess(entry.name)[0] is not None:
            yield entry.path, None


def _load_path(path: str | os.PathLike, limits: Limits) -> Iterator[Document]:
    origin = os.fsdecode(path)
    try:
        info = os.stat(origin)
    except FileNotFoundError:
        if os.path.islink(origin):
            yield _error(origin, f"{_quote(origin, 200)} is a link to something that does not exist")
        else:
            yield _error(origin, f"{_quote(origin, 200)} does not exist")
        return
    except ValueError:  # e.g. a NUL character in the path
        yield _error(origin, f"{_quote(origin, 200)} is not a valid path")
        return
    except OSError as exc:
        yield _read_failure(origin, exc)
        return
    if stat.S_ISDIR(info.st_mode):
        for file_path, problem in _walk(origin):
            if problem is not None:
                yield _read_failure(file_path, problem)
            else:
                try:
                    size: int | None = os.stat(file_path).st_size
                except OSError:
                    size = None
                yield from _load_file(file_path, limits, size)
        return
    size = info.st_size if stat.S_ISREG(info.st_mode) else None
    yield from _load_file(origin, limits, size)


def load_path(path: str | os.PathLike, limits: Limits = Limits()) -> Iterator[Document]:
    """Read one file, or every YAML/JSON/JSON Lines file under a folder.

    Folders are walked recursively in sorted order; files with other suffixes
    are skipped.  A path that is missing or unreadable gives one error document.
    """
    return _load_path(path, limits)


def load_paths(
    paths: Iterable[str | os.PathLike] | str | os.PathLike, limits: Limits = Limits()
) -> Iterator[Document]:
    """Read several paths, in the order given (see :func:`load_path`)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    for path in paths:
        yield from _load_path(path, limits)


# --------------------------------------------------------------------------
# Units: the input cut into pieces that can be parsed elsewhere (batch audits)
# --------------------------------------------------------------------------


class Unit(NamedTuple):
    """One piece of input, read but not parsed: a JSON Lines line, or a whole YAML/JSON file.

    Reading stays in one process, in a fixed order; parsing a unit (`parse_unit`) can
    happen in another (a tuple: cheap to send there). An unreadable piece is a unit with an
    `error` and no payload.
    """

    origin: str
    line: int
    kind: str  # "line" (one JSON document), "file" (YAML or JSON, maybe several documents)
    payload: bytes | None = None
    error: str | None = None
    file_kind: str | None = None  # for "file": yaml / json / None (sniff)
    # for "span": the bytes [start, end) of a plain JSON Lines file, `lines` lines from `line` on
    start: int = 0
    end: int = 0
    lines: int = 0


def iter_units(paths: Iterable[str | os.PathLike] | str | os.PathLike,
               limits: Limits = Limits(), span_lines: int | None = None) -> Iterator[Unit]:
    """The units of several paths, in order: folders walked as `load_path` does.

    With `span_lines`, a plain (not compressed) JSON Lines file is cut into "span" units of at
    most that many lines, which say where the lines are instead of holding them: whoever
    parses a span reads it from the file (`span_units`), so the lines are not sent around."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    for path in paths:
        origin = os.fsdecode(path)
        if os.path.isdir(origin):
            for file_path, problem in _walk(origin):
                if problem is not None:
                    doc = _read_failure(file_path, problem)
                    yield Unit(file_path, doc.location.line, "file", error=doc.error)
                else:
                    yield from _file_units(file_path, limits, span_lines)
        else:
            yield from _file_units(origin, limits, span_lines)


_SPAN_BYTES = 16 * 2**20  # a span also ends at the first line break after this many bytes


def _spans(path: str, fh: BinaryIO, span_lines: int) -> Iterator[Unit]:
    """The spans of a plain JSON Lines file: line numbers count line breaks, as `_lines` does."""
    first_line, start, count, pos, last = 1, 0, 0, 0, b"\n"
    while True:
        block = fh.read(_CHUNK * 16)
        if not block:
            break
        i = block.find(b"\n")
        while i >= 0:
            count += 1
            end = pos + i + 1
            if count >= span_lines or end - start >= _SPAN_BYTES:
                yield Unit(path, first_line, "span", start=start, end=end, lines=count)
                first_line, start, count = first_line + count, end, 0
            i = block.find(b"\n", i + 1)
        pos += len(block)
        last = block[-1:]
    if pos > start:  # the lines after the last full span; the last one may have no line break
        yield Unit(path, first_line, "span", start=start, end=pos, lines=count + (last != b"\n"))


class _Bounded:
    """The `readline` of a file, stopping after `size` bytes."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.left = fh, size

    def readline(self, limit: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        raw = self.fh.readline(self.left if limit < 0 else min(limit, self.left))
        self.left -= len(raw)
        return raw


def span_units(unit: Unit, limits: Limits = Limits()) -> Iterator[Unit]:
    """The "line" units of a "span" unit, read from its file: the same units, with the same line
    numbers, as reading the whole file would give."""
    size = unit.end - unit.start
    try:
        with open(unit.origin, "rb") as fh:
            fh.seek(unit.start)
            # A span of the usual size is read at once; one that holds a huge line, bit by bit.
            stream = io.BytesIO(fh.read(size)) if size <= 2 * _SPAN_BYTES else _Bounded(fh, size)
            yield from _jsonl_units(unit.origin, stream, limits, unit.line)
    except (OSError, ValueError) as exc:
        reason = _os_reason(exc) if isinstance(exc, OSError) else str(exc)
        yield Unit(unit.origin, unit.line, "file", error=f"{_quote(unit.origin, 200)} cannot be read: {reason}")


def skip_lines(unit: Unit, count: int) -> Unit:
    """A span without its first `count` lines (fewer than it has)."""
    with open(unit.origin, "rb") as fh:
        fh.seek(unit.start)
        reader = _Bounded(fh, unit.end - unit.start)
        start = unit.start
        for _ in range(count):
            raw = reader.readline(_CHUNK)
            start += len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = reader.readline(_CHUNK)
                start += len(raw)
    return unit._replace(line=unit.line + count, start=start, lines=unit.lines - count)


def _jsonl_units(path: str, stream: Any, limits: Limits, first_line: int = 1) -> Iterator[Unit]:
    """The "line" units of JSON Lines text whose first line is line `first_line` of the file."""
    first = first_line == 1
    for lineno, content in _lines(stream, limits.max_line_bytes):
        lineno += first_line - 1
        if isinstance(content, int):
            yield Unit(path, lineno, "line", error=f"line {lineno} is {_size(content)} long; "
                       f"a line holds at most {_size(limits.max_line_bytes)}")
            first = False
            continue
        if first and content.startswith(codecs.BOM_UTF8):
            content = content[len(codecs.BOM_UTF8):]
        first = False
        if content.strip(_BLANK):
            yield Unit(path, lineno, "line", payload=content)


def _file_units(path: str, limits: Limits, span_lines: int | None = None) -> Iterator[Unit]:
    kind, gz = _guess(path)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        yield Unit(path, 1, "file", error=f"{_quote(path, 200)} does not exist")
        return
    except (OSError, ValueError) as exc:
        yield Unit(path, 1, "file", error=_read_failure(path, exc).error if isinstance(exc, OSError)
                   else f"{_quote(path, 200)} is not a valid path")
        return
    with raw:
        try:
            head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
            stream: BinaryIO = raw
            if gz or head == b"\x1f\x8b":
                stream = gzip.GzipFile(fileobj=raw, mode="rb")
            if kind is None:
                kind, stream = _sniff(stream, limits)
            if kind == "jsonl" and span_lines and stream is raw:
                yield from _spans(path, raw, span_lines)
                return
            if kind == "jsonl":
                yield from _jsonl_units(path, stream, limits)
                return
            data = stream.read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                yield Unit(path, 1, "file", error=f"{_quote(path, 200)} is larger than "
                           f"{_size(limits.max_file_bytes)}; split it, or use JSON Lines")
                return
            yield Unit(path, 1, "file", payload=data, file_kind=kind)
        except (OSError, EOFError, zlib.error) as exc:
            yield Unit(path, 1, "file", error=f"{_quote(path, 200)} cannot be read: {_os_reason(exc)}")


def parse_unit(unit: Unit, limits: Limits = Limits()) -> Iterator[Document]:
    """The documents of a "file" unit (a "line" unit is JSON text, for the caller to parse)."""
    if unit.error is not None:
        yield _error(unit.origin, unit.error, unit.line)
        return
    yield from _load_stream(io.BytesIO(unit.payload or b""), unit.origin, unit.file_kind, limits)
