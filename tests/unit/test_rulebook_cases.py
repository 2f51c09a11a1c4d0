"""The rulebook's own YAML cases (rules/tests/*.yaml), one test per file, and their clause coverage;
and the field paths (`steps[0].photos[1].shows_sme`) by which a case changes its base snapshot
(`rulebook watch`'s events use the same), with the errors a bad path gives.

`rulebook test --require-coverage` runs the same cases as a command (test_cli.py); here each file
is a test of its own, so a failure names the file and the cases, and `make mutate` runs them
against every mutant of the rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulebook.apps import testing
from rulebook.book import bundled_rules
from rulebook.input.snapshot import _case_id_of, parse_path, set_path, unset_path

from ..conftest import shared

FOLDER = bundled_rules()
FILES = [p.name for p in testing.test_files(FOLDER)]


@pytest.fixture(scope=shared("module"))
def report(book):
    return testing.run_tests(book, FOLDER)


def test_the_rulebook_has_its_cases():
    assert len(FILES) >= 6
    assert "step-rules.yaml" in FILES and "payout.yaml" in FILES


@pytest.mark.parametrize("name", FILES)
def test_every_case_of_the_file_holds(report, name):
    assert not report.problems, report.problems
    outcomes = [o for o in report.outcomes if Path(o.file).name == name]
    assert outcomes, f"{name} holds no case"
    failed = [f"{name}:{o.line} {o.note}: " + "; ".join(o.failures) for o in outcomes if o.failures]
    assert not failed, "\n".join(failed)


def test_every_clause_is_reached(report, book):
    missed = testing.unreached(book, report.reached)
    assert not missed, [f"{rule} clause {n} (→ {status})" for rule, n, status, _ in missed]


# ------------------------------------------------------------------ field paths


@pytest.mark.parametrize("path, parts", [
    ("case_id", ["case_id"]),
    ("steps[0].hours", ["steps", 0, "hours"]),
    ("steps[12].photos[3].shows_sme", ["steps", 12, "photos", 3, "shows_sme"]),
    ("_x9.y_[0][1]", ["_x9", "y_", 0, 1]),
])
def test_a_path_is_names_and_indexes(path, parts):
    assert parse_path(path) == parts


@pytest.mark.parametrize("path", ["", "9steps", "steps.", ".steps", "steps[x]", "steps[-1]", "steps[0]x",
                                  "steps..hours", "steps[0", "a b", "steps[]"])
def test_a_malformed_path_is_refused_naming_it(path):
    with pytest.raises(ValueError) as error:
        parse_path(path)
    assert f"`{path}` is not a field path such as `steps[0].hours`" == str(error.value)


def test_set_makes_mappings_and_lists_on_the_way():
    data = {"plan": None}
    set_path(data, "plan.steps", 2)
    set_path(data, "claim.submitted_on", "2021-03-01")
    set_path(data, "steps[0]", {"hours": 1})
    assert data == {"plan": {"steps": 2}, "claim": {"submitted_on": "2021-03-01"}, "steps": [{"hours": 1}]}


def test_set_replaces_an_item_or_appends_the_next_one_only():
    data = {"steps": [{"hours": 1}, {"hours": 2}]}
    set_path(data, "steps[1].hours", 5)
    set_path(data, "steps[2]", {"hours": 3})
    set_path(data, "steps[0]", {"hours": 9})
    assert data == {"steps": [{"hours": 9}, {"hours": 5}, {"hours": 3}]}
    with pytest.raises(ValueError, match=r"^`steps\[4\]`: there is no item 4$"):
        set_path(data, "steps[4]", {})
    with pytest.raises(ValueError, match=r"^`steps\[3\].hours`: there is no item 3 to go into$"):
        set_path(data, "steps[3].hours", 1)
    assert len(data["steps"]) == 3


def test_set_refuses_to_go_through_what_is_not_a_mapping_or_a_list():
    data = {"case_id": "X", "steps": [{"hours": 1}]}
    with pytest.raises(ValueError, match=r"^`case_id.name`: `name` is not inside a mapping$"):
        set_path(data, "case_id.name", 1)
    with pytest.raises(ValueError, match=r"^`case_id\[0\]`: there is no item 0$"):
        set_path(data, "case_id[0]", 1)
    with pytest.raises(ValueError, match=r"^`steps.hours.x`: `hours` is not inside a mapping$"):
        set_path(data, "steps.hours.x", 1)
    with pytest.raises(ValueError, match=r"^`case_id\[0\].x`: there is no item 0 to go into$"):
        set_path(data, "case_id[0].x", 1)
    with pytest.raises(ValueError, match=r"^`steps\[5\].x`: there is no item 5 to go into$"):
        set_path(data, "steps[5].x", 1)
    assert data == {"case_id": "X", "steps": [{"hours": 1}]}


def test_unset_removes_a_field_or_an_item_and_ignores_what_is_not_there():
    data = {"claim": {"submitted_on": "2021-03-01", "honorarium_jpy": 1}, "steps": [{"hours": 1}, {"hours": 2}]}
    unset_path(data, "claim.submitted_on")
    unset_path(data, "steps[0]")
    unset_path(data, "steps[0].photos")     # not there: nothing happens
    unset_path(data, "nothing.here")
    unset_path(data, "steps[7]")
    unset_path(data, "steps[9].hours")
    unset_path(data, "claim.honorarium_jpy.x")
    assert data == {"claim": {"honorarium_jpy": 1}, "steps": [{"hours": 2}]}
    unset_path(data, "steps[1]")
    assert data["steps"] == [{"hours": 2}]


@pytest.mark.parametrize("raw, case_id", [
    (b'{"case_id": "C-1", "x": 1}', "C-1"),
    (b'{"case_id": 7}', None),
    (b'[{"case_id": "C-1"}]', None),
    (b'{"case_id": "C-1"', None),
    (b"\xff", None),
])
def test_the_case_id_of_raw_json_for_an_error_report(raw, case_id):
    assert _case_id_of(raw) == case_id
