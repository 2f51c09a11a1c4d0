"""The constructs further-rules.md needed, evaluated for real on a small rulebook: arithmetic
that goes on after `rounded`, `min` and `max`, months as the Civil Code counts them, records as
parameters' values (tables and lists of them, `keys of`, `first … where`, a lookup guarded
inline), the payout's own parameters' day, lets that read earlier amounts, `previous`, titles
of amounts, and a parameter with no value on the day a rule or an amount reads it."""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import pytest

import rulebook
from rulebook.language.diagnostic import RulebookError

HEADER = '''
rulebook "further" version "1" title ja "言語" en "Language"
  parameters dated as_of
  stage s1 title ja "段階" en "Stage"

record case
  format: text, exactly "rulebook.case/v1"
  case_id: text
  as_of: date
  industry: optional text
  capital_jpy: optional yen
  employees: optional integer
  rate_jpy: optional yen per hour
  paid_jpy: yen
  received_on: optional date
  qualifications: list of text, default empty,
    labels {"sme_consultant": ja "中小企業診断士" en "SME consultant", "ipa_exam": ja "情報処理技術者試験" en "IPA exam"}
  steps: list of step, default empty, numbered by number

record step
  number: integer
  hours: hours
  paid_jpy: yen
  done_on: optional date

record size_limit
  capital_jpy: yen
  employees: integer

record tier
  over_jpy: yen
  up_to_jpy: optional yen
  rate: percent

record period
  name: text
  first_day: date
  last_day: date

parameter hourly: yen per hour
  title ja "単価" en "Rate"
  source "s"
  value 1000 yen per hour from 2020-01-01

parameter size_limits: table of size_limit by text
  title ja "規模の上限" en "Size limits"
  source "s"
  value {
    "retail": {capital_jpy: 50000000 yen, employees: 50},
    "software": {capital_jpy: 300000000 yen, employees: 300}
  } from 2020-01-01

parameter fee_tiers: list of tier
  title ja "手数料の段階" en "Fee tiers"
  source "s"
  value [
    {over_jpy: 0 yen, up_to_jpy: 100000 yen, rate: 20%},
    {over_jpy: 100000 yen, up_to_jpy: 200000 yen, rate: 10%},
    {over_jpy: 200000 yen, rate: 5%}
  ] from 2020-01-01 until 2022-09-30
  value [{over_jpy: 0 yen, rate: 16.5%}] from 2022-10-01

parameter periods: list of period
  title ja "期" en "Periods"
  source "s"
  value [
    {name: "第1期", first_day: 2020-09-01, last_day: 2021-02-28},
    {name: "第Ⅱ期", first_day: 2021-03-01, last_day: 2022-02-28}
  ] from 2020-01-01

parameter longest: months
  title ja "最長期間" en "Longest support"
  source "s"
  value 6 months from 2020-01-01

parameter cap_jpy: yen
  title ja "上限" en "Cap"
  source "s"
  value 300000 yen from 2020-01-01
'''


def book_with(tmp_path, text: str, header: str = HEADER):
    (tmp_path / "header.rules").write_text(header, encoding="utf-8")
    (tmp_path / "rules.rules").write_text(textwrap.dedent(text), encoding="utf-8")
    return rulebook.load(tmp_path, cache=False)


def refused(tmp_path, text: str) -> list:
    with pytest.raises(RulebookError) as caught:
        book_with(tmp_path, text)
    return caught.value.diagnostics


def case(**extra) -> dict:
    base = {"format": "rulebook.case/v1", "case_id": "X", "as_of": "2021-03-01", "paid_jpy": 1000,
            "steps": [{"number": 1, "hours": 2.5, "paid_jpy": 80000, "done_on": "2021-01-20"},
                      {"number": 2, "hours": 1, "paid_jpy": 80000},
                      {"number": 3, "hours": 1, "paid_jpy": 80000}]}
    base.update(extra)
    return base


def result(verdict: dict, rule: str, subject: str = "case") -> dict:
    return next(r for r in verdict["results"] if r["rule"] == rule and r["subject"] == subject)


