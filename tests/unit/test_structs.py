"""The batch path's decoder (`input/structs.py`) against the pydantic model: differential tests.

The decoder may only ever accept what the model accepts, and then with the same values; a
line it does not accept goes to the model. So `Validator.validate_line` (decoder, then model)
and `Validator.validate` (model) must give the same thing for every input: the same case, or
the same errors (paths, messages, values, places) — and the verdicts judged from either case
must be the same bytes."""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from rulebook.input.errors import Rejected
from rulebook.input.snapshot import set_path, unset_path
from rulebook.input.structs import Decoder, decoder
from rulebook.output.explain import dumps
from samples import make_case


def tree(value):
    """A value as comparable plain data: records as (class kind, fields in order), every scalar
    with its type, so a date is never equal to its text, nor a boolean to a number."""
    if isinstance(value, BaseModel) or hasattr(type(value), "__struct_fields__"):
        names = list(type(value).model_fields) if isinstance(value, BaseModel) else value.__struct_fields__
        return ("record", [(name, tree(getattr(value, name))) for name in names])
    if isinstance(value, list):
        return ("list", [tree(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, tree(v)) for k, v in value.items()])
    return (type(value).__name__, value)


def outcome(validator, text: bytes, line_path: bool):
    """What validating gives: ("ok", tree of the case, warnings) or ("refused", the error document)."""
    try:
        checked = validator.validate_line(text, "in.jsonl", 7) if line_path else validator.validate(text, "in.jsonl", 7)
    except Rejected as rejected:
        return ("refused", rejected.to_dict())
    return ("ok", tree(checked.case), [(str(w), getattr(w, "ja", None)) for w in checked.warnings])


def same_either_way(book, text: bytes) -> tuple:
    """Checks the decoder against the model on one text; returns the model's outcome."""
    validator = book._validator
    model = outcome(validator, text, line_path=False)
    assert outcome(validator, text, line_path=True) == model
    fast = validator_decoder(book).decode(text)
    if fast is not None:  # the decoder said yes: so did the model, with the same values
        if model[0] == "ok":
            assert not model[2], model
            assert tree(fast[0]) == model[1]
            assert fast[1] == validator._post(validator.validate(text).case)[2]  # fields given, counted alike
        else:  # ... unless a key is repeated, which the fields given, counted, give away
            assert fast[1] != text.count(b":"), model
            assert model[1]["errors"][0]["message"].startswith("duplicate key"), model
    return model


_DECODERS: dict = {}


def validator_decoder(book) -> Decoder:
    if id(book) not in _DECODERS:
        _DECODERS[id(book)] = decoder(book.schema)
    return _DECODERS[id(book)]


# -------------------------------------------------------------- valid cases


@pytest.mark.parametrize("further", [False, True])
def test_the_decoder_reads_generated_cases_as_the_model_does_and_the_verdicts_are_the_same_bytes(book, further):
    rng = random.Random(16)
    read = 0
    for i in range(400):
        case = make_case(rng, i, further=further)
        text = orjson.dumps(case)
        model = same_either_way(book, text)
        assert model[0] == "ok"
        read += validator_decoder(book).decode(text) is not None
        full_fast = book.judge_case(text, batch=True, raw=True)[0]
        full_model = book.judge_case(text, raw=True)[0]
        assert dumps(full_fast) == dumps(full_model)
        compact_fast = book.judge_compact(text)  # a line of a batch: through the decoder
        compact_model = book.judge_compact(case)  # a mapping: through the model
        assert compact_fast[0][0] == compact_model[0][0]
        assert compact_fast[0][1:] == compact_model[0][1:]
    assert read == 400  # further-rules.md's facts too: the schema declares them, the decoder reads them


def test_the_decoder_counts_the_fields_given_so_a_repeated_key_is_refused_as_the_model_refuses_it(book):
    text = orjson.dumps(make_case(random.Random(3), 3))
    for old, new in [(b'{"format"', b'{"case_id":"C-1","format"'),
                     (b'"hours":', b'"hours":2,"hours":'),
                     (b'"photos":[{', b'"photos":[{"shows_sme":false,'),
                     (b'"number":1,', b'"number":1,"number":1,')]:
        assert old in text
        damaged = text.replace(old, new, 1)
        model = same_either_way(book, damaged)
        assert model[0] == "refused"
        assert model[1]["errors"][0]["message"].startswith("duplicate key"), model


def test_a_null_given_is_counted_as_given_and_a_colon_inside_a_text_is_not_a_key(book):
    case = make_case(random.Random(5), 5)
    case["plan"]["support_note"] = None
    case["sme"]["name"] = "株式会社: サンプル"
    text = orjson.dumps(case)
    assert same_either_way(book, text)[0] == "ok"
    assert validator_decoder(book).decode(text) is not None


