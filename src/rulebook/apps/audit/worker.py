"""worker: judging a chunk of units, in whatever process runs it (this one, a pool worker, a
Dask worker). What goes back to the audit (`Judged`) is few objects, each in the shape the
writer writes it: the chunk's results and errors as the pieces of their lines (a pool's worker
writes the results to a file of its own), the ledger's rows as its tables take them (with the
rows the cases add to the batch rules, made by their generated code), the counts per rule and
status, the latest day a case was judged on, and cases.csv's rows: nothing for the audit to
regroup or join."""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections import Counter
from typing import NamedTuple

import orjson

from ...input.documents import Limits, Unit, parse_unit, span_units
from ...output import vocabulary
from ...output.explain import dumps
from .lifetime import end_with
from .sheets import CASE_TEXT, case_row, encode_rows
from .spill import Spilled, Turn, Written
from .spill import spill as spill_to

_BOOK = None
_SETTINGS: dict = {}
_TURN: list[Turn | None] = [None]  # whose turn it is to write results.jsonl (`take_turns`)


def take_turns(turn: Turn | None) -> None:
    """Have the pool workers forked from this process write a chunk's results into results.jsonl
    themselves when it is that chunk's turn (`spill.Turn`; None: never)."""
    _TURN[0] = turn


def init_worker(rules: str | None, as_of: dt.date | None, compact: bool, audit: int | None = None) -> None:
    """Load the rulebook into this process — unless it has it already, as a pool's worker forked
    from an audit that `adopt`ed it —; `audit`: the pid of the audit that started this process
    as a pool worker (it then ends with it)."""
    global _BOOK
    from ...book import load

    if audit is not None:
        end_with(audit)
        keep_freed_memory()
    if _BOOK is None or _SETTINGS.get("key") != (rules, as_of, compact):
        _BOOK = load(rules)
        _SETTINGS.update(as_of=as_of, compact=compact, key=(rules, as_of, compact))
        gc.collect()
    # A worker makes many short-lived objects and keeps only the rulebook: move what is loaded
    # out of the collector's way, and collect the young less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def adopt(book, rules: str | None, as_of: dt.date | None, compact: bool, fork: bool = False) -> None:
    """Judge with `book`, the audit's own rulebook (loaded from `rules`), in this process, or,
    with `fork`, in pool workers forked from it: the rulebook made ready to judge (its compact
    writer made) and moved, with all this process holds, out of the collector's way, so that
    each worker starts with it as it is — rather than load it again, make its writer again,
    and have the collector walk (and copy, page by page) all it inherited."""
    global _BOOK
    _BOOK = book
    _SETTINGS.update(as_of=as_of, compact=compact, key=(rules, as_of, compact))
    if fork and compact:
        book.compact_writer  # noqa: B018 - made now, once, for every worker
    # What loading left behind collected, what is kept moved out of the collector's way (as
    # `init_worker` does).
    gc.collect()
    gc.freeze()


# glibc's mallopt parameters: give the heap's top back to the system only past this much free,
# and map blocks of their own only from this size on.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEPT_FREE = 64 * 2**20


