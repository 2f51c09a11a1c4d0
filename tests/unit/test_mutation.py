"""`make mutate`'s rule-file mutator, replayed briefly: it finds mutants of every kind in the real
rule files and never inside a text or a comment; a mutant of the report deadline is caught by the
rulebook's own cases; and the runner reports a killed mutant as killed and an equivalent one as
surviving. (The full run is `make mutate`: docs/MUTATION.md.)"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

import rulebook
from mutation import rules as mutator
from rulebook.apps import testing
from rulebook.language.diagnostic import RulebookError

from ..conftest import ROOT

REPORT_ON_TIME = "step.report_submitted_on <= last_day then pass"


@pytest.fixture(scope="module")
def mutants():
    return mutator.all_mutants()


def test_the_mutator_finds_every_kind_of_mutant_in_the_rule_files(mutants):
    kinds = Counter(m.kind for m in mutants)
    # `order` mutants drop `first` from an order's node: the bundled order has none since its
    # arrow from the contract to the first step went (step.before-contract judges each step)
    ordered = any(line.split("#")[0].strip().startswith("first step.") or " first step." in line.split("#")[0]
                  for line in (ROOT / "rules" / "order.rules").read_text(encoding="utf-8").splitlines())
    assert set(kinds) == {"comparison", "logic", "arithmetic", "constant", "date", "status"} | (
        {"order"} if ordered else set()), kinds
    assert {m.file for m in mutants} >= {"rules/steps.rules", "rules/case.rules", "rules/payout.rules",
                                          "rules/parameters.rules"}
    changes = {(m.original, m.replacement) for m in mutants}
    assert {("<=", "<"), (">=", ">"), ("and", "or"), ("set", "missing"), ("pass", "fail"),
            ("3500", "3501"), ("10", "9"), ("20%", "21%"), ("2020-04-01", "2020-03-31"),
            ("rounded down", "rounded up")} <= changes


def test_mutants_change_only_code_never_a_text_or_a_comment(mutants):
    texts = {}
    for m in mutants:
        text = texts.setdefault(m.file, (ROOT / m.file).read_text(encoding="utf-8"))
        assert text[m.start:m.end] == m.original, m.id
        line = text.splitlines()[m.line - 1]
        before = line[:m.column - 1]
        assert before.count('"') % 2 == 0, f"{m.id} is inside a text: {line}"
        assert "#" not in before.replace('"#', ""), f"{m.id} is inside a comment: {line}"
    # every mutant is a different rulebook
    assert len({(m.file, m.start, m.replacement) for m in mutants}) == len(mutants)


def test_a_mutant_of_the_report_deadline_is_caught_by_the_rulebooks_own_cases(mutants, tmp_path):
    # step.report-deadline's (step.program-period, later in the file, has the same words)
    mutant = [m for m in mutants if m.context.endswith(REPORT_ON_TIME) and m.replacement == "<"][0]
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    clean = testing.run_tests(rulebook.load(folder, cache=False), folder)
    assert clean.outcomes and not clean.failed
    path = folder / mutant.file.removeprefix("rules/")
    path.write_text(mutant.apply(path.read_text(encoding="utf-8")), encoding="utf-8")
    try:
        mutated = testing.run_tests(rulebook.load(folder, cache=False), folder)
    except RulebookError as error:  # pragma: no cover - the checker would have caught it instead
        pytest.fail(f"the mutant no longer loads: {error}")
    assert mutated.failed, "a report filed on its last day must pass; the mutant fails it and no case noticed"
    assert any("report" in o.note for o in mutated.failed)


def test_the_runner_kills_a_mutant_and_lets_an_equivalent_one_survive(mutants):
    """End to end, in a scratch copy with a forked pytest: the report-deadline mutant is killed;
    rounding the honorarium up instead of down survives, since 3,500 yen times hours given to the
    hundredth is always a whole number of yen (docs/MUTATION.md lists it as equivalent)."""
    killed = next(m for m in mutants if m.context.endswith(REPORT_ON_TIME) and m.replacement == "<")
    rounding = next(m for m in mutants if m.file == "rules/payout.rules" and m.original == "rounded down"
                    and "honorarium_per_hour" in m.context)
    results = mutator.run([killed, rounding], jobs=1, tests=("tests/unit/test_rulebook_cases.py",))
    assert [r["outcome"] for r in results] == ["killed", "survived"], results
    assert results[0]["by"].startswith("tests/unit/test_rulebook_cases.py::test_every_case_of_the_file_holds")


def test_the_report_says_which_python_mutants_a_sampled_run_checked():
    """A run of one mutant in N, of some modules only, says so, with the command that repeats it;
    the score counts the checked mutants alone, an equivalent one apart."""
    from mutation import report

    python = [{"id": f"rulebook.engine.days.x_f__mutmut_{i}", "module": "rulebook.engine.days", "function": "f",
               "outcome": outcome} for i, outcome in enumerate(["killed"] * 8 + ["survived", "survived"], 1)]
    meta = {"sample": 20, "only": ["rulebook.engine."], "in_scope": 200, "not_checked": 390, "mutmut": "3",
            "seconds": 60, "jobs": 1}
    text = report.render(python, [], {}, {"rulebook.engine.days.x_f__mutmut_10": "because"}, meta)
    assert ("10 mutants checked, one in 20 of those that mutmut makes in `rulebook.engine.*` (200 of the 400 "
            "mutants mutmut makes; the other modules' mutants were not run) "
            "(`python -m mutation --python-only --sample 20 --only rulebook.engine.`") in text
    assert "| engine | 10 | 8 | 0 | 1 | 0 | 1 | **88.9%** |" in text
    assert "- `rulebook.engine.days.x_f__mutmut_10` — equivalent: because" in text
    full = report.render(python, [], {}, {}, {"sample": 1, "not_checked": 0, "mutmut": "3", "seconds": 1, "jobs": 1})
    assert "10 mutants checked, all those mutmut makes, in 1 s" in full
