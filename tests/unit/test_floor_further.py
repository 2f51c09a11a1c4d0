"""bench/floor.py's reading of shared/spec/further-rules.md, from the spec's own examples.

One table per rule: each row changes the worked example (carrying the further facts, as
the spec's example-seed-case.yaml does) and says which clause of the rule's decision list
decides and what status that clause gives. Then Civil Code months, the payout's figures
(rate cap, tiered fee shared out by step, the cap per SME), the order of the results,
the sample generator (unchanged without its flag; every clause reached with it) and the
second example's figures.
"""

from __future__ import annotations

import calendar
import collections
import datetime as dt
import hashlib
import json
import re

import floor
import pytest
import samples
import yaml

from ..conftest import EXAMPLES

DROP = object()   # a patch value: remove the field

# What turns examples/seed-case.yaml into the spec's worked example with the further facts
# (shared/spec/example-seed-case.yaml): the facts, and the step's dates moved inside the first period.
FURTHER_SEED = {
    "sme.kind": "company", "sme.industry": "retail", "sme.capital_jpy": 10_000_000, "sme.employees": 8,
    "expert.kind": "individual", "expert.qualifications": ["it_coordinator"],
    "plan.contract_type": "quasi_mandate", "plan.hourly_rate_jpy": 5000,
    "steps[0].completion_reported_on": "2021-02-19", "steps[0].client_paid_on": "2021-02-20",
    "steps[0].photos[1].taken_on": "2021-02-19", "steps[0].report_submitted_on": "2021-02-24",
}
PAYOUT_KEYS = ("client_paid_jpy", "platform_fee_jpy", "expert_receives_jpy", "honorarium_jpy",
               "honorarium_at_stake_jpy", "expert_total_jpy")


def _set(data: dict, path: str, value) -> None:
    """Set (or with DROP remove) a dotted path such as `steps[0].recorded` in snapshot data."""
    keys = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", path)]
    for key in keys[:-1]:
        data = data[key]
    if value is DROP:
        data.pop(keys[-1], None)
    else:
        data[keys[-1]] = value


def snapshot(seed: dict, patch: dict | None = None, further: bool = True) -> dict:
    data = json.loads(json.dumps(seed, default=str))
    for path, value in [*(FURTHER_SEED.items() if further else ()), *(patch or {}).items()]:
        _set(data, path, value)
    return data


def judged(book, data: dict, as_of: dt.date | None = None, further: bool = True):
    """(statuses by (rule, subject), clause numbers by (rule, subject), payout) of the floor."""
    case = book.validate(data).case
    clauses: list = []
    results, payout = floor.judge(case, as_of, further, clauses)
    return ({(r, s): status for r, s, status in results}, {(r, s): c for r, s, c in clauses}, payout)


# ------------------------------------------------------------------ the rules, clause by clause

PASS, FAIL, PENDING, NA = "pass", "fail", "pending", "not_applicable"
WINDOW = {"expert.applied_on": "2021-10-19", "expert.approved_on": "2021-10-20"}  # applied from 2021-10-19
RECORDED = {"steps[0].started_on": "2021-07-20"}                                  # started from 2021-07-20

