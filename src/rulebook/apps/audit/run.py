"""run: an audit from start to end — the output folder opened (or resumed), the input cut into
chunks and judged, the results written as they come, then the summary and the files.

The input is read in one process, in a fixed order, and cut into chunks of
units (JSON Lines lines, YAML/JSON files); a plain JSON Lines file is cut into
spans of lines instead, which say where the lines are and which the workers
read themselves. Worker processes (or Dask workers) judge the chunks; the
results come back in input order and a writer thread appends them to
`results.jsonl` / `errors.jsonl`, then records them in the ledger with a
checkpoint, while the next chunks are judged. Memory is bounded by the number
of chunks in flight, whatever the input size.
After a crash at any moment, `--resume` truncates the files to the last
checkpoint and goes on: the final files equal those of an uninterrupted run.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from ...input.documents import iter_units
from .checks import Search, check_legacy_rules, parameters
from .chunks import cut, skip, weight
from .files import CASES_LANG, CASES_PART, ERRORS, RESULTS, write_reports, write_sheets
from .folder import open_folder
from .ledger import Ledger
from .options import AuditError, Options, Outcome, Timings
from .runners import DaskRunner, LocalRunner
from .summary import build_summary, summary_totals
from .writer import Writer


def ready_report() -> None:
    """The page's template compiled, or read back from the plan cache's folder where an audit
    before kept it (`output.report.ready`; jinja2 is imported by an audit only)."""
    from ...book import cache_folder
    from ...output.report import ready

    ready(cache_folder())


def _quietly(function) -> None:
    """`function()`, what it raises left for its next call to raise (a thread's target)."""
    try:
        function()
    except Exception:  # noqa: BLE001, S110 - raised again where it is called next
        pass


def _progress_bar(options: Options):
    show = options.progress if options.progress is not None else sys.stderr.isatty()
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(unit=" cases", desc="audit", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def run(options: Options) -> Outcome:
    """Run (or finish, with options.resume) an audit; the files are written into options.out."""
    from ...book import load

    folder = options.out
    book = load(options.rules)  # once: the ledger's record of it and the judging
    timings = Timings(start=time.process_time())  # what the process spent before: Python, the rulebook
    with timings.stage("open the folder"):
        lock, ledger = open_folder(folder, options, book.digest)
    try:
        return _run(options, folder, ledger, timings, book)
    except OSError as error:
        reason = error.strerror or error
        raise AuditError(f"`{folder}` に書き込めません: {reason}。書き込んだ分はそのままで、--resume でそこから続けられます",
                         f"cannot write to `{folder}`: {reason}; what was written is intact, "
                         f"and --resume goes on from there") from None
    finally:
        ledger.close()
        lock.release()


SPILL = ".chunks"  # where worker processes write their chunks' results for the writer to append


def _output(path: Path):
    """An output file opened unbuffered, at no fixed end (not O_APPEND, which the kernel's copy of
    a spilled chunk refuses, and with which a write at an offset would land at the end): the
    writer writes at its position, the end once it is cut back — results.jsonl at the offsets it
    keeps, beside the pool's workers that write theirs in their turn."""
    return open(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644), "r+b", buffering=0)


def _keep_sheet(ledger: Ledger, sheet, point: dict, lang: str) -> None:
    """cases.csv's rows so far (`files.CASES_PART`) cut back to the checkpoint, and the record of
    their language kept: a new audit's, or None — the rows are not whole — when the part is
    shorter than the ledger says, was begun by an earlier version, or was written in another
    language than this run's (cases.csv is then made from the ledger)."""
    done = point.get("cases_bytes", 0)
    kept = ledger.get(CASES_LANG, "absent")
    if point["docs"] == 0:
        kept = lang
    elif kept != lang or os.fstat(sheet.fileno()).st_size < done:
        kept = None
    ledger.set(CASES_LANG, kept)
    sheet.truncate(done if kept is not None else 0)
    sheet.seek(0, os.SEEK_END)


def _run(options: Options, folder: Path, ledger: Ledger, timings: Timings, book) -> Outcome:
    check_legacy_rules(book)
    ledger.prepare_batch([book.batch.layout(rule.index) for rule in book.plan.batch_rules],
                         [rule.index for rule in book.plan.batch_rules if rule.case_keyed])
    point = ledger.checkpoint()
    results, errors, sheet = (_output(folder / name) for name in (RESULTS, ERRORS, CASES_PART))
    spill = folder / SPILL
    shutil.rmtree(spill, ignore_errors=True)  # what the workers of an interrupted run left
    try:
        _keep_sheet(ledger, sheet, point, options.lang)
        # Cut off anything written after the last checkpoint (a crash in the middle of a chunk).
        for fh, name, size in ((results, RESULTS, point["results_bytes"]), (errors, ERRORS, point["errors_bytes"])):
            if os.fstat(fh.fileno()).st_size < size:
                raise AuditError(f"`{folder}` の `{name}` が台帳の記録より短くなっています。その後に変更されたか失われています。"
                                 "新しいフォルダで監査をやり直してください",
                                 f"`{name}` in `{folder}` is shorter than its ledger says; it was changed or lost "
                                 "since: start the audit again in a new folder")
        results.truncate(point["results_bytes"])
        errors.truncate(point["errors_bytes"])
        results.seek(0, os.SEEK_END)
        errors.seek(0, os.SEEK_END)
        # Spans of plain JSON Lines files are read by the workers themselves; a Dask cluster's
        # workers may not see this machine's files, so they are sent the lines.
        units = iter_units(options.inputs, span_lines=None if options.dask else options.chunk)
        units = skip(units, point["units"])
        jobs = options.jobs or os.cpu_count() or 1
        if options.dask:
            runner = DaskRunner(options.dask, jobs, options.rules, options.as_of, options.compact, options.lang)
        else:
            if jobs > 1:
                spill.mkdir()
            runner = LocalRunner(jobs, options.rules, options.as_of, options.compact, options.lang,
                                 spill=str(spill) if jobs > 1 else None, book=book,
                                 results=(str(folder / RESULTS), point["results_bytes"]))
        bar = _progress_bar(options)
        if bar is not None:
            bar.update(point["docs"])
        writer = Writer(results, errors, ledger, point, sheet, turn=runner.turn)
        # The page's template compiled while the cases are judged (the end's path is shorter by
        # it; the end calls `ready` again, which raises what stopped this, if anything).
        page = threading.Thread(target=_quietly, args=(ready_report,), name="audit-page", daemon=True)
        page.start()
        collect = gc.get_threshold()
        # The records coming back are many small tuples, none of them in a cycle: collect less often.
        gc.set_threshold(50_000, 20, 20)
        children = Timings.children()
        try:
            with timings.stage("judge (this process, with the writer thread)"):
                for chunk, judged in runner.map(cut(units, options.chunk)):
                    writer.put(sum(map(weight, chunk)), judged)
                    if bar is not None:
                        bar.update(len(judged[2]))
                writer.close()
        finally:
            gc.set_threshold(*collect)
            writer.close()
            if bar is not None:
                bar.close()
            runner.close()
        timings["write (the writer thread)"] = writer.cpu
        timings["judge (worker processes)"] = Timings.children() - children
    finally:
        results.close()
        errors.close()
        sheet.close()
        shutil.rmtree(spill, ignore_errors=True)
    page.join()  # (before the end forks: no thread of ours runs across a fork)
    return finish(options, folder, ledger, timings, book, 1 if options.dask else jobs)


def finish(options: Options, folder: Path, ledger: Ledger, timings: Timings, book, jobs: int) -> Outcome:
    """The end of an audit, once every case is judged and in the ledger: the batch rules, the
    summary and the files. With `jobs` over 1, the batch rules' findings are searched for in
    processes of their own while this one writes the spreadsheets that need none and adds up the
    summary's totals; then the summary and the files that show the findings. (No thread of the
    caller's may run: it forks.)"""
    with timings.stage("indexes"):
        ledger.index()
    children = Timings.children()
    with timings.stage("batch rules"):
        params = parameters(book, ledger, options.hours_bound)
        search = Search(book, ledger, params, jobs)
    with timings.stage("files"):
        write_sheets(folder, ledger, options)
        ready_report()
    with timings.stage("summary"):
        totals = summary_totals(ledger, options, book)
    with timings.stage("batch rules"):
        not_evaluated = search.finish()
    timings["batch rules (its processes)"] = Timings.children() - children
    with timings.stage("summary"):
        summary = build_summary(ledger, options, book, params, not_evaluated, totals)
    with timings.stage("files"):
        write_reports(folder, ledger, summary, options, book, params)
    return Outcome(summary["cases"], summary["errors"], Counter(summary["verdicts"]), timings, not_evaluated)