def shows(tmp_path, expr: str, **facts) -> tuple[str, str]:
    """The text of `{expr}` in a message, in Japanese and English."""
    book = book_with(tmp_path, f'''
        rule x.show on case
          stage s1
          title ja "表示" en "Show"
          source "s"
          otherwise pass
            message ja "{{{expr}}}" en "{{{expr}}}"
        ''')
    out = result(book.judge(case(**facts)), "x.show")
    return out["message"]["ja"], out["message"]["en"]


# ---------------------------------------------------------------- arithmetic

@pytest.mark.parametrize("expr, ja", [
    ("1000 yen * 12.5% rounded down - 5 yen", "120円"),        # (125 rounded down) - 5
    ("1000 yen * 12.5% - 5 yen rounded up", "120円"),          # (125 - 5) rounded up
    ("1000 yen * 12.5% rounded down - 0.5 yen rounded up", "125円"),  # ((125) - 0.5) rounded up
    ("10 yen + 1 yen * 0.5 rounded down + 1 yen", "11円"),     # (10 + 0.5) rounded down + 1
    ("min(3 yen, 1 yen, 2 yen)", "1円"),
    ("min(3 yen, 2 yen, 1 yen)", "1円"),                      # the third of three
    ("max(1 yen, 2 yen, 3 yen)", "3円"),
    ("max(3 yen, 7 yen) - min(1 yen, 2 yen)", "6円"),
    ("max(0 yen, 100 yen - 300 yen)", "0円"),
    ("max(2021-01-31, 2021-02-01)", "2021年2月1日"),
    ("min(1, 2.5)", "1"),
    ("2021-01-31 + 1 month", "2021年2月28日"),
    ("2021-02-28 + longest", "2021年8月31日"),
    ("longest + 2021-08-30", "2022年2月28日"),
    ("longest * 2 + 1 month", "13か月"),
    ("list of s.paid_jpy - 80000 yen for s in steps", "0円、0円、0円"),  # every value, a zero too
])
def test_arithmetic_rounding_min_max_and_months(tmp_path, expr, ja):
    assert shows(tmp_path, expr)[0] == ja


def test_a_message_says_what_it_likes_of_a_missing_value(tmp_path):
    assert shows(tmp_path, 'capital_jpy if missing "記録なし"') == ("記録なし", "記録なし")
    assert shows(tmp_path, 'capital_jpy if missing "記録なし"', capital_jpy=1000) == ("1,000円", "1,000 yen")
    assert shows(tmp_path, 'received_on if missing "未受理"', received_on="2021-01-21")[0] == "2021年1月21日"
    # in a condition it stays an error to mix kinds
    diagnostics = refused(tmp_path, '''
        rule x.mixed on case
          stage s1
          title ja "混" en "Mixed"
          source "s"
          when (capital_jpy if missing "なし") = "なし" then pass
            message ja "a" en "a"
          otherwise fail
            message ja "b" en "b"
        ''')
    assert [d.code for d in diagnostics] == ["RB301"]


def test_the_items_a_let_keeps_of_a_labelled_field_are_shown_by_their_labels(tmp_path):
    book = book_with(tmp_path, '''
        rule x.held on case
          stage s1
          title ja "資格" en "Held"
          source "s"
          let held = each q in qualifications where q != "none"
          let one = first q in qualifications where q != "none"
          when one is set then pass
            message ja "{held} / {one}" en "{held} / {one}"
          otherwise fail
            message ja "なし" en "none"
        ''')
    out = result(book.judge(case(qualifications=["ipa_exam", "sme_consultant", "pmp"])), "x.held")
    assert out["message"]["ja"] == "情報処理技術者試験、中小企業診断士、pmp / 情報処理技術者試験"
    assert out["message"]["en"] == "IPA exam, SME consultant, pmp / IPA exam"