# (rule, subject, clause, status, patch) — the worked example passes every rule but the three
# that do not apply to it (expert.qualification, step.recording: before their days).
CLAUSE_TABLE = [
    # sme.size — L = the limits of sme.industry (retail: 50,000,000 yen / 50 employees)
    ("sme.size", "case", 1, PASS, {"sme.kind": "sole_proprietor", "sme.capital_jpy": 10**12}),
    ("sme.size", "case", 2, PENDING, {"sme.kind": DROP}),
    ("sme.size", "case", 3, FAIL, {"sme.kind": "other_organisation", "plan.approved_on": "2021-03-01"}),
    ("sme.size", "case", 4, PASS, {"sme.kind": "other_organisation", "plan.approved_on": "2021-02-28"}),
    ("sme.size", "case", 4, PASS, {"sme.kind": "other_organisation", "plan.approved_on": DROP}),
    ("sme.size", "case", 5, FAIL, {"sme.kind": "association"}),
    ("sme.size", "case", 6, PENDING, {"sme.industry": DROP}),
    ("sme.size", "case", 6, PENDING, {"sme.capital_jpy": DROP, "sme.employees": DROP}),
    ("sme.size", "case", 7, FAIL, {"sme.industry": "construction"}),
    ("sme.size", "case", 8, PASS, {"sme.capital_jpy": 50_000_000, "sme.employees": 51}),
    ("sme.size", "case", 8, PASS, {"sme.capital_jpy": 50_000_001, "sme.employees": 50}),
    ("sme.size", "case", 8, PASS, {"sme.capital_jpy": DROP, "sme.employees": 50}),
    ("sme.size", "case", 8, PASS, {"sme.industry": "rubber_products", "sme.capital_jpy": 10**9, "sme.employees": 900}),
    ("sme.size", "case", 9, FAIL, {"sme.capital_jpy": 50_000_001, "sme.employees": 51}),
    ("sme.size", "case", 9, FAIL, {"sme.capital_jpy": DROP, "sme.employees": 51}),
    ("sme.size", "case", 9, FAIL, {"sme.industry": "wholesale", "sme.capital_jpy": 100_000_001, "sme.employees": 101}),
    # plan.contract-type — 準委任 only
    ("plan.contract-type", "case", 1, PENDING, {"plan.proposed_on": DROP}),
    ("plan.contract-type", "case", 1, PENDING, {"plan": DROP}),
    ("plan.contract-type", "case", 2, PASS, {}),
    ("plan.contract-type", "case", 3, FAIL, {"plan.contract_type": "contract_work"}),
    ("plan.contract-type", "case", 4, PENDING, {"plan.contract_type": DROP}),
    # case.duration — L = contract.received_on (2021-01-21) + 6 months = 2021-07-21
    ("case.duration", "case", 1, PENDING, {"contract.received_on": DROP}),
    ("case.duration", "case", 1, PENDING, {"contract": DROP}),
    ("case.duration", "case", 2, FAIL, {"steps[0].completion_reported_on": "2021-07-22"}),
    ("case.duration", "case", 2, FAIL, {"contract.received_on": "2021-02-28",
                                        "steps[0].completion_reported_on": "2021-09-01"}),
    ("case.duration", "case", 3, PASS, {}),
    ("case.duration", "case", 3, PASS, {"steps[0].completion_reported_on": "2021-07-21"}),
    # received on a month's last day: the months run from the 1st, so L is the sixth month's last day
    ("case.duration", "case", 3, PASS, {"contract.received_on": "2021-02-28",
                                        "steps[0].completion_reported_on": "2021-08-31"}),
    ("case.duration", "case", 4, PENDING, {"plan.steps": 2}),          # the final step, 2, not listed
    ("case.duration", "case", 4, PENDING, {"plan.steps": 2, "as_of": "2021-07-21"}),
    ("case.duration", "case", 4, PENDING, {"steps[0].completion_reported_on": DROP}),
    ("case.duration", "case", 5, FAIL, {"plan.steps": 2, "as_of": "2021-07-22"}),
    ("case.duration", "case", 5, FAIL, {"plan": DROP, "as_of": "2021-07-22"}),
    # case.program-period — 第1期 2020-09-01..2021-02-28, 第Ⅱ期 2021-03-01..2022-02-28
    ("case.program-period", "case", 1, FAIL, {"consultation.registered_on": "2021-09-16",
                                              "consultation.approved_on": "2021-09-17"}),
    ("case.program-period", "case", 1, FAIL, {"consultation.registered_on": "2021-10-18",
                                              "consultation.approved_on": "2021-10-18"}),
    ("case.program-period", "case", 2, PENDING, {"plan.approved_on": DROP}),
    ("case.program-period", "case", 2, PENDING, {"plan": DROP}),
    ("case.program-period", "case", 3, FAIL, {"plan.approved_on": "2020-08-31"}),
    ("case.program-period", "case", 3, FAIL, {"plan.approved_on": "2022-03-01"}),
    ("case.program-period", "case", 4, PASS, {}),
    ("case.program-period", "case", 4, PASS, {"plan.approved_on": "2020-09-01"}),
    ("case.program-period", "case", 4, PASS, {"plan.approved_on": "2022-02-28"}),
    ("case.program-period", "case", 4, PASS, {"consultation.registered_on": "2021-09-15",
                                              "consultation.approved_on": "2021-09-15"}),
    ("case.program-period", "case", 4, PASS, {"consultation.registered_on": "2021-10-19",
                                              "consultation.approved_on": "2021-10-19"}),
    # expert.qualification — individual experts who applied from 2021-10-19
    ("expert.qualification", "case", 1, PENDING, {"expert.applied_on": DROP, "expert.approved_on": DROP}),
    ("expert.qualification", "case", 2, NA, {}),
    ("expert.qualification", "case", 2, NA, {"expert.applied_on": "2021-10-18", "expert.approved_on": "2021-10-20",
                                             "expert.qualifications": []}),
    ("expert.qualification", "case", 3, NA, {**WINDOW, "expert.kind": "corporation",
                                             "expert.qualifications": DROP}),
    ("expert.qualification", "case", 4, PENDING, {**WINDOW, "expert.kind": DROP}),
    ("expert.qualification", "case", 5, PASS, WINDOW),
    ("expert.qualification", "case", 5, PASS, {**WINDOW, "expert.qualifications": ["pmp", "ipa_exam"]}),
    ("expert.qualification", "case", 5, PASS, {**WINDOW, "expert.qualifications": ["sme_consultant"]}),
    ("expert.qualification", "case", 6, FAIL, {**WINDOW, "expert.qualifications": []}),
    ("expert.qualification", "case", 6, FAIL, {**WINDOW, "expert.qualifications": DROP}),
    ("expert.qualification", "case", 6, FAIL, {**WINDOW, "expert.qualifications": ["pmp"]}),
    # sme.honorarium-cap — P = prior honorarium, U = 140,000 here (see test_the_cap_per_sme)
    ("sme.honorarium-cap", "case", 1, FAIL, {"sme.prior_honorarium_jpy": 300_000}),
    ("sme.honorarium-cap", "case", 2, PASS, {}),
    ("sme.honorarium-cap", "case", 2, PASS, {"sme.prior_honorarium_jpy": 160_000}),
    ("sme.honorarium-cap", "case", 3, PASS, {"sme.prior_honorarium_jpy": 160_001}),
    # step.before-contract — contract.received_on 2021-01-21
    ("step.before-contract", "step:1", 1, PENDING, {"steps[0].started_on": DROP}),
    ("step.before-contract", "step:1", 2, FAIL, {"steps[0].started_on": "2021-01-20"}),
    ("step.before-contract", "step:1", 2, FAIL, {"contract.received_on": DROP}),
    ("step.before-contract", "step:1", 2, FAIL, {"contract": DROP}),
    ("step.before-contract", "step:1", 3, PASS, {}),
    ("step.before-contract", "step:1", 3, PASS, {"steps[0].started_on": "2021-01-21"}),
    # step.recording — for steps started from 2021-07-20
    ("step.recording", "step:1", 1, PENDING, {"steps[0].started_on": DROP}),
    ("step.recording", "step:1", 2, NA, {}),
    ("step.recording", "step:1", 2, NA, {"steps[0].started_on": "2021-07-19", "steps[0].recorded": False}),
    ("step.recording", "step:1", 3, PASS, {**RECORDED, "steps[0].recorded": True}),
    ("step.recording", "step:1", 4, FAIL, {**RECORDED, "steps[0].recorded": False}),
    ("step.recording", "step:1", 4, FAIL, RECORDED),
    ("step.recording", "step:1", 5, PENDING, {**RECORDED, "steps[0].report_submitted_on": DROP}),
    # step.program-period — E = 2021-02-28 (第1期); the report went in on 2021-02-24
    ("step.program-period", "step:1", 1, NA, {"plan.approved_on": DROP}),
    ("step.program-period", "step:1", 1, NA, {"plan.approved_on": "2022-03-01"}),
    ("step.program-period", "step:1", 2, PASS, {}),
    ("step.program-period", "step:1", 2, PASS, {"steps[0].report_submitted_on": "2021-02-28"}),
    ("step.program-period", "step:1", 3, FAIL, {"steps[0].report_submitted_on": "2021-03-01"}),
    ("step.program-period", "step:1", 4, PENDING, {"steps[0].report_submitted_on": DROP, "as_of": "2021-02-28"}),
    ("step.program-period", "step:1", 5, FAIL, {"steps[0].report_submitted_on": DROP}),
]


