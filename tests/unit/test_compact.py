"""The compact line (`output/compact.py`): entries as msgspec records written by msgspec, the
same bytes as the explainer's compact verdict written by `dumps` — on generated cases through
the batch decoder and through the model, on every kind of fact a slot holds (hypothesis), and
on a rulebook whose records hold decimals of their own."""

from __future__ import annotations

import random
import shutil
from decimal import Decimal

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rulebook.engine.evaluate import FACTS, RULE, Evaluation
from rulebook.engine.runtime import UNSET
from rulebook.language.value import row_class
from rulebook.output.explain import dumps
from samples import make_case


def explained(book, outcome, warnings=()) -> bytes:
    """The reference: the explainer's compact verdict of an outcome, written by `dumps`."""
    return dumps(book._explainer.explain(outcome, warnings, compact=True, raw=True))


def judged(book, text: bytes, model: bool):
    """(outcome, warnings) of a line, read by the decoder (when it can) or by the model."""
    validator = book._validator
    checked = validator.validate(text) if model else validator.validate_line(text)
    return book._evaluator.evaluate(checked.case), checked.warnings


# Facts of the generated cases that each reach a path of their own: a parameter's table and row,
# a tuple of rows, a decoder's record (a step with its photos and its hours) repeated in the line,
# a list of records, a decimal computed by a rule.
_REACHED = {"table": b'"sme_size_limits":{', "row": b'"limits":[', "rows": b'"program_periods":[[',
            "step": b'"final_step":{"number"', "steps": b'"steps":[{"number"', "late": b'"late_steps":[{',
            "photos": b'.photos":[{"moment"', "decimal": b'"minimum_jpy":', "hours": b'.hours":12.5'}


@pytest.mark.parametrize("further", [False, True])
def test_the_compact_line_is_the_explainers_through_the_decoder_and_through_the_model(book, further):
    rng = random.Random(33)
    writer = book.compact_writer
    reached = dict.fromkeys(_REACHED, 0)
    repeated = 0
    duration = next(rule for rule in book.plan.rules if rule.id == "case.duration")
    final_slot = FACTS + [key for key, _kind in duration.facts].index("final_step")
    encode = msgspec.json.Encoder(decimal_format="number").encode
    for i in range(300):
        text = orjson.dumps(make_case(rng, i, further=further))
        outcome, warnings = judged(book, text, model=False)
        assert type(outcome.case).__module__ == "rulebook.input.structs"  # the decoder's records
        line, verdict, failed, payout = writer.line(outcome, warnings)
        assert line == explained(book, outcome, warnings)
        model_outcome, model_warnings = judged(book, text, model=True)  # the model's records
        assert writer.line(model_outcome, model_warnings)[0] == line
        for path, found in _REACHED.items():
            reached[path] += found in line
        final = next((r[final_slot] for r in outcome.results if r[RULE] == duration.index and r[3] >= 0), None)
        if final is not None and final is not UNSET:  # the same record twice: in the steps, as the final one
            repeated += line.count(encode(final)) >= 2
    assert all(reached.values()) if further else reached["steps"] and reached["hours"] and reached["photos"]
    assert repeated


_PERIOD = row_class("program_period", ("name_ja", "name_en", "first_day", "last_day"))
_LEAF = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=3) | st.just("x" * 201) \
    | st.dates() | st.decimals(allow_nan=True, allow_infinity=True) | st.just("\x1b\u202e\u2028")


def _numbers():
    return st.integers(-2**70, 2**70) | st.decimals(allow_nan=False, allow_infinity=False) \
        | st.decimals(allow_nan=True, allow_infinity=True, places=2) \
        | st.sampled_from([Decimal("6250.0"), Decimal("1E+1"), Decimal("1.5E-7"), Decimal("-0"), Decimal("12.50"),
                           Decimal("1E+16"), Decimal("0.1"), Decimal("sNaN"), Decimal("NaN")])


def _value(kind: str, step):
    """Values a slot of this kind may hold: its own (the type checker's), None, or unset."""
    if kind in ("integer", "yen", "rate", "hours", "days", "months", "business_days", "decimal", "percent"):
        own = _numbers()
    elif kind == "text":
        own = st.text(max_size=5) | st.just("y" * 250) | st.just("\x00\x1f\"\\\u2028")
    elif kind == "date":
        own = st.dates()
    elif kind == "boolean":
        own = st.booleans()
    elif kind.startswith("list:text"):
        own = st.lists(st.text(max_size=3) | st.just("z" * 201), max_size=3).flatmap(
            lambda items: st.sampled_from([items, tuple(items)]))
    elif kind.startswith("record:"):
        own = st.sampled_from([step]) | st.builds(_PERIOD, _LEAF, _LEAF, _LEAF, _LEAF)
    elif kind.startswith("list:record:"):
        own = st.lists(st.sampled_from([step]), max_size=2) \
            | st.lists(st.builds(_PERIOD, _LEAF, _LEAF, _LEAF, _LEAF), max_size=2).map(tuple)
    else:
        own = st.lists(_LEAF, max_size=2)
    return own | st.none() | st.just(UNSET)


