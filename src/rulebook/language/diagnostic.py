"""Diagnostics: what is wrong in a rule file, where, and what to do about it.

Every diagnostic has a stable code (`Code`), one lowercase line of message
with user input in backticks, the span it is about, a short label under the
caret, and an optional help line. `render` prints it the way rustc and Cedar do,
in Japanese or English: the texts come from `catalogue` in both (`diagnose`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from . import catalogue
from .catalogue import word
from .message import LANGUAGES, Message, text_in
from .source import Span


class Code(StrEnum):
    """Every diagnostic's stable code, named for what it means. One table, two uses: the codes
    users see (a member is its code as text: `Code.TYPE_MISMATCH == "RB301"`), and the golden
    tests (`tests/diagnostics/`: one bad input each). RB1xx: reading and syntax; RB2xx: names;
    RB3xx: types and structure; RB4xx: judging a case."""

    def __new__(cls, code: str, summary: str):
        member = str.__new__(cls, code)
        member._value_ = code
        member.summary = summary
        return member

    # reading and syntax
    UNEXPECTED_CHARACTER = "RB101", "unexpected character"
    UNEXPECTED_TOKEN = "RB102", "unexpected word or symbol"
    UNEXPECTED_END = "RB103", "unexpected end of file"
    BAD_TEXT = "RB104", "bad text or interpolation"
    BAD_LITERAL = "RB105", "bad literal"
    NOT_UTF8 = "RB106", "rule file is not text in UTF-8"
    TOO_DEEP = "RB107", "expression nested too deeply"
    NO_RULE_FILES = "RB108", "no rulebook folder, or no rule files in it"
    # names
    UNKNOWN_FIELD = "RB201", "unknown field"
    UNKNOWN_NAME = "RB202", "unknown name"
    DUPLICATE_RULE = "RB203", "duplicate rule id"
    DUPLICATE = "RB204", "duplicate declaration"
    UNKNOWN_RULE = "RB205", "unknown rule id"
    UNKNOWN_TYPE = "RB206", "unknown type"
    UNKNOWN_STAGE = "RB207", "unknown stage"
    UNKNOWN_VALUE = "RB208", "unknown value"
    RESERVED_FIELD = "RB209", "field name reserved by the engine"
    # types and structure
    TYPE_MISMATCH = "RB301", "type mismatch"
    MAY_BE_MISSING = "RB302", "optional value read without saying what happens when it is missing"
    UNREACHABLE = "RB303", "unreachable clause"
    MISSING_LANGUAGE = "RB304", "text missing a language"
    NO_OTHERWISE = "RB305", "decision list without `otherwise`"
    FRACTION_OF_A_YEN = "RB306", "amount may hold a fraction of a yen"
    CYCLE = "RB307", "dependency cycle"
    BAD_PARAMETER_VALUE = "RB308", "bad parameter value"
    MISSING_PART = "RB309", "missing part"
    UNKNOWN_LANGUAGE = "RB310", "unknown language"
    GIVEN_TWICE = "RB311", "part given twice"
    RECORD_CONTAINS_ITSELF = "RB312", "record that contains itself"
    OPTION_MISPLACED = "RB313", "field option on a field it does not fit"
    OUT_OF_PLACE = "RB314", "construct where it cannot be used"
    # judging a case
    NO_PARAMETER_VALUE = "RB401", "a parameter with no value on the day a rule reads it (the rule fails)"
    NOT_EVALUABLE = "RB402", "a rule could not be evaluated on this case"


CODES: dict[str, str] = {code.value: code.summary for code in Code}



@dataclass(frozen=True, slots=True)
class Diagnostic:
    """`message`, `label` and `help` are the English texts (Messages, carrying their Japanese:
    `text`, `messages`); `key` is the catalogue's (`CODE.key`)."""

    code: Code
    message: str
    span: Span | None
    label: str = ""
    help: str | None = None
    severity: str = "error"
    key: str = ""

    def sort_key(self):
        return self.span.sort_key() if self.span else ("", -1)

    def render(self, color: bool = False, lang: str = "en") -> str:
        return render(self, color, lang)

    def text(self, lang: str) -> dict[str, str | None]:
        """{message, label, help} in one language (help None where there is none)."""
        return {"message": text_in(self.message, lang), "label": text_in(self.label, lang),
                "help": None if self.help is None else text_in(self.help, lang)}

    def messages(self) -> dict[str, dict[str, str | None]]:
        """{"ja": {message, label, help}, "en": {…}}: the JSON forms' texts in both languages."""
        return {lang: self.text(lang) for lang in LANGUAGES}

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.severity}[{self.code}]: {self.message}"


class RulebookError(Exception):
    """A rulebook that cannot be loaded: its diagnostics, sorted by position."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def render(self, color: bool = False, lang: str = "en") -> str:
        parts = [render(d, color, lang) for d in self.diagnostics]
        count = len(self.diagnostics)
        parts.append(word("errors_in_rulebook", count=count, s="s" if count != 1 else "").text(lang))
        return "\n".join(parts)


def diagnose(code: Code, key: str, span: Span | None, /, help: Message | None = None, severity: str = "error",
             **values) -> Diagnostic:
    """Diagnostic `code.key` of the catalogue, its texts filled in with `values` in both
    languages. A `help` given (a did-you-mean, what the parser expected) is shown instead of the
    catalogue's help line; without one, the catalogue's is, where it has one."""
    texts = catalogue.parts(code, key, values)
    if help is None:
        help = texts.get("help")
    return Diagnostic(code, texts["message"], span, texts["label"], help, severity, f"{code}.{key}")


def _width(text: str) -> int:
    """Display width on a terminal: wide East Asian characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(d: Diagnostic, color: bool = False, lang: str = "en") -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    texts = d.text(lang)
    hint = word("help").text(lang)
    head = paint(f"{d.severity}[{d.code}]", "1;31" if d.severity == "error" else "1;33")
    lines = [f"{head}{paint(': ' + texts['message'], '1')}"]
    if d.span is None:
        if texts["help"]:
            lines.append(f"  = {hint}: {texts['help']}")
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
    label = f" {texts['label']}" if texts["label"] else ""
    lines.append(f"{gutter} {paint('|', '1;34')} {pad}{paint(carets + label, '1;31')}")
    if texts["help"]:
        lines.append(f"{gutter} {paint('|', '1;34')}")
        lines.append(f"{gutter} = {hint}: {texts['help']}")
    return "\n".join(lines)


def message_of(code: Code, key: str, /, **values) -> Message:
    """The message alone of diagnostic `code.key` (an error met when judging: RB4xx)."""
    return catalogue.parts(code, key, values)["message"]


def closest(name: str, candidates) -> str | None:
    """The candidate closest to `name`, if one is close."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, candidates) -> Message | None:
    """A help line suggesting the closest candidate, if one is close."""
    close = closest(name, candidates)
    return word("did_you_mean", name=close) if close else None
