"""document: what the readers give — a Document (data, or the fault that stopped it) and its Location."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, Locate, error_document
from ..messages import Message


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
    """One parsed document, or the error that stopped it from being parsed.

    `error` is a Message (English, with `.ja`); `path` the field it is about, if any (a
    duplicate key); `locate` finds the line and column of a field path in a parsed document."""

    location: Location
    data: Any = None
    error: str | None = None
    path: str = ""
    locate: Locate | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def refusal(self) -> dict:
        """The `rulebook.error/v1` mapping of a document that could not be read."""
        loc = self.location
        error = InputError(self.path, self.error or "", None, loc.line, loc.column)
        return error_document([error], None, loc.origin, loc.line)


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


class Refused(Exception):
    """Input refused by a reader: a Message and, where known, a 1-based position and a path."""

    def __init__(self, message: Message, line: int | None = None, column: int | None = None,
                 path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path

    @classmethod
    def at_mark(cls, message: Message, mark: Any, path: str = "") -> "Refused":
        if mark is None:
            return cls(message, path=path)
        return cls(message, mark.line + 1, mark.column + 1, path)

    def document(self, origin: str, default_line: int = 1) -> Document:
        line = self.line if self.line is not None else default_line
        return Document(Location(origin, line, self.column), error=self.message, path=self.path)


def fault(origin: str, message: Message, line: int = 1, column: int | None = None, path: str = "") -> Document:
    """The Document of a fault."""
    return Document(Location(origin, line, column), error=message, path=path)
