"""output/terminal.py: no control or bidi character of a snapshot reaches a terminal raw, in any
writer (`check` text and JSON, `watch`, `test`, the service's access log)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from rulebook.apps.cli import main
from rulebook.output.terminal import visible

from ..conftest import EXAMPLES

# Every character that must not reach a terminal raw, and how it is shown.
HOSTILE = {
    "\x1b": "\\u001b", "\x07": "\\u0007", "\r": "\\u000d", "\n": "\\u000a", "\t": "\\u0009", "\x00": "\\u0000",
    "\x7f": "\\u007f", "\x9b": "\\u009b", "\x85": "\\u0085",
    "\u202a": "\\u202a", "\u202b": "\\u202b", "\u202c": "\\u202c", "\u202d": "\\u202d", "\u202e": "\\u202e",
    "\u2066": "\\u2066", "\u2067": "\\u2067", "\u2068": "\\u2068", "\u2069": "\\u2069",
    "\u200e": "\\u200e", "\u200f": "\\u200f", "\u061c": "\\u061c", "\u2028": "\\u2028", "\u2029": "\\u2029",
}
# A name that would clear the screen, retitle the window, ring, and reverse what follows.
ATTACK = "\x1b[2J\x1b]0;pwned\x07Evil\u202eredro\u2066x\u2069\x9b31m"
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def raw_characters(text: str, colour: bool = False) -> list[str]:
    """The unsafe characters in a writer's output (its line breaks aside; with `colour`, its own
    SGR sequences aside)."""
    if colour:
        text = OUR_COLOURS.sub("", text)
    return UNSAFE.findall(text)


@pytest.mark.parametrize("char, shown", sorted(HOSTILE.items()))
def test_each_character_is_escaped_visibly(char, shown):
    assert visible(f"a{char}b") == f"a{shown}b"


def test_ordinary_text_is_left_alone():
    for text in ("株式会社サンプル商店", "山田 花子", "C-2021-0042", "👩‍💻 ZWJ emoji", "a\\b", ""):
        assert visible(text) is text


def test_containers_are_copied_with_their_texts_made_visible():
    data = {"a\x1b": ["x\u202e", ("y\x07", 3)], "n": None, "k": 1.5}
    assert visible(data) == {"a\\u001b": ["x\\u202e", ("y\\u0007", 3)], "n": None, "k": 1.5}
    assert data["a\x1b"][0] == "x\u202e"  # the input is not changed


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=10))
def test_a_json_line_stays_the_same_json(value):
    """The escape is JSON's own: a JSON line made visible decodes to the same value."""
    try:
        line = json.dumps(value, ensure_ascii=False)
    except ValueError:
        return
    shown = visible(line)
    assert not UNSAFE.search(shown.replace("\n", ""))
    assert json.loads(shown) == value


# ------------------------------------------------------------------ the writers


def hostile_case(tmp_path: Path) -> Path:
    """The failing example with the attack in every free text a verdict shows or the error names."""
    case = yaml.safe_load((EXAMPLES / "failing-case.yaml").read_text(encoding="utf-8"))
    case["sme"]["referrer"] = ATTACK  # shown in sme.registration's message
    case["lancers"]["method"] = ATTACK  # shown in lancers.project-method's message
    case["sme"]["name"] = ATTACK
    case["expert"]["name"] = ATTACK
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
    return path


def cli(*args, env=None, input=None):
    return CliRunner().invoke(main, list(args), env=env or {}, input=input, catch_exceptions=False)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("colour", [False, True])
def test_check_text_shows_the_attack_escaped(tmp_path, lang, colour):
    result = cli("check", str(hostile_case(tmp_path)), "--lang", lang, "--color" if colour else "--no-color")
    assert result.exit_code == 1, result.output
    assert raw_characters(result.output, colour) == []
    assert "\\u001b[2J\\u001b]0;pwned\\u0007Evil\\u202eredro" in result.output


def test_check_text_of_a_case_id_with_the_attack(tmp_path):
    """A case id holding the attack is shown escaped, whether it is judged or refused as input."""
    case = yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))
    case["case_id"] = ATTACK
    path = tmp_path / "id.json"
    path.write_text(json.dumps(case, default=str), encoding="utf-8")
    for colour in (False, True):
        result = cli("check", str(path), "--color" if colour else "--no-color")
        assert raw_characters(result.output, colour) == []
        # refused as input (an identifier holds no control character): shown as the value's repr
        assert result.exit_code == 2 and "\\x1b[2J" in result.output


