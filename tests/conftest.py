"""Shared fixtures: the bundled rulebook, the examples, and golden files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

# `make mutate` runs the properties the same way for every mutant: no random seed, no database
# of earlier failures (a mutant's verdict must not depend on the mutants tried before it).
settings.register_profile("mutate", derandomize=True, database=None)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BENCH = ROOT / "bench"
if str(BENCH) not in sys.path:  # the generator of sample cases, shared with the benchmarks
    sys.path.insert(0, str(BENCH))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite golden files from the current output (review with git diff).")
    parser.addoption("--prebuild-parser", action="store_true",
                     help="Build the rule language's parser before the tests (make mutate: every forked run "
                          "of a mutant inherits it instead of building it again).")


def pytest_configure(config):
    if config.getoption("--prebuild-parser"):
        from rulebook.language.parse import parse
        from rulebook.language.source import Source

        parse(Source("<prebuild>", ""))


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Tests use their own plan cache, never the user's (RULEBOOK_TEST_CACHE names one to share
    between runs: `make mutate` compiles each mutated rulebook once for its tests)."""
    os.environ["RULEBOOK_CACHE"] = os.environ.get("RULEBOOK_TEST_CACHE") or str(tmp_path_factory.mktemp("rulebook-cache"))
    if os.environ.get("MUTANT_UNDER_TEST"):  # under mutmut every load compiles, so that it sees who reaches the compiler
        os.environ["RULEBOOK_CACHE"] = "off"
    yield


@pytest.fixture(autouse=True)
def _fresh_engine_caches():
    """Under mutmut, the engine's module-level caches (`days.add_months`, `runtime.days`, …) are
    emptied before each test: mutmut forks each mutant's run from a process that has run the
    tests already, so a cached answer of the unmutated code would hide the mutant from every
    test, and the run that learns which tests reach which function would see only the first
    test that filled the cache."""
    if "MUTANT_UNDER_TEST" in os.environ:
        for name, module in list(sys.modules.items()):
            if name.startswith("rulebook.engine.") and module is not None:
                for value in list(vars(module).values()):
                    if callable(getattr(value, "cache_clear", None)):
                        value.cache_clear()
    yield


def shared(default: str):
    """A fixture's scope: `default`, but one per test under mutmut (`make mutate`), which learns
    which tests reach which function by watching each test: a rulebook built once for the session
    would be seen by the first test only, and a mutant of the compiler run against that test alone."""
    def scope(fixture_name, config):
        return "function" if os.environ.get("MUTANT_UNDER_TEST") else default

    return scope


@pytest.fixture(scope=shared("session"))
def book(_private_cache):
    import rulebook

    return rulebook.load()


@pytest.fixture
def seed() -> dict:
    return yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def golden(request):
    """golden(path, text): compare with the file, or rewrite it with --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(path: Path, text: str) -> None:
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path} is missing; run pytest --update-golden and review it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path.relative_to(ROOT)} (pytest --update-golden rewrites it)"

    return check
