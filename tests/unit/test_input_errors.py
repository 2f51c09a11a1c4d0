"""Bad input, wherever it comes in: `rulebook.error/v1` from one constructor, in Japanese and English,
with the line and column of the field; keys repeated in JSON refused at every entry point;
identifiers without control characters; empty inputs reported like any other invalid input."""

from __future__ import annotations

import copy
import json
import pickle
import re
import string

import orjson
import pytest
from pathlib import Path
from click.testing import CliRunner
from fastapi.testclient import TestClient

from rulebook.apps.cli import main
from rulebook.apps.service import create_app
from rulebook.apps.watch import Watcher, run as watch_run
from rulebook.input.documents import load_bytes, parse_unit, iter_units
from rulebook.input.errors import InputError, Rejected, error_document
from rulebook.input.messages import CATALOGUE, Message, said

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
ITEM_KEYS = {"path", "message", "value", "messages"}


def cli(*args, input=None):
    return CliRunner().invoke(main, list(map(str, args)), input=input, catch_exceptions=False)


def assert_bilingual(document: dict) -> None:
    """The contract's keys, and every message in both languages."""
    assert document["format"] == "rulebook.error/v1"
    assert {"format", "case_id", "errors"} <= set(document)
    assert document["errors"]
    for error in document["errors"]:
        assert ITEM_KEYS <= set(error) <= ITEM_KEYS | {"line", "column"}
        assert error["messages"]["en"] == error["message"]
        assert JAPANESE.search(error["messages"]["ja"]), error
        assert error["messages"]["ja"] != error["messages"]["en"]


def seed_json(seed: dict) -> dict:
    return orjson.loads(orjson.dumps(seed, default=str))


# ------------------------------------------------------------------ the catalogue


def test_every_message_of_the_catalogue_is_in_both_languages_with_the_same_values():
    fields = lambda text: {name for _, name, _, _ in string.Formatter().parse(text) if name}  # noqa: E731
    for key, (en, ja) in CATALOGUE.items():
        assert fields(en) == fields(ja), key
        assert JAPANESE.search(ja), key
        assert en[:1] == en[:1].lower() or en.startswith(("`", "{", "YAML", "JSON")), key


def test_a_message_is_its_english_text_and_keeps_its_japanese_through_pickle():
    message = said("duplicate_key", key="`hours`")
    assert message == message.en and message.ja.startswith("キー `hours` が重複")
    again = pickle.loads(pickle.dumps(message))
    assert isinstance(again, Message) and (again.en, again.ja) == (message.en, message.ja)
    assert said("on_line", line=3, message=message).ja.startswith("3行目: キー `hours`")


def test_the_error_document_keeps_the_contract_and_adds_messages_and_places():
    errors = [InputError("steps[0].hours", said("hours"), "1:30", 12, 5), InputError("", said("not_a_mapping"))]
    document = error_document(errors, "C-1", "case.yaml", 1)
    assert list(document) == ["format", "case_id", "errors", "source"]
    assert list(document["errors"][0]) == ["path", "message", "value", "messages", "line", "column"]
    assert list(document["errors"][1]) == ["path", "message", "value", "messages"]
    assert_bilingual(document)
    back = Rejected("C-1", [InputError.from_dict(e) for e in document["errors"]], "case.yaml", 1).to_dict()
    assert back == document


# ------------------------------------------------------------------ bad input at every entry point

