"""The formatter (`language/format.py`): same syntax tree, idempotent, every comment kept, on every
rule file of the rulebook and of the diagnostics' tests, on comments anywhere and on any spacing;
every kind of node has a layout; `rulebook fmt` as a user runs it."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulebook.language import format as formatter
from rulebook.language.format import format_source, node_kinds
from rulebook.language.layout import width
from rulebook.language.parse import parse, parse_concrete
from rulebook.language.source import Source
from rulebook.language.syntax import plain

from ..conftest import ROOT

RULES = sorted((ROOT / "rules").glob("*.rules"))
DIAGNOSTICS = sorted((ROOT / "tests" / "diagnostics").glob("*.rules"))
HERE = Path(__file__).parent
MESSY = HERE / "format" / "messy.rules"


def tree(path: str, text: str):
    file, diagnostics = parse(Source(path, text))
    assert not diagnostics, [d.render() for d in diagnostics]
    return plain(file)[1:]  # without the path


def comments(text: str) -> Counter:
    concrete = parse_concrete(Source("x", text))
    return Counter(str(c) for c in concrete.comments)


def formatted(text: str, path: str = "x.rules") -> str:
    out, diagnostics = format_source(Source(path, text))
    assert out is not None, [d.render() for d in diagnostics]
    return out


def assert_formats_well(text: str, path: str = "x.rules") -> str:
    out = formatted(text, path)
    assert tree(path, out) == tree(path, text), "formatting changed what the parser sees"
    assert formatted(out, path) == out, "formatting twice changed the text"
    assert comments(out) == comments(text), "a comment was lost or changed"
    return out


# ---------------------------------------------------------------- every file


@pytest.mark.parametrize("path", RULES + DIAGNOSTICS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_rule_file(path):
    text = path.read_text(encoding="utf-8")
    source = Source(path.name, text)
    _file, diagnostics = parse(source)
    if diagnostics:  # a file that does not parse is not formatted: the parser's diagnostics say why
        out, found = format_source(source)
        assert out is None
        assert [(d.code, d.span.start) for d in found] == [(d.code, d.span.start) for d in diagnostics]
        return
    assert_formats_well(text, path.name)


def test_the_files_that_do_not_parse_are_tested_too():
    refused = [p.name for p in DIAGNOSTICS if format_source(Source(p.name, p.read_text(encoding="utf-8")))[0] is None]
    assert {name[:5] for name in refused} == {"RB101", "RB102", "RB103", "RB104", "RB105", "RB107"}


def test_the_tree_comparison_sees_a_change():
    text = (ROOT / "rules" / "parameters.rules").read_text(encoding="utf-8")
    assert tree("p", text) != tree("p", text.replace("value 10 days", "value 5 days"))
    assert tree("p", text) == tree("p", text.replace("value 10 days", "value   10\n   days"))


def test_bundled_rulebook_is_formatted():
    result = subprocess.run([sys.executable, "-m", "rulebook.apps.cli", "fmt", "--check", str(ROOT / "rules")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


# ------------------------------------------------------------ node kinds


def test_every_node_kind_has_a_layout():
    methods = {name[len("kind_"):] for name in dir(formatter._Formatter) if name.startswith("kind_")}
    assert node_kinds() <= methods, f"no layout for {sorted(node_kinds() - methods)}: add kind_<name> to format.py"
    assert methods <= node_kinds(), f"layouts of kinds the grammar does not have: {sorted(methods - node_kinds())}"


def test_a_new_node_kind_is_noticed(monkeypatch):
    """The test above fails for a grammar with a construct the formatter does not know."""
    from lark import Lark

    from rulebook.language import grammar, parse as parse_module

    text = grammar.grammar_text().replace("-> false\n", '-> false\n        | "maybe" -> maybe\n', 1)
    assert "-> maybe" in text
    monkeypatch.setattr(parse_module, "_parser", lambda concrete=False: Lark(text, parser="lalr", start=["start", "expr"],
                                                                             keep_all_tokens=concrete))
    monkeypatch.setattr(formatter, "_parser", parse_module._parser)
    kinds = node_kinds.__wrapped__()
    methods = {name[len("kind_"):] for name in dir(formatter._Formatter) if name.startswith("kind_")}
    assert kinds - methods == {"maybe"}


# ------------------------------------------------------------ the layout


def test_a_messy_file_gets_the_canonical_layout(golden):
    text = MESSY.read_text(encoding="utf-8")
    out = assert_formats_well(text, MESSY.name)
    golden(MESSY.with_name("messy.formatted.rules"), out)


def test_lines_fit_where_they_can():
    out = formatted((ROOT / "rules" / "steps.rules").read_text(encoding="utf-8"))
    for line in out.splitlines():
        if '"' not in line and "#" not in line:  # texts and comments cannot be broken
            assert width(line) <= formatter.WIDTH, line


def test_a_long_condition_breaks_before_and():
    text = ('rule a.b on case\n  when lancers.program_consent_on is set and lancers.program_consent_via is set and '
            'lancers.program_consent_via in consent_channels then pass\n    message ja "a" en "b"\n')
    out = formatted(text)
    assert out.splitlines()[1:3] == [
        "  when lancers.program_consent_on is set and lancers.program_consent_via is set",
        "       and lancers.program_consent_via in consent_channels then pass",
    ]


def test_titles_stay_on_one_line_when_they_fit_and_messages_stack():
    out = formatted('rule a.b on case title ja "短い" en "Short" otherwise pass message ja "a" en "b"')
    assert out == ('rule a.b on case\n  title ja "短い" en "Short"\n  otherwise pass\n    message ja "a"\n'
                   '            en "b"\n')


def test_wide_characters_count_twice():
    title = "あ" * 40  # 80 columns
    out = formatted(f'rule a.b on case title ja "{title}" en "{"x" * 10}" otherwise pass message ja "a" en "b"')
    assert f'  title ja "{title}"\n        en "{"x" * 10}"' in out


def test_the_stage_table_lines_up():
    out = formatted('rulebook "r" stage a title ja "一" en "One" stage longer title ja "二二二" en "Two"\n')
    assert out == ('rulebook "r"\n  stage a      title ja "一"     en "One"\n'
                   '  stage longer title ja "二二二" en "Two"\n')


def test_comments_at_line_ends_line_up_until_a_blank_line():
    out = formatted("record a # one\n  x: text # two\n  longer_name: optional text # three\n\n"
                    "record b # four\n")
    assert out == (f"{'record a':30}# one\n{'  x: text':30}# two\n{'  longer_name: optional text':30}# three\n\n"
                   "record b  # four\n")


def test_spellings_are_made_canonical_and_blank_lines_kept_once():
    out = formatted("rule a.b on case\n\n\n  let x = 1 rounded    down\n\n\n\n  otherwise not_applicable\n"
                    '    message ja "a" en "b"')
    assert "  let x = 1 rounded down\n\n  otherwise not applicable\n" in out
    assert "\n\n\n" not in out


def test_an_empty_file_and_a_file_of_comments():
    assert formatted("") == ""
    assert formatted("\n\n  # one\n\n\n# two   \n") == "# one\n\n# two\n"


# ------------------------------------------------------- properties


def _perturbed(text: str, seed: int) -> str:
    """The file with 1 to 3 comments put at random places: at the end of a line, or on lines
    of their own, with or without blank lines around."""
    rnd = random.Random(seed)
    tokens = parse_concrete(Source("x", text)).tokens
    for index in sorted(rnd.sample(range(len(tokens)), rnd.randint(1, 3)), reverse=True):
        token = tokens[index]
        kind = rnd.choice(["end", "own", "blank"])
        comment = f"# c{index} {kind} 注"
        if kind == "end":
            text = f"{text[:token.end_pos]}  {comment}\n{text[token.end_pos:]}"
        elif kind == "own":
            text = f"{text[:token.start_pos]}\n{comment}\n{text[token.start_pos:]}"
        else:
            text = f"{text[:token.start_pos]}\n\n    {comment}\n\n{text[token.start_pos:]}"
    return text


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(RULES), st.integers(0, 2**32))
def test_comments_anywhere_are_kept(path, seed):
    assert_formats_well(_perturbed(path.read_text(encoding="utf-8"), seed), path.name)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(RULES), st.integers(0, 2**32))
def test_the_layout_does_not_depend_on_the_spacing(path, seed):
    """The tokens of a file (without its comments) joined by any spacing, without blank lines,
    format to the same text as the tokens one space apart."""
    tokens = parse_concrete(Source("x", path.read_text(encoding="utf-8"))).tokens
    rnd = random.Random(seed)
    spaced = " ".join(tokens)
    anyhow = "".join(t + rnd.choice([" ", "  ", "\n", "\n      ", "\t"]) for t in tokens)
    assert formatted(anyhow) == formatted(spaced)
    assert_formats_well(anyhow)


# ------------------------------------------------------------- the command


def fmt(*args, cwd=None, input=None):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "rulebook.apps.cli", "fmt", *args], capture_output=True,
                          text=True, cwd=cwd, input=input, timeout=120, env=env)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "messy.rules").write_text(MESSY.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "tidy.rules").write_text(formatted(MESSY.read_text(encoding="utf-8")), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("record   x\n", encoding="utf-8")
    return tmp_path


def test_fmt_check_shows_a_diff_and_changes_nothing(folder):
    before = (folder / "sub" / "messy.rules").read_text(encoding="utf-8")
    result = fmt("--check", str(folder), "--lang", "en")
    assert result.returncode == 1
    assert f"--- {folder}/sub/messy.rules" in result.stdout and "+++ " in result.stdout
    assert "tidy.rules" not in result.stdout
    assert "1 file(s) not formatted" in result.stderr
    assert (folder / "sub" / "messy.rules").read_text(encoding="utf-8") == before
    assert "整形されていないファイルが 1 個あります" in fmt("--check", str(folder)).stderr


def test_fmt_rewrites_the_files_that_need_it(folder):
    (folder / "sub" / "messy.rules").chmod(0o640)
    result = fmt(cwd=folder)  # no path: the current folder
    assert result.returncode == 0, result.stderr
    assert result.stdout == "整形しました: sub/messy.rules\n"
    assert (folder / "sub" / "messy.rules").read_text(encoding="utf-8") == (folder / "tidy.rules").read_text(
        encoding="utf-8")
    assert (folder / "sub" / "messy.rules").stat().st_mode & 0o777 == 0o640
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "record   x\n"
    again = fmt(str(folder), "--lang", "en")
    assert again.returncode == 0 and again.stdout == ""
    assert fmt("--check", str(folder)).returncode == 0


def test_fmt_leaves_a_file_that_does_not_parse_and_goes_on(folder):
    bad = folder / "bad.rules"
    bad.write_text("rule a.b on case\n  stage s1 @\n", encoding="utf-8")
    result = fmt(str(folder), "--lang", "en")
    assert result.returncode == 2
    assert "error[RB101]" in result.stderr and "bad.rules:2:12" in result.stderr
    assert "not formatted, it does not parse" in result.stderr
    assert bad.read_text(encoding="utf-8") == "rule a.b on case\n  stage s1 @\n"
    assert "formatted" in result.stdout and "messy.rules" in result.stdout  # the others are formatted


def test_fmt_reads_standard_input():
    result = fmt("-", input="record   x\n   a : text  # note\n")
    assert result.returncode == 0
    assert result.stdout == "record x\n  a: text  # note\n"
    check = fmt("--check", "-", input="record   x\n")
    assert check.returncode == 1 and "+record x" in check.stdout


@pytest.mark.parametrize("lang, words", [("ja", "ファイルもフォルダもありません"), ("en", "no such file or folder")])
def test_fmt_names_a_missing_path(tmp_path, lang, words):
    result = fmt(str(tmp_path / "nowhere"), "--lang", lang)
    assert result.returncode == 2
    assert words in result.stderr and "nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_fmt_shows_control_characters_escaped(tmp_path):
    path = tmp_path / "x.rules"
    path.write_text('parameter  p: text title ja "\x1b[2J" en "e" source "s" value "v" from 2020-01-01\n',
                    encoding="utf-8")
    result = fmt("--check", str(path))
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "\\u001b[2J" in result.stdout
