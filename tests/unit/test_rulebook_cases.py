"""The rulebook's own YAML cases (rules/tests/*.yaml), one test per file, and their clause coverage.

`rulebook test --require-coverage` runs the same cases as a command (test_cli.py); here each file
is a test of its own, so a failure names the file and the cases, and `make mutate` runs them
against every mutant of the rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rulebook.apps import testing
from rulebook.book import bundled_rules

FOLDER = bundled_rules()
FILES = [p.name for p in testing.test_files(FOLDER)]


@pytest.fixture(scope="module")
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
