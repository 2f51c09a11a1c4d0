"""samples: synthetic case snapshots, valid by construction, for tests and benchmarks.

`make_case(rng, i)` draws one snapshot from a `random.Random`, so the same
seed gives the same cases (benchmarks) and hypothesis can drive it (properties).
Cases wander through every branch: sections not started yet, late reports,
wrong referrers, missing photos, dates out of order, claims too high.

With `further=True` a case also carries the facts of shared/spec/further-rules.md
(sme.kind, industry, capital_jpy, employees, prior_honorarium_jpy, expert.kind,
qualifications, plan.contract_type, hourly_rate_jpy, steps[].recorded), and its
dates run from 2020 to late 2022, often placed around the days those rules turn on
(the periods' first and last days, 2021-03-01, 2021-07-20, the stop on new cases
2021-09-16..2021-10-18, 2021-10-19, 2022-10-01), with contracts received on a
month's last day and cases that run about six months, so that every clause of
every further rule is reached. With `further=False` (the default) the cases are
byte for byte those of before the flag: tests and benchmarks depend on them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from decimal import Decimal

PARTNER = "ランサーズ株式会社"
AREAS = ["analysis", "telework", "web_meeting", "ec_site", "cashless_payment", "security", "other_digital"]

# further-rules.md's values (and a few it does not know, to be judged as wrong).
INDUSTRY_LIMITS = {"manufacturing": (300_000_000, 300), "wholesale": (100_000_000, 100),
                   "retail": (50_000_000, 50), "services": (50_000_000, 100),
                   "rubber_products": (300_000_000, 900), "software": (300_000_000, 300),
                   "inns": (50_000_000, 200)}
INDUSTRIES = sorted(INDUSTRY_LIMITS)
QUALIFYING = ["sme_consultant", "ipa_exam", "it_coordinator"]
NOT_QUALIFYING = ["pmp", "aws_saa", "bookkeeping_2"]
# (day, how many days after the case's first day the fact compared with it usually falls)
ANCHORS = [
    (dt.date(2020, 9, 1), 20),     # plan.approved_on: 第1期 begins
    (dt.date(2021, 2, 28), 20),    # plan.approved_on: 第1期 ends; 2021-03-01, 第Ⅱ期 and no more NPOs
    (dt.date(2021, 2, 28), 55),    # reports of 第1期 around its last day
    (dt.date(2022, 2, 28), 20),    # plan.approved_on: 第Ⅱ期 ends
    (dt.date(2022, 2, 28), 55),    # reports of 第Ⅱ期 around its last day
    (dt.date(2021, 7, 20), 30),    # steps started: recording required
    (dt.date(2021, 9, 16), 10),    # consultation.registered_on: the stop on new cases begins
    (dt.date(2021, 10, 18), 10),   # ... and ends
    (dt.date(2021, 10, 19), 3),    # expert.applied_on: a qualification required
    (dt.date(2022, 10, 1), 25),    # contract.received_on: the flat 16.5% fee
]


def _day(base: dt.date, offset: int) -> str:
    return (base + dt.timedelta(days=offset)).isoformat()


def _month_end(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _months_later(day: dt.date, months: int) -> dt.date:
    """Roughly `months` months after `day` (the same day number, or the month's last): an aim, not a rule."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _first_day(rng: random.Random) -> dt.date:
    """The first day of a case with the further facts: anywhere from 2020-06 to 2022-10, or near an anchor."""
    if rng.random() < 0.35:
        return dt.date(2020, 6, 1) + dt.timedelta(days=rng.randrange(0, 870))
    day, after = rng.choice(ANCHORS)
    return day - dt.timedelta(days=after + rng.randint(-12, 12))


def _pick(rng: random.Random, weighted):
    """One value of [(weight, value), ...]."""
    return rng.choices([v for _w, v in weighted], weights=[w for w, _v in weighted])[0]


def _size_figure(rng: random.Random, limit: int, small: int):
    return _pick(rng, [(10, None), (60, rng.randint(1, small)), (10, limit), (10, limit + 1), (10, limit * 3)])


def _sme_facts(rng: random.Random) -> dict:
    """sme.kind, industry, capital_jpy, employees, prior_honorarium_jpy (each sometimes absent)."""
    out: dict = {}
    kind = _pick(rng, [(60, "company"), (15, "sole_proprietor"), (12, "other_organisation"), (8, None),
                       (5, "association")])
    if kind is not None:
        out["kind"] = kind
    industry = _pick(rng, [(90, rng.choice(INDUSTRIES)), (4, None), (6, "construction")])
    if industry is not None:
        out["industry"] = industry
    capital_limit, employees_limit = INDUSTRY_LIMITS.get(industry, (50_000_000, 50))
    capital = _size_figure(rng, capital_limit, 50_000_000)
    employees = _size_figure(rng, employees_limit, 50)
    if capital is not None:
        out["capital_jpy"] = capital
    if employees is not None:
        out["employees"] = employees
    prior = _pick(rng, [(35, None), (10, 0), (25, 10_000 * rng.randint(1, 29)), (15, 10_000 * rng.randint(20, 29)),
                        (5, 300_000), (3, 299_999), (7, 320_000)])
    if prior is not None:
        out["prior_honorarium_jpy"] = prior
    return out


def _expert_facts(rng: random.Random) -> dict:
    """expert.kind and qualifications (absent: none)."""
    out: dict = {}
    kind = _pick(rng, [(55, "individual"), (30, "corporation"), (15, None)])
    if kind is not None:
        out["kind"] = kind
    held = _pick(rng, [(25, []), (55, rng.sample(QUALIFYING, rng.randint(1, 2))),
                       (20, rng.sample(NOT_QUALIFYING, rng.randint(1, 2)))])
    if held or rng.random() < 0.5:
        out["qualifications"] = held
    return out


def make_case(rng: random.Random, i: int = 0, further: bool = False, *, expert: int | None = None,
              days: int = 400) -> dict:
    """One valid `rulebook.case/v1` snapshot, as JSON-ready data (`further`: see the module's
    docstring): the case begins on one of `days` days from 2020-06-01 (or, with `further`, near the
    further rules' anchor days); its expert is drawn from a pool, or is the `expert`-th one."""
    if further:
        base = _first_day(rng)
    else:
        base = dt.date(2020, 6, 1) + dt.timedelta(days=rng.randrange(0, days))
    t = 0

    def later(lo=0, hi=4):
        nonlocal t
        t += rng.randint(lo, hi)
        return t

    def maybe(p=0.9):
        return rng.random() < p

    stage = rng.choice([1, 2, 3, 4, 5, 5, 5, 5, 5])  # how far the case has gone
    case: dict = {
        "format": "rulebook.case/v1",
        "case_id": f"G-{i:07d}",
        "lancers": {
            "project_id": str(3300000 + i),
            "method": "project" if maybe(0.98) else rng.choice(["task", "competition"]),
            "program_consent_on": _day(base, later()) if maybe(0.95) else None,
            "program_consent_via": rng.choice(["message", "workspace"]) if maybe(0.98) else "email",
        },
    }

    def party(name):
        applied = later(0, 3)
        out = {"name": name, "applied_on": _day(base, applied) if maybe(0.97) else None,
               "referrer": PARTNER if maybe(0.97) else rng.choice(["商工会議所", None]),
               "terms_agreed": True if maybe(0.97) else rng.choice([False, None])}
        if out["applied_on"] and maybe(0.93):
            approved = applied + rng.randint(0, 5)
            out["approved_on"] = _day(base, approved)
            nonlocal t
            t = max(t, approved)
        return out

    # An expert helps several SMEs: a pool of experts, fewer than the cases.
    drawn = rng.randrange(max(10, i // 4 + 10))
    expert = drawn if expert is None else expert
    case["sme"] = party(f"株式会社サンプル{i}")
    case["expert"] = party(f"専門家 {expert}") | {"lancers_user": f"user{expert}"}
    if further:
        case["sme"] |= _sme_facts(rng)
        case["expert"] |= _expert_facts(rng)
    if stage >= 2:
        registered = later(1, 5)
        approved = registered + rng.randint(0, 4)
        case["consultation"] = {"id": f"S-{i:06d}", "registered_on": _day(base, registered),
                                "approved_on": _day(base, approved) if maybe(0.9) else None}
        t = max(t, approved)
    n_steps = rng.choice([1, 1, 2, 2, 3])
    if stage >= 3:
        areas = rng.sample(AREAS, rng.randint(1, 3)) if maybe(0.97) else rng.choice([[], ["sns"]])
        case["plan"] = {
            "id": f"P-{i:06d}", "proposed_on": _day(base, later(0, 3)),
            "matching_route": "matching_partner" if maybe(0.97) else "other",
            "matching_partner": PARTNER if maybe(0.96) else None,
            "support_areas": areas,
            "support_note": ("EC運用の相談" if maybe(0.9) else "  ") if "other_digital" in areas else None,
            "sme_agreed_on": _day(base, later(0, 3)) if maybe(0.95) else None,
            "approved_on": _day(base, later(0, 4)) if maybe(0.9) else None,
            "steps": n_steps,
        }
        if further:
            kind = _pick(rng, [(85, "quasi_mandate"), (8, "contract_work"), (7, None)])
            if kind is not None:
                case["plan"]["contract_type"] = kind
            if maybe(0.7):
                case["plan"]["hourly_rate_jpy"] = rng.choice([2000, 3000, 4000, 5000, 5500, 7000])
    received = None   # the offset of contract.received_on, when set
    if stage >= 4:
        case["contract"] = {"sme_accepted_on": _day(base, later(0, 3)),
                            "expert_accepted_on": _day(base, later(0, 2)) if maybe(0.95) else None,
                            "received_on": _day(base, later(0, 3)) if maybe(0.9) else None}
        if further and case["contract"]["received_on"] is not None:
            received = t
            if maybe(0.25):  # received on a month's last day: months count from the 1st
                received = t = (_month_end(base + dt.timedelta(days=t)) - base).days
                case["contract"]["received_on"] = _day(base, t)
    # A case of about six months: its last step ends near contract.received_on + 6 months.
    six_months = (_months_later(base + dt.timedelta(days=received), 6) - base).days if received is not None else None
    long_case = further and six_months is not None and maybe(0.2)
    if stage >= 5:
        steps = []
        listed = n_steps if maybe(0.8) else rng.randint(1, n_steps + (1 if maybe(0.2) else 0))
        for number in range(1, listed + 1):
            if long_case and number == listed:
                t = max(t, six_months - rng.randint(10, 45))
            start = later(1, 6) - (rng.randint(1, 30) if rng.random() < (0.04 if further else 0.01) else 0)
            planned_end = start + rng.randint(10, 40)
            hours = Decimal(rng.choice([10, 20, 40, 12.5, 7.25, 33, 0.5]))
            hours = hours.quantize(Decimal("0.01")).normalize()
            per_hour = rng.choice([500, 800, 1500, 2000, 1000]) if maybe(0.96) else rng.choice([400, 499])
            step: dict = {
                "number": number, "planned_end_on": _day(base, planned_end),
                "hours": int(hours) if hours == int(hours) else float(hours),
                "client_payment_jpy": int(per_hour * hours) if maybe(0.99) else int(per_hour * hours) - 1,
                "started_on": _day(base, start),
                "photos": [],
            }
            done = maybe(0.85)
            if done:
                completed = planned_end + (rng.choice([-5, -3, -1, 0]) if maybe(0.9) else rng.choice([2, 8]))
                if long_case and number == listed and maybe(0.6):
                    completed = max(start, six_months + rng.randint(-2, 4))
                step["completion_reported_on"] = _day(base, completed)
                step["client_paid_on"] = _day(base, completed + rng.randint(0, 3))
                report = (completed + (rng.choice([1, 4, 9, 10]) if maybe(0.93) else rng.choice([11, 20]))
                          if maybe(0.85) else None)
                step["report_submitted_on"] = _day(base, report) if report is not None else None
                if maybe(0.15):
                    step["delay_report_submitted_on"] = _day(base, completed + rng.randint(-3, 12))
                t = max(t, completed + 1, report or 0)
            for moment in ("start", "end"):
                if moment == "end" and not done:
                    continue
                for _ in range(rng.choice([1, 1, 1, 2]) if maybe(0.97) else 0):
                    step["photos"].append({
                        "moment": moment, "taken_on": _day(base, start), "setting": rng.choice(["onsite", "online"]),
                        "shows_sme": maybe(0.98), "shows_expert": maybe(0.99)})
            if number == n_steps:
                step["payment_capture_attached"] = maybe(0.9)
            if further:
                recorded = _pick(rng, [(75, True), (10, False), (15, None)])
                if recorded is not None:
                    step["recorded"] = recorded
                if not done and maybe(0.3):
                    step["started_on"] = None   # not started yet
            steps.append(step)
        case["steps"] = steps
        if maybe(0.7):
            honorarium = int(sum(3500 * s["hours"] for s in steps))
            case["claim"] = {"honorarium_jpy": honorarium + (rng.choice([0, -1000]) if maybe(0.95) else 3500)}
    late = rng.randint(150, 250) if further and rng.random() < 0.1 else 0   # judged long after
    case["as_of"] = _day(base, t + rng.randint(0, 30) + late)
    return case


def generate(count: int, seed: int = 1, further: bool = False) -> list[dict]:
    rng = random.Random(seed)
    return [make_case(rng, i, further) for i in range(count)]


# ------------------------------------------------------------------ event logs

def _dated_leaves(data, path: str = ""):
    """(path, date) of every `…_on` date in a snapshot, but the planned ends (required)."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else key
            if isinstance(value, str) and key.endswith("_on") and key != "planned_end_on":
                yield here, dt.date.fromisoformat(value)
            elif isinstance(value, (dict, list)):
                yield from _dated_leaves(value, here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _dated_leaves(value, f"{path}[{index}]")


def case_history(case: dict, rng: random.Random, extra: int = 0) -> list[tuple[dt.date, dict | None, dict]]:
    """A case as it happened: (day, snapshot or None, changes), in day order.

    The first entry carries the snapshot with every date still to come removed; then
    each date is set on its day. `extra` more entries re-send a value the case already
    has, on a random later day (as systems that report a whole record do)."""
    from rulebook.input.snapshot import unset_path

    leaves = sorted(_dated_leaves(case), key=lambda item: (item[1], item[0]))
    day0 = leaves[0][1] if leaves else dt.date.fromisoformat(case["as_of"])
    first = _copy(case)
    later: dict[dt.date, dict] = {}
    for path, day in leaves:
        if day > day0:
            unset_path(first, path)
            later.setdefault(day, {})[path] = day.isoformat()
    history: list = [(day0, first, {})]
    history += [(day, None, changes) for day, changes in sorted(later.items())]
    last = max([day0, *later])
    for _ in range(extra):
        path, day = rng.choice(leaves) if leaves else ("lancers.project_id", day0)
        when = max(day, day0) + dt.timedelta(days=rng.randint(0, 20))
        value = day.isoformat() if path != "lancers.project_id" else case["lancers"]["project_id"]
        history.append((when, None, {path: value}))
        last = max(last, when)
    history.sort(key=lambda item: (item[0], item[1] is None))
    return history


def _copy(data):
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def generate_events(cases: int, events: int, seed: int = 1) -> list[dict]:
    """An event log of about `events` events over `cases` cases, in time order: each case's
    history (see case_history), interleaved by day."""
    rng = random.Random(seed)
    per_case = max(1, events // max(1, cases))
    entries = []
    for i in range(cases):
        case = make_case(rng, i)
        days = len({day for _path, day in _dated_leaves(case)})
        history = case_history(case, rng, extra=max(0, per_case - days))
        for order, (day, snapshot, changes) in enumerate(history):
            event: dict = {"case_id": case["case_id"], "at": day.isoformat()}
            if snapshot is not None:
                event["snapshot"] = snapshot
            if changes:
                event["set"] = changes
            entries.append((day, i, order, event))
    entries.sort(key=lambda item: item[:3])
    return [event for *_key, event in entries]
