"""Every diagnostic code has a bad input here and its rendered message (golden).

Each `RBnnn-*.rules` is added to the small rulebook in `base/`; the rendered
diagnostics must equal `RBnnn-*.txt` in English and `RBnnn-*.ja.txt` in Japanese. The codes of judging (RB4xx) build a rulebook
that cannot judge the case beside it (`RB4nn-*.case.json`): the `rulebook.error/v1`
document it gives must equal `RB4nn-*.json`. `pytest --update-golden` rewrites them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rulebook.book import Rulebook, build, read_sources
from rulebook.language.diagnostic import CODES, Code, RulebookError
from rulebook.language.message import Message
from rulebook.language.source import Source

HERE = Path(__file__).parent
CASES = sorted(p for p in HERE.glob("RB*.rules") if not p.name.startswith("RB4"))
JUDGING = sorted(HERE.glob("RB4*.rules"))
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
        assert d.key.startswith(f"{d.code}.") and isinstance(d.message, Message), d  # from the catalogue
        assert d.text("ja")["message"] != d.text("en")["message"], d
    golden(case.with_suffix(".txt"), error.render(color=False) + "\n")
    golden(case.with_suffix(".ja.txt"), error.render(color=False, lang="ja") + "\n")


@pytest.mark.parametrize("case", JUDGING, ids=[c.stem for c in JUDGING])
def test_judging_diagnostic(case: Path, golden):
    """RB402: the case is not judged (`rulebook.error/v1`). RB401, a parameter with no value on
    the day a rule reads it: the case is judged, and that rule fails, naming the parameter, the
    day and the rule, in both languages."""
    plan, schema = build(BASE + [Source(case.name, case.read_text(encoding="utf-8"))])
    book = Rulebook(plan, schema, "sha256:test", HERE)
    out = book.judge(case.with_suffix(".case.json").read_text(encoding="utf-8"))
    if case.name.startswith(Code.NO_PARAMETER_VALUE):
        assert out["format"] == "rulebook.verdict/v1" and out["verdict"] == "ineligible"
        failed = [r for r in out["results"] if r["status"] == "fail"]
        assert [r["facts"] for r in failed] == [{"parameter": "late_rate", "day": "2021-03-01"}]
        for lang, day in (("ja", "2021年3月1日"), ("en", "2021-03-01")):
            assert "late_rate" in failed[0]["message"][lang] and day in failed[0]["message"][lang]
            assert failed[0]["rule"] in failed[0]["message"][lang]
    else:
        assert out["format"] == "rulebook.error/v1"
        assert f"[{case.name[:5]}]" in out["errors"][0]["message"]
        assert "ゼロでの割り算" in out["errors"][0]["messages"]["ja"]  # Japanese throughout
        assert "could not" not in out["errors"][0]["messages"]["ja"]
    golden(case.with_suffix(".json"), json.dumps(out, ensure_ascii=False, indent=2) + "\n")


def test_every_code_has_a_golden_case():
    covered = {c.name[:5] for c in CASES + JUDGING} | {"RB106", "RB108"}  # tested on files below
    assert set(CODES) <= covered, sorted(set(CODES) - covered)
    assert all((HERE / f"{c.stem}.txt").exists() or (HERE / f"{c.stem}.json").exists() for c in CASES + JUDGING)
    assert all((HERE / f"{c.stem}.ja.txt").exists() for c in CASES)


def test_codes_are_an_enum_of_distinct_codes_each_with_a_meaning():
    assert len({code.value for code in Code}) == len(Code) == len(CODES)
    assert all(code.summary and code.value.startswith("RB") for code in Code)
    assert Code.TYPE_MISMATCH == "RB301" and f"{Code.TYPE_MISMATCH}" == "RB301"


def test_not_utf8(tmp_path, golden):
    for p in (HERE / "base").glob("*.rules"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "latin1.rules").write_bytes("# caf\xe9\n".encode("latin-1"))
    sources, diags = read_sources(tmp_path)
    assert [d.code for d in diags] == ["RB106"]
    for lang, suffix in (("en", ".txt"), ("ja", ".ja.txt")):
        rendered = diags[0].render(lang=lang).replace(str(tmp_path), "<dir>")
        golden(HERE / f"RB106-not-utf8{suffix}", rendered + "\n")


def test_no_rulebook_folder(tmp_path, golden):
    """A folder that is not there, and one without rule files: RB108 (no longer RB309, a part
    missing from a rulebook)."""
    shown = {"en": [], "ja": []}
    for folder in (tmp_path / "nowhere", tmp_path):
        with pytest.raises(RulebookError) as caught:
            read_sources(folder)
        assert [d.code for d in caught.value.diagnostics] == [Code.NO_RULE_FILES]
        for lang, lines in shown.items():
            lines.append(caught.value.render(lang=lang).replace(str(tmp_path), "<dir>"))
    golden(HERE / "RB108-no-rule-files.txt", "\n".join(shown["en"]) + "\n")
    golden(HERE / "RB108-no-rule-files.ja.txt", "\n".join(shown["ja"]) + "\n")


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
