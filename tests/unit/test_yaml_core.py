"""YAML is read with the YAML 1.2 core schema (rulebook.input.documents.yaml), not PyYAML's YAML 1.1.

The table is the class of problem: every plain scalar that YAML 1.1 reads as something else
than YAML 1.2 does, what PyYAML's safe loader makes of it, and what rulebook reads now.
"""

from __future__ import annotations

import datetime

import pytest
import yaml

from rulebook.input import documents
from rulebook.input.documents import Limits, load_bytes

REFUSED = object()

# (plain scalar, what YAML 1.1 (yaml.safe_load) reads, what rulebook reads)
TABLE = [
    # base 60 ("sexagesimal"): an hour and a half written as a time was read as 90
    ("1:30", 90, "1:30"),
    ("190:20:30", 685230, "190:20:30"),
    ("-1:30", -90, "-1:30"),
    ("1:30.5", 90.5, "1:30.5"),
    # booleans: only true and false (any case of the three spellings)
    ("yes", True, "yes"),
    ("no", False, "no"),
    ("on", True, "on"),
    ("off", False, "off"),
    ("Yes", True, "Yes"),
    ("NO", False, "NO"),
    ("y", "y", "y"),
    ("n", "n", "n"),
    ("True", True, True),
    ("FALSE", False, False),
    ("tRUE", "tRUE", "tRUE"),
    # integers: base 10, 0o octal, 0x hex
    ("010", 8, 10),
    ("0010", 8, 10),
    ("0o10", "0o10", 8),
    ("0x1F", 31, 31),
    ("0b101", 5, "0b101"),
    ("1_000", 1000, "1_000"),
    ("+12", 12, 12),
    ("-0", 0, 0),
    ("0o8", "0o8", "0o8"),
    # numbers
    ("1e3", "1e3", 1000.0),
    ("1.5e3", "1.5e3", 1500.0),
    ("1.5e+3", 1500.0, 1500.0),
    (".5", 0.5, 0.5),
    ("1.", 1.0, 1.0),
    ("1_000.5", 1000.5, "1_000.5"),
    ("1:30:00.5", 5400.5, "1:30:00.5"),
    (".inf", float("inf"), REFUSED),
    ("-.Inf", float("-inf"), REFUSED),
    (".nan", "nan", REFUSED),
    ("1e400", "1e400", REFUSED),
    # null
    ("~", None, None),
    ("null", None, None),
    ("NULL", None, None),
    ("nil", "nil", "nil"),
    # dates: exactly YYYY-MM-DD; no timestamps
    ("2021-01-25", datetime.date(2021, 1, 25), datetime.date(2021, 1, 25)),
    ("2021-1-5", "2021-1-5", "2021-1-5"),
    ("2021-01-25 10:00:00", datetime.datetime(2021, 1, 25, 10), "2021-01-25 10:00:00"),
    ("2021-01-25T10:00:00+09:00", "datetime", "2021-01-25T10:00:00+09:00"),
    ("2021-02-30", "error", "2021-02-30"),  # no such day: kept as text, refused by validation
    # the YAML 1.1 value key
    ("=", "error", "="),
]

BACKENDS = ["python"] + (["libyaml"] if hasattr(documents.yaml, "CYAML") else [])


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    loader = documents.yaml.PyYAML if request.param == "python" else documents.yaml.CYAML
    monkeypatch.setattr(documents.yaml, "Loader", loader)
    return request.param


def read(text: str):
    (doc,) = load_bytes(f"value: {text}\n".encode(), "case.yaml", "yaml", Limits())
    return doc


def yaml11(text: str):
    try:
        value = yaml.safe_load(f"value: {text}\n")["value"]
    except (yaml.YAMLError, ValueError):
        return "error"
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return "datetime"
    if isinstance(value, float) and value != value:
        return "nan"
    return value


@pytest.mark.parametrize(("text", "was", "now"), TABLE, ids=[t[0] for t in TABLE])
def test_each_yaml_1_1_scalar_is_read_as_yaml_1_2_reads_it(backend, text, was, now):
    assert yaml11(text) == was, "the table's YAML 1.1 reading is what PyYAML gives"
    doc = read(text)
    if now is REFUSED:
        assert not doc.ok and doc.location.line == 1 and doc.location.column == 8
        assert "finite" in doc.error or "infinite" in doc.error
        return
    assert doc.ok, doc.error
    assert doc.data["value"] == now and type(doc.data["value"]) is type(now)


def test_quoted_scalars_are_always_text(backend):
    for text in ("'1:30'", '"010"', "'yes'", '"2021-01-25"', "'~'"):
        assert read(text).data["value"] == text[1:-1]


@pytest.mark.parametrize("key", ["yes", "no", "on", "off", "y", "n"])
def test_keys_that_yaml_1_1_read_as_booleans_are_keys(backend, key):
    (doc,) = load_bytes(f"{key}: 1\n".encode(), "case.yaml")
    assert doc.data == {key: 1}


@pytest.mark.parametrize(("text", "refused"), [
    ("!!int 1_000", "not a valid integer"), ("!!int 0b11", "not a valid integer"),
    ("!!float 1_0.5", "not a valid number"), ("!!bool yes", "not true or false"),
    ("!!timestamp 2021-01-25 10:00", "not a valid date"), ("!!int 010", None), ("!!float 1", None),
])
def test_explicit_tags_follow_the_core_schema_too(backend, text, refused):
    doc = read(text)
    if refused is None:
        assert doc.ok and doc.data["value"] in (10, 1.0)
    else:
        assert not doc.ok and refused in doc.error


def test_merge_keys_are_refused_with_their_path(backend):
    (doc,) = load_bytes(b"base: &b {hours: 3}\nsteps:\n  - <<: *b\n    number: 1\n", "case.yaml")
    assert not doc.ok
    assert doc.path == "steps[0].<<" and (doc.location.line, doc.location.column) == (3, 5)
    assert "YAML 1.1" in doc.error and "YAML 1.1" in doc.error.ja


def test_an_hour_and_a_half_written_as_a_time_is_refused_naming_the_field(book, seed):
    import yaml as pyyaml

    text = pyyaml.safe_dump(seed, allow_unicode=True, sort_keys=False).replace("hours: 40", "hours: 1:30")
    (doc,) = load_bytes(text.encode(), "case.yaml")
    out = book.judge(doc.data, locate=doc.locate)
    assert out["format"] == "rulebook.error/v1"
    (error,) = out["errors"]
    assert (error["path"], error["value"]) == ("steps[0].hours", "1:30")
    assert "1.5" in error["message"] and "1.5" in error["messages"]["ja"]
    assert error["line"] == text.splitlines().index("  hours: 1:30") + 1 and error["column"] == 3


def test_the_rulebooks_own_yaml_cases_are_read_as_yaml_1_2_too(book, tmp_path):
    import shutil

    from rulebook.apps.testing import run_tests

    rules = tmp_path / "rules"
    shutil.copytree(book.path, rules)
    for test in (rules / "tests").glob("*.yaml"):
        test.unlink()
    (rules / "tests" / "hours.yaml").write_text(
        "base: snapshots/base.yaml\ncases:\n  - note: an hour and a half written as a time\n"
        "    set:\n      steps[0].hours: 1:30\n    want:\n      verdict: eligible\n", encoding="utf-8")
    (outcome,) = run_tests(book, rules).outcomes
    assert outcome.line == 3
    assert outcome.failures and "steps[0].hours" in outcome.failures[0] and "1.5" in outcome.failures[0]
