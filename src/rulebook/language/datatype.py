"""Types of the rule language: what a value is, and whether it may be missing.

Money (`yen`), rates (`yen per hour`), hours, days and business days are kinds
of their own, so that `500 yen per hour * hours` is yen and `yen + hours` is an
error. A yen value may hold a fraction of a yen (after multiplying by hours or a
percentage) until it is `rounded`; amounts of the payout must be whole.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .message import Message, fill

SCALARS = {
    "text", "date", "boolean", "integer", "decimal", "yen", "rate", "hours", "days",
    "business_days", "months", "percent",
}
NUMERIC = {"integer", "decimal", "yen", "rate", "hours", "days", "business_days", "months", "percent"}
PLAIN_NUMBERS = {"integer", "decimal", "percent"}

# The words of a type in messages, (English, Japanese).
_WORDS = {
    "text": ("text", "文字列"), "date": ("date", "日付"), "boolean": ("boolean", "真偽値"),
    "integer": ("integer", "整数"), "decimal": ("decimal", "小数"), "yen": ("yen", "円"),
    "rate": ("yen per hour", "時間あたりの円"), "hours": ("hours", "時間数"), "days": ("days", "日数"),
    "business_days": ("business days", "営業日数"), "months": ("months", "月数"), "percent": ("percent", "百分率"),
    "pair": ("pair", "日付の組"), "pairs": ("list of date pairs", "日付の組のリスト"),
    "nothing": ("empty list", "空のリスト"), "list": ("list", "リスト"), "error": ("error", "エラー"),
}


@dataclass(frozen=True, slots=True)
class Type:
    kind: str  # a scalar, or list / table / record / pair / nothing
    optional: bool = False
    inner: "Type | None" = None  # list element, table value
    key: "Type | None" = None  # table key
    record: str | None = None  # record name
    fractional: bool = False  # yen or rate that may hold a fraction of a yen

    def required(self) -> "Type":
        return replace(self, optional=False) if self.optional else self

    def maybe(self) -> "Type":
        return self if self.optional else replace(self, optional=True)

    def whole(self) -> "Type":
        return replace(self, fractional=False) if self.fractional else self

    def same_kind(self, other: "Type") -> bool:
        """Equal but for optionality and fractions."""
        if self.kind == "nothing" or other.kind == "nothing":
            return self.kind in ("list", "nothing") and other.kind in ("list", "nothing")
        if self.kind != other.kind or self.record != other.record:
            return False
        if self.inner is not None and other.inner is not None and not self.inner.same_kind(other.inner):
            return False
        if self.key is not None and other.key is not None and not self.key.same_kind(other.key):
            return False
        return True

    def describe(self) -> Message:
        """The type in words, in English (the string) and Japanese: `optional list of date`."""
        if self.kind == "list" and self.inner:
            body = fill("list of {inner}", "{inner}のリスト", {"inner": self.inner.describe()})
        elif self.kind == "table":
            body = fill("table of {inner} by {key}", "{key}をキーとする{inner}の表",
                        {"inner": self.inner.describe(), "key": self.key.describe()})
        elif self.kind == "record":
            body = Message(f"{self.record}", f"{self.record}")
        else:
            body = Message(*_WORDS.get(self.kind, (self.kind, self.kind)))
        return fill("optional {body}", "省略可能な{body}", {"body": body}) if self.optional else body


TEXT = Type("text")
DATE = Type("date")
BOOLEAN = Type("boolean")
INTEGER = Type("integer")
DECIMAL = Type("decimal")
YEN = Type("yen")
RATE = Type("rate")
HOURS = Type("hours")
DAYS = Type("days")
BUSINESS_DAYS = Type("business_days")
MONTHS = Type("months")
PERCENT = Type("percent")
NOTHING = Type("nothing")
PAIRS = Type("list", inner=Type("pair"))
ERROR = Type("error")  # after a reported error: matches anything, reports nothing more


def list_of(inner: Type) -> Type:
    return Type("list", inner=inner)


def record(name: str) -> Type:
    return Type("record", record=name)


def arithmetic(op: str, left: Type, right: Type) -> Type | None:
    """The type of `left op right` (both required), or None if it has none."""
    a, b = left.kind, right.kind
    frac = left.fractional or right.fractional
    if op in "+-":
        if a == b and a in {"integer", "decimal", "yen", "rate", "hours", "days", "months", "percent"}:
            return Type(a, fractional=frac)
        if {a, b} == {"integer", "decimal"}:
            return DECIMAL
        if a == "date" and b in ("days", "business_days"):
            return DATE
        if op == "+" and {a, b} == {"date", "months"}:  # the Civil Code counts months forward only
            return DATE
        if op == "+" and b == "date" and a in ("days", "business_days"):
            return DATE
        if op == "-" and a == b == "date":
            return DAYS
        return None
    if op == "*":
        for x, y in ((left, right), (right, left)):
            if x.kind == "rate" and y.kind == "hours":
                return Type("yen", fractional=True)
            if x.kind in ("yen", "rate") and y.kind in PLAIN_NUMBERS:
                exact = y.kind == "integer" and not x.fractional
                return Type(x.kind, fractional=not exact)
            if x.kind in ("hours", "days", "months") and y.kind == "integer":
                return Type(x.kind)
            if x.kind == "hours" and y.kind in ("decimal", "percent"):
                return HOURS
        if a in PLAIN_NUMBERS and b in PLAIN_NUMBERS:
            return INTEGER if a == b == "integer" else DECIMAL
        return None
    if op == "/":
        if a == "yen" and b == "hours":
            return Type("rate", fractional=True)
        if a == b and a in ("yen", "rate", "hours", "days"):
            return DECIMAL
        if a in ("yen", "rate", "hours") and b in ("integer", "decimal"):
            return Type(a, fractional=a != "hours")
        if a in PLAIN_NUMBERS and b in PLAIN_NUMBERS:
            return DECIMAL
        return None
    return None


def extremum(left: Type, right: Type) -> Type | None:
    """The type of `min(left, right)` and `max(left, right)` (both required), or None if it has
    none: numbers of one kind (yen with yen, an integer with a decimal) or dates, as `+` adds them."""
    a, b = left.kind, right.kind
    if a == b and (a in NUMERIC or a == "date"):
        return Type(a, fractional=left.fractional or right.fractional)
    if {a, b} == {"integer", "decimal"}:
        return DECIMAL
    return None


def comparable(left: Type, right: Type) -> bool:
    a, b = left.kind, right.kind
    if a == b and a in NUMERIC | {"date", "text"}:
        return True
    return {a, b} <= {"integer", "decimal"}


def equatable(left: Type, right: Type) -> bool:
    if comparable(left, right):
        return True
    return left.kind == right.kind and left.kind in ("boolean",)
