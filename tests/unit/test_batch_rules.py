"""Rules over the cases of a batch (`rule … over`, rules/batch.rules): what a case adds to them,
the sweep by day and the pass by group against plain recounts, the audit's findings and the
checks of before as their views, and what `rulebook check` leaves to a batch."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import orjson
import pytest
import yaml
from click.testing import CliRunner

import rulebook
from rulebook.apps.audit.files import spreadsheet_cell
from rulebook.apps.cli import main
from rulebook.engine.evaluate import EvaluationError
from samples import make_case

from ..conftest import ROOT
from .test_audit_checks import SHOWN, expected_findings, sheet, the_seed, write_jsonl


def judged(book, snapshots: list[dict]) -> list[tuple]:
    """(validated snapshot, payout, day) of each snapshot, as `Rulebook.find` takes them."""
    out = []
    for snapshot in snapshots:
        verdict, case = book.judge_case(snapshot)
        assert verdict["format"] == "rulebook.verdict/v1", verdict
        out.append((case, verdict["payout"], case.as_of))
    return out


def by_rule(findings: list[dict]) -> dict:
    return {rule["rule"]: rule["entries"] for rule in findings}


def run(*args):
    return CliRunner().invoke(main, [*map(str, args)], catch_exceptions=False)


def rules_copy(tmp_path: Path, edit=None) -> Path:
    """A copy of the bundled rulebook, `edit(folder)` applied."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder, ignore=shutil.ignore_patterns("tests"))
    if edit is not None:
        edit(folder)
    return folder


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# ------------------------------------------------------------ the sweep by day


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_hours_a_day_are_the_plain_recount_of_every_expert_and_day(book, seed):
    rng = random.Random(seed)
    # a few experts, each with many cases begun within 20 days: steps overlap on most days
    cases = [make_case(rng, i, expert=i % 4, days=20) for i in range(240)]
    found = by_rule(book.find(judged(book, cases)))["batch.implausible-hours"]
    expected = expected_findings(cases, 24.0)
    assert len(expected) > 5 and max(len(ids) for *_, ids in expected) > SHOWN
    assert [(e["key"]["expert"], e["key"]["day"]) for e in found] == [(who, day) for who, day, *_ in expected]
    for entry, (_who, _day, hours, ids) in zip(found, expected):
        assert entry["figures"]["hours"] == pytest.approx(hours, abs=0.006)
        assert entry["case_count"] == len(ids) and entry["cases"] == ids[:SHOWN]


def test_the_findings_do_not_depend_on_the_order_of_the_cases(book):
    rng = random.Random(5)
    cases = [make_case(rng, i, expert=i % 3, days=10) for i in range(150)]
    cases += copy.deepcopy(cases[:20])  # duplicate ids too
    once = book.find(judged(book, cases))
    rng.shuffle(cases)
    assert book.find(judged(book, cases)) == once
    assert all(by_rule(once)[rule] for rule in ("batch.duplicate-case-id", "batch.implausible-hours"))


def test_a_day_s_hours_are_kept_in_millionths_rounded_half_up(book):
    seed = the_seed()
    seed["steps"][0] |= {"started_on": "2021-02-01", "completion_reported_on": "2021-03-04", "hours": "0.01"}
    [(case, payout, day)] = judged(book, [seed])
    hours = dict(book.batch.rows(case, payout, day))[1]
    first, last = dt.date(2021, 2, 1).toordinal(), dt.date(2021, 3, 4).toordinal()
    assert hours == [("hanako_y", first, last, 313)]  # 10,000 millionths over 32 days: 312.5, rounded up
    seed["steps"][0]["started_on"] = "2021-03-05"  # reported complete before it started: no days
    [(case, payout, day)] = judged(book, [seed])
    assert 1 not in dict(book.batch.rows(case, payout, day))


def rows_at_once(book, case, payout, day, prefix) -> dict:
    """What `BatchRules.add_rows` (the audit's: one generated function for every rule) adds,
    by rule index."""
    into = [[] for _ in book.plan.batch_rules]
    book.batch.add_rows(case, payout, day, prefix, into)
    return {index: rows for index, rows in enumerate(into) if rows}


def test_a_case_s_rows_made_for_every_rule_at_once_are_those_each_rule_makes(tmp_path):
    """The rows the audit's workers make in one call are `rows`' (each rule's `batch_rows_N`,
    converted as the ledger keeps them), with the case's place and id before them — for rules
    whose rows are kept as they are, spread over days (steps reported complete before they began
    among them), and converted without days (FIGURES: days and hours in a rule over steps)."""
    rng = random.Random(13)
    cases = [make_case(rng, i, i % 2 == 0, expert=i % 5, days=30) for i in range(200)]
    for case in cases[::7]:
        for step in case.get("steps") or []:
            if step.get("started_on") and step.get("completion_reported_on"):
                step["started_on"], step["completion_reported_on"] = step["completion_reported_on"], step["started_on"]
    folder = rules_copy(tmp_path, lambda f: (f / "figures.rules").write_text(FIGURES, encoding="utf-8"))
    shapes = set()
    for book in (rulebook.load(), rulebook.load(folder)):
        assert [rule.index for rule in book.plan.batch_rules] == list(range(len(book.plan.batch_rules)))
        for n, (case, payout, day) in enumerate(judged(book, cases)):
            expected = dict(book.batch.rows(case, payout, day))
            assert rows_at_once(book, case, payout, day, (n, case.case_id)) == {
                index: [(n, case.case_id, *row) for row in rows] for index, rows in expected.items()}
            shapes.add((len(book.plan.batch_rules), tuple(sorted(expected))))
    # (rule 0, the duplicate ids, is case-keyed: no case adds a row to it, either way)
    assert {(3, (1, 2)), (3, (2,)), (4, (1, 2, 3)), (4, (2,))} <= shapes


