"""files: the audit's files for people — summary.json, report.html and the spreadsheets —
each written whole or not at all, and the names of every file the audit writes.

A spreadsheet's text cells come from the input (ids, names, file names) and are made safe for
a spreadsheet program, as OWASP's guidance on CSV injection says: a cell that starts with `=`,
`+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote, so that it is text,
never a formula; control characters and bidirectional overrides are shown escaped (`\\x1b`,
`\\u202e`); separators and quotes are quoted by the csv module. Numbers we write stay numbers.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
import re
from pathlib import Path

import orjson

from ...output import vocabulary
from .checks import CASES_SHOWN, legacy_rule
from .ledger import Ledger
from .options import Options
from .summary import failed_rules, hours_bound, new_failures, previous_ledger

RESULTS, ERRORS, SUMMARY, REPORT, CASES_CSV = "results.jsonl", "errors.jsonl", "summary.json", "report.html", \
    "cases.csv"
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


# What a spreadsheet program could run (a formula's first character, OWASP's list) and what a
# cell shows escaped: control characters (C0, DEL, C1), bidirectional overrides and isolates,
# line and paragraph separators.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BIDI_AND_SEPARATORS = r"\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_UNSEEN = r"\x00-\x1f\x7f-\x9f" + _BIDI_AND_SEPARATORS
_RISKY = re.compile(rf"^[=+\-@\t\r]|[{_UNSEEN}]")
_ESCAPED = re.compile(f"[{_UNSEEN}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def spreadsheet_cell(value):
    """A cell as written to a spreadsheet: text neutralised (see the module's docstring), anything
    else (the numbers we write) as it is."""
    if value.__class__ is not str or _RISKY.search(value) is None:
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return _ESCAPED.sub(_escape, value)


# A column of cells joined by line breaks, a line break first: a cell starts a formula where a
# line break is followed by one of OWASP's characters, and a cell holds a line break of its own
# if there are more of them than cells.
_FORMULA_IN_COLUMN = re.compile(r"\n[=+\-@\t\r]")
_UNSEEN_IN_COLUMN = re.compile(rf"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")


def _all_safe(batch: list, text: tuple[int, ...]) -> bool:
    """Whether no cell of the columns `text` of a batch needs neutralising (the usual case, found
    a column at a time, the work in C)."""
    for i in text:
        column = [row[i] for row in batch]
        try:
            joined = "\n" + "\n".join(column)
        except TypeError:  # not only text: look at each
            return False
        if (joined.count("\n") != len(column) or _FORMULA_IN_COLUMN.search(joined) is not None
                or _UNSEEN_IN_COLUMN.search(joined) is not None):
            return False
    return True


def _neutralised(batch: list, text: tuple[int, ...]):
    """The rows of a batch with the cells of the columns `text` neutralised."""
    for row in batch:
        row = list(row)
        for i in text:
            row[i] = spreadsheet_cell(row[i])
        yield row


def _write_csv(path: Path, header: list[str], rows, text: tuple[int, ...]) -> None:
    """A spreadsheet as Excel in Japan opens it: UTF-8 with a byte-order mark, CRLF line ends;
    written whole or not at all, the rows encoded a block at a time. The cells of the columns
    `text` are text from the input, neutralised (the others are ours: numbers, verdicts, rule
    ids)."""
    with _replacing(path) as fh:
        block = io.StringIO()
        writer = csv.writer(block, lineterminator="\r\n")
        fh.write(codecs.BOM_UTF8)
        writer.writerow(header)
        for batch in iter(lambda: list(itertools.islice(rows, 4096)), []):
            writer.writerows(batch if _all_safe(batch, text) else _neutralised(batch, text))
            fh.write(block.getvalue().encode("utf-8"))
            block.seek(0)
            block.truncate()


def write_reports(folder: Path, ledger: Ledger, summary: dict, options: Options, book, params: dict) -> None:
    _write_atomically(folder / SUMMARY, orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    words = vocabulary.VERDICT[options.lang]
    rules_of: dict = {}  # failed results → their rules, as cases.csv shows them (few distinct)

    def case_rows():
        for case_id, verdict, failed, due, stake, claimed, expert, sme, origin, line in ledger.case_rows():
            rules = rules_of.get(failed)
            if rules is None:
                rules = " ".join(failed_rules(failed))
                if len(rules_of) < 10_000:
                    rules_of[failed] = rules
            yield (case_id, words.get(verdict, verdict), rules, due, stake, "" if claimed is None else claimed,
                   expert or "", sme or "", f"{origin}:{line}")

    _write_csv(folder / CASES_CSV, vocabulary.CASES_COLUMNS[options.lang], case_rows(), text=(0, 6, 7, 8))
    # Every expert's and every SME's totals (summary.json lists the first SUMMARY_PEOPLE of each).
    for column, name in PEOPLE_CSV.items():
        _write_csv(folder / name, vocabulary.PEOPLE_COLUMNS[options.lang], ledger.people(column, None), text=(0,))
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
    from ...output.report import render_report

    _write_atomically(folder / REPORT, render_report(summary, cases, options.lang).encode("utf-8"))


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
