"""Every diagnostic code has a bad rule file here and its rendered message (golden).

Each `RBnnn-*.rules` is added to the small rulebook in `base/`; the rendered
diagnostics must equal `RBnnn-*.txt`. `pytest --update-golden` rewrites them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rulebook.book import build, read_sources
from rulebook.language.diagnostic import CODES, RulebookError
from rulebook.language.source import Source

HERE = Path(__file__).parent
CASES = sorted(HERE.glob("RB*.rules"))
BASE = [Source(f"base/{p.name}", p.read_text(encoding="utf-8")) for p in sorted((HERE / "base").glob("*.rules"))]


def diagnose(case: Path) -> RulebookError:
    sources = BASE + [Source(case.name, case.read_text(encoding="utf-8"))]
    with pytest.raises(RulebookError) as caught:
        build(sources)
    return caught.value


def test_base_rulebook_is_valid():
    plan, schema = build(BASE)
    assert plan.name == "test"
    assert "case" in schema.records


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_diagnostic(case: Path, golden):
    error = diagnose(case)
    code = case.name[:5]
    assert code in {d.code for d in error.diagnostics}, error.render()
    for d in error.diagnostics:
        assert d.code in CODES
    golden(case.with_suffix(".txt"), error.render(color=False) + "\n")


def test_every_code_has_a_golden_case():
    covered = {c.name[:5] for c in CASES} | {"RB106"}  # RB106 is tested on bytes below
    runtime = {code for code in CODES if code.startswith("RB4")}
    assert set(CODES) - runtime <= covered, sorted(set(CODES) - runtime - covered)


def test_not_utf8(tmp_path, golden):
    for p in (HERE / "base").glob("*.rules"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "latin1.rules").write_bytes("# caf\xe9\n".encode("latin-1"))
    sources, diags = read_sources(tmp_path)
    assert [d.code for d in diags] == ["RB106"]
    rendered = diags[0].render().replace(str(tmp_path), "<dir>")
    golden(HERE / "RB106-not-utf8.txt", rendered + "\n")


def test_colour_only_when_asked():
    error = diagnose(HERE / "RB202-unknown-name.rules")
    assert "\x1b[" not in error.render(color=False)
    assert "\x1b[" in error.render(color=True)


def test_all_problems_at_once_sorted_by_position():
    text = """
rule a.b on case
  stage nope
  title ja "テスト" en "Test"
  source "s"
  when amout >= 500 then pass
    message ja "a" fr "b"
"""
    with pytest.raises(RulebookError) as caught:
        build(BASE + [Source("many.rules", text)])
    codes = [d.code for d in caught.value.diagnostics]
    assert {"RB207", "RB202", "RB310", "RB304", "RB305"} <= set(codes)
    keys = [d.sort_key() for d in caught.value.diagnostics]
    assert keys == sorted(keys)
