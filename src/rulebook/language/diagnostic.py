"""Diagnostics: what is wrong in a rule file, where, and what to do about it.

Every diagnostic has a stable code from `CODES`, one lowercase line of message
with user input in backticks, the span it is about, a short label under the
caret, and an optional help line. `render` prints it the way rustc and Cedar do.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .source import Span

# One table, two uses: the codes users see, and the golden tests (one file each).
CODES: dict[str, str] = {
    # syntax
    "RB101": "unexpected character",
    "RB102": "unexpected word or symbol",
    "RB103": "unexpected end of file",
    "RB104": "bad text or interpolation",
    "RB105": "bad literal",
    "RB106": "rule file is not text in UTF-8",
    "RB107": "expression nested too deeply",
    # names
    "RB201": "unknown field",
    "RB202": "unknown name",
    "RB203": "duplicate rule id",
    "RB204": "duplicate declaration",
    "RB205": "unknown rule id",
    "RB206": "unknown type",
    "RB207": "unknown stage",
    "RB208": "unknown value",
    # types and structure
    "RB301": "type mismatch",
    "RB302": "optional value read without saying what happens when it is missing",
    "RB303": "unreachable clause",
    "RB304": "text missing a language",
    "RB305": "decision list without `otherwise`",
    "RB306": "amount may hold a fraction of a yen",
    "RB307": "dependency cycle",
    "RB308": "bad parameter value",
    "RB309": "missing part",
    "RB310": "unknown language",
    "RB311": "part given twice",
    # evaluation
    "RB401": "no parameter value in force",
    "RB402": "a rule could not be evaluated on this case",
}

LANGUAGES = ("ja", "en")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    label: str = ""
    help: str | None = None
    severity: str = "error"

    def sort_key(self):
        return self.span.sort_key() if self.span else ("", -1)

    def render(self, color: bool = False) -> str:
        return render(self, color)

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.severity}[{self.code}]: {self.message}"


class RulebookError(Exception):
    """A rulebook that cannot be loaded: its diagnostics, sorted by position."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def render(self, color: bool = False) -> str:
        parts = [render(d, color) for d in self.diagnostics]
        count = len(self.diagnostics)
        parts.append(f"{count} error{'s' if count != 1 else ''} in the rulebook")
        return "\n".join(parts)


def _width(text: str) -> int:
    """Display width on a terminal: wide East Asian characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(d: Diagnostic, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    head = paint(f"{d.severity}[{d.code}]", "1;31" if d.severity == "error" else "1;33")
    lines = [f"{head}{paint(': ' + d.message, '1')}"]
    if d.span is None:
        if d.help:
            lines.append(f"  = help: {d.help}")
        return "\n".join(lines)
    source = d.span.source
    line, column = source.position(d.span.start)
    end_line, end_column = source.position(max(d.span.start, d.span.end))
    text = source.line_text(line).expandtabs(1)
    if end_line != line or end_column <= column:
        end_column = max(column + 1, len(text) + 1) if end_line != line else column + 1
    gutter = " " * len(str(line))
    lines.append(f"{gutter}{paint('-->', '1;34')} {source.path}:{line}:{column}")
    lines.append(f"{gutter} {paint('|', '1;34')}")
    lines.append(f"{paint(str(line), '1;34')} {paint('|', '1;34')} {text}")
    pad = " " * _width(text[: column - 1])
    carets = "^" * max(1, _width(text[column - 1 : end_column - 1]))
    label = f" {d.label}" if d.label else ""
    lines.append(f"{gutter} {paint('|', '1;34')} {pad}{paint(carets + label, '1;31')}")
    if d.help:
        lines.append(f"{gutter} {paint('|', '1;34')}")
        lines.append(f"{gutter} = help: {d.help}")
    return "\n".join(lines)


def did_you_mean(name: str, candidates) -> str | None:
    """A help line suggesting the closest candidate, if one is close."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
