"""floor: the program's rules as plain hand-written Python.

Written from the spec alone — shared/spec/requirements.md, and with `further=True`
shared/spec/further-rules.md too — not from rules/ or the engine, so it serves twice:
as the speed floor of the benchmark (what a careful engineer would write by hand,
with no rule engine) and as an independent oracle for the differential test
(tests/unit/test_differential.py).

    judge(case, as_of=None, further=False, clauses=None) -> (results, payout)

`case` is the validated snapshot model (`book.validate(data).case`), or anything with
the same attributes. `results` is the list of (rule id, subject, status); `payout`
holds the six case-level figures. Statuses only: no messages, no facts, no
business-day arithmetic (a pending result needs no due date here).

- `further=False` (the default): requirements.md alone, in its order, with its payout
  (a flat 20% fee) — exactly the results of the rulebook before further-rules.md.
- `further=True`: requirements.md + further-rules.md. Nine more rules, in the order of
  `FURTHER_ORDER`; `procedure.order` without the arrow contract.received_on → step 1
  `started_on`; the new payout (the rate cap, the tiered fee of the contract's day
  shared out by step, the cap of 300,000 yen per SME). `payout` then also holds
  `honorarium_uncapped_jpy` (U of the spec) and `steps`, one {"step", "honorarium_jpy",
  "honorarium_at_stake_jpy", "platform_fee_jpy", "expert_receives_jpy"} per listed step,
  as the verdict's payout.steps: the step's honorarium (min(base, rate cap), 0 when one of
  its results fails), min(base, rate cap), its share of the tiered fee, and its payment
  less that share. (The cap per SME applies to the case's sum, not to the steps.)
- `clauses`: a list to which, with `further=True`, every further rule appends
  (rule id, subject, clause), the 1-based number of the clause of its decision list
  that gave the status (the tests count them; `None` costs nothing).

The further facts are not in the snapshot model yet: they are read with
`getattr(obj, name, None)`, so the model's extra attributes (or a newer model's
fields) serve alike; `expert.qualifications` absent is empty, `sme.prior_honorarium_jpy`
absent is 0.

Months are counted by the Civil Code (`add_months`): articles 140 (the first day is
not counted) and 143 (a period not counted from the start of a month ends the day
before the day of the last month that corresponds to its first counted day, or at the
end of that month when it has none). So `received_on` + 6 months is the same day
number six months later, or that month's last day when it is shorter, **and the last
day of the sixth month when `received_on` is the last day of its month** (counting
then starts on the 1st: 2021-02-28 + 6 months = 2021-08-31, not 2021-08-28). The last
point goes beyond the spec's one-sentence summary of the articles; the articles decide.

The parameters that "hold from start" hold on every day before their next edition
(the spec gives no first day).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

# Parameters in force (requirements.md, "Parameters").
HONORARIUM_PER_HOUR = Decimal(3500)       # 最大3,500円/時間(税込)
CLIENT_MIN_PER_HOUR = Decimal(500)        # 最低500円/時間(税込)
REPORT_DEADLINE = dt.timedelta(days=10)   # 完了報告から10日以内 (D + 10 calendar days)
FEE_PERCENT = 20                          # platform fee estimate, % of what the client pays
PARTNER = "ランサーズ株式会社"
CONSENT_CHANNELS = frozenset(("message", "workspace"))
AREAS = frozenset(("analysis", "telework", "web_meeting", "ec_site", "cashless_payment", "security",
                   "other_digital"))

# Parameters of further-rules.md. Each day below is compared with the fact of the case its comment names.
HONORARIUM_CAP_PER_SME = 300_000          # 300,000 yen per SME, over all its cases
LONGEST_SUPPORT_MONTHS = 6                # from contract.received_on, Civil Code months
# SME size limits by industry: (capital_jpy, employees); at or under either one is small enough.
SIZE_LIMITS = {
    "manufacturing": (300_000_000, 300),
    "wholesale": (100_000_000, 100),
    "retail": (50_000_000, 50),
    "services": (50_000_000, 100),
    "rubber_products": (300_000_000, 900),
    "software": (300_000_000, 300),
    "inns": (50_000_000, 200),
}
OTHER_ORGANISATIONS_UNTIL = dt.date(2021, 3, 1)   # plan.approved_on from this day: NPOs etc. not eligible
RECORDING_FROM = dt.date(2021, 7, 20)             # step started_on from this day: sessions recorded
QUALIFICATION_FROM = dt.date(2021, 10, 19)        # expert.applied_on from this day: a qualification needed
QUALIFICATIONS = frozenset(("sme_consultant", "ipa_exam", "it_coordinator"))
# Program periods, by plan.approved_on: (first day, last day); every report of a period by its last day.
PERIODS = ((dt.date(2020, 9, 1), dt.date(2021, 2, 28)),    # 第1期
           (dt.date(2021, 3, 1), dt.date(2022, 2, 28)))    # 第Ⅱ期
NO_NEW_CASES = (dt.date(2021, 9, 16), dt.date(2021, 10, 18))  # consultation.registered_on: not accepted
# The platform fee, dated: (holds from, tiers). A tier is (upper bound of the client payments it
# covers or None, per mille of that part); the value on day d is the last row from a day <= d, read
# on contract.received_on (as_of while it is not set). Estimates, as the spec says.
FEE_SCHEDULE = (
    (dt.date.min, ((100_000, 200), (200_000, 100), (None, 50))),   # 20% / 10% / 5%
    (dt.date(2022, 10, 1), ((None, 165),)),                       # flat 16.5%
)

PASS, FAIL, PENDING, NA = "pass", "fail", "pending", "not_applicable"

# The status each clause of a further rule gives, by clause number (1-based; index 0 unused).
SME_SIZE = (None, PASS, PENDING, FAIL, PASS, FAIL, PENDING, FAIL, PASS, FAIL)
CONTRACT_TYPE = (None, PENDING, PASS, FAIL, PENDING)
DURATION = (None, PENDING, FAIL, PASS, PENDING, FAIL)
PROGRAM_PERIOD = (None, FAIL, PENDING, FAIL, PASS)
QUALIFICATION = (None, PENDING, NA, NA, PENDING, PASS, FAIL)
HONORARIUM_CAP = (None, FAIL, PASS, PASS)
BEFORE_CONTRACT = (None, PENDING, FAIL, PASS)
RECORDING = (None, PENDING, NA, PASS, FAIL, PENDING)
STEP_PERIOD = (None, NA, PASS, FAIL, PENDING, FAIL)

# The order of the results with further=True. requirements.md's case rules come first, as there;
# then further-rules.md's case rules in the order it lists them, except that the two rules that
# read the payout (sme.honorarium-cap, then claim.honorarium, which compares the claim with the
# capped honorarium) come last among the case rules, since the spec computes the payout after
# every other case rule; then requirements.md's step rules, then further-rules.md's step rules in
# its order, and final.payment-capture last, as in requirements.md. Each rule's results are in
# subject order (step:1, step:2, …). With further=False the order is this one without the nine
# further rules, which is requirements.md's.
FURTHER_ORDER = (
    "lancers.project-method", "lancers.program-consent", "sme.registration", "expert.registration",
    "consultation.approved", "plan.matching-route", "plan.support-area", "plan.approved",
    "plan.step-count", "contract.accepted", "procedure.order",
    "sme.size", "plan.contract-type", "case.duration", "case.program-period", "expert.qualification",
    "sme.honorarium-cap", "claim.honorarium",
    "step.client-share", "step.photos", "step.report-deadline", "step.delay-report",
    "step.before-contract", "step.recording", "step.program-period",
    "final.payment-capture",
)
FURTHER_RULES = ("sme.size", "plan.contract-type", "case.duration", "case.program-period",
                 "expert.qualification", "sme.honorarium-cap",
                 "step.before-contract", "step.recording", "step.program-period")
# Clause tables by rule id (what the tests iterate over).
CLAUSES = {"sme.size": SME_SIZE, "plan.contract-type": CONTRACT_TYPE, "case.duration": DURATION,
           "case.program-period": PROGRAM_PERIOD, "expert.qualification": QUALIFICATION,
           "sme.honorarium-cap": HONORARIUM_CAP, "step.before-contract": BEFORE_CONTRACT,
           "step.recording": RECORDING, "step.program-period": STEP_PERIOD}

_MIN = dt.date.min                        # "no date upstream" in the order check
_SUBJECTS = tuple(f"step:{n}" for n in range(200))


def _subject(n: int) -> str:
    return _SUBJECTS[n] if n < 200 else f"step:{n}"


def add_months(day: dt.date, months: int) -> dt.date:
    """The last day of a period of `months` months from `day`, by the Civil Code (arts. 140, 143).

    The first day is not counted, so the period starts on day + 1. Started mid-month, it ends the
    day before the corresponding day of the last month — that is, on `day`'s own day number —
    or on that month's last day when it has none; started on the 1st (`day` the last day of its
    month), it runs whole months and ends on the last day of the last one.
    """
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    length = _month_length(year, month)
    if day.day >= length or day.day == _month_length(day.year, day.month):
        return dt.date(year, month, length)
    return dt.date(year, month, day.day)


_LENGTHS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_length(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _LENGTHS[month]


def fee_tiers(day: dt.date):
    """The platform fee's tiers in force on `day` (FEE_SCHEDULE)."""
    tiers = FEE_SCHEDULE[0][1]
    for since, value in FEE_SCHEDULE:
        if since <= day:
            tiers = value
    return tiers