def test_min_and_max_of_values_that_may_be_missing_may_be_missing(tmp_path):
    book = book_with(tmp_path, '''
        rule x.cap on case
          stage s1
          title ja "上限" en "Cap"
          source "s"
          let rate_cap_jpy = max(0 yen, rate_jpy * 10 hours - paid_jpy rounded down)
          when rate_cap_jpy is missing then not applicable
            message ja "単価なし" en "no rate"
          otherwise pass
            message ja "{rate_cap_jpy} {min(rate_cap_jpy, paid_jpy)}" en "{rate_cap_jpy}"
        ''')
    assert result(book.judge(case()), "x.cap")["status"] == "not_applicable"
    out = result(book.judge(case(rate_jpy=150)), "x.cap")
    assert out["message"]["ja"] == "500円 500円" and out["facts"]["rate_cap_jpy"] == 500
    assert result(book.judge(case(rate_jpy=50)), "x.cap")["message"]["ja"] == "0円 0円"


@pytest.mark.parametrize("expr, code, words", [
    ("min(1 yen, 2)", "RB301", "`min` of yen and integer"),
    ("max(1 yen, 2021-01-01)", "RB301", "`max` of yen and date"),
    ("min(1 yen)", "RB309", "`min` takes two values or more"),
    ("mni(1 yen, 2 yen)", "RB202", "unknown function `mni`"),
    ("min(rate_jpy, 1 yen per hour) > 0 yen per hour", "RB302", "may be missing"),
    ("2021-01-31 - 1 month", "RB301", "cannot subtract date and months"),
    ("keys of hourly", "RB301", "only a table has keys"),
    ("previous paid_jpy", "RB314", "`previous` reads an amount of the step before"),
    ('{capital_jpy: 1 yen}', "RB314", "a record can only be a parameter's value"),
])
def test_bad_uses_are_diagnostics(tmp_path, expr, code, words):
    diagnostics = refused(tmp_path, f'''
        rule x.bad on case
          stage s1
          title ja "悪" en "Bad"
          source "s"
          when {expr} then pass
            message ja "a" en "a"
          otherwise fail
            message ja "b" en "b"
        ''')
    assert code in [d.code for d in diagnostics], [str(d) for d in diagnostics]
    assert any(words in d.message for d in diagnostics), [str(d) for d in diagnostics]


# ------------------------------------------------------------------- records

SIZE = '''
    rule sme.size on case
      stage s1
      title ja "規模" en "Size"
      source "s"
      when industry is missing then pending
        message ja "業種なし" en "no industry"
      when industry not in keys of size_limits then fail
        message ja "{industry}は表にない({keys of size_limits})" en "{industry} is not among {keys of size_limits}"
      when size_limits[industry] is set and capital_jpy is set
           and capital_jpy <= size_limits[industry].capital_jpy then pass
        message ja "資本金{capital_jpy}は上限{size_limits[industry].capital_jpy}以下"
                en "capital {capital_jpy} within {size_limits[industry]}"
      when size_limits[industry] is set and employees is set
           and employees <= size_limits[industry].employees then pass
        message ja "従業員{employees}人" en "{employees} employees"
      otherwise fail
        message ja "上限超過: {size_limits}" en "over the limits: {size_limits}"
    '''


def test_a_table_of_records_looked_up_and_guarded_inline(tmp_path):
    book = book_with(tmp_path, SIZE)
    assert result(book.judge(case()), "sme.size")["status"] == "pending"
    unknown = result(book.judge(case(industry="mining")), "sme.size")
    assert unknown["status"] == "fail" and unknown["message"]["en"] == "mining is not among retail, software"
    small = result(book.judge(case(industry="retail", capital_jpy=50_000_000)), "sme.size")
    assert small["status"] == "pass"
    assert small["message"]["ja"] == "資本金50,000,000円は上限50,000,000円以下"
    assert small["message"]["en"] == "capital 50,000,000 yen within capital_jpy: 50,000,000 yen, employees: 50"
    few = result(book.judge(case(industry="retail", capital_jpy=50_000_001, employees=50)), "sme.size")
    assert few["status"] == "pass" and few["clause"] == 4
    big = result(book.judge(case(industry="retail", capital_jpy=50_000_001, employees=51)), "sme.size")
    assert big["status"] == "fail"
    assert big["message"]["ja"] == ("上限超過: retail: (capital_jpy: 50,000,000円、employees: 50)、"
                                    "software: (capital_jpy: 300,000,000円、employees: 300)")
    assert big["message"]["en"] == ("over the limits: retail: (capital_jpy: 50,000,000 yen, employees: 50), "
                                    "software: (capital_jpy: 300,000,000 yen, employees: 300)")