# ------------------------------------------------------------ damaged cases

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-10**30, 10**30)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str) | st.decimals(allow_nan=False, allow_infinity=False).map(str)
           | st.from_regex(r"\A[ +\-]?[0-9_٠-٩]{0,20}(\.[0-9]{0,4})?([eE][+\-]?[0-9]{1,3})?\s?\Z")
           | st.from_regex(r"\A[0-9+]{0,5}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9:]{0,8}Z?)?\Z")
           | st.dates().map(dt.date.isoformat)
           | st.text(max_size=6) | st.sampled_from(["", " ", "\u3000", "\u0085", "\u200e", "\x1b", "start", "end",
                                                      "onsite", "online", "rulebook.case/v1", "yes", "1:30", "C-1\n", "\n",
                                                      "C-1\r\n", " C-1\t"]))
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(["moment", "setting", "shows_sme", "x", "number"]), inner,
                                         max_size=3), max_leaves=8)
PATHS = ["case_id", "as_of", "format", "sme", "sme.name", "sme.applied_on", "sme.approved_on", "expert.lancers_user",
         "expert.approved_on", "lancers.project_id", "lancers.method", "consultation", "consultation.id", "plan",
         "plan.steps", "plan.support_areas", "plan.support_areas[0]", "plan.support_note", "contract",
         "contract.received_on", "steps", "steps[0]", "steps[0].number", "steps[0].hours", "steps[1].hours",
         "steps[0].client_payment_jpy", "steps[0].photos", "steps[0].photos[0].moment",
         "steps[0].photos[0].shows_sme", "steps[0].payment_capture_attached", "claim", "claim.honorarium_jpy",
         "unknown_field", "sme.unknown", "steps[0].extra"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10**6), st.lists(st.tuples(st.sampled_from(PATHS), JSONISH | st.just(...)), max_size=3))
def test_damaged_snapshots_are_accepted_or_refused_alike_with_the_same_errors(book, seed, damage):
    case = make_case(random.Random(seed), seed)
    for path, value in damage:
        try:
            unset_path(case, path) if value is ... else set_path(case, path, value)
        except ValueError:
            pass
    try:
        text = orjson.dumps(case)
    except TypeError:  # an integer wider than 64 bits: JSON has it, orjson does not write it
        text = __import__("json").dumps(case, ensure_ascii=False).encode()
    same_either_way(book, text)
    # The same snapshot as a mapping (as a YAML file or a request gives it) and as text.
    validator = book._validator
    for given in (case, text.decode("utf-8")):
        try:
            model = ("ok", tree(validator.validate(given, "in.yaml", 3).case))
        except Rejected as rejected:
            model = ("refused", rejected.to_dict())
        try:
            fast = ("ok", tree(validator.validate_fast(given, "in.yaml", 3).case))
        except Rejected as rejected:
            fast = ("refused", rejected.to_dict())
        assert fast == model


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: str(d).encode()),
    st.from_regex(rb"\A-?[0-9]{1,20}(\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?\Z"),
    st.from_regex(r"\A[ +\-]?[0-9_]{0,20}(\.[0-9]{0,4})?([eE][+\-]?[0-9]{1,3})?\s?\Z").map(
        lambda s: orjson.dumps(s)),
    st.sampled_from([b"1.50", b"1.500", b"1e2", b"1E-2", b"0.1000000000000000055511151231257827",
                     b"123456789012345.5", b"12345678901234.25", b"1e400", b'"NaN"', b'"Infinity"', b'"1_0"',
                     b'"sNaN"', b'"-sNaN"', b'"1.500"', b'"1.50"', b"1.5", b'"15E-1"', b'"0.15E1"',
                     b'"\xd9\xa1"', b"-0", b"0", b"0.00", b"1e-400", b'" 1.5 "'])))
def test_hours_written_any_way_are_read_alike(book, written):
    """... and judged alike: the compact line the decoder's records give (which msgspec writes,
    a decimal as its text: the decoder gives it as the model reads it, 12.50 as 12.5) is the
    model's, byte for byte, and so is the full verdict — the steps written whole among the facts
    (`case.duration`'s), each hours of the two written that way."""
    text = orjson.dumps(make_case(random.Random(4), 4))  # two steps, written whole among the facts
    assert text.count(b'"hours":') == 2
    for _ in range(2):  # each step's
        at = text.index(b'"hours":', text.index(b'"hours":') + 1 if _ else 0) + len(b'"hours":')
        end = text.index(b",", at)
        text = text[:at] + written + text[end:]
    if same_either_way(book, text)[0] == "ok":
        compact = book.judge_compact(text)[0][0]  # through the decoder when it reads the line
        assert compact == dumps(book.judge_case(text, compact=True, raw=True)[0])  # the model's
        assert dumps(book.judge_case(text, batch=True, raw=True)[0]) == dumps(book.judge_case(text, raw=True)[0])