def fee(paid: int, tiers) -> int:
    """F: the fee on client payments adding up to `paid`, under `tiers`, rounded down to the yen."""
    per_mille = 0
    lower = 0
    for upper, rate in tiers:
        if upper is None or paid <= upper:
            per_mille += (paid - lower) * rate
            break
        per_mille += (upper - lower) * rate
        lower = upper
    return per_mille // 1000


def period_end(approved: dt.date | None) -> dt.date | None:
    """The last day of the program period of a plan approved on `approved`; None outside them."""
    if approved is not None:
        for first, last in PERIODS:
            if first <= approved <= last:
                return last
    return None


def _registration(party) -> str:
    if party.applied_on is None:
        return PENDING
    if party.referrer != PARTNER:
        return FAIL
    if party.terms_agreed is not True:
        return FAIL
    if party.approved_on is None:
        return PENDING
    return PASS


# ---- further-rules.md's case rules: each returns the number of the clause that decides ----

def sme_size(sme, approved: dt.date | None) -> int:
    """sme.size (利用規約 第2条(6)); `approved` is plan.approved_on."""
    kind = getattr(sme, "kind", None)
    if kind == "sole_proprietor":
        return 1
    if kind is None:
        return 2
    if kind == "other_organisation":
        return 3 if approved is not None and approved >= OTHER_ORGANISATIONS_UNTIL else 4
    if kind != "company":
        return 5
    industry = getattr(sme, "industry", None)
    capital = getattr(sme, "capital_jpy", None)
    employees = getattr(sme, "employees", None)
    if industry is None or (capital is None and employees is None):
        return 6
    limits = SIZE_LIMITS.get(industry)
    if limits is None:
        return 7
    if (capital is not None and capital <= limits[0]) or (employees is not None and employees <= limits[1]):
        return 8
    return 9


