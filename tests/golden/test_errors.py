"""Input errors of chosen bad inputs, as `rulebook check` gives them in JSON and as text in Japanese
and English, as golden files (tests/golden/errors/). `pytest --update-golden` rewrites them;
review the change with `git diff`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rulebook.apps.cli import main

HERE = Path(__file__).parent / "errors"
INPUTS = sorted(p.name for p in HERE.iterdir() if p.name.count(".") == 1)  # not the golden outputs


def check(monkeypatch, name: str, *options: str) -> str:
    monkeypatch.chdir(HERE)  # the file is named as given: the same wherever the tests run
    result = CliRunner().invoke(main, ["check", name, *options], env={"NO_COLOR": "1"}, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    return result.stdout


@pytest.mark.parametrize("name", INPUTS)
def test_error_json(monkeypatch, golden, name):
    fmt = "jsonl" if name.endswith(".jsonl") else "json"
    golden(HERE / f"{name}.error.{fmt}", check(monkeypatch, name, "--format", fmt))


@pytest.mark.parametrize("name", INPUTS)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_error_text(monkeypatch, golden, name, lang):
    golden(HERE / f"{name}.{lang}.txt", check(monkeypatch, name, "--lang", lang))