def test_an_input_error_shows_the_value_escaped(tmp_path):
    case = yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))
    case["steps"][0]["hours"] = ATTACK  # not a number: an input error that shows the value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(case, default=str), encoding="utf-8")
    result = cli("check", str(path), "--lang", "en")
    assert result.exit_code == 2
    assert raw_characters(result.output) == []
    assert "steps[0].hours" in result.output and "2J" in result.output


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_check_json_is_escaped_and_means_the_same(tmp_path, fmt):
    path = hostile_case(tmp_path)
    result = cli("check", str(path), "--format", fmt)
    assert raw_characters(result.output.replace("\n", "")) == []
    verdict = orjson.loads(result.output)
    assert ATTACK in verdict["results"][0]["message"]["en"] or any(
        ATTACK in r["message"]["en"] for r in verdict["results"])


RULEBOOK = str(Path(sys.executable).with_name("rulebook"))


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_watch_output_shows_the_attack_escaped(tmp_path, fmt):
    case = yaml.safe_load((EXAMPLES / "pending-case.yaml").read_text(encoding="utf-8"))
    case["lancers"]["method"] = ATTACK
    events = [{"case_id": case["case_id"], "at": case["as_of"].isoformat(), "snapshot": case},
              {"case_id": case["case_id"], "at": "2021-02-11", "set": {"sme.referrer": ATTACK}},
              {"case_id": case["case_id"], "at": "2021-02-12", "set": {"sme.nmae\x1b[2J": 1}}]
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps(e, default=str, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    run = subprocess.run([RULEBOOK, "watch", str(log), "--format", fmt, "--lang", "en"], capture_output=True,
                         timeout=120, env={**os.environ, "NO_COLOR": "1"})
    out, err = run.stdout.decode(), run.stderr.decode()
    assert run.returncode == 2  # the third event is refused
    assert raw_characters(out.replace("\n", "")) == [] and raw_characters(err.replace("\n", "")) == []
    assert "\\u001b[2J" in out and "\\u001b[2J" in err


def test_rulebook_test_output_shows_the_attack_escaped(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for source in (EXAMPLES.parent / "rules").glob("*.rules"):
        (rules / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (rules / "tests").mkdir()
    (rules / "tests" / "base.yaml").write_text((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"),
                                               encoding="utf-8")
    (rules / "tests" / "attack.yaml").write_text(yaml.safe_dump({"base": "base.yaml", "cases": [
        {"note": ATTACK, "set": {"sme.referrer": ATTACK}, "want": {"verdict": "eligible"}},
        {"note": "a wanted message", "set": {"lancers.method": ATTACK},
         "want": {"results": {"lancers.project-method": "pass"}}},
    ]}, allow_unicode=True), encoding="utf-8")
    result = cli("test", str(rules))
    assert result.exit_code == 1
    assert raw_characters(result.output) == []
    assert result.output.count("\\u001b[2J") >= 2


def test_the_access_log_escapes_what_json_leaves_raw(book, caplog):
    """JSON escapes C0 controls but leaves C1 controls and bidi marks raw: the log line escapes them."""
    from fastapi.testclient import TestClient

    from rulebook.apps.service import create_app

    case = yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))
    case["case_id"] = "C-1\u202e\x9b2J"
    client = TestClient(create_app(book))
    with caplog.at_level(logging.INFO, logger="rulebook.access"):
        client.post("/v1/check", content=json.dumps(case, default=str))
        client.get("/no\u202ewhere\x9b")
    lines = [r.getMessage() for r in caplog.records if r.name == "rulebook.access"]
    assert len(lines) == 2
    for line in lines:
        assert raw_characters(line) == []
        json.loads(line)  # still one JSON object
    assert "\\u202e" in lines[0] + lines[1]


def test_the_audits_messages_show_the_attack_escaped(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    out = tmp_path / "file" / f"out{ATTACK}"  # a folder inside a file: it cannot be made
    result = CliRunner().invoke(main, ["audit", str(EXAMPLES / "seed-case.yaml"), "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 2
    assert raw_characters(result.output) == [] and "out\\u001b[2J" in result.output


def test_the_catalogue_shows_a_rule_files_controls_escaped(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for source in (EXAMPLES.parent / "rules").glob("*.rules"):
        text = source.read_text(encoding="utf-8").replace('title ja "支援報告書の提出期限', 'title ja "\u202e支援報告書の提出期限')
        (rules / source.name).write_text(text, encoding="utf-8")
    result = cli("rules", "--rules", str(rules))
    assert result.exit_code == 0
    assert raw_characters(result.output) == [] and "\\u202e支援報告書の提出期限" in result.output