DAYS = """
rule batch.test-days over each step
  title ja "テスト" en "Test"
  source "s"
  where step.started_on is set
  group by sme.name as sme, step.planned_end_on if missing step.started_on as planned
  each day from step.started_on to step.completion_reported_on if missing step.planned_end_on
  count steps
  sum paid = step.client_payment_jpy spread over its days
  sum hours = step.hours
  when steps >= 2 then finding
    message ja "{steps}件" en "{steps} steps"
"""


def test_a_rule_by_day_keeps_its_dates_as_day_numbers_its_spread_values_per_day_and_fractions_in_millionths(tmp_path):
    """The rows of a rule by day whose key is a date and whose figures are spread and not
    (the conversion the program's own rules do not take), against a plain recount."""
    book = rulebook.load(rules_copy(tmp_path, lambda f: (f / "days.rules").write_text(DAYS, encoding="utf-8")))
    index = len(book.plan.batch_rules) - 1
    rng = random.Random(21)
    cases = [make_case(rng, i) for i in range(120)]
    counted = 0
    for n, (snapshot, (case, payout, day)) in enumerate(zip(cases, judged(book, cases))):
        expected = []
        for step in snapshot.get("steps") or []:
            if not step.get("started_on"):
                continue
            first = dt.date.fromisoformat(step["started_on"]).toordinal()
            last = dt.date.fromisoformat(step.get("completion_reported_on") or step["planned_end_on"]).toordinal()
            if last < first:
                continue
            planned = dt.date.fromisoformat(step.get("planned_end_on") or step["started_on"]).toordinal()
            paid = (Decimal(step["client_payment_jpy"]) * 10**6 / (last - first + 1)).to_integral_value(ROUND_HALF_UP)
            expected.append((n, case.case_id, snapshot["sme"]["name"], planned, first, last, int(paid),
                             int(Decimal(str(step["hours"])) * 10**6)))
        assert dict(book.batch.rows(case, payout, day, (n, case.case_id))).get(index, []) == expected
        assert rows_at_once(book, case, payout, day, (n, case.case_id)).get(index, []) == expected
        counted += len(expected)
    assert counted > 100


def test_the_sweep_by_day_gives_the_findings_of_a_plain_recount_of_each_day(tmp_path):
    """A rule by day with a date among its keys, a count, a spread sum and a sum of hours (the
    sweep reads its keys once per group, then each day's figures): each day an item starts on,
    the items running then, recounted, read as the rule reads them (`_Rule.group`) and decided."""
    from rulebook.engine.batch import CASES_SHOWN, Finding

    book = rulebook.load(rules_copy(tmp_path, lambda f: (f / "days.rules").write_text(DAYS, encoding="utf-8")))
    index = len(book.plan.batch_rules) - 1
    rule = book.batch.rules[index]
    rng = random.Random(22)
    cases = [make_case(rng, i) for i in range(300)]
    for n, snapshot in enumerate(cases):
        snapshot["sme"]["name"] = f"SME {n % 3}"
    rows, latest = [], None
    for n, (case, payout, day) in enumerate(judged(book, cases)):
        latest = day if latest is None or day > latest else latest
        for seq, case_id, sme, planned, first, last, *values in dict(book.batch.rows(case, payout, day,
                                                                                        (n, case.case_id))).get(index, []):
            rows.append((sme, planned, first, last, case_id, *values))
    rows.sort(key=lambda row: row[:3])
    params = book.batch.parameters(latest)
    expected = []
    for key in sorted({row[:2] for row in rows}):
        items = [row for row in rows if row[:2] == key]
        for day in sorted({row[2] for row in items}):
            running = [row for row in items if row[2] <= day <= row[3]]
            figures = [len(running), sum(row[5] for row in running), sum(row[6] for row in running)]
            ids = sorted({row[4] for row in running})
            group = rule.group((*key, day), figures, len(ids))
            clause = rule.decide(group, params)
            if clause >= 0:
                expected.append(Finding(index, clause, (*key, day), tuple(ids[:CASES_SHOWN]), len(ids), None, group))
    assert len(expected) > 20
    assert isinstance(expected[0].group[1], dt.date) and isinstance(expected[0].group[5], Decimal)
    assert list(book.batch.findings(index, iter(rows), params)) == expected


PAID_A_DAY = """
rule batch.test-paid-a-day over each step
  title ja "テスト" en "Test"
  source "s"
  where step.started_on is set
  group by sme.name as sme
  each day from step.started_on to step.completion_reported_on if missing step.planned_end_on
  sum paid = step.client_payment_jpy
  when paid > 60000 yen then finding
    message ja "{paid}" en "{paid}"
"""


