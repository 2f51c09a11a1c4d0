"""Regressions for what the coverage-guided fuzzing (fuzz/, issue 6) found: each input crashed,
compiled invalid Python or answered with a 500 before its fix."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import textwrap

import orjson
import pytest
from fastapi.testclient import TestClient

import rulebook
from rulebook.book import build
from rulebook.language.diagnostic import RulebookError
from rulebook.engine.evaluate import EvaluationError
from rulebook.apps.service import create_app
from rulebook.language.source import Source
from rulebook.apps.watch import Watcher

from .test_language import HEADER, case

LATE = '''
parameter late: yen
  title ja "後" en "Late"
  source "s"
  value 5 yen from 2021-01-01 until 2021-01-31
'''


def refused(*sources: Source) -> tuple[list[str], str]:
    """The diagnostics' codes and their rendering, for rule files that must not build."""
    with pytest.raises(RulebookError) as caught:
        build(list(sources))
    return [d.code for d in caught.value.diagnostics], caught.value.render()


def book_of(tmp_path, header: str, rules: str):
    (tmp_path / "header.rules").write_text(header, encoding="utf-8")
    (tmp_path / "rules.rules").write_text(textwrap.dedent(rules), encoding="utf-8")
    return rulebook.load(tmp_path, cache=False)


def test_a_rulebook_with_no_rules_compiles_and_judges(tmp_path):
    book = book_of(tmp_path, HEADER, "# no rules yet\n")
    verdict = book.judge(case())
    assert verdict["format"] == "rulebook.verdict/v1"
    assert verdict["results"] == []


def test_a_rulebook_with_no_records_is_a_diagnostic():
    header = HEADER[:HEADER.index("record case")]
    codes, shown = refused(Source("h.rules", header))
    assert codes == ["RB309"] and "record case" in shown


@pytest.mark.parametrize("name, code", [("nosuch", "RB201"), ("hours", "RB301")])
def test_numbered_by_names_an_integer_field_of_the_listed_record(name, code):
    codes, shown = refused(Source("h.rules", HEADER.replace("numbered by number", f"numbered by {name}")))
    assert codes == [code] and f"`{name}`" in shown


DEEP_RULE = '''
rule deep.one on case
  stage s1
  title ja "深" en "Deep"
  source "s"
  when {} then pass
    message ja "{{{}}}" en "a"
  otherwise fail
    message ja "b" en "b"
'''


@pytest.mark.parametrize("depth", [150, 700, 5000])
@pytest.mark.parametrize("chain", ["sum", "and", "not", "negate"])
def test_deeply_nested_expressions_are_a_diagnostic(chain, depth):
    """150 levels compiled Python with too many nested parentheses (SyntaxError); 700 overflowed
    the parser's recursive tree walk (RecursionError)."""
    expr = {"sum": " + ".join(["amount"] * depth) + " > 0 yen",
            "and": " and ".join(["amount > 0 yen"] * depth),
            "not": "not " * depth + "amount > 0 yen",
            "negate": "amount > " + "-" * depth + "1 yen"}[chain]
    for where in (expr, "amount > 0 yen"):  # in the condition, and in an interpolation only
        text = DEEP_RULE.format(where, expr if where != expr else "amount")
        codes, shown = refused(Source("h.rules", HEADER), Source("deep.rules", text))
        assert codes == ["RB107"] and "deep.rules:" in shown


def test_nesting_below_the_limit_still_compiles_and_judges(tmp_path):
    expr = " + ".join(["paid_jpy"] * 90) + " > 0 yen"
    book = book_of(tmp_path, HEADER, DEEP_RULE.format(expr, "paid_jpy"))
    assert book.judge(case())["verdict"] == "eligible"


