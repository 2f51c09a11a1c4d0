"""`rulebook diff` as a user runs it (a subprocess), and its pure comparison (`output/compare.py`).

The acceptance test of issue 15: the rulebook before and after the report deadline changed from
10 to 5 days, over generated sample cases, gives exactly the changes that two `rulebook check`
runs give."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rulebook import load as load_book
from rulebook.language.parse import parse
from rulebook.language.source import Source
from rulebook.output.changes import cell
from rulebook.output.compare import TopCases, Totals, compare_case, compare_rulebooks

from ..conftest import EXAMPLES, ROOT

RULES = ROOT / "rules"
CASES = 300


def rulebook(*args, cwd=None):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "rulebook.apps.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def deadline(folder: Path, days: int) -> Path:
    """A copy of the bundled rulebook whose report deadline is `days` days."""
    shutil.copytree(RULES, folder, ignore=shutil.ignore_patterns("tests"))
    path = folder / "parameters.rules"
    text = path.read_text(encoding="utf-8")
    assert "value 10 days from 2020-04-01" in text
    path.write_text(text.replace("value 10 days from 2020-04-01", f"value {days} days from 2020-04-01"),
                    encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    from samples import generate

    root = tmp_path_factory.mktemp("diff")
    cases = root / "cases.jsonl"
    cases.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in generate(CASES, seed=15)),
                     encoding="utf-8")
    return {"root": root, "cases": cases, "five": deadline(root / "five", 5)}


@pytest.fixture(scope="module")
def diffed(work):
    """`rulebook diff` of the 10-day and the 5-day rulebooks over the sample cases, with --out."""
    out = work["root"] / "out"
    result = rulebook("diff", str(RULES), str(work["five"]), str(work["cases"]), "--format", "json", "--jobs", "2",
                      "--out", str(out))
    return {"result": result, "report": json.loads(result.stdout), "out": out}


def checked(rules: Path, cases: Path, *extra) -> list[dict]:
    result = rulebook("check", str(cases), "--format", "jsonl", "--rules", str(rules), *extra)
    assert result.returncode in (0, 1, 3), result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def expected_changes(before: list[dict], after: list[dict]) -> dict:
    """What changes between two `rulebook check` runs, worked out here from their output alone."""
    out = {}
    for a, b in zip(before, after, strict=True):
        statuses_a = {(r["rule"], r["subject"]): r["status"] for r in a["results"]}
        statuses_b = {(r["rule"], r["subject"]): r["status"] for r in b["results"]}
        results = {(k, statuses_a.get(k), statuses_b.get(k)) for k in statuses_a.keys() | statuses_b.keys()
                   if statuses_a.get(k) != statuses_b.get(k)}
        money = {k: (a["payout"][k], b["payout"][k]) for k in a["payout"] if k != "steps"
                 if a["payout"][k] != b["payout"][k]}
        if a["verdict"] != b["verdict"] or results or money:
            out[a["case_id"]] = ((a["verdict"], b["verdict"]), results, money)
    return out


def found_changes(report: dict) -> dict:
    return {c["case_id"]: ((c["verdict"]["from"], c["verdict"]["to"]),
                           {((r["rule"], r["subject"]), r["from"], r["to"]) for r in c["results"]},
                           {k: (m["from"], m["to"]) for k, m in c["money"].items()}) for c in report["cases"]}


# ---------------------------------------------------------------- acceptance


def test_the_report_deadline_from_10_to_5_days_gives_what_two_checks_give(work, diffed):
    expected = expected_changes(checked(RULES, work["cases"]), checked(work["five"], work["cases"]))
    assert diffed["result"].returncode == 1, diffed["result"].stderr
    report = diffed["report"]
    assert report["format"] == "rulebook.diff/v1"
    assert len(expected) > 20  # the change matters to many generated cases
    assert found_changes(report) == expected
    assert [c["case_id"] for c in report["cases"]] == sorted(expected, key=lambda cid: int(cid[2:]))  # input order
    totals = report["totals"]
    assert totals["cases"] == CASES and totals["changed"] == len(expected)
    moved = sum(b - a for (_v, _r, money) in expected.values() for k, (a, b) in money.items() if k == "honorarium_jpy")
    assert totals["money"]["honorarium_jpy"]["change"] == moved < 0
    verdict_moves = {}
    for (pair, _r, _m) in expected.values():
        if pair[0] != pair[1]:
            verdict_moves[pair] = verdict_moves.get(pair, 0) + 1
    assert {(v["from"], v["to"]): v["cases"] for v in totals["verdicts"] if v["from"] != v["to"]} == verdict_moves
    deadline_rule = next(r for r in totals["rules"] if r["rule"] == "step.report-deadline")
    assert {(c["from"], c["to"]) for c in deadline_rule["changes"]} <= {("pass", "fail"), ("pending", "fail"),
                                                                       ("pending", "pending"), ("pass", "pending")}
    assert report["rulebook"]["parameters"] == [{
        "name": "report_deadline", "from": [{"from": "2020-04-01", "until": None, "value": "10 days"}],
        "to": [{"from": "2020-04-01", "until": None, "value": "5 days"}]}]
    assert report["rulebook"]["rules"] == {"added": [], "removed": [], "changed": []}


def test_the_explanation_of_both_sides(work, diffed):
    report = diffed["report"]
    change = next(c for c in report["cases"] if any(r["rule"] == "step.report-deadline" for r in c["results"]))
    result_change = next(r for r in change["results"] if r["rule"] == "step.report-deadline")
    assert result_change["title"]["ja"].startswith("支援報告書の提出期限")
    before, after = result_change["explanation"]["from"], result_change["explanation"]["to"]
    assert before["message"]["ja"] != after["message"]["ja"] and after["message"]["en"]
    assert change["source"]["file"] == str(work["cases"])


def test_the_same_on_one_job_and_two(work, diffed):
    one = rulebook("diff", str(RULES), str(work["five"]), str(work["cases"]), "--format", "json", "--jobs", "1")
    assert one.stdout == diffed["result"].stdout


def test_nothing_changes_exit_0(work):
    result = rulebook("diff", str(RULES), str(RULES), str(work["cases"]), "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert f"None of the {CASES} cases changed." in result.stdout
    assert "The rules and parameters are the same." in result.stdout
    ja = rulebook("diff", str(RULES), str(RULES), str(EXAMPLES / "seed-case.yaml"))
    assert ja.returncode == 0 and "1件の事例のどれも変わりませんでした。" in ja.stdout


def test_the_text_for_a_terminal(work):
    result = rulebook("diff", str(RULES), str(work["five"]), str(work["cases"]), "--lang", "en")
    assert result.returncode == 1
    out = result.stdout
    assert out.startswith("■ Rulebook comparison\n  Before: ")
    assert "\n\n■ Case G-" in out and "\n\n■ Totals\n" in out
    assert "\\u00" not in out  # the line breaks between blocks are line breaks, not escapes
    assert "step.report-deadline step 1: passed → failed" in out and "    before: " in out


# ------------------------------------------------------------ the two sides


def test_one_rulebook_on_two_days():
    """The pending example judged on two days: check --as-of twice gives the same changes."""
    case = EXAMPLES / "pending-case.yaml"
    days = ("2021-02-12", "2021-03-31")
    before, after = [checked(RULES, case, "--as-of", day) for day in days]
    expected = expected_changes(before, after)
    assert expected
    result = rulebook("diff", f"@{days[0]}", f"@{days[1]}", str(case), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert found_changes(report) == expected
    assert report["rulebook"]["from"]["as_of"] == days[0] and report["rulebook"]["to"]["as_of"] == days[1]


def test_parameters_in_force_on_two_days(tmp_path):
    folder = tmp_path / "dated"
    shutil.copytree(RULES, folder, ignore=shutil.ignore_patterns("tests"))
    path = folder / "parameters.rules"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "value 10 days from 2020-04-01", "value 10 days from 2020-04-01 until 2021-02-28\n  value 5 days from 2021-03-01"),
        encoding="utf-8")
    result = rulebook("diff", f"{folder}@2021-02-12", f"{folder}@2021-03-12", str(EXAMPLES / "pending-case.yaml"),
                      "--format", "json", "--out", str(tmp_path / "out"), "--lang", "en")
    report = json.loads(result.stdout)
    entries = {e["name"]: e for e in report["rulebook"]["parameters"]}
    # other organisations stopped being eligible on 2021-03-01 too (rules/parameters.rules)
    assert set(entries) == {"report_deadline", "other_organisations_eligible"}
    entry = entries["report_deadline"]
    assert entry["in_force"] == {"from": {"day": "2021-02-12", "value": "10 days"},
                                 "to": {"day": "2021-03-12", "value": "5 days"}}
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "10 days <span class=\"muted\">(in force on 2021-02-12)" in page


@pytest.fixture(scope="module")
def repo(tmp_path_factory, work):
    """A git repository whose rules/ had a 10-day deadline, then a 5-day one."""
    root = tmp_path_factory.mktemp("repo")
    git = lambda *args: subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    shutil.copytree(RULES, root / "rules", ignore=shutil.ignore_patterns("tests"))
    git("add", "rules")
    git("commit", "-qm", "ten days")
    shutil.copy(work["five"] / "parameters.rules", root / "rules" / "parameters.rules")
    git("commit", "-qam", "five days")
    return root


@pytest.mark.parametrize("old, new", [("git:HEAD~1", "git:HEAD"), ("HEAD~1:rules", "HEAD:rules"),
                                      ("git:HEAD~1:rules", "rules")])
def test_two_git_revisions(repo, work, diffed, old, new):
    revisions = rulebook("diff", old, new, str(work["cases"]), "--format", "json", cwd=repo)
    assert revisions.returncode == 1, revisions.stderr
    assert found_changes(json.loads(revisions.stdout)) == found_changes(diffed["report"])
    assert json.loads(revisions.stdout)["rulebook"]["from"]["source"] == old


def test_a_name_read_two_ways_is_refused(repo, work):
    (repo / "HEAD:rules").mkdir()
    try:
        for lang, words in (("ja", "二通りに読めます"), ("en", "can be read two ways")):
            result = rulebook("diff", "HEAD:rules", "rules", str(work["cases"]), "--lang", lang, cwd=repo)
            assert result.returncode == 2
            assert words in result.stderr and "Traceback" not in result.stderr
    finally:
        (repo / "HEAD:rules").rmdir()


@pytest.mark.parametrize("spec, words", [("nowhere", "is not a folder, a git revision"),
                                         ("@2021-02-30", "is not a date"),
                                         ("git:no-such-revision", "cannot extract git revision")])
def test_a_side_that_names_nothing(repo, spec, words):
    result = rulebook("diff", spec, "rules", str(EXAMPLES / "seed-case.yaml"), "--lang", "en", cwd=repo)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr


def test_a_rulebook_with_errors(tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(RULES, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "broken.rules").write_text("rule a.b on case\n  stage s1 @\n", encoding="utf-8")
    result = rulebook("diff", str(RULES), str(folder), str(EXAMPLES / "seed-case.yaml"))
    assert result.returncode == 2
    assert "error[RB101]" in result.stderr and "broken.rules:2:12" in result.stderr


# ------------------------------------------------------------- bad cases


def test_invalid_input_on_one_side_or_both(tmp_path):
    """A case the new schema refuses is a change to `invalid` with its errors; a line that is not
    JSON is invalid on both sides, and is no change."""
    folder = tmp_path / "strict"
    shutil.copytree(RULES, folder, ignore=shutil.ignore_patterns("tests"))
    schema = folder / "schema.rules"
    assert "  case_id: text, identifier, not blank\n" in schema.read_text(encoding="utf-8")
    schema.write_text(schema.read_text(encoding="utf-8").replace("  case_id: text, identifier, not blank\n",
                                                                 "  case_id: text, identifier, not blank\n  region: text\n"),
                      encoding="utf-8")
    seed = json.loads(json.dumps(__import__("yaml").safe_load((EXAMPLES / "seed-case.yaml").read_text("utf-8")),
                                 default=str))
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(seed, ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    result = rulebook("diff", str(RULES), str(folder), str(cases), "--format", "json", "--lang", "en")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    (change,) = report["cases"]
    assert change["verdict"] == {"from": "eligible", "to": "invalid"}
    assert change["money"] == {}
    assert any(e["path"] == "region" for e in change["errors"]["to"])
    assert {(v["from"], v["to"]): v["cases"] for v in report["totals"]["verdicts"]} == {
        ("eligible", "invalid"): 1, ("invalid", "invalid"): 1}
    assert report["totals"]["judged_on_both_sides"] == 0
    assert f"{cases}:2: not a valid case on either side" in result.stderr  # named, not silently skipped
    assert "1 inputs are not valid cases on either side" in result.stderr


def test_a_missing_input_is_named(tmp_path):
    result = rulebook("diff", str(RULES), str(RULES), str(tmp_path / "nowhere.jsonl"))
    assert result.returncode == 0
    assert "nowhere.jsonl" in result.stderr and "どちらでも判定できない入力です" in result.stderr


# ------------------------------------------------------------------ --out


def test_out_writes_json_page_and_spreadsheet(work, diffed, tmp_path):
    out, result = diffed["out"], diffed["result"]
    assert json.loads((out / "diff.json").read_text(encoding="utf-8")) == json.loads(result.stdout)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ja">' in page
    assert "ルールブックの比較" in page and "report_deadline" in page and "金額の変化が大きい事例" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    raw = (out / "changes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))
    assert rows[0][0] == "事例ID"
    changed = json.loads(result.stdout)["cases"]
    assert len(rows) - 1 == sum(max(1, len(c["results"])) for c in changed)
    due_changes = [r[10] for r in rows[1:] if r[10]]
    assert due_changes and all(v.lstrip("-").isdigit() for v in due_changes)  # numbers stay numbers
    english = rulebook("diff", str(RULES), str(work["five"]), str(EXAMPLES / "failing-case.yaml"), "--out",
                       str(tmp_path / "en"), "--lang", "en")
    assert "Rulebook comparison" in (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    assert english.returncode == 1  # step 1 of the failing example reported 6 days after completion


def test_hostile_case_ids_are_safe_in_every_output(tmp_path):
    """A case id that is a formula, markup or a terminal escape: quoted in the spreadsheet,
    escaped in the page, shown escaped on a terminal."""
    folder = deadline(tmp_path / "five", 5)
    from samples import generate

    hostile = ["=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "\x1b]0;pwned\x07", "@SUM(1)", "-2+3"]
    cases = []
    book, five = load_book(), load_book(folder)
    for case in generate(2000, seed=15, further=True):
        if len(cases) < len(hostile) and case.get("claim") and case.get("steps"):
            for step in case["steps"]:  # reported late under 5 days, on time under 10: a change
                if step.get("completion_reported_on") and step.get("report_submitted_on"):
                    done = dt.date.fromisoformat(step["completion_reported_on"])
                    step["report_submitted_on"] = (done + dt.timedelta(days=8)).isoformat()
                    step["delay_report_submitted_on"] = None
            before, after = book.judge(case), five.judge(case)
            if not before["payout"]["honorarium_jpy"] or after["payout"] == before["payout"]:
                continue  # on the page are the cases where money moves
            case["case_id"] = hostile[len(cases)]
            cases.append(case)
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    out = tmp_path / "out"
    result = rulebook("diff", str(RULES), str(folder), str(path), "--out", str(out), "--top", "50")
    assert result.returncode == 1
    # an identifier holding an escape is refused as input on both sides; nothing shows it raw
    assert "\x1b" not in result.stdout + result.stderr and "U+001B" in result.stderr
    rows = list(csv.reader(io.StringIO((out / "changes.csv").read_bytes()[3:].decode("utf-8"))))
    ids = {row[0] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://x\")" in ids and "'@SUM(1)" in ids and "'-2+3" in ids
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ---------------------------------------------------------- the comparison


def verdict(verdict_word, statuses, due=100, stake=100, case_id="C"):
    return {"format": "rulebook.verdict/v1", "case_id": case_id, "verdict": verdict_word,
            "results": [{"rule": r, "subject": s_, "status": st} for (r, s_), st in statuses.items()],
            "payout": {"honorarium_jpy": due, "honorarium_at_stake_jpy": stake, "steps": [{"step": 1}]}}


def test_compare_case():
    a = verdict("eligible", {("r.a", "case"): "pass", ("r.b", "step:1"): "pass"})
    assert compare_case(a, a) is None
    b = verdict("ineligible", {("r.a", "case"): "fail", ("r.c", "case"): "pass"}, due=0)
    change = compare_case(a, b)
    assert change["verdict"] == {"from": "eligible", "to": "ineligible"}
    assert change["results"] == [{"rule": "r.a", "subject": "case", "from": "pass", "to": "fail"},
                                 {"rule": "r.c", "subject": "case", "from": None, "to": "pass"},
                                 {"rule": "r.b", "subject": "step:1", "from": "pass", "to": None}]
    assert change["money"] == {"honorarium_jpy": {"from": 100, "to": 0, "change": -100}}
    error = {"format": "rulebook.error/v1", "case_id": "C", "errors": []}
    assert compare_case(a, error)["money"] == {} and compare_case(error, error) is None


def test_totals_add_up_whatever_the_chunks():
    pairs = [(verdict("eligible", {("r", "case"): "pass"}, due=100 * i),
              verdict("ineligible" if i % 2 else "eligible", {("r", "case"): "fail" if i % 2 else "pass"}, due=50 * i))
             for i in range(10)]
    whole, parts = Totals(), [Totals(), Totals()]
    for i, (a, b) in enumerate(pairs):
        whole.add(a, b, compare_case(a, b))
        parts[i % 2].add(a, b, compare_case(a, b))
    merged = Totals()
    merged += parts[0]
    merged += parts[1]
    assert merged.to_dict(["r"], []) == whole.to_dict(["r"], [])
    totals = whole.to_dict(["r"], [])
    assert totals["changed"] == 9 and totals["money"]["honorarium_jpy"] == {"from": 4500, "to": 2250, "change": -2250}
    assert totals["rules"][0]["changes"] == [{"from": "pass", "to": "fail", "results": 5}]


def test_top_cases_most_money_first_earlier_first_on_ties():
    top = TopCases(2)
    for seq, due in enumerate([-10, 30, -30, 5]):
        top.offer(seq, {"case_id": str(seq), "money": {"honorarium_jpy": {"change": due}}})
    assert [c["case_id"] for c in top.cases()] == ["1", "2"]


def syntax(text: str):
    file, diagnostics = parse(Source("x.rules", text))
    assert not diagnostics
    return [file]


def test_compare_rulebooks():
    rule = 'rule a.{n} on case title ja "{t}" en "T" source "s" otherwise pass message ja "m" en "m"\n'
    old = syntax(rule.format(n="kept", t="同じ") + rule.format(n="gone", t="消える") + rule.format(n="edited", t="前"))
    new = syntax(rule.format(n="kept", t="同じ").replace(" otherwise", "\n  otherwise")  # layout only
                 + rule.format(n="edited", t="後") + rule.format(n="new", t="新しい"))
    changes = compare_rulebooks(old, new)
    assert changes["rules"] == {"added": [{"rule": "a.new", "title": {"ja": "新しい", "en": "T"}}],
                                "removed": [{"rule": "a.gone", "title": {"ja": "消える", "en": "T"}}],
                                "changed": [{"rule": "a.edited", "title": {"ja": "後", "en": "T"}}]}
    assert changes["parameters"] == [] and changes["declarations"] == []


@pytest.mark.parametrize("value, shown", [("=1+2", "'=1+2"), ("+81", "'+81"), ("-x", "'-x"), ("@a", "'@a"),
                                          ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), (-5, -5),
                                          (None, "")])
def test_spreadsheet_cells(value, shown):
    assert cell(value) == shown
