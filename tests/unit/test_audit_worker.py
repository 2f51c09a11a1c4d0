"""The worker's chunk (`apps/audit/worker.judge_chunk`): its results' lines, each case's ledger
row pointing at its own line, cases.csv's rows — with a case that a batch rule cannot read, in
the middle of a chunk or last, whose line is not among them, whether the lines are compact or
full; and the batch rows' adder it uses."""

from __future__ import annotations

import json

import orjson
import pytest

from rulebook.apps.audit import worker
from rulebook.input.documents import iter_units

from .test_audit_checks import the_seed, write_jsonl
from .test_batch_rules import replace_in, rules_copy


def _refusing_rules(tmp_path):
    """The bundled rules, but the implausible hours' rule cannot read a case judged before
    2021-06-01 (its parameter has no value then)."""
    def edit(folder):
        replace_in(folder / "batch.rules", "sum hours = step.hours spread",
                   "sum hours = step.hours + hours_per_day - hours_per_day spread")
        replace_in(folder / "batch.rules", "value 24 hours from 2020-04-01", "value 24 hours from 2021-06-01")

    return str(rules_copy(tmp_path, edit))


@pytest.mark.parametrize("refused", [1, 2])
@pytest.mark.parametrize("spill", [False, True])
@pytest.mark.parametrize("compact", [True, False])
def test_a_case_a_batch_rule_refuses_mid_chunk_leaves_no_line_and_the_rows_point_at_their_lines(
        tmp_path, compact, spill, refused):
    """The refused case between two verdicts or after them; the same chunk judged twice in a
    process gives the same."""
    rules = _refusing_rules(tmp_path)
    seed = the_seed()
    cases = [seed | {"case_id": "A", "as_of": "2021-06-30"}, seed | {"case_id": "B", "as_of": "2021-07-01"}]
    cases.insert(refused, seed)
    inputs = write_jsonl(tmp_path / "cases.jsonl", cases)
    units = list(iter_units([str(inputs)]))
    (tmp_path / "spill").mkdir()
    first = worker.judge_chunk(units, rules, None, compact, "en")
    judged = worker.judge_chunk(units, rules, None, compact, "en", str(tmp_path / "spill") if spill else None)
    assert judged.cases == first.cases and judged.sheet == first.sheet
    if spill:
        with open(judged.results.path, "rb") as fh:
            block = fh.read()
        assert judged.results.size == len(block)
    else:
        [block] = judged.results
    lines = block.splitlines(keepends=True)
    assert [json.loads(line)["case_id"] for line in lines] == ["A", "B"]
    assert judged.results_size == len(block)
    assert [row[3] for row in judged.cases] == ["A", "B"]
    for row, line in zip(judged.cases, lines):  # (…, offset, length): its own line
        offset, length = row[11], row[12]
        assert block[offset:offset + length] == line
        assert row[4] == json.loads(line)["verdict"]
    [error] = [json.loads(line) for line in b"".join(judged.errors).splitlines()]
    assert error["case_id"] == "SEED-EXAMPLE" and "batch.implausible-hours" in error["errors"][0]["message"]
    assert [row[:4] for row in judged.error_rows] == [(refused, str(inputs), refused + 1, "SEED-EXAMPLE")]
    assert [row[0] for row in judged.cases] == [n for n in range(3) if n != refused]
    if not spill:
        assert first.results == judged.results
    # the statuses are those of the two verdicts, the refused case's taken back
    counted = {}
    for line in lines:
        for result in orjson.loads(line)["results"]:
            key = (result["rule"], result["status"])
            counted[key] = counted.get(key, 0) + 1
    assert dict(judged.statuses) == counted
    sheet = judged.sheet.decode("utf-8").splitlines()
    assert [row.split(",")[0] for row in sheet] == ["A", "B"]


def test_the_batch_rows_adder_adds_what_add_batch_rows_adds_and_refuses_what_it_refuses(tmp_path):
    import datetime as dt
    import random

    import rulebook
    from samples import make_case

    """The same rows, in the same lists, for every case; the same error for a case a batch rule
    cannot read (the edited rules refuse a case judged before 2021-06-01), and no row for it."""
    for book, refusing in ((rulebook.load(None), False), (rulebook.load(_refusing_rules(tmp_path), cache=False), True)):
        add = book.batch_rows_adder()
        rng = random.Random(8)
        refused = 0
        for i in range(200):
            case = book._validator.validate_line(orjson.dumps(make_case(rng, i, days=600))).case
            payout = book._evaluator.evaluate(case).payout
            day = None if i % 3 else dt.date(2021, 7, 1)  # (an audit's --as-of now and then)
            fast = [[] for _ in book.plan.batch_rules]
            slow = [[] for _ in book.plan.batch_rules]
            said = add(case, payout, day, "cases.jsonl", i + 1, (i, case.case_id), fast)
            assert said == book.add_batch_rows(case, payout, day, "cases.jsonl", i + 1, (i, case.case_id), slow)
            assert fast == slow
            refused += said is not None
            assert said is None or not any(fast)
        assert (0 < refused < 200) if refusing else refused == 0