def keep_freed_memory() -> None:
    """Have the C allocator keep the memory a chunk freed for the next one. By default glibc
    gives the top of its heap back to the system as soon as 128 KiB there is free, so a process
    that frees a chunk's megabytes of lines and makes as many for the next takes each page back
    by a page fault (two and a half times the faults of the audit's workers, and their CPU in
    the kernel). Kept up to 64 MiB: a worker's memory stays what its largest chunk needed. A C
    library without `mallopt` (not glibc) is left as it is."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mallopt(_M_TRIM_THRESHOLD, _KEPT_FREE)
    mallopt(_M_MMAP_THRESHOLD, _KEPT_FREE // 2)


_RULES_OF: dict = {}  # failed results → the rules cases.csv shows (few distinct), for `case_row`
_SPILLED = [0]  # chunks this process spilled
_NL = b"\n"


class Judged(NamedTuple):
    """What judging a chunk hands back to the audit: few objects, each already in the shape the
    writer writes it. The ledger's rows are numbered from the chunk's start — a document by its
    place in the chunk, a verdict's line by its offset in the chunk's results —: the writer
    adds where the chunk starts (`Ledger.commit_chunk`)."""

    results: list[bytes] | Spilled | Written  # the results' lines, or written by a pool's worker: to a file
    #                                          of its own, or into results.jsonl in its turn
    results_size: int
    errors: list[bytes]  # the errors' lines as pieces
    errors_size: int
    documents: int  # verdicts and errors
    cases: list[tuple]  # `cases` rows: (n, origin, line, case_id, verdict, failed, due, at stake,
    #                     claimed, expert, SME, offset, length)
    error_rows: list[tuple]  # `errors` rows: (n, origin, line, case_id, message)
    batch: dict[int, list[tuple]]  # batch rule index → its `batch_N` rows: (n, case_id, *row)
    statuses: Counter  # results per (rule, status)
    day: str | None  # the latest day a case was judged on (ISO)
    sheet: bytes | None  # the chunk's rows of cases.csv, in the language asked for


def judge_chunk(units: list[Unit], rules: str | None = None, as_of=None, compact: bool = False,
                lang: str | None = None, spill: str | None = None, number: int | None = None) -> Judged:
    """Judge a chunk of units (see `Judged`); with `spill`, a folder, the results are written
    into results.jsonl if it is the turn of the chunk `number` (`take_turns`), or else to a file
    of their own there; with `lang`, cases.csv's rows are made in that language."""
    if _BOOK is None or (rules, as_of, compact) != _SETTINGS.get("key"):
        init_worker(rules, as_of, compact)
    book = _BOOK
    pieces, errs, cases, error_rows, statuses = [], [], [], [], Counter()
    into = [[] for _ in book.plan.batch_rules]  # each batch rule's rows
    tally = book.compact_writer.tally() if compact else None
    judge, add_rows = book.judge_compact, book.batch_rows_adder()
    latest = None  # the latest day a case was judged on
    size = 0  # the chunk's results so far, in bytes
    err_size = 0  # and its errors

    def added(line_bytes: bytes, case, case_id, verdict: str, failed: str, payout: dict, origin: str,
              line: int) -> dict | None:
        """A verdict added — its line, its ledger row, its rows of the batch rules —; or, for a
        case a batch rule cannot read, not added: the error mapping it gets instead."""
        nonlocal latest, size
        n = len(cases) + len(error_rows)
        day = as_of or case.as_of
        refusal = add_rows(case, payout, day, origin, line, (n, case_id), into)
        if refusal is not None:
            return refusal
        if latest is None or day > latest:
            latest = day
        pieces.append(line_bytes)
        pieces.append(_NL)
        length = len(line_bytes) + 1
        cases.append(_case_row(n, case, case_id, verdict, failed, payout, origin, line, size, length))
        size += length
        return None

    def add(out: dict, case, origin: str, line: int) -> None:
        """A verdict or an error mapping added (`judge_case`'s)."""
        nonlocal err_size
        if out["format"] == "rulebook.verdict/v1":
            results = out["results"]
            failed = " ".join(f"{r['rule']}@{r['subject']}" for r in results if r["status"] == "fail")
            refusal = added(dumps(out), case, out["case_id"], out["verdict"], failed, out["payout"], origin, line)
            if refusal is None:
                statuses.update((r["rule"], r["status"]) for r in results)
                return
            out = refusal
        line_bytes = dumps(out)
        errs.append(line_bytes)
        errs.append(_NL)
        err_size += len(line_bytes) + 1
        message = "; ".join(f"{e['path'] or '(snapshot)'}: {e['message']}" for e in out["errors"])
        error_rows.append((len(cases) + len(error_rows), origin, line, out.get("case_id"), message))

    for unit in _lines_of(units):
        if unit.kind == "line" and unit.error is None:
            origin, line = unit.origin, unit.line
            if compact:
                done, out, case = judge(unit.payload, as_of, origin=origin, line=line, tally=tally)
                if done is not None:  # the compact line, in its pieces
                    line_bytes, verdict, failed, payout = done
                    out = added(line_bytes, case, case.case_id, verdict, " ".join(failed), payout, origin, line)
                    if out is None:
                        continue
                    # not a verdict after all: its statuses, counted, are taken back
                    book.compact_writer.take_back(tally, orjson.loads(line_bytes)["results"])
            else:
                out, case = book.judge_case(unit.payload, as_of, origin=origin, line=line, compact=False, raw=True,
                                            batch=True)
            add(out, case, origin, line)
            continue
        for doc in parse_unit(unit, Limits()):
            if doc.error is not None:
                out, case = doc.refusal(), None
            else:
                out, case = book.judge_case(doc.data, as_of, origin=doc.location.origin, line=doc.location.line,
                                            compact=compact, raw=True, locate=doc.locate)
            add(out, case, doc.location.origin, doc.location.line)
    batch = {index: rows for index, rows in enumerate(into) if rows}
    if tally is not None:
        statuses.update(book.compact_writer.counts(tally))
    sheet = None
    if lang is not None:
        words = vocabulary.VERDICT[lang]
        sheet = encode_rows([case_row(row, words, _RULES_OF) for row in cases], CASE_TEXT)
    if spill is not None and pieces:
        results = _written_or_spilled(spill, number, pieces, size)
    else:  # joined: one block of memory, given back whole once written (pieces held in the
        # writer's queue would leave the heap that much larger)
        results = [b"".join(pieces)]
    return Judged(results, size, errs, err_size, len(cases) + len(error_rows), cases, error_rows, batch, statuses,
                  latest.isoformat() if latest is not None else None, sheet)