def test_a_lookup_is_not_known_to_be_set_without_a_guard(tmp_path):
    diagnostics = refused(tmp_path, SIZE.replace("size_limits[industry] is set and ", ""))
    assert {d.code for d in diagnostics} == {"RB302"}
    assert "`size_limits[industry]` may be missing" in diagnostics[0].message
    # an earlier clause that takes the cases where it is missing narrows it too
    book = book_with(tmp_path, SIZE.replace("when industry not in keys of size_limits then fail",
                                            "when size_limits[industry] is missing then fail")
                     .replace("size_limits[industry] is set and ", ""))
    assert result(book.judge(case(industry="retail", employees=3)), "sme.size")["status"] == "pass"
    # a literal key is a key of its own: guarded, it narrows too
    book = book_with(tmp_path, '''
        rule x.retail on case
          stage s1
          title ja "小売" en "Retail"
          source "s"
          when size_limits["retail"] is set and paid_jpy <= size_limits["retail"].capital_jpy then pass
            message ja "a" en "a"
          otherwise fail
            message ja "b" en "b"
        ''')
    assert result(book.judge(case()), "x.retail")["status"] == "pass"


def test_first_of_a_list_of_records(tmp_path):
    book = book_with(tmp_path, '''
        rule case.period on case
          stage s1
          title ja "期" en "Period"
          source "s"
          let period = first p in periods where p.first_day <= received_on and received_on <= p.last_day
          when received_on is missing then pending
            message ja "未受理" en "not received"
          when period is missing then fail
            message ja "{received_on}はどの期にも入りません" en "{received_on} is in no period"
          otherwise pass
            message ja "{period.name}(最終日{period.last_day})" en "{period.name} (to {period.last_day})"
        ''')
    assert result(book.judge(case()), "case.period")["status"] == "pending"
    first = result(book.judge(case(received_on="2021-02-28")), "case.period")
    assert first["message"]["ja"] == "第1期(最終日2021年2月28日)"
    second = result(book.judge(case(received_on="2021-03-01")), "case.period")
    assert second["message"]["en"] == "第Ⅱ期 (to 2022-02-28)"
    outside = result(book.judge(case(received_on="2020-08-31")), "case.period")
    assert outside["status"] == "fail"


@pytest.mark.parametrize("value, code, words", [
    ('{capital_jpy: 1 yen}', "RB309", "has no `employees`"),
    ('{capital_jpy: 1 yen, employees: 1, staff: 2}', "RB201", "unknown field `staff` on size_limit"),
    ('{capital_jpy: 1 yen, capital_jpy: 2 yen, employees: 1}', "RB311", "given twice"),
    ('{capital_jpy: 1, employees: 1}', "RB308", "not yen"),
    ('"retail"', "RB308", "not size_limit"),
])
def test_bad_record_values_are_diagnostics(tmp_path, value, code, words):
    header = HEADER + f'''
parameter one_limit: size_limit
  title ja "一" en "One"
  source "s"
  value {value} from 2020-01-01
'''
    with pytest.raises(RulebookError) as caught:
        book_with(tmp_path, "", header)
    assert [d.code for d in caught.value.diagnostics] == [code]
    assert words in caught.value.diagnostics[0].message


def test_records_survive_the_plan_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RULEBOOK_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "header.rules").write_text(HEADER, encoding="utf-8")
    (folder / "rules.rules").write_text(textwrap.dedent(SIZE), encoding="utf-8")
    first = rulebook.load(folder).judge(case(industry="retail", capital_jpy=1, employees=99))
    assert list((tmp_path / "cache").glob("*.json"))
    assert rulebook.load(folder).judge(case(industry="retail", capital_jpy=1, employees=99)) == first


