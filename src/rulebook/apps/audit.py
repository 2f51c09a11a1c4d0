"""audit: a batch of case snapshots → results, errors, summary, report and spreadsheet.

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

import codecs
import contextlib
import csv
import datetime as dt
import gc
import io
import itertools
import os
import queue
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..input.documents import Limits, Unit, iter_units, parse_unit, skip_lines, span_units
from ..output.explain import dumps
from .ledger import LEDGER, Ledger

RESULTS, ERRORS, SUMMARY, REPORT, CASES_CSV = "results.jsonl", "errors.jsonl", "summary.json", "report.html", \
    "cases.csv"
PEOPLE_CSV = {"expert": "experts.csv", "sme": "smes.csv"}
SUMMARY_FORMAT = "rulebook.audit-summary/v1"


class AuditError(Exception):
    """A problem that stops the audit (not a bad case): said plainly, exit status 2."""


@dataclass
class Options:
    inputs: list[str]
    out: Path
    jobs: int = 0  # 0: every core
    compact: bool = False
    lang: str = "ja"
    as_of: dt.date | None = None
    rules: str | None = None
    resume: bool = False
    since: Path | None = None
    dask: str | None = None
    chunk: int = 1024
    hours_bound: float = 24.0
    progress: bool | None = None  # None: on a terminal
    top: int = 100


@dataclass
class Outcome:
    cases: int = 0
    errors: int = 0
    verdicts: Counter = field(default_factory=Counter)

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        if self.verdicts.get("ineligible"):
            return 1
        if self.verdicts.get("incomplete"):
            return 3
        return 0


# --------------------------------------------------------------- the workers

_BOOK = None
_SETTINGS: dict = {}


def _init_worker(rules: str | None, as_of: dt.date | None, compact: bool, audit: int | None = None) -> None:
    """Load the rulebook into this process; `audit`: the pid of the audit that started this
    process as a pool worker (it then ends with it)."""
    global _BOOK
    from ..book import load

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


def judge_chunk(units: list[Unit], rules: str | None = None, as_of=None, compact: bool = False):
    """Judge a chunk of units. Returns (results bytes, errors bytes, one entry per document in
    input order — (is verdict, length of its line, ledger row, steps' hours) —, counts per
    rule and status): few objects to send back, and nothing left for the main process to join."""
    if _BOOK is None or (rules, as_of, compact) != _SETTINGS.get("key"):
        _init_worker(rules, as_of, compact)
    book = _BOOK
    out_lines, err_lines, docs, statuses = [], [], [], Counter()

    def add(out: dict, case, origin: str, line: int) -> None:
        is_verdict, line_bytes, row, steps = _record(out, case, origin, line, statuses)
        (out_lines if is_verdict else err_lines).append(line_bytes)
        docs.append((is_verdict, len(line_bytes), row, steps))

    def add_compact(compact, case, origin: str, line: int) -> None:
        line_bytes, verdict, failed, payout = compact
        line_bytes += b"\n"
        out_lines.append(line_bytes)
        row, steps = _row(case, case.case_id, verdict, " ".join(failed), payout, origin, line)
        docs.append((True, len(line_bytes), row, steps))

    for unit in _lines_of(units):
        if compact and unit.kind == "line" and unit.error is None:
            done, out, case = book.judge_compact(unit.payload, as_of, origin=unit.origin, line=unit.line,
                                                 statuses=statuses)
            if done is not None:
                add_compact(done, case, unit.origin, unit.line)
            else:
                add(out, case, unit.origin, unit.line)
            continue
        if unit.kind == "line" and unit.error is None:
            out, case = book.judge_case(unit.payload, as_of, origin=unit.origin, line=unit.line, compact=compact,
                                        raw=True)
            add(out, case, unit.origin, unit.line)
            continue
        for doc in parse_unit(unit, Limits()):
            if doc.error is not None:
                out, case = doc.refusal(), None
            else:
                out, case = book.judge_case(doc.data, as_of, origin=doc.location.origin, line=doc.location.line,
                                            compact=compact, raw=True, locate=doc.locate)
            add(out, case, doc.location.origin, doc.location.line)
    return b"".join(out_lines), b"".join(err_lines), docs, statuses


def _lines_of(units: list[Unit]):
    """The units of a chunk, a span read here from its file."""
    for unit in units:
        if unit.kind == "span":
            yield from span_units(unit)
        else:
            yield unit


def _record(out: dict, case, origin: str, line: int, statuses: Counter):
    """(verdict?, JSON line, ledger row, steps' hours) of one document; counts its statuses.

    The ledger keeps what the batch checks need: who the expert and the SME are,
    the money, and each step's days and hours (fields of the program's snapshot)."""
    line_bytes = dumps(out) + b"\n"
    if out["format"] != "rulebook.verdict/v1":
        message = "; ".join(f"{e['path'] or '(snapshot)'}: {e['message']}" for e in out["errors"])
        return (False, line_bytes, (origin, line, out.get("case_id"), message), ())
    payout = out["payout"]
    failed = []
    for r in out["results"]:
        key = (r["rule"], r["status"])
        statuses[key] += 1
        if key[1] == "fail":
            failed.append(f"{key[0]}@{r['subject']}")
    row, steps = _row(case, out["case_id"], out["verdict"], " ".join(failed), payout, origin, line)
    return (True, line_bytes, row, steps)


def _row(case, case_id, verdict: str, failed: str, payout: dict, origin: str, line: int):
    """The ledger row of a verdict, and its steps' hours."""
    who = getattr(case, "expert", None)
    expert = (getattr(who, "lancers_user", None) or getattr(who, "name", None)) if who is not None else None
    sme = getattr(getattr(case, "sme", None), "name", None)
    claimed = getattr(getattr(case, "claim", None), "honorarium_jpy", None)
    steps = []
    if expert:
        for step in getattr(case, "steps", None) or ():
            first = getattr(step, "started_on", None)
            last = getattr(step, "completion_reported_on", None) or getattr(step, "planned_end_on", None)
            hours = getattr(step, "hours", None)
            if first and last and hours is not None and last >= first:
                steps.append((expert, first.isoformat(), last.isoformat(), float(hours), case_id))
    row = (origin, line, case_id, verdict, failed, payout.get("honorarium_jpy", 0),
           payout.get("honorarium_at_stake_jpy", 0), claimed, expert, sme)
    return row, steps


# ------------------------------------------------------------------ running

def _weight(unit: Unit) -> int:
    """How many units of the checkpoint's count a unit is: a span, as many as its lines."""
    return unit.lines if unit.kind == "span" else 1


def _skip(units, count: int):
    """The units after the first `count` (a span cut where the count ends in it)."""
    for unit in units:
        if count > 0:
            weight = _weight(unit)
            if weight <= count:
                count -= weight
                continue
            unit, count = skip_lines(unit, count), 0
        yield unit


def _chunks(units, size: int):
    chunk = []
    for unit in units:
        if unit.kind == "span":  # a span is a chunk of its own
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


def _fingerprint(options: Options) -> dict:
    inputs = []
    for name in options.inputs:
        try:
            info = os.stat(name)
            inputs.append([os.path.abspath(name), info.st_size, int(info.st_mtime)])
        except OSError:
            inputs.append([os.path.abspath(name), None, None])
    # "units": how the checkpoint counts the input done (a plain JSON Lines file by its lines)
    return {"inputs": inputs, "units": "lines", "as_of": options.as_of.isoformat() if options.as_of else None,
            "compact": options.compact, "rules": options.rules}


def _in_order(chunks, submit, ahead: int):
    """(chunk, its records) in input order, with at most `ahead` chunks in flight."""
    window = deque()
    for chunk in chunks:
        window.append((chunk, submit(chunk)))
        if len(window) >= ahead:
            done, future = window.popleft()
            yield done, future.result()
    while window:
        done, future = window.popleft()
        yield done, future.result()


class _LocalRunner:
    """Chunks judged in this process (one job), or in a pool of worker processes."""

    def __init__(self, jobs: int, rules, as_of, compact):
        self.jobs = jobs
        self.args = (rules, as_of, compact)
        self.pool = None
        if jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
            self.pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                            initargs=(*self.args, os.getpid()))
            # Start the workers now, before the audit starts its writer thread: a process forked
            # while another thread holds a lock could wait for it forever.
            self.pool.submit(int).result()

    def map(self, chunks):
        """Results of the chunks, in order, with at most a few chunks in flight."""
        if self.pool is None:
            for chunk in chunks:
                yield chunk, judge_chunk(chunk, *self.args)
            return
        yield from _in_order(chunks, lambda chunk: self.pool.submit(judge_chunk, chunk, *self.args),
                             self.jobs * 3)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class _DaskRunner:
    """Chunks judged on a Dask distributed cluster (`--dask tcp://host:8786` or `--dask local`)."""

    def __init__(self, address: str, jobs: int, rules, as_of, compact):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise AuditError("Dask is not installed: pip install 'rulebook[dask]'") from None
        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="5s")
            except OSError as error:
                raise AuditError(f"cannot reach the Dask scheduler at {address}: {error}") from None
        self.args = (rules, as_of, compact)
        self.ahead = max(len(self.client.scheduler_info().get("workers", {})), 1) * 3

    def map(self, chunks):
        yield from _in_order(chunks, lambda chunk: self.client.submit(judge_chunk, chunk, *self.args, pure=False),
                             self.ahead)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class _Writer:
    """Appends the judged chunks to the files and commits them to the ledger, in a thread of its
    own, while the next chunks are judged. Each chunk as before: its lines written and fsynced,
    then its rows and the new checkpoint committed in one transaction."""

    def __init__(self, results, errors, ledger: Ledger, point: dict):
        self.files = (results, errors)
        self.ledger = ledger
        self.units, self.docs = point["units"], point["docs"]
        self.results_bytes, self.errors_bytes = point["results_bytes"], point["errors_bytes"]
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="audit-writer", daemon=True)
        self.thread.start()

    def put(self, units: int, judged) -> None:
        if self.error is not None:
            self._raise()
        self.queue.put((units, judged))

    def close(self) -> None:
        """Waits until every chunk put is written; raises what stopped the writer, if anything."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            self._raise()

    def _raise(self):
        error, self.error = self.error, None
        raise error

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:  # after a failure, only empty the queue
                try:
                    self._write(*item)
                except BaseException as error:  # noqa: BLE001 - raised again in the main thread
                    self.error = error

    def _write(self, units: int, judged) -> None:
        out_blob, err_blob, records, statuses = judged
        docs, results_bytes, errors_bytes = self.docs, self.results_bytes, self.errors_bytes
        cases, error_rows, step_rows = [], [], []
        for is_verdict, length, row, steps in records:
            if is_verdict:
                cases.append((docs, *row, results_bytes, length))
                results_bytes += length
                if steps:
                    step_rows.extend((docs, *step) for step in steps)
            else:
                error_rows.append((docs, *row))
                errors_bytes += length
            docs += 1
        results, errors = self.files
        results.write(out_blob)
        errors.write(err_blob)
        results.flush()
        errors.flush()
        os.fsync(results.fileno())
        os.fsync(errors.fileno())
        self.ledger.commit_chunk(cases, error_rows, step_rows, statuses,
                                 {"units": self.units + units, "docs": docs, "results_bytes": results_bytes,
                                  "errors_bytes": errors_bytes})
        self.units += units
        self.docs, self.results_bytes, self.errors_bytes = docs, results_bytes, errors_bytes


def _progress_bar(options: Options):
    show = options.progress if options.progress is not None else sys.stderr.isatty()
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(unit=" cases", desc="audit", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def _open_out(folder: Path, options: Options) -> Ledger:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise AuditError(f"cannot write to the output folder `{folder}`: {error.strerror or error}") from None
    existing = (folder / LEDGER).exists()
    if existing and not options.resume:
        raise AuditError(f"`{folder}` already holds an audit: add --resume to finish it, or choose another --out")
    if not existing and options.resume and any((folder / name).exists() for name in (RESULTS, ERRORS)):
        raise AuditError(f"`{folder}` holds results but no ledger to resume from; choose another --out")
    ledger = Ledger(folder)
    fingerprint = _fingerprint(options)
    stored = ledger.get("fingerprint")
    if stored is None:
        ledger.set("fingerprint", fingerprint)
    elif stored != fingerprint:
        ledger.close()
        raise AuditError(f"`{folder}` holds an audit of other inputs or options; --resume finishes the same audit")
    return ledger


def run(options: Options) -> Outcome:
    """Run (or finish, with options.resume) an audit; the files are written into options.out."""
    folder = options.out
    ledger = _open_out(folder, options)
    try:
        return _run(options, folder, ledger)
    except OSError as error:
        raise AuditError(f"cannot write to `{folder}`: {error.strerror or error}; what was written is intact, "
                         f"and --resume goes on from there") from None
    finally:
        ledger.close()


def _run(options: Options, folder: Path, ledger: Ledger) -> Outcome:
    point = ledger.checkpoint()
    results = open(folder / RESULTS, "ab")
    errors = open(folder / ERRORS, "ab")
    try:
        # Cut off anything written after the last checkpoint (a crash in the middle of a chunk).
        for fh, name, size in ((results, RESULTS, point["results_bytes"]), (errors, ERRORS, point["errors_bytes"])):
            if os.fstat(fh.fileno()).st_size < size:
                raise AuditError(f"`{name}` in `{folder}` is shorter than its ledger says; it was changed or lost "
                                 "since: start the audit again in a new folder")
        results.truncate(point["results_bytes"])
        errors.truncate(point["errors_bytes"])
        results.seek(0, os.SEEK_END)
        errors.seek(0, os.SEEK_END)
        # Spans of plain JSON Lines files are read by the workers themselves; a Dask cluster's
        # workers may not see this machine's files, so they are sent the lines.
        units = iter_units(options.inputs, span_lines=None if options.dask else options.chunk)
        units = _skip(units, point["units"])
        jobs = options.jobs or os.cpu_count() or 1
        if options.dask:
            runner = _DaskRunner(options.dask, jobs, options.rules, options.as_of, options.compact)
        else:
            runner = _LocalRunner(jobs, options.rules, options.as_of, options.compact)
        bar = _progress_bar(options)
        if bar is not None:
            bar.update(point["docs"])
        writer = _Writer(results, errors, ledger, point)
        collect = gc.get_threshold()
        # The records coming back are many small tuples, none of them in a cycle: collect less often.
        gc.set_threshold(50_000, 20, 20)
        try:
            for chunk, judged in runner.map(_chunks(units, options.chunk)):
                writer.put(sum(map(_weight, chunk)), judged)
                if bar is not None:
                    bar.update(len(judged[2]))
            writer.close()
        finally:
            gc.set_threshold(*collect)
            writer.close()
            if bar is not None:
                bar.close()
            runner.close()
    finally:
        results.close()
        errors.close()
    ledger.index()
    summary = build_summary(ledger, options)
    _write_reports(folder, ledger, summary, options)
    return Outcome(summary["cases"], summary["errors"], Counter(summary["verdicts"]))


# ------------------------------------------------------------------ the summary

SUMMARY_PEOPLE = 1000  # experts and SMEs listed in summary.json; experts.csv and smes.csv hold them all


_PEOPLE_COLUMNS = ("name", "cases", "ineligible", "honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")


def _people_table(ledger: Ledger, column: str) -> str:
    """The temporary table of the totals per expert or per SME (rows of `_PEOPLE_COLUMNS`),
    those with the most money held back first; grouped once per audit, for the summary and
    the spreadsheets."""
    table = f"temp.people_{column}"
    if not ledger.query("SELECT 1 FROM temp.sqlite_master WHERE name = ?", (f"people_{column}",)).fetchone():
        ledger.query(f"""
            CREATE TEMP TABLE people_{column} AS
            SELECT {column}, COUNT(*), SUM(verdict = 'ineligible'), SUM(due), SUM(at_stake),
                   SUM(COALESCE(claimed, 0))
            FROM cases WHERE {column} IS NOT NULL GROUP BY {column}
            ORDER BY SUM(at_stake) - SUM(due) DESC, SUM(at_stake) DESC, {column}""")
    return table


def _people(ledger: Ledger, column: str, limit: int | None = SUMMARY_PEOPLE):
    """The first `limit` rows of the totals per expert or per SME (all of them with None)."""
    return ledger.query(f"SELECT * FROM {_people_table(ledger, column)} ORDER BY rowid LIMIT ?",
                        (-1 if limit is None else limit,))


def _people_count(ledger: Ledger, column: str) -> int:
    return ledger.query(f"SELECT COUNT(*) FROM {_people_table(ledger, column)}").fetchone()[0]


def _implausible_hours(ledger: Ledger, bound: float) -> list[dict]:
    """Days on which an expert's steps ask for more hours than a day holds.

    A step's hours are spread evenly over its days (start to completion); on the day a
    step starts, the hours a day of every step of the same expert running then add up."""
    out = []
    current, active = None, []
    rows = ledger.query("SELECT expert, first_day, last_day, hours, case_id FROM steps "
                        "ORDER BY expert, first_day, seq")
    for expert, first, last, hours, case_id in rows:
        if expert != current:
            current, active = expert, []
        first_day = dt.date.fromisoformat(first)
        last_day = dt.date.fromisoformat(last)
        per_day = hours / ((last_day - first_day).days + 1)
        active = [a for a in active if a[0] >= first_day]
        active.append((last_day, per_day, case_id))
        total = sum(a[1] for a in active)
        if total > bound:
            out.append({"expert": expert, "day": first, "hours": round(total, 2), "bound": bound,
                        "cases": sorted({a[2] for a in active})})
    return out


def build_summary(ledger: Ledger, options: Options) -> dict:
    from ..book import load

    book = load(options.rules)
    verdicts = dict.fromkeys(("eligible", "incomplete", "ineligible"), 0)
    for verdict, n in ledger.query("SELECT verdict, COUNT(*) FROM cases GROUP BY verdict"):
        verdicts[verdict] = n
    counts = {(rule, status): n for rule, status, n in ledger.query("SELECT rule, status, count FROM statuses")}
    rules = []
    for entry in book.catalogue():
        row = {"rule": entry["rule"], "title": entry["title"], "stage": entry["stage"]}
        for status in ("pass", "fail", "pending", "not_applicable"):
            row[status] = counts.get((entry["rule"], status), 0)
        rules.append(row)
    due, stake, claimed = ledger.query(
        "SELECT COALESCE(SUM(due), 0), COALESCE(SUM(at_stake), 0), COALESCE(SUM(claimed), 0) FROM cases").fetchone()
    duplicates = []
    for case_id, n in ledger.query("SELECT case_id, COUNT(*) FROM cases GROUP BY case_id HAVING COUNT(*) > 1 "
                                   "ORDER BY MIN(seq)"):
        where = [f"{o}:{ln}" for o, ln in ledger.query("SELECT origin, line FROM cases WHERE case_id = ? "
                                                         "ORDER BY seq", (case_id,))]
        duplicates.append({"case_id": case_id, "count": n, "where": where})
    top = []
    for row in ledger.query("""SELECT case_id, verdict, failed, due, at_stake, claimed, expert, sme, origin, line
                               FROM cases WHERE at_stake > due
                               ORDER BY at_stake - due DESC, at_stake DESC, seq LIMIT ?""", (options.top,)):
        case_id, verdict, failed, due_, stake_, claimed_, expert, sme, origin, line = row
        top.append({"case_id": case_id, "verdict": verdict,
                    "failed": sorted({f.split("@")[0] for f in failed.split()}) if failed else [],
                    "honorarium_due_jpy": due_, "honorarium_at_stake_jpy": stake_, "claimed_jpy": claimed_,
                    "expert": expert, "sme": sme, "where": f"{origin}:{line}"})
    errors = ledger.query("SELECT COUNT(*) FROM errors").fetchone()[0]
    summary = {
        "format": SUMMARY_FORMAT,
        "rulebook": book.info(),
        "title": dict(book.plan.titles),
        "inputs": list(options.inputs),
        "as_of": options.as_of.isoformat() if options.as_of else None,
        "cases": sum(verdicts.values()),
        "errors": errors,
        "verdicts": verdicts,
        "rules": rules,
        "money": {"honorarium_due_jpy": due, "honorarium_at_stake_jpy": stake, "claimed_jpy": claimed},
        "experts": [dict(zip(_PEOPLE_COLUMNS, row)) for row in _people(ledger, "expert")],
        "experts_total": _people_count(ledger, "expert"),
        "smes": [dict(zip(_PEOPLE_COLUMNS, row)) for row in _people(ledger, "sme")],
        "smes_total": _people_count(ledger, "sme"),
        "duplicates": duplicates,
        "implausible_hours": _implausible_hours(ledger, options.hours_bound),
        "top_cases": top,
        "since": _since(ledger, options.since) if options.since else None,
    }
    return summary


def _since(ledger: Ledger, previous: Path) -> dict:
    path = previous / LEDGER
    if not path.exists():
        raise AuditError(f"`{previous}` holds no earlier audit to compare with")
    ledger.query("ATTACH DATABASE ? AS before", (f"file:{path}?mode=ro",))
    try:
        changed = [{"case_id": cid, "from": a, "to": b} for cid, a, b in ledger.query(
            """SELECT now.case_id, old.verdict, now.verdict FROM cases AS now
               JOIN before.cases AS old ON old.case_id = now.case_id
               WHERE old.verdict != now.verdict ORDER BY now.seq""")]
        new_failures = []
        for cid, now_failed, old_failed in ledger.query(
                """SELECT now.case_id, now.failed, COALESCE(old.failed, '') FROM cases AS now
                   LEFT JOIN before.cases AS old ON old.case_id = now.case_id
                   WHERE now.failed != '' ORDER BY now.seq"""):
            for item in sorted(set(now_failed.split()) - set(old_failed.split())):
                rule, _, subject = item.partition("@")
                new_failures.append({"case_id": cid, "rule": rule, "subject": subject})
        now = ledger.query("SELECT COALESCE(SUM(due),0), COALESCE(SUM(at_stake),0), COALESCE(SUM(claimed),0) "
                           "FROM cases").fetchone()
        old = ledger.query("SELECT COALESCE(SUM(due),0), COALESCE(SUM(at_stake),0), COALESCE(SUM(claimed),0) "
                           "FROM before.cases").fetchone()
        new_cases = ledger.query("SELECT COUNT(*) FROM cases WHERE case_id NOT IN "
                                 "(SELECT case_id FROM before.cases)").fetchone()[0]
    finally:
        ledger.query("DETACH DATABASE before")
    keys = ("honorarium_due_jpy", "honorarium_at_stake_jpy", "claimed_jpy")
    return {"previous": str(previous), "new_cases": new_cases, "changed": changed, "new_failures": new_failures,
            "money_moved": {k: a - b for k, a, b in zip(keys, now, old)}}


# ----------------------------------------------------------------- the files

@contextlib.contextmanager
def _replacing(path: Path):
    """A binary file to write that takes the place of `path` whole, once written and on disk,
    or not at all."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_atomically(path: Path, data: bytes) -> None:
    with _replacing(path) as fh:
        fh.write(data)


