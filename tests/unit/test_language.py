"""Constructs of the language that the program's rulebook does not use, evaluated for real
on a small rulebook: effective periods, parameters dated by the step, tables, lists,
rounding, business days, `some failure`, editions of a parameter."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

import rulebook
from rulebook.language.diagnostic import RulebookError

HEADER = '''
rulebook "language" version "1" title ja "言語" en "Language"
  parameters dated as_of
  stage s1 title ja "段階" en "Stage"

record case
  format: text, exactly "rulebook.case/v1"
  case_id: text
  as_of: date
  industry: optional text
  paid_jpy: yen
  opened_on: date
  steps: list of step, default empty, numbered by number

record step
  number: integer
  hours: hours
  done_on: optional date

parameter rate: yen per hour
  title ja "単価" en "Rate"
  source "s"
  value 1000 yen per hour from 2020-01-01 until 2020-12-31
  value 1200 yen per hour from 2021-01-01

parameter minimum_by_industry: table of yen by text
  title ja "業種別の最低額" en "Minimum by industry"
  source "s"
  value {"retail": 500 yen, "food": 800 yen} from 2020-01-01

parameter fee: percent
  title ja "手数料" en "Fee"
  source "s"
  value 12.5% from 2020-01-01

parameter review: business days
  title ja "確認" en "Review"
  source "s"
  value 1 business day from 2020-01-01
'''


def book_with(tmp_path, text: str):
    (tmp_path / "header.rules").write_text(HEADER, encoding="utf-8")
    (tmp_path / "rules.rules").write_text(textwrap.dedent(text), encoding="utf-8")
    return rulebook.load(tmp_path, cache=False)


def case(**extra) -> dict:
    base = {"format": "rulebook.case/v1", "case_id": "X", "as_of": "2021-03-01", "paid_jpy": 1000,
            "opened_on": "2021-01-08", "steps": [{"number": 1, "hours": 2.5, "done_on": "2020-06-01"},
                                                   {"number": 2, "hours": 1, "done_on": "2021-02-01"}]}
    base.update(extra)
    return base


def result(verdict: dict, rule: str, subject: str = "case") -> dict:
    return next(r for r in verdict["results"] if r["rule"] == rule and r["subject"] == subject)


def test_effective_period_and_editions(tmp_path):
    book = book_with(tmp_path, '''
        rule new.rule on case
          stage s1
          title ja "新" en "New"
          source "s"
          effective from 2021-02-01 until 2021-12-31
          otherwise pass
            message ja "{rate}" en "{rate}"
        ''')
    before = book.judge(case(), as_of=dt.date(2021, 1, 15))
    assert result(before, "new.rule")["status"] == "not_applicable"
    assert "2021-01-15" in result(before, "new.rule")["message"]["en"]
    during = book.judge(case())
    assert result(during, "new.rule")["message"]["en"] == "1,200 yen/hour"
    after = book.judge(case(), as_of=dt.date(2022, 1, 1))
    assert result(after, "new.rule")["status"] == "not_applicable"


def test_parameters_dated_by_the_step(tmp_path):
    book = book_with(tmp_path, '''
        rule step.pay on each step
          stage s1
          title ja "支払" en "Pay"
          source "s"
          parameters dated step.done_on if missing as_of
          let due_jpy = (rate * step.hours) rounded down
          otherwise pass
            message ja "{due_jpy}" en "{due_jpy}"
        ''')
    out = book.judge(case())
    assert result(out, "step.pay", "step:1")["message"]["en"] == "2,500 yen"  # 2020 edition: 1,000/h
    assert result(out, "step.pay", "step:2")["message"]["en"] == "1,200 yen"  # 2021 edition: 1,200/h
    assert result(out, "step.pay", "step:1")["facts"] == {"steps[0].done_on": "2020-06-01"}  # the day it read


def test_tables_lists_rounding_and_business_days(tmp_path):
    book = book_with(tmp_path, '''
        rule case.minimum on case
          stage s1
          title ja "最低額" en "Minimum"
          source "s"
          let minimum = minimum_by_industry[industry] if missing 0 yen
          let fee_jpy = paid_jpy * fee
          let hours_each = list of step.hours for step in steps
          let total_hours = sum of step.hours for step in steps
          let reviewed_by = opened_on + review
          when industry is missing then pending
            message ja "業種なし" en "no industry"
          when paid_jpy >= minimum then pass
            message ja "{fee_jpy rounded down} {fee_jpy rounded up} {fee_jpy rounded} {hours_each} {total_hours} {reviewed_by}"
                    en "{fee_jpy rounded down} {fee_jpy rounded up} {fee_jpy rounded} {hours_each} {total_hours} {reviewed_by}"
          otherwise fail
            message ja "不足" en "short of {minimum}"
        ''')
    assert result(book.judge(case()), "case.minimum")["status"] == "pending"
    out = result(book.judge(case(industry="retail", paid_jpy=1004)), "case.minimum")
    # 1004 × 12.5% = 125.5 → 125 / 126 / 126; Friday 2021-01-08 + 1 business day (Mon 11th is a holiday)
    assert out["message"]["en"] == "125 yen 126 yen 126 yen 2.5 hours, 1 hour 3.5 hours 2021-01-12"
    assert out["status"] == "pass"
    short = result(book.judge(case(industry="food", paid_jpy=700)), "case.minimum")
    assert short["status"] == "fail" and short["message"]["en"] == "short of 800 yen"
    unknown = result(book.judge(case(industry="mining", paid_jpy=0)), "case.minimum")
    assert unknown["status"] == "pass"  # a key not in the table: `if missing 0 yen`


def test_some_failure_in_a_payout(tmp_path):
    book = book_with(tmp_path, '''
        rule step.done on each step
          stage s1
          title ja "完了" en "Done"
          source "s"
          when step.done_on is set then pass
            message ja "済" en "done"
          otherwise fail
            message ja "未" en "not done"

        payout on each step
          amount penalty_jpy = 100 yen if some failure on step else 0 yen
            title ja "罰金" en "Penalty"

        payout on case
          amount penalties_jpy = total penalty_jpy
            title ja "罰金の合計" en "Penalties"
        ''')
    data = case()
    data["steps"][1]["done_on"] = None
    out = book.judge(data)
    assert out["payout"]["penalties_jpy"] == 100
    assert [s["penalty_jpy"] for s in out["payout"]["steps"]] == [0, 100]


def test_a_fractional_yen_literal_is_not_a_whole_amount(tmp_path):
    with pytest.raises(RulebookError) as caught:
        book_with(tmp_path, '''
            payout on case
              amount half_jpy = 0.5 yen
                title ja "半円" en "Half a yen"
            ''')
    assert [d.code for d in caught.value.diagnostics] == ["RB306"]


def test_a_rule_file_cannot_run_code(tmp_path, monkeypatch):
    """Names and texts reach the generated Python only as checked identifiers and literals: this
    hostile file is a valid rulebook, it loads and judges, and its texts come back as data."""
    monkeypatch.chdir(tmp_path)  # where `touch pwned` would land
    hostile = '''
        rule x.y on case
          stage s1
          title ja "__import__('os').system('touch pwned')" en "\\"); import os; os.system('touch pwned'); (\\""
          source "\\{\\}; import os"
          let __class__ = paid_jpy
          when paid_jpy >= 0 yen then pass
            message ja "{__class__}') or __import__('os').system('touch pwned') or ('" en "{paid_jpy}"
          otherwise fail
            message ja "a" en "b"
        '''
    out = book_with(tmp_path, hostile).judge(case())
    judged = result(out, "x.y")
    assert judged["status"] == "pass"
    assert judged["title"] == {"ja": "__import__('os').system('touch pwned')",
                               "en": "\"); import os; os.system('touch pwned'); (\""}
    assert judged["message"] == {"ja": "1,000円') or __import__('os').system('touch pwned') or ('", "en": "1,000 yen"}
    assert judged["source"]["text"] == "{}; import os"
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", ["__import__", "eval", "open", "__builtins__", "self"])
def test_a_python_name_in_a_rule_is_an_unknown_name(tmp_path, name):
    """A name reaches the generated code only if the schema or the rule declares it."""
    with pytest.raises(RulebookError) as caught:
        book_with(tmp_path, f'''
            rule x.y on case
              stage s1
              title ja "t" en "t"
              source "s"
              when {name} is set then pass
                message ja "a" en "b"
              otherwise fail
                message ja "a" en "b"
            ''')
    assert [d.code for d in caught.value.diagnostics] == ["RB202"]
    assert f"`{name}`" in caught.value.diagnostics[0].message


def test_not_applicable_is_spelled_either_way(tmp_path):
    book = book_with(tmp_path, '''
        rule a.spaced on case
          stage s1
          title ja "空白" en "Spaced"
          source "s"
          otherwise not applicable
            message ja "対象外" en "n/a"

        rule a.joined on case
          stage s1
          title ja "下線" en "Joined"
          source "s"
          otherwise not_applicable
            message ja "対象外" en "n/a"
        ''')
    out = book.judge(case())
    assert [r["status"] for r in out["results"]] == ["not_applicable", "not_applicable"]


@pytest.mark.parametrize("where, paid", [("let", 1000), ("last clause", 1000), ("message", 1000),
                                         ("let", 0), ("last clause", 0)])  # 0 / 0: Decimal's InvalidOperation
def test_an_evaluation_error_names_the_rule_that_raised_it(tmp_path, where, paid):
    """A division by zero on one case: the case gets `rulebook.error/v1` naming that rule (RB402),
    whichever rule comes before or after it, and the other cases are judged. Zero by zero is a
    division by zero too, in words (Decimal raises another error for it)."""
    let = "let per = paid_jpy / count of steps" if where == "let" else "let per = paid_jpy"
    last = "when paid_jpy / count of steps > 0 yen then pass" if where == "last clause" else \
        "when per > 0 yen then pass"
    text = "{paid_jpy / count of steps}" if where == "message" else "b"
    book = book_with(tmp_path, f'''
        rule a.before on case
          stage s1
          title ja "前" en "Before"
          source "s"
          otherwise pass
            message ja "a" en "b"

        rule x.divides on case
          stage s1
          title ja "割り算" en "Divides"
          source "s"
          {let}
          when paid_jpy < 0 yen then fail
            message ja "a" en "b"
          {last}
            message ja "a" en "{text}"
          otherwise fail
            message ja "a" en "b"

        rule z.after on case
          stage s1
          title ja "後" en "After"
          source "s"
          otherwise pass
            message ja "a" en "b"
        ''')
    out = book.judge(case(steps=[], paid_jpy=paid))
    assert out["format"] == "rulebook.error/v1", out
    (error,) = out["errors"]
    assert "rule `x.divides` could not be" in error["message"] and "division by zero" in error["message"]
    assert "[RB402]" in error["message"]
    assert book.judge(case())["verdict"] == "eligible"


# ------------------------------------------------------------------ labels of values

LABELLED = HEADER.replace("  industry: optional text\n", '''  industry: optional text,
    labels {"retail": ja "小売業" en "retail trade", "food": ja "飲食業" en "food service"}
  kinds: list of text, default empty, labels {"a": ja "甲" en "A", "b": ja "乙" en "B"}
  photos: list of photo, default empty
''') + '''
record photo
  moment: text, one of ["start", "end"], labels {"start": ja "開始時" en "start", "end": ja "終了時" en "end"}
'''

LABEL_RULE = '''
rule industry.named on case
  stage s1
  title ja "業種" en "Industry"
  source "s"
  when industry is set and count of photos > 0
    then pass
    message ja "業種は「{industry}」、種別は{kinds}、写真は{list of p.moment for p in photos}です。"
            en "Industry `{industry}`, kinds {kinds}, photos {list of p.moment for p in photos}."
  otherwise not applicable
    message ja "業種は「{industry if missing "未記入"}」です。" en "Industry `{industry if missing "none"}`."
'''


def labelled_book(tmp_path, cache=False):
    (tmp_path / "header.rules").write_text(LABELLED, encoding="utf-8")
    (tmp_path / "rules.rules").write_text(LABEL_RULE, encoding="utf-8")
    return rulebook.load(tmp_path, cache=cache)


def test_a_message_shows_a_value_by_its_label(tmp_path):
    book = labelled_book(tmp_path)
    verdict = book.judge(case(industry="food", kinds=["b", "zzz"], photos=[
        {"moment": "end"}, {"moment": "start"}]))
    message = result(verdict, "industry.named")["message"]
    assert message["ja"] == "業種は「飲食業」、種別は乙、zzz、写真は終了時、開始時です。"
    assert message["en"] == "Industry `food service`, kinds B, zzz, photos end, start."
    # The facts keep the values themselves; a value without a label, or a rule's default, shows as it is.
    assert result(verdict, "industry.named")["facts"]["industry"] == "food"
    other = result(book.judge(case(industry="mining")), "industry.named")["message"]
    assert other == {"ja": "業種は「mining」です。", "en": "Industry `mining`."}
    none = result(book.judge(case()), "industry.named")["message"]
    assert none == {"ja": "業種は「未記入」です。", "en": "Industry `none`."}


def test_labels_survive_the_plan_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RULEBOOK_CACHE", str(tmp_path / "cache"))
    (tmp_path / "r").mkdir()
    first = labelled_book(tmp_path / "r", cache=True)
    second = labelled_book(tmp_path / "r", cache=True)
    assert any((tmp_path / "cache").iterdir())
    for book in (first, second):
        message = result(book.judge(case(industry="retail")), "industry.named")["message"]
        assert message["ja"] == "業種は「小売業」です。"


def test_the_vocabulary_holds_the_labels_by_path(tmp_path):
    values = labelled_book(tmp_path).vocabulary()["ja"]["value"]
    assert values == {"industry": {"retail": "小売業", "food": "飲食業"}, "kinds": {"a": "甲", "b": "乙"},
                      "photos.moment": {"start": "開始時", "end": "終了時"}}


@pytest.mark.parametrize("option, code, words", [
    ('labels {"x": ja "エックス" en "x"}', "RB313", "`labels` name the values of a text field"),
    ('labels {"x": ja "エックス" en "x", "x": ja "エックス" en "x"}', "RB204", "labelled twice"),
    ('labels {"x": ja "エックス"}', "RB304", "the label of `x` has no `en` text"),
    ('labels {"x": ja "エ{as_of}" en "x"}', "RB104", "cannot hold interpolations"),
])
def test_bad_labels_are_diagnostics(tmp_path, option, code, words):
    header = HEADER.replace("  paid_jpy: yen\n", f"  paid_jpy: yen\n  odd: optional date, {option}\n")
    if code != "RB313":
        header = header.replace("odd: optional date", "odd: optional text")
    (tmp_path / "header.rules").write_text(header, encoding="utf-8")
    with pytest.raises(RulebookError) as caught:
        rulebook.load(tmp_path, cache=False)
    found = [d for d in caught.value.diagnostics if d.code == code]
    assert found and words in found[0].message, caught.value.render()


def test_arithmetic_on_dates_either_way_round(tmp_path):
    """Days and business days added to a date on either side, taken from a date, and the days
    between two dates; a yen amount divided (the program's rulebook writes only `date + days`)."""
    book = book_with(tmp_path, '''
        rule dates.arithmetic on case
          stage s1
          title ja "日付" en "Dates"
          source "s"
          let later = opened_on + 10 days
          let later_too = 10 days + opened_on
          let earlier = opened_on - 10 days
          let next_business = 1 business day + opened_on
          let previous_business = opened_on - 1 business day
          let between = as_of - opened_on
          let half = paid_jpy / 2
          when later = later_too then pass
            message ja "x" en "{later} {later_too} {earlier} {next_business} {previous_business} {between} {half}"
          otherwise fail
            message ja "x" en "{later} {later_too}"
        ''')
    out = result(book.judge(case()), "dates.arithmetic")
    # Friday 2021-01-08: the business day after is Tuesday the 12th (Monday the 11th is a holiday),
    # the one before is Thursday the 7th; as_of 2021-03-01 is 52 days later.
    assert out["status"] == "pass"
    assert out["message"]["en"] == "2021-01-18 2021-01-18 2020-12-29 2021-01-12 2021-01-07 52 days 500 yen"


def test_quantifiers_over_a_list_with_and_without_outer_names(tmp_path):
    """`any`, `all`, `count … where` and `each … where`, with a body that reads only the item (the
    compiler gives those a loop of their own) and one that reads a name from outside."""
    book = book_with(tmp_path, '''
        rule lists.quantified on case
          stage s1
          title ja "量化" en "Quantifiers"
          source "s"
          let bound = 2 hours
          let some_long = any s in steps where s.hours > 2 hours
          let all_long = all s in steps where s.hours > 2 hours
          let long_ones = count s in steps where s.hours > 2 hours
          let long_steps = each s in steps where s.hours > 2 hours
          let some_over = any s in steps where s.hours > bound
          let all_over = all s in steps where s.hours > bound
          let over = count s in steps where s.hours > bound
          let over_steps = each s in steps where s.hours > bound
          when some_long then pass
            message ja "x" en "{some_long} {all_long} {long_ones} {count of long_steps} {some_over} {all_over} {over} {count of over_steps}"
          otherwise fail
            message ja "x" en "{some_long} {all_long} {long_ones} {count of long_steps} {some_over} {all_over} {over} {count of over_steps}"
        ''')
    two = result(book.judge(case()), "lists.quantified")  # 2.5 hours and 1 hour
    assert two["status"] == "pass"
    assert two["message"]["en"] == "yes no 1 1 yes no 1 1"
    long = case(steps=[{"number": 1, "hours": 3}, {"number": 2, "hours": 4}, {"number": 3, "hours": 5}])
    assert result(book.judge(long), "lists.quantified")["message"]["en"] == "yes yes 3 3 yes yes 3 3"
    short = case(steps=[{"number": 1, "hours": 1}])
    out = result(book.judge(short), "lists.quantified")
    assert out["status"] == "fail" and out["message"]["en"] == "no no 0 0 no no 0 0"


# ------------------------------------------------------------------ the next day a case can change

WAKE = HEADER.replace("  parameters dated as_of\n", "  parameters dated opened_on\n") + '''
parameter bonus_jpy: yen
  title ja "加算" en "Bonus"
  source "s"
  value 10 yen from 2020-01-01 until 2021-05-31
  value 20 yen from 2021-06-01
'''


@pytest.mark.parametrize("payout", ["steps", "case", "steps on their day"])
def test_next_change_is_the_first_day_on_which_judging_again_can_give_other_results(tmp_path, payout):
    """`next_change` (the day `rulebook watch` judges a case again) on a rulebook whose
    parameters are read on a day of the case (`opened_on`), not the judging day: the day after
    a deadline counted from the case, the editions of a parameter that a rule reads on the
    judging day, the period of force of a rule judged on that day, and the editions of what the payout reads, but only
    on a day the payout reads its parameters on (its own day, or the rulebook's)."""
    amount = {
        "steps": 'payout on each step\n',
        "steps on their day": 'payout on each step\n  parameters dated step.done_on if missing as_of\n',
    }.get(payout, "") + ('  amount base_jpy = rate * step.hours rounded down + bonus_jpy\n'
                         '    title ja "基本" en "Base"\n' if payout != "case" else
                         'payout on case\n  amount bonus_jpy = bonus_jpy\n    title ja "加算" en "Bonus"\n')
    (tmp_path / "header.rules").write_text(WAKE, encoding="utf-8")
    (tmp_path / "rules.rules").write_text(textwrap.dedent('''
        rule a.deadline on case
          stage s1
          title ja "期限" en "Deadline"
          source "s"
          when as_of > opened_on + 30 days then fail
            message ja "a" en "late"
          otherwise pending
            message ja "a" en "not yet"

        rule b.rate on case
          stage s1
          title ja "単価" en "Rate"
          source "s"
          parameters dated as_of
          otherwise pass
            message ja "{rate}" en "{rate}"

        rule c.period on case
          stage s1
          title ja "期間" en "Period"
          source "s"
          parameters dated as_of
          effective from 2021-04-01 until 2021-09-30
          otherwise pass
            message ja "a" en "in force"

        rule d.rate on case
          stage s1
          title ja "単価" en "Rate"
          source "s"
          otherwise pass
            message ja "{rate}" en "{rate}"
        ''') + "\n" + amount, encoding="utf-8")
    book = rulebook.load(tmp_path, cache=False)

    def next_change(on, **facts):
        snapshot = book.validate(case(**facts)).case
        return book.next_change(book.evaluate(snapshot, on))

    D = dt.date
    # b.rate reads `rate` on the judging day: its edition of 2021-01-01 comes first
    assert next_change(D(2020, 12, 20)) == D(2021, 1, 1)
    # then the day after the deadline (2021-01-08 + 30 days), then the period's first day and
    # the day after its last
    assert next_change(D(2021, 1, 1)) == D(2021, 2, 8)
    assert next_change(D(2021, 2, 8)) == D(2021, 4, 1)
    assert next_change(D(2021, 4, 1)) == D(2021, 10, 1)
    # the payout reads its parameters on `opened_on`: their editions count on that day only;
    # or on each step's `done_on`, on the judging day for a step that has none
    undated = [{"number": 1, "hours": 1}]
    if payout == "steps on their day":
        assert next_change(D(2021, 5, 20), opened_on="2021-05-20") == D(2021, 6, 20)
        assert next_change(D(2021, 5, 21), opened_on="2021-05-20", steps=undated) == D(2021, 6, 1)
    else:
        assert next_change(D(2021, 5, 20), opened_on="2021-05-20") == D(2021, 6, 1)
        assert next_change(D(2021, 5, 21), opened_on="2021-05-20", steps=undated) == D(2021, 6, 20)
    assert next_change(D(2021, 5, 21), opened_on="2021-05-20") == D(2021, 6, 20)
    assert next_change(D(2021, 10, 1)) is None
    # a rule that does not say otherwise reads the parameters on `opened_on`
    out = book.judge(case(opened_on="2020-06-01"))
    assert result(out, "d.rate")["message"]["en"] == "1,000 yen/hour"
    assert result(book.judge(case(opened_on="2021-06-01")), "d.rate")["message"]["en"] == "1,200 yen/hour"
