"""Layout: a document of text and possible line breaks → lines no wider than a width.

The formatter describes a rule file as a document in the manner of Wadler's "prettier printer"
(as Prettier does): texts, line breaks that are a space when their group fits on the line and a
new line when it does not, groups, indentation by a number of columns or to the current column,
and fills (break only where the next part does not fit). Two additions for rule files: a cell
break, so that consecutive lines line up in columns (the stage table; comments at the end of
lines), and comments, which end their line whatever the layout around them. Widths are display
widths: a wide East Asian character takes two columns.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


def width(text: str) -> int:
    """Display width in a terminal or editor: wide East Asian characters take two columns."""
    if text.isascii():
        return len(text)
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return total


# --------------------------------------------------------------- the document


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Line:
    """A space (`flat`: "" for a soft line) when its group fits, else a new line; `hard` always
    breaks, and breaks every group around it."""

    flat: str = " "
    hard: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    doc: "Doc"
    broken: bool = False  # holds a hard line: never flat


@dataclass(frozen=True, slots=True)
class Nest:
    indent: int
    doc: "Doc"


@dataclass(frozen=True, slots=True)
class Align:
    """Lines broken inside start at the column where this begins."""

    doc: "Doc"


@dataclass(frozen=True, slots=True)
class Fill:
    """Parts and separators alternating: a separator breaks only when the part after it does not
    fit on the line."""

    parts: tuple


@dataclass(frozen=True, slots=True)
class Cell:
    """Ends a column: consecutive lines' cells are padded to the same width, plus `gap`."""

    gap: int = 1


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment. `own_line`: it starts a line of its own; else it goes at the end of the
    line it is on. Either way its line ends after it."""

    text: str
    own_line: bool = False


Doc = object  # Text | Line | Group | Nest | Align | Fill | Cell | Comment | list of Doc

LINE = Line()
SOFTLINE = Line("")
HARDLINE = Line(hard=True)


def group(*docs) -> Group:
    doc = list(docs)
    return Group(doc, _has_hard(doc))


def concat(*docs) -> list:
    return list(docs)


def join(separator, docs) -> list:
    out: list = []
    for i, doc in enumerate(docs):
        if i:
            out.append(separator)
        out.append(doc)
    return out


def _has_hard(doc) -> bool:
    if isinstance(doc, list):
        return any(_has_hard(d) for d in doc)
    if isinstance(doc, Line):
        return doc.hard
    if isinstance(doc, Group):
        return doc.broken
    if isinstance(doc, (Nest, Align)):
        return _has_hard(doc.doc)
    if isinstance(doc, Fill):
        return any(_has_hard(d) for d in doc.parts)
    return False  # a comment ends its line where it is, and leaves the groups around it alone


# ---------------------------------------------------------------- the printer

_FLAT, _BREAK = 0, 1


class _Printer:
    def __init__(self, limit: int):
        self.limit = limit
        self.lines: list[list] = [[""]]  # each line: its cells, (text, gap) but the last; indentation in the first
        self.comments: list[str | None] = [None]  # each line's comment at its end
        self.column = 0
        self.must_break = False  # a comment ended the line: the next text starts a new one

    # -- output
    def _has_content(self) -> bool:
        line = self.lines[-1]
        return len(line) > 1 or bool(line[0].strip())

    def newline(self, indent: int) -> None:
        self.lines.append([" " * indent])
        self.comments.append(None)
        self.column = indent
        self.must_break = False

    def text(self, text: str, indent: int) -> None:
        if self.must_break:
            self.newline(indent)
            if text.isspace():  # the space between two words that a comment put on two lines
                return
        self.lines[-1][-1] += text
        self.column += width(text)

    def cell(self, gap: int) -> None:
        self.lines[-1].append("")
        self.lines[-1][-2] = (self.lines[-1][-2], gap)  # type: ignore[assignment]

    def comment(self, comment: Comment, indent: int) -> None:
        if comment.own_line:
            if self._has_content():
                self.newline(indent)
            self.text(comment.text, indent)
        else:
            self.comments[-1] = comment.text
        self.must_break = True

    # -- layout
    def fits(self, doc, rest: list, room: int) -> bool:
        """Whether `doc` laid flat, and what follows it up to the next line break, fits in `room`."""
        stack = [(_FLAT, doc)]
        rest_index = len(rest)
        while room >= 0:
            if not stack:
                if rest_index == 0:
                    return True
                rest_index -= 1
                _indent, mode, item = rest[rest_index]
                stack.append((mode, item))
                continue
            mode, item = stack.pop()
            if isinstance(item, Text):
                room -= width(item.text)
            elif isinstance(item, list):
                stack.extend((mode, d) for d in reversed(item))
            elif isinstance(item, Line):
                if mode == _BREAK or item.hard:
                    return True
                room -= width(item.flat)
            elif isinstance(item, Group):
                if item.broken and mode == _FLAT:
                    return False
                stack.append((_BREAK if item.broken else mode, item.doc))
            elif isinstance(item, (Nest, Align)):
                stack.append((mode, item.doc))
            elif isinstance(item, Fill):
                stack.extend((mode, d) for d in reversed(item.parts))
            elif isinstance(item, Comment):
                return True  # the line ends with it
        return False

    def run(self, doc) -> None:
        stack = [(0, _BREAK, doc)]
        while stack:
            indent, mode, item = stack.pop()
            if isinstance(item, Text):
                self.text(item.text, indent)
            elif isinstance(item, list):
                stack.extend((indent, mode, d) for d in reversed(item))
            elif isinstance(item, Line):
                if mode == _BREAK or item.hard or self.must_break:
                    self.newline(indent)
                else:
                    self.text(item.flat, indent)
            elif isinstance(item, Group):
                flat = not item.broken and (mode == _FLAT or self.fits(item.doc, stack, self.limit - self.column))
                stack.append((indent, _FLAT if flat else _BREAK, item.doc))
            elif isinstance(item, Nest):
                stack.append((indent + item.indent, mode, item.doc))
            elif isinstance(item, Align):
                here = self._has_content() and not self.must_break
                stack.append((self.column if here else indent, mode, item.doc))
            elif isinstance(item, Fill):
                self._fill(indent, mode, item.parts, stack)
            elif isinstance(item, Cell):
                self.cell(item.gap)
            elif isinstance(item, Comment):
                self.comment(item, indent)
            else:  # pragma: no cover - the formatter builds only the kinds above
                raise TypeError(f"not a layout document: {item!r}")

    def _fill(self, indent: int, mode: int, parts: tuple, stack: list) -> None:
        """Lays the parts out one after the other; a separator breaks when the part after it
        does not fit (Prettier's fill). Pushed back as a sequence, in reverse, on the stack."""
        if not parts:
            return
        if mode == _FLAT:
            stack.append((indent, _FLAT, list(parts)))
            return
        content, rest = parts[0], parts[1:]
        content_flat = self.fits(content, [], self.limit - self.column)
        if not rest:
            stack.append((indent, _FLAT if content_flat else _BREAK, content))
            return
        separator, following = rest[0], rest[1]
        pair_flat = self.fits([separator, following], [], self.limit - self.column - _flat_width(content)) \
            if content_flat else False
        stack.append((indent, mode, Fill(rest[1:])))
        stack.append((indent, _FLAT if pair_flat else _BREAK, separator))
        stack.append((indent, _FLAT if content_flat else _BREAK, content))


def _flat_width(doc) -> int:
    stack = [doc]
    total = 0
    while stack:
        item = stack.pop()
        if isinstance(item, Text):
            total += width(item.text)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Line):
            total += width(item.flat)
        elif isinstance(item, (Group, Nest, Align)):
            stack.append(item.doc)
        elif isinstance(item, Fill):
            stack.extend(item.parts)
    return total


