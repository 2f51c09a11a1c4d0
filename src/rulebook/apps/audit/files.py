"""files: the audit's files for people — summary.json, report.html and the spreadsheets —
each written whole or not at all, and the names of every file the audit writes."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
from pathlib import Path

import orjson

from .ledger import Ledger
from .options import Options
from .summary import failed_rules

RESULTS, ERRORS, SUMMARY, REPORT, CASES_CSV = "results.jsonl", "errors.jsonl", "summary.json", "report.html", \
    "cases.csv"
PEOPLE_CSV = {"expert": "experts.csv", "sme": "smes.csv"}

CSV_HEADERS = {
    "ja": ["事例ID", "判定", "不適合の要件", "支払われる謝金(円)", "謝金の対象額(円)", "請求額(円)", "IT専門家", "中小企業",
           "入力元"],
    "en": ["case id", "verdict", "failed requirements", "honorarium due (yen)", "honorarium at stake (yen)",
           "claimed (yen)", "IT expert", "SME", "source"],
}
PEOPLE_HEADERS = {"ja": ["名前", "事例数", "対象外の事例数", "支払われる謝金(円)", "謝金の対象額(円)", "請求額(円)"],
                  "en": ["name", "cases", "ineligible cases", "honorarium due (yen)", "honorarium at stake (yen)",
                         "claimed (yen)"]}
VERDICT_WORDS = {"ja": {"eligible": "対象", "incomplete": "未完了", "ineligible": "対象外"},
                 "en": {"eligible": "eligible", "incomplete": "incomplete", "ineligible": "ineligible"}}


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


def write_reports(folder: Path, ledger: Ledger, summary: dict, options: Options) -> None:
    _write_atomically(folder / SUMMARY, orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    words = VERDICT_WORDS[options.lang]
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

    _write_csv(folder / CASES_CSV, CSV_HEADERS[options.lang], case_rows())
    # Every expert's and every SME's totals (summary.json lists the first SUMMARY_PEOPLE of each).
    for column, name in PEOPLE_CSV.items():
        _write_csv(folder / name, PEOPLE_HEADERS[options.lang], ledger.people(column, None))
    cases = []
    if summary["top_cases"] and not options.compact:  # compact results hold no texts to show
        with open(folder / RESULTS, "rb") as fh:
            for (offset, length) in ledger.top_places(options.top):
                fh.seek(offset)
                cases.append(orjson.loads(fh.read(length)))
    from ...output.report import render_report

    _write_atomically(folder / REPORT, render_report(summary, cases, options.lang).encode("utf-8"))
