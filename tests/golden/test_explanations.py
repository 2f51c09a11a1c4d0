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
CASES = ["seed-case", "failing-case", "pending-case"]


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
                                "platform_fee_jpy": 12000, "expert_receives_jpy": 48000}]
    share = next(r for r in out["results"] if r["rule"] == "step.client-share")
    assert share["facts"]["steps[0].client_payment_jpy"] == 60000
    assert share["facts"]["minimum_jpy"] == 20000
    assert share["source"]["ref"] == "seed §どんなメリットがあるの?"