BAD_FILES = {
    "not-utf8.yaml": b"name: caf\xe9\n",
    "utf16.json": "{}".encode("utf-16"),
    "tabs.yaml": b"a:\n\t- b\n",
    "broken.json": b'{"case_id": "C-1",\n "hours": }',
    "deep.json": b"[" * 100 + b"]" * 100,
    "empty.yaml": b"",
    "comments.yaml": b"# only a comment\n",
    "null.yaml": b"null\n",
    "empty.json": b"   \n",
    "list.yaml": b"- 1\n",
    "tag.yaml": b"a: !!python/object:os.system x\n",
    "big.json": b'{"n": 1' + b"0" * 40 + b"}",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_bad_file_is_an_error_document_on_stdout_in_both_languages(tmp_path, name, lang):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    result = cli("check", "--format", "json", "--lang", lang, path)
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert_bilingual(document)
    assert document["source"]["file"] == str(path)
    text = cli("check", "--lang", lang, path).stdout
    assert document["errors"][0]["messages"][lang] in text


def test_an_empty_jsonl_file_and_an_empty_folder_are_reported_too(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    (tmp_path / "nothing").mkdir()
    for path, word in ((tmp_path / "empty.jsonl", "holds no case"), (tmp_path / "nothing", "no YAML, JSON")):
        result = cli("check", "--format", "json", path)
        assert result.exit_code == 2
        assert word in json.loads(result.stdout)["errors"][0]["message"]


def test_empty_stdin_is_an_error_document():
    result = cli("check", "--format", "json", "-", input=b"")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert_bilingual(document)
    assert document["source"]["file"] == "<stdin>"


# ------------------------------------------------------------------ line numbers


def test_an_invalid_yaml_field_is_reported_at_its_line_and_column(book, tmp_path):
    text = (tmp_path / "case.yaml")
    lines = (EXAMPLE_YAML := (__import__("pathlib").Path(__file__).parents[2] / "examples" / "seed-case.yaml")
             ).read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip().startswith("client_payment_jpy:"))
    lines[number] = lines[number].split(":")[0] + ": 6万円"
    missing = next(i for i, line in enumerate(lines) if line.strip().startswith("planned_end_on:"))
    del lines[missing]
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = json.loads(cli("check", "--format", "json", text).stdout)
    found = {e["path"]: (e["line"], e["column"]) for e in document["errors"]}
    indent = len(lines[number - 1]) - len(lines[number - 1].lstrip())
    assert found["steps[0].client_payment_jpy"] == (number, indent + 1)  # one line less above it
    step = next(i for i, line in enumerate(lines) if line.strip().startswith("- number:"))
    assert found["steps[0].planned_end_on"] == (step + 1, lines[step].index("number") + 1)  # at the step
    assert EXAMPLE_YAML.exists()


@pytest.mark.parametrize("number", [-9223372036854775809, -2 ** 70])
def test_an_integer_wider_than_64_bits_in_yaml_is_refused_at_its_field_not_as_the_dates_beside_it(tmp_path, number):
    """YAML reads dates as dates and a long integer exactly; such an integer is an error at its
    own field, shown as it was written (the dates around it are snapshot data)."""
    lines = (Path(__file__).parents[2] / "examples" / "seed-case.yaml").read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("hours:"))
    lines[at] = lines[at].split(":")[0] + f": {number}"
    (tmp_path / "case.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = cli("check", "--format", "json", tmp_path / "case.yaml").stdout
    assert str(number) in out
    document = json.loads(out)
    assert [(e["path"], e["value"], e["line"]) for e in document["errors"]] == [("steps[0].hours", number, at + 1)]


def test_an_invalid_json_field_is_reported_at_its_line_in_a_file_and_in_a_batch_line(book, seed, tmp_path):
    case = seed_json(seed)
    case["steps"][0]["hours"] = "1:30"
    text = json.dumps(case, indent=2, ensure_ascii=False)
    (tmp_path / "case.json").write_text(text, encoding="utf-8")
    (error,) = json.loads(cli("check", "--format", "json", tmp_path / "case.json").stdout)["errors"]
    lines = text.splitlines()
    where = next(i for i, line in enumerate(lines) if '"hours": "1:30"' in line)
    assert (error["path"], error["line"], error["column"]) == ("steps[0].hours", where + 1,
                                                               lines[where].index('"hours"') + 1)
    line = json.dumps(case, ensure_ascii=False)
    batch = json.dumps(seed_json(seed), ensure_ascii=False) + "\n" + line + "\n"
    (tmp_path / "batch.jsonl").write_text(batch, encoding="utf-8")
    out = [json.loads(x) for x in cli("check", "--format", "jsonl", tmp_path / "batch.jsonl").stdout.splitlines()]
    (error,) = out[1]["errors"]
    assert (error["line"], error["column"]) == (2, line.index('"hours"') + 1)
    assert book.judge(line.encode(), line=7)["errors"][0]["line"] == 7  # the batch path, bytes as they come


# ------------------------------------------------------------------ duplicate keys


def _duplicated(seed: dict) -> str:
    """The worked example with `hours` given twice in its step, and colons in its text (so that
    the quick count of the validator cannot decide alone)."""
    case = seed_json(seed)
    case["plan"]["support_note"] = "meeting at 10:00: notes"
    text = json.dumps(case, ensure_ascii=False)
    return text.replace('"hours": 40', '"hours": 4, "hours": 40', 1)


def _assert_duplicate(document: dict) -> None:
    assert_bilingual(document)
    assert document["errors"][0]["path"] == "steps[0].hours"
    assert "duplicate key `hours`" in document["errors"][0]["message"]


def test_a_repeated_json_key_is_refused_in_a_file_a_batch_and_stdin(seed, tmp_path):
    text = _duplicated(seed)
    (tmp_path / "case.json").write_text(text, encoding="utf-8")
    (tmp_path / "cases.jsonl").write_text(json.dumps(seed_json(seed)) + "\n" + text + "\n", encoding="utf-8")
    _assert_duplicate(json.loads(cli("check", "--format", "json", tmp_path / "case.json").stdout))
    batch = [json.loads(x) for x in cli("check", "--format", "jsonl", tmp_path / "cases.jsonl").stdout.splitlines()]
    assert batch[0]["format"] == "rulebook.verdict/v1"
    _assert_duplicate(batch[1])
    _assert_duplicate(json.loads(cli("check", "--format", "json", "-", input=text.encode()).stdout))


@pytest.mark.parametrize("nested", [False, True])
def test_a_repeated_key_is_refused_on_the_batch_path_whatever_the_colons(book, seed, nested):
    case = seed_json(seed)
    if nested:
        case["plan"]["support_note"] = "at 10:00"
        case["expert"]["extra"] = {"a": 1}  # an unknown field holding a mapping: not counted by the walk
    line = json.dumps(case, ensure_ascii=False)
    assert book.judge(line.encode())["format"] == "rulebook.verdict/v1"
    twice = line.replace('"case_id": ', '"case_id": "X", "case_id": ', 1)
    out = book.judge(twice.encode())
    assert out["format"] == "rulebook.error/v1" and out["errors"][0]["path"] == "case_id"
    unicode_twice = line.replace('"hours": 40', '"hours": 4, "ho\\u0075rs": 40', 1)
    assert book.judge(unicode_twice.encode())["errors"][0]["path"] == "steps[0].hours"


@pytest.mark.parametrize("body", [b'{"\'\\x1f": None}', b'{"a\\q": 1, "a\\q": 2}', b'{"\\u12": 1}'])
def test_a_key_with_escapes_that_are_not_json_is_an_error_not_a_crash(book, body):
    """Found by schemathesis: the repeated-key screen decoded such a key with json.loads and raised."""
    out = book.judge(body)
    assert out["format"] == "rulebook.error/v1" and out["errors"][0]["message"]
    lines = TestClient(create_app(book)).post("/v1/check/batch", content=body + b"\n")
    assert lines.status_code == 200 and json.loads(lines.text)["format"] == "rulebook.error/v1"


def test_a_repeated_key_is_refused_by_the_service_and_its_batch(book, seed):
    client = TestClient(create_app(book))
    text = _duplicated(seed)
    answer = client.post("/v1/check", content=text.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 422
    _assert_duplicate(answer.json())
    lines = client.post("/v1/check/batch", content=(json.dumps(seed_json(seed)) + "\n" + text + "\n").encode())
    out = [json.loads(x) for x in lines.text.splitlines()]
    assert out[0]["format"] == "rulebook.verdict/v1"
    _assert_duplicate(out[1])
    yaml_twice = client.post("/v1/check", content=b"case_id: a\ncase_id: b\n",
                             headers={"content-type": "application/yaml"})
    assert yaml_twice.status_code == 422 and yaml_twice.json()["errors"][0]["path"] == "case_id"


def test_a_repeated_key_is_refused_in_an_audit_unit(seed, tmp_path):
    (tmp_path / "case.json").write_text(_duplicated(seed), encoding="utf-8")
    (unit,) = iter_units([tmp_path])
    (doc,) = parse_unit(unit)
    assert not doc.ok and doc.path == "steps[0].hours"


def test_a_repeated_key_in_an_event_is_an_error_line(book, seed):
    event = json.dumps({"case_id": "C-1", "at": "2021-02-01", "snapshot": seed_json(seed)})
    twice = event.replace('"at": ', '"at": "2021-01-01", "at": ', 1)
    errors = []
    watch_run(Watcher(book), load_bytes(twice.encode(), "log.jsonl", "jsonl"), errors.append)
    (document,) = errors
    assert document["errors"][0]["path"] == "at" and "duplicate key" in document["errors"][0]["message"]


# ------------------------------------------------------------------ identifiers

CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u061c", "\u200e", "\u200f", "\u202a", "\u202e",
            "\u2066", "\u2069", "\n"]
IDS = ["case_id", "lancers.project_id", "expert.lancers_user", "consultation.id", "plan.id"]


@pytest.mark.parametrize("where", IDS)
@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_identifiers_refuse_control_and_bidi_characters(book, seed, where, char):
    case = seed_json(seed)
    *parents, name = where.split(".")
    target = case
    for part in parents:
        target = target[part]
    target[name] = f"ID-{char}1"
    out = book.judge(case)
    assert out["format"] == "rulebook.error/v1", where
    error = next(e for e in out["errors"] if e["path"] == where)
    assert f"U+{ord(char):04X}" in error["message"] and f"U+{ord(char):04X}" in error["messages"]["ja"]
    if where == "case_id":
        assert out["case_id"] is None  # a refused id names nothing


def test_identifiers_keep_ordinary_text_and_free_text_keeps_its_characters(book, seed):
    case = seed_json(seed)
    case["case_id"] = "事例-2021 #7 (再提出)"
    case["sme"]["name"] = "株式会社\u202eサンプル"  # free text: escaped where it is shown, not refused
    assert book.judge(case)["format"] == "rulebook.verdict/v1"


def test_the_identifier_option_comes_from_the_schema(book):
    declared = {f"{record}.{name}" for record, r in book.schema.records.items()
                for name, f in r.fields.items() if f.identifier}
    assert declared == {"case.case_id", "lancers.project_id", "expert_party.lancers_user", "consultation.id",
                        "plan.id"}
    pattern = book.json_schema()["properties"]["case_id"]["pattern"]
    assert "\\u202E" in pattern and re.fullmatch(pattern, "C-1")  # `re` reads the \\uXXXX escapes itself
    assert not re.fullmatch(pattern, "C-\u202E1") and not re.fullmatch(pattern, "C-\x1b[2J")


# ------------------------------------------------------------------ unknown fields


def test_a_typo_is_a_warning_with_the_declared_field_in_both_languages(book, seed):
    case = seed_json(seed)
    step = case["steps"][0]
    step["completion_reportd_on"] = step.pop("completion_reported_on")
    out = book.judge(case)
    (warning,) = out["warnings"]
    assert "did you mean `steps[0].completion_reported_on`?" in warning
    (texts,) = out["warning_messages"]
    assert texts["en"] == warning and "`steps[0].completion_reported_on` のことですか" in texts["ja"]
    case["steps"][0]["zzz"] = 1
    assert out["warnings"][0] != book.judge(case)["warnings"][-1] and "did you mean" not in \
        book.judge(case)["warnings"][-1]
    from rulebook.output.render import render_verdict

    assert texts["ja"] in render_verdict(out, book.plan.stages, "ja")
    assert texts["en"] in render_verdict(out, book.plan.stages, "en")


def test_check_keeps_the_japanese_of_an_error(book, seed):
    case = copy.deepcopy(seed_json(seed))
    case["steps"][0]["hours"] = "1:30"
    with pytest.raises(Rejected) as caught:
        book.check(case)
    (error,) = caught.value.errors
    assert error.message.startswith("expected a number of hours") and "1.5" in error.messages["ja"]