def _written_or_spilled(spill: str, number: int | None, pieces: list[bytes], size: int) -> Written | Spilled:
    """A pool worker's chunk results: written into results.jsonl if it is their turn, or else to
    a file of their own in the folder `spill`."""
    turn = _TURN[0]
    if turn is not None and number is not None:
        written = turn.take(number, pieces, size)
        if written is not None:
            return written
    _SPILLED[0] += 1
    return spill_to(os.path.join(spill, f"{os.getpid()}-{_SPILLED[0]}.jsonl"), pieces)


def _lines_of(units: list[Unit]):
    """The units of a chunk, a span read here from its file."""
    for unit in units:
        if unit.kind == "span":
            yield from span_units(unit)
        else:
            yield unit


def _case_row(n: int, case, case_id, verdict: str, failed: str, payout: dict, origin: str, line: int, offset: int,
              length: int) -> tuple:
    """The ledger's row of a verdict (`Ledger`'s `cases`; the expert and the SME: the people's
    totals): the fields read straight, or, from a case that lacks one (another rulebook's), as
    `_people` finds them."""
    try:
        who = case.expert
        expert = who.lancers_user or who.name
        sme = case.sme.name
        claim = case.claim
        claimed = claim.honorarium_jpy if claim is not None else None
    except AttributeError:
        expert, sme, claimed = _people(case)
    return (n, origin, line, case_id, verdict, failed, payout.get("honorarium_jpy", 0),
            payout.get("honorarium_at_stake_jpy", 0), claimed, expert, sme, offset, length)


def _people(case) -> tuple:
    """(expert, SME, honorarium claimed) of a case, each None where the case has no such field."""
    who = getattr(case, "expert", None)
    expert = (getattr(who, "lancers_user", None) or getattr(who, "name", None)) if who is not None else None
    sme = getattr(getattr(case, "sme", None), "name", None)
    claimed = getattr(getattr(case, "claim", None), "honorarium_jpy", None)
    return expert, sme, claimed
