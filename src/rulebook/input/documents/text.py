"""text: bytes → text, strictly UTF-8, with the place of the first bad byte; offsets → lines."""

from __future__ import annotations

import codecs

from ..messages import said
from .document import DocumentError, Location, Refused

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
BOM = codecs.BOM_UTF8


def wide_bom(data: bytes) -> str | None:
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    return None


def wide_bom_refused(encoding: str, line: int) -> Refused:
    return Refused(said("not_utf8_bom", encoding=encoding, line=line), line, 1)


def decode(data: bytes, first_line: int = 1, strip_bom: bool = True) -> str:
    """Decode UTF-8 strictly; raise Refused with the line (and column) of the problem."""
    if strip_bom:
        wide = wide_bom(data)
        if wide is not None:
            raise wide_bom_refused(wide, first_line)
        if data.startswith(BOM):
            data = data[len(BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = first_line + data.count(b"\n", 0, start)
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", "replace")) + 1
        raise Refused(said("not_utf8_byte", byte=f"{data[start]:02x}", line=line), line, column) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = first_line + text.count("\n", 0, nul)
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise Refused(said("not_utf8_nul", line=line), line, column)
    return text


def read_text(data: bytes, origin: str) -> str:
    """Decode a whole file as UTF-8 (a UTF-8 byte-order mark is dropped).

    Raises :class:`DocumentError` naming the origin and line when the bytes are
    not UTF-8 (this includes UTF-16 and UTF-32 files).
    """
    try:
        return decode(data)
    except Refused as refused:
        location = Location(origin, refused.line or 1, refused.column)
        raise DocumentError(location, refused.message) from None


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of a character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def offset_of(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based (line, column)."""
    start = 0
    for _ in range(line - 1):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    return min(len(text), start + max(column - 1, 0))