@pytest.mark.parametrize(("rule", "subject", "clause", "status", "patch"), CLAUSE_TABLE,
                         ids=[f"{row[0]}-{row[2]}-{i}" for i, row in enumerate(CLAUSE_TABLE)])
def test_each_clause_of_each_further_rule(book, seed, rule, subject, clause, status, patch):
    statuses, clauses, _payout = judged(book, snapshot(seed, patch))
    assert (clauses[rule, subject], statuses[rule, subject]) == (clause, status)


def test_the_table_reaches_every_clause_of_every_further_rule():
    reached = {(rule, clause) for rule, _subject, clause, _status, _patch in CLAUSE_TABLE}
    assert set(floor.CLAUSES) == set(floor.FURTHER_RULES)
    for rule, statuses in floor.CLAUSES.items():
        assert {c for r, c in reached if r == rule} == set(range(1, len(statuses))), rule


def test_the_worked_example_stays_eligible_with_its_five_figures(book, seed):
    statuses, clauses, payout = judged(book, snapshot(seed))
    assert set(statuses.values()) == {PASS, NA}
    assert {key for key, status in statuses.items() if status == NA} == {
        ("expert.qualification", "case"), ("step.recording", "step:1"), ("step.delay-report", "step:1")}
    assert (payout["client_paid_jpy"], payout["platform_fee_jpy"], payout["expert_receives_jpy"],
            payout["honorarium_jpy"], payout["expert_total_jpy"]) == (60_000, 12_000, 48_000, 140_000, 188_000)


