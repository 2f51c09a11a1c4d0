"""files: the audit's files for people — summary.json, report.html and the spreadsheets —
each written whole or not at all, and the names of every file the audit writes.

The spreadsheets' text cells are made safe for a spreadsheet program (`sheets`). cases.csv is
the one spreadsheet not made from the ledger at the end: its rows are made by the workers, as
they judge, and appended to `.cases.csv.part` with each chunk (truncated to the checkpoint on
`--resume`, like results.jsonl); at the end the sheet is its header and those rows. An audit
whose part is not whole — resumed with another `--lang`, or begun by an earlier version — has
its cases.csv made from the ledger instead, the same rows.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import os
from pathlib import Path

import orjson

from ...output import vocabulary
from .checks import CASES_SHOWN, legacy_rule
from .forks import can_fork, closed, start
from .ledger import Ledger
from .options import Options
from .sheets import CASE_TEXT, case_row, encode_rows, spreadsheet_cell  # noqa: F401 - spreadsheet_cell: for tests
from .summary import hours_bound, new_failures, people_totals, previous_ledger

RESULTS, ERRORS, SUMMARY, REPORT, CASES_CSV = "results.jsonl", "errors.jsonl", "summary.json", "report.html", \
    "cases.csv"
CASES_PART = ".cases.csv.part"  # cases.csv's rows as the chunks come (see the module's docstring)
CASES_LANG = "cases_sheet_lang"  # the ledger's record of the part's language (None: not whole)
PEOPLE_CSV = {"expert": "experts.csv", "sme": "smes.csv"}
HOURS_CSV, DUPLICATES_CSV, CHANGES_CSV, FINDINGS_CSV = "hours.csv", "duplicates.csv", "changes.csv", "findings.csv"

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


def _write_csv(path: Path, header: list[str], rows, text: tuple[int, ...]) -> None:
    """A spreadsheet as Excel in Japan opens it: UTF-8 with a byte-order mark, CRLF line ends;
    written whole or not at all, the rows encoded a block at a time. The cells of the columns
    `text` are text from the input, neutralised (the others are ours: numbers, verdicts, rule
    ids)."""
    with _replacing(path) as fh:
        fh.write(codecs.BOM_UTF8)
        head = encode_rows([header], ())  # (as before: a sheet without rows has no header either)
        for batch in iter(lambda: list(itertools.islice(rows, 4096)), []):
            fh.write(head + encode_rows(batch, text))
            head = b""


def write_cases(folder: Path, ledger: Ledger, options: Options) -> None:
    """cases.csv: its header and the rows the workers made (`CASES_PART`), or, when those are not
    whole in this language, the same rows made from the ledger."""
    header = vocabulary.CASES_COLUMNS[options.lang]
    part = folder / CASES_PART
    if ledger.get(CASES_LANG) == options.lang and part.exists():
        size = ledger.checkpoint().get("cases_bytes", 0)
        with _replacing(folder / CASES_CSV) as fh, open(part, "rb") as rows:
            fh.write(codecs.BOM_UTF8 + (encode_rows([header], ()) if size else b""))
            fh.flush()
            _copy(rows, fh, size)
        return
    words, rules_of = vocabulary.VERDICT[options.lang], {}
    rows = (case_row(row, words, rules_of) for row in ledger.case_rows())
    _write_csv(folder / CASES_CSV, header, rows, text=CASE_TEXT)


# The people's sheets made by each forked process (`People`): the ledger's columns, one sheet each;
# a column in none of them is made by the audit's own process, while the others work. The SMEs'
# sheet is the larger (a case's SME is mostly its own; an expert has many cases): a process of its
# own; the experts' the audit makes while it waits (one fork fewer: each costs a copy of the pages
# the process touches, ≈ 20 MB).
PEOPLE_PROCESSES = (("sme",),)


class People:
    """experts.csv and smes.csv — every expert's and every SME's totals, those with the most money
    held back first — and summary.json's part of them (`summary.people_totals`: the first
    SUMMARY_PEOPLE of each kind, and how many). With `jobs` over 1 (and fork, `forks.can_fork`),
    made in processes forked for them (`PEOPLE_PROCESSES`), each grouping the cases through a
    connection of its own that opens the ledger read-only, while this process and the batch
    rules' go on; otherwise (and those in no process) here, by `write_here`. `finish` gives
    summary.json's part."""

    def __init__(self, folder: Path, ledger: Ledger, options: Options, jobs: int = 1):
        self.folder, self.ledger, self.lang = folder, ledger, options.lang
        self.totals: dict = {}
        self.children: list = []  # (forks.Child, the sheets it writes)
        self.here = list(PEOPLE_CSV)  # the columns this process makes
        if jobs < 2 or not can_fork():
            return
        try:
            with closed(ledger):
                for columns in PEOPLE_PROCESSES:
                    child = start(f"audit-people-{'-'.join(columns)}", _people, folder, columns, options.lang)
                    self.children.append((child, [PEOPLE_CSV[column] for column in columns]))
                    self.here = [column for column in self.here if column not in columns]
        except BaseException:
            self.end()
            raise

    def write_here(self) -> None:
        """The sheets and totals this process makes (all of them with one job)."""
        for column in self.here:
            _write_people(self.folder, self.ledger, column, self.lang)
        for column in self.here:
            self.totals.update(people_totals(self.ledger, column))
        self.here = []

    def finish(self) -> dict:
        """summary.json's part of the people's totals, once their sheets are written; what stopped
        a process (its error, its death) raised, the others ended."""
        done = False
        try:
            self.write_here()
            for child, names in self.children:
                sheets = " / ".join(f"`{name}`" for name in names)
                for _kind, totals in child.received(f"{sheets} を書くプロセス", f"the process writing {sheets}"):
                    self.totals.update(totals)
            done = True
        finally:
            self.end(done)
        return self.totals

    def end(self, done: bool = False) -> None:
        """The forked processes joined, ended first if not `done` (the audit stops)."""
        for child, _names in self.children:
            child.end(done)
        self.children = []


