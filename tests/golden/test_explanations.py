"""Explained verdicts of chosen cases, in Japanese and English, as golden files.

`pytest --update-golden` rewrites them; review the change with `git diff`.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from rulebook.output.render import render_verdict

from ..conftest import EXAMPLES

HERE = Path(__file__).parent
CASES = ["seed-case", "failing-case", "pending-case", "second-period-case"]


def verdict_of(book, name: str) -> dict:
    data = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    out = book.judge(data)
    out["rulebook"]["digest"] = "<digest>"  # changes with every rule edit; compared elsewhere
    return out


@pytest.mark.parametrize("name", CASES)
def test_verdict_json(book, golden, name):
    text = orjson.dumps(verdict_of(book, name), option=orjson.OPT_INDENT_2).decode() + "\n"
    golden(HERE / f"{name}.verdict.json", text)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_verdict_text(book, golden, name, lang):
    text = render_verdict(verdict_of(book, name), book.plan.stages, lang, color=False, amounts=book.amount_titles) + "\n"
    golden(HERE / f"{name}.{lang}.txt", text)


def test_the_worked_example_matches_the_program_page(book):
    out = verdict_of(book, "seed-case")
    assert out["verdict"] == "eligible"
    payout = out["payout"]
    assert [payout[k] for k in ("client_paid_jpy", "platform_fee_jpy", "expert_receives_jpy", "honorarium_jpy",
                                "expert_total_jpy")] == [60000, 12000, 48000, 140000, 188000]
    assert payout["steps"] == [{"step": 1, "honorarium_jpy": 140000, "honorarium_at_stake_jpy": 140000,
                                "paid_to_date_jpy": 60000, "fee_to_date_jpy": 12000,
                                "platform_fee_jpy": 12000, "expert_receives_jpy": 48000}]
    share = next(r for r in out["results"] if r["rule"] == "step.client-share")
    assert share["facts"]["steps[0].client_payment_jpy"] == 60000
    assert share["facts"]["minimum_jpy"] == 20000
    assert share["source"]["ref"] == "seed §どんなメリットがあるの?"


def test_the_second_period_example_gives_the_figures_in_its_header(book):
    """examples/second-period-case.yaml: the SME's cap and the tiered fee bite (its header gives the
    figures the hand-written floor computes from further-rules.md)."""
    header = (EXAMPLES / "second-period-case.yaml").read_text(encoding="utf-8").split("format:")[0]
    out = verdict_of(book, "second-period-case")
    assert out["verdict"] == "eligible" and "verdict                   eligible" in header
    for key, value in out["payout"].items():
        if key != "steps":
            assert f"{key:<26}{value}" in header, key
    assert [(s["platform_fee_jpy"], s["honorarium_jpy"]) for s in out["payout"]["steps"]] == [
        (16000, 140000), (10000, 140000), (6000, 140000)]
