"""The worker's chunk (`apps/audit/worker.judge_chunk`): its results as one block of lines, each
case's ledger row pointing at its own line, cases.csv's rows — and a case that a batch rule
cannot read, in the middle of a chunk, taken back out of the block, whether the lines are
compact or full."""

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


@pytest.mark.parametrize("spill", [False, True])
@pytest.mark.parametrize("compact", [True, False])
def test_a_case_a_batch_rule_refuses_mid_chunk_leaves_no_line_and_the_rows_point_at_their_lines(
        tmp_path, compact, spill):
    rules = _refusing_rules(tmp_path)
    seed = the_seed()
    cases = [seed | {"case_id": "A", "as_of": "2021-06-30"}, seed, seed | {"case_id": "B", "as_of": "2021-07-01"}]
    inputs = write_jsonl(tmp_path / "cases.jsonl", cases)
    units = list(iter_units([str(inputs)]))
    (tmp_path / "spill").mkdir()
    judged = worker.judge_chunk(units, rules, None, compact, "en", str(tmp_path / "spill") if spill else None)
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
    assert [row[:4] for row in judged.error_rows] == [(1, str(inputs), 2, "SEED-EXAMPLE")]
    assert [row[0] for row in judged.cases] == [0, 2]
    # the statuses are those of the two verdicts, the refused case's taken back
    counted = {}
    for line in lines:
        for result in orjson.loads(line)["results"]:
            key = (result["rule"], result["status"])
            counted[key] = counted.get(key, 0) + 1
    assert dict(judged.statuses) == counted
    sheet = judged.sheet.decode("utf-8").splitlines()
    assert [row.split(",")[0] for row in sheet] == ["A", "B"]
