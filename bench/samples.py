"""samples: synthetic case snapshots, valid by construction, for tests and benchmarks.

`make_case(rng, i)` draws one snapshot from a `random.Random`, so the same
seed gives the same cases (benchmarks) and hypothesis can drive it (properties).
Cases wander through every branch: sections not started yet, late reports,
wrong referrers, missing photos, dates out of order, claims too high.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

PARTNER = "ランサーズ株式会社"
AREAS = ["analysis", "telework", "web_meeting", "ec_site", "cashless_payment", "security", "other_digital"]


def _day(base: dt.date, offset: int) -> str:
    return (base + dt.timedelta(days=offset)).isoformat()


def make_case(rng: random.Random, i: int = 0, *, expert: int | None = None, days: int = 400) -> dict:
    """One valid `rulebook.case/v1` snapshot, as JSON-ready data: the case begins on one of `days`
    days from 2020-06-01; its expert is drawn from a pool, or is the `expert`-th one."""
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
    if stage >= 4:
        case["contract"] = {"sme_accepted_on": _day(base, later(0, 3)),
                            "expert_accepted_on": _day(base, later(0, 2)) if maybe(0.95) else None,
                            "received_on": _day(base, later(0, 3)) if maybe(0.9) else None}
    if stage >= 5:
        steps = []
        listed = n_steps if maybe(0.8) else rng.randint(1, n_steps + (1 if maybe(0.2) else 0))
        for number in range(1, listed + 1):
            start = later(1, 6) - (rng.randint(1, 30) if rng.random() < 0.01 else 0)
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
            steps.append(step)
        case["steps"] = steps
        if maybe(0.7):
            honorarium = int(sum(3500 * s["hours"] for s in steps))
            case["claim"] = {"honorarium_jpy": honorarium + (rng.choice([0, -1000]) if maybe(0.95) else 3500)}
    case["as_of"] = _day(base, t + rng.randint(0, 30))
    return case


def generate(count: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [make_case(rng, i) for i in range(count)]


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
