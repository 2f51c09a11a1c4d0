"""Source text and spans: where a piece of a rule file stands.

A span carries its source, so any later pass can print the snippet (as Cedar's
locations do). Offsets are 0-based character offsets; lines and columns are
1-based and computed on demand.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    """One rule file: its path as shown to the user, and its text."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        object.__setattr__(self, "_line_starts", tuple(starts))

    def __getstate__(self):
        return (self.path, self.text)

    def __setstate__(self, state) -> None:
        path, text = state
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "text", text)
        self.__post_init__()

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if not 1 <= line <= len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]


@dataclass(frozen=True, slots=True, eq=False)
class Span:
    """A stretch of a source: [start, end) in characters."""

    source: Source
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.position(self.start)[1]

    def __str__(self) -> str:
        line, column = self.source.position(self.start)
        return f"{self.source.path}:{line}:{column}"

    def __repr__(self) -> str:
        return f"Span({self})"

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def sort_key(self) -> tuple[str, int]:
        return (self.source.path, self.start)

    def to(self, other: "Span") -> "Span":
        """The span from the start of this one to the end of another."""
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))