@pytest.mark.parametrize("keys", ["sme.name as sme", "sme.name as sme, step.number as number"])
def test_the_usual_sweep_by_day_of_a_sum_kept_as_it_is_gives_the_general_sweep_s_findings(tmp_path, keys):
    """A rule by day whose one figure is a sum of whole yen (read as it is kept, not from
    millionths), grouped by one key or two, is swept by `_by_day_one` too: the general sweep's
    findings."""
    text = PAID_A_DAY.replace("group by sme.name as sme", f"group by {keys}")
    book = rulebook.load(rules_copy(tmp_path, lambda f: (f / "paid.rules").write_text(text, encoding="utf-8")))
    rule = book.plan.batch_rules[-1]
    k = len(rule.keys) - 1
    assert rule.decide_reads == (k + 1,) and book.batch.rules[rule.index].read_figures == [None]
    rng = random.Random(9)
    cases = [make_case(rng, i, days=30) for i in range(300)]
    for n, snapshot in enumerate(cases):
        snapshot["sme"]["name"] = f"SME {n % 5}"
    rows, latest = [], None
    for n, (case, payout, day) in enumerate(judged(book, cases)):
        latest = day if latest is None or day > latest else latest
        for _seq, case_id, *kept in dict(book.batch.rows(case, payout, day, (n, case.case_id))).get(rule.index, []):
            rows.append((*kept[:k], kept[k], kept[k + 1], case_id, kept[k + 2]))
    rows.sort(key=lambda row: row[:k + 1])
    params = book.batch.parameters(latest)
    fast = list(book.batch.findings(rule.index, iter(rows), params))
    assert fast == list(book.batch._by_day(book.batch.rules[rule.index], iter(rows), params))
    assert len(fast) > 20 and all(isinstance(f.group[k + 1], int) for f in fast)


@pytest.mark.parametrize("kept", [16384, 3])
def test_the_usual_sweep_by_day_deciding_each_sum_once_gives_the_general_sweep_s_findings(book, monkeypatch, kept):
    """The hours' rule (one figure added up, the only value its clause reads) is swept by
    `_by_day_one`, which decides each sum once (at most `_DECIDED_KEPT` of them) and counts the
    case ids running only once a group has a finding: the same findings as the general sweep,
    over one expert's overlapping steps and many experts', with a bound low enough for many."""
    from rulebook.engine import batch

    monkeypatch.setattr(batch, "_DECIDED_KEPT", kept)
    rule = next(r for r in book.plan.batch_rules if r.id == "batch.implausible-hours")
    rule_keys = len(rule.keys) - 1  # (the day is the last key)
    assert rule.decide_reads == (rule_keys + 1,)  # (the keys, the day, then the hours)
    rng = random.Random(5)
    cases = [make_case(rng, i, expert=i % 4 if i % 3 else None, days=60) for i in range(400)]
    for case in cases[::2]:  # steps of a day each, of a few whole hours: the same sums on many days
        for step in case.get("steps") or []:
            if step.get("started_on") and step.get("completion_reported_on"):
                step["completion_reported_on"] = step["started_on"]
                step["hours"] = rng.choice([4, 8, 12])
    rows, latest = [], None
    for n, (case, payout, day) in enumerate(judged(book, cases)):
        latest = day if latest is None or day > latest else latest
        for _seq, case_id, *kept_row in dict(book.batch.rows(case, payout, day, (n, case.case_id))).get(rule.index, []):
            key, (first, last, *values) = kept_row[:rule_keys], kept_row[rule_keys:]
            rows.append((*key, first, last, case_id, *values))
    rows.sort(key=lambda row: row[:rule_keys + 1])
    for bound in ("1", "6", "24"):
        params = book.batch.parameters(latest, {"hours_per_day": Decimal(bound)})
        fast = list(book.batch.findings(rule.index, iter(rows), params))
        general = list(book.batch._by_day(book.batch.rules[rule.index], iter(rows), params))
        assert fast == general
        if bound == "1":  # (many findings, the same sum on many days)
            sums = [f.group[-2] for f in fast]
            assert len(fast) > 200 and len(set(sums)) < len(sums) - 50 and any(f.case_count > 1 for f in fast)


def test_the_group_places_a_decision_reads_are_found_in_its_code():
    """`decide_reads`: the places of the group a generated function reads, None when it uses
    the group otherwise; the bundled rules' clauses read their figures, not their keys."""
    import ast

    from rulebook.engine.compile_batch import _group_reads

    def reads(source: str):
        return _group_reads(ast.parse(source).body[0])

    assert reads("def f(g, _P):\n    x = g[2] + g[1]\n    return 0 if x > g[2] else -1") == (1, 2)
    assert reads("def f(g, _P):\n    return len(g)") is None
    assert reads("def f(g, _P):\n    return g[-1]") is None
    assert reads("def f(g, _P):\n    return g[0:2]") is None
    book = rulebook.load()
    assert {r.id: r.decide_reads for r in book.plan.batch_rules} == {
        "batch.duplicate-case-id": (1,), "batch.implausible-hours": (2,), "batch.sme-honorarium-cap": (1, 2)}
    assert [book.batch.lone(r.index) for r in book.plan.batch_rules] == [0, None, 2]


