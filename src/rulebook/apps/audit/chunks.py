"""chunks: the input's units cut into the chunks the workers judge, and the units a checkpoint
has already counted skipped."""

from __future__ import annotations

from ...input.documents import Unit, skip_lines


def weight(unit: Unit) -> int:
    """How many units of the checkpoint's count a unit is: a span, as many as its lines."""
    return unit.lines if unit.kind == "span" else 1


def skip(units, count: int):
    """The units after the first `count` (a span cut where the count ends in it)."""
    for unit in units:
        if count > 0:
            size = weight(unit)
            if size <= count:
                count -= size
                continue
            unit, count = skip_lines(unit, count), 0
        yield unit


def cut(units, size: int):
    """Lists of at most `size` units, in order; a span is a chunk of its own."""
    chunk = []
    for unit in units:
        if unit.kind == "span":
            if chunk:
                yield chunk
                chunk = []
            yield [unit]
            continue
        chunk.append(unit)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