def test_every_character_is_taken_or_refused_in_an_identifier_as_the_model_does(book):
    """The decoder's checks of an identifier (`finish`: a printable text at once, any other by
    the identifier's pattern on Python's `re`) against the model's (Rust's regex): one
    character at a time, every code point, the two agree (and so on any text: the patterns are
    classes of single characters, repeated), for an identifier that may be blank and one that
    may not — each character put in a decoded case, which the decoder's checks take or refuse."""
    from typing import Annotated

    from pydantic import TypeAdapter, ValidationError

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    decoding = validator_decoder(book)
    case = decoding.decode(orjson.dumps(make_case(random.Random(1), 1)))[0]
    lancers = book.model.model_fields["lancers"].annotation
    replace = msgspec.structs.replace
    for owner, name, put in ((book.model, "case_id", lambda c: replace(case, case_id=c)),
                             (lancers, "project_id", lambda c: replace(case, lancers=replace(case.lancers,
                                                                                             project_id=c)))):
        info = owner.model_fields[name]
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        slow = TypeAdapter(list[kind])
        try:
            slow.validate_python(chars, strict=True)
            refused = set()
        except ValidationError as error:  # every failing index
            refused = {e["loc"][0] for e in error.errors()}
        assert 60 < len(refused) < 2000  # controls, bidi marks (and blanks, where refused)
        finish = decoding._finish
        for i, char in enumerate(chars):
            taken = finish(put(char)) >= 0
            assert taken == (i not in refused), (name, hex(ord(char)))


def test_a_schema_with_a_table_gets_no_decoder_and_every_line_goes_to_the_model(tmp_path):
    import shutil

    import rulebook
    from rulebook.book import bundled_rules

    rules = tmp_path / "rules"
    shutil.copytree(bundled_rules(), rules)
    schema = rules / "schema.rules"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "record claim\n", "record claim\n  notes: optional table of text by text\n"), encoding="utf-8")
    book = rulebook.load(rules, cache=False)
    assert decoder(book.schema) is None
    text = orjson.dumps(make_case(random.Random(2), 2))
    assert book._validator.validate_line(text).case.__class__ is book.model


_TEXTS = st.text(max_size=3) | st.just("x" * 201)  # `jsonable` shortens a text of a list over 200
_LEAVES = st.none() | st.booleans() | st.integers(-10**6, 10**6) | _TEXTS | st.dates() \
    | st.decimals(allow_nan=True, allow_infinity=True, places=2)


@given(st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner), max_leaves=8),
       st.integers(0, 6), st.randoms(use_true_random=False))
@example("x" * 201, 2, random.Random(1))
@example(["x" * 201], 3, random.Random(2))
@example(Decimal("NaN"), 2, random.Random(3))
@example(["x" * 201], 5, random.Random(4))
@example(["y", "x" * 201], 6, random.Random(5))
@example([Decimal("-1E+19"), Decimal("123456789012345678901.00")], 0, random.Random(6))  # past 64 bits
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_fact_is_written_as_jsonable_writes_it_whatever_it_holds(book, value, wrap, rng):
    """`dumps` hands what orjson cannot write to a default that takes short cuts by type (a
    decoder's plain record as its fields, a parameter's row as a list): the bytes are those of
    `jsonable` as the default, the reference, for a record of the decoder (a step, with its photos), a row of
    a parameter's table and the values inside them, long texts, decimals that are not finite; and
    a record of the decoder whose list of texts holds the texts among them (a record that is
    not plain: its fields are weighed one by one)."""
    from rulebook.input.snapshot import dumps_json, jsonable
    from rulebook.language.value import row_class

    case = validator_decoder(book).decode(orjson.dumps(make_case(rng, 1)))[0]
    step = case.steps[0] if case.steps else case.plan
    row = row_class("some_row", ("a", "b"))(value, step)
    texts = [v for v in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(v, str)]
    expert = msgspec.structs.replace(case.expert, qualifications=texts)
    fact = [value, step, row, [row, step], (case.plan, value), expert, [step, expert, row]][wrap]
    # (the reference through `dumps_json`: a decimal past 64 bits is a wide integer, written exactly)
    assert dumps({"facts": {"x": fact}}) == dumps_json({"facts": {"x": fact}}, default=jsonable)

