"""json: JSON text → data, refusing what could be read two ways, and the places of its fields.

Parsed by jiter (pydantic's own JSON parser, in Rust): integers stay exact at any width
(orjson would turn those past 64 bits into floats), and a key repeated in one object is
refused — a reader that kept the last value would judge a case on one of two amounts. On
top of it, the limits: nesting depth, text length, integer width and finite numbers.

`Positions` finds the line and column of a field path, or of the first repeated key, by
scanning the text; only input that is refused pays for it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterator

import jiter

from ..messages import Message, plain, quote, said
from .document import Limits, Refused
from .text import position

__all__ = ["parse", "Positions", "duplicate_key"]

_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_BRACKETS = re.compile(_STRING + r"|[\[\]{}]")
_NUMBERS = re.compile(_STRING + r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
# The screens for numbers that need a closer look, on the bytes as a table maps them (digits to
# 0, e and E to e, + to +, the rest to a space): a regular expression over the text costs more
# than jiter's whole parse.
_SHAPES = bytes(ord("0") if byte in b"0123456789" else ord("e") if byte in b"eE" else byte if byte == ord("+")
                 else ord(" ") for byte in range(256))
_JITER = re.compile(r"^(.*) at line (\d+) column (\d+)$", re.S)

# jiter's reasons, in Japanese (and in clearer English where jiter's is terse); a reason not
# listed is shown as jiter gives it.
_REASONS = {
    "EOF while parsing a value": "値の途中でファイルが終わっています",
    "EOF while parsing a string": "文字列の途中でファイルが終わっています",
    "EOF while parsing a list": "リストの途中でファイルが終わっています",
    "EOF while parsing an object": "オブジェクトの途中でファイルが終わっています",
    "expected value": "値がありません",
    "expected ident": ("expected true, false or null", "true・false・null のつづりが正しくありません"),
    "expected `,` or `]`": "`,` か `]` が必要です",
    "expected `,` or `}`": "`,` か `}` が必要です",
    "expected `:`": "`:` が必要です",
    "key must be a string": "キーは文字列にしてください",
    "trailing comma": "最後の要素のあとに `,` があります",
    "trailing characters": "値のあとに余分な文字があります",
    "invalid number": "数値として正しくありません",
    "number out of range": "数値が範囲を超えています",
    "invalid escape": "エスケープが正しくありません",
    "invalid unicode code point": "Unicode の符号位置が正しくありません",
    "lone leading surrogate in hex escape": "サロゲートが対になっていません",
    "unexpected end of hex escape": "16進エスケープが途中で終わっています",
    "control character (\\u0000-\\u001F) found while parsing a string":
        "文字列の中に制御文字(U+0000〜U+001F)があります",
    "there is no JSON value": "JSON の値がありません",
}


def reason(text: str) -> Message:
    """A parser's reason, in English and Japanese."""
    text = " ".join(text.split())
    said_as = _REASONS.get(text)
    if isinstance(said_as, tuple):
        return plain(*said_as)
    return plain(text, said_as)


def _byte_position(data: bytes, line: int, column: int) -> tuple[int, int]:
    """jiter counts columns in bytes; the (line, column) in characters."""
    start = 0
    for _ in range(line - 1):
        found = data.find(b"\n", start)
        if found < 0:
            break
        start = found + 1
    end = start + max(column - 1, 0)
    return line, len(data[start:end].decode("utf-8", "replace")) + 1


def _offset_refused(text: str, offset: int | None, message: Message, first_line: int) -> Refused:
    if offset is None:
        return Refused(message)
    line, column = position(text, offset)
    return Refused(message, line + first_line - 1, column)


def _depth_offset(text: str, max_depth: int) -> int | None:
    depth = 0
    for match in _BRACKETS.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def _long_string_offset(text: str, max_chars: int) -> int | None:
    for match in _BRACKETS.finditer(text):
        if match.end() - match.start() - 2 > max_chars and len(json.loads(match.group())) > max_chars:
            return match.start()
    return None


