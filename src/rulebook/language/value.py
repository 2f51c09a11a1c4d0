"""value: the values a rule file writes that Python has no type of its own for.

A parameter's value may be a record (`{capital_jpy: 300000000 yen, employees: 300}`), alone, in
a list or as the row of a table. Such a value is a `Row`: an immutable tuple whose fields are
read as attributes (`limits.capital_jpy`), like a record of the snapshot, by the same generated
code; `fields` and `items` give its fields in the order the record declares them.
"""

from __future__ import annotations

import collections
import functools


class Row:
    """A value of a record declared in the rulebook (a mixin of the record's tuple class)."""

    __slots__ = ()
    record: str = ""
    fields: tuple[str, ...] = ()

    def items(self) -> list[tuple[str, object]]:
        """(field, value) in the order the record declares its fields."""
        return list(zip(self.fields, self))  # type: ignore[call-overload]


@functools.cache
def row_class(record: str, fields: tuple[str, ...]) -> type:
    """The class of the rows of one record (made once per record and field list)."""
    base = collections.namedtuple("".join(part.capitalize() for part in record.split("_")) or "Row",
                                  fields, rename=True)
    return type(base.__name__, (base, Row), {"__slots__": (), "record": record, "fields": fields})


def row(record: str, pairs: list[tuple[str, object]]) -> Row:
    """A row of `record` holding these (field, value) pairs, in the record's order."""
    return row_class(record, tuple(name for name, _ in pairs))(*(value for _, value in pairs))