@st.composite
def _outcomes(draw, book):
    text = orjson.dumps(make_case(random.Random(draw(st.integers(0, 50))), 1, further=True))
    outcome, warnings = judged(book, text, model=draw(st.booleans()))
    step = outcome.case.steps[0] if outcome.case.steps else None
    results = []
    for r in outcome.results:
        if r[3] >= 0 and draw(st.integers(0, 3)) == 0:  # a result now and then with facts of its own
            facts = book.plan.rules[r[RULE]].facts
            r = r[:FACTS] + tuple(draw(_value(kind, step)) for _key, kind in facts)
        results.append(r)
    return Evaluation(outcome.case, outcome.as_of, results, outcome.step_amounts, outcome.payout, outcome.params,
                      outcome.steps, outcome.unpriced), warnings


@given(st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_kind_of_fact_a_slot_holds_is_written_as_dumps_writes_it(book, data):
    """Numbers of every kind (whole decimals, decimals `dumps` writes in its own way, integers
    past 64 bits, non-finite ones, a signalling NaN no table can hold), texts long and hostile,
    rows of a parameter holding anything, the decoder's records, lists and tuples of them: the
    line is the explainer's, and the tally counts the explainer's statuses."""
    from collections import Counter

    outcome, warnings = data.draw(_outcomes(book))
    writer = book.compact_writer
    tally = writer.tally()
    line = writer.line(outcome, warnings, tally)[0]
    assert line == explained(book, outcome, warnings)
    assert writer.counts(tally) == Counter((r["rule"], r["status"]) for r in orjson.loads(line)["results"])


def test_a_rulebook_whose_records_hold_decimals_gets_the_models_bytes(tmp_path):
    """Another rulebook: a step with a decimal of its own (`rate_used`), written whole among the
    facts. The decoder gives 12.50 as the model reads it (12.5), and leaves to the model a
    decimal whose text in JSON is not its own (1.5E-7, written 1.5e-7): either way the line is
    the explainer's and the model's."""
    import rulebook
    from rulebook.book import bundled_rules

    rules = tmp_path / "rules"
    shutil.copytree(bundled_rules(), rules)
    schema = rules / "schema.rules"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "  recorded: optional boolean", "  rate_used: optional decimal\n  recorded: optional boolean"),
        encoding="utf-8")
    book = rulebook.load(rules, cache=False)
    writer = book.compact_writer
    decoded = 0
    for written, read in ((b"12.50", "12.5"), (b"1.0", "1"), (b"0.125", "0.125"), (b"1.5E-7", None),
                          (b'"3.10"', "3.1"), (b"1E+2", "100")):
        case = make_case(random.Random(4), 4)
        text = orjson.dumps(case).replace(b'"hours":', b'"rate_used":' + written + b',"hours":')
        fast = book._validator.validate_line(text)
        model = book._validator.validate(text)
        assert type(model.case) is book.model
        if read is None:  # not the decoder's: the model's
            assert type(fast.case) is book.model
        else:
            decoded += 1
            assert type(fast.case).__module__ == "rulebook.input.structs"
            assert str(fast.case.steps[0].rate_used) == read
        for checked in (fast, model):
            outcome = book._evaluator.evaluate(checked.case)
            line = writer.line(outcome, checked.warnings)[0]
            assert line == explained(book, outcome, checked.warnings)
            assert b'"rate_used":' in line
        assert writer.line(book._evaluator.evaluate(fast.case))[0] == writer.line(book._evaluator.evaluate(model.case))[0]
    assert decoded == 5


@example(Decimal("12.50"))
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1E+14"), places=2)
       | st.decimals(allow_nan=False, allow_infinity=False))
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_decimal_the_decoder_gives_is_written_by_msgspec_as_dumps_writes_it(book, value):
    """The decoder's decimal (`structs._canonical`): the model's number, and its text the one
    `dumps` writes — or None, and the model reads the line."""
    from rulebook.input.structs import _canonical

    read = _canonical(value)
    if read is not None:
        assert read == value
        assert msgspec.json.Encoder(decimal_format="number").encode(read) == dumps(value)
        assert str(read) == str(Decimal(repr(float(value)))) or read == read.to_integral_value()
    else:
        assert msgspec.json.Encoder(decimal_format="number").encode(Decimal(repr(float(value)))) != dumps(value) \
            or Decimal(repr(float(value))) != value


def test_a_parameters_table_and_rows_are_written_once_and_kept_by_their_id(book):
    from rulebook.output import compact

    rng = random.Random(7)
    compact._SHARED.clear()
    for i in range(60):
        book.judge_compact(orjson.dumps(make_case(rng, i, further=True)))
    kinds = {type(value).__name__ for value, _raw in compact._SHARED.values()}
    assert {"mappingproxy", "tuple", "ProgramPeriod", "SizeLimit"} <= kinds
    assert sum(type(value) is tuple for value, _raw in compact._SHARED.values()) <= 2  # the periods' one tuple
    for value, raw in compact._SHARED.values():
        assert bytes(raw) == dumps(value)