def _write_people(folder: Path, ledger: Ledger, column: str, lang: str) -> None:
    """experts.csv or smes.csv (`column`: the ledger's `expert` or `sme`)."""
    _write_csv(folder / PEOPLE_CSV[column], vocabulary.PEOPLE_COLUMNS[lang], ledger.people(column, None, text=True),
               text=(0,))


def _people(folder: Path, columns: tuple[str, ...], lang: str):
    """A forked process's part of `People` (`forks.start`): each sheet of `columns` written, then
    its part of summary.json sent ("totals"), then ("end", None)."""
    ledger = Ledger(folder, read_only=True, temporary=True)  # (temporary tables; the ledger never written)
    try:
        for column in columns:
            _write_people(folder, ledger, column, lang)
            yield "totals", people_totals(ledger, column)
        yield "end", None
    finally:
        ledger.close()


def write_reports(folder: Path, ledger: Ledger, summary: dict, options: Options, book, params: dict) -> None:
    """summary.json, the findings' spreadsheets, changes.csv and report.html (`write_cases` and
    `People` write the others)."""
    _write_atomically(folder / SUMMARY, orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    # Every finding of the batch rules (summary.json lists the first of each rule), and the two
    # checks of before as their rules' findings.
    _write_findings(folder / FINDINGS_CSV, ledger, book, options.lang)
    hours_columns = [name.format(n=CASES_SHOWN) for name in vocabulary.HOURS_COLUMNS[options.lang]]
    rule, bound = legacy_rule(book, "implausible_hours"), hours_bound(params)
    _write_csv(folder / HOURS_CSV, hours_columns,
               ((expert, day, float(entry["figures"]["hours"]), bound, count, " ".join(cases))
                for (expert, day), cases, count, entry in (ledger.findings(rule.index) if rule else ())), text=(0, 5))
    rule = legacy_rule(book, "duplicates")
    _write_csv(folder / DUPLICATES_CSV, vocabulary.DUPLICATES_COLUMNS[options.lang],
               ((case_id, count, f"{origin}:{line}")
                for case_id, count, origin, line in (ledger.found_places(rule.index) if rule else ())), text=(0, 2))
    if options.since:
        _write_changes(folder / CHANGES_CSV, ledger, options)
    cases = []
    if summary["top_cases"] and not options.compact:  # compact results hold no texts to show
        with open(folder / RESULTS, "rb") as fh:
            for (offset, length) in ledger.top_places(options.top):
                fh.seek(offset)
                cases.append(orjson.loads(fh.read(length)))
    from ...book import cache_folder
    from ...output.report import render_report

    page = render_report(summary, cases, options.lang, cache_folder())
    _write_atomically(folder / REPORT, page.encode("utf-8"))


def _copy(source, target, size: int) -> None:
    """The first `size` bytes of one file appended to another, by the kernel where it can."""
    offset = 0
    while offset < size:
        try:
            sent = os.copy_file_range(source.fileno(), target.fileno(), size - offset, offset)
        except OSError:  # another file system, or a kernel without it
            source.seek(offset)
            while offset < size:
                block = source.read(min(size - offset, 2**20))
                if not block:
                    raise OSError(f"`{source.name}` is shorter than its ledger says") from None
                target.write(block)
                offset += len(block)
            target.flush()
            return
        if sent == 0:
            raise OSError(f"`{source.name}` is shorter than its ledger says")
        offset += sent


def _write_findings(path: Path, ledger: Ledger, book, lang: str) -> None:
    """Every finding of every batch rule: the rule, its key, its cases (how many, the first ones),
    its figures, its message and fix in the report's language."""
    columns = [name.format(n=CASES_SHOWN) for name in vocabulary.FINDINGS_COLUMNS[lang]]

    def rows():
        for rule in book.plan.batch_rules:
            for _key, cases, count, entry in ledger.findings(rule.index):
                fix = entry["fix"] or {}
                yield (rule.id, _pairs(entry["key"]), count, " ".join(cases), _pairs(entry["figures"]),
                       entry["message"][lang], fix.get(lang, ""))

    _write_csv(path, columns, rows(), text=(1, 3, 4, 5, 6))


def _pairs(values: dict) -> str:
    """`name=value` of each entry, apart by `; `."""
    return "; ".join(f"{name}={value}" for name, value in values.items())


def _write_changes(path: Path, ledger: Ledger, options: Options) -> None:
    """Every case whose verdict changed since the earlier audit, or that fails a requirement it
    did not fail then."""
    words = vocabulary.VERDICT[options.lang]

    def rows():
        for case_id, before, now, failed_now, failed_before in ledger.changes():
            new = " ".join(f"{rule}@{subject}" for rule, subject in new_failures(failed_now, failed_before))
            if (before is not None and before != now) or new:
                yield case_id, words.get(before, before) if before else "", words.get(now, now), new

    ledger.attach(previous_ledger(options.since))
    try:
        _write_csv(path, vocabulary.CHANGES_COLUMNS[options.lang], rows(), text=(0,))
    finally:
        ledger.detach()