def test_kept_millionths_and_days_read_back_as_made_anew_and_their_table_bounded(monkeypatch):
    from decimal import localcontext

    from rulebook.engine import batch

    monkeypatch.setattr(batch, "_DECIMALS", {})
    monkeypatch.setattr(batch, "_DAYS", {})
    monkeypatch.setattr(batch, "_READ_KEPT", 16)
    numbers = [0, 1, -1, 2_500_000, 7_250_000, 10**18 - 1, -(10**18) + 1, 10**18, -(10**18), 10**30 + 7]
    for _ in range(2):  # (the second time from the table)
        for n in [*numbers, *range(100, 130)]:
            assert str(batch._from_micro(n)) == str(Decimal(n).scaleb(-6))
        for n in range(737_000, 737_040):
            assert batch._from_ordinal(n) == dt.date.fromordinal(n)
    assert len(batch._DECIMALS) == len(batch._DAYS) == 16
    assert not {10**18, -(10**18), 10**30 + 7} & set(batch._DECIMALS)  # (not exact in every context)
    with localcontext() as context:
        context.prec = 19
        assert str(batch._from_micro(10**30 + 7)) == str(Decimal(10**30 + 7).scaleb(-6))


def test_a_case_a_batch_rule_cannot_read_adds_no_row_to_any_rule_and_says_which_rule(tmp_path):
    def edit(folder: Path) -> None:
        replace_in(folder / "batch.rules", "sum hours = step.hours spread",
                   "sum hours = step.hours + hours_per_day - hours_per_day spread")
        replace_in(folder / "batch.rules", "value 24 hours from 2020-04-01", "value 24 hours from 2021-06-01")

    book = rulebook.load(rules_copy(tmp_path, edit))
    [(case, payout, day)] = judged(book, [the_seed()])
    with pytest.raises(EvaluationError) as raised:
        book.batch.rows(case, payout, day)
    into = [[] for _ in book.plan.batch_rules]
    with pytest.raises(EvaluationError) as at_once:
        book.batch.add_rows(case, payout, day, (0, case.case_id), into)
    assert str(at_once.value) == str(raised.value) and "batch.implausible-hours" in str(raised.value)
    assert into == [[], [], []]  # the rule before it, which could read the case, added nothing either
    error = book.add_batch_rows(case, payout, day, "cases.jsonl", 3, (0, case.case_id), into)
    assert error["format"] == "rulebook.error/v1" and error["source"] == {"file": "cases.jsonl", "line": 3}
    assert into == [[], [], []]


# ------------------------------------------------------------- the pass by group

FIGURES = """
rule batch.test-figures over each step
  title ja "テスト" en "Test"
  source "s"
  where step.started_on is set
  group by sme.name as sme, step.number as number
  count steps
  sum hours = step.hours
  sum paid = step.client_payment_jpy
  max latest = step.started_on
  min earliest = step.started_on
  max most = step.hours
  when steps >= 2 then finding
    message ja "{steps}件" en "{steps} steps"
"""


def test_count_sum_max_and_min_of_each_group_are_the_plain_ones(tmp_path):
    folder = rules_copy(tmp_path, lambda f: (f / "figures.rules").write_text(FIGURES, encoding="utf-8"))
    book = rulebook.load(folder)
    rng = random.Random(8)
    cases = [make_case(rng, i) for i in range(300)]
    for i, case in enumerate(cases):
        case["sme"]["name"] = f"SME-{i % 7}"
    groups: dict = {}
    for case in cases:
        for step in case.get("steps") or []:
            if step.get("started_on"):
                groups.setdefault((case["sme"]["name"], step["number"]), []).append((case["case_id"], step))
    expected = []
    for (sme, number), items in sorted(groups.items()):
        if len(items) < 2:
            continue
        steps = [step for _id, step in items]
        ids = sorted({case_id for case_id, _step in items})
        hours = sum(Decimal(str(s["hours"])) for s in steps)
        expected.append({"key": {"sme": sme, "number": number}, "cases": ids[:SHOWN], "case_count": len(ids),
                         "figures": {"steps": len(steps), "hours": float(hours) if hours % 1 else int(hours),
                                     "paid": sum(s["client_payment_jpy"] for s in steps),
                                     "latest": max(s["started_on"] for s in steps),
                                     "earliest": min(s["started_on"] for s in steps),
                                     "most": max(Decimal(str(s["hours"])) for s in steps)}})
    for entry in expected:
        most = entry["figures"]["most"]
        entry["figures"]["most"] = int(most) if most % 1 == 0 else float(most)
    found = by_rule(book.find(judged(book, cases)))["batch.test-figures"]
    assert len(expected) > 20
    assert [{k: e[k] for k in ("key", "cases", "case_count", "figures")} for e in found] == expected
    assert found[0]["message"] == {"ja": f"{expected[0]['figures']['steps']}件",
                                   "en": f"{expected[0]['figures']['steps']} steps"}


# ----------------------------------------------------------------- one case alone