def contract_type(plan) -> int:
    """plan.contract-type: 準委任 only."""
    if plan is None or plan.proposed_on is None:
        return 1
    kind = getattr(plan, "contract_type", None)
    if kind == "quasi_mandate":
        return 2
    if kind is not None:
        return 3
    return 4


def duration(received: dt.date | None, planned: int, steps, as_of: dt.date) -> int:
    """case.duration: at most 6 months from contract.received_on; `planned` is plan.steps (0: no plan)."""
    if received is None:
        return 1
    last = add_months(received, LONGEST_SUPPORT_MONTHS)
    for step in steps:
        done = step.completion_reported_on
        if done is not None and done > last:
            return 2
    if 0 < planned <= len(steps) and steps[planned - 1].completion_reported_on is not None:
        return 3
    if as_of <= last:
        return 4
    return 5


def program_period(con, approved: dt.date | None, end: dt.date | None) -> int:
    """case.program-period; `end` is period_end(approved)."""
    if con is not None:
        registered = con.registered_on
        if registered is not None and NO_NEW_CASES[0] <= registered <= NO_NEW_CASES[1]:
            return 1
    if approved is None:
        return 2
    if end is None:
        return 3
    return 4


def qualification(expert) -> int:
    """expert.qualification: individual experts who applied from 2021-10-19."""
    applied = expert.applied_on
    if applied is None:
        return 1
    if applied < QUALIFICATION_FROM:
        return 2
    kind = getattr(expert, "kind", None)
    if kind == "corporation":
        return 3
    if kind is None:
        return 4
    for code in getattr(expert, "qualifications", None) or ():
        if code in QUALIFICATIONS:
            return 5
    return 6


def honorarium_cap(prior: int, uncapped: int) -> int:
    """sme.honorarium-cap: `prior` is P, `uncapped` is U."""
    if prior >= HONORARIUM_CAP_PER_SME:
        return 1
    if prior + uncapped <= HONORARIUM_CAP_PER_SME:
        return 2
    return 3