# ------------------------------------------------------------------ Civil Code months

MONTHS = [
    # the spec's examples
    ("2021-01-21", 6, "2021-07-21"),
    ("2021-08-30", 6, "2022-02-28"),
    ("2021-08-31", 6, "2022-02-28"),
    # derived from articles 140 and 143: counting starts the next day; from the 1st, whole months
    ("2021-02-28", 6, "2021-08-31"),    # last day of February: March..August, not 2021-08-28
    ("2020-02-28", 6, "2020-08-28"),    # not February's last day in a leap year
    ("2020-02-29", 6, "2020-08-31"),    # the leap day is February's last
    ("2019-08-31", 6, "2020-02-29"),    # into a leap February
    ("2019-08-29", 6, "2020-02-29"),
    ("2019-08-28", 6, "2020-02-28"),
    ("2020-08-31", 6, "2021-02-28"),
    ("2021-04-30", 6, "2021-10-31"),    # April's last day: May..October
    ("2021-06-30", 6, "2021-12-31"),
    ("2021-09-30", 6, "2022-03-31"),
    ("2021-03-31", 6, "2021-09-30"),
    ("2021-12-31", 6, "2022-06-30"),
    ("2021-07-15", 6, "2022-01-15"),    # across the year
    ("2021-01-31", 1, "2021-02-28"),
    ("2021-01-30", 1, "2021-02-28"),
]


@pytest.mark.parametrize(("day", "months", "last"), MONTHS)
def test_months_as_the_civil_code_counts_them(day, months, last):
    assert floor.add_months(dt.date.fromisoformat(day), months) == dt.date.fromisoformat(last)


def _articles_140_143(day: dt.date, months: int) -> dt.date:
    """A literal reading: art. 140, the first day is not counted; art. 143, a period counted from
    the start of a month ends with its last month, otherwise on the day before the day of the last
    month corresponding to the first counted day, or at that month's end when it has none."""
    first = day + dt.timedelta(days=1)
    if first.day == 1:
        year, month = divmod(first.year * 12 + first.month - 1 + months - 1, 12)
        return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])
    year, month = divmod(first.year * 12 + first.month - 1 + months, 12)
    length = calendar.monthrange(year, month + 1)[1]
    if first.day > length:
        return dt.date(year, month + 1, length)
    return dt.date(year, month + 1, first.day) - dt.timedelta(days=1)


def test_months_agree_with_a_literal_reading_of_the_articles_every_day_for_five_years():
    day = dt.date(2019, 1, 1)
    while day < dt.date(2024, 1, 1):
        for months in (1, 6, 12):
            assert floor.add_months(day, months) == _articles_140_143(day, months), (day, months)
        day += dt.timedelta(days=1)


# ------------------------------------------------------------------ the payout