def _write_csv(path: Path, header: list[str], rows) -> None:
    """A spreadsheet as Excel in Japan opens it: UTF-8 with a byte-order mark, CRLF line ends;
    written whole or not at all, the rows encoded a block at a time."""
    with _replacing(path) as fh:
        block = io.StringIO()
        writer = csv.writer(block, lineterminator="\r\n")
        fh.write(codecs.BOM_UTF8)
        writer.writerow(header)
        for batch in iter(lambda: list(itertools.islice(rows, 4096)), []):
            writer.writerows(batch)
            fh.write(block.getvalue().encode("utf-8"))
            block.seek(0)
            block.truncate()
        fh.write(block.getvalue().encode("utf-8"))


def _write_reports(folder: Path, ledger: Ledger, summary: dict, options: Options) -> None:
    _write_atomically(folder / SUMMARY, orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    from ..output import vocabulary

    words = vocabulary.VERDICT[options.lang]
    rules_of: dict = {}  # failed results → their rules, as cases.csv shows them (few distinct)

    def case_rows():
        for case_id, verdict, failed, due, stake, claimed, expert, sme, origin, line in ledger.query(
                "SELECT case_id, verdict, failed, due, at_stake, claimed, expert, sme, origin, line "
                "FROM cases ORDER BY seq"):
            rules = rules_of.get(failed)
            if rules is None:
                rules = " ".join(sorted({f.split("@")[0] for f in failed.split()})) if failed else ""
                if len(rules_of) < 10_000:
                    rules_of[failed] = rules
            yield (case_id, words.get(verdict, verdict), rules, due, stake, "" if claimed is None else claimed,
                   expert or "", sme or "", f"{origin}:{line}")

    _write_csv(folder / CASES_CSV, vocabulary.CASES_COLUMNS[options.lang], case_rows())
    # Every expert's and every SME's totals (summary.json lists the first thousand of each).
    for column, name in PEOPLE_CSV.items():
        _write_csv(folder / name, vocabulary.PEOPLE_COLUMNS[options.lang], _people(ledger, column, None))
    cases = []
    if summary["top_cases"] and not options.compact:  # compact results hold no texts to show
        with open(folder / RESULTS, "rb") as fh:
            for (offset, length) in ledger.query(
                    """SELECT offset, length FROM cases WHERE at_stake > due
                       ORDER BY at_stake - due DESC, at_stake DESC, seq LIMIT ?""", (options.top,)):
                fh.seek(offset)
                cases.append(orjson.loads(fh.read(length)))
    from ..output.report import render_report

    _write_atomically(folder / REPORT, render_report(summary, cases, options.lang).encode("utf-8"))