def test_check_judges_one_case_and_leaves_the_batch_rules_to_a_batch(book, seed):
    twice = [seed, seed]
    for verdict in (book.judge(s) for s in twice):
        assert not any(r["rule"].startswith("batch.") for r in verdict["results"])
        assert "findings" not in verdict
    out = json.loads(run("check", "--format", "json", ROOT / "examples" / "seed-case.yaml",
                         ROOT / "examples" / "seed-case.yaml").output)
    assert len(out) == 2 and all("batch." not in json.dumps(v) for v in out)


def test_the_batch_rules_come_back_from_the_plan_cache(tmp_path, monkeypatch, seed):
    monkeypatch.setenv("RULEBOOK_CACHE", str(tmp_path / "cache"))
    built = rulebook.load(rules_copy(tmp_path))
    cached = rulebook.load(tmp_path / "rules")
    assert (tmp_path / "cache").is_dir() and cached.plan.batch_rules == built.plan.batch_rules
    cases = [seed, seed]
    assert cached.find(judged(cached, cases)) == built.find(judged(built, cases))


# ------------------------------------------------------------------- the audit


def audit(*args):
    result = run("audit", *args)
    assert result.exit_code in (0, 1, 3), result.output
    return result


def digestless(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        line["rulebook"].pop("digest")
    return lines


def test_the_sme_cap_across_cases_is_a_finding_that_changes_no_case(tmp_path):
    seed = the_seed()
    cases = []
    for i, case_id in enumerate(["C-1", "=1+1", "C-3"]):  # one SME, three cases of 140,000 yen
        case = copy.deepcopy(seed)
        case["case_id"], case["expert"]["lancers_user"] = case_id, f"expert-{i}"
        cases.append(case)
    cases[2]["sme"]["prior_honorarium_jpy"] = 50000
    other = copy.deepcopy(seed) | {"case_id": "C-4"}
    other["sme"] = other["sme"] | {"name": "evil\u202etxt"}
    cases.append(other)
    batch = write_jsonl(tmp_path / "cases.jsonl", cases)
    audit(batch, "--out", tmp_path / "out", "--jobs", "1")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    [sme] = by_rule(summary["findings"])["batch.sme-honorarium-cap"]
    assert sme["key"] == {"sme": "株式会社サンプル商店"} and sme["cases"] == ["=1+1", "C-1", "C-3"]
    assert sme["figures"] == {"due": 420000, "prior": 50000, "altogether": 470000, "excess": 170000}
    assert "170,000円超えています" in sme["message"]["ja"] and "170,000 yen over its cap" in sme["message"]["en"]
    # every case is judged on its own: the same verdicts as a rulebook without batch rules
    plain = rules_copy(tmp_path, lambda f: (f / "batch.rules").unlink())
    audit(batch, "--out", tmp_path / "plain", "--jobs", "1", "--rules", plain)
    assert digestless(tmp_path / "out" / "results.jsonl") == digestless(tmp_path / "plain" / "results.jsonl")
    # findings.csv: every finding, its text cells safe for a spreadsheet
    rows = sheet(tmp_path / "out" / "findings.csv")
    assert rows == [["batch.sme-honorarium-cap", "sme=株式会社サンプル商店", "3", "'=1+1 C-1 C-3",
                     "due=420000; prior=50000; altogether=470000; excess=170000", sme["message"]["ja"],
                     sme["fix"]["ja"]]]
    plain_summary = json.loads((tmp_path / "plain" / "summary.json").read_text(encoding="utf-8"))
    assert plain_summary["findings"] == [] and plain_summary["duplicates"] == []


def test_the_bound_of_hours_is_the_rulebook_s_parameter_and_the_option_overrides_it(tmp_path):
    seed = the_seed()  # 40 hours over 26 days: 1.54 hours a day
    folder = rules_copy(tmp_path, lambda f: replace_in(f / "batch.rules", "value 24 hours", "value 1 hours"))
    batch = write_jsonl(tmp_path / "cases.jsonl", [seed])
    audit(batch, "--out", tmp_path / "one", "--jobs", "1", "--rules", folder)
    summary = json.loads((tmp_path / "one" / "summary.json").read_text(encoding="utf-8"))
    [day] = summary["implausible_hours"]
    assert (day["day"], day["hours"], day["bound"]) == ("2021-01-25", 1.54, 1.0)
    assert sheet(tmp_path / "one" / "hours.csv") == [["hanako_y", "2021-01-25", "1.54", "1.0", "1", "SEED-EXAMPLE"]]
    audit(batch, "--out", tmp_path / "more", "--jobs", "1", "--rules", folder, "--hours-per-day", "2")
    summary = json.loads((tmp_path / "more" / "summary.json").read_text(encoding="utf-8"))
    assert summary["implausible_hours"] == [] and summary["implausible_hours_total"] == 0


def test_a_field_renamed_in_the_schema_is_an_error_in_the_batch_rule_not_a_check_that_finds_nothing(tmp_path):
    def rename(folder: Path) -> None:
        replace_in(folder / "schema.rules", "lancers_user: optional text", "lancers_id: optional text")
        for name in ("case.rules", "steps.rules"):  # the case rules do not read it
            assert "lancers_user" not in (folder / name).read_text(encoding="utf-8")

    folder = rules_copy(tmp_path, rename)
    batch = write_jsonl(tmp_path / "cases.jsonl", [the_seed()])
    result = run("audit", batch, "--out", tmp_path / "out", "--rules", folder, "--lang", "en")
    assert result.exit_code == 2 and not (tmp_path / "out" / "results.jsonl").exists()
    assert "error[RB201]: unknown field `lancers_user` on expert_party" in result.output
    assert "batch.rules" in result.output and "did you mean `lancers_id`?" in result.output


def test_a_rule_behind_a_summary_key_of_before_must_keep_its_shape(tmp_path):
    folder = rules_copy(tmp_path, lambda f: replace_in(f / "batch.rules", "sum hours = step.hours",
                                                         "sum hours_worked = step.hours"))
    replace_in(folder / "batch.rules", "when hours > hours_per_day", "when hours_worked > hours_per_day")
    replace_in(folder / "batch.rules", "合わせて{hours}で", "合わせて{hours_worked}で")
    replace_in(folder / "batch.rules", "add up to {hours}", "add up to {hours_worked}")
    result = run("audit", write_jsonl(tmp_path / "cases.jsonl", [the_seed()]), "--out", tmp_path / "out",
                 "--rules", folder, "--lang", "en")
    assert result.exit_code == 2, result.output
    assert ("the batch rule `batch.implausible-hours` gives summary.json's `implausible_hours`, and needs the keys "
            "`expert`, `day` and the figure `hours`") in result.output


def test_without_batch_rules_there_is_nothing_to_set_with_hours_per_day(tmp_path):
    folder = rules_copy(tmp_path, lambda f: (f / "batch.rules").unlink())
    result = run("audit", write_jsonl(tmp_path / "cases.jsonl", [the_seed()]), "--out", tmp_path / "out",
                 "--rules", folder, "--hours-per-day", "8")
    assert result.exit_code == 2
    assert "this rulebook has no parameter `hours_per_day` for --hours-per-day to set" in result.output


# ------------------------------------------------------------------ rulebook test


def test_rulebook_test_compares_the_findings_and_counts_their_clauses(tmp_path):
    folder = rules_copy(tmp_path)
    shutil.copytree(ROOT / "rules" / "tests", folder / "tests")
    tests = folder / "tests" / "batch.yaml"
    replace_in(tests, "figures: {hours: 26.54}", "figures: {hours: 26.55}")
    text = tests.read_text(encoding="utf-8")  # leave out the two batches over the SME's cap
    start = text.index("  - note: an SME due 140,000 yen in each of three cases")
    end = text.index("  - note: up to the cap exactly is no finding")
    tests.write_text(text[:start] + text[end:], encoding="utf-8")
    result = run("test", folder, "--require-coverage", "--lang", "en")
    assert result.exit_code == 1
    assert "batch.implausible-hours finding 1: figure hours: wanted 26.55, got 26.54" in result.output
    assert "not reached: batch.sme-honorarium-cap clause 1 (→ finding)" in result.output
    total = sum(len(r.clauses) for r in rulebook.load(folder).plan.rules) + 3  # the batch rules: 1 each
    assert f"clause coverage: {total - 1}/{total} clauses reached" in result.output


@pytest.mark.parametrize("compact", [True, False])
def test_a_case_a_batch_rule_cannot_read_is_an_invalid_input_and_its_statuses_are_not_counted(tmp_path, compact):
    def edit(folder: Path) -> None:
        replace_in(folder / "batch.rules", "sum hours = step.hours spread",
                   "sum hours = step.hours + hours_per_day - hours_per_day spread")
        replace_in(folder / "batch.rules", "value 24 hours from 2020-04-01", "value 24 hours from 2021-06-01")

    folder = rules_copy(tmp_path, edit)
    seed, later = the_seed(), the_seed() | {"case_id": "LATER", "as_of": "2021-06-30"}
    out = tmp_path / "out"
    result = run("audit", write_jsonl(tmp_path / "cases.jsonl", [seed, later]), "--out", out, "--jobs", "1",
                 "--rules", folder, *(["--compact"] if compact else []))
    assert result.exit_code == 2, result.output
    [error] = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert error["case_id"] == "SEED-EXAMPLE" and error["source"] == {"file": str(tmp_path / "cases.jsonl"), "line": 1}
    assert ("parameter `hours_per_day` has no value in force on 2021-03-31, which rule "
            "`batch.implausible-hours` reads") in error["errors"][0]["message"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["cases"] == 1 and summary["errors"] == 1
    assert {rule["rule"]: rule["pass"] for rule in summary["rules"]}["lancers.project-method"] == 1  # LATER's only


BEFORE = Path(__file__).parent / "checks-before"


def test_the_checks_of_before_give_the_same_bytes_as_the_code_before_batch_rules(tmp_path, monkeypatch):
    """duplicates.csv, hours.csv and summary.json's `duplicates`, `implausible_hours` and their
    totals, on 333 generated cases (5 experts, 30 ids repeated, one 4 times; `--hours-per-day 8`),
    equal what the hard-coded checks wrote (tests/unit/checks-before/, written by main at 341aa16)."""
    rng = random.Random(41)
    cases = [make_case(rng, i, expert=i % 5, days=25) for i in range(300)]
    cases += [copy.deepcopy(c) for c in cases[:30]] + [copy.deepcopy(cases[7]) for _ in range(3)]
    write_jsonl(tmp_path / "cases.jsonl", cases)
    monkeypatch.chdir(tmp_path)  # the places are written as the input is named
    audit("cases.jsonl", "--out", "out", "--jobs", "2", "--hours-per-day", "8", "--compact", "--chunk-size", "40")
    for name in ("duplicates.csv", "hours.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (BEFORE / name).read_bytes(), name
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    checks = {key: summary[key] for key in ("duplicates", "duplicates_total", "implausible_hours",
                                           "implausible_hours_total")}
    assert orjson.dumps(checks, option=orjson.OPT_INDENT_2) + b"\n" == (BEFORE / "summary-checks.json").read_bytes()
    assert summary["implausible_hours_total"] == 163 and summary["duplicates_total"] == 30


def test_a_batch_rule_that_cannot_be_evaluated_fails_its_test_with_the_reason_not_a_traceback(tmp_path):
    folder = rules_copy(tmp_path)
    (folder / "tests").mkdir(exist_ok=True)
    shutil.copytree(ROOT / "rules" / "tests" / "snapshots", folder / "tests" / "snapshots")
    batch = {"note": "before the program", "cases": [{"set": {"as_of": "2020-03-31"}}],
             "want": {"findings": {"batch.implausible-hours": []}}}
    (folder / "tests" / "batch.yaml").write_text(
        yaml.safe_dump({"base": "snapshots/base.yaml", "batches": [batch]}, allow_unicode=True), encoding="utf-8")
    result = run("test", folder, "--lang", "en")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert ("the batch rules could not be evaluated: parameter `hours_per_day` has no value in force"
            in result.output), result.output
    assert "バッチのルールを評価できませんでした: ルール `batch.implausible-hours` が読むパラメータ `hours_per_day` に" \
        in run("test", folder).output
    batch["want"] = {"error": "`hours_per_day` has no value in force"}
    (folder / "tests" / "batch.yaml").write_text(
        yaml.safe_dump({"base": "snapshots/base.yaml", "batches": [batch]}, allow_unicode=True), encoding="utf-8")
    assert run("test", folder).exit_code == 0


@pytest.mark.parametrize("jobs", ["1", "2"])  # (2: the batch rules are evaluated in a forked process)
def test_an_audit_whose_batch_rule_cannot_be_evaluated_still_writes_everything_and_says_why(tmp_path, jobs):
    """A batch judged on a day no value of `hours_per_day` covers: the case rules judge every case,
    the batch rule that reads the parameter has no findings and says why (summary.json, the page,
    the command's last lines, exit 2), and the other batch rules and every file are still written."""
    folder = rules_copy(tmp_path, lambda f: replace_in(f / "batch.rules", "value 24 hours from 2020-04-01",
                                                       "value 24 hours from 2021-06-01"))
    seed = the_seed()
    cases = [seed, seed | {"case_id": "AGAIN"}, seed]  # a duplicate id: the other rule still finds it
    out = tmp_path / "out"
    result = run("audit", write_jsonl(tmp_path / "cases.jsonl", cases), "--out", out, "--jobs", jobs,
                 "--rules", folder, "--lang", "en")
    assert result.exit_code == 2, result.output
    assert ("the batch rule `batch.implausible-hours` could not be evaluated, and has no findings: parameter "
            "`hours_per_day` has no value in force") in result.output
    assert "3 cases judged" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    found = {section["rule"]: section for section in summary["findings"]}
    assert found["batch.implausible-hours"]["entries"] == [] and "hours_per_day" in \
        found["batch.implausible-hours"]["error"]["ja"]
    assert "error" not in found["batch.duplicate-case-id"]
    assert [e["key"] for e in found["batch.duplicate-case-id"]["entries"]] == [{"case_id": "SEED-EXAMPLE"}]
    assert summary["cases"] == 3 and summary["implausible_hours"] == []
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "この規則はこのバッチについて評価できませんでした" in page or \
        "This rule could not be evaluated over this batch" in page
    assert len((out / "results.jsonl").read_text(encoding="utf-8").splitlines()) == 3


# ------------------------------------------- a rule whose rows are the ledger's cases


@pytest.mark.parametrize("edit, keyed", [
    (None, True),
    (("  group by case_id\n", "  where sme.name is set\n  group by case_id\n"), False),  # not every case
    (("  group by case_id\n", "  group by sme.name as case_id\n"), False),  # another field, named so
    (("  group by case_id\n", "  group by case_id, sme.name as sme\n"), False),  # more than the id
    (("  count times\n", "  count times\n  sum due = payout.honorarium_jpy\n"), False),  # a value to add up
])
def test_only_a_rule_counting_every_case_by_its_own_id_is_read_from_the_ledgers_cases(tmp_path, edit, keyed):
    """`BatchRulePlan.case_keyed`: `group by case_id` over cases, with no `where` and counts only,
    has one row per judged case, its id, which the audit's table of cases holds already; any
    other shape keeps rows of its own."""
    def change(folder):
        if edit is not None:
            replace_in(folder / "batch.rules", *edit)

    book = rulebook.load(rules_copy(tmp_path, change))
    shapes = {rule.id: rule.case_keyed for rule in book.plan.batch_rules}
    assert shapes == {"batch.duplicate-case-id": keyed, "batch.implausible-hours": False,
                      "batch.sme-honorarium-cap": False}


def test_the_duplicate_ids_read_from_the_cases_are_those_of_their_own_rows_even_after_an_earlier_versions_rows(
        tmp_path, monkeypatch):
    """A case adds no row to the duplicate-id rule (case-keyed): the audit reads each case's id
    from its table of cases, and `Rulebook.find` from the cases it is given; both find the
    same. A folder begun by the version that kept them (rows in `batch_0`) and
    resumed gives the same files: those rows are not read, so nothing is counted twice."""
    rng = random.Random(43)
    cases = [make_case(rng, i, expert=i % 5, days=25) for i in range(120)]
    cases += [copy.deepcopy(c) for c in cases[:12]] + [copy.deepcopy(cases[7]) for _ in range(2)]
    rng.shuffle(cases)
    write_jsonl(tmp_path / "cases.jsonl", cases)
    monkeypatch.chdir(tmp_path)
    audit("cases.jsonl", "--out", "out", "--jobs", "1", "--compact", "--chunk-size", "25")
    book = rulebook.load()
    cases_judged = judged(book, cases)
    # a case adds no row to the case-keyed rule (index 0), and its rows to the others
    assert {index for case in cases_judged for index, _rows in book.batch.rows(*case)} == {1, 2}
    expected = by_rule(book.find(cases_judged))["batch.duplicate-case-id"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert by_rule(summary["findings"])["batch.duplicate-case-id"] == expected
    assert len(expected) == 12 and {e["figures"]["times"] for e in expected} == {2, 4}
    import sqlite3

    db = sqlite3.connect(tmp_path / "out" / ".ledger.sqlite")
    assert db.execute("SELECT COUNT(*) FROM batch_0").fetchone() == (0,)
    # What the version before wrote: every case's id in the rule's own table.
    db.execute("INSERT INTO batch_0 SELECT seq, case_id, case_id FROM cases")
    db.commit()
    db.close()
    before = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir() if not path.name.startswith(".")}
    audit("cases.jsonl", "--out", "out", "--jobs", "1", "--compact", "--chunk-size", "25", "--resume")
    after = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir() if not path.name.startswith(".")}
    assert after == before


@pytest.mark.parametrize("limit", [4096, 100, 10])
def test_the_groups_of_one_row_left_unread_change_no_finding(tmp_path, monkeypatch, limit):
    """An audit's rules whose clauses read no key (`BatchRules.lone`) read, of the groups of one
    row, only those whose values a clause picks (`checks._rows`): the same findings, in the same
    order, as every row read — with lone SMEs over their cap, SMEs of several cases, rows with no
    SME, a value kept as a real beside the same whole number, and case ids given more than once;
    the lone groups' values found among all the rows' (19 + 190), among the lone groups' alone
    (19, with a limit of 100), or too many to decide first (a limit of 10: every row read)."""
    from rulebook.apps.audit import checks
    from rulebook.apps.audit.checks import _rows
    from rulebook.apps.audit.ledger import Ledger

    book = rulebook.load()
    rules = book.plan.batch_rules
    ledger = Ledger(tmp_path)
    ledger.prepare_batch([book.batch.layout(r.index) for r in rules], [r.index for r in rules if r.case_keyed])
    rng = random.Random(12)
    cap = next(r for r in rules if r.id == "batch.sme-honorarium-cap").index
    dup = next(r for r in rules if r.id == "batch.duplicate-case-id").index
    rows = []
    for seq in range(600):
        sme = f"SME {seq}" if seq < 400 else f"SME shared {seq % 60}" if seq < 590 else None
        due = rng.choice([0, 50_000, 100_000, 150_000]) if seq < 400 else 1_000 * seq
        rows.append((seq, f"C-{seq % 550:04d}", sme, due, rng.choice([0, 100_000, 180_000, 250_000])))
    rows += [(600, "C-0600", "SME real", 250_000.0, 60_000), (601, "C-0601", "SME whole", 250_000, 60_000),
             (602, "C-0602", "SME real under", 200_000.0, 60_000)]
    ledger.db.executemany(f"INSERT INTO batch_{cap} VALUES (?, ?, ?, ?, ?)", rows)
    ledger.db.executemany("INSERT INTO cases (seq, case_id) VALUES (?, ?)", [(seq, case_id) for seq, case_id, *_ in rows])
    ledger.index()
    params = book.batch.parameters(dt.date(2024, 4, 1))
    monkeypatch.setattr(checks, "_LONE_VALUES", limit)
    for index, lone_rows in ((cap, 186), (dup, 100)):
        columns, order = book.batch.columns(index)
        every = list(book.batch.findings(index, ledger.batch_rows(index, columns, order), params))
        read = list(_rows(book.batch, ledger, params, rules[index], columns, order))
        if index == dup or limit > 10:
            assert len(read) < len(rows) - lone_rows  # (most lone groups left unread)
        else:
            assert len(read) == len(rows)
        assert list(book.batch.findings(index, iter(read), params)) == every
        assert len(every) > 20
        if index == cap:
            found = {f.key[0] for f in every}
            assert {"SME real", "SME whole"} <= found and "SME real under" not in found and None in found
    ledger.close()