def _in_order(lan, sme, expert, con, plan, contract, steps, further: bool = False) -> bool:
    """procedure.order: False when some set date is later than a set date reachable from it.

    One pass over the graph in topological order: `m` is the latest set date among a node's
    ancestors (through unset nodes too, since reachability does not need them set); a set date
    earlier than `m` is out of order, and after the check the node's own date is the new latest.
    Graph: consent → sme.applied → sme.approved → consultation.registered → consultation.approved
    → plan.proposed; consent → expert.applied → expert.approved → plan.proposed; plan.proposed →
    plan.sme_agreed → plan.approved → contract.sme_accepted, contract.expert_accepted →
    contract.received → step 1 started (requirements.md only: further-rules.md drops this arrow);
    in each step started → completed → paid → report.
    """
    top = lan.program_consent_on
    if top is None:
        top = _MIN

    # SME side, then the consultation.
    m = top
    v = sme.applied_on
    if v is not None:
        if m > v:
            return False
        m = v
    v = sme.approved_on
    if v is not None:
        if m > v:
            return False
        m = v
    if con is not None:
        v = con.registered_on
        if v is not None:
            if m > v:
                return False
            m = v
        v = con.approved_on
        if v is not None:
            if m > v:
                return False
            m = v

    # Expert side.
    e = top
    v = expert.applied_on
    if v is not None:
        if e > v:
            return False
        e = v
    v = expert.approved_on
    if v is not None:
        if e > v:
            return False
        e = v

    # Both meet at plan.proposed_on.
    if e > m:
        m = e
    if plan is not None:
        v = plan.proposed_on
        if v is not None:
            if m > v:
                return False
            m = v
        v = plan.sme_agreed_on
        if v is not None:
            if m > v:
                return False
            m = v
        v = plan.approved_on
        if v is not None:
            if m > v:
                return False
            m = v

    if contract is not None:
        a = m
        v = contract.sme_accepted_on
        if v is not None:
            if m > v:
                return False
            a = v
        b = m
        v = contract.expert_accepted_on
        if v is not None:
            if m > v:
                return False
            b = v
        m = a if a > b else b
        v = contract.received_on
        if v is not None:
            if m > v:
                return False
            m = v

    # Steps: step 1 hangs below the contract (requirements.md only); every later step is its own chain.
    if further:
        m = _MIN
    for step in steps:
        v = step.started_on
        if v is not None:
            if m > v:
                return False
            m = v
        v = step.completion_reported_on
        if v is not None:
            if m > v:
                return False
            m = v
        v = step.client_paid_on
        if v is not None:
            if m > v:
                return False
            m = v
        v = step.report_submitted_on
        if v is not None and m > v:
            return False
        m = _MIN
    return True


