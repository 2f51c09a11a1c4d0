"""Differential test: the engine (rules/ through the DSL) against bench/floor.py.

The floor is written by hand from shared/spec/requirements.md and further-rules.md alone
(`judge(case, further=True)`), so the two are independent readings of the same decision
lists: on every generated case — with the further facts (`samples.generate(…, further=True)`)
and without them, as older snapshots are — and on the examples, they must give the same
(rule, subject, status) results in the same order, the same payout and the same figures of
each step. A mismatch names the case, the rule, the subject and both statuses.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
import yaml

import rulebook
import samples

from ..conftest import shared

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import floor  # noqa: E402

PAYOUT_KEYS = ("client_paid_jpy", "platform_fee_jpy", "expert_receives_jpy", "honorarium_jpy",
               "honorarium_at_stake_jpy", "expert_total_jpy", "honorarium_uncapped_jpy")
STEP_KEYS = ("step", "honorarium_jpy", "honorarium_at_stake_jpy", "platform_fee_jpy", "expert_receives_jpy")
SHIFT = dt.timedelta(days=15)
SHIFT_EVERY = 5          # judge every 5th case a second time, 15 days later


@pytest.fixture(scope=shared("module"))
def engine():
    return rulebook.load()


def _examples() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.yaml"))]


def _show(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, default=str, sort_keys=True)


def _differences(book, data: dict, as_of: dt.date | None = None) -> list[str]:
    """Every disagreement between the engine and the floor on one snapshot, as readable lines."""
    model = book.validate(data).case
    out = book.judge(data, as_of)
    assert out["format"] == "rulebook.verdict/v1", f"{data.get('case_id')}: engine rejected it: {out}"
    mine, my_payout = floor.judge(model, as_of, further=True)
    theirs = [(r["rule"], r["subject"], r["status"]) for r in out["results"]]
    when = f"as_of={as_of or model.as_of}"
    problems = []
    if mine != theirs:
        engine_at = {(rule, subject): status for rule, subject, status in theirs}
        floor_at = {(rule, subject): status for rule, subject, status in mine}
        for key in dict.fromkeys([(r, s) for r, s, _ in mine] + [(r, s) for r, s, _ in theirs]):
            e, f = engine_at.get(key, "<missing>"), floor_at.get(key, "<missing>")
            if e != f:
                problems.append(f"case {model.case_id} ({when}) rule {key[0]} subject {key[1]}: "
                                f"engine={e} floor={f}")
        if not problems:  # same results, different order
            problems.append(f"case {model.case_id} ({when}): result order differs\n"
                            f"  engine={theirs}\n  floor={mine}")
    payout = {k: out["payout"][k] for k in PAYOUT_KEYS}
    for key in PAYOUT_KEYS:
        if payout[key] != my_payout[key]:
            problems.append(f"case {model.case_id} ({when}) payout {key}: "
                            f"engine={payout[key]} floor={my_payout[key]}")
    steps = [{k: s[k] for k in STEP_KEYS} for s in out["payout"]["steps"]]
    if steps != my_payout["steps"]:
        problems.append(f"case {model.case_id} ({when}) payout steps: engine={steps} floor={my_payout['steps']}")
    return problems


def _run(book, batch: list[dict]) -> tuple[int, list[str]]:
    compared, problems = 0, []
    for i, data in enumerate(batch):
        problems += _differences(book, data)
        compared += 1
        if i % SHIFT_EVERY == 0:
            later = dt.date.fromisoformat(str(data["as_of"])) + SHIFT
            problems += _differences(book, data, later)
            compared += 1
    return compared, problems


def _report(problems: list[str], batch: list[dict], limit: int = 20) -> str:
    by_id = {d["case_id"]: d for d in batch}
    lines = [f"{len(problems)} disagreement(s) between the engine and bench/floor.py:"]
    lines += problems[:limit]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    first = problems[0].split()[1]
    if first in by_id:
        lines.append(f"first case: {_show(by_id[first])}")
    return "\n".join(lines)


def test_examples_agree(engine):
    batch = _examples()
    compared, problems = _run(engine, batch)
    assert compared >= len(batch)
    assert not problems, _report(problems, batch)


@pytest.mark.parametrize("seed", [7, 20210301])
def test_generated_cases_with_the_further_facts_agree(engine, seed):
    batch = samples.generate(3000, seed=seed, further=True)
    compared, problems = _run(engine, batch)
    assert compared == 3000 + 600
    assert not problems, _report(problems, batch)


def test_generated_cases_without_the_further_facts_agree(engine):
    """Older snapshots, with none of further-rules.md's facts: still valid, and judged alike."""
    batch = samples.generate(1500, seed=7)
    compared, problems = _run(engine, batch)
    assert compared == 1500 + 300
    assert not problems, _report(problems, batch)


def test_the_comparison_sees_a_disagreement(engine):
    """The test can fail: a snapshot judged one way by the floor and another by the engine (the
    engine judging 16 days later, where a report's last day has passed) is reported."""
    data = yaml.safe_load((ROOT / "examples" / "pending-case.yaml").read_text(encoding="utf-8"))
    model = engine.validate(data).case
    later = model.as_of + dt.timedelta(days=16)
    original = floor.judge
    try:
        floor.judge = lambda case, as_of=None, further=False: original(case, model.as_of, further)
        problems = _differences(engine, data, later)
    finally:
        floor.judge = original
    assert any("step.report-deadline subject step:1: engine=fail floor=pending" in p for p in problems), problems


def test_the_floor_reproduces_the_worked_example(engine):
    seed = yaml.safe_load((ROOT / "examples" / "seed-case.yaml").read_text(encoding="utf-8"))
    results, payout = floor.judge(engine.validate(seed).case, further=True)
    assert {s for _, _, s in results} == {"pass", "not_applicable"}
    assert (payout["client_paid_jpy"], payout["expert_receives_jpy"], payout["honorarium_jpy"],
            payout["expert_total_jpy"]) == (60000, 48000, 140000, 188000)