# -------------------------------------------------------------------- payout

TIERED = '''
    payout on each step
      parameters dated received_on if missing as_of
      let base_jpy = hourly * step.hours rounded down
      amount paid_to_date_jpy = previous paid_to_date_jpy + step.paid_jpy
        title ja "累計支払額" en "Paid to date"
      amount fee_to_date_jpy = sum of max(0 yen, min(paid_to_date_jpy, tier.up_to_jpy if missing paid_to_date_jpy)
                                              - tier.over_jpy) * tier.rate
                               for tier in fee_tiers rounded down
        title ja "累計手数料" en "Fee to date"
      amount fee_jpy = fee_to_date_jpy - previous fee_to_date_jpy
        title ja "手数料" en "Fee"
      let net_jpy = step.paid_jpy - fee_jpy
      amount honorarium_jpy = min(base_jpy, net_jpy)
        title ja "謝金" en "Honorarium"

    payout on case
      amount fee_jpy = total fee_jpy
        title ja "手数料の合計" en "Fees"
      let left_jpy = cap_jpy - fee_jpy
      amount honorarium_jpy = min(total honorarium_jpy, left_jpy)
        title ja "支払われる謝金" en "Honorarium due"
    '''


def test_a_tiered_fee_shared_out_by_step_with_previous_amounts(tmp_path):
    book = book_with(tmp_path, TIERED)
    out = book.judge(case())
    steps = out["payout"]["steps"]
    assert [s["paid_to_date_jpy"] for s in steps] == [80000, 160000, 240000]
    # F(80,000) = 16,000; F(160,000) = 20,000 + 6,000; F(240,000) = 20,000 + 10,000 + 2,000
    assert [s["fee_to_date_jpy"] for s in steps] == [16000, 26000, 32000]
    assert [s["fee_jpy"] for s in steps] == [16000, 10000, 6000]
    assert [s["honorarium_jpy"] for s in steps] == [2500, 1000, 1000]
    assert out["payout"]["fee_jpy"] == 32000
    assert out["payout"]["honorarium_jpy"] == 4500  # a let of the case's payout reads the earlier amount


def test_the_payout_reads_its_parameters_on_its_own_day(tmp_path):
    book = book_with(tmp_path, TIERED)
    # judged in 2023, but the contract was received in 2021: the 2021 tiers
    assert book.judge(case(as_of="2023-01-10", received_on="2021-01-21"))["payout"]["fee_jpy"] == 32000
    # received from 2022-10-01: a flat 16.5% of 80,000 a step (13,200 each)
    flat = book.judge(case(as_of="2023-01-10", received_on="2022-10-01"))["payout"]
    assert [s["fee_jpy"] for s in flat["steps"]] == [13200, 13200, 13200]
    # not received yet: the tiers of the day the case is judged
    assert book.judge(case(as_of="2023-01-10"))["payout"]["fee_jpy"] == 39600


def test_every_amount_has_a_title_shown_for_it(tmp_path):
    diagnostics = refused(tmp_path, TIERED.replace('        title ja "手数料" en "Fee"\n', ""))
    assert [(d.code, d.message) for d in diagnostics] == [("RB309", "`fee_jpy` has no title")]
    book = book_with(tmp_path, TIERED)
    assert book.plan.amount_titles["honorarium_jpy"] == {"ja": "支払われる謝金", "en": "Honorarium due"}
    assert book.plan.step_amount_titles["fee_to_date_jpy"] == {"ja": "累計手数料", "en": "Fee to date"}
    words = book.vocabulary()
    assert words["ja"]["amount"]["fee_jpy"] == "手数料の合計" and words["en"]["amount"]["honorarium_jpy"] == "Honorarium due"


def test_payout_names_are_seen_after_they_are_written(tmp_path):
    diagnostics = refused(tmp_path, '''
        payout on case
          let early_jpy = later_jpy + 1 yen
          amount later_jpy = 1 yen
            title ja "後" en "Later"
          amount early_total_jpy = early_jpy
            title ja "前" en "Early"
        ''')
    assert [d.code for d in diagnostics] == ["RB202"]
    assert "unknown name `later_jpy`" in diagnostics[0].message