def judge(case, as_of: dt.date | None = None, further: bool = False, clauses: list | None = None):
    """(rule, subject, status) for every rule, and the case's payout (see the module's docstring)."""
    if as_of is None:
        as_of = case.as_of
    lan = case.lancers
    sme = case.sme
    expert = case.expert
    con = case.consultation
    plan = case.plan
    contract = case.contract
    steps = case.steps

    # ---- case rules (all but claim.honorarium, which needs the payout) ----
    s_method = PASS if lan.method == "project" else FAIL

    if lan.program_consent_on is not None:
        s_consent = PASS if lan.program_consent_via in CONSENT_CHANNELS else FAIL
    elif plan is not None and plan.proposed_on is not None:
        s_consent = FAIL
    else:
        s_consent = PENDING

    s_sme = _registration(sme)
    s_expert = _registration(expert)
    s_consultation = PASS if con is not None and con.approved_on is not None else PENDING

    if plan is None or plan.proposed_on is None:
        s_route = s_area = PENDING
    else:
        s_route = PASS if plan.matching_route == "matching_partner" and plan.matching_partner == PARTNER else FAIL
        areas = plan.support_areas
        if not areas:
            s_area = FAIL
        elif not AREAS.issuperset(areas):
            s_area = FAIL
        elif "other_digital" in areas and (plan.support_note is None or not plan.support_note.strip()):
            s_area = FAIL
        else:
            s_area = PASS

    if plan is None:
        s_plan = PENDING
        planned = 0
    else:
        s_plan = PASS if plan.sme_agreed_on is not None and plan.approved_on is not None else PENDING
        planned = plan.steps
    s_count = PASS if len(steps) <= planned else FAIL

    if (contract is not None and contract.sme_accepted_on is not None
            and contract.expert_accepted_on is not None and contract.received_on is not None):
        s_contract = PASS
    else:
        s_contract = PENDING

    s_order = PASS if _in_order(lan, sme, expert, con, plan, contract, steps, further) else FAIL

    case_failed = FAIL in (s_method, s_consent, s_sme, s_expert, s_route, s_area, s_count, s_order)

    if further:
        # further-rules.md's case rules, as clause numbers (all but sme.honorarium-cap: it needs U)
        received = contract.received_on if contract is not None else None
        approved = plan.approved_on if plan is not None else None
        end = period_end(approved)
        c_size = sme_size(sme, approved)
        c_type = contract_type(plan)
        c_duration = duration(received, planned, steps, as_of)
        c_period = program_period(con, approved, end)
        c_qualification = qualification(expert)
        further_case = (SME_SIZE[c_size], CONTRACT_TYPE[c_type], DURATION[c_duration],
                        PROGRAM_PERIOD[c_period], QUALIFICATION[c_qualification])
        if FAIL in further_case:
            case_failed = True
        tiers = fee_tiers(received if received is not None else as_of)
        rate = getattr(plan, "hourly_rate_jpy", None)
        before, recording, in_period, step_payouts = [], [], [], []
        cumulative = fee_before = 0

    # ---- step rules ----
    share, photos, deadline, delay = [], [], [], []
    paid = fee_total = stake = earned = 0
    for step in steps:
        sub = _subject(step.number)
        hours = step.hours
        pay = step.client_payment_jpy
        failed = False

        if pay >= CLIENT_MIN_PER_HOUR * hours:
            share.append((sub, PASS))
        else:
            share.append((sub, FAIL))
            failed = True

        start_any = start_ok = end_any = end_ok = False
        for photo in step.photos:
            both = photo.shows_sme and photo.shows_expert
            if photo.moment == "start":
                start_any = True
                if both:
                    start_ok = True
            else:
                end_any = True
                if both:
                    end_ok = True
        report = step.report_submitted_on
        if (start_any and not start_ok) or (end_any and not end_ok):
            s = FAIL
        elif start_ok and end_ok:
            s = PASS
        elif report is not None:
            s = FAIL
        else:
            s = PENDING
        photos.append((sub, s))
        if s is FAIL:
            failed = True

        done = step.completion_reported_on
        dr = step.delay_report_submitted_on
        if done is None:
            s = PENDING
        else:
            last = done + REPORT_DEADLINE
            if report is not None:
                s = PASS if report <= last or (dr is not None and dr <= last) else FAIL
            elif as_of <= last:
                s = PENDING
            elif dr is not None and dr <= last:
                s = PENDING
            else:
                s = FAIL
        deadline.append((sub, s))
        if s is FAIL:
            failed = True

        end_on = step.planned_end_on
        if (done > end_on) if done is not None else (as_of > end_on):
            if dr is not None:
                s = PASS
            else:
                s = FAIL
                failed = True
        else:
            s = NA
        delay.append((sub, s))

        # final.payment-capture for this step, if it is the final one
        if step.number == planned and report is not None and not step.payment_capture_attached:
            failed = True

        at_stake = int(HONORARIUM_PER_HOUR * hours)   # positive: int() rounds down
        paid += pay
        if not further:
            step_fee = pay * FEE_PERCENT // 100
            fee_total += step_fee
            stake += at_stake
            if not failed:
                earned += at_stake
            continue

        # further-rules.md: step.before-contract, step.recording, step.program-period
        started = step.started_on
        if started is None:
            c = 1
        elif received is None or started < received:
            c = 2
            failed = True
        else:
            c = 3
        before.append((sub, c))

        if started is None:
            c = 1
        elif started < RECORDING_FROM:
            c = 2
        elif getattr(step, "recorded", None) is True:
            c = 3
        elif report is not None:
            c = 4
            failed = True
        else:
            c = 5
        recording.append((sub, c))

        if end is None:
            c = 1
        elif report is not None:
            if report <= end:
                c = 2
            else:
                c = 3
                failed = True
        elif as_of <= end:
            c = 4
        else:
            c = 5
            failed = True
        in_period.append((sub, c))

        # the step's honorarium: min(base, rate cap); its share of the tiered fee
        if rate is not None:
            cap = rate * hours - pay
            cap = int(cap) if cap > 0 else 0          # positive: int() rounds down
            if cap < at_stake:
                at_stake = cap
        stake += at_stake
        if not failed:
            earned += at_stake
        cumulative += pay
        fee_after = fee(cumulative, tiers)
        step_fee = fee_after - fee_before
        fee_before = fee_after
        fee_total += step_fee
        step_payouts.append({"step": step.number, "honorarium_jpy": 0 if failed else at_stake,
                             "honorarium_at_stake_jpy": at_stake, "platform_fee_jpy": step_fee,
                             "expert_receives_jpy": pay - step_fee})

    # final.payment-capture
    if plan is None:
        final = ("case", PENDING)
    else:
        sub = _subject(planned)
        if planned > len(steps):
            final = (sub, PENDING)
        else:
            last_step = steps[planned - 1]
            if last_step.report_submitted_on is None:
                final = (sub, PENDING)
            else:
                final = (sub, PASS if last_step.payment_capture_attached else FAIL)

    # ---- payout and claim.honorarium (and sme.honorarium-cap) ----
    if further:
        uncapped = 0 if case_failed else earned
        prior = getattr(sme, "prior_honorarium_jpy", None) or 0
        c_cap = honorarium_cap(prior, uncapped)
        room = HONORARIUM_CAP_PER_SME - prior if prior < HONORARIUM_CAP_PER_SME else 0
        due = 0 if c_cap == 1 else min(uncapped, room)
        stake = min(stake, room)
    else:
        due = 0 if case_failed else earned
    receives = paid - fee_total
    claim = case.claim
    if claim is None or claim.honorarium_jpy is None:
        s_claim = NA
    else:
        s_claim = PASS if claim.honorarium_jpy <= due else FAIL

    results = [
        ("lancers.project-method", "case", s_method),
        ("lancers.program-consent", "case", s_consent),
        ("sme.registration", "case", s_sme),
        ("expert.registration", "case", s_expert),
        ("consultation.approved", "case", s_consultation),
        ("plan.matching-route", "case", s_route),
        ("plan.support-area", "case", s_area),
        ("plan.approved", "case", s_plan),
        ("plan.step-count", "case", s_count),
        ("contract.accepted", "case", s_contract),
        ("procedure.order", "case", s_order),
        ("claim.honorarium", "case", s_claim),
    ]
    if further:  # the further case rules go before claim.honorarium (FURTHER_ORDER)
        results[11:11] = [
            ("sme.size", "case", further_case[0]),
            ("plan.contract-type", "case", further_case[1]),
            ("case.duration", "case", further_case[2]),
            ("case.program-period", "case", further_case[3]),
            ("expert.qualification", "case", further_case[4]),
            ("sme.honorarium-cap", "case", HONORARIUM_CAP[c_cap]),
        ]
    results += [("step.client-share", sub, s) for sub, s in share]
    results += [("step.photos", sub, s) for sub, s in photos]
    results += [("step.report-deadline", sub, s) for sub, s in deadline]
    results += [("step.delay-report", sub, s) for sub, s in delay]
    if further:
        results += [("step.before-contract", sub, BEFORE_CONTRACT[c]) for sub, c in before]
        results += [("step.recording", sub, RECORDING[c]) for sub, c in recording]
        results += [("step.program-period", sub, STEP_PERIOD[c]) for sub, c in in_period]
    results.append(("final.payment-capture", final[0], final[1]))

    payout = {
        "client_paid_jpy": paid,
        "platform_fee_jpy": fee_total,
        "expert_receives_jpy": receives,
        "honorarium_jpy": due,
        "honorarium_at_stake_jpy": stake,
        "expert_total_jpy": receives + due,
    }
    if further:
        payout["honorarium_uncapped_jpy"] = uncapped
        payout["steps"] = step_payouts
        if clauses is not None:
            clauses += [("sme.size", "case", c_size), ("plan.contract-type", "case", c_type),
                        ("case.duration", "case", c_duration), ("case.program-period", "case", c_period),
                        ("expert.qualification", "case", c_qualification),
                        ("sme.honorarium-cap", "case", c_cap)]
            clauses += [("step.before-contract", sub, c) for sub, c in before]
            clauses += [("step.recording", sub, c) for sub, c in recording]
            clauses += [("step.program-period", sub, c) for sub, c in in_period]
    return results, payout