FEES = [  # (tiers in force on, client payments S, F(S))
    ("2021-01-21", 0, 0), ("2021-01-21", 1, 0), ("2021-01-21", 5, 1), ("2021-01-21", 60_000, 12_000),
    ("2021-01-21", 100_000, 20_000), ("2021-01-21", 100_001, 20_000), ("2021-01-21", 100_010, 20_001),
    ("2021-01-21", 150_000, 25_000), ("2021-01-21", 200_000, 30_000), ("2021-01-21", 200_019, 30_000),
    ("2021-01-21", 200_020, 30_001), ("2021-01-21", 250_000, 32_500), ("2021-01-21", 1_000_000, 70_000),
    ("2022-09-30", 240_000, 32_000),
    ("2022-10-01", 60_000, 9_900), ("2022-10-01", 240_000, 39_600), ("2022-10-01", 7, 1),
    ("2022-10-01", 6, 0), ("2030-01-01", 1_000_000, 165_000),
]


@pytest.mark.parametrize(("day", "paid", "fee"), FEES)
def test_the_tiered_fee_and_the_flat_one(day, paid, fee):
    assert floor.fee(paid, floor.fee_tiers(dt.date.fromisoformat(day))) == fee


def _steps(seed: dict, payments: list[int], hours: int = 40) -> dict:
    """The worked example's step, once per payment, each two days after the one before (so that
    every report is in by 2021-02-28, the end of the first period), with no hourly rate and no claim."""
    first = snapshot(seed)["steps"][0]
    steps = []
    for number, payment in enumerate(payments, start=1):
        shift = dt.timedelta(days=2 * (number - 1))
        step = json.loads(json.dumps(first, default=str))
        for key in ("planned_end_on", "started_on", "completion_reported_on", "client_paid_on",
                    "report_submitted_on"):
            step[key] = (dt.date.fromisoformat(step[key]) + shift).isoformat()
        for photo in step["photos"]:
            photo["taken_on"] = (dt.date.fromisoformat(photo["taken_on"]) + shift).isoformat()
        step.update(number=number, hours=hours, client_payment_jpy=payment,
                    payment_capture_attached=number == len(payments))
        steps.append(step)
    return {"steps": steps, "plan.steps": len(payments), "as_of": "2021-05-31",
            "plan.hourly_rate_jpy": DROP, "claim": DROP}


PAYOUTS = [
    # (what the row shows, patch, (paid, fee, receives, due, at stake, total), fee of each step)
    ("the worked example", {}, (60_000, 12_000, 48_000, 140_000, 140_000, 188_000), [12_000]),
    ("no hourly rate: no rate cap", {"plan.hourly_rate_jpy": DROP},
     (60_000, 12_000, 48_000, 140_000, 140_000, 188_000), [12_000]),
    ("3,000 an hour, the client paying the minimum: 2,500 an hour of honorarium",
     {"plan.hourly_rate_jpy": 3000, "steps[0].client_payment_jpy": 20_000, "claim.honorarium_jpy": 100_000},
     (20_000, 4_000, 16_000, 100_000, 100_000, 116_000), [4_000]),
    ("3,000 an hour, the client paying 1,500 an hour", {"plan.hourly_rate_jpy": 3000},
     (60_000, 12_000, 48_000, 60_000, 60_000, 108_000), [12_000]),
    ("a rate under the client's share: no honorarium", {"plan.hourly_rate_jpy": 1000},
     (60_000, 12_000, 48_000, 0, 0, 48_000), [12_000]),
    ("rate cap rounded down: 3,333 × 12.5 − 6,250 = 35,412.5",
     {"plan.hourly_rate_jpy": 3333, "steps[0].hours": 12.5, "steps[0].client_payment_jpy": 6_250,
      "claim": DROP},
     (6_250, 1_250, 5_000, 35_412, 35_412, 40_412), [1_250]),
    ("three steps of 80,000: the tiers shared out by step, U = 420,000 cut to 300,000",
     "three", (240_000, 32_000, 208_000, 300_000, 300_000, 508_000), [16_000, 10_000, 6_000]),
    ("steps of 150,000 and 100,000", "two", (250_000, 32_500, 217_500, 280_000, 280_000, 497_500),
     [25_000, 7_500]),
    ("the flat 16.5% for a contract received from 2022-10-01",
     {"contract.received_on": "2022-10-01", "steps[0].started_on": "2022-10-03"},
     (60_000, 9_900, 50_100, 0, 140_000, 50_100), [9_900]),
    ("the tiers for a contract received on 2022-09-30, judged later",
     {"contract.received_on": "2022-09-30", "steps[0].started_on": "2022-10-03", "as_of": "2022-10-31"},
     (60_000, 12_000, 48_000, 0, 140_000, 48_000), [12_000]),
    ("no contract day: the table of as_of", {"contract.received_on": DROP, "as_of": "2022-10-01"},
     (60_000, 9_900, 50_100, 0, 140_000, 50_100), [9_900]),
]