def test_a_payout_on_each_step_without_a_list_of_steps_is_a_diagnostic():
    """Found by atheris (fuzz/corpus/rules/found-payout-each-step-without-steps): the compiler
    read the steps' number field, None, and crashed with an AttributeError."""
    header = HEADER.replace("  steps: list of step, default empty, numbered by number\n", "")
    payout = ('payout on each step\n  amount honorarium_jpy = rate * step.hours rounded down\n'
              '    title ja "謝金" en "Honorarium"\n')
    codes, shown = refused(Source("h.rules", header), Source("payout.rules", payout))
    assert codes == ["RB309"] and "payout.rules:1:" in shown


@pytest.mark.parametrize("field, replacement, code", [
    ("as_of", "", "RB309"), ("case_id", "", "RB309"),
    ("as_of", "  as_of: text\n", "RB301"), ("case_id", "  case_id: integer\n", "RB301"),
    ("as_of", "  as_of: optional date\n", "RB301")])
def test_record_case_declares_case_id_text_and_as_of_date(field, replacement, code):
    """Found by atheris (fuzz/corpus/rules/found-record-case-without-as-of): a `record case`
    without `as_of: date` judged, then crashed writing the verdict's day (a text, not a date)."""
    line = {"as_of": "  as_of: date\n", "case_id": "  case_id: text\n"}[field]
    assert line in HEADER
    codes, shown = refused(Source("h.rules", HEADER.replace(line, replacement)))
    assert codes == [code] and f"`{field}`" in shown


MESSAGE_READS_LATE = '''
rule r.late on case
  stage s1
  title ja "一" en "One"
  source "s"
  otherwise pass
    message ja "{late}" en "{late}"
'''


def test_a_parameter_read_only_by_a_message_not_in_force_leaves_the_status_and_says_so(tmp_path):
    """Once an error for the whole case (RB401); now the rule's status stands (it did not need the
    parameter to decide) and its explanation names the parameter and the day."""
    book = book_of(tmp_path, HEADER + LATE, MESSAGE_READS_LATE)
    assert book.judge(case(), as_of=dt.date(2021, 1, 15))["format"] == "rulebook.verdict/v1"
    out = book.judge(case(), as_of=dt.date(2021, 3, 1))
    assert out["format"] == "rulebook.verdict/v1"
    result = next(r for r in out["results"] if r["rule"] == "r.late")
    assert result["status"] == "pass"
    assert "`late`" in result["message"]["en"] and "2021-03-01" in result["message"]["en"]
    assert "2021年3月1日" in result["message"]["ja"] and result["fix"]["en"].startswith("Ask the secretariat")
    assert book.check(case(), as_of=dt.date(2021, 3, 1)).verdict == out["verdict"]


def test_integers_wider_than_64_bits_are_written_exactly():
    client = TestClient(create_app(), raise_server_exceptions=False)
    wide = 2 ** 70 + 1
    data = open_seed()
    data["claim"] = {"honorarium_jpy": "WIDE"}
    answer = client.post("/v1/check", content=orjson.dumps(data).replace(b'"WIDE"', b"%d" % wide))
    assert answer.status_code == 200, answer.text
    assert b"%d" % wide in answer.content
    data = open_seed()
    data["lancers"]["project_id"] = "WIDE"  # a number where text is wanted: the error shows it exactly
    answer = client.post("/v1/check", content=orjson.dumps(data).replace(b'"WIDE"', b"%d" % wide))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["value"] == wide
    # the library writes them too
    data["lancers"]["project_id"] = wide
    from rulebook.output.explain import dumps
    assert json.loads(dumps(rulebook.load().judge(data)))["errors"][0]["value"] == wide


