"""errors: the one constructor of `rulebook.error/v1`, what rulebook gives for input it cannot judge.

    {"format": "rulebook.error/v1", "case_id": "C-1" or null,
     "errors": [{"path": "steps[0].hours", "message": "…English…", "value": "1:30",
                 "messages": {"ja": "…", "en": "…"}, "line": 12, "column": 5}],
     "source": {"file": "case.yaml", "line": 1}}

`path`, `message` (English) and `value` are the contract's; `messages` gives the text in both
languages; `line` and `column` (1-based) say where the error is in its file, where known;
`source` names the file and the line of the document. The CLI, the audit, the service and
watch all build it here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable

from .messages import Message

ERROR_FORMAT = "rulebook.error/v1"

# (path → (line, column) or None): where a field of a document is, as far as its reader knows.
Locate = Callable[[str], "tuple[int, int | None] | None"]


@dataclass(frozen=True, slots=True)
class InputError:
    """One reason an input is refused: the field's path ("" for the whole input), the message,
    the value found, and where it is (1-based line and column) when that is known."""

    path: str
    message: str  # a Message (English, with its Japanese); a plain text is taken for both languages
    value: Any = None
    line: int | None = None
    column: int | None = None

    @property
    def messages(self) -> dict[str, str]:
        if isinstance(self.message, Message):
            return self.message.texts()
        return {"ja": str(self.message), "en": str(self.message)}

    def to_dict(self) -> dict:
        out = {"path": self.path, "message": str(self.message), "value": self.value,
               "messages": self.messages}
        if self.line is not None:
            out["line"] = self.line
            if self.column is not None:
                out["column"] = self.column
        return out

    @classmethod
    def from_dict(cls, item: dict) -> "InputError":
        """Back from `to_dict` (the Japanese too)."""
        texts = item.get("messages") or {}
        message = item.get("message", "")
        if texts.get("ja") is not None:
            message = Message(str(message), texts["ja"])
        return cls(item.get("path", ""), message, item.get("value"), item.get("line"), item.get("column"))

    def located(self, locate: Locate | None) -> "InputError":
        if locate is None or self.line is not None:
            return self
        where = locate(self.path)
        if where is None:
            return self
        return replace(self, line=where[0], column=where[1])


@dataclass
class Rejected(Exception):
    """An input that is not valid, with every reason (`rulebook.SnapshotError`)."""

    case_id: str | None
    errors: list[InputError]
    origin: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return "; ".join(f"{e.path or '(snapshot)'}: {e.message}" for e in self.errors)

    def located(self, locate: Locate | None) -> "Rejected":
        """The same, each error with its line and column where `locate` knows them."""
        if locate is not None:
            self.errors = [e.located(locate) for e in self.errors]
        return self

    def to_dict(self) -> dict:
        return error_document(self.errors, self.case_id, self.origin, self.line)


def error_document(errors: Iterable[InputError], case_id: str | None = None, origin: str | None = None,
                   line: int | None = None) -> dict:
    """The `rulebook.error/v1` mapping; `origin` and `line` name the file and the document's line."""
    out = {"format": ERROR_FORMAT, "case_id": case_id, "errors": [e.to_dict() for e in errors]}
    if origin is not None:
        out["source"] = {"file": origin, "line": line}
    return out


def refusal(message: Message, path: str = "", value: Any = None, case_id: str | None = None,
            origin: str | None = None, line: int | None = None, column: int | None = None) -> dict:
    """The `rulebook.error/v1` mapping of one reason (a document that cannot be read, a request)."""
    return error_document([InputError(path, message, value, line, column)], case_id, origin, line)