def _align_cells(lines: list[list]) -> list[str]:
    """Pads the cells of consecutive lines to the width of their column (elastic tabstops, as
    Go's tabwriter: a column runs over the consecutive lines that have a cell ended there)."""
    widths: list[list[int]] = [[0] * (len(line) - 1) for line in lines]

    def columns(first: int, last: int, column: int) -> None:
        i = first
        while i < last:
            if len(lines[i]) - 1 <= column:
                i += 1
                continue
            j = i
            size = 0
            while j < last and len(lines[j]) - 1 > column:
                text, gap = lines[j][column]
                size = max(size, width(text) + gap)
                j += 1
            for k in range(i, j):
                widths[k][column] = size
            columns(i, j, column + 1)
            i = j

    columns(0, len(lines), 0)
    out = []
    for line, sizes in zip(lines, widths):
        parts = []
        for (text, _gap), size in zip(line[:-1], sizes):
            parts.append(text + " " * (size - width(text)))
        parts.append(line[-1])
        out.append("".join(parts).rstrip())
    return out


def _align_comments(lines: list[str], comments: list[str | None]) -> list[str]:
    """Comments at the ends of lines, lined up two columns after the longest line that has one,
    within each stretch of lines between blank lines."""
    out = list(lines)
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and lines[end]:
            end += 1
        commented = [i for i in range(start, end) if comments[i] is not None]
        if commented:
            column = max(width(lines[i]) for i in commented) + 2
            for i in commented:
                out[i] = lines[i] + " " * (column - width(lines[i])) + comments[i]
        start = end + 1
    return out


def render(doc, limit: int) -> str:
    """The document laid out in lines of at most `limit` columns where it can be."""
    printer = _Printer(limit)
    printer.run(doc)
    return "\n".join(_align_comments(_align_cells(printer.lines), printer.comments))