def test_the_tally_counts_by_clause_and_adds_up_by_rule_and_status(book):
    """The tally counts a result in its clause's slot (several clauses share a status), a
    parameter with no value and a rule not in force in the rule's own slots, and what is taken
    back in the status's slot: `counts` adds them up by (rule, status), a key whose slots add up
    to nothing left out."""
    from collections import Counter

    writer = book.compact_writer
    assert any(len(rule.clauses) > len({c.status for c in rule.clauses}) for rule in book.plan.rules)
    rng = random.Random(41)
    tally, expected, lines = writer.tally(), Counter(), []
    for i in range(120):
        outcome, warnings = judged(book, orjson.dumps(make_case(rng, i, further=i % 2 == 1)), model=False)
        line = writer.line(outcome, warnings, tally)[0]
        results = orjson.loads(line)["results"]
        expected.update((r["rule"], r["status"]) for r in results)
        lines.append(results)
    assert writer.counts(tally) == expected
    for results in lines[:40]:  # taken back: counted in the status's slot, the clause's stays
        writer.take_back(tally, results)
        expected.subtract((r["rule"], r["status"]) for r in results)
    assert writer.counts(tally) == Counter({key: n for key, n in expected.items() if n})
    # not in force, and a parameter with no value: the rule's "not_applicable" and "fail"
    rule = book.plan.rules[0]
    outcome, warnings = judged(book, orjson.dumps(make_case(rng, 999)), model=False)
    first = next(r for r in outcome.results if r[RULE] == rule.index)
    odd = [first[:3] + (-1, outcome.as_of), first[:3] + (-2, "a_parameter", outcome.as_of)]
    outcome = Evaluation(outcome.case, outcome.as_of, odd, outcome.step_amounts, outcome.payout, outcome.params,
                         outcome.steps, outcome.unpriced)
    tally = writer.tally()
    line, _verdict, failed, _payout = writer.line(outcome, warnings, tally)
    assert [r["status"] for r in orjson.loads(line)["results"]] == ["not_applicable", "fail"]
    assert failed == [f"{rule.id}@{first[1]}"]
    assert writer.counts(tally) == Counter({(rule.id, "not_applicable"): 1, (rule.id, "fail"): 1})


def writer_line(book, outcome, warnings) -> bytes:
    return book.compact_writer.line(outcome, warnings)[0]


def test_a_value_msgspec_cannot_write_gets_the_explainers_line_counted_once(book):
    """A text slot holding the model's record (which msgspec does not write; `dumps` does): the
    explainer's line, and the tally counts its results once."""
    from collections import Counter

    text = orjson.dumps(make_case(random.Random(5), 5))
    outcome, warnings = judged(book, text, model=True)
    rule = next(rule for rule in book.plan.rules if any(kind == "text" for _key, kind in rule.facts))
    slot = FACTS + [kind for _key, kind in rule.facts].index("text")
    odd = [r[:slot] + (outcome.case.steps[0],) + r[slot + 1:] if r[RULE] == rule.index and r[3] >= 0 else r
           for r in outcome.results]
    assert odd != outcome.results
    outcome = Evaluation(outcome.case, outcome.as_of, odd, outcome.step_amounts, outcome.payout, outcome.params,
                         outcome.steps, outcome.unpriced)
    with pytest.raises(TypeError):  # (what the writer meets)
        msgspec.json.encode(outcome.case.steps[0])
    reference = explained(book, outcome, warnings)
    tally = book.compact_writer.tally()
    line, verdict, _failed, _payout = book.compact_writer.line(outcome, warnings, tally)
    assert line == reference and verdict == orjson.loads(reference)["verdict"]
    assert book.compact_writer.counts(tally) == Counter((r["rule"], r["status"])
                                                        for r in orjson.loads(reference)["results"])


def test_a_case_with_warnings_gets_them_in_both_languages_as_the_explainer_writes_them(book):
    """An unknown field (warned about): the line's `warnings` and `warning_messages` after the
    payout, as the explainer's; none at all on a case without warnings."""
    case = make_case(random.Random(6), 6)
    case["sme"]["nmae"] = "typo"
    outcome, warnings = judged(book, orjson.dumps(case), model=False)
    assert warnings
    line = writer_line(book, outcome, warnings)
    assert line == explained(book, outcome, warnings)
    assert list(orjson.loads(line))[-3:] == ["payout", "warnings", "warning_messages"]
    plain, no_warnings = judged(book, orjson.dumps(make_case(random.Random(6), 6)), model=False)
    assert not no_warnings and b'"warnings"' not in writer_line(book, plain, no_warnings)