def _walk_problem(value: Any, limits: Limits, check_floats: bool) -> str | None:
    """"depth", "string" or "float" when the parsed value breaks a limit; iterative."""
    max_depth, max_chars = limits.max_depth, limits.max_string_chars
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict:
            if depth > max_depth:
                return "depth"
            for key, child in item.items():
                if len(key) > max_chars:
                    return "string"
                stack.append((child, depth + 1))
        elif kind is list:
            if depth > max_depth:
                return "depth"
            stack.extend((child, depth + 1) for child in item)
        elif kind is str:
            if len(item) > max_chars:
                return "string"
        elif kind is float and check_floats and not math.isfinite(item):
            return "float"
    return None


def parse(data: bytes, text: str, limits: Limits, first_line: int = 1) -> Any:
    """One JSON value from its bytes (`text` is the same, decoded); raise Refused with the line
    and column of the problem (lines counted from `first_line`)."""
    try:
        value = jiter.from_json(data, allow_inf_nan=False, catch_duplicate_keys=True)
    except ValueError as error:
        raise _parse_error(str(error), data, text, limits, first_line) from None
    depth_screen = data.count(b"[") + data.count(b"{") > limits.max_depth
    strings_screen = len(text) > limits.max_string_chars + 2
    shapes = data.translate(_SHAPES)
    floats_screen = b"e000" in shapes or b"e+000" in shapes or b"0" * 300 in shapes
    if depth_screen or strings_screen or floats_screen:
        problem = _walk_problem(value, limits, floats_screen)
        if problem == "depth":
            raise _offset_refused(text, _depth_offset(text, limits.max_depth),
                                  said("too_deep", kind="JSON", limit=limits.max_depth), first_line)
        if problem == "string":
            raise _too_long(value, text, limits, first_line)
        if problem == "float":
            raise _infinite(text, first_line)
    if b"0" * (limits.max_int_digits + 1) in shapes:
        for match in _NUMBERS.finditer(text):
            token = match.group()
            if token[0] == '"' or "." in token or "e" in token or "E" in token:
                continue
            digits = len(token) - (token[0] == "-")
            if digits > limits.max_int_digits:
                raise _offset_refused(text, match.start(), said(
                    "int_too_large", digits=f"{digits:,}", limit=limits.max_int_digits), first_line)
    return value


def _too_long(value: Any, text: str, limits: Limits, first_line: int) -> Refused:
    longest = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            longest = max([longest, *map(len, item)])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            longest = max(longest, len(item))
    message = said("text_too_long", chars=f"{longest:,}", limit=f"{limits.max_string_chars:,}")
    return _offset_refused(text, _long_string_offset(text, limits.max_string_chars), message, first_line)


def _infinite(text: str, first_line: int) -> Refused:
    for match in _NUMBERS.finditer(text):
        token = match.group()
        if token[0] != '"' and math.isinf(float(token)):
            return _offset_refused(text, match.start(), said("number_infinite", token=quote(token)), first_line)
    return Refused(said("number_infinite", token="?"))  # pragma: no cover - the walk found one


def _parse_error(message: str, data: bytes, text: str, limits: Limits, first_line: int) -> Refused:
    found = _JITER.match(message)
    what, line, column = (found.group(1), int(found.group(2)), int(found.group(3))) if found else (message, 1, 1)
    line, column = _byte_position(data, max(line, 1), max(column, 1))
    if what.startswith("Detected duplicate key"):
        duplicate = duplicate_key(text)
        if duplicate is not None:
            path, key, offset = duplicate
            at_line, at_column = position(text, offset)
            return Refused(said("duplicate_key", key=quote(key)), at_line + first_line - 1, at_column, path)
    if what == "recursion limit exceeded":
        offset = _depth_offset(text, limits.max_depth)
        return _offset_refused(text, offset, said("too_deep", kind="JSON", limit=limits.max_depth), first_line)
    if what == "number out of range":
        number = _NUMBERS.match(text, _offset(text, line, column))
        token = number.group() if number else ""
        if token and "." not in token and "e" not in token.lower():
            digits = len(token.lstrip("-"))
            return Refused(said("int_too_large", digits=f"{digits:,}", limit=limits.max_int_digits),
                           line + first_line - 1, column)
        return Refused(said("number_infinite", token=quote(token)), line + first_line - 1, column)
    if what.startswith("EOF while parsing a value") and not text.strip():
        what = "there is no JSON value"
    return _JSONSyntax(reason(what), line + first_line - 1, column)


