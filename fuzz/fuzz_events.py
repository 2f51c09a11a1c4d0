"""Fuzz target: `rulebook watch`'s event reader and the watcher (Watcher.feed, the clock).

An input is an event log, JSON Lines, read as `rulebook watch` reads it (documents.load_stream,
then watch.run feeding each event to a fresh Watcher), then the clock moved a year past the
last event. Every item out must be a `rulebook.alert/v1` or a `rulebook.error/v1` naming its
line, written as JSON and as text in both languages.

A log whose first line is `#small` is watched with a small custom rulebook (SMALL below) whose
pending rule's message reads a parameter that is in force only in January 2021: its changes,
wake-ups and reminders can fail to be explained, which must give error lines, not a crash.
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


SMALL_MARK = b"#small\n"
SMALL = '''
rulebook "small" version "1" title ja "小" en "Small"
  parameters dated as_of
  stage s1 title ja "段階" en "Stage"

record case
  case_id: text
  as_of: date
  opened_on: date
  paid_jpy: optional yen

parameter late: yen
  title ja "後" en "Late"
  source "s"
  value 5 yen from 2021-01-01 until 2021-01-31

rule r.due on case
  stage s1
  title ja "期限" en "Due"
  source "s"
  let last_day = opened_on + 30 days
  when paid_jpy is set and paid_jpy >= late then pass
    message ja "済" en "paid"
  when as_of <= last_day then pending
    message ja "{late} {last_day}" en "{late} {last_day}"
    due last_day
  otherwise fail
    message ja "過ぎた" en "passed"
'''


def setup():
    import tempfile

    import rulebook

    folder = Path(tempfile.mkdtemp(prefix="fuzz-events-"))
    (folder / "small.rules").write_text(SMALL, encoding="utf-8")
    return {"bundled": rulebook.load(), "small": rulebook.load(folder, cache=False)}


def check(data: bytes, books) -> None:
    from rulebook.apps.cli import _alert_text
    from rulebook.input.documents import load_stream
    from rulebook.input.snapshot import dumps_json
    from rulebook.apps.watch import Watcher, run

    book = books["bundled"]
    if data.startswith(SMALL_MARK):
        book, data = books["small"], data[len(SMALL_MARK):]
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