@pytest.mark.parametrize(("what", "patch", "figures", "step_fees"), PAYOUTS, ids=[row[0] for row in PAYOUTS])
def test_the_payout(book, seed, what, patch, figures, step_fees):
    if patch == "three":
        patch = _steps(seed, [80_000, 80_000, 80_000])
    elif patch == "two":
        patch = _steps(seed, [150_000, 100_000])
    _statuses, _clauses, payout = judged(book, snapshot(seed, patch))
    assert tuple(payout[key] for key in PAYOUT_KEYS) == figures
    assert [step["platform_fee_jpy"] for step in payout["steps"]] == step_fees
    payments = [step.client_payment_jpy for step in book.validate(snapshot(seed, patch)).case.steps]
    assert [step["expert_receives_jpy"] for step in payout["steps"]] == [
        pay - fee for pay, fee in zip(payments, step_fees)]


def test_the_fee_table_is_that_of_the_judging_day_while_the_contract_is_not_received(book, seed):
    data = snapshot(seed, {"contract.received_on": DROP, "as_of": "2022-09-30"})
    assert judged(book, data)[2]["platform_fee_jpy"] == 12_000
    assert judged(book, data, dt.date(2022, 10, 1))[2]["platform_fee_jpy"] == 9_900


def test_a_step_that_fails_earns_nothing_but_stays_at_stake(book, seed):
    patch = _steps(seed, [80_000, 80_000, 80_000])
    patch["steps"][1]["photos"] = []                   # step 2's report went in without photos
    statuses, _clauses, payout = judged(book, snapshot(seed, patch))
    assert statuses["step.photos", "step:2"] == FAIL
    assert [s["honorarium_jpy"] for s in payout["steps"]] == [140_000, 0, 140_000]
    assert (payout["honorarium_uncapped_jpy"], payout["honorarium_jpy"], payout["honorarium_at_stake_jpy"]) == (
        280_000, 280_000, 300_000)


CAPS = [
    # (P, clause, status, U, due, at stake, claim.honorarium for a claim of 140,000)
    (DROP, 2, PASS, 140_000, 140_000, 140_000, PASS),
    (0, 2, PASS, 140_000, 140_000, 140_000, PASS),
    (160_000, 2, PASS, 140_000, 140_000, 140_000, PASS),      # P + U = 300,000 exactly
    (160_001, 3, PASS, 140_000, 139_999, 139_999, FAIL),      # cut to 300,000 − P
    (200_000, 3, PASS, 140_000, 100_000, 100_000, FAIL),
    (299_999, 3, PASS, 140_000, 1, 1, FAIL),
    (300_000, 1, FAIL, 140_000, 0, 0, FAIL),                  # the SME's cap is used up
    (320_000, 1, FAIL, 140_000, 0, 0, FAIL),
]


@pytest.mark.parametrize(("prior", "clause", "status", "uncapped", "due", "stake", "claim"), CAPS)
def test_the_cap_per_sme(book, seed, prior, clause, status, uncapped, due, stake, claim):
    statuses, clauses, payout = judged(book, snapshot(seed, {"sme.prior_honorarium_jpy": prior}))
    assert (clauses["sme.honorarium-cap", "case"], statuses["sme.honorarium-cap", "case"]) == (clause, status)
    assert (payout["honorarium_uncapped_jpy"], payout["honorarium_jpy"], payout["honorarium_at_stake_jpy"]) == (
        uncapped, due, stake)
    assert payout["expert_total_jpy"] == 48_000 + due
    assert statuses["claim.honorarium", "case"] == claim


def test_a_failed_case_rule_leaves_nothing_due_but_the_cap_still_bounds_what_is_at_stake(book, seed):
    statuses, clauses, payout = judged(book, snapshot(seed, {"sme.prior_honorarium_jpy": 200_000,
                                                             "plan.contract_type": "contract_work"}))
    assert statuses["plan.contract-type", "case"] == FAIL
    assert clauses["sme.honorarium-cap", "case"] == 2                 # P + U = 200,000 + 0
    assert (payout["honorarium_uncapped_jpy"], payout["honorarium_jpy"], payout["honorarium_at_stake_jpy"]) == (
        0, 0, 100_000)