# ---------------------------------------------------- parameters not in force

def test_a_rule_reading_a_parameter_not_in_force_fails_naming_it(tmp_path):
    book = book_with(tmp_path, '''
        rule step.dated on each step
          stage s1
          title ja "期日" en "Dated"
          source "s"
          parameters dated step.done_on if missing as_of
          when step.hours * hourly > 0 yen then pass
            message ja "a" en "a"
          otherwise fail
            message ja "b" en "b"
        ''')
    out = book.judge(case(steps=[{"number": 1, "hours": 1, "paid_jpy": 1, "done_on": "2019-12-31"},
                                 {"number": 2, "hours": 1, "paid_jpy": 1}]))
    first, second = result(out, "step.dated", "step:1"), result(out, "step.dated", "step:2")
    assert (first["status"], second["status"]) == ("fail", "pass")
    assert first["facts"] == {"parameter": "hourly", "day": "2019-12-31"}
    assert first["message"]["en"].startswith("The parameter `hourly` (Rate) has no value in force on 2019-12-31")
    assert "step.dated" in first["message"]["en"] and "「期日」(step.dated)" in first["message"]["ja"]
    assert out["verdict"] == "ineligible"
    compact = book.judge_compact(case(steps=[{"number": 1, "hours": 1, "paid_jpy": 1, "done_on": "2019-12-31"}]))
    assert b'"facts":{"parameter":"hourly","day":"2019-12-31"}' in compact[0][0]


def test_a_parameter_only_a_message_reads_leaves_the_status_and_says_it_has_no_value(tmp_path):
    """The decision does not read `hourly`; the message does, on a day it has no value: the
    result keeps its status, and its message names the parameter and that day (no fix)."""
    book = book_with(tmp_path, '''
        rule step.told on each step
          stage s1
          title ja "説明" en "Told"
          source "s"
          parameters dated step.done_on if missing as_of
          when step.paid_jpy > 0 yen then pass
            message ja "{hourly}" en "{hourly}"
          otherwise fail
            message ja "b" en "b"
        ''')
    out = book.judge(case(steps=[{"number": 1, "hours": 1, "paid_jpy": 1, "done_on": "2019-12-31"}]))
    told = result(out, "step.told", "step:1")
    assert told["status"] == "pass" and out["verdict"] == "eligible"
    assert told["message"]["en"] == ("This result cannot be explained: the parameter `hourly` (Rate) has no value "
                                     "in force on 2019-12-31.")
    assert told["message"]["ja"] == "この結果の説明に必要なパラメータ「単価」(hourly)には2019年12月31日に有効な値がありません。"


LOOPS = '''
    rule x.loops on case
      stage s1
      title ja "繰り返し" en "Loops"
      source "s"
      let dear = count of (each s in steps where s.paid_jpy > hourly * s.hours)
      when any s in steps where s.paid_jpy > hourly * s.hours then fail
        message ja "{dear}件" en "{dear} steps"
      when sum of s.paid_jpy for s in steps > cap_jpy then fail
        message ja "合計" en "total"
      otherwise pass
        message ja "なし" en "none"
    '''


