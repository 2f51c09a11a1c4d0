"""worker: judging a chunk of units, in whatever process runs it (this one, a pool worker, a
Dask worker). What goes back to the audit is few objects: the chunk's results and errors as
bytes, one small record per document for the ledger (with the rows the case adds to the batch
rules, made by their generated code), the counts per rule and status, and the latest day a case
was judged on."""

from __future__ import annotations

import datetime as dt
import gc
import os
import threading
import time
from collections import Counter
from typing import NamedTuple

import orjson

from ...input.documents import Limits, Unit, parse_unit, span_units
from ...output import vocabulary
from ...output.explain import dumps
from .sheets import CASE_TEXT, case_row, encode_rows

_BOOK = None
_SETTINGS: dict = {}


def init_worker(rules: str | None, as_of: dt.date | None, compact: bool, audit: int | None = None) -> None:
    """Load the rulebook into this process; `audit`: the pid of the audit that started this
    process as a pool worker (it then ends with it)."""
    global _BOOK
    from ...book import load

    if audit is not None:
        _exit_with(audit)
    _BOOK = load(rules)
    _SETTINGS.update(as_of=as_of, compact=compact, key=(rules, as_of, compact))
    # A worker makes many short-lived objects and keeps only the rulebook: move what is loaded
    # out of the collector's way, and collect the young less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _exit_with(parent: int, interval: float = 1.0) -> None:
    """End this worker when the audit that started it (`parent`, its pid as the audit knew it,
    so a death before this runs is seen too) is gone — killed with -9, say: a worker left
    behind would wait forever to hand back its chunk."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_RULES_OF: dict = {}  # failed results → the rules cases.csv shows (few distinct), for `case_row`
_SPILLED = [0]  # chunks this process spilled


class Spilled(NamedTuple):
    """A chunk's results written by the worker to a file of their own, for the audit to append
    to results.jsonl by the kernel (`os.copy_file_range`) rather than receive and write."""

    path: str
    size: int


def judge_chunk(units: list[Unit], rules: str | None = None, as_of=None, compact: bool = False,
                lang: str | None = None, spill: str | None = None):
    """Judge a chunk of units. Returns (results bytes — or `Spilled`, written into the folder
    `spill` —, errors bytes, one entry per document in input order — (is verdict, length of its
    line, ledger row, what it adds to the batch rules) —, counts per rule and status, the latest
    day a case was judged on, the chunk's rows of cases.csv in `lang` as bytes, or None without
    a `lang`): few objects to send back, and nothing left for the main process to join."""
    if _BOOK is None or (rules, as_of, compact) != _SETTINGS.get("key"):
        init_worker(rules, as_of, compact)
    book = _BOOK
    out_lines, err_lines, docs, statuses = [], [], [], Counter()
    tally = book.compact_writer.tally() if compact else None
    latest = [None]

    def added(case, payout: dict, origin: str, line: int):
        """What the case adds to the batch rules, and the day it was judged on; or the error
        document of a case that a batch rule cannot read."""
        day = as_of or case.as_of
        rows, refusal = book.batch_rows(case, payout, day, origin=origin, line=line)
        if refusal is None and (latest[0] is None or day > latest[0]):
            latest[0] = day
        return rows, refusal

    def add(out: dict, case, origin: str, line: int) -> None:
        rows = ()
        if out["format"] == "rulebook.verdict/v1":
            rows, refusal = added(case, out["payout"], origin, line)
            if refusal is not None:
                out = refusal
        is_verdict, line_bytes, row = _record(out, case, origin, line, statuses)
        (out_lines if is_verdict else err_lines).append(line_bytes)
        docs.append((is_verdict, len(line_bytes), row, rows if is_verdict else ()))

    def add_compact(compact, case, origin: str, line: int) -> None:
        line_bytes, verdict, failed, payout = compact
        rows, refusal = added(case, payout, origin, line)
        if refusal is not None:  # not a verdict after all: its statuses, counted, are taken back
            book.compact_writer.take_back(tally, orjson.loads(line_bytes)["results"])
            add(refusal, case, origin, line)
            return
        line_bytes += b"\n"
        out_lines.append(line_bytes)
        docs.append((True, len(line_bytes), _row(case, case.case_id, verdict, " ".join(failed), payout, origin, line),
                     rows))

    for unit in _lines_of(units):
        if compact and unit.kind == "line" and unit.error is None:
            done, out, case = book.judge_compact(unit.payload, as_of, origin=unit.origin, line=unit.line,
                                                 tally=tally)
            if done is not None:
                add_compact(done, case, unit.origin, unit.line)
            else:
                add(out, case, unit.origin, unit.line)
            continue
        if unit.kind == "line" and unit.error is None:
            out, case = book.judge_case(unit.payload, as_of, origin=unit.origin, line=unit.line, compact=compact,
                                        raw=True, batch=True)
            add(out, case, unit.origin, unit.line)
            continue
        for doc in parse_unit(unit, Limits()):
            if doc.error is not None:
                out, case = doc.refusal(), None
            else:
                out, case = book.judge_case(doc.data, as_of, origin=doc.location.origin, line=doc.location.line,
                                            compact=compact, raw=True, locate=doc.locate)
            add(out, case, doc.location.origin, doc.location.line)
    if tally is not None:
        statuses.update(book.compact_writer.counts(tally))
    sheet = None
    if lang is not None:
        words = vocabulary.VERDICT[lang]
        sheet = encode_rows([case_row(row, words, _RULES_OF) for is_verdict, _length, row, _rows in docs
                             if is_verdict], CASE_TEXT)
    out_blob = b"".join(out_lines)
    if spill is not None and out_blob:
        _SPILLED[0] += 1
        path = os.path.join(spill, f"{os.getpid()}-{_SPILLED[0]}.jsonl")
        with open(path, "wb") as fh:
            fh.write(out_blob)
        out_blob = Spilled(path, len(out_blob))
    day = latest[0]
    return out_blob, b"".join(err_lines), docs, statuses, day.isoformat() if day is not None else None, sheet


def _lines_of(units: list[Unit]):
    """The units of a chunk, a span read here from its file."""
    for unit in units:
        if unit.kind == "span":
            yield from span_units(unit)
        else:
            yield unit


def _record(out: dict, case, origin: str, line: int, statuses: Counter):
    """(verdict?, JSON line, ledger row) of one document; counts its statuses."""
    line_bytes = dumps(out) + b"\n"
    if out["format"] != "rulebook.verdict/v1":
        message = "; ".join(f"{e['path'] or '(snapshot)'}: {e['message']}" for e in out["errors"])
        return False, line_bytes, (origin, line, out.get("case_id"), message)
    failed = []
    for r in out["results"]:
        key = (r["rule"], r["status"])
        statuses[key] += 1
        if key[1] == "fail":
            failed.append(f"{key[0]}@{r['subject']}")
    return True, line_bytes, _row(case, out["case_id"], out["verdict"], " ".join(failed), out["payout"], origin, line)


def _row(case, case_id, verdict: str, failed: str, payout: dict, origin: str, line: int):
    """The ledger row of a verdict (the expert and the SME: the people's totals)."""
    who = getattr(case, "expert", None)
    expert = (getattr(who, "lancers_user", None) or getattr(who, "name", None)) if who is not None else None
    sme = getattr(getattr(case, "sme", None), "name", None)
    claimed = getattr(getattr(case, "claim", None), "honorarium_jpy", None)
    return (origin, line, case_id, verdict, failed, payout.get("honorarium_jpy", 0),
            payout.get("honorarium_at_stake_jpy", 0), claimed, expert, sme)