# ------------------------------------------------------------------ procedure.order and the result order

def test_an_early_step_costs_that_step_not_the_case(book, seed):
    patch = _steps(seed, [60_000, 60_000])
    patch["steps"][0]["started_on"] = "2021-01-20"     # the day before the contract was received
    data = snapshot(seed, patch)
    before, _, old = judged(book, data, further=False)
    assert before["procedure.order", "case"] == FAIL and old["honorarium_jpy"] == 0
    statuses, _, payout = judged(book, data)
    assert statuses["procedure.order", "case"] == PASS
    assert (statuses["step.before-contract", "step:1"], statuses["step.before-contract", "step:2"]) == (FAIL, PASS)
    assert [s["honorarium_jpy"] for s in payout["steps"]] == [0, 140_000]
    assert payout["honorarium_jpy"] == 140_000


def test_the_other_arrows_of_procedure_order_still_hold(book, seed):
    statuses, _, _ = judged(book, snapshot(seed, {"contract.received_on": "2021-01-19"}))  # before acceptance
    assert statuses["procedure.order", "case"] == FAIL
    statuses, _, _ = judged(book, snapshot(seed, {"steps[0].client_paid_on": "2021-02-18"}))  # before completion
    assert statuses["procedure.order", "case"] == FAIL


def _order(results) -> list[str]:
    return list(dict.fromkeys(rule for rule, _subject, _status in results))


def test_results_follow_further_order_and_subject_order(book, seed):
    case = book.validate(snapshot(seed, _steps(seed, [60_000, 60_000, 60_000]))).case
    results, _ = floor.judge(case, further=True)
    assert _order(results) == list(floor.FURTHER_ORDER)
    for rule in ("step.client-share", "step.before-contract", "step.recording", "step.program-period"):
        assert [s for r, s, _ in results if r == rule] == ["step:1", "step:2", "step:3"]
    plain, _ = floor.judge(case)
    assert _order(plain) == [rule for rule in floor.FURTHER_ORDER if rule not in floor.FURTHER_RULES]


@pytest.mark.parametrize("facts", [{}, {"sme.prior_honorarium_jpy": 300_000, "sme.kind": "association",
                                        "plan.hourly_rate_jpy": 1000, "steps[0].recorded": False}])
def test_without_the_flag_the_further_facts_change_nothing(book, seed, facts):
    for patch in ({}, {"steps[0].started_on": "2021-07-20"}, {"contract.received_on": DROP}):
        with_facts = floor.judge(book.validate(snapshot(seed, {**patch, **facts})).case)
        without = floor.judge(book.validate(snapshot(seed, patch, further=False)).case)
        assert with_facts == without


@pytest.fixture(scope="module")
def generated(book):
    """3,000 generated cases with the further facts, validated."""
    return [book.validate(data).case for data in samples.generate(3000, seed=13, further=True)]


def test_the_flag_only_adds_rules_and_changes_only_what_further_rules_md_changes(generated):
    for case in generated:
        old = {(r, s): status for r, s, status in floor.judge(case)[0]}
        new = {(r, s): status for r, s, status in floor.judge(case, further=True)[0]}
        assert set(old) <= set(new)
        assert {rule for rule, _ in set(new) - set(old)} <= set(floor.FURTHER_RULES)
        for key, status in old.items():
            if key == ("procedure.order", "case"):      # one arrow fewer: fewer pairs to break
                assert status == FAIL or new[key] == PASS, case.case_id
            elif key != ("claim.honorarium", "case"):   # compared with another honorarium
                assert new[key] == status, (case.case_id, key)


# ------------------------------------------------------------------ the sample generator

# sha256 of json.dumps(generate(n, seed), ensure_ascii=False) as bench/samples.py gave before the flag.
BEFORE_THE_FLAG = {
    (7, 3000): "b4dfede3af62045539366540730be94e988c06eaf12eef5a1c854cc9f6c36b75",
    (20210301, 3000): "58c83186a535bf44687d9d5d49bc85c81408160f49b9c6cbc33a1d16be61ca22",
    (1, 500): "432d0d5e94a722945646ec2bbdb92381024cce997e29f52571c76dcd037183d2",
}