def test_a_loop_body_sets_the_facts_it_reads_and_reads_a_parameter_only_when_it_runs(tmp_path):
    """A quantifier or an aggregate runs as a loop of its own (`compile.loop_helper`): the facts
    its body reads are shown as read, the parameter it reads is read only when the body runs
    (an empty list reads none, even on a day it has no value), and a let computed in a message
    after it gives the same count."""
    book = book_with(tmp_path, LOOPS)
    dear = {"number": 1, "hours": 1, "paid_jpy": 5000}
    out = result(book.judge(case(steps=[dear, {"number": 2, "hours": 2, "paid_jpy": 100}])), "x.loops")
    assert (out["status"], out["message"]["en"]) == ("fail", "1 steps")
    assert out["facts"]["hourly"] == 1000
    cheap = result(book.judge(case(steps=[{"number": 1, "hours": 1, "paid_jpy": 100}])), "x.loops")
    assert cheap["status"] == "pass" and "hourly" in cheap["facts"]
    none = result(book.judge(case(steps=[])), "x.loops")
    assert none["status"] == "pass" and "hourly" not in none["facts"]
    # before any parameter has a value: with no step `hourly` is not read, and the rule goes on to
    # the sum's clause, which names `cap_jpy`; a step reads `hourly`, and the rule fails naming it
    early = result(book.judge(case(as_of="2019-06-01", steps=[])), "x.loops")
    assert early["status"] == "fail" and early["facts"] == {"parameter": "cap_jpy", "day": "2019-06-01"}
    early = result(book.judge(case(as_of="2019-06-01", steps=[dear])), "x.loops")
    assert early["status"] == "fail" and early["facts"] == {"parameter": "hourly", "day": "2019-06-01"}
    total = result(book.judge(case(steps=[{"number": n, "hours": 200, "paid_jpy": 160000} for n in (1, 2)])),
                   "x.loops")
    assert (total["status"], total["message"]["en"]) == ("fail", "total")