def open_seed() -> dict:
    import yaml
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "seed-case.yaml"
    return orjson.loads(orjson.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


@pytest.mark.parametrize("path", ["/v1/check/", "/v1/rules/", "/healthz/", "/v1/schema/"])
def test_a_path_with_a_trailing_slash_is_a_404_json_body(path):
    client = TestClient(create_app(), raise_server_exceptions=False, follow_redirects=False)
    for method in ("GET", "POST"):
        answer = client.request(method, path, headers={"host": "elsewhere.example"}, content=b"{}")
        assert answer.status_code == 404, (method, answer.status_code, answer.headers)
        assert answer.json()["format"] == "rulebook.error/v1"
        assert "location" not in answer.headers


def test_a_content_length_with_a_non_ascii_digit_is_not_a_500():
    """Found by atheris (fuzz/corpus/service/found-content-length-superscript-digit): `isdigit()`
    is true of "¹", which int() refuses. (uvicorn would refuse such a header itself; the app is
    called by other ASGI servers too.)"""
    from fuzz.fuzz_service import call

    app = create_app()
    for value in (b"9999\xb9999999", "\u0663".encode("utf-8"), b"12"):
        status, _headers, body = asyncio.run(call(app, "POST", b"/v1/check", b"",
                                                  [(b"content-length", value)], b"{}"))
        assert status == 422, body
        assert json.loads(body)["format"] == "rulebook.error/v1"


# ------------------------------------------------------------------ watch

DUE = '''
rule r.due on case
  stage s1
  title ja "期限" en "Due"
  source "s"
  let last_day = opened_on + 30 days
  when as_of <= last_day then pending
    message ja "{late} {last_day}" en "{late} {last_day}"
    due last_day
  otherwise fail
    message ja "過ぎた" en "passed"
'''


def event(case_id: str, at: str, opened_on: str) -> dict:
    return {"case_id": case_id, "at": at, "snapshot": case(case_id=case_id, as_of=at, opened_on=opened_on)}


def test_watch_a_change_whose_message_reads_a_parameter_not_in_force_is_alerted(tmp_path):
    """Once an error line; now the alert comes, its message naming the parameter and the day."""
    watcher = Watcher(book_of(tmp_path, HEADER + LATE, DUE), remind_days=3)
    out = watcher.feed(event("A", "2021-02-10", "2021-02-01"), "log", 1)
    assert [(o["format"], o["to"]) for o in out] == [("rulebook.alert/v1", "pending")]
    assert "`late`" in out[0]["message"]["en"] and out[0]["case_id"] == "A" and out[0]["due"] is None
    # the watch goes on: the next event is judged
    assert watcher.feed(event("B", "2021-02-11", "2021-02-01"), "log", 2)[0]["case_id"] == "B"


def test_watch_a_pending_due_date_that_reads_a_parameter_not_in_force_is_no_error(tmp_path):
    watcher = Watcher(book_of(tmp_path, HEADER + LATE, DUE), remind_days=3)
    out = watcher.feed(event("A", "2021-01-10", "2021-01-08"), "log", 1)
    assert [(o["format"], o["to"]) for o in out] == [("rulebook.alert/v1", "pending")]
    # `late` ends on 2021-01-31: from 2021-02-01 the message (and its due date) cannot be computed;
    # the requirement is still pending, and no error line stops the watch
    out = watcher.advance(dt.date(2021, 2, 5))
    assert all(o["format"] == "rulebook.alert/v1" for o in out)


def test_watch_a_reminder_that_cannot_be_explained_is_an_error_line(tmp_path):
    book = book_of(tmp_path, HEADER + LATE.replace(" until 2021-01-31", ""), DUE)
    watcher = Watcher(book, remind_days=3)
    out = watcher.feed(event("A", "2021-01-10", "2021-01-08"), "log", 1)
    assert [(o["format"], o["to"]) for o in out] == [("rulebook.alert/v1", "pending")]

    def failing(outcome, result):  # what a custom rulebook's message can do when it is explained
        raise EvaluationError("RB402", "rule `r.due` could not be explained on this case: division by zero")

    book.describe = failing  # this test's own book
    out = watcher.advance(dt.date(2021, 2, 5))  # the reminder falls on 2021-02-04
    assert [o["format"] for o in out] == ["rulebook.error/v1"]
    assert "2021-02-04" in out[0]["errors"][0]["message"] and "RB402" in out[0]["errors"][0]["message"]
    # the watch goes on
    assert watcher.feed(event("B", "2021-02-06", "2021-02-01"), "log", 2)[0]["case_id"] == "B"