def _offset(text: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
    return start + column - 1


class _JSONSyntax(Refused):
    """JSON that does not parse: its reason, line and column (the caller words it)."""


def syntax_message(refused: Refused, in_line: int | None = None) -> Message:
    """The message of a refusal: JSON syntax is worded with its place, in a line of JSON Lines or a file."""
    if isinstance(refused, _JSONSyntax):
        if in_line is not None:
            return said("json_line_invalid", line=in_line, reason=refused.message, column=refused.column)
        return said("json_invalid", reason=refused.message, line=refused.line, column=refused.column)
    if in_line is not None:
        return said("on_line", line=in_line, message=refused.message)
    return refused.message


# ------------------------------------------------------------------ places of fields

_TOKEN = re.compile(r'\s*(?:(' + _STRING + r')|([{}\[\],:])|([^\s{}\[\],:"]+))')


def _child(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _key(string: str) -> str:
    """The text of a quoted key; a key whose escapes are not JSON's stays as written."""
    if "\\" not in string:
        return string[1:-1]
    try:
        return json.loads(string)
    except ValueError:
        return string[1:-1]


def _values(text: str) -> Iterator[tuple[str, str | int | None, int, bool]]:
    """(path, key or index, offset, repeated) of every value of a JSON text, in order: the
    offset of its key for a member of an object (repeated: the key came before in the same
    object), of the value itself for an item of a list. Text that is not JSON gives what can
    be made of it, and never an error."""
    stack: list[list] = []  # [is object, path, key or index, offset of the key, keys seen, expects a key]
    for match in _TOKEN.finditer(text):
        string, punct, literal = match.groups()
        offset = match.start(1) if string else match.start(2) if punct else match.start(3)
        top = stack[-1] if stack else None
        if string is not None and top is not None and top[0] and top[5]:
            top[2] = _key(string)
            top[3] = offset
            top[5] = False
            continue
        if punct in (":",):
            continue
        if punct == ",":
            if top is not None:
                if top[0]:
                    top[5] = True
                else:
                    top[2] += 1
            continue
        if punct in ("}", "]"):
            if stack:
                stack.pop()
            continue
        # a value starts
        if top is None:
            path = ""
            yield path, None, offset, False
        elif top[0]:
            if top[5] or top[2] is None:  # not JSON: a value where a key should be
                continue
            path = _child(top[1], top[2])
            repeated = top[2] in top[4]
            top[4].add(top[2])
            yield path, top[2], top[3], repeated
        else:
            path = _child(top[1], top[2])
            yield path, top[2], offset, False
        if punct == "{":
            stack.append([True, path, None, offset, set(), True])
        elif punct == "[":
            stack.append([False, path, 0, offset, None, False])


def duplicate_key(text: str) -> tuple[str, str, int] | None:
    """(path, key, offset) of the first key repeated in an object of a JSON text, if any."""
    for path, key, offset, repeated in _values(text):
        if repeated:
            return path, str(key), offset
    return None


class Positions:
    """Where each field of a JSON text is: `(path)` → (line, column), lines from `first_line`.
    A path not in the text is placed at its nearest enclosing value (a missing field at
    the object that lacks it). Scans lazily, as far as the paths asked for."""

    def __init__(self, text: str | bytes, first_line: int = 1) -> None:
        self.text = text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text
        self.first_line = first_line
        self._seen: dict[str, int] = {}
        self._scan = _values(self.text)

    def _find(self, path: str) -> int | None:
        if path in self._seen:
            return self._seen[path]
        for found, _key, offset, _repeated in self._scan:
            self._seen.setdefault(found, offset)
            if found == path:
                return offset
        return None

    def __call__(self, path: str) -> tuple[int, int] | None:
        while True:
            offset = self._find(path)
            if offset is not None:
                line, column = position(self.text, offset)
                return line + self.first_line - 1, column
            if not path:
                return None
            path = _parent(path)


def _parent(path: str) -> str:
    """`steps[0].hours` → `steps[0]` → `steps` → ``."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""
