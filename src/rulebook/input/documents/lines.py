"""lines: streams read a little ahead (push-back, sniffing the kind) and the one JSON Lines splitter."""

from __future__ import annotations

import io
import os
from typing import Any, BinaryIO, Iterator

from ..messages import said, size
from .document import Limits, Refused
from .text import BOM, wide_bom, wide_bom_refused

KINDS = ("yaml", "json", "jsonl")
SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 64 * 1024
BLANK = b" \t\r\n"


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


def push_back(prefix: bytes, stream: BinaryIO) -> BinaryIO:
    if not prefix:
        return stream
    return io.BufferedReader(_Prefixed(prefix, stream), buffer_size=CHUNK)


def guess(origin: str) -> tuple[str | None, bool]:
    """(kind from the suffix or None, whether the name ends in .gz)."""
    name = os.path.basename(origin).lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return SUFFIXES.get(os.path.splitext(name)[1]), gz


def _sniff_decide(buf: bytes, final: bool) -> str | None:
    """JSON Lines when the first two non-blank lines both start with `{`; else YAML."""
    start = len(BOM) if buf.startswith(BOM) else 0
    n = len(buf)
    i = start
    while i < n and buf[i] in BLANK:
        i += 1
    if i == n:
        return "yaml" if final else None
    if buf[i] != ord("{"):
        return "yaml"
    newline = buf.find(b"\n", i)
    if newline < 0:
        return "yaml" if final else None
    j = newline + 1
    while j < n and buf[j] in BLANK:
        j += 1
    if j == n:
        return "yaml" if final else None
    return "jsonl" if buf[j] == ord("{") else "yaml"


def sniff(stream: BinaryIO, limits: Limits) -> tuple[str, BinaryIO]:
    cap = 2 * limits.max_line_bytes + CHUNK
    buf = b""
    kind = None
    while len(buf) < cap:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        buf += chunk
        kind = _sniff_decide(buf, final=False)
        if kind is not None:
            break
    if kind is None:
        kind = _sniff_decide(buf, final=True) or "yaml"
    return kind, push_back(buf, stream)


def _raw_lines(stream: Any, max_line: int) -> Iterator[tuple[int, bytes | int]]:
    """(line number, content without its line break) for each line; a line longer than
    `max_line` bytes gives its length instead, and is skipped in bounded chunks."""
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
            yield lineno, (len(content) if len(content) > max_line else content)
            continue
        total = len(raw)
        while not raw.endswith(b"\n"):
            raw = stream.readline(CHUNK)
            if not raw:
                break
            total += len(raw)
        yield lineno, total


def json_lines(stream: Any, limits: Limits, first_line: int = 1) -> Iterator[tuple[int, bytes | Refused]]:
    """The non-blank lines of JSON Lines text whose first line is line `first_line` of its file:
    (line number, its bytes), or (line number, Refused) for a line too long. The file's first
    line loses a UTF-8 byte-order mark; a UTF-16 or UTF-32 one is refused and ends the reading."""
    for lineno, content in _raw_lines(stream, limits.max_line_bytes):
        lineno += first_line - 1
        if isinstance(content, int):
            yield lineno, Refused(said("line_too_long", line=lineno, length=size(content),
                                       limit=size(limits.max_line_bytes)), lineno)
            continue
        if lineno == 1:
            wide = wide_bom(content)
            if wide is not None:
                yield lineno, wide_bom_refused(wide, 1)
                return
            if content.startswith(BOM):
                content = content[len(BOM):]
        if content.strip(BLANK):
            yield lineno, content