def test_a_loop_is_given_only_the_locals_its_body_reads(tmp_path):
    """A loop in a function of its own is given the caller's locals its body reads, and nothing
    of the module's own (a helper, a builtin, another loop's function, the constants): an inner
    loop is called from the outer one's function by its name."""
    import ast

    from rulebook.engine import codegen

    book = book_with(tmp_path, '''
        rule x.nested on case
          stage s1
          title ja "入れ子" en "Nested"
          source "s"
          when any s in steps where count of (each t in steps where t.hours > s.hours) > 1 then fail
            message ja "a" en "a"
          when received_on is set and (any s in steps where s.done_on is set and s.done_on + longest < received_on) then fail
            message ja "b" en "b"
          otherwise pass
            message ja "c" en "c"
        ''')
    tree = ast.parse(book.plan.source)
    loops = {fn.name: fn for fn in tree.body if isinstance(fn, ast.FunctionDef) and fn.name.startswith("_loop")}
    module_names = set(codegen.BUILTINS) | set(codegen.HELPERS) | set(codegen.TABLES) | set(loops)
    assert len(loops) >= 3
    for fn in loops.values():
        assert not {a.arg for a in fn.args.args} & module_names, ast.unparse(fn)
    calls = {n.func.id for fn in loops.values() for n in ast.walk(fn)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert calls & set(loops), "an inner loop is called from the outer loop's function"
    steps = [{"number": n, "hours": h, "paid_jpy": 1} for n, h in ((1, 1), (2, 2), (3, 3))]
    assert result(book.judge(case(steps=steps)), "x.nested")["status"] == "fail"
    assert result(book.judge(case(steps=steps[:2])), "x.nested")["status"] == "pass"
    late = [{"number": 1, "hours": 1, "paid_jpy": 1, "done_on": "2020-01-01"}]
    assert result(book.judge(case(steps=late, received_on="2020-08-01")), "x.nested")["status"] == "fail"
    assert result(book.judge(case(steps=late, received_on="2020-06-01")), "x.nested")["status"] == "pass"


def test_an_amount_reading_a_parameter_not_in_force_is_zero_with_a_warning(tmp_path):
    book = book_with(tmp_path, TIERED)
    out = book.judge(case(as_of="2019-06-01"))
    assert out["format"] == "rulebook.verdict/v1"
    assert [s["honorarium_jpy"] for s in out["payout"]["steps"]] == [0, 0, 0]
    assert out["payout"]["honorarium_jpy"] == 0
    assert any("`hourly`" in w and "2019-06-01" in w and "Honorarium" in w for w in out["warnings"])
    assert any("「謝金」" in w["ja"] and "2019年6月1日" in w["ja"] for w in out["warning_messages"])
    assert len(out["warnings"]) == len(set(out["warnings"]))  # once per amount, not once per step


@pytest.mark.parametrize("dated, daily", [
    ("step.done_on if missing as_of", False),  # a fixed day, or the judging day: editions' days suffice
    ("as_of", False),
    ("as_of + 1 day", True),                   # computed from the judging day: any day may change it
    ("step.done_on if missing as_of + 1 day", True),
])
def test_a_day_of_the_case_defaulting_to_the_as_of_date_needs_no_daily_judging(tmp_path, dated, daily):
    book = book_with(tmp_path, f'''
        rule step.dated on each step
          stage s1
          title ja "期日" en "Dated"
          source "s"
          parameters dated {dated}
          when step.hours * hourly > 0 yen then pass
            message ja "a" en "a"
          otherwise fail
            message ja "b" en "b"

        payout on case
          parameters dated {dated.replace("step.done_on", "received_on")}
          amount hourly_jpy = hourly * 1 hour rounded down
            title ja "単価" en "Rate"
        ''')
    assert book.plan.rules[0].daily is daily
    assert book.plan.daily is daily


def test_iterating_over_a_table_by_its_keys_with_a_lookup_guarded_inline(tmp_path):
    """docs/language.md's form: `any k in keys of t where t[k] is set and t[k].field …`."""
    book = book_with(tmp_path, '''
        rule x.any on case
          stage s1
          title ja "任意" en "Any"
          source "s"
          let big = each k in keys of size_limits
                      where size_limits[k] is set and size_limits[k].employees > 100
          when any k in keys of size_limits where size_limits[k] is set and size_limits[k].capital_jpy > paid_jpy
               then pass
            message ja "{big}" en "{big}"
          otherwise fail
            message ja "なし" en "none"
        ''')
    out = result(book.judge(case()), "x.any")
    assert out["status"] == "pass" and out["message"]["en"] == "software"
    assert result(book.judge(case(paid_jpy=300_000_000)), "x.any")["status"] == "fail"


@pytest.mark.parametrize("test, holds_for, fails_for", [
    ("is blank", ["", "  "], ["x", " x "]),
    ("is not blank", ["x", " x "], ["", "  "]),
])
def test_a_text_is_blank_when_it_holds_only_spaces(tmp_path, test, holds_for, fails_for):
    book = book_with(tmp_path, f'''
        rule x.blank on case
          stage s1
          title ja "空白" en "Blank"
          source "s"
          when industry is set and industry {test} then pass
            message ja "a" en "holds"
          otherwise fail
            message ja "a" en "not"
        ''')
    assert [result(book.judge(case(industry=text)), "x.blank")["status"] for text in holds_for + fails_for] == \
        ["pass"] * len(holds_for) + ["fail"] * len(fails_for)


def test_a_raw_verdict_writes_a_parameter_s_records_as_the_json_ready_one(tmp_path):
    """`dumps` of a raw verdict (facts left as they are) gives the JSON-ready verdict's JSON when a
    fact is a parameter's list of records, even with a text of more than 200 characters in one of
    them (shortened there, as in any list), and a decimal and a date; a text fact is whole."""
    from rulebook.output.explain import dumps

    long_name = "第" + "Ⅱ" * 240 + "期"
    header = HEADER.replace('{name: "第Ⅱ期", first_day: 2021-03-01', '{name: "' + long_name + '", first_day: 2021-03-01')
    book = book_with(tmp_path, '''
        rule x.periods on case
          stage s1
          title ja "期" en "Periods"
          source "s"
          when (any p in periods where p.first_day > 2021-01-01) and (any t in fee_tiers where t.rate > 10%)
               and industry is set then pass
            message ja "a" en "periods"
          otherwise fail
            message ja "a" en "none"
        ''', header=header)
    raw, _ = book.judge_case(case(industry="業" * 250), raw=True)
    ready = book.judge(case(industry="業" * 250))
    assert json.loads(dumps(raw)) == ready
    assert ready["results"][0]["facts"]["industry"] == "業" * 250  # a fact's own text is whole
    facts = ready["results"][0]["facts"]
    assert facts["fee_tiers"][0] == [0, 100000, 0.2]  # a parameter's record: its values, in order
    name, first_day, _last_day = facts["periods"][1]
    assert first_day == "2021-03-01" and name == long_name[:200] + "…"
