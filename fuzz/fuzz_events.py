"""Fuzz target: `rulebook watch`'s event reader and the watcher (Watcher.feed, the clock).

An input is an event log, JSON Lines, read as `rulebook watch` reads it (documents.load_stream,
then watch.run feeding each event to a fresh Watcher), then the clock moved a year past the
last event. Every item out must be a `rulebook.alert/v1` or a `rulebook.error/v1` naming its
line, written as JSON and as text in both languages.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz.harness import Failure, fuzz_main  # noqa: E402

NAME = "events"
FORMATS = ("rulebook.alert/v1", "rulebook.error/v1")


def setup():
    import rulebook

    return rulebook.load()


def check(data: bytes, book) -> None:
    from rulebook.cli import _alert_text
    from rulebook.documents import load_stream
    from rulebook.snapshot import dumps_json
    from rulebook.watch import Watcher, run

    watcher = Watcher(book, remind_days=3)
    items = []

    def emit(item: dict) -> None:
        if item.get("format") not in FORMATS:
            raise Failure(f"an item that is neither an alert nor an error: {item!r:.300}")
        dumps_json(item)
        if item["format"] == FORMATS[0]:
            for lang in ("ja", "en"):
                _alert_text(item, lang)
        elif not item["errors"]:
            raise Failure(f"an error line without errors: {item!r:.300}")
        items.append(item)

    run(watcher, load_stream(io.BytesIO(data), "<fuzz>.jsonl", "jsonl"), emit)
    if watcher.clock is not None:
        for item in watcher.advance(watcher.clock.day + dt.timedelta(days=366)):
            emit(item)
    for case_id in watcher.cases:
        watcher.standing(case_id)


if __name__ == "__main__":
    fuzz_main(NAME)
