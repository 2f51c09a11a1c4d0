"""batches: the audit's input cut into units that can be parsed elsewhere — a JSON Lines line,
a whole YAML/JSON file, or a span of lines of a plain JSON Lines file that a worker reads itself.

Reading stays in one process, in a fixed order; parsing a unit (`parse_unit`) can happen in
another (a tuple: cheap to send there). A piece that cannot be read is a unit with an `error`.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple

from ..messages import os_reason, quote, said
from .document import Document, Limits, Refused, fault
from .lines import BLANK, CHUNK, GZIP_MAGIC, guess, json_lines, sniff
from .text import wide_bom
from .read import read_stream, required, missing, read_failure, too_large, walk


class Unit(NamedTuple):
    """One piece of input, read but not parsed: a JSON Lines line, or a whole YAML/JSON file."""

    origin: str
    line: int
    kind: str  # "line" (one JSON document), "file" (YAML or JSON, maybe several documents), "span"
    payload: bytes | None = None
    error: str | None = None  # a Message
    file_kind: str | None = None  # for "file": yaml / json / None (sniff)
    # for "span": the bytes [start, end) of a plain JSON Lines file, `lines` lines from `line` on
    start: int = 0
    end: int = 0
    lines: int = 0
    column: int | None = None  # where the error is, when known


def _fault_unit(document: Document) -> Unit:
    loc = document.location
    return Unit(loc.origin, loc.line, "file", error=document.error, column=loc.column)


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
            for file_path, problem in walk(origin):
                if problem is not None:
                    yield _fault_unit(read_failure(file_path, problem))
                else:
                    yield from _file_units(file_path, limits, span_lines)
        else:
            yield from _file_units(origin, limits, span_lines)


_SPAN_BYTES = 16 * 2**20  # a span also ends at the first line break after this many bytes


def _spans(path: str, fh: BinaryIO, span_lines: int) -> Iterator[Unit]:
    """The spans of a plain JSON Lines file: line numbers count line breaks, as `json_lines` does."""
    first_line, start, count, pos, last = 1, 0, 0, 0, b"\n"
    while True:
        block = fh.read(CHUNK * 16)
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


def span_units(unit: Unit, limits: Limits = Limits()) -> Iterable[Unit]:
    """The "line" units of a "span" unit, read from its file: the same units, with the same line
    numbers, as reading the whole file would give — a span of the usual size read at once and
    given as a list, one that holds a huge line read bit by bit."""
    size = unit.end - unit.start
    if size > 2 * _SPAN_BYTES:
        return _huge_span_units(unit, limits)
    try:
        with open(unit.origin, "rb") as fh:
            fh.seek(unit.start)
            data = fh.read(size)
    except (OSError, ValueError) as exc:
        return [_fault_unit(_unreadable(unit.origin, exc, unit.line))]
    return _split_units(unit.origin, data, limits, unit.line)


def _huge_span_units(unit: Unit, limits: Limits) -> Iterator[Unit]:
    """`span_units` of a span that holds a huge line: its lines read one at a time."""
    try:
        with open(unit.origin, "rb") as fh:
            fh.seek(unit.start)
            yield from _line_units(unit.origin, _Bounded(fh, unit.end - unit.start), limits, unit.line)
    except (OSError, ValueError) as exc:
        yield _fault_unit(_unreadable(unit.origin, exc, unit.line))


# A plain line's unit is made as a tuple of its fields (`tuple.__new__`, not the class's own
# `__new__`): its first four, then the defaults of the rest, as the class declares them.
_LINE_REST = tuple(Unit._field_defaults[name] for name in Unit._fields[4:])


def _split_units(path: str, data: bytes, limits: Limits, first_line: int) -> list[Unit]:
    """The "line" units of JSON Lines bytes held whole, whose first line is line `first_line` of
    the file: the units `_line_units` gives (`lines.json_lines`'s rules, the same line numbers
    and refusals), from one split of the bytes rather than a line read at a time. The rare lines
    — too long, or the file's first (its byte-order mark) — go through `_line_units` itself."""
    pieces = data.split(b"\n")
    ended = pieces[-1] == b""  # the last line had its line break
    if ended:
        pieces.pop()
    most = limits.max_line_bytes  # (a line within it is one `_raw_lines` reads at once)
    last = len(pieces) - 1
    make, rest = tuple.__new__, _LINE_REST
    units: list[Unit] = []
    add = units.append
    for lineno, raw in enumerate(pieces, first_line):
        content = raw[:-1] if raw[-1:] == b"\r" else raw
        if len(content) <= most and lineno != 1:
            if content.strip(BLANK):
                add(make(Unit, (path, lineno, "line", content, *rest)))
            continue
        index = lineno - first_line
        units += _line_units(path, io.BytesIO(raw + b"\n" if ended or index < last else raw), limits, lineno)
        if lineno == 1 and len(content) <= most and wide_bom(content) is not None:
            break  # `json_lines` reads no further than a UTF-16 or UTF-32 byte-order mark
    return units