@pytest.mark.parametrize(("seed", "count"), sorted(BEFORE_THE_FLAG))
def test_without_the_flag_the_generated_cases_are_byte_for_byte_those_of_before(seed, count):
    text = json.dumps(samples.generate(count, seed=seed), ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == BEFORE_THE_FLAG[seed, count]
    assert samples.generate(count, seed=seed, further=False) == samples.generate(count, seed=seed)


def test_with_the_flag_every_clause_of_every_further_rule_is_reached(generated):
    reached: collections.Counter = collections.Counter()
    for case in generated:
        clauses: list = []
        floor.judge(case, None, True, clauses)
        reached.update((rule, clause) for rule, _subject, clause in clauses)
    missing = [(rule, clause) for rule, statuses in floor.CLAUSES.items()
               for clause in range(1, len(statuses)) if not reached[rule, clause]]
    assert not missing, f"never reached: {missing}"


def test_with_the_flag_cases_carry_every_further_fact_and_stay_valid_input(book):
    data = samples.generate(600, seed=5, further=True)
    assert data == samples.generate(600, seed=5, further=True)
    seen = collections.defaultdict(set)
    for case in data:
        assert book.judge(case)["format"] == "rulebook.verdict/v1", case["case_id"]
        for section, names in (("sme", ("kind", "industry", "capital_jpy", "employees", "prior_honorarium_jpy")),
                               ("expert", ("kind", "qualifications")),
                               ("plan", ("contract_type", "hourly_rate_jpy"))):
            for name in names:
                if name in (case.get(section) or {}):
                    seen[section, name].add(json.dumps(case[section][name]))
        for step in case.get("steps", []):
            if "recorded" in step:
                seen["step", "recorded"].add(json.dumps(step["recorded"]))
    assert {json.loads(v) for v in seen["sme", "industry"]} >= set(floor.SIZE_LIMITS)
    assert {json.loads(v) for v in seen["sme", "kind"]} >= {"company", "sole_proprietor", "other_organisation"}
    assert {json.loads(v) for v in seen["expert", "kind"]} == {"individual", "corporation"}
    assert {json.loads(v) for v in seen["plan", "contract_type"]} == {"quasi_mandate", "contract_work"}
    assert {json.loads(v) for v in seen["step", "recorded"]} == {True, False}
    assert len(seen["sme", "prior_honorarium_jpy"]) > 10 and len(seen["plan", "hourly_rate_jpy"]) > 3


# ------------------------------------------------------------------ the second example

FIGURE = re.compile(r"^#\s{3}(\w+)\s+(\w+)", re.MULTILINE)


def _figures(text: str) -> tuple[dict, dict]:
    """The two blocks of figures in the example's opening comment: with further-rules.md, then without."""
    comment = text.split("\nformat:", 1)[0]
    further, plain = comment.split("requirements.md alone", 1)
    return ({k: v for k, v in FIGURE.findall(further)}, {k: v for k, v in FIGURE.findall(plain)})


def _verdict(results) -> str:
    statuses = {status for _r, _s, status in results}
    return "ineligible" if FAIL in statuses else "incomplete" if PENDING in statuses else "eligible"


def test_the_second_example_gives_the_figures_written_at_its_top(book):
    text = (EXAMPLES / "second-period-case.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    case = book.validate(data).case
    further, plain = _figures(text)
    assert len(further) == 8 and len(plain) == 7
    clauses: list = []
    for figures, (results, payout) in ((further, floor.judge(case, None, True, clauses)), (plain, floor.judge(case))):
        assert figures.pop("verdict") == _verdict(results)
        assert {k: int(v) for k, v in figures.items()} == {k: payout[k] for k in figures}
    # what it is there to show: second period, several steps, the tiered fee and the cap both bite
    assert floor.period_end(case.plan.approved_on) == dt.date(2022, 2, 28)
    assert len(case.steps) >= 3 and case.sme.prior_honorarium_jpy > 0
    assert ("sme.honorarium-cap", "case", 3) in clauses
    _r, payout = floor.judge(case, None, True)
    payments = {step.client_payment_jpy for step in case.steps}
    fees = [step["platform_fee_jpy"] for step in payout["steps"]]
    assert len(payments) == 1 and fees == sorted(set(fees), reverse=True)   # equal payments, falling fees
    assert payout["honorarium_jpy"] < payout["honorarium_uncapped_jpy"]
