"""floor: the program's requirements as plain hand-written Python.

Written from shared/spec/requirements.md alone (not from rules/ or the engine),
so it serves twice: as the speed floor of the benchmark (what a careful engineer
would write by hand, with no rule engine) and as an independent oracle for the
differential test (tests/unit/test_differential.py).

    judge(case, as_of=None) -> (results, payout)

`case` is the validated snapshot model (`book.validate(data).case`). `results`
is the list of (rule id, subject, status) in the order of requirements.md;
`payout` holds the six case-level figures. Statuses only: no messages, no facts,
no business-day arithmetic (a pending result needs no due date here).
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

PASS, FAIL, PENDING, NA = "pass", "fail", "pending", "not_applicable"

_MIN = dt.date.min                        # "no date upstream" in the order check
_SUBJECTS = tuple(f"step:{n}" for n in range(200))


def _subject(n: int) -> str:
    return _SUBJECTS[n] if n < 200 else f"step:{n}"


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


def _in_order(lan, sme, expert, con, plan, contract, steps) -> bool:
    """procedure.order: False when some set date is later than a set date reachable from it.

    One pass over the graph in topological order: `m` is the latest set date among a node's
    ancestors (through unset nodes too, since reachability does not need them set); a set date
    earlier than `m` is out of order, and after the check the node's own date is the new latest.
    Graph: consent → sme.applied → sme.approved → consultation.registered → consultation.approved
    → plan.proposed; consent → expert.applied → expert.approved → plan.proposed; plan.proposed →
    plan.sme_agreed → plan.approved → contract.sme_accepted, contract.expert_accepted →
    contract.received → step 1 started; in each step started → completed → paid → report.
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

    # Steps: step 1 hangs below the contract; every later step is its own chain.
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


def judge(case, as_of: dt.date | None = None):
    """(rule, subject, status) for every rule of requirements.md, and the case's payout."""
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

    s_order = PASS if _in_order(lan, sme, expert, con, plan, contract, steps) else FAIL

    case_failed = FAIL in (s_method, s_consent, s_sme, s_expert, s_route, s_area, s_count, s_order)

    # ---- step rules ----
    share, photos, deadline, delay = [], [], [], []
    paid = fee = stake = earned = 0
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

        end = step.planned_end_on
        if (done > end) if done is not None else (as_of > end):
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
        step_fee = pay * FEE_PERCENT // 100
        paid += pay
        fee += step_fee
        stake += at_stake
        if not failed:
            earned += at_stake

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

    # ---- payout and claim.honorarium ----
    due = 0 if case_failed else earned
    receives = paid - fee
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
    results += [("step.client-share", sub, s) for sub, s in share]
    results += [("step.photos", sub, s) for sub, s in photos]
    results += [("step.report-deadline", sub, s) for sub, s in deadline]
    results += [("step.delay-report", sub, s) for sub, s in delay]
    results.append(("final.payment-capture", final[0], final[1]))

    payout = {
        "client_paid_jpy": paid,
        "platform_fee_jpy": fee,
        "expert_receives_jpy": receives,
        "honorarium_jpy": due,
        "honorarium_at_stake_jpy": stake,
        "expert_total_jpy": receives + due,
    }
    return results, payout