def _unreadable(origin: str, exc: BaseException, line: int) -> Document:
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        reason = os_reason(getattr(exc, "strerror", None) or "the operating system refused")
        return fault(origin, said("cannot_read", path=quote(origin, 200), reason=reason), line)
    document = missing(origin, exc)
    return fault(origin, document.error, line)


def skip_lines(unit: Unit, count: int) -> Unit:
    """A span without its first `count` lines (fewer than it has)."""
    with open(unit.origin, "rb") as fh:
        fh.seek(unit.start)
        reader = _Bounded(fh, unit.end - unit.start)
        start = unit.start
        for _ in range(count):
            raw = reader.readline(CHUNK)
            start += len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = reader.readline(CHUNK)
                start += len(raw)
    return unit._replace(line=unit.line + count, start=start, lines=unit.lines - count)


def _line_units(path: str, stream: Any, limits: Limits, first_line: int = 1) -> Iterator[Unit]:
    """The "line" units of JSON Lines text whose first line is line `first_line` of the file."""
    for lineno, content in json_lines(stream, limits, first_line):
        if isinstance(content, Refused):
            yield Unit(path, lineno, "line", error=content.message, column=content.column)
        else:
            yield Unit(path, lineno, "line", payload=content)


def _file_units(path: str, limits: Limits, span_lines: int | None = None) -> Iterator[Unit]:
    kind, gz = guess(path)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below
    except (OSError, ValueError) as exc:
        yield _fault_unit(missing(path, exc))
        return
    with raw:
        try:
            head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
            stream: BinaryIO = raw
            compressed = gz or head == GZIP_MAGIC
            if compressed:
                stream = gzip.GzipFile(fileobj=raw, mode="rb")
            if kind is None:
                kind, stream = sniff(stream, limits)
            if kind == "jsonl" and span_lines and stream is raw:
                yield from _spans(path, raw, span_lines)
                return
            if kind == "jsonl":
                yield from _line_units(path, stream, limits)
                return
            data = stream.read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                yield _fault_unit(too_large(path, kind, limits, compressed))
                return
            yield Unit(path, 1, "file", payload=data, file_kind=kind)
        except (OSError, EOFError, zlib.error) as exc:
            yield _fault_unit(read_failure(path, exc))


def parse_unit(unit: Unit, limits: Limits = Limits()) -> Iterator[Document]:
    """The documents of a "file" unit, or the fault of a unit that could not be read (a "line"
    unit is JSON text, for the caller to give to the validator)."""
    if unit.error is not None:
        yield fault(unit.origin, unit.error, unit.line, unit.column)
        return
    yield from required(read_stream(io.BytesIO(unit.payload or b""), unit.origin, unit.file_kind, limits),
                         unit.origin, True)
